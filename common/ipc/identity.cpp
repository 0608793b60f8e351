// Credentials of a connection and the roles they allow; see identity.h.
#include <common/ipc/identity.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <exception>

namespace orrery::ipc {
namespace {

constexpr int64_t PID_LIMIT = int64_t{1} << 22; // Linux's PID_MAX_LIMIT

//! A decimal number without sign or leading zero, at most `max`.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max)
{
    if (text.empty() || text.size() > 10) return std::nullopt;
    if (text.size() > 1 && text[0] == '0') return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

} // namespace

std::optional<UnixCredentials> ParseUnixPeerAddress(std::string_view peer_address)
{
    // libzmq appends the credentials after whatever address it prints, so they
    // are read from the right: what comes before them is not ours to trust.
    std::string_view fields[3];
    std::string_view rest = peer_address;
    for (int i = 2; i >= 0; --i) {
        const size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        fields[i] = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
    }
    auto uid = ParseDecimal(fields[0], UINT32_MAX);
    auto gid = ParseDecimal(fields[1], UINT32_MAX);
    auto pid = ParseDecimal(fields[2], PID_LIMIT);
    if (!uid || !gid || !pid || *pid == 0) return std::nullopt;
    return UnixCredentials{static_cast<uint32_t>(*uid), static_cast<uint32_t>(*gid), static_cast<int64_t>(*pid)};
}

std::string PeerCredentials::Describe() const
{
    switch (transport) {
    case Transport::INPROC:
        return "inproc";
    case Transport::IPC:
        if (!unix_peer) return "ipc (no credentials)";
        return fmt::format("ipc pid {} uid {}", unix_peer->pid, unix_peer->uid);
    case Transport::TCP:
        return fmt::format("tcp key of role {} from {}", key_role.empty() ? "(none)" : key_role,
                           address.empty() ? "?" : address);
    }
    return "?";
}

bool ValidRoleName(std::string_view role)
{
    if (role.empty() || role.size() > 32) return false;
    return std::all_of(role.begin(), role.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::optional<UidGrant> ParseIpcAllow(std::string_view text, std::string& error)
{
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        error = fmt::format("-ipcallow={}: expected <role>:<uid>", text);
        return std::nullopt;
    }
    std::string_view role = text.substr(0, colon);
    if (!ValidRoleName(role)) {
        error = fmt::format("-ipcallow={}: '{}' is not a role name", text, role);
        return std::nullopt;
    }
    auto uid = ParseDecimal(text.substr(colon + 1), UINT32_MAX);
    if (!uid) {
        error = fmt::format("-ipcallow={}: '{}' is not a numeric uid", text, text.substr(colon + 1));
        return std::nullopt;
    }
    return UidGrant{std::string(role), static_cast<uint32_t>(*uid)};
}

bool AddIpcAllow(RolePolicy& policy, const std::vector<std::string>& values, std::string& error)
{
    for (const std::string& value : values) {
        auto grant = ParseIpcAllow(value, error);
        if (!grant) return false;
        policy.Allow(std::move(*grant));
    }
    return true;
}

std::optional<std::string> RolePolicy::Check(const PeerCredentials& who, std::string_view role, uint32_t own_uid) const
{
    if (!ValidRoleName(role)) return fmt::format("'{}' is not a role name", role);
    switch (who.transport) {
    case Transport::INPROC:
        return std::nullopt;
    case Transport::TCP:
        if (who.key_role.empty()) return "its CurveZMQ key is bound to no role";
        if (who.key_role != role) return fmt::format("its CurveZMQ key is allowed for role {} only", who.key_role);
        return std::nullopt;
    case Transport::IPC:
        break;
    }
    if (!who.unix_peer) return "the kernel gave no credentials for this ipc connection";
    const UnixCredentials& peer = *who.unix_peer;
    if (m_lookup) {
        std::optional<std::string> started_as;
        try {
            started_as = m_lookup(peer.pid);
        } catch (const std::exception& e) {
            return fmt::format("cannot ask orreryd who pid {} is: {}", peer.pid, e.what());
        }
        if (started_as) {
            if (*started_as == role) return std::nullopt;
            return fmt::format("pid {} was started by orreryd as {}", peer.pid, *started_as);
        }
    }
    bool role_has_grants = false;
    for (const UidGrant& grant : m_grants) {
        if (grant.role != role) continue;
        role_has_grants = true;
        if (grant.uid == peer.uid) return std::nullopt;
    }
    if (!role_has_grants && peer.uid == own_uid) return std::nullopt;
    if (role_has_grants) return fmt::format("uid {} is not allowed role {} (-ipcallow)", peer.uid, role);
    return fmt::format("uid {} is not this service's uid {} and -ipcallow grants it nothing", peer.uid, own_uid);
}

} // namespace orrery::ipc
