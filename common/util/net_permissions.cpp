// -whitelist and -whitebind; see net_permissions.h.
#include <common/util/net_permissions.h>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <charconv>

namespace orrery {
namespace {

//! Splits "perms@rest"; `direction_allowed` is false for -whitebind.
std::optional<PermissionedAddress> ParsePermissions(std::string_view text, bool direction_allowed, std::string& error)
{
    PermissionedAddress out;
    bool in = false;
    bool outbound = false;
    size_t at = text.find('@');
    if (at == std::string_view::npos) {
        out.flags = PF_IMPLICIT;
        out.address = std::string(text);
    } else {
        std::string_view list = text.substr(0, at);
        out.address = std::string(text.substr(at + 1));
        while (true) {
            size_t comma = list.find(',');
            std::string_view permission = list.substr(0, comma);
            if (permission == "bloomfilter" || permission == "bloom") {
                out.flags |= PF_BLOOMFILTER;
            } else if (permission == "noban") {
                out.flags |= PF_NOBAN;
            } else if (permission == "forcerelay") {
                out.flags |= PF_FORCERELAY;
            } else if (permission == "mempool") {
                out.flags |= PF_MEMPOOL;
            } else if (permission == "download") {
                out.flags |= PF_DOWNLOAD;
            } else if (permission == "all") {
                out.flags |= PF_ALL;
            } else if (permission == "relay") {
                out.flags |= PF_RELAY;
            } else if (permission == "addr") {
                out.flags |= PF_ADDR;
            } else if (permission == "in") {
                in = true;
            } else if (permission == "out") {
                if (!direction_allowed) {
                    error = "whitebind may only be used for incoming connections (\"out\" was passed)";
                    return std::nullopt;
                }
                outbound = true;
            } else if (!permission.empty()) {
                error = fmt::format("Invalid P2P permission: '{}'", permission);
                return std::nullopt;
            }
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
        if ((in || outbound) && out.flags == PF_NONE) {
            error = fmt::format("Only direction was set, no permissions: '{}'", text);
            return std::nullopt;
        }
    }
    out.inbound = in || !outbound;
    out.outbound = outbound;
    return out;
}

bool IsAddress(const std::string& host)
{
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

} // namespace

bool IsValidSubnetText(std::string_view text)
{
    size_t slash = text.find('/');
    std::string host(text.substr(0, slash));
    if (!IsAddress(host)) return false;
    if (slash == std::string_view::npos) return true;
    std::string_view mask = text.substr(slash + 1);
    bool v6 = host.find(':') != std::string::npos;
    int prefix = -1;
    auto [ptr, ec] = std::from_chars(mask.data(), mask.data() + mask.size(), prefix);
    if (ec == std::errc() && ptr == mask.data() + mask.size()) return prefix >= 0 && prefix <= (v6 ? 128 : 32);
    std::string netmask(mask);
    return netmask.find(':') == std::string::npos ? !v6 && IsAddress(netmask) : v6 && IsAddress(netmask);
}

std::optional<PermissionedAddress> ParseWhitelist(std::string_view text, std::string& error)
{
    auto parsed = ParsePermissions(text, /*direction_allowed=*/true, error);
    if (!parsed) return std::nullopt;
    if (!IsValidSubnetText(parsed->address)) {
        error = fmt::format("Invalid netmask specified in -whitelist: '{}'", parsed->address);
        return std::nullopt;
    }
    return parsed;
}

std::optional<PermissionedAddress> ParseWhitebind(std::string_view text, std::string& error)
{
    auto parsed = ParsePermissions(text, /*direction_allowed=*/false, error);
    if (!parsed) return std::nullopt;
    const std::string& address = parsed->address;
    std::string host;
    std::string port;
    if (address.starts_with('[')) {
        size_t close = address.find(']');
        if (close != std::string::npos) {
            host = address.substr(1, close - 1);
            if (address.size() > close + 1 && address[close + 1] == ':') port = address.substr(close + 2);
        }
    } else if (size_t colon = address.rfind(':'); colon != std::string::npos && address.find(':') == colon) {
        host = address.substr(0, colon);
        port = address.substr(colon + 1);
    } else {
        host = address;
    }
    if (!IsAddress(host)) {
        error = fmt::format("Cannot resolve -whitebind address: '{}'", address);
        return std::nullopt;
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
        error = fmt::format("Need to specify a port with -whitebind: '{}'", address);
        return std::nullopt;
    }
    return parsed;
}

uint32_t ResolveImplicit(uint32_t flags, bool whitelist_relay, bool whitelist_force_relay)
{
    if (!(flags & PF_IMPLICIT)) return flags;
    flags &= ~static_cast<uint32_t>(PF_IMPLICIT);
    if (whitelist_force_relay) flags |= PF_FORCERELAY;
    if (whitelist_relay) flags |= PF_RELAY;
    return flags | PF_MEMPOOL | PF_NOBAN;
}

std::vector<std::string> PermissionStrings(uint32_t flags)
{
    std::vector<std::string> out;
    if (HasPermission(flags, PF_BLOOMFILTER)) out.emplace_back("bloomfilter");
    if (HasPermission(flags, PF_NOBAN)) out.emplace_back("noban");
    if (HasPermission(flags, PF_FORCERELAY)) out.emplace_back("forcerelay");
    if (HasPermission(flags, PF_RELAY)) out.emplace_back("relay");
    if (HasPermission(flags, PF_MEMPOOL)) out.emplace_back("mempool");
    if (HasPermission(flags, PF_DOWNLOAD)) out.emplace_back("download");
    if (HasPermission(flags, PF_ADDR)) out.emplace_back("addr");
    return out;
}

} // namespace orrery
