// The node's table of peers: the ids it issues, the connections the
// p2p-agents register for them, the addnode list, bans, and the admission
// rules for inbound sockets. Pure bookkeeping: no IPC, no clock, no locking
// (the caller passes the time and holds its own mutex), so tests drive it
// directly.
#ifndef ORRERY_SERVICES_NODE_PEER_TABLE_H
#define ORRERY_SERVICES_NODE_PEER_TABLE_H

#include <common/interfaces/node.h>
#include <common/interfaces/peer_host.h>
#include <services/node/ban_list.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::node {

//! Bitcoin Core's connection budget (net.h): full-relay, block-relay-only and
//! feeler outbound slots are reserved out of -maxconnections; addnode
//! connections come on top of it, at most MAX_ADDNODE_CONNECTIONS at a time.
inline constexpr int DEFAULT_MAX_PEER_CONNECTIONS = 125;
inline constexpr int MAX_OUTBOUND_FULL_RELAY_CONNECTIONS = 8;
inline constexpr int MAX_BLOCK_RELAY_ONLY_CONNECTIONS = 2;
inline constexpr int MAX_FEELER_CONNECTIONS = 1;
inline constexpr int MAX_ADDNODE_CONNECTIONS = 8;
//! Hosts remembered as discouraged (Core's rolling filter holds about 50,000).
inline constexpr size_t MAX_DISCOURAGED = 50000;
//! An issued id whose agent never registered is forgotten after this long.
inline constexpr int64_t PENDING_PEER_TIMEOUT_SECONDS = 20;

//! A peer id the node issued: pending until its agent registers, then connected.
struct PeerEntry {
    int64_t id{0};
    std::string address;       //!< as given to addnode/-connect, or the inbound peer's ip:port
    std::string local_address; //!< our end of an inbound socket
    bool inbound{false};
    std::string connection_type; //!< "inbound", "manual", ...
    uint64_t nonce{0};           //!< the nonce our version message carries to this peer
    int64_t issued_time{0};      //!< unix seconds
    bool registered{false};
    int64_t agent_pid{0};
    int64_t conn_time{0}; //!< unix seconds of the registration
    bool handshake_done{false};
    interfaces::PeerVersion version;
    interfaces::PeerStats stats; //!< the agent's last report, per-message byte counts included
    uint32_t permissions{0};     //!< NetPermissionFlags from -whitelist/-whitebind
};

//! Bitcoin Core's eviction protections (net.cpp, SelectNodeToEvict) that apply to a node
//! without transaction or block relay yet.
inline constexpr size_t EVICTION_PROTECT_NETGROUPS = 4;
inline constexpr size_t EVICTION_PROTECT_PING = 8;

//! What eviction looks at for one connected inbound peer.
struct EvictionCandidate {
    int64_t id{0};
    int64_t conn_time{0};           //!< unix seconds; ties broken by id (a higher id came later)
    std::optional<double> min_ping; //!< seconds; none measured yet
    std::string netgroup;           //!< NetGroup() of its host
    uint64_t netgroup_key{0};       //!< the netgroup hashed with the node's secret, for unpredictable protection
};

//! The peer to drop for a new inbound one, or nullopt when every candidate is protected.
//! Protects, in turn: one peer (the oldest) of each of up to EVICTION_PROTECT_NETGROUPS network
//! groups, chosen by highest key; up to EVICTION_PROTECT_PING peers with the lowest measured
//! minimum ping; half of the rest, the longest connected. Among the others, takes the network
//! group with the most of them (ties: the group with the youngest peer) and returns its
//! youngest peer.
std::optional<int64_t> SelectPeerToEvict(std::vector<EvictionCandidate> candidates);

//! Bitcoin Core's network group: /16 for IPv4 ("10.1"), /32 for IPv6 ("2001:db8"), the
//! host itself for anything else.
std::string NetGroup(std::string_view host);

//! Thrown for calls about a peer id the table does not know or that are out of order.
class PeerTableError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class PeerTable
{
public:
    //! `max_connections` is -maxconnections; `listening` is -listen.
    //! `make_nonce` gives each issued id its version nonce (random in the node).
    PeerTable(int max_connections, bool listening, std::function<uint64_t()> make_nonce);

    //! How many inbound peers may be connected at once:
    //! -maxconnections minus the automatic outbound slots, never below zero.
    int MaxInbound() const { return m_max_inbound; }

