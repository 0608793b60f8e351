// Peer permissions of -whitelist and -whitebind, in bitcoind's syntax
// ("noban,relay@1.2.3.0/24", "in,out,mempool@::1", a bare address for the
// default set) and with bitcoind's flag values and names, as getpeerinfo's
// `permissions` shows them. orreryd checks the options at start; the node
// gives each peer its permissions when it admits or dials it.
#ifndef ORRERY_COMMON_UTIL_NET_PERMISSIONS_H
#define ORRERY_COMMON_UTIL_NET_PERMISSIONS_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! bitcoind's NetPermissionFlags: some permissions include others (noban includes download,
//! forcerelay includes relay).
enum NetPermissionFlags : uint32_t {
    PF_NONE = 0,
    PF_BLOOMFILTER = 1U << 1,
    PF_RELAY = 1U << 3,
    PF_FORCERELAY = (1U << 2) | PF_RELAY,
    PF_DOWNLOAD = 1U << 6,
    PF_NOBAN = (1U << 4) | PF_DOWNLOAD,
    PF_MEMPOOL = 1U << 5,
    PF_ADDR = 1U << 7,
    //! No permission was written: the default set, decided by ResolveImplicit.
    PF_IMPLICIT = 1U << 31,
    PF_ALL = PF_BLOOMFILTER | PF_FORCERELAY | PF_RELAY | PF_NOBAN | PF_MEMPOOL | PF_DOWNLOAD | PF_ADDR,
};

inline bool HasPermission(uint32_t flags, uint32_t permission)
{
    return (flags & permission) == permission;
}

//! One -whitelist or -whitebind value.
struct PermissionedAddress {
    uint32_t flags{PF_NONE};
    std::string address;  //!< -whitelist: an address or subnet; -whitebind: host:port
    bool inbound{true};   //!< -whitelist "in" (the default)
    bool outbound{false}; //!< -whitelist "out": manual outbound connections
};

//! -whitelist=[perm,...@]<address or subnet>. nullopt with bitcoind's message for an unknown
//! permission, a direction without permissions or an invalid subnet.
std::optional<PermissionedAddress> ParseWhitelist(std::string_view text, std::string& error);
//! -whitebind=[perm,...@]<host:port>: no direction, and a port is required.
std::optional<PermissionedAddress> ParseWhitebind(std::string_view text, std::string& error);
//! Replaces PF_IMPLICIT by bitcoind's default set: noban and mempool, relay with -whitelistrelay,
//! forcerelay with -whitelistforcerelay.
uint32_t ResolveImplicit(uint32_t flags, bool whitelist_relay, bool whitelist_force_relay);
//! getpeerinfo's names, in bitcoind's order: bloomfilter, noban, forcerelay, relay, mempool, download, addr.
std::vector<std::string> PermissionStrings(uint32_t flags);
//! Whether `text` is an IPv4/IPv6 address, or one with "/<prefix>" or "/<netmask>".
bool IsValidSubnetText(std::string_view text);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_NET_PERMISSIONS_H
