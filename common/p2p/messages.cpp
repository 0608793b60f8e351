// Encoding and decoding of P2P message payloads; see messages.h.
#include <common/p2p/messages.h>

#include <common/consensus/serialize.h>
#include <common/util/host_port.h>

#include <arpa/inet.h>

#include <cstring>

namespace orrery::p2p {
namespace {

void WriteAddress(Writer& w, const VersionAddress& address)
{
    w.WriteU64(address.services);
    w.WriteBytes(address.ip);
    w.WriteU8(uint8_t(address.port >> 8)); // big-endian, unlike everything else
    w.WriteU8(uint8_t(address.port));
}

VersionAddress ReadAddress(SpanReader& r)
{
    VersionAddress address;
    address.services = r.ReadU64();
    r.ReadInto(address.ip, "address");
    auto port = r.ReadSpan(2, "port");
    address.port = uint16_t(port[0] << 8 | port[1]);
    return address;
}

VersionMessage DecodeVersion(SpanReader& r)
{
    VersionMessage v;
    v.version = r.ReadI32();
    v.services = r.ReadU64();
    v.timestamp = r.ReadI64();
    v.addr_recv = ReadAddress(r);
    // The fields below came with later protocol versions; Core reads each only
    // when bytes remain, and so does this.
    v.addr_from = {};
    v.nonce = 0;
    v.user_agent.clear();
    v.start_height = 0;
    v.relay = true;
    if (!r.Empty()) {
        v.addr_from = ReadAddress(r);
        v.nonce = r.ReadU64();
    }
    if (!r.Empty()) {
        const size_t start = r.Position();
        const uint64_t length = r.ReadCompactSize();
        if (length > MAX_SUBVERSION_LENGTH) {
            r.Fail(start, "user agent of " + std::to_string(length) + " bytes exceeds the limit of " +
                              std::to_string(MAX_SUBVERSION_LENGTH));
        }
        auto bytes = r.ReadSpan(size_t(length), "user agent");
        v.user_agent.assign(bytes.begin(), bytes.end());
    }
    if (!r.Empty()) v.start_height = r.ReadI32();
    if (!r.Empty()) v.relay = r.ReadU8() != 0;
    return v;
}

template <typename T> void ReadLocator(SpanReader& r, T& m, std::string_view command)
{
    m.version = r.ReadU32();
    const size_t start = r.Position();
    const uint64_t count = r.ReadCompactSize();
    if (count > MAX_LOCATOR_SZ) {
        r.Fail(start, std::string(command) + " locator size " + std::to_string(count) + " > " +
                          std::to_string(MAX_LOCATOR_SZ));
    }
    m.locator.resize(size_t(count));
    for (auto& hash : m.locator) r.ReadInto(std::span(hash.data(), uint256::kSize), "locator hash");
    r.ReadInto(std::span(m.stop.data(), uint256::kSize), "stop hash");
}

template <typename T> void WriteLocator(Writer& w, const T& m)
{
    w.WriteU32(m.version);
    w.WriteCompactSize(m.locator.size());
    for (const auto& hash : m.locator) w.WriteBytes(std::span(hash.data(), uint256::kSize));
    w.WriteBytes(std::span(m.stop.data(), uint256::kSize));
}

std::vector<InvItem> ReadInv(SpanReader& r, std::string_view command)
{
    const size_t start = r.Position();
    const uint64_t count = r.ReadCompactSize();
    if (count > MAX_INV_SZ) {
        r.Fail(start, std::string(command) + " message size = " + std::to_string(count));
    }
    std::vector<InvItem> items(static_cast<size_t>(count));
    for (auto& item : items) {
        item.type = r.ReadU32();
        r.ReadInto(std::span(item.hash.data(), uint256::kSize), "inventory hash");
    }
    return items;
}

void WriteInv(Writer& w, const std::vector<InvItem>& items)
{
    w.WriteCompactSize(items.size());
    for (const auto& item : items) {
        w.WriteU32(item.type);
        w.WriteBytes(std::span(item.hash.data(), uint256::kSize));
    }
}

HeadersMessage ReadHeaders(SpanReader& r)
{
    const size_t start = r.Position();
    const uint64_t count = r.ReadCompactSize();
    if (count > MAX_HEADERS_RESULTS) r.Fail(start, "headers message size = " + std::to_string(count));
    HeadersMessage m;
    m.headers.reserve(size_t(count));
    for (uint64_t i = 0; i < count; ++i) {
        m.headers.push_back(ReadBlockHeader(r));
        r.ReadCompactSize(); // the transaction count, always 0; Core reads it and ignores its value
    }
    return m;
}

template <typename T> std::string_view CommandFor();
template <> std::string_view CommandFor<VersionMessage>()
{
    return command::VERSION;
}
template <> std::string_view CommandFor<VerackMessage>()
{
    return command::VERACK;
}
template <> std::string_view CommandFor<PingMessage>()
{
    return command::PING;
}
template <> std::string_view CommandFor<PongMessage>()
{
    return command::PONG;
}
template <> std::string_view CommandFor<SendAddrV2Message>()
{
    return command::SENDADDRV2;
}
template <> std::string_view CommandFor<WtxidRelayMessage>()
{
    return command::WTXIDRELAY;
}
template <> std::string_view CommandFor<SendHeadersMessage>()
{
    return command::SENDHEADERS;
}

template <> std::string_view CommandFor<GetHeadersMessage>()
{
    return command::GETHEADERS;
}
template <> std::string_view CommandFor<GetBlocksMessage>()
{
    return command::GETBLOCKS;
}
template <> std::string_view CommandFor<HeadersMessage>()
{
    return command::HEADERS;
}
template <> std::string_view CommandFor<InvMessage>()
{
    return command::INV;
}
template <> std::string_view CommandFor<GetDataMessage>()
{
    return command::GETDATA;
}
template <> std::string_view CommandFor<NotFoundMessage>()
{
    return command::NOTFOUND;
}
template <> std::string_view CommandFor<BlockMessage>()
{
    return command::BLOCK;
}
template <> std::string_view CommandFor<TxMessage>()
{
    return command::TX;
}
template <> std::string_view CommandFor<FeeFilterMessage>()
{
    return command::FEEFILTER;
}
template <> std::string_view CommandFor<MempoolMessage>()
{
    return command::MEMPOOL;
}
template <> std::string_view CommandFor<SendCmpctMessage>()
{
    return command::SENDCMPCT;
}
template <> std::string_view CommandFor<CmpctBlockMessage>()
{
    return command::CMPCTBLOCK;
}
template <> std::string_view CommandFor<GetBlockTxnMessage>()
{
    return command::GETBLOCKTXN;
}
template <> std::string_view CommandFor<BlockTxnMessage>()
{
    return command::BLOCKTXN;
}

} // namespace

std::optional<VersionAddress> ParseVersionAddress(std::string_view host_port, uint64_t services)
{
    // A version message's address needs a port; the host must be a numeric IPv4 or IPv6 address.
    auto parsed = HasPort(host_port) ? ParseHostPort(host_port, 0) : std::nullopt;
    if (!parsed) return std::nullopt;
    const std::string& host = parsed->host;
    const uint16_t port = parsed->port;
    VersionAddress address;
    address.services = services;
    address.port = port;
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        address.ip[10] = 0xff;
        address.ip[11] = 0xff;
        std::memcpy(address.ip.data() + 12, &v4, 4);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        std::memcpy(address.ip.data(), &v6, 16);
    } else {
        return std::nullopt;
    }
    return address;
}

