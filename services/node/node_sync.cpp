// The node's half of block sync (doc/sync.md): what agents report (headers,
// blocks, announcements), what their peers ask for (getheaders, getblocks,
// getdata), the download scheduler's rounds, and announcements of new tips.
// Everything an agent hands over is parsed and validated again here.
#include <services/node/node.h>

#include <common/interfaces/peer_host_ipc.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>
#include <common/util/net_permissions.h>

#include <algorithm>

namespace orrery::node {
namespace {

//! 32-byte hashes back to back; throws for any other length (the agent broke the contract).
std::vector<uint256> ParseHashes(const std::vector<uint8_t>& bytes, const char* what, size_t max_count = 50000)
{
    auto hashes = ParseHashList(bytes, max_count);
    if (!hashes) {
        throw std::runtime_error(std::string(what) + ": " + std::to_string(bytes.size()) +
                                 " bytes are not whole 32-byte hashes, or too many");
    }
    return *hashes;
}

std::vector<uint8_t> HashBytes(const std::vector<uint256>& hashes)
{
    std::vector<uint8_t> out;
    out.reserve(hashes.size() * uint256::kSize);
    for (const auto& hash : hashes) out.insert(out.end(), hash.data(), hash.data() + uint256::kSize);
    return out;
}

void AppendHeader(std::vector<uint8_t>& out, const BlockHeader& header)
{
    auto bytes = SerializeBlockHeader(header);
    out.insert(out.end(), bytes.begin(), bytes.end());
}

//! Core's FindForkInGlobalIndex: the first locator entry on the active chain (or whose descendant the
//! tip is); genesis when none is.
const BlockIndex* FindFork(const ChainstateManager& chainstate, const std::vector<uint256>& locator)
{
    const ActiveChain& chain = chainstate.Chain();
    for (const auto& hash : locator) {
        const BlockIndex* index = chainstate.LookupBlockIndex(hash);
        if (!index) continue;
        if (chain.Contains(index)) return index;
        if (index->GetAncestor(chain.Height()) == chain.Tip()) return chain.Tip();
    }
    return chain.Genesis();
}

//! Hears new tips for announcements; the node outlives it (unregistered in Stop).
class TipAnnouncer final : public ValidationListener
{
public:
    explicit TipAnnouncer(NodeService& node) : m_node(node) {}
    void UpdatedBlockTip(const BlockIndex* tip, const BlockIndex* fork, bool ibd) override
    {
        if (!ibd && tip) m_node.AnnounceTip(tip, fork);
    }

private:
    NodeService& m_node;
};

} // namespace

std::shared_ptr<ValidationListener> MakeTipAnnouncer(NodeService& node)
{
    return std::make_shared<TipAnnouncer>(node);
}

// ---------------------------------------------------------------- talking to agents

template <typename... A> void NodeService::CallAgent(int64_t peer_id, std::string_view method, const A&... args)
{
    std::shared_ptr<ipc::Connection> connection;
    {
        std::lock_guard lock(m_mutex);
        auto link = m_agents.find(peer_id);
        if (link == m_agents.end()) return;
        connection = link->second.connection;
    }
    // Asynchronous: the node never waits for an agent, so a stuck or hostile one holds no node thread.
    connection->CallAsync(
        method,
        [peer_id, name = std::string(method)](std::unique_ptr<ipc::Envelope>, const ipc::Error* error) {
            if (error) LogDebug(LogCategory::NET, "{} to peer={} failed: {}", name, peer_id, error->what());
        },
        args...);
}

// Transaction relay's calls (node_relay.cpp) use the same path.
template void NodeService::CallAgent(int64_t, std::string_view, const std::vector<uint8_t>&, const bool&);
template void NodeService::CallAgent(int64_t, std::string_view, const Amount&);
// Compact blocks (node_compact.cpp): sendCompactBlockMode.
template void NodeService::CallAgent(int64_t, std::string_view, const bool&);
// The calls net_connections.cpp makes (requestAddresses; sendAddresses takes bytes, as requestBlocks).
template void NodeService::CallAgent<>(int64_t, std::string_view);
template void NodeService::CallAgent<std::vector<uint8_t>>(int64_t, std::string_view, const std::vector<uint8_t>&);

void NodeService::SendGetHeaders(int64_t peer_id, const BlockIndex* from)
{
    std::vector<uint256> locator;
    {
        auto chain_lock = m_chainstate->Lock();
        locator = GetLocator(from);
    }
    LogDebug(LogCategory::NET, "getheaders ({}) to peer={}", from ? from->height : -1, peer_id);
    CallAgent(peer_id, "agent.requestHeaders", HashBytes(locator));
}

bool NodeService::Misbehaving(int64_t peer_id, const std::string& reason)
{
    std::optional<PeerEntry> entry;
    bool local = false;
    {
        std::lock_guard lock(m_mutex);
        entry = m_peers.Find(peer_id);
        if (!entry) return true;
        // As Core: a peer the operator asked for (manual, noban) is warned about, not dropped.
        if (entry->connection_type == "manual" || HasPermission(entry->permissions, PF_NOBAN)) {
            LogPrintf("Misbehaving: peer={}: {} (not punishing the manually connected or noban peer)", peer_id, reason);
            return false;
        }
        // Core 28: any misbehaviour discourages at once, but a local peer (maybe a proxy for many) is only dropped.
        auto address = p2p::ParsePeerAddress(entry->address);
        local = address && address->IsLocal();
        if (!local) m_peers.Discourage(entry->address);
        QueueDisconnect(peer_id, "misbehaving: " + reason);
    }
    if (local) {
        LogPrintf("Misbehaving: peer={}: {}; disconnecting but not discouraging local peer", peer_id, reason);
    } else {
        LogPrintf("Misbehaving: peer={}: {}; disconnecting and discouraging", peer_id, reason);
    }
    SyncPeerGone(peer_id);
    Wake();
    return true;
}

void NodeService::SyncPeerGone(int64_t peer_id)
{
    {
        std::lock_guard lock(m_sync_mutex);
        if (!m_sync.HasPeer(peer_id)) return;
        m_sync.RemovePeer(peer_id);
        m_hash_continue.erase(peer_id);
    }
    CompactPeerGone(peer_id);
    // Its blocks in flight go to the others at once.
    ScheduleDownloads();
}

void NodeService::StartSync(int64_t peer_id, const PeerEntry& entry, const interfaces::PeerVersion& version)
{
    constexpr uint64_t NODE_NETWORK = 1, NODE_NETWORK_LIMITED = 1 << 10;
    // Core's fPreferredDownload and CanServeBlocks.
    const bool can_serve =
        (version.services & (NODE_NETWORK | NODE_NETWORK_LIMITED)) != 0 && entry.connection_type != "addr-fetch";
    const bool preferred = !entry.inbound || HasPermission(entry.permissions, PF_NOBAN);
    {
        std::lock_guard lock(m_sync_mutex);
        m_sync.AddPeer(peer_id, preferred, can_serve);
    }
    StartHeadersSync(peer_id);
}

void NodeService::StartHeadersSync(std::optional<int64_t> only)
{
    std::vector<std::pair<int64_t, const BlockIndex*>> start;
    {
        auto chain_lock = m_chainstate->Lock();
        const BlockIndex* best = m_chainstate->BestHeader();
        if (!best) return;
        const int64_t now_us = GetTimeMicros();
        std::lock_guard lock(m_sync_mutex);
        for (int64_t id : m_sync.PeerIds()) {
            if (only && id != *only) continue;
            if (m_sync.StartHeadersSync(id, best->GetBlockTime(), now_us, m_params.consensus.pow_target_spacing)) {
                start.emplace_back(id, best);
            }
        }
    }
    for (const auto& [id, best] : start) {
        LogDebug(LogCategory::NET, "initial getheaders ({}) to peer={}", best->height, id);
        // From the best header's parent, as Core: the answer then holds at least one header, which tells
        // us where the peer is even when it has nothing new.
        SendGetHeaders(id, best->prev ? best->prev : best);
    }
}

void NodeService::ScheduleDownloads()
{
    if (!m_chainstate_loaded) return;
    std::map<int64_t, std::vector<uint256>> requests;
    std::optional<std::pair<int64_t, uint256>> compact;
    {
        auto chain_lock = m_chainstate->Lock();
        std::lock_guard lock(m_sync_mutex);
        m_sync.ResolveUnknown([this](const uint256& hash) { return m_chainstate->LookupBlockIndex(hash); });
        requests = m_sync.Schedule(m_chainstate->Chain(), std::chrono::steady_clock::now());
        // BIP152 low-bandwidth mode, as Core's HeadersDirectFetchBlocks: the one block being fetched, the child
        // of our tip, outside initial block download, is asked as a compact block.
        if (requests.size() == 1 && requests.begin()->second.size() == 1 && m_sync.InFlightCount() == 1 &&
            !m_chainstate->IsInitialBlockDownload()) {
            const BlockIndex* index = m_chainstate->LookupBlockIndex(requests.begin()->second[0]);
            if (index && index->prev == m_chainstate->Tip()) compact.emplace(requests.begin()->first, index->hash);
        }
    }
    if (compact && WantsCompactBlocks(compact->first)) {
        LogDebug(LogCategory::NET, "getdata of compact block {} to peer={}", compact->second.GetHex(), compact->first);
        CallAgent(compact->first, "agent.requestCompactBlock", HashBytes({compact->second}));
        return;
    }
    for (const auto& [peer_id, hashes] : requests) {
        LogDebug(LogCategory::NET, "getdata of {} blocks to peer={}", hashes.size(), peer_id);
        CallAgent(peer_id, "agent.requestBlocks", HashBytes(hashes));
    }
}

void NodeService::SyncTick()
{
    if (!m_chainstate_loaded) return;
    std::vector<int64_t> gone;
    std::vector<std::pair<int64_t, std::string>> drop;
    std::chrono::milliseconds stalling_timeout{0};
    {
        std::lock_guard lock(m_mutex);
        std::lock_guard sync_lock(m_sync_mutex);
        drop = m_sync.CheckTimeouts(std::chrono::steady_clock::now());
        // Core's headers-sync timeout (the best header is read under the sync mutex's order: chain lock first
        // would invert m_mutex; a header pointer stays valid for the node's life).
        for (auto& timeout : m_sync.CheckHeadersSyncTimeout(m_best_header_time.load(), GetTimeMicros(), [&](int64_t id) {
                 auto entry = m_peers.Find(id);
                 return entry && HasPermission(entry->permissions, PF_NOBAN);
             })) {
            if (timeout.disconnect) {
                drop.emplace_back(timeout.peer_id, timeout.reason);
            } else {
                LogPrintf("{}", timeout.reason);
            }
        }
        stalling_timeout = m_sync.StallingTimeout();
        for (const auto& [peer_id, reason] : drop) {
            QueueDisconnect(peer_id, reason);
            m_sync.RemovePeer(peer_id);
        }
        for (int64_t id : m_sync.PeerIds()) {
            if (!m_agents.count(id)) gone.push_back(id);
        }
        for (int64_t id : gone) {
            m_sync.RemovePeer(id);
            m_hash_continue.erase(id);
        }
    }
    for (const auto& [peer_id, reason] : drop) {
        LogPrintf("{}", reason);
        CompactPeerGone(peer_id);
    }
    for (int64_t id : gone) CompactPeerGone(id);
    if (!drop.empty()) {
        LogPrintf("Block stalling timeout is now {} s", std::chrono::duration<double>(stalling_timeout).count());
    }
    {
        auto chain_lock = m_chainstate->Lock();
        if (const BlockIndex* best = m_chainstate->BestHeader()) m_best_header_time = best->GetBlockTime();
    }
    StartHeadersSync(); // peers left waiting by the one-sync-peer rule
    ScheduleDownloads();
    if (!drop.empty()) SendQueuedDisconnects();
}

std::optional<BlockSync::PeerStats> NodeService::SyncStats(int64_t peer_id)
{
    if (!m_chainstate_loaded) return std::nullopt;
    auto chain_lock = m_chainstate->Lock();
    std::lock_guard lock(m_sync_mutex);
    return m_sync.Stats(peer_id);
}

void NodeService::AnnounceTip(const BlockIndex* tip, const BlockIndex* fork)
{
    std::vector<uint8_t> headers;
    std::vector<int64_t> peers;
    bool one_block = false;
    {
        auto chain_lock = m_chainstate->Lock();
        // The new blocks, oldest first; more than MAX_BLOCKS_TO_ANNOUNCE make the agent announce by inv.
        std::vector<const BlockIndex*> fresh;
        for (const BlockIndex* walk = tip; walk && walk != fork && fresh.size() <= 8; walk = walk->prev) {
            fresh.push_back(walk);
        }
        for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) AppendHeader(headers, (*it)->header);
        std::lock_guard lock(m_sync_mutex);
        for (int64_t id : m_sync.PeerIds()) {
            if (!m_sync.PeerHas(id, tip)) peers.push_back(id);
        }
        one_block = fresh.size() == 1;
    }
    // BIP152 high-bandwidth mode: one new block goes as a cmpctblock, unasked, to the peers that want that.
    const std::set<int64_t> high_bandwidth = one_block ? HighBandwidthListeners() : std::set<int64_t>{};
    std::vector<uint8_t> compact;
    if (!high_bandwidth.empty()) {
        try {
            compact = CompactTip(tip);
        } catch (const std::exception& e) {
            LogPrintf("Cannot read the new tip {} for compact announcements: {}", tip->hash.GetHex(), e.what());
        }
    }
    for (int64_t id : peers) {
        if (!compact.empty() && high_bandwidth.count(id)) {
            LogDebug(LogCategory::NET, "sending header-and-ids {} to peer={}", tip->hash.GetHex(), id);
            CallAgent(id, "agent.sendCompactBlock", compact);
        } else {
            CallAgent(id, "agent.announceBlocks", headers);
        }
    }
}

