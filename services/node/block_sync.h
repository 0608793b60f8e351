// The node's block download scheduler (Core's FindNextBlocksToDownload and
// the stall and timeout rules of its SendMessages): which block to ask from
// which peer, what each peer is known to have, and which peer to drop for
// stalling the download. Pure bookkeeping over the block tree: no IPC and no
// locking of its own; the caller holds the chainstate's lock and its own
// mutex and passes the time. See doc/sync.md.
#ifndef ORRERY_SERVICES_NODE_BLOCK_SYNC_H
#define ORRERY_SERVICES_NODE_BLOCK_SYNC_H

#include <common/consensus/uint256.h>
#include <services/node/validation/block_index.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace orrery::node {

//! Core's figures (net_processing.cpp).
inline constexpr int MAX_BLOCKS_IN_TRANSIT_PER_PEER = 16;
inline constexpr int BLOCK_DOWNLOAD_WINDOW = 1024;
inline constexpr std::chrono::seconds BLOCK_STALLING_TIMEOUT_DEFAULT{2};
inline constexpr std::chrono::seconds BLOCK_STALLING_TIMEOUT_MAX{64};
//! A block in flight for longer than (base + per other downloading peer) block intervals drops its peer.
inline constexpr double BLOCK_DOWNLOAD_TIMEOUT_BASE = 1.0;
inline constexpr double BLOCK_DOWNLOAD_TIMEOUT_PER_PEER = 0.5;
//! Headers per getheaders answer (MAX_HEADERS_RESULTS) and hashes per getblocks answer.
inline constexpr size_t MAX_HEADERS_RESULTS = 2000;
inline constexpr size_t MAX_GETBLOCKS_RESULTS = 500;
//! Hashes in a getheaders/getblocks locator (Core's MAX_LOCATOR_SZ).
inline constexpr size_t MAX_LOCATOR_SIZE = 101;
//! Core's headers-sync timeout: a sync peer has 15 minutes plus 1 ms per header expected between our best
//! header and now to bring our best header within a day of now.
inline constexpr int64_t HEADERS_DOWNLOAD_TIMEOUT_BASE_US = 15 * 60 * 1'000'000LL;
inline constexpr int64_t HEADERS_DOWNLOAD_TIMEOUT_PER_HEADER_US = 1'000;
//! A best header younger than this ends the one-sync-peer rule (Core: 24 hours).
inline constexpr int64_t HEADERS_SYNC_RECENT_S = 24 * 60 * 60;

//! What an agent hands the node, parsed again (the node trusts no agent). Hashes: 32 bytes each;
//! headers: 80 bytes each, at most `max_count`. nullopt when the length is not whole entries or too many.
std::optional<std::vector<uint256>> ParseHashList(std::span<const uint8_t> bytes, size_t max_count);
std::optional<std::vector<BlockHeader>> ParseHeaderList(std::span<const uint8_t> bytes, size_t max_count);

//! Core's block locator of `index`: the last ten blocks, then steps doubling back to genesis.
std::vector<uint256> GetLocator(const BlockIndex* index);

class BlockSync
{
public:
    using Clock = std::chrono::steady_clock;

    //! `block_interval`: the network's target spacing (download timeouts are counted in it).
    explicit BlockSync(std::chrono::seconds block_interval) : m_block_interval(block_interval) {}

    //! `preferred`: Core's fPreferredDownload (outbound or noban, not an addr-fetch link, and serving
    //! blocks); `can_serve`: the peer offers NODE_NETWORK or NODE_NETWORK_LIMITED and is no addr-fetch link.
    void AddPeer(int64_t peer_id, bool preferred = false, bool can_serve = true);
    //! Forgets the peer; its blocks in flight become free for the others.
    void RemovePeer(int64_t peer_id);
    bool HasPeer(int64_t peer_id) const { return m_peers.count(peer_id) > 0; }
    std::vector<int64_t> PeerIds() const
    {
        std::vector<int64_t> ids;
        for (const auto& [id, peer] : m_peers) ids.push_back(id);
        return ids;
    }

    //! The peer has `index` (it sent or announced it, or its header): its best known block moves up
    //! if `index` has more work.
    void UpdateBestKnown(int64_t peer_id, const BlockIndex* index);
    //! The peer announced a block we have no header for yet; resolved by ResolveUnknown once it arrives.
    void SetUnknownBest(int64_t peer_id, const uint256& hash);
    //! Turns announced unknown hashes into best known blocks where the tree now has them.
    void ResolveUnknown(const std::function<const BlockIndex*(const uint256&)>& lookup);
    //! Whether the peer already has `index` (its best known block descends from it).
    bool PeerHas(int64_t peer_id, const BlockIndex* index) const;

