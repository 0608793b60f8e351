// The chainstate: the block tree, the active chain, the UTXO set and the
// block files, and the rules that move the tip (Core's ChainstateManager and
// Chainstate in one class, since Orrery has no assumeutxo snapshot).
//
// Locking: one mutex (Core's cs_main) guards the tree, the active chain and
// the coins cache. Readers take Lock() and may keep BlockIndex pointers after
// releasing it: entries are never freed while the manager lives; read their
// mutable fields (status, n_tx, file positions) only under the lock.
//
// Notifications: listeners hear BlockConnected / BlockDisconnected /
// UpdatedBlockTip on one queue thread, in exactly the order the chainstate
// applied the changes. A reorganization is applied whole under the lock
// before its first notification is queued, so nobody sees a half reorg.
#ifndef ORRERY_SERVICES_NODE_VALIDATION_CHAINSTATE_H
#define ORRERY_SERVICES_NODE_VALIDATION_CHAINSTATE_H

#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/params.h>
#include <services/node/storage/coins.h>
#include <services/node/storage/undo.h>
#include <services/node/validation/block_index.h>
#include <services/node/validation/versionbits.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace orrery::node {

//! What the chainstate takes from the options.
struct ChainstateOptions {
    std::filesystem::path data_dir;   //!< <datadir>/<net>: chainstate/, indexes/, blocks/index/
    std::filesystem::path blocks_dir; //!< <blocksdir>/<net>/blocks (blk*.dat, rev*.dat)
    size_t dbcache_bytes{450ULL << 20};
    int script_threads{0};               //!< -par resolved: 0 = verify on the calling thread
    std::optional<uint256> assume_valid; //!< -assumevalid (nullopt: check every script)
    bool txindex{false};
    uint64_t prune_target_bytes{0}; //!< -prune in bytes; 0 = off; 1 = manual (pruneblockchain)
    bool reindex{false};
    bool reindex_chainstate{false};
    std::vector<std::filesystem::path> load_block_files; //!< -loadblock
    int stop_at_height{0};                               //!< -stopatheight; 0 = off
    std::chrono::seconds flush_interval{3600};           //!< periodic full flush of the coins cache
    size_t db_batch_bytes{16 << 20};                     //!< -dbbatchsize
    //! Tests: called after each intermediate batch of a coins flush (CoinsDB::SetBatchHook); throwing from it leaves
    //! the database as a crash in the middle of the flush would.
    std::function<void()> coins_batch_hook;
    uint64_t max_block_file_size{0}; //!< 0: 128 MiB; -fastprune and tests use small files
    //! The node's clock (mock time aware), in unix seconds.
    std::function<int64_t()> now;
    //! Asked when -stopatheight is reached or on a fatal disk error (the message says why).
    std::function<void(const std::string& reason)> request_shutdown;
};

//! The block index's LevelDB: <datadir>/<net>/blocks/index, in the data directory even when -blocksdir moves the
//! block files elsewhere, as bitcoind keeps it.
inline std::filesystem::path BlockIndexDir(const ChainstateOptions& options)
{
    return options.data_dir / "blocks" / "index";
}

//! bitcoind's verifychain and start-up check defaults (-checklevel, -checkblocks).
inline constexpr int DEFAULT_CHECKLEVEL = 3;
inline constexpr int DEFAULT_CHECKBLOCKS = 6;

//! A start-up failure (corrupt or missing files, unusable datadir); the message names the file and the fix, and
//! the node exits with it.
class ChainstateLoadError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Thrown by the block readers for data pruned away ("Block not available (pruned data)" in RPC).
class BlockPrunedError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Hears chain changes, in order, on the notification thread.
class ValidationListener
{
public:
    virtual ~ValidationListener() = default;
    virtual void BlockConnected(const std::shared_ptr<const Block>& /*block*/, const BlockIndex* /*index*/) {}
    virtual void BlockDisconnected(const std::shared_ptr<const Block>& /*block*/, const BlockIndex* /*index*/) {}
    //! After each step of ActivateBestChain: the new tip, the fork point (null on start), and IBD status.
    virtual void UpdatedBlockTip(const BlockIndex* /*tip*/, const BlockIndex* /*fork*/, bool /*ibd*/) {}
};

//! submitblock's outcome: accepted, or Core's result strings ("duplicate", "duplicate-invalid", "inconclusive",
//! or the reject reason).
struct BlockSubmitResult {
    bool accepted{false};  //!< valid and stored (it may not be on the active chain)
    bool new_block{false}; //!< not seen before
    std::string reject_reason;
    std::string debug_message;
};

//! gettxoutsetinfo's figures over the whole UTXO set at `best_block`.
struct CoinsStats {
    uint256 best_block;
    int height{0};
    uint64_t transactions{0}; //!< distinct txids with unspent outputs
    uint64_t txouts{0};
    uint64_t bogosize{0};
    Amount total_amount{0};
    uint256 hash_serialized; //!< Core's hash_serialized_3
    uint256 muhash;          //!< Core's MuHash3072 of the set
    uint64_t disk_size{0};
};

class ChainstateManager
{
public:
    ChainstateManager(const ChainParams& params, ChainstateOptions options);
    ~ChainstateManager();
    ChainstateManager(const ChainstateManager&) = delete;
    ChainstateManager& operator=(const ChainstateManager&) = delete;

    //! Opens the databases and block files, loads the tree, repairs an interrupted flush with the undo data,
    //! checks the tip's block and undo are readable, then handles -reindex / -reindex-chainstate / -loadblock
    //! (blocking: the RPC is not served before) and connects the best chain. Throws ChainstateLoadError.
    void Load();
    //! Starts the notification thread and periodic flushing.
    void Start();
    //! Flushes everything to disk and stops the threads. Idempotent.
    void Stop();

