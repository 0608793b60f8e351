// The chainstate's private state, shared by chainstate.cpp (tree, flushing,
// start-up, notifications) and connect.cpp (ConnectBlock, DisconnectBlock).
// Everything here is guarded by ChainstateManager's lock unless noted.
#ifndef ORRERY_SERVICES_NODE_VALIDATION_CHAINSTATE_IMPL_H
#define ORRERY_SERVICES_NODE_VALIDATION_CHAINSTATE_IMPL_H

#include <services/node/storage/block_files.h>
#include <services/node/storage/block_tree_db.h>
#include <services/node/storage/coins.h>
#include <services/node/storage/tx_index.h>
#include <services/node/validation/chainstate.h>
#include <services/node/validation/script_check.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

namespace orrery::node {

//! Core's CBlockIndexWorkComparator: less work first; on equal work the later arrival (higher sequence id) is less.
struct CandidateLess {
    bool operator()(const BlockIndex* a, const BlockIndex* b) const;
};

enum class DisconnectResult { OK, UNCLEAN, FAILED };

struct ChainstateManager::Impl {
    explicit Impl(ChainstateManager& manager);
    ~Impl();

    enum class FlushMode { NONE, IF_NEEDED, PERIODIC, ALWAYS };

    struct Event {
        enum Kind { CONNECTED, DISCONNECTED, TIP, MARKER };
        Kind kind{MARKER};
        std::shared_ptr<const Block> block;
        const BlockIndex* index{nullptr};
        const BlockIndex* fork{nullptr};
        bool ibd{false};
        std::function<void()> marker{};
    };

    //! A block waiting for its parent during -reindex (its position) or -loadblock (the block itself).
    struct Pending {
        std::shared_ptr<const Block> block;
        std::optional<FilePos> pos;
    };

    ChainstateManager& self;
    const ChainParams& params;
    const ConsensusParams& consensus;
    const ChainstateOptions& options;
    uint64_t max_file_size{MAX_BLOCKFILE_SIZE};

    std::unordered_map<uint256, std::unique_ptr<BlockIndex>, Uint256Hasher> index;
    ActiveChain chain;
    BlockIndex* best_header{nullptr};
    std::set<BlockIndex*, CandidateLess> candidates;
    //! Blocks with data whose parent lacks data (or chain_tx): parent -> child.
    std::multimap<BlockIndex*, BlockIndex*> unlinked;
    std::set<BlockIndex*> failed_blocks;
    std::set<BlockIndex*> dirty_index;
    std::set<int> extra_dirty_files;
    int32_t next_sequence{2};
    int32_t reverse_sequence{-1};
    ArithUint256 last_precious_work;
    //! What ConnectTip found for the blocks ProcessNewBlock calls are waiting on (its answer to submitblock and
    //! to the peer that sent the block). Keyed by hash: an activation that goes on after the block (connecting
    //! its descendants, or the old tip again after it failed) must not overwrite its outcome.
    std::map<uint256, std::optional<ValidationState>> watched_checks;

    std::unique_ptr<BlockTreeDB> tree_db;
    std::unique_ptr<BlockFiles> files;
    std::unique_ptr<BlockFiles> scan_files; //!< -reindex's reader while the real infos are rebuilt
    std::unique_ptr<CoinsDB> coins_db;
    std::unique_ptr<CoinsCache> coins;
    std::unique_ptr<TxIndexDB> txindex;
    std::unique_ptr<ScriptCheckQueue> script_queue;

    bool pruned_any{false};
    int manual_prune_height{-1};
    bool loaded{false};
    bool stopped{false};
    bool loading{false};
    std::atomic<bool> fatal{false};
    //! Set once -stopatheight or a fatal error asked the node to stop; miners stop on it.
    std::atomic<bool> shutdown_requested{false};
    mutable std::atomic<bool> in_ibd{true};
    std::chrono::steady_clock::time_point last_flush;

