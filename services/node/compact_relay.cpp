// The node's compact block bookkeeping; see compact_relay.h.
#include <services/node/compact_relay.h>

#include <algorithm>

namespace orrery::node {

std::vector<HighBandwidthChange> HighBandwidthPeers::Select(int64_t peer_id, std::map<int64_t, CompactPeer>& peers)
{
    auto peer = peers.find(peer_id);
    if (peer == peers.end() || !peer->second.provides) return {};
    size_t outbound = 0;
    for (auto it = m_peers.begin(); it != m_peers.end(); ++it) {
        if (*it == peer_id) {
            // Already chosen: it becomes the newest, nothing to send.
            m_peers.erase(it);
            m_peers.push_back(peer_id);
            return {};
        }
        auto chosen = peers.find(*it);
        if (chosen != peers.end() && !chosen->second.inbound) ++outbound;
    }
    if (peer->second.inbound && m_peers.size() >= p2p::MAX_HIGH_BANDWIDTH_PEERS && outbound == 1) {
        // Keep the last outbound peer: if it is the oldest, the second oldest goes instead.
        auto oldest = peers.find(m_peers.front());
        if (oldest != peers.end() && !oldest->second.inbound) std::swap(m_peers[0], m_peers[1]);
    }
    std::vector<HighBandwidthChange> changes;
    if (m_peers.size() >= p2p::MAX_HIGH_BANDWIDTH_PEERS) {
        const int64_t demoted = m_peers.front();
        m_peers.pop_front();
        if (auto it = peers.find(demoted); it != peers.end()) it->second.hb_to = false;
        changes.push_back({demoted, false});
    }
    peer->second.hb_to = true;
    m_peers.push_back(peer_id);
    changes.push_back({peer_id, true});
    return changes;
}

void HighBandwidthPeers::Remove(int64_t peer_id)
{
    m_peers.erase(std::remove(m_peers.begin(), m_peers.end(), peer_id), m_peers.end());
}

} // namespace orrery::node