    //! The chainstate's lock (Core's cs_main). A long activation (many blocks connected in a row, as in a sync)
    //! lets waiting callers in between blocks, once the new chain has more work than the old tip: an RPC or a peer's
    //! request never waits for more than one block's connection.
    std::unique_lock<std::recursive_mutex> Lock() const;
    const ChainParams& Params() const { return m_params; }
    const ChainstateOptions& Options() const { return m_options; }

    // Reading (take Lock() around these and uses of what they return).
    const ActiveChain& Chain() const;
    const BlockIndex* Tip() const;
    int Height() const;
    const BlockIndex* LookupBlockIndex(const uint256& hash) const;
    //! The most-work header known (getblockchaininfo's "headers").
    const BlockIndex* BestHeader() const;
    //! Every entry without a child: getchaintips.
    std::vector<const BlockIndex*> ChainTips() const;
    bool IsInitialBlockDownload() const;
    //! The coin at `outpoint` in the UTXO set at the tip (cache, then database).
    std::optional<Coin> GetCoin(const OutPoint& outpoint) const;
    //! Script verification flags for a block whose parent is `prev`.
    uint32_t ScriptFlags(const BlockIndex* prev) const;
    //! Whether a buried deployment is active for the block after `prev`.
    bool DeploymentActiveAfter(const BlockIndex* prev, BuriedDeployment deployment) const;
    //! The nBits a block after `prev` with time `time` must carry.
    uint32_t NextWorkRequired(const BlockIndex* prev, int64_t time) const;
    //! The BIP9 deployments' states over this tree (getdeploymentinfo, block versions of templates).
    VersionBitsCache& VersionBits() const { return m_versionbits; }

    // Block data (no lock needed; they take it briefly). Throw BlockPrunedError for pruned data and
    // BlockFileError for unreadable data.
    Block ReadBlock(const BlockIndex* index) const;
    std::vector<uint8_t> ReadRawBlock(const BlockIndex* index) const;
    BlockUndo ReadUndo(const BlockIndex* index) const;
    //! With -txindex: the transaction and the hash of the block holding it.
    std::optional<std::pair<Transaction, uint256>> FindTransaction(const uint256& txid) const;
    bool HasTxIndex() const { return m_options.txindex; }

    // Changing the chain.
    //! Checks and stores a block, then moves to the best chain. `force` stores it even if it is not on a
    //! most-work branch (submitblock, generate*).
    BlockSubmitResult ProcessNewBlock(const std::shared_ptr<const Block>& block, bool force);
    //! Accepts headers into the tree (submitheader); false with the reject reason in `state`.
    bool ProcessNewBlockHeaders(const std::vector<BlockHeader>& headers, ValidationState& state);
    //! Every check ConnectBlock does, against the tip, without changing anything (getblocktemplate proposals,
    //! generateblock before it mines). The block's parent must be the tip.
    bool TestBlockValidity(const Block& block, ValidationState& state, bool check_pow, bool check_merkle_root);
    bool InvalidateBlock(const uint256& hash, ValidationState& state);
    bool ReconsiderBlock(const uint256& hash, ValidationState& state);
    bool PreciousBlock(const uint256& hash, ValidationState& state);
    //! Core's verifychain at `level` (0-4) over the last `depth` blocks (0 = all). The node runs it at start with
    //! -checklevel and -checkblocks (DEFAULT_CHECKLEVEL, DEFAULT_CHECKBLOCKS).
    bool VerifyChain(int level, int depth);
    //! Prunes block files holding only blocks at or below `height` (with -prune); returns the height of the
    //! last block pruned.
    int PruneBlockchain(int height);
    bool IsPruned() const { return m_options.prune_target_bytes > 0; }
    //! The lowest height whose block data is still stored.
    int PruneHeight() const;

    //! True once -stopatheight or a fatal error has asked the node to stop (generate* stop mining then).
    bool ShutdownRequested() const;

    //! Writes the coins cache, the block index and the file infos to disk now.
    void ForceFlush();
    //! gettxoutsetinfo: flushes, then walks the UTXO set.
    CoinsStats ComputeCoinsStats();
    //! scantxoutset and the like: every coin at the tip, after a flush; `fn` returns false to stop.
    void ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn);
    //! Bytes of blk, rev files and the chainstate database.
    uint64_t SizeOnDisk() const;

    void RegisterListener(std::shared_ptr<ValidationListener> listener);
    void UnregisterListener(const std::shared_ptr<ValidationListener>& listener);
    //! Returns once every notification queued before the call has been delivered.
    void SyncWithListeners();
    //! Waits until the tip differs from `current`, `timeout` passes or InterruptWaits is called; returns the tip then.
    const BlockIndex* WaitForTipChange(const uint256& current, std::chrono::milliseconds timeout);
    //! The node is stopping: every WaitForTipChange in progress returns at once, and later ones do not wait.
    void InterruptWaits();
    bool WaitsInterrupted() const;

private:
    struct Impl;
    const ChainParams& m_params;
    ChainstateOptions m_options;
    mutable std::recursive_mutex m_mutex;
    mutable std::atomic<int> m_lock_waiters{0}; //!< threads blocked in Lock()
    mutable VersionBitsCache m_versionbits; // declared before m_impl: it holds pointers to the tree's entries
    std::unique_ptr<Impl> m_impl;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_VALIDATION_CHAINSTATE_H