std::string_view CommandOf(const Message& message)
{
    return std::visit(
        [](const auto& m) -> std::string_view {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, UnknownMessage>) {
                return m.command;
            } else {
                return CommandFor<T>();
            }
        },
        message);
}

std::vector<uint8_t> EncodePayload(const Message& message)
{
    std::vector<uint8_t> out;
    Writer w(out);
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, VersionMessage>) {
                w.WriteI32(m.version);
                w.WriteU64(m.services);
                w.WriteI64(m.timestamp);
                WriteAddress(w, m.addr_recv);
                WriteAddress(w, m.addr_from);
                w.WriteU64(m.nonce);
                w.WriteByteVector(
                    std::span(reinterpret_cast<const uint8_t*>(m.user_agent.data()), m.user_agent.size()));
                w.WriteI32(m.start_height);
                w.WriteU8(m.relay ? 1 : 0);
            } else if constexpr (std::is_same_v<T, PingMessage> || std::is_same_v<T, PongMessage>) {
                w.WriteU64(m.nonce);
            } else if constexpr (std::is_same_v<T, GetHeadersMessage> || std::is_same_v<T, GetBlocksMessage>) {
                WriteLocator(w, m);
            } else if constexpr (std::is_same_v<T, HeadersMessage>) {
                w.WriteCompactSize(m.headers.size());
                for (const auto& header : m.headers) {
                    WriteBlockHeader(w, header);
                    w.WriteCompactSize(0);
                }
            } else if constexpr (std::is_same_v<T, InvMessage> || std::is_same_v<T, GetDataMessage> ||
                                 std::is_same_v<T, NotFoundMessage>) {
                WriteInv(w, m.items);
            } else if constexpr (std::is_same_v<T, FeeFilterMessage>) {
                w.WriteI64(m.fee_rate);
            } else if constexpr (std::is_same_v<T, SendCmpctMessage>) {
                WriteSendCmpct(w, m);
            } else if constexpr (std::is_same_v<T, CmpctBlockMessage>) {
                WriteCmpctBlock(w, m);
            } else if constexpr (std::is_same_v<T, GetBlockTxnMessage>) {
                WriteGetBlockTxn(w, m);
            } else if constexpr (std::is_same_v<T, BlockTxnMessage>) {
                WriteBlockTxn(w, m);
            } else if constexpr (std::is_same_v<T, UnknownMessage> || std::is_same_v<T, BlockMessage> ||
                                 std::is_same_v<T, TxMessage>) {
                w.WriteBytes(m.payload);
            }
        },
        message);
    return out;
}