// ---------------------------------------------------------------- PeerHost: what agents report

void NodeService::headersReceived(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    if (!m_chainstate_loaded) return;
    auto parsed = ParseHeaderList(bytes, MAX_HEADERS_RESULTS);
    if (!parsed) {
        Misbehaving(peer_id, "headers message size = " + std::to_string(bytes.size() / BlockHeader::kSize));
        return;
    }
    std::vector<BlockHeader> headers = std::move(*parsed);
    if (headers.empty()) return; // the peer has nothing after our locator
    for (size_t i = 1; i < headers.size(); ++i) {
        if (headers[i].prev_block != headers[i - 1].GetHash()) {
            Misbehaving(peer_id, "non-continuous headers sequence");
            return;
        }
    }
    const BlockIndex* best_header = nullptr;
    {
        auto chain_lock = m_chainstate->Lock();
        if (!m_chainstate->LookupBlockIndex(headers.front().prev_block)) {
            // Core's HandleUnconnectingHeaders: fill the gap with a getheaders, no penalty.
            best_header = m_chainstate->BestHeader();
        }
    }
    if (best_header) {
        LogDebug(LogCategory::NET, "received {} headers that do not connect from peer={}, asking for the gap",
                 headers.size(), peer_id);
        {
            std::lock_guard lock(m_sync_mutex);
            m_sync.SetUnknownBest(peer_id, headers.back().GetHash());
        }
        SendGetHeaders(peer_id, best_header);
        return;
    }
    ValidationState state;
    const bool valid = m_chainstate->ProcessNewBlockHeaders(headers, state);
    const BlockIndex* last = nullptr;
    {
        auto chain_lock = m_chainstate->Lock();
        // The headers before an invalid one were accepted: the peer has those.
        for (auto it = headers.rbegin(); it != headers.rend() && !last; ++it) {
            const BlockIndex* index = m_chainstate->LookupBlockIndex(it->GetHash());
            if (index && index->IsValid(BLOCK_VALID_TREE)) last = index;
        }
        std::lock_guard lock(m_sync_mutex);
        m_sync.UpdateBestKnown(peer_id, last);
    }
    if (!valid) {
        if (state.GetFailure() == BlockFailure::TIME_FUTURE) {
            LogDebug(LogCategory::NET, "headers from peer={} too far in the future: {}", peer_id, state.ToString());
        } else {
            Misbehaving(peer_id, "invalid header received: " + state.ToString());
        }
        return;
    }
    LogDebug(LogCategory::NET, "{} headers from peer={}, last at height {}", headers.size(), peer_id,
             last ? last->height : -1);
    // A full message: the peer has more.
    if (headers.size() == MAX_HEADERS_RESULTS) SendGetHeaders(peer_id, last);
    ScheduleDownloads();
}