    //! A block arrived from `peer_id`: it leaves the in-flight set (whoever it was asked from) and the
    //! peer is no longer stalling. Returns whether it was asked from this peer.
    bool BlockReceived(int64_t peer_id, const uint256& hash, Clock::time_point now);
    //! Whether `hash` is asked from some peer.
    bool IsInFlight(const uint256& hash) const { return m_in_flight.count(hash) > 0; }
    //! The peer `hash` is asked from, if any.
    std::optional<int64_t> InFlightFrom(const uint256& hash) const;
    //! Blocks asked from all peers together.
    size_t InFlightCount() const { return m_in_flight.size(); }
    //! A compact block from `peer_id` is being completed (BIP152): `index` counts as asked from it. False
    //! when the block is asked from another peer or this one has MAX_BLOCKS_IN_TRANSIT_PER_PEER out.
    bool MarkInFlight(int64_t peer_id, const BlockIndex* index, Clock::time_point now);
    //! Forgets that `hash` is asked from `peer_id` (a compact block that failed), if it is.
    void CancelInFlight(int64_t peer_id, const uint256& hash);

    //! Core's FindNextBlocksToDownload for every peer with room: the blocks to ask each for, marked in
    //! flight at `now`. Starts a stall timer on the peer that holds the download window's first block
    //! while another peer could not get anything else. `chain` is the active chain.
    std::map<int64_t, std::vector<uint256>> Schedule(const ActiveChain& chain, Clock::time_point now);

    //! Peers to drop now, with Core's reasons: a staller past the stall timeout (the timeout then
    //! doubles, up to 64 s), and a peer whose oldest block has been in flight past the download timeout.
    std::vector<std::pair<int64_t, std::string>> CheckTimeouts(Clock::time_point now);

    // Headers sync (Core's SendMessages "Start block sync" and its headers-sync timeout). Times are unix
    // time: seconds for header times, microseconds for now (the mockable clock).
    //! Whether to send `peer_id` its initial getheaders now. During initial sync (our best header older than
    //! a day) only one peer syncs headers at a time: a preferred one, or any that serves blocks while no
    //! preferred peer exists or no block is being downloaded. Once the best header is recent, every peer
    //! starts. When it returns true the peer counts as syncing, with Core's timeout: 15 minutes plus 1 ms per
    //! block interval between the best header and now.
    bool StartHeadersSync(int64_t peer_id, int64_t best_header_time, int64_t now_us, int64_t target_spacing_s);
    //! Whether `peer_id` was sent its initial getheaders.
    bool HeadersSyncStarted(int64_t peer_id) const;
    //! Peers whose headers-sync timeout passed while our best header is still a day old, if each is the one
    //! sync peer and another preferred peer could take over: those to drop, with Core's reason. A noban peer
    //! (`noban` true) is not dropped: it stops counting as syncing, so another peer is tried.
    struct HeadersTimeout {
        int64_t peer_id{0};
        std::string reason; //!< Core's log line
        bool disconnect{false};
    };
    std::vector<HeadersTimeout> CheckHeadersSyncTimeout(int64_t best_header_time, int64_t now_us,
                                                        const std::function<bool(int64_t)>& noban);

    //! getpeerinfo's figures: heights of the best known and last common blocks (-1: none) and the
    //! heights of the blocks in flight.
    struct PeerStats {
        int synced_headers{-1};
        int synced_blocks{-1};
        std::vector<int> inflight;
    };
    std::optional<PeerStats> Stats(int64_t peer_id) const;
    std::chrono::milliseconds StallingTimeout() const { return m_stalling_timeout; }

private:
    struct InFlight {
        int64_t peer_id{0};
        const BlockIndex* index{nullptr};
        Clock::time_point requested;
    };
    struct Peer {
        const BlockIndex* best_known{nullptr};
        const BlockIndex* last_common{nullptr};
        std::optional<uint256> unknown_best;
        int in_flight{0};
        std::optional<Clock::time_point> downloading_since; //!< since when its oldest block is in flight
        std::optional<Clock::time_point> stalling_since;
        bool preferred{false};
        bool can_serve{true};
        bool sync_started{false};
        int64_t headers_sync_timeout_us{0}; //!< INT64_MAX once our headers caught up
    };
    //! Core's FindNextBlocksToDownload for one peer.
    void FindNextBlocks(int64_t peer_id, Peer& peer, const ActiveChain& chain, int count,
                        std::vector<const BlockIndex*>& blocks, std::optional<int64_t>& staller);
    void Forget(const uint256& hash);

    std::chrono::seconds m_block_interval;
    std::chrono::milliseconds m_stalling_timeout{BLOCK_STALLING_TIMEOUT_DEFAULT};
    std::map<int64_t, Peer> m_peers;
    std::map<uint256, InFlight> m_in_flight;
    int m_sync_started{0};         //!< Core's nSyncStarted
    int m_preferred_peers{0};      //!< Core's m_num_preferred_download_peers
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_BLOCK_SYNC_H