    // Notifications (own locks).
    std::mutex listeners_mutex;
    std::vector<std::shared_ptr<ValidationListener>> listeners; // guarded by listeners_mutex
    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<Event> queue; // guarded by queue_mutex
    bool stop_queue{false};  // guarded by queue_mutex
    std::thread queue_thread;
    std::mutex tip_mutex;
    std::condition_variable tip_cv;
    uint256 tip_hash;                           // guarded by tip_mutex
    std::atomic<bool> waits_interrupted{false}; // set under tip_mutex, so a waiter cannot miss it

    int64_t Now() const;

    // Tree
    BlockIndex* Lookup(const uint256& hash) const;
    BlockIndex* AddToIndex(const BlockHeader& header);
    void RaiseValidity(BlockIndex* entry, uint32_t level);
    void ReceivedBlockTransactions(const Block& block, BlockIndex* entry, const FilePos& pos);
    void RecalculateBestHeader();
    void PruneCandidates();
    uint32_t NextWorkRequired(const BlockIndex* prev, int64_t time) const;
    uint32_t ScriptFlagsFor(const BlockIndex* prev, const uint256& hash) const;
    bool AcceptBlockHeader(const BlockHeader& header, ValidationState& state, BlockIndex** out);
    bool AcceptBlock(const std::shared_ptr<const Block>& block, ValidationState& state, BlockIndex** out, bool force,
                     bool* new_block, const FilePos* known_pos);

    // Moving the tip
    BlockIndex* FindMostWorkChain();
    void InvalidBlockFound(BlockIndex* entry, const ValidationState& state);
    bool ConnectTip(BlockIndex* entry, const std::shared_ptr<const Block>& block, ValidationState& state,
                    std::vector<Event>& events);
    bool DisconnectTip(std::vector<Event>& events);
    //! Connects the most-work chain. With `yield_lock` (the caller's hold of the chainstate's lock), lets the
    //! threads waiting for that lock in between blocks once the chain has more work than at the start.
    bool ActivateBestChain(ValidationState& state, const std::shared_ptr<const Block>& block,
                           std::unique_lock<std::recursive_mutex>* yield_lock = nullptr);
    //! Releases `lock` until the threads waiting for it got it (2 ms at the most), then takes it again.
    void YieldLock(std::unique_lock<std::recursive_mutex>& lock);
    bool IsInitialBlockDownload() const;
    //! Logs once, asks for shutdown, and stops every later flush (the cache may be half written).
    void Fatal(const std::string& message);

    // connect.cpp
    //! Core's ConnectBlock: applies `block` (whose parent is `view`'s best block) to `view`, writing its undo data
    //! unless `just_check`.
    bool ConnectBlock(const Block& block, ValidationState& state, BlockIndex* entry, CoinsCache& view, bool just_check);
    DisconnectResult DisconnectBlock(const Block& block, const BlockIndex* entry, CoinsCache& view);
    //! Whether scripts of the block at `entry` may be skipped under -assumevalid.
    bool AssumeValid(const BlockIndex* entry) const;

    // Disk
    Block ReadBlockAt(const BlockIndex* entry) const;
    BlockUndo ReadUndoAt(const BlockIndex* entry) const;
    static DiskBlockIndex ToDisk(const BlockIndex& entry);
    void WriteBlockIndex();
    void FindFilesToPrune(std::set<int>& prune_files, int manual_height);
    void FlushStateToDisk(FlushMode mode);

    // Notifications
    void Queue(std::vector<Event> events);
    void Deliver(const Event& event);
    void NotificationLoop();
    void StartNotifications();
    void StopNotifications();
    void Sync();

    // Start-up
    void Load();
    void LoadBlockIndex();
    void LoadGenesis();
    void ReplayBlocks();
    void CheckTipData();
    void Reindex();
    void LoadExternalBlocks(const std::filesystem::path& path);
    void AcceptWithOrphans(const std::shared_ptr<const Block>& block, const FilePos* pos,
                           std::multimap<uint256, Pending>& pending, int& accepted);
    void CatchUpTxIndex();
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_VALIDATION_CHAINSTATE_IMPL_H
