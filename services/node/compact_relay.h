// The node's bookkeeping of BIP152 compact blocks (doc/compact_blocks.md):
// what each peer negotiated, which peers we asked to announce to us in
// high-bandwidth mode (Core's lNodesAnnouncingHeaderAndIDs), the compact
// blocks waiting for a blocktxn, and the most recent block with its compact
// form. Pure bookkeeping: no IPC, no locking (NodeService's compact mutex).
#ifndef ORRERY_SERVICES_NODE_COMPACT_RELAY_H
#define ORRERY_SERVICES_NODE_COMPACT_RELAY_H

#include <common/consensus/block.h>
#include <common/consensus/uint256.h>
#include <common/p2p/compact_blocks.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

namespace orrery::node {

//! One peer's compact block state.
struct CompactPeer {
    bool inbound{false};
    bool provides{false}; //!< it sent sendcmpct version 2 (Core's m_provides_cmpctblocks)
    bool hb_from{false};  //!< it asked us for high-bandwidth announcements (getpeerinfo's bip152_hb_from)
    bool hb_to{false};    //!< we asked it for them (getpeerinfo's bip152_hb_to)
    //! Compact blocks from it waiting for its blocktxn, by block hash.
    std::map<uint256, p2p::PartialBlock> partial;
};

//! A sendcmpct to send: `high_bandwidth` true to add the peer, false to demote it.
struct HighBandwidthChange {
    int64_t peer_id{0};
    bool high_bandwidth{false};
    bool operator==(const HighBandwidthChange&) const = default;
};

//! Core's MaybeSetPeerAsAnnouncingHeaderAndIDs: the last (at most) three peers that gave us a new block
//! first announce to us in high-bandwidth mode. A peer already chosen moves to the newest place; a new one
//! pushes out the oldest, except that an inbound peer never pushes out the last outbound one (a chosen set
//! of inbound peers alone could then keep blocks from us).
class HighBandwidthPeers
{
public:
    //! `peer_id` delivered a new valid block first: the sendcmpct messages to send (none when the peer does
    //! not provide compact blocks or is already chosen). Updates `peers`' hb_to.
    std::vector<HighBandwidthChange> Select(int64_t peer_id, std::map<int64_t, CompactPeer>& peers);
    void Remove(int64_t peer_id);
    const std::deque<int64_t>& Peers() const { return m_peers; }

private:
    std::deque<int64_t> m_peers; //!< oldest first
};

//! What NodeService keeps for compact blocks, guarded by its compact mutex.
struct CompactState {
    std::map<int64_t, CompactPeer> peers;
    HighBandwidthPeers high_bandwidth;
    //! The most recent tip announced, its block and compact form: served to high-bandwidth peers, to
    //! getdata MSG_CMPCT_BLOCK and to getblocktxn without reading the block files again.
    uint256 recent_hash;
    std::shared_ptr<const Block> recent_block;
    std::vector<uint8_t> recent_compact;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_COMPACT_RELAY_H
