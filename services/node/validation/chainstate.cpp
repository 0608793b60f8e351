// The chainstate (see chainstate.h): the header tree and its best-chain
// candidates, header and block acceptance, flushing in Core's order, start-up
// repair, -reindex / -loadblock / -txindex / -prune, and the notification
// queue. ConnectBlock and DisconnectBlock live in connect.cpp.
#include <services/node/validation/chainstate.h>
#include <services/node/validation/chainstate_impl.h>

#include <common/consensus/pow.h>
#include <common/util/logging.h>
#include <services/node/storage/coin_stats.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <thread>
#include <unistd.h>

namespace orrery::node {

namespace fs = std::filesystem;

namespace {

//! Core's DEFAULT_MAX_TIP_AGE: a tip older than this keeps the node in initial block download.
constexpr int64_t MAX_TIP_AGE = 24 * 60 * 60;
//! Core's MIN_BLOCKS_TO_KEEP: pruning never touches the last 288 blocks.
constexpr int MIN_BLOCKS_TO_KEEP = 288;
//! Headroom Core keeps below the prune target for the files being written.
constexpr uint64_t PRUNE_BUFFER = (16 << 20) + (1 << 20);

int PruneAfterHeight(ChainType type)
{
    return type == ChainType::MAIN ? 100000 : 1000;
}

} // namespace

bool CandidateLess::operator()(const BlockIndex* a, const BlockIndex* b) const
{
    if (a->chain_work > b->chain_work) return false;
    if (a->chain_work < b->chain_work) return true;
    if (a->sequence_id < b->sequence_id) return false;
    if (a->sequence_id > b->sequence_id) return true;
    return std::less<const BlockIndex*>{}(a, b);
}

ChainstateManager::Impl::Impl(ChainstateManager& manager)
    : self{manager}, params{manager.m_params}, consensus{manager.m_params.consensus}, options{manager.m_options}
{
}

ChainstateManager::Impl::~Impl()
{
    StopNotifications();
}

int64_t ChainstateManager::Impl::Now() const
{
    if (options.now) return options.now();
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// ---------------------------------------------------------------------------------------------------------------
// The tree

BlockIndex* ChainstateManager::Impl::Lookup(const uint256& hash) const
{
    auto it = index.find(hash);
    return it == index.end() ? nullptr : it->second.get();
}

BlockIndex* ChainstateManager::Impl::AddToIndex(const BlockHeader& header)
{
    const uint256 hash = header.GetHash();
    if (BlockIndex* existing = Lookup(hash)) return existing;
    auto entry = std::make_unique<BlockIndex>();
    entry->hash = hash;
    entry->header = header;
    entry->prev = Lookup(header.prev_block);
    if (entry->prev != nullptr) {
        entry->height = entry->prev->height + 1;
        entry->BuildSkip();
    }
    entry->chain_work = (entry->prev ? entry->prev->chain_work : ArithUint256{}) + GetBlockProof(header.bits);
    entry->time_max = std::max(entry->prev ? entry->prev->time_max : 0u, header.time);
    entry->status = BLOCK_VALID_TREE;
    BlockIndex* raw = entry.get();
    index.emplace(hash, std::move(entry));
    if (best_header == nullptr || best_header->chain_work < raw->chain_work) best_header = raw;
    dirty_index.insert(raw);
    return raw;
}

void ChainstateManager::Impl::RaiseValidity(BlockIndex* entry, uint32_t level)
{
    if (entry->status & BLOCK_FAILED_MASK) return;
    if ((entry->status & BLOCK_VALID_MASK) < level) {
        entry->status = (entry->status & ~BLOCK_VALID_MASK) | level;
        dirty_index.insert(entry);
    }
}

void ChainstateManager::Impl::ReceivedBlockTransactions(const Block& block, BlockIndex* entry, const FilePos& pos)
{
    entry->n_tx = static_cast<uint32_t>(block.txs.size());
    entry->chain_tx = 0;
    entry->data_pos = pos;
    entry->status |= BLOCK_HAVE_DATA;
    if (consensus.DeploymentActiveAt(entry->height, BuriedDeployment::SEGWIT)) entry->status |= BLOCK_OPT_WITNESS;
    RaiseValidity(entry, BLOCK_VALID_TRANSACTIONS);
    dirty_index.insert(entry);

    if (entry->prev == nullptr || entry->prev->chain_tx != 0) {
        // This block and every waiting descendant can now count their transactions.
        std::vector<BlockIndex*> queue{entry};
        while (!queue.empty()) {
            BlockIndex* walk = queue.back();
            queue.pop_back();
            walk->chain_tx = (walk->prev ? walk->prev->chain_tx : 0) + walk->n_tx;
            walk->sequence_id = next_sequence++;
            if (chain.Tip() == nullptr || !CandidateLess{}(walk, chain.Tip())) candidates.insert(walk);
            auto range = unlinked.equal_range(walk);
            for (auto it = range.first; it != range.second; ++it) queue.push_back(it->second);
            unlinked.erase(range.first, range.second);
        }
    } else {
        unlinked.emplace(entry->prev, entry);
    }
}

void ChainstateManager::Impl::RecalculateBestHeader()
{
    best_header = chain.Tip();
    for (const auto& [hash, entry] : index) {
        if (entry->status & BLOCK_FAILED_MASK) continue;
        if (best_header == nullptr || best_header->chain_work < entry->chain_work) best_header = entry.get();
    }
}

void ChainstateManager::Impl::PruneCandidates()
{
    BlockIndex* tip = chain.Tip();
    if (tip == nullptr) return;
    auto it = candidates.begin();
    while (it != candidates.end() && CandidateLess{}(*it, tip)) it = candidates.erase(it);
}

bool ChainstateManager::Impl::AcceptBlockHeader(const BlockHeader& header, ValidationState& state, BlockIndex** out)
{
    const uint256 hash = header.GetHash();
    if (hash != consensus.genesis_hash) {
        if (BlockIndex* existing = Lookup(hash)) {
            if (out) *out = existing;
            if (existing->status & BLOCK_FAILED_MASK) {
                return state.Invalid("duplicate", "block is marked invalid", BlockFailure::CONSENSUS);
            }
            return true;
        }
        if (!CheckBlockHeader(header, state, consensus)) return false;
        BlockIndex* prev = Lookup(header.prev_block);
        if (prev == nullptr) {
            return state.Invalid("prev-blk-not-found", "", BlockFailure::INVALID_HEADER);
        }
        if (prev->status & BLOCK_FAILED_MASK) {
            return state.Invalid("bad-prevblk", "", BlockFailure::INVALID_HEADER);
        }
        HeaderContext context;
        context.height = prev->height + 1;
        context.expected_bits = NextWorkRequired(prev, header.time);
        context.prev_median_time_past = prev->GetMedianTimePast();
        context.prev_time = prev->GetBlockTime();
        context.adjusted_time = Now();
        if (!ContextualCheckBlockHeader(header, state, consensus, context)) return false;
        if (!prev->IsValid(BLOCK_VALID_SCRIPTS)) {
            for (BlockIndex* failed : failed_blocks) {
                if (prev->GetAncestor(failed->height) == failed) {
                    for (BlockIndex* walk = prev; walk != failed; walk = walk->prev) {
                        walk->status |= BLOCK_FAILED_CHILD;
                        dirty_index.insert(walk);
                    }
                    return state.Invalid("bad-prevblk", "", BlockFailure::INVALID_HEADER);
                }
            }
        }
    }
    BlockIndex* entry = AddToIndex(header);
    if (out) *out = entry;
    return true;
}

uint32_t ChainstateManager::Impl::NextWorkRequired(const BlockIndex* prev, int64_t time) const
{
    if (prev == nullptr) return params.genesis.bits;
    const PowBlockInfo parent{prev->height, prev->header.bits, prev->GetBlockTime()};
    return GetNextWorkRequired(parent, time, consensus, [prev](int height) {
        const BlockIndex* ancestor = prev->GetAncestor(height);
        return PowBlockInfo{ancestor->height, ancestor->header.bits, ancestor->GetBlockTime()};
    });
}

bool ChainstateManager::Impl::AcceptBlock(const std::shared_ptr<const Block>& block, ValidationState& state,
                                          BlockIndex** out, bool force, bool* new_block, const FilePos* known_pos)
{
    if (new_block) *new_block = false;
    BlockIndex* entry = nullptr;
    if (!AcceptBlockHeader(*block, state, &entry)) return false;
    if (out) *out = entry;
    if (entry->HaveData()) return true;

    const bool more_work = chain.Tip() == nullptr || entry->chain_work > chain.Tip()->chain_work;
    if (!force && !more_work) return true;

    const int64_t prev_mtp = entry->prev ? entry->prev->GetMedianTimePast() : 0;
    if (!CheckBlock(*block, state, consensus) ||
        (entry->prev != nullptr && !ContextualCheckBlock(*block, state, consensus, entry->height, prev_mtp))) {
        if (state.GetFailure() != BlockFailure::MUTATED) {
            entry->status |= BLOCK_FAILED_VALID;
            failed_blocks.insert(entry);
            candidates.erase(entry);
            dirty_index.insert(entry);
            if (best_header == entry) RecalculateBestHeader();
        }
        return false;
    }
    if (new_block) *new_block = true;
    const FilePos pos = known_pos ? *known_pos : files->WriteBlock(*block, entry->height);
    ReceivedBlockTransactions(*block, entry, pos);
    if (known_pos == nullptr) FlushStateToDisk(FlushMode::IF_NEEDED);
    return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Choosing and moving to the best chain

BlockIndex* ChainstateManager::Impl::FindMostWorkChain()
{
    while (true) {
        if (candidates.empty()) return nullptr;
        BlockIndex* best = *candidates.rbegin();
        bool invalid_ancestor = false;
        for (BlockIndex* test = best; test != nullptr && !chain.Contains(test); test = test->prev) {
            const bool failed = test->status & BLOCK_FAILED_MASK;
            const bool missing = !test->HaveData();
            if (failed || missing) {
                for (BlockIndex* walk = best; walk != test; walk = walk->prev) {
                    if (failed) {
                        walk->status |= BLOCK_FAILED_CHILD;
                        dirty_index.insert(walk);
                    } else {
                        unlinked.emplace(walk->prev, walk);
                    }
                    candidates.erase(walk);
                }
                candidates.erase(test);
                invalid_ancestor = true;
                break;
            }
        }
        if (!invalid_ancestor) return best;
    }
}

void ChainstateManager::Impl::InvalidBlockFound(BlockIndex* entry, const ValidationState& state)
{
    if (state.GetFailure() == BlockFailure::MUTATED || state.GetFailure() == BlockFailure::TIME_FUTURE) return;
    entry->status |= BLOCK_FAILED_VALID;
    failed_blocks.insert(entry);
    dirty_index.insert(entry);
    candidates.erase(entry);
    if (best_header != nullptr && best_header->GetAncestor(entry->height) == entry) RecalculateBestHeader();
    LogPrintf("InvalidChainFound: invalid block={}  height={}  {}", entry->hash.GetHex(), entry->height,
              state.ToString());
}

bool ChainstateManager::Impl::ConnectTip(BlockIndex* entry, const std::shared_ptr<const Block>& given,
                                         ValidationState& state, std::vector<Event>& events)
{
    std::shared_ptr<const Block> block = given;
    if (block == nullptr || block->GetHash() != entry->hash) {
        block = std::make_shared<const Block>(ReadBlockAt(entry));
    }
    CoinsCache view(static_cast<CoinsView&>(*coins));
    const auto watched = watched_checks.find(entry->hash);
    if (!ConnectBlock(*block, state, entry, view, false)) {
        if (state.IsInvalid()) InvalidBlockFound(entry, state);
        if (watched != watched_checks.end()) watched->second = state;
        return false;
    }
    if (watched != watched_checks.end()) watched->second = state;
    view.Flush();
    chain.SetTip(entry);
    if (txindex) txindex->WriteBlock(*block, entry->data_pos);
    events.push_back(Event{Event::CONNECTED, block, entry, nullptr, false});
    FlushStateToDisk(FlushMode::IF_NEEDED);
    return true;
}

bool ChainstateManager::Impl::DisconnectTip(std::vector<Event>& events)
{
    BlockIndex* tip = chain.Tip();
    auto block = std::make_shared<const Block>(ReadBlockAt(tip));
    CoinsCache view(static_cast<CoinsView&>(*coins));
    if (DisconnectBlock(*block, tip, view) != DisconnectResult::OK) {
        LogPrintf("ERROR: DisconnectTip: could not disconnect block {}", tip->hash.GetHex());
        return false;
    }
    view.Flush();
    chain.SetTip(tip->prev);
    if (txindex) txindex->RewindBlock(*block, tip->header.prev_block);
    events.push_back(Event{Event::DISCONNECTED, block, tip, nullptr, false});
    FlushStateToDisk(FlushMode::IF_NEEDED);
    return true;
}

void ChainstateManager::Impl::YieldLock(std::unique_lock<std::recursive_mutex>& lock)
{
    lock.unlock();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (self.m_lock_waiters.load(std::memory_order_relaxed) > 0 && std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
    }
    lock.lock();
}

bool ChainstateManager::Impl::ActivateBestChain(ValidationState& state, const std::shared_ptr<const Block>& block,
                                                std::unique_lock<std::recursive_mutex>* yield_lock)
{
    // After a fatal error nothing more is connected (undo data, coins): the node is stopping.
    if (fatal) return state.Invalid("disk-write-failed", "the node is stopping after a fatal disk error");
    std::vector<Event> events;
    bool ok = true;
    try {
        while (true) {
            BlockIndex* most_work = FindMostWorkChain();
            if (most_work == nullptr || most_work == chain.Tip()) break;
            const BlockIndex* old_tip = chain.Tip();
            const BlockIndex* fork = chain.FindFork(most_work);
            bool disconnected = false;
            while (chain.Tip() != nullptr && chain.Tip() != fork) {
                if (!DisconnectTip(events)) {
                    ok = state.Invalid("disconnect-failed", "could not disconnect the tip (see debug.log)");
                    break;
                }
                disconnected = true;
            }
            if (!ok) break;
            std::vector<BlockIndex*> to_connect;
            for (BlockIndex* walk = most_work; walk != fork; walk = walk->prev) to_connect.push_back(walk);
            const BlockIndex* notified_tip = old_tip;
            bool yield_now = false;
            for (auto it = to_connect.rbegin(); it != to_connect.rend(); ++it) {
                ValidationState connect_state;
                if (!ConnectTip(*it, block, connect_state, events)) break;
                // A long activation is delivered in parts, and lets waiting callers in between blocks, but only
                // once the new branch has more work than the old tip: nobody sees half a reorganization.
                const bool ahead = old_tip == nullptr || chain.Tip()->chain_work > old_tip->chain_work;
                if (ahead && yield_lock != nullptr && self.m_lock_waiters.load(std::memory_order_relaxed) > 0) {
                    yield_now = true; // the rest of the branch is looked up again afterwards
                    break;
                }
                if (events.size() >= 64 && ahead) {
                    events.push_back(Event{Event::TIP, nullptr, chain.Tip(),
                                           notified_tip ? LastCommonAncestor(notified_tip, chain.Tip()) : nullptr,
                                           IsInitialBlockDownload()});
                    notified_tip = chain.Tip();
                    Queue(std::move(events));
                    events.clear();
                }
            }
            if (disconnected) {
                // Blocks of the old branch may again be candidates should the new branch fail.
                for (const auto& [hash, entry] : index) {
                    if (entry->IsValid(BLOCK_VALID_TRANSACTIONS) && entry->chain_tx != 0 && chain.Tip() != nullptr &&
                        !CandidateLess{}(entry.get(), chain.Tip())) {
                        candidates.insert(entry.get());
                    }
                }
            }
            PruneCandidates();
            if (chain.Tip() != notified_tip) {
                const BlockIndex* new_fork = notified_tip ? LastCommonAncestor(notified_tip, chain.Tip()) : nullptr;
                events.push_back(Event{Event::TIP, nullptr, chain.Tip(), new_fork, IsInitialBlockDownload()});
            }
            if (options.stop_at_height > 0 && chain.Height() >= options.stop_at_height) {
                shutdown_requested = true;
                if (options.request_shutdown) options.request_shutdown("reached -stopatheight");
                break;
            }
            if (yield_now) {
                // What was connected is told before anyone else can move the tip, so listeners keep the order.
                Queue(std::move(events));
                events.clear();
                YieldLock(*yield_lock);
            }
        }
        FlushStateToDisk(FlushMode::PERIODIC);
    } catch (const BlockFileError& e) {
        Fatal(e.what());
        ok = state.Invalid("block-read-failed", e.what());
    } catch (const DiskWriteError& e) {
        Fatal(e.what());
        ok = state.Invalid("disk-write-failed", e.what());
    }
    Queue(std::move(events));
    return ok;
}

void ChainstateManager::Impl::Fatal(const std::string& message)
{
    if (fatal.exchange(true)) return;
    LogPrintf("A fatal internal error occurred, see debug.log for details: {}; stopping the node", message);
    shutdown_requested = true;
    if (options.request_shutdown) options.request_shutdown(message);
}

bool ChainstateManager::Impl::IsInitialBlockDownload() const
{
    if (!in_ibd.load(std::memory_order_relaxed)) return false;
    if (loading) return true;
    const BlockIndex* tip = chain.Tip();
    if (tip == nullptr) return true;
    if (tip->GetBlockTime() < Now() - MAX_TIP_AGE) return true;
    in_ibd.store(false, std::memory_order_relaxed);
    return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Disk

Block ChainstateManager::Impl::ReadBlockAt(const BlockIndex* entry) const
{
    if (!entry->HaveData()) {
        if (pruned_any) throw BlockPrunedError("Block not available (pruned data)");
        throw BlockFileError("Block not found on disk: " + entry->hash.GetHex());
    }
    Block block = files->ReadBlock(entry->data_pos);
    if (block.GetHash() != entry->hash) {
        throw BlockFileError(fmt::format(
            "Corrupted block database detected: the block at height {} in {} has hash {} where {} was expected. "
            "Please restart with -reindex to recover.",
            entry->height, files->BlockFilePath(entry->data_pos.file).string(), block.GetHash().GetHex(),
            entry->hash.GetHex()));
    }
    return block;
}

BlockUndo ChainstateManager::Impl::ReadUndoAt(const BlockIndex* entry) const
{
    if (!(entry->status & BLOCK_HAVE_UNDO)) {
        if (pruned_any) throw BlockPrunedError("Undo data not available (pruned data)");
        throw BlockFileError("Undo data not found on disk for block " + entry->hash.GetHex());
    }
    return files->ReadUndo(entry->undo_pos, entry->header.prev_block);
}

DiskBlockIndex ChainstateManager::Impl::ToDisk(const BlockIndex& entry)
{
    DiskBlockIndex disk;
    disk.header = entry.header;
    disk.height = entry.height;
    disk.status = entry.status;
    disk.n_tx = entry.n_tx;
    disk.data_pos = entry.data_pos;
    disk.undo_pos = entry.undo_pos;
    return disk;
}

void ChainstateManager::Impl::WriteBlockIndex()
{
    std::map<int, BlockFileInfo> infos;
    for (int file : files->TakeDirtyFiles()) extra_dirty_files.insert(file);
    for (int file : extra_dirty_files) infos.emplace(file, files->Info(file));
    std::vector<DiskBlockIndex> entries;
    entries.reserve(dirty_index.size());
    for (const BlockIndex* entry : dirty_index) entries.push_back(ToDisk(*entry));
    tree_db->WriteBatchSync(infos, files->LastFile(), entries);
    dirty_index.clear();
    extra_dirty_files.clear();
}

void ChainstateManager::Impl::FindFilesToPrune(std::set<int>& prune_files, int manual_height)
{
    const BlockIndex* tip = chain.Tip();
    if (tip == nullptr || options.prune_target_bytes == 0) return;
    int last_prunable = tip->height - MIN_BLOCKS_TO_KEEP;
    if (manual_height >= 0) {
        last_prunable = std::min(last_prunable, manual_height);
    } else {
        if (options.prune_target_bytes <= 1) return;
        if (tip->height <= PruneAfterHeight(params.type)) return;
    }
    if (last_prunable < 0) return;
    uint64_t usage = files->TotalSize();
    for (int file = 0; file < files->LastFile(); ++file) {
        const BlockFileInfo info = files->Info(file);
        if (info.size == 0) continue;
        if (manual_height < 0 && usage + PRUNE_BUFFER < options.prune_target_bytes) break;
        if (static_cast<int>(info.height_last) > last_prunable) continue;
        prune_files.insert(file);
        usage -= std::min<uint64_t>(usage, uint64_t{info.size} + info.undo_size);
    }
}

void ChainstateManager::Impl::FlushStateToDisk(FlushMode mode)
{
    if (fatal || files == nullptr) return;
    std::set<int> prune_files;
    if (mode != FlushMode::NONE) FindFilesToPrune(prune_files, manual_prune_height);
    manual_prune_height = -1;

    const size_t usage = coins->DynamicMemoryUsage();
    const bool critical = usage > options.dbcache_bytes;
    const bool large = usage > options.dbcache_bytes / 10 * 9;
    const auto now = std::chrono::steady_clock::now();
    const bool periodic = now - last_flush > options.flush_interval;
    const bool full = mode == FlushMode::ALWAYS || (mode == FlushMode::IF_NEEDED && critical) ||
                      (mode == FlushMode::PERIODIC && (critical || large || periodic)) || !prune_files.empty();
    if (!full) return;
    try {
        if (!prune_files.empty()) {
            for (auto& [hash, entry] : index) {
                if (entry->HaveData() && prune_files.count(entry->data_pos.file)) {
                    entry->status &= ~(BLOCK_HAVE_DATA | BLOCK_HAVE_UNDO);
                    entry->data_pos = FilePos{};
                    entry->undo_pos = FilePos{};
                    dirty_index.insert(entry.get());
                }
            }
            for (auto it = unlinked.begin(); it != unlinked.end();) {
                it = prune_files.count(it->second->data_pos.file) ? unlinked.erase(it) : std::next(it);
            }
            if (!pruned_any) tree_db->WriteFlag("prunedblockfiles", true);
            pruned_any = true;
        }
        // Block and undo data first, then the index that points at them, then the coins that depend on both.
        files->Flush();
        WriteBlockIndex();
        if (!prune_files.empty()) {
            files->DeleteFiles(prune_files);
            LogDebug(LogCategory::VALIDATION, "Prune: deleted {} block files", prune_files.size());
        }
        if (!coins->GetBestBlock().IsNull() || coins->CacheSize() > 0) coins->Flush();
        last_flush = now;
    } catch (const std::runtime_error& e) {
        Fatal(e.what());
        throw DiskWriteError(e.what());
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Notifications

void ChainstateManager::Impl::Queue(std::vector<Event> events)
{
    if (events.empty()) return;
    for (const Event& event : events) {
        if (event.kind == Event::TIP) {
            std::lock_guard lock(tip_mutex);
            tip_hash = event.index->hash;
            tip_cv.notify_all();
        }
    }
    {
        // Nobody to tell (start-up, -reindex): keep no blocks queued in memory.
        std::lock_guard lock(listeners_mutex);
        if (listeners.empty()) return;
    }
    {
        std::lock_guard lock(queue_mutex);
        for (Event& event : events) queue.push_back(std::move(event));
    }
    queue_cv.notify_all();
}

void ChainstateManager::Impl::Deliver(const Event& event)
{
    std::vector<std::shared_ptr<ValidationListener>> copy;
    {
        std::lock_guard lock(listeners_mutex);
        copy = listeners;
    }
    for (const auto& listener : copy) {
        switch (event.kind) {
        case Event::CONNECTED:
            listener->BlockConnected(event.block, event.index);
            break;
        case Event::DISCONNECTED:
            listener->BlockDisconnected(event.block, event.index);
            break;
        case Event::TIP:
            listener->UpdatedBlockTip(event.index, event.fork, event.ibd);
            break;
        case Event::MARKER:
            break;
        }
    }
    if (event.marker) event.marker();
}

void ChainstateManager::Impl::NotificationLoop()
{
    std::unique_lock lock(queue_mutex);
    while (true) {
        queue_cv.wait(lock, [&] { return stop_queue || !queue.empty(); });
        if (queue.empty() && stop_queue) return;
        Event event = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        Deliver(event);
        lock.lock();
    }
}

void ChainstateManager::Impl::StartNotifications()
{
    if (queue_thread.joinable()) return;
    stop_queue = false;
    queue_thread = std::thread([this] { NotificationLoop(); });
}

void ChainstateManager::Impl::StopNotifications()
{
    {
        std::lock_guard lock(queue_mutex);
        stop_queue = true;
    }
    queue_cv.notify_all();
    if (queue_thread.joinable()) queue_thread.join();
}

void ChainstateManager::Impl::Sync()
{
    if (!queue_thread.joinable()) {
        // Before Start(): deliver on the caller's thread.
        while (true) {
            Event event;
            {
                std::lock_guard lock(queue_mutex);
                if (queue.empty()) return;
                event = std::move(queue.front());
                queue.pop_front();
            }
            Deliver(event);
        }
    }
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    Event marker;
    marker.kind = Event::MARKER;
    marker.marker = [&] {
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_all();
    };
    {
        std::lock_guard lock(queue_mutex);
        queue.push_back(std::move(marker));
    }
    queue_cv.notify_all();
    std::unique_lock lock(done_mutex);
    done_cv.wait(lock, [&] { return done; });
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up

void ChainstateManager::Impl::LoadBlockIndex()
{
    std::vector<BlockIndex*> entries;
    tree_db->ForEachIndex([&](const uint256& hash, const DiskBlockIndex& disk) {
        auto entry = std::make_unique<BlockIndex>();
        entry->hash = hash;
        entry->header = disk.header;
        entry->height = disk.height;
        entry->status = disk.status;
        entry->n_tx = disk.n_tx;
        entry->data_pos = disk.data_pos;
        entry->undo_pos = disk.undo_pos;
        entries.push_back(entry.get());
        index.emplace(hash, std::move(entry));
    });
    std::sort(entries.begin(), entries.end(),
              [](const BlockIndex* a, const BlockIndex* b) { return a->height < b->height; });
    for (BlockIndex* entry : entries) {
        if (entry->hash != consensus.genesis_hash) {
            entry->prev = Lookup(entry->header.prev_block);
            if (entry->prev == nullptr || entry->prev->height + 1 != entry->height) {
                throw ChainstateLoadError(fmt::format(
                    "The block index in {} is inconsistent (block {} at height {} has no parent). Please restart "
                    "with -reindex to rebuild it.",
                    BlockIndexDir(options).string(), entry->hash.GetHex(), entry->height));
            }
        }
        entry->BuildSkip();
        entry->chain_work =
            (entry->prev ? entry->prev->chain_work : ArithUint256{}) + GetBlockProof(entry->header.bits);
        entry->time_max = std::max(entry->prev ? entry->prev->time_max : 0u, entry->header.time);
        if (entry->n_tx > 0 && entry->HaveData()) {
            if (entry->prev == nullptr) {
                entry->chain_tx = entry->n_tx;
            } else if (entry->prev->chain_tx != 0) {
                entry->chain_tx = entry->prev->chain_tx + entry->n_tx;
            } else {
                unlinked.emplace(entry->prev, entry);
            }
            entry->sequence_id = 1;
        }
        if (!(entry->status & BLOCK_FAILED_MASK) && entry->prev && (entry->prev->status & BLOCK_FAILED_MASK)) {
            entry->status |= BLOCK_FAILED_CHILD;
            dirty_index.insert(entry);
        }
        if (entry->status & BLOCK_FAILED_VALID) failed_blocks.insert(entry);
        if (entry->IsValid(BLOCK_VALID_TRANSACTIONS) && (entry->chain_tx != 0 || entry->prev == nullptr)) {
            candidates.insert(entry);
        }
        if (!(entry->status & BLOCK_FAILED_MASK) && (best_header == nullptr || CandidateLess{}(best_header, entry))) {
            best_header = entry;
        }
    }
}

void ChainstateManager::Impl::LoadGenesis()
{
    if (Lookup(consensus.genesis_hash) != nullptr && Lookup(consensus.genesis_hash)->HaveData()) return;
    auto genesis = std::make_shared<const Block>(params.genesis);
    ValidationState state;
    BlockIndex* entry = nullptr;
    if (!AcceptBlock(genesis, state, &entry, true, nullptr, nullptr)) {
        throw ChainstateLoadError("The genesis block could not be stored: " + state.ToString());
    }
}

void ChainstateManager::Impl::ReplayBlocks()
{
    const std::vector<uint256> heads = coins_db->GetHeadBlocks();
    if (heads.empty()) return;
    const std::string db_path = (options.data_dir / "chainstate").string();
    if (heads.size() != 2) {
        throw ChainstateLoadError("The coins database in " + db_path +
                                  " is in an unknown inconsistent state. Please restart with -reindex-chainstate.");
    }
    BlockIndex* to = Lookup(heads[0]);
    if (to == nullptr) {
        throw ChainstateLoadError("The coins database in " + db_path + " was moving to unknown block " +
                                  heads[0].GetHex() + ". Please restart with -reindex-chainstate.");
    }
    BlockIndex* from = nullptr;
    if (!heads[1].IsNull()) {
        from = Lookup(heads[1]);
        if (from == nullptr) {
            throw ChainstateLoadError("The coins database in " + db_path + " was moving from unknown block " +
                                      heads[1].GetHex() + ". Please restart with -reindex-chainstate.");
        }
    }
    LogPrintf("Replaying blocks: the last flush moved the coins from {} to {}; completing it",
              from ? from->hash.GetHex() : std::string{"nothing"}, to->hash.GetHex());
    const BlockIndex* fork = from ? LastCommonAncestor(from, to) : nullptr;
    CoinsCache& cache = *coins;
    try {
        for (BlockIndex* walk = from; walk != fork; walk = walk->prev) {
            if (walk->height == 0) continue;
            const Block block = ReadBlockAt(walk);
            if (DisconnectBlock(block, walk, cache) == DisconnectResult::FAILED) {
                throw ChainstateLoadError("Replaying blocks: could not roll back block " + walk->hash.GetHex() +
                                          ". Please restart with -reindex-chainstate.");
            }
            LogPrintf("Rolling back {} ({})", walk->hash.GetHex(), walk->height);
        }
        for (int height = fork ? fork->height + 1 : 0; height <= to->height; ++height) {
            BlockIndex* walk = to->GetAncestor(height);
            LogPrintf("Rolling forward {} ({})", walk->hash.GetHex(), walk->height);
            const Block block = ReadBlockAt(walk);
            for (const Transaction& tx : block.txs) {
                if (!tx.IsCoinbase()) {
                    for (const TxIn& in : tx.vin) cache.SpendCoin(in.prevout);
                }
                cache.AddTransactionCoins(tx, static_cast<uint32_t>(walk->height), true);
            }
        }
    } catch (const BlockFileError& e) {
        throw ChainstateLoadError(e.what());
    }
    cache.SetBestBlock(to->hash);
    cache.Flush();
}

void ChainstateManager::Impl::CheckTipData()
{
    // Core's -checkblocks default at level 1 and 2: the last blocks parse, hash and check, their undo reads.
    constexpr int CHECK_BLOCKS = 6;
    const BlockIndex* tip = chain.Tip();
    for (const BlockIndex* walk = tip; walk != nullptr && walk->height > 0 && tip->height - walk->height < CHECK_BLOCKS;
         walk = walk->prev) {
        if (!walk->HaveData()) break;
        try {
            const Block block = ReadBlockAt(walk);
            ValidationState state;
            if (!CheckBlock(block, state, consensus)) {
                throw ChainstateLoadError(fmt::format(
                    "Corrupted block database detected: block {} at height {} in {} fails its checks ({}). Please "
                    "restart with -reindex to recover.",
                    walk->hash.GetHex(), walk->height, files->BlockFilePath(walk->data_pos.file).string(),
                    state.ToString()));
            }
            if (walk->status & BLOCK_HAVE_UNDO) (void)ReadUndoAt(walk);
        } catch (const BlockPrunedError& e) {
            break;
        } catch (const BlockFileError& e) {
            std::string message = e.what();
            if (message.find("-reindex") == std::string::npos) message += " Please restart with -reindex.";
            throw ChainstateLoadError(message);
        } catch (const DeserializeError& e) {
            throw ChainstateLoadError(fmt::format("Corrupted block database detected: the data of block {} in {} "
                                                  "does not parse ({}). Please restart with -reindex to recover.",
                                                  walk->hash.GetHex(),
                                                  files->BlockFilePath(walk->data_pos.file).string(), e.what()));
        }
    }
}

void ChainstateManager::Impl::AcceptWithOrphans(const std::shared_ptr<const Block>& block, const FilePos* pos,
                                                std::multimap<uint256, Pending>& pending, int& accepted)
{
    std::vector<std::pair<std::shared_ptr<const Block>, std::optional<FilePos>>> work;
    work.emplace_back(block, pos ? std::optional<FilePos>(*pos) : std::nullopt);
    while (!work.empty()) {
        auto [next, next_pos] = std::move(work.back());
        work.pop_back();
        const uint256 hash = next->GetHash();
        if (hash != consensus.genesis_hash && Lookup(next->prev_block) == nullptr) {
            pending.emplace(next->prev_block, Pending{next_pos ? nullptr : next, next_pos});
            continue;
        }
        ValidationState state;
        BlockIndex* entry = nullptr;
        if (AcceptBlock(next, state, &entry, true, nullptr, next_pos ? &*next_pos : nullptr)) {
            ++accepted;
        } else if (state.GetRejectReason() != "duplicate") {
            LogDebug(LogCategory::VALIDATION, "Block {} from disk not accepted: {}", hash.GetHex(), state.ToString());
        }
        auto range = pending.equal_range(hash);
        for (auto it = range.first; it != range.second; ++it) {
            std::shared_ptr<const Block> child = it->second.block;
            if (child == nullptr) child = std::make_shared<const Block>(scan_files->ReadBlock(*it->second.pos));
            work.emplace_back(child, it->second.pos);
        }
        pending.erase(range.first, range.second);
    }
}

void ChainstateManager::Impl::Reindex()
{
    LogPrintf("Reindexing the block files in {}", options.blocks_dir.string());
    scan_files = std::make_unique<BlockFiles>(options.blocks_dir, params.message_start, std::vector<BlockFileInfo>{}, 0,
                                              max_file_size);
    std::multimap<uint256, Pending> pending;
    std::vector<BlockFileInfo> infos;
    int accepted = 0;
    int last_file = 0;
    for (int file = 0;; ++file) {
        std::vector<std::pair<FilePos, size_t>> records;
        const bool exists = scan_files->ScanFile(
            file, [&](const FilePos& pos, std::span<const uint8_t> raw) { records.emplace_back(pos, raw.size()); });
        if (!exists) break;
        last_file = file;
        infos.resize(file + 1);
        for (const auto& [pos, size] : records) {
            infos[file].size = std::max<uint32_t>(infos[file].size, pos.pos + static_cast<uint32_t>(size));
            std::shared_ptr<const Block> block;
            try {
                block = std::make_shared<const Block>(scan_files->ReadBlock(pos));
            } catch (const std::exception& e) {
                LogPrintf("Reindex: skipping an unreadable record in {}: {}", scan_files->BlockFilePath(file).string(),
                          e.what());
                continue;
            }
            // Account the record in its file before accepting, so the infos match the data.
            AcceptWithOrphans(block, &pos, pending, accepted);
        }
    }
    // The file infos from what was found (heights from the accepted entries).
    for (const auto& [hash, entry] : index) {
        if (!entry->HaveData()) continue;
        const int file = entry->data_pos.file;
        if (file < 0 || file >= static_cast<int>(infos.size())) continue;
        infos[file].AddBlock(static_cast<uint32_t>(entry->height), entry->header.time);
    }
    scan_files.reset();
    files = std::make_unique<BlockFiles>(options.blocks_dir, params.message_start, infos, last_file, max_file_size);
    for (size_t file = 0; file < infos.size(); ++file) extra_dirty_files.insert(static_cast<int>(file));
    LogPrintf("Reindex: {} blocks accepted from {} files ({} without a known parent)", accepted, infos.size(),
              pending.size());
}

void ChainstateManager::Impl::LoadExternalBlocks(const fs::path& path)
{
    LogPrintf("Importing blocks from {}", path.string());
    std::multimap<uint256, Pending> pending;
    int accepted = 0;
    ScanBlockStream(path, params.message_start, [&](std::span<const uint8_t> raw) {
        std::shared_ptr<const Block> block;
        try {
            block = std::make_shared<const Block>(DeserializeBlock(raw));
        } catch (const std::exception&) {
            return;
        }
        AcceptWithOrphans(block, nullptr, pending, accepted);
    });
    LogPrintf("Imported {} blocks from {}", accepted, path.string());
}

void ChainstateManager::Impl::CatchUpTxIndex()
{
    if (!txindex) return;
    const BlockIndex* tip = chain.Tip();
    if (tip == nullptr) return;
    BlockIndex* best = Lookup(txindex->BestBlock());
    // Rewind a branch the chain left while the index was behind.
    while (best != nullptr && !chain.Contains(best)) {
        if (!best->HaveData()) break;
        txindex->RewindBlock(ReadBlockAt(best), best->header.prev_block);
        best = best->prev;
    }
    const int start = best ? best->height + 1 : 0;
    if (start <= tip->height) LogPrintf("txindex: indexing blocks {} to {}", start, tip->height);
    for (int height = start; height <= tip->height; ++height) {
        const BlockIndex* entry = chain[height];
        if (!entry->HaveData()) {
            throw ChainstateLoadError("-txindex needs block " + entry->hash.GetHex() +
                                      ", which is not stored (pruned?). Please restart with -reindex.");
        }
        txindex->WriteBlock(ReadBlockAt(entry), entry->data_pos);
    }
}

void ChainstateManager::Impl::Load()
{
    loading = true;
    const fs::path chainstate_dir = options.data_dir / "chainstate";
    const fs::path index_dir = BlockIndexDir(options);
    for (const fs::path& dir : {options.blocks_dir, index_dir.parent_path()}) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw ChainstateLoadError("Cannot create the blocks directory " + dir.string() + ": " + ec.message());
        // A read-only folder would pass the start and fail at the first block: say it now, in one line.
        if (::access(dir.c_str(), W_OK) != 0) {
            throw ChainstateLoadError("Cannot write to the blocks directory " + dir.string() + ": " +
                                      std::strerror(errno));
        }
    }
    const bool had_index = fs::exists(index_dir);
    const bool had_chainstate = fs::exists(chainstate_dir);
    const size_t index_cache = std::min<size_t>(options.dbcache_bytes / 8, 2 << 20);
    try {
        tree_db = std::make_unique<BlockTreeDB>(index_dir, index_cache, options.reindex);
    } catch (const std::runtime_error& e) {
        // A full disk or a read-only folder needs room or rights, not -reindex (LevelDB names the errno).
        const std::string what = e.what();
        const bool environment = std::ranges::any_of(std::array{ENOSPC, EROFS, EACCES}, [&](int code) {
            return what.find(std::strerror(code)) != std::string::npos;
        });
        throw ChainstateLoadError("Error opening the block database: " + what +
                                  (environment ? "" : ". Please restart with -reindex."));
    }
    bool reindex = options.reindex || tree_db->ReadReindexing();
    if (reindex && !options.reindex) LogPrintf("An interrupted -reindex is resumed");
    if (reindex) tree_db->WriteReindexing(true);

    const std::optional<bool> pruned_flag = tree_db->ReadFlag("prunedblockfiles");
    pruned_any = pruned_flag.value_or(false);
    if (pruned_any && options.prune_target_bytes == 0 && !reindex) {
        throw ChainstateLoadError(
            "The block files were pruned. Please restart with -reindex to go back to an unpruned node (this "
            "downloads the whole chain again).");
    }
    if (options.prune_target_bytes > 0 && options.txindex) {
        throw ChainstateLoadError("Prune mode is incompatible with -txindex.");
    }

    if (!reindex) {
        try {
            LoadBlockIndex();
        } catch (const DeserializeError& e) {
            throw ChainstateLoadError(std::string{"The block index in "} + index_dir.string() +
                                      " holds a corrupt record (" + e.what() + "). Please restart with -reindex.");
        }
        files = std::make_unique<BlockFiles>(options.blocks_dir, params.message_start, tree_db->ReadFileInfos(),
                                             tree_db->ReadLastFile(), max_file_size);
    }

    const bool has_blocks = index.size() > 1;
    if (!reindex && !options.reindex_chainstate && had_index && has_blocks && !had_chainstate) {
        throw ChainstateLoadError("The chainstate directory " + chainstate_dir.string() +
                                  " is missing while the block index holds blocks. Please restart with "
                                  "-reindex-chainstate to rebuild it from the block files.");
    }
    try {
        coins_db =
            std::make_unique<CoinsDB>(chainstate_dir, options.dbcache_bytes / 4, reindex || options.reindex_chainstate);
    } catch (const std::runtime_error& e) {
        throw ChainstateLoadError(std::string{"Error opening the coins database: "} + e.what() +
                                  ". Please restart with -reindex-chainstate.");
    }
    coins_db->SetBatchSize(options.db_batch_bytes);
    if (options.coins_batch_hook) coins_db->SetBatchHook(options.coins_batch_hook);
    coins = std::make_unique<CoinsCache>(*coins_db);

    if (options.txindex) {
        try {
            txindex = std::make_unique<TxIndexDB>(options.data_dir / "indexes" / "txindex", 8 << 20, reindex);
        } catch (const std::runtime_error& e) {
            throw ChainstateLoadError(std::string{"Error opening the transaction index: "} + e.what());
        }
    }

    if (reindex) {
        Reindex();
        LoadGenesis();
    } else {
        LoadGenesis();
        ReplayBlocks();
    }

    // The tip is where the coins are.
    const uint256 best = coins->GetBestBlock();
    if (!best.IsNull()) {
        BlockIndex* tip = Lookup(best);
        if (tip == nullptr) {
            throw ChainstateLoadError("The coins database in " + chainstate_dir.string() + " is at block " +
                                      best.GetHex() +
                                      ", which the block index does not know. Please restart with -reindex.");
        }
        chain.SetTip(tip);
        PruneCandidates();
        LogPrintf("Loaded best chain: hashBestChain={} height={} date={}", tip->hash.GetHex(), tip->height,
                  tip->GetBlockTime());
    }
    CheckTipData();

    for (const fs::path& path : options.load_block_files) {
        try {
            LoadExternalBlocks(path);
        } catch (const std::exception& e) {
            LogPrintf("-loadblock: {}: {}", path.string(), e.what());
        }
    }

    ValidationState state;
    if (!ActivateBestChain(state, nullptr)) {
        throw ChainstateLoadError("Could not connect the best chain: " + state.ToString());
    }
    if (reindex) {
        FlushStateToDisk(FlushMode::ALWAYS);
        tree_db->WriteReindexing(false);
    }
    CatchUpTxIndex();
    FlushStateToDisk(FlushMode::ALWAYS);
    {
        std::lock_guard lock(tip_mutex);
        tip_hash = chain.Tip() ? chain.Tip()->hash : uint256{};
    }
    loading = false;
}

// ---------------------------------------------------------------------------------------------------------------
// ChainstateManager

ChainstateManager::ChainstateManager(const ChainParams& params, ChainstateOptions options)
    : m_params{params}, m_options{std::move(options)}
{
    m_impl = std::make_unique<Impl>(*this);
    if (m_options.max_block_file_size > 0) m_impl->max_file_size = m_options.max_block_file_size;
    m_impl->script_queue = std::make_unique<ScriptCheckQueue>(std::max(0, m_options.script_threads));
    m_impl->last_flush = std::chrono::steady_clock::now();
}

ChainstateManager::~ChainstateManager()
{
    try {
        Stop();
    } catch (const std::exception& e) {
        LogPrintf("Error while stopping the chainstate: {}", e.what());
    }
}

void ChainstateManager::Load()
{
    auto lock = Lock();
    try {
        m_impl->Load();
    } catch (const ChainstateLoadError&) {
        throw;
    } catch (const BlockFileError& e) {
        throw ChainstateLoadError(e.what());
    } catch (const DiskWriteError& e) {
        throw ChainstateLoadError(std::string{"Cannot write to disk: "} + e.what());
    }
    m_impl->loaded = true;
}

void ChainstateManager::Start()
{
    m_impl->StartNotifications();
}

void ChainstateManager::Stop()
{
    {
        auto lock = Lock();
        if (m_impl->loaded && !m_impl->stopped) {
            m_impl->stopped = true;
            try {
                m_impl->FlushStateToDisk(Impl::FlushMode::ALWAYS);
            } catch (const std::exception& e) {
                LogPrintf("Could not flush the chainstate at shutdown: {}", e.what());
            }
        }
    }
    m_impl->Sync();
    m_impl->StopNotifications();
}

const ActiveChain& ChainstateManager::Chain() const
{
    return m_impl->chain;
}
const BlockIndex* ChainstateManager::Tip() const
{
    return m_impl->chain.Tip();
}
int ChainstateManager::Height() const
{
    return m_impl->chain.Height();
}

const BlockIndex* ChainstateManager::LookupBlockIndex(const uint256& hash) const
{
    return m_impl->Lookup(hash);
}

const BlockIndex* ChainstateManager::BestHeader() const
{
    return m_impl->best_header ? m_impl->best_header : m_impl->chain.Tip();
}

std::vector<const BlockIndex*> ChainstateManager::ChainTips() const
{
    auto lock = Lock();
    std::set<const BlockIndex*> with_child;
    for (const auto& [hash, entry] : m_impl->index) {
        if (entry->prev) with_child.insert(entry->prev);
    }
    std::vector<const BlockIndex*> tips;
    for (const auto& [hash, entry] : m_impl->index) {
        if (!with_child.count(entry.get())) tips.push_back(entry.get());
    }
    if (Tip() != nullptr && with_child.count(Tip())) tips.push_back(Tip());
    return tips;
}

bool ChainstateManager::IsInitialBlockDownload() const
{
    auto lock = Lock();
    return m_impl->IsInitialBlockDownload();
}

std::optional<Coin> ChainstateManager::GetCoin(const OutPoint& outpoint) const
{
    auto lock = Lock();
    if (!m_impl->coins) return std::nullopt;
    return m_impl->coins->GetCoin(outpoint);
}

uint32_t ChainstateManager::Impl::ScriptFlagsFor(const BlockIndex* prev, const uint256& hash) const
{
    uint32_t flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT;
    for (const ScriptFlagException& exception : consensus.script_flag_exceptions) {
        if (exception.block_hash == hash) {
            flags = exception.flags == ScriptFlagException::Flags::NONE ? SCRIPT_VERIFY_NONE
                                                                        : SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS;
        }
    }
    const int height = prev ? prev->height + 1 : 0;
    if (consensus.DeploymentActiveAt(height, BuriedDeployment::DERSIG)) flags |= SCRIPT_VERIFY_DERSIG;
    if (consensus.DeploymentActiveAt(height, BuriedDeployment::CLTV)) flags |= SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY;
    if (consensus.DeploymentActiveAt(height, BuriedDeployment::CSV)) flags |= SCRIPT_VERIFY_CHECKSEQUENCEVERIFY;
    if (consensus.DeploymentActiveAt(height, BuriedDeployment::SEGWIT)) flags |= SCRIPT_VERIFY_NULLDUMMY;
    return flags;
}

uint32_t ChainstateManager::ScriptFlags(const BlockIndex* prev) const
{
    return m_impl->ScriptFlagsFor(prev, uint256{});
}

bool ChainstateManager::DeploymentActiveAfter(const BlockIndex* prev, BuriedDeployment deployment) const
{
    return m_params.consensus.DeploymentActiveAt(prev ? prev->height + 1 : 0, deployment);
}

uint32_t ChainstateManager::NextWorkRequired(const BlockIndex* prev, int64_t time) const
{
    return m_impl->NextWorkRequired(prev, time);
}

Block ChainstateManager::ReadBlock(const BlockIndex* index) const
{
    auto lock = Lock();
    return m_impl->ReadBlockAt(index);
}

std::vector<uint8_t> ChainstateManager::ReadRawBlock(const BlockIndex* index) const
{
    FilePos pos;
    {
        auto lock = Lock();
        if (!index->HaveData()) {
            if (m_impl->pruned_any) throw BlockPrunedError("Block not available (pruned data)");
            throw BlockFileError("Block not found on disk: " + index->hash.GetHex());
        }
        pos = index->data_pos;
    }
    return m_impl->files->ReadRawBlock(pos);
}

BlockUndo ChainstateManager::ReadUndo(const BlockIndex* index) const
{
    auto lock = Lock();
    return m_impl->ReadUndoAt(index);
}

std::optional<std::pair<Transaction, uint256>> ChainstateManager::FindTransaction(const uint256& txid) const
{
    auto lock = Lock();
    if (!m_impl->txindex) return std::nullopt;
    const std::optional<TxLocation> location = m_impl->txindex->Find(txid);
    if (!location) return std::nullopt;
    const std::vector<uint8_t> raw = m_impl->files->ReadRawBlock(location->block_pos);
    if (raw.size() < BlockHeader::kSize) return std::nullopt;
    const std::span<const uint8_t> bytes(raw);
    if (BlockHeader::kSize + uint64_t{location->tx_offset} >= raw.size()) return std::nullopt;
    const BlockHeader header = DeserializeBlockHeader(bytes.first(BlockHeader::kSize));
    SpanReader reader(bytes.subspan(BlockHeader::kSize + location->tx_offset));
    Transaction tx = ReadTransaction(reader);
    if (tx.GetTxid() != txid) return std::nullopt;
    return std::make_pair(std::move(tx), header.GetHash());
}

std::unique_lock<std::recursive_mutex> ChainstateManager::Lock() const
{
    std::unique_lock lock(m_mutex, std::try_to_lock);
    if (!lock.owns_lock()) {
        m_lock_waiters.fetch_add(1, std::memory_order_relaxed);
        lock.lock();
        m_lock_waiters.fetch_sub(1, std::memory_order_relaxed);
    }
    return lock;
}

BlockSubmitResult ChainstateManager::ProcessNewBlock(const std::shared_ptr<const Block>& block, bool force)
{
    auto lock = Lock();
    BlockSubmitResult result;
    const uint256 hash = block->GetHash();
    if (const BlockIndex* known = m_impl->Lookup(hash); known != nullptr && known->HaveData()) {
        if (known->status & BLOCK_FAILED_MASK) {
            result.reject_reason = "duplicate-invalid";
        } else {
            result.accepted = true;
            result.reject_reason = "duplicate";
        }
        return result;
    }
    if (m_impl->fatal) {
        // As bitcoind after a fatal error: the state in memory may not match the disk; write nothing more.
        result.reject_reason = "disk-write-failed";
        result.debug_message = "the node is stopping after a fatal disk error";
        return result;
    }
    ValidationState state;
    BlockIndex* entry = nullptr;
    bool accepted = false;
    try {
        accepted = CheckBlock(*block, state, m_params.consensus) &&
                   m_impl->AcceptBlock(block, state, &entry, force, &result.new_block, nullptr);
    } catch (const DiskWriteError& e) {
        m_impl->Fatal(e.what());
        result.reject_reason = "disk-write-failed";
        result.debug_message = e.what();
        return result;
    }
    if (!accepted) {
        result.reject_reason = state.GetRejectReason();
        result.debug_message = state.GetDebugMessage();
        return result;
    }
    // Another call may run while this activation yields the lock: each waits on its own block's outcome.
    m_impl->watched_checks.try_emplace(hash);
    ValidationState activate_state;
    m_impl->ActivateBestChain(activate_state, block, &lock);
    std::optional<ValidationState> outcome;
    if (auto watched = m_impl->watched_checks.find(hash); watched != m_impl->watched_checks.end()) {
        outcome = std::move(watched->second);
        m_impl->watched_checks.erase(watched);
    }
    if (outcome) {
        const ValidationState& checked = *outcome;
        if (checked.IsInvalid()) {
            result.reject_reason = checked.GetRejectReason();
            result.debug_message = checked.GetDebugMessage();
            return result;
        }
        result.accepted = true;
        return result;
    }
    result.accepted = true;
    if (!m_impl->chain.Contains(entry)) result.reject_reason = result.new_block ? "inconclusive" : "duplicate";
    return result;
}

bool ChainstateManager::ProcessNewBlockHeaders(const std::vector<BlockHeader>& headers, ValidationState& state)
{
    auto lock = Lock();
    for (const BlockHeader& header : headers) {
        if (!m_impl->AcceptBlockHeader(header, state, nullptr)) return false;
    }
    return true;
}

bool ChainstateManager::TestBlockValidity(const Block& block, ValidationState& state, bool check_pow,
                                          bool check_merkle_root)
{
    auto lock = Lock();
    BlockIndex* tip = m_impl->chain.Tip();
    if (tip == nullptr || block.prev_block != tip->hash) {
        return state.Invalid("inconclusive-not-best-prevblk", "the block's parent is not the tip");
    }
    BlockIndex dummy;
    dummy.header = block.Header();
    dummy.hash = block.GetHash();
    dummy.prev = tip;
    dummy.height = tip->height + 1;
    dummy.BuildSkip();
    dummy.chain_work = tip->chain_work + GetBlockProof(block.bits);
    HeaderContext context;
    context.height = dummy.height;
    context.expected_bits = m_impl->NextWorkRequired(tip, block.time);
    context.prev_median_time_past = tip->GetMedianTimePast();
    context.prev_time = tip->GetBlockTime();
    context.adjusted_time = m_impl->Now();
    if (!ContextualCheckBlockHeader(block, state, m_params.consensus, context)) return false;
    if (!CheckBlock(block, state, m_params.consensus, check_pow, check_merkle_root)) return false;
    if (!ContextualCheckBlock(block, state, m_params.consensus, dummy.height, context.prev_median_time_past)) {
        return false;
    }
    CoinsCache view(static_cast<CoinsView&>(*m_impl->coins));
    return m_impl->ConnectBlock(block, state, &dummy, view, true);
}

bool ChainstateManager::InvalidateBlock(const uint256& hash, ValidationState& state)
{
    auto lock = Lock();
    BlockIndex* target = m_impl->Lookup(hash);
    if (target == nullptr) return state.Invalid("block-not-found", "Block not found");
    auto& impl = *m_impl;
    std::vector<Impl::Event> events;
    const BlockIndex* old_tip = impl.chain.Tip();
    try {
        while (impl.chain.Contains(target)) {
            BlockIndex* walk_tip = impl.chain.Tip();
            if (!impl.DisconnectTip(events)) {
                impl.Queue(std::move(events));
                return state.Invalid("disconnect-failed", "could not disconnect a block (see debug.log)");
            }
            walk_tip->status |= (walk_tip == target ? BLOCK_FAILED_VALID : BLOCK_FAILED_CHILD);
            impl.dirty_index.insert(walk_tip);
            impl.candidates.erase(walk_tip);
        }
    } catch (const std::runtime_error& e) {
        impl.Fatal(e.what());
        impl.Queue(std::move(events));
        return state.Invalid("disconnect-failed", e.what());
    }
    target->status |= BLOCK_FAILED_VALID;
    impl.failed_blocks.insert(target);
    impl.dirty_index.insert(target);
    impl.candidates.erase(target);
    for (auto& [entry_hash, entry] : impl.index) {
        if (entry.get() != target && entry->height > target->height && entry->GetAncestor(target->height) == target) {
            entry->status |= BLOCK_FAILED_CHILD;
            impl.dirty_index.insert(entry.get());
            impl.candidates.erase(entry.get());
        }
    }
    for (auto& [entry_hash, entry] : impl.index) {
        if (entry->IsValid(BLOCK_VALID_TRANSACTIONS) && entry->chain_tx != 0 && impl.chain.Tip() != nullptr &&
            !CandidateLess{}(entry.get(), impl.chain.Tip())) {
            impl.candidates.insert(entry.get());
        }
    }
    impl.RecalculateBestHeader();
    if (impl.chain.Tip() != old_tip) {
        events.push_back(Impl::Event{Impl::Event::TIP, nullptr, impl.chain.Tip(),
                                     LastCommonAncestor(old_tip, impl.chain.Tip()), impl.IsInitialBlockDownload()});
    }
    impl.Queue(std::move(events));
    return impl.ActivateBestChain(state, nullptr);
}

bool ChainstateManager::ReconsiderBlock(const uint256& hash, ValidationState& state)
{
    auto lock = Lock();
    BlockIndex* target = m_impl->Lookup(hash);
    if (target == nullptr) return state.Invalid("block-not-found", "Block not found");
    auto& impl = *m_impl;
    for (auto& [entry_hash, entry] : impl.index) {
        if (!entry->IsValid() && entry->GetAncestor(target->height) == target) {
            entry->status &= ~BLOCK_FAILED_MASK;
            impl.dirty_index.insert(entry.get());
            impl.failed_blocks.erase(entry.get());
            if (entry->IsValid(BLOCK_VALID_TRANSACTIONS) && entry->chain_tx != 0 && impl.chain.Tip() != nullptr &&
                CandidateLess{}(impl.chain.Tip(), entry.get())) {
                impl.candidates.insert(entry.get());
            }
        }
    }
    for (BlockIndex* walk = target; walk != nullptr; walk = walk->prev) {
        if (walk->status & BLOCK_FAILED_MASK) {
            walk->status &= ~BLOCK_FAILED_MASK;
            impl.dirty_index.insert(walk);
            impl.failed_blocks.erase(walk);
        }
    }
    impl.RecalculateBestHeader();
    return impl.ActivateBestChain(state, nullptr, &lock);
}

bool ChainstateManager::PreciousBlock(const uint256& hash, ValidationState& state)
{
    auto lock = Lock();
    BlockIndex* target = m_impl->Lookup(hash);
    if (target == nullptr) return state.Invalid("block-not-found", "Block not found");
    auto& impl = *m_impl;
    BlockIndex* tip = impl.chain.Tip();
    if (tip == nullptr || target->chain_work < tip->chain_work) return true;
    if (tip->chain_work > impl.last_precious_work) impl.reverse_sequence = -1;
    impl.last_precious_work = tip->chain_work;
    impl.candidates.erase(target);
    target->sequence_id = impl.reverse_sequence;
    if (impl.reverse_sequence > INT_MIN) --impl.reverse_sequence;
    if (target->IsValid(BLOCK_VALID_TRANSACTIONS) && target->chain_tx != 0) {
        impl.candidates.insert(target);
        impl.PruneCandidates();
    }
    return impl.ActivateBestChain(state, nullptr);
}

bool ChainstateManager::VerifyChain(int level, int depth)
{
    auto lock = Lock();
    auto& impl = *m_impl;
    BlockIndex* tip = impl.chain.Tip();
    if (tip == nullptr || tip->height < 1) return true;
    if (depth <= 0 || depth > tip->height) depth = tip->height;
    level = std::clamp(level, 0, 4);
    LogPrintf("Verifying last {} blocks at level {}", depth, level);
    CoinsCache view(static_cast<CoinsView&>(*impl.coins));
    const BlockIndex* failure = nullptr;
    BlockIndex* walk = tip;
    try {
        for (; walk != nullptr && walk->prev != nullptr; walk = walk->prev) {
            if (walk->height <= tip->height - depth) break;
            if (impl.pruned_any && !walk->HaveData()) break;
            const Block block = impl.ReadBlockAt(walk);
            ValidationState state;
            if (level >= 1 && !CheckBlock(block, state, m_params.consensus)) {
                LogPrintf("VerifyDB(): *** found bad block at {}, hash={} ({})", walk->height, walk->hash.GetHex(),
                          state.ToString());
                return false;
            }
            if (level >= 2 && (walk->status & BLOCK_HAVE_UNDO)) (void)impl.ReadUndoAt(walk);
            if (level >= 3 && view.DynamicMemoryUsage() + impl.coins->DynamicMemoryUsage() <= m_options.dbcache_bytes) {
                const DisconnectResult res = impl.DisconnectBlock(block, walk, view);
                if (res == DisconnectResult::FAILED) {
                    LogPrintf("VerifyDB(): *** irrecoverable inconsistency in block data at {}, hash={}", walk->height,
                              walk->hash.GetHex());
                    return false;
                }
                if (res == DisconnectResult::UNCLEAN) failure = walk;
            } else if (level >= 3) {
                level = 2;
            }
        }
        if (failure != nullptr) {
            LogPrintf("VerifyDB(): *** coin database inconsistencies found (last {} blocks)",
                      tip->height - failure->height + 1);
            return false;
        }
        if (level >= 4 && walk != nullptr) {
            while (walk != tip) {
                walk = impl.chain.Next(walk);
                const Block block = impl.ReadBlockAt(walk);
                ValidationState state;
                if (!impl.ConnectBlock(block, state, walk, view, true)) {
                    LogPrintf("VerifyDB(): *** found unconnectable block at {}, hash={} ({})", walk->height,
                              walk->hash.GetHex(), state.ToString());
                    return false;
                }
                // ConnectBlock with just_check leaves the view unchanged; apply the block to move on.
                for (const Transaction& tx : block.txs) {
                    if (!tx.IsCoinbase()) {
                        for (const TxIn& in : tx.vin) view.SpendCoin(in.prevout);
                    }
                    view.AddTransactionCoins(tx, static_cast<uint32_t>(walk->height), true);
                }
                view.SetBestBlock(walk->hash);
            }
        }
    } catch (const std::exception& e) {
        LogPrintf("VerifyDB(): *** {}", e.what());
        return false;
    }
    LogPrintf("Verification: No coin database inconsistencies in last {} blocks", depth);
    return true;
}

int ChainstateManager::PruneBlockchain(int height)
{
    auto lock = Lock();
    if (!IsPruned()) return -1;
    m_impl->manual_prune_height = height;
    try {
        m_impl->FlushStateToDisk(Impl::FlushMode::ALWAYS);
    } catch (const DiskWriteError& e) {
        LogPrintf("pruneblockchain: {}", e.what());
    }
    return PruneHeight() - 1;
}

int ChainstateManager::PruneHeight() const
{
    auto lock = Lock();
    const BlockIndex* walk = m_impl->chain.Tip();
    if (walk == nullptr) return 0;
    while (walk->prev != nullptr && walk->prev->HaveData()) walk = walk->prev;
    return walk->height;
}

bool ChainstateManager::ShutdownRequested() const
{
    return m_impl->shutdown_requested;
}

void ChainstateManager::ForceFlush()
{
    auto lock = Lock();
    m_impl->FlushStateToDisk(Impl::FlushMode::ALWAYS);
}

CoinsStats ChainstateManager::ComputeCoinsStats()
{
    auto lock = Lock();
    m_impl->FlushStateToDisk(Impl::FlushMode::ALWAYS);
    CoinsStats stats;
    const BlockIndex* tip = m_impl->chain.Tip();
    stats.best_block = tip ? tip->hash : uint256{};
    stats.height = tip ? tip->height : 0;
    CoinsHasher hasher;
    uint256 last_txid;
    bool first = true;
    m_impl->coins_db->ForEachCoin([&](const OutPoint& outpoint, const Coin& coin) {
        if (first || outpoint.hash != last_txid) {
            ++stats.transactions;
            last_txid = outpoint.hash;
            first = false;
        }
        ++stats.txouts;
        stats.total_amount += coin.out.value;
        stats.bogosize += 50 + coin.out.script_pubkey.size();
        hasher.Add(outpoint, coin);
        return true;
    });
    stats.hash_serialized = hasher.HashSerialized();
    stats.muhash = hasher.MuHash();
    stats.disk_size = m_impl->coins_db->EstimateSize();
    return stats;
}

void ChainstateManager::ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn)
{
    auto lock = Lock();
    m_impl->FlushStateToDisk(Impl::FlushMode::ALWAYS);
    m_impl->coins_db->ForEachCoin(fn);
}

uint64_t ChainstateManager::SizeOnDisk() const
{
    auto lock = Lock();
    if (!m_impl->files) return 0;
    return m_impl->files->TotalSize();
}

void ChainstateManager::RegisterListener(std::shared_ptr<ValidationListener> listener)
{
    std::lock_guard lock(m_impl->listeners_mutex);
    m_impl->listeners.push_back(std::move(listener));
}

void ChainstateManager::UnregisterListener(const std::shared_ptr<ValidationListener>& listener)
{
    std::lock_guard lock(m_impl->listeners_mutex);
    std::erase(m_impl->listeners, listener);
}

void ChainstateManager::SyncWithListeners()
{
    m_impl->Sync();
}

const BlockIndex* ChainstateManager::WaitForTipChange(const uint256& current, std::chrono::milliseconds timeout)
{
    {
        std::unique_lock lock(m_impl->tip_mutex);
        m_impl->tip_cv.wait_for(lock, timeout,
                                [&] { return m_impl->tip_hash != current || m_impl->waits_interrupted; });
    }
    auto lock = Lock();
    return m_impl->chain.Tip();
}

void ChainstateManager::InterruptWaits()
{
    std::lock_guard lock(m_impl->tip_mutex);
    m_impl->waits_interrupted = true;
    m_impl->tip_cv.notify_all();
}

bool ChainstateManager::WaitsInterrupted() const
{
    return m_impl->waits_interrupted;
}

} // namespace orrery::node