void NodeService::blockReceived(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    if (!m_chainstate_loaded) return;
    auto block = std::make_shared<Block>();
    try {
        *block = DeserializeBlock(bytes);
    } catch (const std::exception& e) {
        Misbehaving(peer_id, std::string("malformed block: ") + e.what());
        return;
    }
    const uint256 hash = block->GetHash();
    bool requested = false;
    {
        std::lock_guard lock(m_sync_mutex);
        requested = m_sync.BlockReceived(peer_id, hash, std::chrono::steady_clock::now());
    }
    BlockSubmitResult result = m_chainstate->ProcessNewBlock(block, requested);
    {
        auto chain_lock = m_chainstate->Lock();
        std::lock_guard lock(m_sync_mutex);
        m_sync.UpdateBestKnown(peer_id, m_chainstate->LookupBlockIndex(hash));
    }
    const std::string& reason = result.reject_reason;
    if (!result.accepted && reason != "time-too-new") {
        Misbehaving(peer_id, "invalid block " + hash.GetHex() + ": " + reason +
                                 (result.debug_message.empty() ? "" : ", " + result.debug_message));
    } else {
        LogDebug(LogCategory::NET, "block {} from peer={}{}{}", hash.GetHex(), peer_id, reason.empty() ? "" : ": ",
                 reason);
    }
    MaybeSelectHighBandwidth(peer_id, hash, result);
    ScheduleDownloads();
}

