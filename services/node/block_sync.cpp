// The block download scheduler; see block_sync.h.
#include <services/node/block_sync.h>

#include <algorithm>

namespace orrery::node {

std::optional<std::vector<uint256>> ParseHashList(std::span<const uint8_t> bytes, size_t max_count)
{
    if (bytes.size() % uint256::kSize != 0 || bytes.size() / uint256::kSize > max_count) return std::nullopt;
    std::vector<uint256> hashes;
    hashes.reserve(bytes.size() / uint256::kSize);
    for (size_t at = 0; at < bytes.size(); at += uint256::kSize) {
        hashes.push_back(*uint256::FromBytes(bytes.subspan(at, uint256::kSize)));
    }
    return hashes;
}

std::optional<std::vector<BlockHeader>> ParseHeaderList(std::span<const uint8_t> bytes, size_t max_count)
{
    if (bytes.size() % BlockHeader::kSize != 0 || bytes.size() / BlockHeader::kSize > max_count) return std::nullopt;
    std::vector<BlockHeader> headers;
    headers.reserve(bytes.size() / BlockHeader::kSize);
    for (size_t at = 0; at < bytes.size(); at += BlockHeader::kSize) {
        headers.push_back(DeserializeBlockHeader(bytes.subspan(at, BlockHeader::kSize)));
    }
    return headers;
}

std::vector<uint256> GetLocator(const BlockIndex* index)
{
    std::vector<uint256> locator;
    int step = 1;
    while (index) {
        locator.push_back(index->hash);
        if (index->height == 0) break;
        const int height = std::max(index->height - step, 0);
        index = index->GetAncestor(height);
        if (locator.size() > 10) step *= 2;
    }
    return locator;
}

void BlockSync::AddPeer(int64_t peer_id, bool preferred, bool can_serve)
{
    auto [it, added] = m_peers.try_emplace(peer_id);
    if (!added) return;
    it->second.preferred = preferred && can_serve;
    it->second.can_serve = can_serve;
    if (it->second.preferred) ++m_preferred_peers;
}

void BlockSync::RemovePeer(int64_t peer_id)
{
    for (auto it = m_in_flight.begin(); it != m_in_flight.end();) {
        it = it->second.peer_id == peer_id ? m_in_flight.erase(it) : std::next(it);
    }
    auto peer = m_peers.find(peer_id);
    if (peer == m_peers.end()) return;
    if (peer->second.sync_started) --m_sync_started;
    if (peer->second.preferred) --m_preferred_peers;
    m_peers.erase(peer);
}

bool BlockSync::StartHeadersSync(int64_t peer_id, int64_t best_header_time, int64_t now_us, int64_t target_spacing_s)
{
    auto it = m_peers.find(peer_id);
    if (it == m_peers.end()) return false;
    Peer& peer = it->second;
    if (peer.sync_started || !peer.can_serve) return false;
    // Core: preferred peers sync; another that serves blocks only while no preferred one exists or nothing is
    // being downloaded (an inbound peer may be our only source).
    const bool may_sync = peer.preferred || m_preferred_peers == 0 || m_in_flight.empty();
    const int64_t now_s = now_us / 1'000'000;
    const bool recent = best_header_time > now_s - HEADERS_SYNC_RECENT_S;
    if (!recent && !(m_sync_started == 0 && may_sync)) return false;
    peer.sync_started = true;
    ++m_sync_started;
    const int64_t expected_headers = std::max<int64_t>(0, now_s - best_header_time) / std::max<int64_t>(1, target_spacing_s);
    peer.headers_sync_timeout_us =
        now_us + HEADERS_DOWNLOAD_TIMEOUT_BASE_US + HEADERS_DOWNLOAD_TIMEOUT_PER_HEADER_US * expected_headers;
    return true;
}

bool BlockSync::HeadersSyncStarted(int64_t peer_id) const
{
    auto it = m_peers.find(peer_id);
    return it != m_peers.end() && it->second.sync_started;
}

std::vector<BlockSync::HeadersTimeout> BlockSync::CheckHeadersSyncTimeout(
    int64_t best_header_time, int64_t now_us, const std::function<bool(int64_t)>& noban)
{
    std::vector<HeadersTimeout> timeouts;
    const bool recent = best_header_time > now_us / 1'000'000 - HEADERS_SYNC_RECENT_S;
    for (auto& [id, peer] : m_peers) {
        if (!peer.sync_started || peer.headers_sync_timeout_us == INT64_MAX) continue;
        if (recent) {
            // Caught up once: this peer can no longer time out.
            peer.headers_sync_timeout_us = INT64_MAX;
            continue;
        }
        // Only the one sync peer, and only when another preferred peer could take over.
        if (now_us <= peer.headers_sync_timeout_us || m_sync_started != 1 ||
            m_preferred_peers - (peer.preferred ? 1 : 0) < 1) {
            continue;
        }
        if (noban(id)) {
            // Not dropped, but no longer the sync peer: another gets its chance.
            peer.sync_started = false;
            --m_sync_started;
            peer.headers_sync_timeout_us = 0;
            timeouts.push_back(
                {id, "Timeout downloading headers from noban peer=" + std::to_string(id) + ", not disconnecting", false});
        } else {
            timeouts.push_back(
                {id, "Timeout downloading headers from peer=" + std::to_string(id) + ", disconnecting", true});
        }
    }
    return timeouts;
}

void BlockSync::UpdateBestKnown(int64_t peer_id, const BlockIndex* index)
{
    auto it = m_peers.find(peer_id);
    if (it == m_peers.end() || !index) return;
    Peer& peer = it->second;
    if (!peer.best_known || index->chain_work >= peer.best_known->chain_work) peer.best_known = index;
    if (peer.unknown_best && *peer.unknown_best == index->hash) peer.unknown_best.reset();
}

void BlockSync::SetUnknownBest(int64_t peer_id, const uint256& hash)
{
    auto it = m_peers.find(peer_id);
    if (it != m_peers.end()) it->second.unknown_best = hash;
}

void BlockSync::ResolveUnknown(const std::function<const BlockIndex*(const uint256&)>& lookup)
{
    for (auto& [id, peer] : m_peers) {
        if (!peer.unknown_best) continue;
        if (const BlockIndex* index = lookup(*peer.unknown_best)) {
            peer.unknown_best.reset();
            if (!peer.best_known || index->chain_work >= peer.best_known->chain_work) peer.best_known = index;
        }
    }
}

bool BlockSync::PeerHas(int64_t peer_id, const BlockIndex* index) const
{
    auto it = m_peers.find(peer_id);
    if (it == m_peers.end() || !it->second.best_known || !index) return false;
    const BlockIndex* best = it->second.best_known;
    return best->height >= index->height && best->GetAncestor(index->height) == index;
}

void BlockSync::Forget(const uint256& hash)
{
    auto it = m_in_flight.find(hash);
    if (it == m_in_flight.end()) return;
    auto peer = m_peers.find(it->second.peer_id);
    if (peer != m_peers.end()) {
        peer->second.in_flight = std::max(0, peer->second.in_flight - 1);
        if (peer->second.in_flight == 0) peer->second.downloading_since.reset();
    }
    m_in_flight.erase(it);
}

std::optional<int64_t> BlockSync::InFlightFrom(const uint256& hash) const
{
    auto it = m_in_flight.find(hash);
    if (it == m_in_flight.end()) return std::nullopt;
    return it->second.peer_id;
}

bool BlockSync::MarkInFlight(int64_t peer_id, const BlockIndex* index, Clock::time_point now)
{
    auto peer = m_peers.find(peer_id);
    if (peer == m_peers.end() || !index) return false;
    if (auto flying = m_in_flight.find(index->hash); flying != m_in_flight.end()) {
        return flying->second.peer_id == peer_id;
    }
    if (peer->second.in_flight >= MAX_BLOCKS_IN_TRANSIT_PER_PEER) return false;
    m_in_flight[index->hash] = InFlight{peer_id, index, now};
    if (peer->second.in_flight++ == 0) peer->second.downloading_since = now;
    return true;
}

void BlockSync::CancelInFlight(int64_t peer_id, const uint256& hash)
{
    auto it = m_in_flight.find(hash);
    if (it != m_in_flight.end() && it->second.peer_id == peer_id) Forget(hash);
}

bool BlockSync::BlockReceived(int64_t peer_id, const uint256& hash, Clock::time_point now)
{
    auto it = m_in_flight.find(hash);
    const bool requested = it != m_in_flight.end() && it->second.peer_id == peer_id;
    Forget(hash);
    auto peer = m_peers.find(peer_id);
    if (peer != m_peers.end()) {
        peer->second.stalling_since.reset();
        // The download clock restarts with each block delivered (Core's m_downloading_since).
        if (peer->second.in_flight > 0) peer->second.downloading_since = now;
    }
    if (requested && m_stalling_timeout > BLOCK_STALLING_TIMEOUT_DEFAULT) {
        // Deliveries bring a stall timeout raised by past stalls back down, 15% at a time.
        m_stalling_timeout = std::max<std::chrono::milliseconds>(
            BLOCK_STALLING_TIMEOUT_DEFAULT,
            std::chrono::milliseconds{static_cast<int64_t>(m_stalling_timeout.count() * 0.85)});
    }
    return requested;
}

void BlockSync::FindNextBlocks(int64_t peer_id, Peer& peer, const ActiveChain& chain, int count,
                               std::vector<const BlockIndex*>& blocks, std::optional<int64_t>& staller)
{
    if (count <= 0) return;
    const BlockIndex* tip = chain.Tip();
    // Nothing to fetch from a peer whose best block has less work than ours.
    if (!peer.best_known || !tip || peer.best_known->chain_work < tip->chain_work) return;

    if (!peer.last_common) {
        // Start from our chain at its best block's height (or our tip), then step back to the fork below.
        peer.last_common = chain[std::min(peer.best_known->height, chain.Height())];
    }
    // Our chain or its may have moved since: step back to their common ancestor.
    peer.last_common = LastCommonAncestor(peer.last_common, peer.best_known);
    if (peer.last_common == peer.best_known) return;

    const int window_end = peer.last_common->height + BLOCK_DOWNLOAD_WINDOW;
    const int max_height = std::min(peer.best_known->height, window_end + 1);
    const BlockIndex* walk = peer.last_common;
    std::optional<int64_t> waiting_for;
    std::vector<const BlockIndex*> batch;
    while (walk->height < max_height) {
        // A batch of ancestors at a time: GetAncestor from the best block is O(log n) each way.
        const int batch_size = std::min(max_height - walk->height, std::max(count - int(blocks.size()), 128));
        batch.resize(size_t(batch_size));
        walk = peer.best_known->GetAncestor(walk->height + batch_size);
        const BlockIndex* fill = walk;
        for (int i = batch_size - 1; i >= 0; --i) {
            batch[size_t(i)] = fill;
            fill = fill->prev;
        }
        for (const BlockIndex* index : batch) {
            if (!index->IsValid(BLOCK_VALID_TREE)) return; // an invalid branch: nothing more here
            if (index->HaveData() || chain.Contains(index)) {
                if (index->chain_tx > 0) peer.last_common = index;
            } else if (auto flying = m_in_flight.find(index->hash); flying != m_in_flight.end()) {
                if (!waiting_for) waiting_for = flying->second.peer_id;
            } else {
                if (index->height > window_end) {
                    // The window is full: whoever holds its first block stalls everyone.
                    if (blocks.empty() && waiting_for && *waiting_for != peer_id) staller = waiting_for;
                    return;
                }
                blocks.push_back(index);
                if (int(blocks.size()) == count) return;
            }
        }
    }
}

std::map<int64_t, std::vector<uint256>> BlockSync::Schedule(const ActiveChain& chain, Clock::time_point now)
{
    std::map<int64_t, std::vector<uint256>> requests;
    for (auto& [id, peer] : m_peers) {
        if (peer.in_flight >= MAX_BLOCKS_IN_TRANSIT_PER_PEER) continue;
        std::vector<const BlockIndex*> blocks;
        std::optional<int64_t> staller;
        FindNextBlocks(id, peer, chain, MAX_BLOCKS_IN_TRANSIT_PER_PEER - peer.in_flight, blocks, staller);
        for (const BlockIndex* index : blocks) {
            m_in_flight[index->hash] = InFlight{id, index, now};
            if (peer.in_flight++ == 0) peer.downloading_since = now;
            requests[id].push_back(index->hash);
        }
        if (peer.in_flight == 0 && staller) {
            auto stalling = m_peers.find(*staller);
            if (stalling != m_peers.end() && !stalling->second.stalling_since) stalling->second.stalling_since = now;
        }
    }
    return requests;
}

std::vector<std::pair<int64_t, std::string>> BlockSync::CheckTimeouts(Clock::time_point now)
{
    std::vector<std::pair<int64_t, std::string>> drop;
    const auto downloading =
        std::count_if(m_peers.begin(), m_peers.end(), [](const auto& p) { return p.second.in_flight > 0; });
    for (const auto& [id, peer] : m_peers) {
        if (peer.stalling_since && now - *peer.stalling_since > m_stalling_timeout) {
            drop.emplace_back(id, "Peer=" + std::to_string(id) + " is stalling block download, disconnecting");
            // So that a slow link of our own does not cost us one peer after another.
            m_stalling_timeout =
                std::min<std::chrono::milliseconds>(2 * m_stalling_timeout, BLOCK_STALLING_TIMEOUT_MAX);
            continue;
        }
        if (peer.in_flight > 0 && peer.downloading_since) {
            const double intervals = BLOCK_DOWNLOAD_TIMEOUT_BASE +
                                     BLOCK_DOWNLOAD_TIMEOUT_PER_PEER * double(std::max<int64_t>(downloading - 1, 0));
            const auto limit = std::chrono::duration_cast<Clock::duration>(m_block_interval * intervals);
            if (now > *peer.downloading_since + limit) {
                const InFlight* oldest = nullptr;
                for (const auto& [hash, flying] : m_in_flight) {
                    if (flying.peer_id == id && (!oldest || flying.requested < oldest->requested)) oldest = &flying;
                }
                drop.emplace_back(id, "Timeout downloading block " + (oldest ? oldest->index->hash.GetHex() : "?") +
                                          " from peer=" + std::to_string(id) + ", disconnecting");
            }
        }
    }
    return drop;
}

std::optional<BlockSync::PeerStats> BlockSync::Stats(int64_t peer_id) const
{
    auto it = m_peers.find(peer_id);
    if (it == m_peers.end()) return std::nullopt;
    PeerStats stats;
    stats.synced_headers = it->second.best_known ? it->second.best_known->height : -1;
    stats.synced_blocks = it->second.last_common ? it->second.last_common->height : -1;
    for (const auto& [hash, flying] : m_in_flight) {
        if (flying.peer_id == peer_id) stats.inflight.push_back(flying.index->height);
    }
    std::sort(stats.inflight.begin(), stats.inflight.end());
    return stats;
}

} // namespace orrery::node
