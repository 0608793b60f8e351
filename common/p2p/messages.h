// Payloads of the handshake and keep-alive messages of the Bitcoin P2P
// protocol (version, verack, ping, pong, sendaddrv2, wtxidrelay, sendheaders)
// and a generic path for every other command. Decoding is bounds-checked and
// throws ProtocolError with the reason; encoding never fails.
#ifndef ORRERY_COMMON_P2P_MESSAGES_H
#define ORRERY_COMMON_P2P_MESSAGES_H

#include <common/p2p/protocol.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace orrery::p2p {

inline constexpr int32_t PROTOCOL_VERSION = 70016;
//! Peers older than this are refused (Core's MIN_PEER_PROTO_VERSION).
inline constexpr int32_t MIN_PEER_PROTO_VERSION = 31800;
//! BIP339 wtxidrelay and BIP155 sendaddrv2 are sent to peers at or above this.
inline constexpr int32_t WTXID_RELAY_VERSION = 70016;
//! BIP130 sendheaders is sent to peers at or above this.
inline constexpr int32_t SENDHEADERS_VERSION = 70012;
//! Longest user agent accepted (Core's MAX_SUBVERSION_LENGTH).
inline constexpr size_t MAX_SUBVERSION_LENGTH = 256;

inline constexpr uint64_t NODE_NETWORK = 1;
inline constexpr uint64_t NODE_WITNESS = 1 << 3;

namespace command {
inline constexpr std::string_view VERSION = "version";
inline constexpr std::string_view VERACK = "verack";
inline constexpr std::string_view PING = "ping";
inline constexpr std::string_view PONG = "pong";
inline constexpr std::string_view SENDADDRV2 = "sendaddrv2";
inline constexpr std::string_view WTXIDRELAY = "wtxidrelay";
inline constexpr std::string_view SENDHEADERS = "sendheaders";
} // namespace command

//! A network address as the version message carries it: no time field,
//! IPv4 as an IPv4-mapped IPv6 address, port in network byte order.
struct VersionAddress {
    uint64_t services{0};
    std::array<uint8_t, 16> ip{};
    uint16_t port{0};
    bool operator==(const VersionAddress&) const = default;
};

//! "1.2.3.4:8333" or "[::1]:8333" to an address; nullopt if it is neither.
std::optional<VersionAddress> ParseVersionAddress(std::string_view host_port, uint64_t services = 0);

struct VersionMessage {
    int32_t version{PROTOCOL_VERSION};
    uint64_t services{0};
    int64_t timestamp{0};
    VersionAddress addr_recv;
    VersionAddress addr_from;
    uint64_t nonce{0};
    std::string user_agent;
    int32_t start_height{0};
    bool relay{true};
    bool operator==(const VersionMessage&) const = default;
};

struct VerackMessage {
    bool operator==(const VerackMessage&) const = default;
};
struct PingMessage {
    uint64_t nonce{0};
    bool operator==(const PingMessage&) const = default;
};
struct PongMessage {
    uint64_t nonce{0};
    bool operator==(const PongMessage&) const = default;
};
struct SendAddrV2Message {
    bool operator==(const SendAddrV2Message&) const = default;
};
struct WtxidRelayMessage {
    bool operator==(const WtxidRelayMessage&) const = default;
};
struct SendHeadersMessage {
    bool operator==(const SendHeadersMessage&) const = default;
};
//! Any command this library does not decode; the payload is kept as received.
struct UnknownMessage {
    std::string command;
    std::vector<uint8_t> payload;
    bool operator==(const UnknownMessage&) const = default;
};

using Message = std::variant<VersionMessage, VerackMessage, PingMessage, PongMessage, SendAddrV2Message,
                             WtxidRelayMessage, SendHeadersMessage, UnknownMessage>;

//! The command a message travels under.
std::string_view CommandOf(const Message& message);
//! The payload bytes of a message.
std::vector<uint8_t> EncodePayload(const Message& message);
//! A complete frame for `message` on the network with this magic.
std::vector<uint8_t> EncodeMessage(uint32_t message_start, const Message& message);

//! Decodes a payload received under `command`. Unknown commands become
//! UnknownMessage. Throws ProtocolError when a known payload is malformed.
//! Like Core, the version message's trailing fields are optional and bytes
//! after the last known field are ignored, for compatibility with later versions.
Message DecodeMessage(std::string_view command, std::span<const uint8_t> payload);

} // namespace orrery::p2p

#endif // ORRERY_COMMON_P2P_MESSAGES_H