void NodeService::blocksAnnounced(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    if (!m_chainstate_loaded) return;
    const std::vector<uint256> hashes = ParseHashes(bytes, "announced blocks");
    std::optional<uint256> unknown;
    const BlockIndex* best_header = nullptr;
    {
        auto chain_lock = m_chainstate->Lock();
        std::lock_guard lock(m_sync_mutex);
        for (const auto& hash : hashes) {
            if (const BlockIndex* index = m_chainstate->LookupBlockIndex(hash)) {
                m_sync.UpdateBestKnown(peer_id, index);
            } else {
                unknown = hash;
                m_sync.SetUnknownBest(peer_id, hash);
            }
        }
        best_header = m_chainstate->BestHeader();
    }
    // As Core: the headers of an unknown block come first, by getheaders from our best header.
    if (unknown) SendGetHeaders(peer_id, best_header);
    ScheduleDownloads();
}

// ---------------------------------------------------------------- PeerHost: what peers ask for

std::optional<std::vector<uint8_t>> NodeService::getHeaders(int64_t peer_id, std::vector<uint8_t> locator_bytes,
                                                            std::vector<uint8_t> stop_bytes)
{
    RequireOwnPeer(peer_id);
    const std::vector<uint256> locator = ParseHashes(locator_bytes, "locator", MAX_LOCATOR_SIZE);
    const std::vector<uint256> stop = ParseHashes(stop_bytes, "stop hash", 1);
    if (stop.size() != 1) throw std::runtime_error("one stop hash expected");
    if (!m_chainstate_loaded) return std::nullopt;
    std::optional<PeerEntry> entry;
    {
        std::lock_guard lock(m_mutex);
        entry = m_peers.Find(peer_id);
    }
    {
        // Core answers nobody during initial block download but peers with the download permission.
        if (m_chainstate->IsInitialBlockDownload() && !(entry && HasPermission(entry->permissions, PF_DOWNLOAD))) {
            LogDebug(LogCategory::NET, "Ignoring getheaders from peer={} because node is in initial block download",
                     peer_id);
            return std::nullopt;
        }
    }
    std::vector<uint8_t> out;
    auto chain_lock = m_chainstate->Lock();
    const ActiveChain& chain = m_chainstate->Chain();
    const BlockIndex* index = nullptr;
    if (locator.empty()) {
        // Only the stop block's header, if we have it on a chain we would serve.
        index = m_chainstate->LookupBlockIndex(stop[0]);
        if (!index || !(chain.Contains(index) || index->IsValid(BLOCK_VALID_SCRIPTS))) return out;
        AppendHeader(out, index->header);
        return out;
    }
    index = FindFork(*m_chainstate, locator);
    if (index) index = chain.Next(index);
    for (size_t count = 0; index && count < MAX_HEADERS_RESULTS; ++count, index = chain.Next(index)) {
        AppendHeader(out, index->header);
        if (index->hash == stop[0]) break;
    }
    return out;
}

