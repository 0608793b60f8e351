// The Bitcoin P2P wire framing: the 24-byte message header (network magic,
// command, payload length, checksum), building frames and cutting a byte
// stream back into messages. Everything here treats its input as hostile:
// lengths are checked against MAX_PROTOCOL_MESSAGE_LENGTH before any memory
// is reserved, and every failure says what was wrong.
#ifndef ORRERY_COMMON_P2P_PROTOCOL_H
#define ORRERY_COMMON_P2P_PROTOCOL_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::p2p {

inline constexpr size_t MESSAGE_START_SIZE = 4;
inline constexpr size_t COMMAND_SIZE = 12;
inline constexpr size_t CHECKSUM_SIZE = 4;
inline constexpr size_t HEADER_SIZE = MESSAGE_START_SIZE + COMMAND_SIZE + 4 + CHECKSUM_SIZE;
//! Largest payload a peer may announce (Core's MAX_PROTOCOL_MESSAGE_LENGTH).
inline constexpr uint32_t MAX_PROTOCOL_MESSAGE_LENGTH = 4'000'000;

//! Thrown by the decoders of this library on malformed peer data.
class ProtocolError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Whether `command` is a message type of the protocol (bitcoind's ALL_NET_MESSAGE_TYPES);
//! per-message byte counts put any other under "*other*".
bool IsKnownMessageType(std::string_view command);
//! "*other*", the key of unknown message types in getpeerinfo's per-message counts.
inline constexpr std::string_view OTHER_MESSAGE_TYPE = "*other*";

//! The network magic as it appears on the wire, from HandshakeParams::message_start
//! (first wire byte in the low bits).
std::array<uint8_t, MESSAGE_START_SIZE> MessageStartBytes(uint32_t message_start);

//! The first four bytes of SHA256d(payload).
std::array<uint8_t, CHECKSUM_SIZE> Checksum(std::span<const uint8_t> payload);

struct MessageHeader {
    std::array<uint8_t, MESSAGE_START_SIZE> message_start{};
    std::string command; //!< without the NUL padding
    uint32_t length{0};
    std::array<uint8_t, CHECKSUM_SIZE> checksum{};
};

//! Decodes exactly HEADER_SIZE bytes. Throws ProtocolError when the command is not
//! printable ASCII followed only by NUL padding, or the length exceeds the limit.
//! The magic is returned, not checked: the caller knows which network it expects.
MessageHeader DecodeHeader(std::span<const uint8_t> bytes);

//! A whole frame: header then payload. Throws ProtocolError for a command longer
//! than 12 bytes or a payload over the limit (a bug in the caller, not the peer).
std::vector<uint8_t> MakeFrame(uint32_t message_start, std::string_view command, std::span<const uint8_t> payload);

//! One received message, checksum verified.
struct RawMessage {
    std::string command;
    std::vector<uint8_t> payload;
};

//! Cuts a received byte stream into messages. Feed it bytes as they arrive and
//! take messages out with Next(). After a failure the stream is unusable (the
//! peer is to be dropped) and every later call throws the same error.
class Deframer
{
public:
    explicit Deframer(uint32_t message_start);

    //! Appends received bytes. Cheap: parsing happens in Next().
    void Feed(std::span<const uint8_t> bytes);
    //! The next complete message, or nullopt when more bytes are needed.
    //! Throws ProtocolError on a wrong magic, a bad header, an oversized
    //! length or a checksum mismatch.
    std::optional<RawMessage> Next();
    //! Bytes received but not yet returned as messages.
    size_t Buffered() const { return m_buffer.size() - m_offset; }

private:
    [[noreturn]] void Fail(std::string message);

    std::array<uint8_t, MESSAGE_START_SIZE> m_magic;
    std::vector<uint8_t> m_buffer;
    size_t m_offset{0};
    std::optional<MessageHeader> m_header; //!< of the message whose payload is awaited
    std::optional<std::string> m_error;
};

} // namespace orrery::p2p

#endif // ORRERY_COMMON_P2P_PROTOCOL_H
