// Peer addresses as the addr (version 1) and addrv2 (BIP155) messages carry
// them, and the text form bitcoind shows ("1.2.3.4:8333", "[::1]:8333").
// Decoding is bounds-checked (at most MAX_ADDR_TO_SEND entries, BIP155's
// lengths per network) and throws ProtocolError; encoding never fails. The
// p2p-agents decode what their peer sends; the node decodes the same bytes
// again when an agent hands them over (common/interfaces/peer_host.h).
#ifndef ORRERY_COMMON_P2P_ADDR_H
#define ORRERY_COMMON_P2P_ADDR_H

#include <common/p2p/protocol.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::p2p {

namespace command {
inline constexpr std::string_view ADDR = "addr";
inline constexpr std::string_view ADDRV2 = "addrv2";
inline constexpr std::string_view GETADDR = "getaddr";
} // namespace command

//! Core's MAX_ADDR_TO_SEND: entries in one addr or addrv2 message; more is misbehaviour.
inline constexpr size_t MAX_ADDR_TO_SEND = 1000;
//! BIP155's limit on an address's length, whatever its network.
inline constexpr size_t MAX_ADDRV2_SIZE = 512;

//! More than MAX_ADDR_TO_SEND entries: Core's misbehaviour, not merely malformed data.
class AddrCountError : public ProtocolError
{
public:
    using ProtocolError::ProtocolError;
};

//! BIP155 network ids (TORv2, id 3, is no longer valid and is skipped like an unknown id).
enum class Network : uint8_t {
    UNKNOWN = 0,
    IPV4 = 1,
    IPV6 = 2,
    TORV3 = 4,
    I2P = 5,
    CJDNS = 6,
};

//! bitcoind's name of a network ("ipv4", "ipv6", "onion", "i2p", "cjdns"); "unroutable" for UNKNOWN.
std::string_view NetworkName(Network network);
//! The network called `name` (getnodeaddresses' argument); nullopt for another name.
std::optional<Network> NetworkFromName(std::string_view name);

//! One entry of an addr/addrv2 message.
struct PeerAddress {
    uint32_t time{0}; //!< unix seconds the sender last heard of it
    uint64_t services{0};
    Network network{Network::UNKNOWN};
    std::vector<uint8_t> ip; //!< 4 bytes for IPv4, 16 for IPv6, BIP155's length for the others
    uint16_t port{0};
    bool operator==(const PeerAddress&) const = default;

    bool IsIPv4() const { return network == Network::IPV4; }
    bool IsIPv6() const { return network == Network::IPV6; }
    //! "1.2.3.4:8333", "[2001:db8::1]:8333"; other networks as "<name>:<hex>:<port>".
    std::string ToString() const;
    //! The host alone, as ToString writes it without the port.
    std::string HostString() const;
    //! Not an address anyone can reach from the internet: Core's !IsRoutable (private ranges,
    //! loopback, link-local, documentation, unspecified...).
    bool IsRoutable() const;
    //! Loopback (127/8, ::1) or unspecified: Core's IsLocal.
    bool IsLocal() const;
};

//! "1.2.3.4:8333", "[::1]:8333" (numeric hosts only) to an address; nullopt otherwise.
std::optional<PeerAddress> ParsePeerAddress(std::string_view host_port);

//! Decodes an addr (`v2` false) or addrv2 payload. Throws ProtocolError for malformed data,
//! AddrCountError for more than MAX_ADDR_TO_SEND entries (Core's "addr message size = N"), a BIP155 address whose
//! length does not fit its network, or trailing bytes. Entries of networks BIP155 does not define are skipped, as Core
//! does.
std::vector<PeerAddress> DecodeAddrPayload(std::span<const uint8_t> payload, bool v2);
//! The payload of an addr (`v2` false: IPv4 and IPv6 entries only, others left out) or addrv2 message.
std::vector<uint8_t> EncodeAddrPayload(const std::vector<PeerAddress>& addresses, bool v2);

} // namespace orrery::p2p

#endif // ORRERY_COMMON_P2P_ADDR_H