std::vector<uint8_t> NodeService::getBlocks(int64_t peer_id, std::vector<uint8_t> locator_bytes,
                                            std::vector<uint8_t> stop_bytes)
{
    RequireOwnPeer(peer_id);
    const std::vector<uint256> locator = ParseHashes(locator_bytes, "locator", MAX_LOCATOR_SIZE);
    const std::vector<uint256> stop = ParseHashes(stop_bytes, "stop hash", 1);
    if (stop.size() != 1) throw std::runtime_error("one stop hash expected");
    std::vector<uint256> hashes;
    if (!m_chainstate_loaded) return {};
    auto chain_lock = m_chainstate->Lock();
    const ActiveChain& chain = m_chainstate->Chain();
    const BlockIndex* index = FindFork(*m_chainstate, locator);
    if (index) index = chain.Next(index);
    for (; index && hashes.size() < MAX_GETBLOCKS_RESULTS; index = chain.Next(index)) {
        if (index->hash == stop[0]) break;
        if (!index->HaveData()) break; // pruned: a peer cannot fetch it from us
        hashes.push_back(index->hash);
    }
    if (hashes.size() == MAX_GETBLOCKS_RESULTS) {
        // Core's hashContinue: when the peer fetches the last of these, it gets an inv of our tip, which
        // makes it send the next getblocks.
        std::lock_guard lock(m_sync_mutex);
        m_hash_continue[peer_id] = hashes.back();
    }
    return HashBytes(hashes);
}