    //! orreryd's question for an accepted socket. On success a new id is pending for it.
    //! When the inbound slots are full and `evicted` is given, a connected inbound peer chosen
    //! by SelectPeerToEvict is removed to make room and returned there (the caller disconnects
    //! its agent); without one to evict, or without `evicted`, the socket is refused.
    //! `permissions` (NetPermissionFlags) go with the peer: noban admits a banned address, and a
    //! noban peer is never evicted (as in bitcoind).
    interfaces::Admission AdmitInbound(const std::string& address, const std::string& local_address, int64_t now,
                                       std::optional<PeerEntry>* evicted = nullptr, uint32_t permissions = 0);
    //! Issues an id for an outbound connection the node is about to ask orreryd for.
    PeerEntry IssueOutbound(const std::string& address, const std::string& connection_type, int64_t now,
                            uint32_t permissions = 0);

    //! The agent of an issued id says it serves it. Throws PeerTableError for an id
    //! the node did not issue, one already registered, or inbound/outbound confusion.
    PeerEntry Register(int64_t id, int64_t agent_pid, bool inbound, int64_t now);
    //! Throw PeerTableError unless the peer is registered.
    void SetHandshakeDone(int64_t id, const interfaces::PeerVersion& version);
    void SetStats(int64_t id, const interfaces::PeerStats& stats);
    //! Forgets a pending or registered peer; nullopt if unknown.
    std::optional<PeerEntry> Remove(int64_t id);
    //! Forgets ids issued before now - timeout whose agent never registered; returns them.
    std::vector<PeerEntry> ExpirePending(int64_t now, int64_t timeout = PENDING_PEER_TIMEOUT_SECONDS);

    std::optional<PeerEntry> Find(int64_t id) const;
    //! A registered peer by the address getpeerinfo shows.
    std::optional<PeerEntry> FindConnectedByAddress(const std::string& address) const;
    //! The outbound peer (pending or registered) whose version message carries `nonce`:
    //! an inbound peer announcing it is ourselves (Bitcoin Core's self-connection check).
    std::optional<PeerEntry> FindOutboundByNonce(uint64_t nonce) const;
    //! Whether a pending or registered peer has this address (no second dial to it).
    bool HasPeerAtAddress(const std::string& address) const;
    //! Registered peers, by id.
    std::vector<PeerEntry> Connected() const;
    int CountConnected(std::optional<bool> inbound = std::nullopt) const;
    //! Pending and registered manual outbound peers.
    int CountManual() const;
    //! Pending and registered outbound peers, by id.
    std::vector<PeerEntry> Outbound() const;

    //! The addnode list. AddNode is false if the address is already listed,
    //! RemoveAddedNode false if it is not.
    bool AddNode(const std::string& address);
    bool RemoveAddedNode(const std::string& address);
    const std::vector<std::string>& AddedNodes() const { return m_added; }

    //! The bans admission checks (setban, listbanned, banlist.json).
    BanList& Bans() { return m_bans; }
    const BanList& Bans() const { return m_bans; }
    //! Whether the host of `address` ("ip:port", "[ip]:port" or a bare ip) is banned at `now`.
    bool IsBanned(const std::string& address, int64_t now) const;
    //! Pending and registered peers whose host lies in `subnet` (setban add disconnects them).
    std::vector<PeerEntry> PeersIn(const SubNet& subnet) const;

    // Discouragement (Core's BanMan::Discourage): a misbehaving peer's host is remembered, not
    // banned. Admission refuses it only when the inbound slots are nearly full; the node never
    // dials it. Kept in memory, the oldest forgotten beyond MAX_DISCOURAGED.
    void Discourage(const std::string& address);
    bool IsDiscouraged(const std::string& address) const;

private:
    int64_t NextId() { return m_next_id++; }
    std::vector<EvictionCandidate> EvictionCandidates() const;
    int CountInbound() const;

    int m_max_inbound;
    bool m_listening;
    std::function<uint64_t()> m_make_nonce;
    uint64_t m_netgroup_secret; //!< keys the netgroup protection, drawn once from make_nonce
    int64_t m_next_id{0};
    std::map<int64_t, PeerEntry> m_peers;
    std::vector<std::string> m_added;
    BanList m_bans;
    std::map<std::string, uint64_t> m_discouraged; //!< host -> insertion order
    uint64_t m_discourage_count{0};
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_PEER_TABLE_H
