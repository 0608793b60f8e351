// The node's peer table; see peer_table.h.
#include <services/node/peer_table.h>

#include <common/util/host_port.h>
#include <common/util/net_permissions.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <tuple>

namespace orrery::node {

PeerTable::PeerTable(int max_connections, bool listening, std::function<uint64_t()> make_nonce)
    : m_max_inbound(std::max(0, max_connections - (MAX_OUTBOUND_FULL_RELAY_CONNECTIONS +
                                                   MAX_BLOCK_RELAY_ONLY_CONNECTIONS + MAX_FEELER_CONNECTIONS))),
      m_listening(listening), m_make_nonce(std::move(make_nonce)), m_netgroup_secret(m_make_nonce())
{
}

// ---------------------------------------------------------------- issuing ids

interfaces::Admission PeerTable::AdmitInbound(const std::string& address, const std::string& local_address, int64_t now,
                                              std::optional<PeerEntry>* evicted, uint32_t permissions)
{
    std::optional<int64_t> victim;
    if (evicted && m_listening && CountInbound() >= m_max_inbound) victim = SelectPeerToEvict(EvictionCandidates());
    interfaces::Admission admission;
    if (!m_listening) {
        admission.reason = "not accepting inbound connections (-listen=0)";
    } else if (!HasPermission(permissions, PF_NOBAN) && IsBanned(address, now)) {
        admission.reason = "address " + HostOf(address) + " is banned";
    } else if (!HasPermission(permissions, PF_NOBAN) && IsDiscouraged(address) && CountInbound() + 1 >= m_max_inbound) {
        // Core's rule: a discouraged host gets in only while the slots are not nearly full.
        admission.reason = "address " + HostOf(address) + " is discouraged and inbound slots are nearly full";
    } else if (!local_address.empty() && address == local_address) {
        admission.reason = "connection to self";
    } else if (CountInbound() >= m_max_inbound && !victim) {
        admission.reason = "inbound connection limit reached (" + std::to_string(m_max_inbound) + ")";
        if (evicted) admission.reason += ", no peer to evict";
    } else {
        if (victim) *evicted = Remove(*victim);
        PeerEntry entry;
        entry.id = NextId();
        entry.address = address;
        entry.local_address = local_address;
        entry.inbound = true;
        entry.connection_type = "inbound";
        entry.permissions = permissions;
        entry.nonce = m_make_nonce();
        entry.issued_time = now;
        m_peers.emplace(entry.id, entry);
        admission.accepted = true;
        admission.peer_id = entry.id;
    }
    return admission;
}

PeerEntry PeerTable::IssueOutbound(const std::string& address, const std::string& connection_type, int64_t now,
                                   uint32_t permissions)
{
    PeerEntry entry;
    entry.permissions = permissions;
    entry.id = NextId();
    entry.address = address;
    entry.inbound = false;
    entry.connection_type = connection_type;
    entry.nonce = m_make_nonce();
    entry.issued_time = now;
    m_peers.emplace(entry.id, entry);
    return entry;
}

// ---------------------------------------------------------------- eviction

std::string NetGroup(std::string_view host)
{
    const std::string text(host);
    unsigned char bytes[16];
    if (::inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        return std::to_string(bytes[0]) + "." + std::to_string(bytes[1]);
    }
    if (::inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
        char group[16];
        std::snprintf(group, sizeof(group), "%x:%x", bytes[0] << 8 | bytes[1], bytes[2] << 8 | bytes[3]);
        return group;
    }
    return text;
}

std::optional<int64_t> SelectPeerToEvict(std::vector<EvictionCandidate> candidates)
{
    // Older first: by connection time, then by id.
    auto older = [](const EvictionCandidate& a, const EvictionCandidate& b) {
        return std::tie(a.conn_time, a.id) < std::tie(b.conn_time, b.id);
    };
    std::sort(candidates.begin(), candidates.end(), older);

    // One peer of each of the best-keyed network groups: an attacker cannot tell which groups
    // are kept, so filling the slots from a few networks cannot push out everyone else.
    std::map<std::string, uint64_t> group_keys;
    for (const auto& c : candidates) group_keys[c.netgroup] = c.netgroup_key;
    std::vector<std::pair<uint64_t, std::string>> groups;
    for (const auto& [group, key] : group_keys) groups.emplace_back(key, group);
    std::sort(groups.rbegin(), groups.rend());
    for (size_t i = 0; i < groups.size() && i < EVICTION_PROTECT_NETGROUPS; ++i) {
        auto oldest = std::find_if(candidates.begin(), candidates.end(),
                                   [&](const auto& c) { return c.netgroup == groups[i].second; });
        candidates.erase(oldest); // sorted oldest first: the group's oldest peer
    }

    // The fastest peers: latency an attacker cannot fake from far away.
    std::vector<EvictionCandidate> pinged;
    for (const auto& c : candidates) {
        if (c.min_ping) pinged.push_back(c);
    }
    std::sort(pinged.begin(), pinged.end(), [](const auto& a, const auto& b) { return *a.min_ping < *b.min_ping; });
    for (size_t i = 0; i < pinged.size() && i < EVICTION_PROTECT_PING; ++i) {
        std::erase_if(candidates, [&](const auto& c) { return c.id == pinged[i].id; });
    }

    // Half of the rest, the longest connected: they were here before any attack began.
    candidates.erase(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(candidates.size() / 2));
    if (candidates.empty()) return std::nullopt;

    // The network group with the most peers left (ties: the one whose youngest is youngest).
    std::map<std::string, std::vector<EvictionCandidate>> by_group;
    for (const auto& c : candidates) by_group[c.netgroup].push_back(c); // each group stays oldest first
    const std::vector<EvictionCandidate>* chosen = nullptr;
    for (const auto& [group, members] : by_group) {
        if (!chosen || members.size() > chosen->size() ||
            (members.size() == chosen->size() && older(chosen->back(), members.back()))) {
            chosen = &members;
        }
    }
    return chosen->back().id;
}

std::vector<EvictionCandidate> PeerTable::EvictionCandidates() const
{
    std::vector<EvictionCandidate> candidates;
    for (const auto& [id, entry] : m_peers) {
        // Pending ones have no agent yet to tell; they are not candidates (as in Core, only
        // fully connected peers are).
        if (!entry.inbound || !entry.registered) continue;
        if (HasPermission(entry.permissions, PF_NOBAN)) continue; // bitcoind never evicts them
        EvictionCandidate c;
        c.id = id;
        c.conn_time = entry.conn_time;
        c.min_ping = entry.stats.min_ping;
        c.netgroup = NetGroup(HostOf(entry.address));
        // FNV-1a over the secret and the group: stable for this node, unknown to peers.
        uint64_t hash = 0xcbf29ce484222325ULL ^ m_netgroup_secret;
        for (unsigned char ch : c.netgroup) hash = (hash ^ ch) * 0x100000001b3ULL;
        c.netgroup_key = hash;
        candidates.push_back(std::move(c));
    }
    return candidates;
}

// ---------------------------------------------------------------- what agents report

PeerEntry PeerTable::Register(int64_t id, int64_t agent_pid, bool inbound, int64_t now)
{
    auto it = m_peers.find(id);
    if (it == m_peers.end()) {
        throw PeerTableError("unknown peer id " + std::to_string(id) + ": the node did not issue it");
    }
    PeerEntry& entry = it->second;
    if (entry.registered) {
        throw PeerTableError("peer id " + std::to_string(id) + " is already served by agent " +
                             std::to_string(entry.agent_pid));
    }
    if (entry.inbound != inbound) {
        throw PeerTableError("peer id " + std::to_string(id) + " was issued for an " +
                             (entry.inbound ? "inbound" : "outbound") + " connection");
    }
    entry.registered = true;
    entry.agent_pid = agent_pid;
    entry.conn_time = now;
    return entry;
}

void PeerTable::SetHandshakeDone(int64_t id, const interfaces::PeerVersion& version)
{
    auto it = m_peers.find(id);
    if (it == m_peers.end() || !it->second.registered) {
        throw PeerTableError("unknown peer id " + std::to_string(id));
    }
    it->second.handshake_done = true;
    it->second.version = version;
}

void PeerTable::SetStats(int64_t id, const interfaces::PeerStats& stats)
{
    auto it = m_peers.find(id);
    if (it == m_peers.end() || !it->second.registered) {
        throw PeerTableError("unknown peer id " + std::to_string(id));
    }
    it->second.stats = stats;
}

std::optional<PeerEntry> PeerTable::Remove(int64_t id)
{
    auto it = m_peers.find(id);
    if (it == m_peers.end()) return std::nullopt;
    PeerEntry entry = std::move(it->second);
    m_peers.erase(it);
    return entry;
}

std::vector<PeerEntry> PeerTable::ExpirePending(int64_t now, int64_t timeout)
{
    std::vector<PeerEntry> expired;
    for (auto it = m_peers.begin(); it != m_peers.end();) {
        if (!it->second.registered && it->second.issued_time + timeout <= now) {
            expired.push_back(std::move(it->second));
            it = m_peers.erase(it);
        } else {
            ++it;
        }
    }
    return expired;
}

// ---------------------------------------------------------------- queries

std::optional<PeerEntry> PeerTable::Find(int64_t id) const
{
    auto it = m_peers.find(id);
    if (it == m_peers.end()) return std::nullopt;
    return it->second;
}

std::optional<PeerEntry> PeerTable::FindConnectedByAddress(const std::string& address) const
{
    for (const auto& [id, entry] : m_peers) {
        if (entry.registered && entry.address == address) return entry;
    }
    return std::nullopt;
}

std::optional<PeerEntry> PeerTable::FindOutboundByNonce(uint64_t nonce) const
{
    if (nonce == 0) return std::nullopt; // "no nonce"
    for (const auto& [id, entry] : m_peers) {
        if (!entry.inbound && entry.nonce == nonce) return entry;
    }
    return std::nullopt;
}

bool PeerTable::HasPeerAtAddress(const std::string& address) const
{
    return std::any_of(m_peers.begin(), m_peers.end(), [&](const auto& p) { return p.second.address == address; });
}

std::vector<PeerEntry> PeerTable::Connected() const
{
    std::vector<PeerEntry> connected;
    for (const auto& [id, entry] : m_peers) {
        if (entry.registered) connected.push_back(entry);
    }
    return connected;
}

int PeerTable::CountConnected(std::optional<bool> inbound) const
{
    return static_cast<int>(std::count_if(m_peers.begin(), m_peers.end(), [&](const auto& p) {
        return p.second.registered && (!inbound || p.second.inbound == *inbound);
    }));
}

int PeerTable::CountManual() const
{
    return static_cast<int>(std::count_if(m_peers.begin(), m_peers.end(), [](const auto& p) {
        return !p.second.inbound && p.second.connection_type == "manual";
    }));
}

std::vector<PeerEntry> PeerTable::Outbound() const
{
    std::vector<PeerEntry> outbound;
    for (const auto& [id, entry] : m_peers) {
        if (!entry.inbound) outbound.push_back(entry);
    }
    return outbound;
}

int PeerTable::CountInbound() const
{
    // Pending ones count too: a burst of sockets must not overshoot the limit before their agents register.
    return static_cast<int>(
        std::count_if(m_peers.begin(), m_peers.end(), [](const auto& p) { return p.second.inbound; }));
}

// ---------------------------------------------------------------- addnode list and bans

bool PeerTable::AddNode(const std::string& address)
{
    if (std::find(m_added.begin(), m_added.end(), address) != m_added.end()) return false;
    m_added.push_back(address);
    return true;
}

bool PeerTable::RemoveAddedNode(const std::string& address)
{
    auto it = std::find(m_added.begin(), m_added.end(), address);
    if (it == m_added.end()) return false;
    m_added.erase(it);
    return true;
}

bool PeerTable::IsBanned(const std::string& address, int64_t now) const
{
    return m_bans.IsBanned(HostOf(address), now);
}

void PeerTable::Discourage(const std::string& address)
{
    const std::string host = HostOf(address);
    m_discouraged[host] = m_discourage_count++;
    if (m_discouraged.size() > MAX_DISCOURAGED) {
        auto oldest = std::min_element(m_discouraged.begin(), m_discouraged.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
        m_discouraged.erase(oldest);
    }
}

bool PeerTable::IsDiscouraged(const std::string& address) const
{
    return m_discouraged.count(HostOf(address)) > 0;
}

std::vector<PeerEntry> PeerTable::PeersIn(const SubNet& subnet) const
{
    std::vector<PeerEntry> found;
    for (const auto& [id, entry] : m_peers) {
        if (subnet.Contains(HostOf(entry.address))) found.push_back(entry);
    }
    return found;
}

} // namespace orrery::node
