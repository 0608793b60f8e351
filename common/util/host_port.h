// Host and port as bitcoind writes them in options and shows them for peers:
// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address (which has
// no port). One parser for every process: -bind, -rpcbind, -rpcconnect,
// -connect, -addnode and the addresses of peers.
#ifndef ORRERY_COMMON_UTIL_HOST_PORT_H
#define ORRERY_COMMON_UTIL_HOST_PORT_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orrery {

struct HostPort {
    std::string host;
    uint16_t port{0};
};

//! Splits `text`; `default_port` fills a missing port. nullopt for an empty host, an unbalanced or
//! misplaced bracket, or a port that is not 1..65535 in decimal (bitcoind refuses port 0 too).
std::optional<HostPort> ParseHostPort(std::string_view text, uint16_t default_port);
//! True when `text` names a port ("1.2.3.4:8333", "[::1]:8333"); false for "1.2.3.4", "::1".
bool HasPort(std::string_view text);
//! The host alone, brackets removed; `text` itself when it does not parse.
std::string HostOf(std::string_view text);
//! "1.2.3.4:8333", "[::1]:8333": how bitcoind shows an address.
std::string FormatHostPort(std::string_view host, uint16_t port);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_HOST_PORT_H
