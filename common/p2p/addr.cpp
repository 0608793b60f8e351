// addr and addrv2 payloads, and the address checks Core's CNetAddr makes; see addr.h.
#include <common/p2p/addr.h>

#include <common/consensus/serialize.h>
#include <common/util/host_port.h>

#include <arpa/inet.h>

#include <cstring>

namespace orrery::p2p {
namespace {

constexpr std::array<uint8_t, 12> IPV4_IN_IPV6_PREFIX{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

//! BIP155's address length for a known network id; 0 for an id it does not define (skipped).
size_t AddressLength(uint8_t id)
{
    switch (id) {
    case 1:
        return 4;
    case 2:
        return 16;
    case 4:
        return 32;
    case 5:
        return 32;
    case 6:
        return 16;
    default:
        return 0;
    }
}

uint16_t ReadPort(SpanReader& r)
{
    auto bytes = r.ReadSpan(2, "port");
    return uint16_t(bytes[0] << 8 | bytes[1]); // big-endian, unlike the rest
}

void WritePort(Writer& w, uint16_t port)
{
    w.WriteU8(uint8_t(port >> 8));
    w.WriteU8(uint8_t(port));
}

PeerAddress ReadV1(SpanReader& r)
{
    PeerAddress a;
    a.time = r.ReadU32();
    a.services = r.ReadU64();
    std::array<uint8_t, 16> ip{};
    r.ReadInto(ip, "address");
    if (std::equal(IPV4_IN_IPV6_PREFIX.begin(), IPV4_IN_IPV6_PREFIX.end(), ip.begin())) {
        a.network = Network::IPV4;
        a.ip.assign(ip.begin() + 12, ip.end());
    } else {
        a.network = Network::IPV6;
        a.ip.assign(ip.begin(), ip.end());
    }
    a.port = ReadPort(r);
    return a;
}

//! nullopt for an entry of a network BIP155 does not define (read and skipped).
std::optional<PeerAddress> ReadV2(SpanReader& r)
{
    PeerAddress a;
    a.time = r.ReadU32();
    a.services = r.ReadCompactSize(/*range_check=*/false);
    const uint8_t id = r.ReadU8();
    const size_t start = r.Position();
    const uint64_t length = r.ReadCompactSize();
    if (length > MAX_ADDRV2_SIZE) r.Fail(start, "address too long: " + std::to_string(length) + " bytes");
    auto bytes = r.ReadSpan(size_t(length), "address");
    a.port = ReadPort(r);
    const size_t expected = AddressLength(id);
    if (expected == 0) return std::nullopt;
    if (length != expected) {
        r.Fail(start, "BIP155 " + std::string(NetworkName(Network(id))) + " address with length " +
                          std::to_string(length) + " (should be " + std::to_string(expected) + ")");
    }
    a.network = Network(id);
    a.ip.assign(bytes.begin(), bytes.end());
    return a;
}

bool InIPv4(const std::vector<uint8_t>& ip, uint8_t a, uint8_t b_min = 0, uint8_t b_max = 255)
{
    return ip[0] == a && ip[1] >= b_min && ip[1] <= b_max;
}

} // namespace

std::string_view NetworkName(Network network)
{
    switch (network) {
    case Network::IPV4:
        return "ipv4";
    case Network::IPV6:
        return "ipv6";
    case Network::TORV3:
        return "onion";
    case Network::I2P:
        return "i2p";
    case Network::CJDNS:
        return "cjdns";
    case Network::UNKNOWN:
        break;
    }
    return "unroutable";
}

std::optional<Network> NetworkFromName(std::string_view name)
{
    for (Network n : {Network::IPV4, Network::IPV6, Network::TORV3, Network::I2P, Network::CJDNS}) {
        if (NetworkName(n) == name) return n;
    }
    return std::nullopt;
}

std::string PeerAddress::HostString() const
{
    char text[INET6_ADDRSTRLEN] = {};
    if (IsIPv4() && ip.size() == 4) {
        ::inet_ntop(AF_INET, ip.data(), text, sizeof(text));
        return text;
    }
    if (IsIPv6() && ip.size() == 16) {
        ::inet_ntop(AF_INET6, ip.data(), text, sizeof(text));
        return text;
    }
    std::string hex;
    static constexpr char digits[] = "0123456789abcdef";
    for (uint8_t b : ip) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return std::string(NetworkName(network)) + ":" + hex;
}

std::string PeerAddress::ToString() const
{
    return FormatHostPort(HostString(), port);
}

bool PeerAddress::IsLocal() const
{
    if (IsIPv4() && ip.size() == 4) return ip[0] == 127 || ip[0] == 0;
    if (IsIPv6() && ip.size() == 16) {
        static constexpr std::array<uint8_t, 16> loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return std::equal(loopback.begin(), loopback.end(), ip.begin()) ||
               std::all_of(ip.begin(), ip.end(), [](uint8_t b) { return b == 0; });
    }
    return false;
}

bool PeerAddress::IsRoutable() const
{
    if (IsLocal()) return false;
    if (IsIPv4()) {
        if (ip.size() != 4) return false;
        if (ip == std::vector<uint8_t>{255, 255, 255, 255}) return false;
        return !(InIPv4(ip, 10) || InIPv4(ip, 192, 168, 168) || InIPv4(ip, 172, 16, 31) || // RFC1918
                 InIPv4(ip, 198, 18, 19) ||                                                // RFC2544
                 InIPv4(ip, 169, 254, 254) ||                                              // RFC3927
                 InIPv4(ip, 100, 64, 127) ||                                               // RFC6598
                 (ip[0] == 192 && ip[1] == 0 && ip[2] == 2) ||                             // RFC5737
                 (ip[0] == 198 && ip[1] == 51 && ip[2] == 100) || (ip[0] == 203 && ip[1] == 0 && ip[2] == 113) ||
                 ip[0] >= 240); // reserved and multicast-free future use
    }
    if (IsIPv6()) {
        if (ip.size() != 16) return false;
        const bool doc = ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8; // RFC3849
        const bool link_local = ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;                   // RFC4862
        const bool unique_local = (ip[0] & 0xfe) == 0xfc;                                  // RFC4193
        const bool orchid = ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x00 && (ip[3] & 0xe0) == 0x00 &&
                            (ip[3] & 0xf0) != 0; // RFC4843 (2001:10::/28) and RFC7343 (2001:20::/28)
        return !(doc || link_local || unique_local || orchid);
    }
    return network != Network::UNKNOWN; // Tor, I2P and CJDNS addresses are routable on their networks
}

std::optional<PeerAddress> ParsePeerAddress(std::string_view host_port)
{
    auto parsed = HasPort(host_port) ? ParseHostPort(host_port, 0) : std::nullopt;
    if (!parsed) return std::nullopt;
    PeerAddress a;
    a.port = parsed->port;
    uint8_t bytes[16];
    if (::inet_pton(AF_INET, parsed->host.c_str(), bytes) == 1) {
        a.network = Network::IPV4;
        a.ip.assign(bytes, bytes + 4);
    } else if (::inet_pton(AF_INET6, parsed->host.c_str(), bytes) == 1) {
        a.network = Network::IPV6;
        a.ip.assign(bytes, bytes + 16);
        if (std::equal(IPV4_IN_IPV6_PREFIX.begin(), IPV4_IN_IPV6_PREFIX.end(), a.ip.begin())) {
            a.network = Network::IPV4;
            a.ip.erase(a.ip.begin(), a.ip.begin() + 12);
        }
    } else {
        return std::nullopt;
    }
    return a;
}

std::vector<PeerAddress> DecodeAddrPayload(std::span<const uint8_t> payload, bool v2)
{
    const std::string_view command = v2 ? command::ADDRV2 : command::ADDR;
    try {
        SpanReader r(payload);
        const uint64_t count = r.ReadCompactSize();
        if (count > MAX_ADDR_TO_SEND) {
            throw AddrCountError(std::string(command) + " message size = " + std::to_string(count));
        }
        std::vector<PeerAddress> out;
        out.reserve(size_t(count));
        for (uint64_t i = 0; i < count; ++i) {
            if (v2) {
                if (auto a = ReadV2(r)) out.push_back(std::move(*a));
            } else {
                out.push_back(ReadV1(r));
            }
        }
        r.ExpectEnd(command);
        return out;
    } catch (const DeserializeError& e) {
        throw ProtocolError("malformed '" + std::string(command) + "' message: " + e.what());
    }
}

std::vector<uint8_t> EncodeAddrPayload(const std::vector<PeerAddress>& addresses, bool v2)
{
    std::vector<const PeerAddress*> kept;
    for (const auto& a : addresses) {
        const size_t length = AddressLength(uint8_t(a.network));
        if (length == 0 || a.ip.size() != length) continue;
        if (!v2 && !a.IsIPv4() && !a.IsIPv6()) continue;
        kept.push_back(&a);
    }
    std::vector<uint8_t> out;
    Writer w(out);
    w.WriteCompactSize(kept.size());
    for (const PeerAddress* a : kept) {
        w.WriteU32(a->time);
        if (v2) {
            w.WriteCompactSize(a->services);
            w.WriteU8(uint8_t(a->network));
            w.WriteByteVector(a->ip);
        } else {
            w.WriteU64(a->services);
            if (a->IsIPv4()) w.WriteBytes(IPV4_IN_IPV6_PREFIX);
            w.WriteBytes(a->ip);
        }
        WritePort(w, a->port);
    }
    return out;
}

} // namespace orrery::p2p
