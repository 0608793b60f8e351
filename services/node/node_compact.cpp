// The node's half of BIP152 compact blocks (doc/compact_blocks.md): what each
// peer negotiated, choosing the high-bandwidth peers, receiving a cmpctblock
// (header first, then reconstruction from the mempool and the orphans, then a
// getblocktxn for what is missing, or the full block when that fails), and
// serving cmpctblock and blocktxn. The agent decoded and checked each message;
// everything is decoded and checked here again.
#include <services/node/node.h>

#include <common/p2p/messages.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <random>

namespace orrery::node {
namespace {

std::vector<uint8_t> OneHash(const uint256& hash)
{
    return {hash.data(), hash.data() + uint256::kSize};
}

uint256 ParseOneHash(const std::vector<uint8_t>& bytes)
{
    auto hashes = ParseHashList(bytes, 1);
    if (!hashes || hashes->size() != 1) throw std::runtime_error("one 32-byte block hash expected");
    return (*hashes)[0];
}

uint64_t RandomNonce()
{
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng();
}

} // namespace

// ---------------------------------------------------------------- peers

void NodeService::StartCompact(int64_t peer_id, bool inbound)
{
    std::lock_guard lock(m_cmpct_mutex);
    m_cmpct.peers[peer_id].inbound = inbound;
}

void NodeService::CompactPeerGone(int64_t peer_id)
{
    std::lock_guard lock(m_cmpct_mutex);
    m_cmpct.peers.erase(peer_id);
    m_cmpct.high_bandwidth.Remove(peer_id);
}

std::optional<std::pair<bool, bool>> NodeService::CompactStats(int64_t peer_id)
{
    std::lock_guard lock(m_cmpct_mutex);
    auto it = m_cmpct.peers.find(peer_id);
    if (it == m_cmpct.peers.end()) return std::nullopt;
    return std::make_pair(it->second.hb_to, it->second.hb_from);
}

void NodeService::compactBlocksOffered(int64_t peer_id, bool high_bandwidth)
{
    RequireOwnPeer(peer_id);
    LogDebug(LogCategory::NET, "sendcmpct (high bandwidth: {}) from peer={}", high_bandwidth, peer_id);
    std::lock_guard lock(m_cmpct_mutex);
    auto it = m_cmpct.peers.find(peer_id);
    if (it == m_cmpct.peers.end()) return; // before its handshake was reported: nothing to remember yet
    it->second.provides = true;
    it->second.hb_from = high_bandwidth;
}

void NodeService::MaybeSelectHighBandwidth(int64_t peer_id, const uint256& hash, const BlockSubmitResult& result)
{
    // Core's BlockChecked: a new block that is valid, connected outside initial block download while no
    // other block is being downloaded, makes its first sender one of our high-bandwidth peers.
    if (!result.accepted || !result.new_block || m_config.blocks_only) return;
    {
        auto chain_lock = m_chainstate->Lock();
        if (m_chainstate->IsInitialBlockDownload()) return;
        const BlockIndex* index = m_chainstate->LookupBlockIndex(hash);
        if (!index || !m_chainstate->Chain().Contains(index)) return;
        std::lock_guard lock(m_sync_mutex);
        if (m_sync.InFlightCount() != 0) return;
    }
    std::vector<HighBandwidthChange> changes;
    {
        std::lock_guard lock(m_cmpct_mutex);
        changes = m_cmpct.high_bandwidth.Select(peer_id, m_cmpct.peers);
    }
    for (const auto& change : changes) {
        LogDebug(LogCategory::NET, "sendcmpct (high bandwidth: {}) to peer={}", change.high_bandwidth, change.peer_id);
        CallAgent(change.peer_id, "agent.sendCompactBlockMode", change.high_bandwidth);
    }
}

// ---------------------------------------------------------------- receiving

std::vector<p2p::KnownTransaction> NodeService::MempoolTransactions()
{
    std::vector<p2p::KnownTransaction> known;
    for (auto& entry : m_mempool->Entries()) known.push_back({entry.wtxid, std::move(entry.tx)});
    return known;
}

void NodeService::RequestFullBlock(int64_t peer_id, const uint256& hash)
{
    LogDebug(LogCategory::NET, "compact block {} from peer={} could not be reconstructed, asking for the block",
             hash.GetHex(), peer_id);
    CallAgent(peer_id, "agent.requestBlocks", OneHash(hash));
}

void NodeService::ProcessReconstructedBlock(int64_t peer_id, Block block)
{
    auto shared = std::make_shared<const Block>(std::move(block));
    const uint256 hash = shared->GetHash();
    {
        std::lock_guard lock(m_sync_mutex);
        m_sync.BlockReceived(peer_id, hash, std::chrono::steady_clock::now());
    }
    // Asked for (or announced high-bandwidth right after our tip): processed whatever its work.
    const BlockSubmitResult result = m_chainstate->ProcessNewBlock(shared, true);
    {
        auto chain_lock = m_chainstate->Lock();
        std::lock_guard lock(m_sync_mutex);
        m_sync.UpdateBestKnown(peer_id, m_chainstate->LookupBlockIndex(hash));
    }
    // BIP152 lets a peer relay a compact block once its header is valid, before it checked the rest: an
    // invalid block is not its fault (the header passed already), so nobody is punished here.
    LogDebug(LogCategory::NET, "reconstructed block {} from peer={}{}{}", hash.GetHex(), peer_id,
             result.reject_reason.empty() ? "" : ": ", result.reject_reason);
    MaybeSelectHighBandwidth(peer_id, hash, result);
    ScheduleDownloads();
}

void NodeService::compactBlockReceived(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    if (!m_chainstate_loaded) return;
    p2p::CmpctBlockMessage message;
    try {
        message = p2p::DecodeCmpctBlock(bytes);
    } catch (const std::exception& e) {
        Misbehaving(peer_id, std::string("invalid compact block: ") + e.what());
        return;
    }
    if (auto error = p2p::CheckCompactBlock(message)) {
        Misbehaving(peer_id, "invalid compact block: " + *error);
        return;
    }
    const uint256 hash = message.header.GetHash();
    LogDebug(LogCategory::NET, "cmpctblock {} ({} short ids, {} prefilled) from peer={}", hash.GetHex(),
             message.short_ids.size(), message.prefilled.size(), peer_id);

    // The header first, as a headers message of one.
    const BlockIndex* best_header = nullptr;
    bool ibd = false;
    {
        auto chain_lock = m_chainstate->Lock();
        if (!m_chainstate->LookupBlockIndex(message.header.prev_block)) {
            best_header = m_chainstate->BestHeader();
            ibd = m_chainstate->IsInitialBlockDownload();
        }
    }
    if (best_header) {
        // Core: an unconnecting compact block asks for the headers in between (outside initial block download).
        {
            std::lock_guard lock(m_sync_mutex);
            m_sync.SetUnknownBest(peer_id, hash);
        }
        if (!ibd) SendGetHeaders(peer_id, best_header);
        return;
    }
    ValidationState state;
    if (!m_chainstate->ProcessNewBlockHeaders({message.header}, state)) {
        if (state.GetFailure() != BlockFailure::TIME_FUTURE) {
            Misbehaving(peer_id, "invalid header received: " + state.ToString());
        }
        return;
    }

    enum class Mode { NONE, DOWNLOAD, OPTIMISTIC, FULL_BLOCK, HEADERS_ONLY };
    Mode mode = Mode::NONE;
    {
        auto chain_lock = m_chainstate->Lock();
        const ActiveChain& chain = m_chainstate->Chain();
        const BlockIndex* index = m_chainstate->LookupBlockIndex(hash);
        std::lock_guard lock(m_sync_mutex);
        m_sync.UpdateBestKnown(peer_id, index);
        if (!index || index->HaveData()) return; // we have it already
        const std::optional<int64_t> from = m_sync.InFlightFrom(hash);
        const bool asked_here = from && *from == peer_id;
        const BlockIndex* tip = chain.Tip();
        // Core's CanDirectFetch: our tip is at most 20 block intervals old.
        const bool direct_fetch = tip && tip->GetBlockTime() > GetTime() - 20 * m_params.consensus.pow_target_spacing;
        if (index->chain_work <= tip->chain_work || index->n_tx != 0) {
            // Something better is known, or we had the block once: the mempool will not help.
            mode = asked_here ? Mode::FULL_BLOCK : Mode::NONE;
        } else if (!from && !direct_fetch) {
            mode = Mode::HEADERS_ONLY; // far behind: the parallel download does better
        } else if (index->height > chain.Height() + 2) {
            mode = asked_here ? Mode::FULL_BLOCK : Mode::HEADERS_ONLY;
        } else if (from && !asked_here) {
            mode = Mode::OPTIMISTIC; // asked from another peer: try without a round trip, else wait for it
        } else if (asked_here || m_sync.MarkInFlight(peer_id, index, std::chrono::steady_clock::now())) {
            mode = Mode::DOWNLOAD;
        } else {
            mode = Mode::OPTIMISTIC; // this peer has too many blocks out
        }
    }
    if (mode == Mode::NONE) return;
    if (mode == Mode::FULL_BLOCK) return RequestFullBlock(peer_id, hash);
    if (mode == Mode::HEADERS_ONLY) return ScheduleDownloads();

    std::vector<p2p::KnownTransaction> extra;
    {
        std::lock_guard lock(m_relay_mutex);
        for (const auto& [wtxid, orphan] : m_relay.orphanage.All()) extra.push_back({wtxid, orphan.tx});
    }
    p2p::PartialBlock partial;
    const p2p::ReadStatus status = partial.Init(message, MempoolTransactions(), extra);
    if (status == p2p::ReadStatus::INVALID) {
        if (mode == Mode::DOWNLOAD) {
            std::lock_guard lock(m_sync_mutex);
            m_sync.CancelInFlight(peer_id, hash);
        }
        Misbehaving(peer_id, "invalid compact block");
        return;
    }
    if (status == p2p::ReadStatus::FAILED) {
        // A short id collision: the whole block from this peer, or wait for the one it is asked from.
        if (mode == Mode::DOWNLOAD) RequestFullBlock(peer_id, hash);
        return;
    }
    const std::vector<uint16_t> missing = partial.MissingIndexes();
    if (missing.empty()) {
        Block block;
        const p2p::ReadStatus filled = partial.Fill(block, {}, m_params.consensus);
        if (filled == p2p::ReadStatus::FAILED) {
            if (mode == Mode::DOWNLOAD) RequestFullBlock(peer_id, hash);
            return;
        }
        LogDebug(LogCategory::NET,
                 "reconstructed block {} from its compact block: {} prefilled, {} from the mempool ({} orphans)",
                 hash.GetHex(), partial.PrefilledCount(), partial.MempoolCount(), partial.ExtraCount());
        ProcessReconstructedBlock(peer_id, std::move(block));
        return;
    }
    if (mode == Mode::OPTIMISTIC) return; // missing transactions: the peer it is asked from will deliver
    LogDebug(LogCategory::NET, "getblocktxn of {} transactions of block {} to peer={}", missing.size(), hash.GetHex(),
             peer_id);
    {
        std::lock_guard lock(m_cmpct_mutex);
        auto peer = m_cmpct.peers.find(peer_id);
        if (peer == m_cmpct.peers.end()) return;
        peer->second.partial.insert_or_assign(hash, std::move(partial));
    }
    CallAgent(peer_id, "agent.requestBlockTransactions", p2p::EncodeGetBlockTxn({hash, missing}));
}

void NodeService::blockTransactionsReceived(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    if (!m_chainstate_loaded) return;
    p2p::BlockTxnMessage message;
    try {
        message = p2p::DecodeBlockTxn(bytes);
    } catch (const std::exception& e) {
        Misbehaving(peer_id, std::string("malformed blocktxn: ") + e.what());
        return;
    }
    std::optional<p2p::PartialBlock> partial;
    {
        std::lock_guard lock(m_cmpct_mutex);
        auto peer = m_cmpct.peers.find(peer_id);
        if (peer != m_cmpct.peers.end()) {
            auto it = peer->second.partial.find(message.block_hash);
            if (it != peer->second.partial.end()) {
                partial = std::move(it->second);
                peer->second.partial.erase(it);
            }
        }
    }
    if (!partial) {
        LogDebug(LogCategory::NET, "Peer {} sent us block transactions for block we weren't expecting", peer_id);
        return;
    }
    Block block;
    const p2p::ReadStatus status = partial->Fill(block, message.txs, m_params.consensus);
    if (status == p2p::ReadStatus::INVALID) {
        {
            std::lock_guard lock(m_sync_mutex);
            m_sync.CancelInFlight(peer_id, message.block_hash);
        }
        Misbehaving(peer_id, "invalid compact block/non-matching block transactions");
        return;
    }
    if (status == p2p::ReadStatus::FAILED) return RequestFullBlock(peer_id, message.block_hash);
    LogDebug(LogCategory::NET, "reconstructed block {} with {} transactions from blocktxn of peer={}",
             message.block_hash.GetHex(), message.txs.size(), peer_id);
    ProcessReconstructedBlock(peer_id, std::move(block));
}

// ---------------------------------------------------------------- serving

std::shared_ptr<const Block> NodeService::RecentBlock(const uint256& hash)
{
    std::lock_guard lock(m_cmpct_mutex);
    return m_cmpct.recent_hash == hash ? m_cmpct.recent_block : nullptr;
}

std::optional<interfaces::WireMessage> NodeService::getBlockTransactions(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    const p2p::GetBlockTxnMessage request = p2p::DecodeGetBlockTxn(bytes); // the agent checked it: throws otherwise
    if (!m_chainstate_loaded) return std::nullopt;
    std::shared_ptr<const Block> block = RecentBlock(request.block_hash);
    if (!block) {
        const BlockIndex* index = nullptr;
        bool deep = false;
        {
            auto chain_lock = m_chainstate->Lock();
            index = m_chainstate->LookupBlockIndex(request.block_hash);
            if (!index || !index->HaveData()) {
                LogDebug(LogCategory::NET, "Peer {} sent us a getblocktxn for a block we don't have", peer_id);
                return std::nullopt;
            }
            deep = index->height < m_chainstate->Chain().Height() - p2p::MAX_BLOCKTXN_DEPTH;
        }
        if (deep) {
            // Core answers an old block's getblocktxn with the block: a peer that wants disk reads pays for them.
            LogDebug(LogCategory::NET, "Peer {} sent us a getblocktxn for a block > {} deep", peer_id,
                     p2p::MAX_BLOCKTXN_DEPTH);
            return interfaces::WireMessage{std::string(p2p::command::BLOCK), m_chainstate->ReadRawBlock(index)};
        }
        block = std::make_shared<const Block>(m_chainstate->ReadBlock(index));
    }
    p2p::BlockTxnMessage answer;
    answer.block_hash = request.block_hash;
    for (uint16_t index : request.indexes) {
        if (index >= block->txs.size()) {
            Misbehaving(peer_id, "getblocktxn with out-of-bounds tx indices");
            return std::nullopt;
        }
        answer.txs.push_back(block->txs[index]);
    }
    LogDebug(LogCategory::NET, "blocktxn of {} transactions of block {} to peer={}", answer.txs.size(),
             request.block_hash.GetHex(), peer_id);
    return interfaces::WireMessage{std::string(p2p::command::BLOCKTXN), p2p::EncodeBlockTxn(answer)};
}

std::optional<interfaces::WireMessage> NodeService::getCompactBlock(int64_t peer_id, std::vector<uint8_t> hash_bytes)
{
    RequireOwnPeer(peer_id);
    const uint256 hash = ParseOneHash(hash_bytes);
    if (!m_chainstate_loaded) return std::nullopt;
    const BlockIndex* index = nullptr;
    bool recent = false;
    {
        auto chain_lock = m_chainstate->Lock();
        index = m_chainstate->LookupBlockIndex(hash);
        // As for getdata of blocks: on our chain, or fully validated on another (BlockRequestAllowed).
        if (!index || !index->HaveData() ||
            !(m_chainstate->Chain().Contains(index) || index->IsValid(BLOCK_VALID_SCRIPTS))) {
            return std::nullopt;
        }
        const BlockIndex* tip = m_chainstate->Tip();
        const bool direct_fetch = tip && tip->GetBlockTime() > GetTime() - 20 * m_params.consensus.pow_target_spacing;
        recent = direct_fetch && index->height >= m_chainstate->Chain().Height() - p2p::MAX_CMPCTBLOCK_DEPTH;
    }
    try {
        if (!recent) {
            // Core: a peer asking for an old block has no mempool to rebuild it from; it gets the block.
            return interfaces::WireMessage{std::string(p2p::command::BLOCK), m_chainstate->ReadRawBlock(index)};
        }
        {
            std::lock_guard lock(m_cmpct_mutex);
            if (m_cmpct.recent_hash == hash && !m_cmpct.recent_compact.empty()) {
                return interfaces::WireMessage{std::string(p2p::command::CMPCTBLOCK), m_cmpct.recent_compact};
            }
        }
        const Block block = m_chainstate->ReadBlock(index);
        return interfaces::WireMessage{std::string(p2p::command::CMPCTBLOCK),
                                       p2p::EncodeCmpctBlock(p2p::MakeCompactBlock(block, RandomNonce()))};
    } catch (const std::exception& e) {
        LogPrintf("Cannot serve block {} to peer={}: {}", hash.GetHex(), peer_id, e.what());
        return std::nullopt;
    }
}

std::vector<uint8_t> NodeService::CompactTip(const BlockIndex* tip)
{
    {
        std::lock_guard lock(m_cmpct_mutex);
        if (m_cmpct.recent_hash == tip->hash && !m_cmpct.recent_compact.empty()) return m_cmpct.recent_compact;
    }
    auto block = std::make_shared<const Block>(m_chainstate->ReadBlock(tip));
    std::vector<uint8_t> compact = p2p::EncodeCmpctBlock(p2p::MakeCompactBlock(*block, RandomNonce()));
    std::lock_guard lock(m_cmpct_mutex);
    m_cmpct.recent_hash = tip->hash;
    m_cmpct.recent_block = std::move(block);
    m_cmpct.recent_compact = compact;
    return compact;
}

std::set<int64_t> NodeService::HighBandwidthListeners()
{
    std::set<int64_t> peers;
    std::lock_guard lock(m_cmpct_mutex);
    for (const auto& [id, peer] : m_cmpct.peers) {
        if (peer.provides && peer.hb_from) peers.insert(id);
    }
    return peers;
}

bool NodeService::WantsCompactBlocks(int64_t peer_id)
{
    std::lock_guard lock(m_cmpct_mutex);
    auto it = m_cmpct.peers.find(peer_id);
    return it != m_cmpct.peers.end() && it->second.provides;
}

} // namespace orrery::node