std::vector<uint8_t> EncodeMessage(uint32_t message_start, const Message& message)
{
    return MakeFrame(message_start, CommandOf(message), EncodePayload(message));
}

Message DecodeMessage(std::string_view command, std::span<const uint8_t> payload)
{
    SpanReader r(payload);
    try {
        if (command == command::VERSION) return DecodeVersion(r);
        if (command == command::PING) return PingMessage{r.ReadU64()};
        if (command == command::PONG) return PongMessage{r.ReadU64()};
        // Core ignores any payload of these four, and so does this.
        if (command == command::VERACK) return VerackMessage{};
        if (command == command::SENDADDRV2) return SendAddrV2Message{};
        if (command == command::WTXIDRELAY) return WtxidRelayMessage{};
        if (command == command::SENDHEADERS) return SendHeadersMessage{};
        if (command == command::GETHEADERS) {
            GetHeadersMessage m;
            ReadLocator(r, m, command);
            return m;
        }
        if (command == command::GETBLOCKS) {
            GetBlocksMessage m;
            ReadLocator(r, m, command);
            return m;
        }
        if (command == command::HEADERS) {
            HeadersMessage m = ReadHeaders(r);
            r.ExpectEnd("headers");
            return m;
        }
        if (command == command::INV) return InvMessage{ReadInv(r, command)};
        if (command == command::GETDATA) return GetDataMessage{ReadInv(r, command)};
        if (command == command::NOTFOUND) return NotFoundMessage{ReadInv(r, command)};
        if (command == command::BLOCK) return BlockMessage{{payload.begin(), payload.end()}};
        if (command == command::TX) return TxMessage{{payload.begin(), payload.end()}};
        if (command == command::FEEFILTER) return FeeFilterMessage{r.ReadI64()};
        if (command == command::MEMPOOL) return MempoolMessage{}; // Core ignores a payload
        // Compact blocks: Core reads what it needs and ignores trailing bytes, except in these three.
        if (command == command::SENDCMPCT) return ReadSendCmpct(r);
        if (command == command::CMPCTBLOCK) return DecodeCmpctBlock(payload);
        if (command == command::GETBLOCKTXN) return DecodeGetBlockTxn(payload);
        if (command == command::BLOCKTXN) return DecodeBlockTxn(payload);
    } catch (const DeserializeError& e) {
        throw ProtocolError("malformed '" + std::string(command) + "' message: " + e.what());
    }
    return UnknownMessage{std::string(command), {payload.begin(), payload.end()}};
}

} // namespace orrery::p2p