std::optional<std::vector<uint8_t>> NodeService::getBlock(int64_t peer_id, std::vector<uint8_t> hash_bytes,
                                                          bool witness)
{
    RequireOwnPeer(peer_id);
    const std::vector<uint256> hash = ParseHashes(hash_bytes, "block hash");
    if (hash.size() != 1) throw std::runtime_error("one block hash expected");
    if (!m_chainstate_loaded) return std::nullopt;
    const BlockIndex* index = nullptr;
    {
        auto chain_lock = m_chainstate->Lock();
        index = m_chainstate->LookupBlockIndex(hash[0]);
        // Core's BlockRequestAllowed: on our chain, or fully validated on another.
        if (!index || !index->HaveData() ||
            !(m_chainstate->Chain().Contains(index) || index->IsValid(BLOCK_VALID_SCRIPTS))) {
            return std::nullopt;
        }
    }
    bool continue_after = false;
    {
        std::lock_guard lock(m_sync_mutex);
        auto it = m_hash_continue.find(peer_id);
        if (it != m_hash_continue.end() && it->second == hash[0]) {
            m_hash_continue.erase(it);
            continue_after = true;
        }
    }
    if (continue_after) {
        // More than MAX_BLOCKS_TO_ANNOUNCE headers: the agent announces the tip by inv, after this block.
        std::vector<uint8_t> headers;
        {
            auto chain_lock = m_chainstate->Lock();
            std::vector<const BlockIndex*> last;
            for (const BlockIndex* walk = m_chainstate->Tip(); walk && last.size() <= 8; walk = walk->prev) {
                last.push_back(walk);
            }
            for (auto it = last.rbegin(); it != last.rend(); ++it) AppendHeader(headers, (*it)->header);
        }
        CallAgent(peer_id, "agent.announceBlocks", headers);
    }
    try {
        if (witness) return m_chainstate->ReadRawBlock(index); // stored as received: with witness
        return SerializeBlock(m_chainstate->ReadBlock(index), false);
    } catch (const std::exception& e) {
        LogPrintf("Cannot serve block {} to peer={}: {}", hash[0].GetHex(), peer_id, e.what());
        return std::nullopt;
    }
}

} // namespace orrery::node
