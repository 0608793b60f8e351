// Who is at the other end of a connection, decided by the server from what the
// peer cannot forge, and which roles that lets the peer claim in init.hello:
// - ipc://: the kernel's credentials of the Unix socket (SO_PEERCRED, which
//   libzmq appends to each message's "Peer-Address" property), matched against
//   the processes orreryd started, or else against the uids the operator allowed;
// - tcp://: the role bound to the client's CurveZMQ key in authorized_clients;
// - inproc://: threads of this very process, trusted.
// doc/ipc.md ("Who may call what") has the rules and the role table.
#ifndef ORRERY_COMMON_IPC_IDENTITY_H
#define ORRERY_COMMON_IPC_IDENTITY_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::ipc {

enum class Transport { INPROC, IPC, TCP };

//! The kernel's credentials of a Unix socket's other end, taken when it connected.
struct UnixCredentials {
    uint32_t uid{0};
    uint32_t gid{0};
    int64_t pid{0};
    bool operator==(const UnixCredentials&) const = default;
};

//! Parses libzmq's "Peer-Address" of a message received over ipc://, which ends in
//! ":<uid>:<gid>:<pid>" (decimal, no sign, no leading zero; uid and gid fit 32 bits,
//! pid is positive and below 2^22). nullopt for anything else.
std::optional<UnixCredentials> ParseUnixPeerAddress(std::string_view peer_address);

//! What the server knows of a connection before it believes anything the peer says.
struct PeerCredentials {
    Transport transport{Transport::INPROC};
    std::optional<UnixCredentials> unix_peer; //!< ipc://; nullopt if libzmq gave none
    std::string key_role;                     //!< tcp://: the role authorized_clients binds its key to
    std::string address;                      //!< libzmq's Peer-Address, for log lines
    //! "ipc pid 812 uid 1000", "tcp key of role wallet from 10.0.0.2", "inproc".
    std::string Describe() const;
};

//! True for a well-formed role name: 1 to 32 of [a-z0-9-].
bool ValidRoleName(std::string_view role);

//! The role orreryd started process `pid` as; nullopt when orreryd did not start
//! it. Throws when it cannot tell (orreryd unreachable): the hello is then refused.
using ProcessLookup = std::function<std::optional<std::string>(int64_t pid)>;

//! -ipcallow=<role>:<uid>: processes of that uid may say they are that role.
struct UidGrant {
    std::string role;
    uint32_t uid{0};
    bool operator==(const UidGrant&) const = default;
};
//! Parses "<role>:<uid>" (uid decimal). nullopt with `error` set for anything else.
std::optional<UidGrant> ParseIpcAllow(std::string_view text, std::string& error);

class RolePolicy;
//! Adds each -ipcallow value to `policy`. False, with `error` set, at the first bad one.
bool AddIpcAllow(RolePolicy& policy, const std::vector<std::string>& values, std::string& error);

//! Decides whether a connection may claim a role. Rules, in order:
//! - inproc://: any role (the same process);
//! - tcp://: only the role its key is bound to;
//! - ipc://, a process orreryd started (the lookup knows its pid): only that role;
//! - ipc://, any other process: a role granted to its uid by -ipcallow, or, for a
//!   role with no -ipcallow at all, the server's own uid (services run by hand
//!   as one user, and orrery-cli, need no configuration).
class RolePolicy
{
public:
    void Allow(UidGrant grant) { m_grants.push_back(std::move(grant)); }
    //! Asks orreryd's process table about ipc:// peers (see ProcessLookup).
    void SetProcessLookup(ProcessLookup lookup) { m_lookup = std::move(lookup); }
    //! nullopt when `who` may claim `role`; otherwise the reason it may not.
    //! `own_uid` is the server's effective uid.
    std::optional<std::string> Check(const PeerCredentials& who, std::string_view role, uint32_t own_uid) const;

private:
    std::vector<UidGrant> m_grants;
    ProcessLookup m_lookup;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_IDENTITY_H
