// Framing of the Bitcoin P2P protocol; see protocol.h.
#include <common/p2p/protocol.h>

#include <common/consensus/hex.h>
#include <common/crypto/hash.h>

#include <algorithm>
#include <cstring>

namespace orrery::p2p {

bool IsKnownMessageType(std::string_view command)
{
    static constexpr std::string_view TYPES[] = {
        "version",     "verack",       "addr",       "addrv2",       "sendaddrv2",  "inv",        "getdata",
        "merkleblock", "getblocks",    "getheaders", "tx",           "headers",     "block",      "getaddr",
        "mempool",     "ping",         "pong",       "notfound",     "filterload",  "filteradd",  "filterclear",
        "sendheaders", "feefilter",    "sendcmpct",  "cmpctblock",   "getblocktxn", "blocktxn",   "getcfilters",
        "cfilter",     "getcfheaders", "cfheaders",  "getcfcheckpt", "cfcheckpt",   "wtxidrelay", "sendtxrcncl",
    };
    return std::find(std::begin(TYPES), std::end(TYPES), command) != std::end(TYPES);
}

std::array<uint8_t, MESSAGE_START_SIZE> MessageStartBytes(uint32_t message_start)
{
    return {uint8_t(message_start), uint8_t(message_start >> 8), uint8_t(message_start >> 16),
            uint8_t(message_start >> 24)};
}

std::array<uint8_t, CHECKSUM_SIZE> Checksum(std::span<const uint8_t> payload)
{
    crypto::Hash32 hash = crypto::Sha256d(payload);
    return {hash[0], hash[1], hash[2], hash[3]};
}

MessageHeader DecodeHeader(std::span<const uint8_t> bytes)
{
    if (bytes.size() != HEADER_SIZE) {
        throw ProtocolError("message header must be " + std::to_string(HEADER_SIZE) + " bytes, got " +
                            std::to_string(bytes.size()));
    }
    MessageHeader header;
    std::copy_n(bytes.begin(), MESSAGE_START_SIZE, header.message_start.begin());
    auto command = bytes.subspan(MESSAGE_START_SIZE, COMMAND_SIZE);
    // Core's CMessageHeader::IsCommandValid: printable characters, then only NULs.
    size_t end = 0;
    while (end < COMMAND_SIZE && command[end] != 0) {
        if (command[end] < ' ' || command[end] > 0x7e) {
            throw ProtocolError("message command has a non-printable byte 0x" + HexStr(command.subspan(end, 1)) +
                                " at position " + std::to_string(end));
        }
        ++end;
    }
    for (size_t i = end; i < COMMAND_SIZE; ++i) {
        if (command[i] != 0) throw ProtocolError("message command has data after its NUL padding");
    }
    header.command.assign(command.begin(), command.begin() + end);
    auto tail = bytes.subspan(MESSAGE_START_SIZE + COMMAND_SIZE);
    header.length = uint32_t(tail[0]) | uint32_t(tail[1]) << 8 | uint32_t(tail[2]) << 16 | uint32_t(tail[3]) << 24;
    std::copy_n(tail.begin() + 4, CHECKSUM_SIZE, header.checksum.begin());
    if (header.length > MAX_PROTOCOL_MESSAGE_LENGTH) {
        throw ProtocolError("message '" + header.command + "' announces " + std::to_string(header.length) +
                            " payload bytes, more than the limit of " + std::to_string(MAX_PROTOCOL_MESSAGE_LENGTH));
    }
    return header;
}

std::vector<uint8_t> MakeFrame(uint32_t message_start, std::string_view command, std::span<const uint8_t> payload)
{
    if (command.size() > COMMAND_SIZE) throw ProtocolError("command '" + std::string(command) + "' is too long");
    if (payload.size() > MAX_PROTOCOL_MESSAGE_LENGTH) throw ProtocolError("payload too large to send");
    std::vector<uint8_t> frame(HEADER_SIZE + payload.size(), 0);
    auto magic = MessageStartBytes(message_start);
    std::copy(magic.begin(), magic.end(), frame.begin());
    std::copy(command.begin(), command.end(), frame.begin() + MESSAGE_START_SIZE);
    const auto length = uint32_t(payload.size());
    for (size_t i = 0; i < 4; ++i) frame[MESSAGE_START_SIZE + COMMAND_SIZE + i] = uint8_t(length >> (8 * i));
    auto checksum = Checksum(payload);
    std::copy(checksum.begin(), checksum.end(), frame.begin() + MESSAGE_START_SIZE + COMMAND_SIZE + 4);
    std::copy(payload.begin(), payload.end(), frame.begin() + HEADER_SIZE);
    return frame;
}

// ---------------------------------------------------------------------------
// Deframer

Deframer::Deframer(uint32_t message_start) : m_magic(MessageStartBytes(message_start)) {}

void Deframer::Feed(std::span<const uint8_t> bytes)
{
    if (m_error) return;
    // Drop what was consumed before growing, so the buffer holds at most one
    // message plus what arrived with it.
    if (m_offset > 0 && m_offset == m_buffer.size()) {
        m_buffer.clear();
        m_offset = 0;
    } else if (m_offset > 65536) {
        m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(m_offset));
        m_offset = 0;
    }
    m_buffer.insert(m_buffer.end(), bytes.begin(), bytes.end());
}

void Deframer::Fail(std::string message)
{
    m_error = message;
    throw ProtocolError(std::move(message));
}

std::optional<RawMessage> Deframer::Next()
{
    if (m_error) throw ProtocolError(*m_error);
    if (!m_header) {
        // The magic is checked as soon as its bytes are in, so garbage is
        // refused without waiting for a whole header.
        const size_t have = std::min(Buffered(), MESSAGE_START_SIZE);
        if (!std::equal(m_buffer.begin() + static_cast<std::ptrdiff_t>(m_offset),
                        m_buffer.begin() + static_cast<std::ptrdiff_t>(m_offset + have), m_magic.begin())) {
            Fail("wrong network magic " + HexStr(std::span<const uint8_t>(m_buffer).subspan(m_offset, have)) +
                 " (expected " + HexStr(m_magic) + ")");
        }
        if (Buffered() < HEADER_SIZE) return std::nullopt;
        try {
            m_header = DecodeHeader(std::span<const uint8_t>(m_buffer).subspan(m_offset, HEADER_SIZE));
        } catch (const ProtocolError& e) {
            Fail(e.what());
        }
        m_offset += HEADER_SIZE;
    }
    if (Buffered() < m_header->length) return std::nullopt;
    auto payload = std::span<const uint8_t>(m_buffer).subspan(m_offset, m_header->length);
    if (Checksum(payload) != m_header->checksum) {
        Fail("bad checksum for message '" + m_header->command + "' (" + std::to_string(payload.size()) +
             " bytes): header says " + HexStr(m_header->checksum) + ", payload hashes to " + HexStr(Checksum(payload)));
    }
    RawMessage message{std::move(m_header->command), {payload.begin(), payload.end()}};
    m_offset += m_header->length;
    m_header.reset();
    return message;
}

} // namespace orrery::p2p
