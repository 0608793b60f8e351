// The node's mempool: unconfirmed transactions that pass Bitcoin Core's
// policy (services/node/mempool/policy.h) against the chainstate's UTXO set
// plus the outputs of other mempool transactions. It keeps each entry's
// parents and children, enforces the ancestor/descendant limits, replaces by
// fee (Core 28's rules), applies the TRUC (version 3) rules, evicts the lowest
// descendant fee rate when over -maxmempool, expires old entries, follows the
// chain (confirmed and conflicting transactions leave on connect, block
// transactions come back on disconnect), selects transactions for block
// templates and reads and writes mempool.dat.
//
// Locking: the chainstate's lock is always taken before the mempool's own
// (acceptance reads the UTXO set under both). The mempool follows the chain
// through the chainstate's ValidationListener notifications, which arrive on
// the notification thread after the chain moved; acceptance first waits until
// the mempool has heard of the current tip, so it never judges a transaction
// against a chain the mempool has not caught up with.
//
// Notifications: MempoolListener hears every addition and removal in the
// order they happen, each with the mempool sequence number it took
// (getrawmempool's mempool_sequence), and removals for a block before the
// block's own BlockConnected reaches listeners registered after the mempool.
// Relay (peers) and the Chain interface for wallets hook in there.
#ifndef ORRERY_SERVICES_NODE_MEMPOOL_MEMPOOL_H
#define ORRERY_SERVICES_NODE_MEMPOOL_MEMPOOL_H

#include <common/consensus/amount.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>
#include <services/node/mempool/fee_estimator.h>
#include <services/node/mempool/policy.h>
#include <services/node/validation/chainstate.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::node {

//! What the mempool takes from the options (-maxmempool, -minrelaytxfee, ...), with Core 28's defaults.
struct MempoolOptions {
    StandardnessOptions standard;
    //! !-acceptnonstdtxn: the standardness rules apply (they always do on main).
    bool require_standard{true};
    FeeRate min_relay_fee{DEFAULT_MIN_RELAY_TX_FEE};                               //!< -minrelaytxfee
    FeeRate incremental_relay_fee{DEFAULT_INCREMENTAL_RELAY_FEE};                  //!< -incrementalrelayfee
    int64_t bytes_per_sigop{DEFAULT_BYTES_PER_SIGOP};                              //!< -bytespersigop
    int64_t max_size_bytes{DEFAULT_MAX_MEMPOOL_SIZE_MB * 1'000'000};               //!< -maxmempool in bytes
    std::chrono::seconds expiry{std::chrono::hours{DEFAULT_MEMPOOL_EXPIRY_HOURS}}; //!< -mempoolexpiry
    int64_t ancestor_count{DEFAULT_ANCESTOR_LIMIT};                                //!< -limitancestorcount
    int64_t ancestor_size_vbytes{DEFAULT_ANCESTOR_SIZE_LIMIT_KVB * 1000};          //!< -limitancestorsize in vbytes
    int64_t descendant_count{DEFAULT_DESCENDANT_LIMIT};                            //!< -limitdescendantcount
    int64_t descendant_size_vbytes{DEFAULT_DESCENDANT_SIZE_LIMIT_KVB * 1000};      //!< -limitdescendantsize in vbytes
    bool full_rbf{true};                                                           //!< -mempoolfullrbf
    bool persist{true};                                                            //!< -persistmempool
    bool persist_v1{false};         //!< -persistmempoolv1: write version 1 (no XOR key)
    std::filesystem::path data_dir; //!< mempool.dat and fee_estimates live here; empty: nothing on disk
    //! The node's clock (mock time aware), unix seconds; null: the system clock.
    std::function<int64_t()> now;
};

//! Why a transaction left the mempool (Core's MemPoolRemovalReason).
enum class RemovalReason { EXPIRY, SIZELIMIT, REORG, BLOCK, CONFLICT, REPLACED };
//! Core's names: "expiry", "sizelimit", "reorg", "block", "conflict", "replaced".
std::string_view RemovalReasonName(RemovalReason reason);

//! One transaction in the mempool.
struct MempoolEntry {
    std::shared_ptr<const Transaction> tx;
    uint256 txid;
    uint256 wtxid;
    Amount fee{0};       //!< inputs minus outputs
    Amount fee_delta{0}; //!< prioritisetransaction's adjustment
    int64_t vsize{0};    //!< sigop-adjusted virtual size
    int64_t weight{0};
    int64_t sigop_cost{0};
    int64_t time{0};  //!< when it entered, unix seconds
    int height{0};    //!< the tip's height when it entered
    int64_t usage{0}; //!< heap bytes it takes (estimate from its vectors' sizes)
    uint64_t entry_sequence{0};
    bool spends_coinbase{false};
    std::set<uint256> parents;  //!< in-mempool transactions it spends
    std::set<uint256> children; //!< in-mempool transactions that spend it
    Amount ModifiedFee() const { return fee + fee_delta; }
};

//! Sums over a set of entries (ancestors or descendants, the entry included).
struct PackageTotals {
    int64_t count{0};
    int64_t vsize{0};
    Amount modified_fees{0};
    int64_t sigop_cost{0};
};

//! Hears the mempool's changes in order. Called with the mempool's lock held: a listener must not call the
//! mempool back, and should hand slow work to another thread.
class MempoolListener
{
public:
    virtual ~MempoolListener() = default;
    virtual void TransactionAdded(const MempoolEntry& /*entry*/, uint64_t /*mempool_sequence*/) {}
    virtual void TransactionRemoved(const std::shared_ptr<const Transaction>& /*tx*/, RemovalReason /*reason*/,
                                    uint64_t /*mempool_sequence*/)
    {
    }
};

//! The outcome of one transaction's acceptance (Core's MempoolAcceptResult and TxValidationState together).
struct AcceptResult {
    enum class Failure {
        NONE,
        MISSING_INPUTS, //!< bad-txns-inputs-missingorspent
        ALREADY_KNOWN,  //!< its outputs are in the UTXO set (txn-already-known)
        IN_MEMPOOL,     //!< the same wtxid is already in the mempool
        RECONSIDERABLE, //!< fee too low alone: a package could still carry it
        CONSENSUS,      //!< invalid whatever the policy
        POLICY,
    };
    bool accepted{false}; //!< valid (added, unless testing)
    Failure failure{Failure::NONE};
    std::string reject_reason;
    std::string debug_message;
    uint256 txid;
    uint256 wtxid;
    int64_t vsize{0};
    Amount fee{0};          //!< base fee
    Amount modified_fee{0}; //!< with prioritisation
    //! The fee rate that was checked (the package's for a package) and the wtxids whose fees it counts.
    FeeRate effective_feerate;
    std::vector<uint256> effective_includes;
    std::vector<uint256> replaced; //!< txids evicted by this replacement
    //! Core's "reason, debug" form (sendrawtransaction's error message).
    std::string ToString() const
    {
        return debug_message.empty() ? reject_reason : reject_reason + ", " + debug_message;
    }
};

//! submitpackage's outcome.
struct PackageResult {
    std::string message{"success"};    //!< Core's package_msg
    std::vector<AcceptResult> results; //!< one per transaction, in the package's order
};

//! getmempoolinfo's figures.
struct MempoolInfo {
    bool loaded{false};
    int64_t size{0};
    int64_t bytes{0}; //!< sum of vsizes
    int64_t usage{0};
    Amount total_fee{0};
    int64_t max_size_bytes{0};
    FeeRate min_fee; //!< max(rolling minimum, -minrelaytxfee)
    FeeRate min_relay_fee;
    FeeRate incremental_relay_fee;
    int64_t unbroadcast{0};
    bool full_rbf{true};
};

class Mempool
{
public:
    //! `chainstate` must outlive the mempool. Call Attach() once the chainstate is loaded to follow its chain.
    Mempool(ChainstateManager& chainstate, MempoolOptions options);
    ~Mempool();
    Mempool(const Mempool&) = delete;
    Mempool& operator=(const Mempool&) = delete;

    //! Registers the mempool's listener with the chainstate (register it before other listeners that must hear
    //! removals for a block first) and notes the current tip.
    void Attach();
    //! Unregisters the listener. Idempotent.
    void Detach();
    const MempoolOptions& Options() const { return m_options; }

    // ---- acceptance
    //! Core's AcceptToMemoryPool for one transaction. With `test_only` nothing changes (testmempoolaccept).
    //! `max_fee` > 0 refuses a base fee above it ("max-fee-exceeded", as testmempoolaccept reports it).
    AcceptResult AcceptTransaction(const Transaction& tx, bool test_only = false, Amount max_fee = 0);
    //! testmempoolaccept of several transactions: each in turn, later ones may spend earlier ones' outputs;
    //! nothing changes.
    std::vector<AcceptResult> TestPackage(const std::vector<Transaction>& txs, FeeRate max_fee_rate);
    //! submitpackage: a child with its one unconfirmed parent (1-parent-1-child), or a lone transaction. The
    //! parent may pay less than the minimum fee when the package's fee rate pays for both. Throws
    //! std::invalid_argument for another shape ("package topology disallowed..." as Core says).
    PackageResult SubmitPackage(const std::vector<Transaction>& txs, FeeRate max_fee_rate);

    // ---- reading (each takes the lock)
    bool Exists(const uint256& txid) const;
    std::optional<MempoolEntry> GetEntry(const uint256& txid) const;
    std::shared_ptr<const Transaction> GetTransaction(const uint256& txid) const;
    //! Every entry, in the order they entered.
    std::vector<MempoolEntry> Entries() const;
    //! Txids of the entries and the current mempool sequence, read together.
    std::pair<std::vector<uint256>, uint64_t> TxidsAndSequence() const;
    //! The in-mempool ancestors / descendants of `txid`, itself excluded (nullopt if not in the mempool).
    std::optional<std::vector<uint256>> Ancestors(const uint256& txid) const;
    std::optional<std::vector<uint256>> Descendants(const uint256& txid) const;
    //! Totals over the entry and its ancestors / descendants.
    PackageTotals AncestorTotals(const uint256& txid) const;
    PackageTotals DescendantTotals(const uint256& txid) const;
    //! The txid of the mempool transaction spending `outpoint`, if any.
    std::optional<uint256> SpenderOf(const OutPoint& outpoint) const;
    //! BIP125 replaceability as getmempoolentry reports it: it or an in-mempool ancestor signals.
    bool IsReplaceable(const uint256& txid) const;
    MempoolInfo Info() const;
    size_t Size() const;
    uint64_t Sequence() const;
    //! Bumped on every change (getblocktemplate's longpollid).
    uint64_t TransactionsUpdated() const { return m_transactions_updated.load(); }
    //! The lowest fee rate the mempool takes now (rolling minimum, or 0), Core's GetMinFee.
    FeeRate GetMinFee() const;

    // ---- prioritisation
    //! prioritisetransaction: adds `delta` satoshis to the fee the mempool counts for `txid` (also for a
    //! transaction not yet in it).
    void PrioritiseTransaction(const uint256& txid, Amount delta);
    //! getprioritisedtransactions: txid → (delta, in mempool, modified fee when in mempool).
    struct Prioritisation {
        Amount delta{0};
        bool in_mempool{false};
        Amount modified_fee{0};
    };
    std::map<uint256, Prioritisation> Prioritisations() const;

    // ---- blocks
    //! A transaction chosen for a block template.
    struct BlockCandidate {
        std::shared_ptr<const Transaction> tx;
        uint256 txid;
        uint256 wtxid;
        Amount fee{0}; //!< base fee (what the coinbase may claim)
        int64_t sigop_cost{0};
        int64_t weight{0};
    };
    //! Transactions for a block template, parents before children, by ancestor fee rate with prioritisation
    //! (Core's addPackageTxs), within `max_weight` and `max_sigop_cost`.
    std::vector<BlockCandidate> SelectForBlock(int64_t max_weight, int64_t max_sigop_cost);

    // ---- mempool.dat
    //! Writes mempool.dat (version 2 with an XOR key, or 1 with persist_v1) atomically. False on failure.
    bool Dump();
    //! Reads mempool.dat if present, accepting each transaction against the current chain (expired ones
    //! skipped), then marks the mempool loaded. Returns the number accepted.
    size_t Load();
    bool IsLoaded() const { return m_loaded.load(); }
    std::filesystem::path DumpPath() const { return m_options.data_dir / "mempool.dat"; }

    // ---- broadcast
    //! A transaction submitted locally (sendrawtransaction) waits for its first relay to a peer.
    void AddUnbroadcast(const uint256& txid);
    //! Relay calls it once a peer asked for the transaction.
    void RemoveUnbroadcast(const uint256& txid);
    bool IsUnbroadcast(const uint256& txid) const;

    // ---- fee estimation
    const FeeEstimator& Estimator() const { return m_estimator; }

    // ---- notifications
    void RegisterListener(std::shared_ptr<MempoolListener> listener);
    void UnregisterListener(const std::shared_ptr<MempoolListener>& listener);

    //! Expires entries older than -mempoolexpiry and trims to -maxmempool (the node's maintenance calls it; each
    //! acceptance does too).
    void LimitSize();

    // Chain events (the chainstate's listener calls them; tests may call them directly in order).
    void OnBlockConnected(const Block& block, const BlockIndex* index);
    void OnBlockDisconnected(const Block& block, const BlockIndex* index);
    void OnUpdatedTip(const BlockIndex* tip);

private:
    class ChainListener;
    struct AcceptArgs;
    struct Candidate;

    int64_t Now() const;
    //! Waits until the mempool has processed the chainstate's tip; returns with both locks held.
    std::pair<std::unique_lock<std::recursive_mutex>, std::unique_lock<std::recursive_mutex>> LockSynced();

    AcceptResult AcceptLocked(const Transaction& tx, const AcceptArgs& args);
    //! mempool.dat's transactions: the normal rules, keeping the entry time. Both locks held.
    AcceptResult AcceptWithTimeLocked(const Transaction& tx, int64_t time);
    bool PreChecks(Candidate& c, const AcceptArgs& args, AcceptResult& result);
    bool CheckAncestorLimits(Candidate& c, AcceptResult& result);
    bool CheckTruc(Candidate& c, AcceptResult& result);
    bool CheckReplacement(Candidate& c, AcceptResult& result);
    bool CheckScripts(Candidate& c, AcceptResult& result);
    void AddLocked(Candidate& c, int64_t time);

    std::set<uint256> AncestorsLocked(const uint256& txid) const;
    std::set<uint256> DescendantsLocked(const uint256& txid) const;
    PackageTotals TotalsLocked(const uint256& txid, const std::set<uint256>& others) const;
    //! Removes one entry, unlinking it (callers remove descendants first or keep them, as the reason wants).
    void RemoveEntryLocked(const uint256& txid, RemovalReason reason);
    //! Removes `txid` with every descendant, children first.
    void RemoveWithDescendantsLocked(const uint256& txid, RemovalReason reason);
    void TrimToSizeLocked(int64_t limit, std::vector<OutPoint>* no_spends_remaining);
    size_t ExpireLocked(int64_t cutoff);
    void LimitSizeLocked();
    FeeRate GetMinFeeLocked() const;
    int64_t UsageLocked() const { return m_total_usage; }
    //! Re-accepts what a reorganization took out of blocks, and rechecks what stayed (see doc/mempool.md).
    void UpdateForReorgLocked();

    ChainstateManager& m_chainstate;
    const MempoolOptions m_options;
    std::shared_ptr<ValidationListener> m_chain_listener;

    mutable std::recursive_mutex m_mutex;
    std::map<uint256, MempoolEntry> m_entries; // guarded by m_mutex
    std::map<uint256, uint256> m_by_wtxid;     // guarded by m_mutex
    std::map<OutPoint, uint256> m_spenders;    // guarded by m_mutex: outpoint → the entry spending it
    std::map<uint256, Amount> m_deltas;        // guarded by m_mutex: prioritisetransaction
    std::set<uint256> m_unbroadcast;           // guarded by m_mutex
    int64_t m_total_vsize{0};                  // guarded by m_mutex
    int64_t m_total_usage{0};                  // guarded by m_mutex
    Amount m_total_fee{0};                     // guarded by m_mutex
    uint64_t m_sequence{1};                    // guarded by m_mutex: Core starts at 1
    uint64_t m_next_entry_sequence{0};         // guarded by m_mutex
    double m_rolling_min_fee{0};               // guarded by m_mutex: sat/kvB
    int64_t m_last_rolling_update{0};          // guarded by m_mutex
    bool m_block_since_bump{false};            // guarded by m_mutex
    uint256 m_tip;                             // guarded by m_mutex: the tip the mempool has processed
    //! Transactions of blocks a reorganization disconnected, oldest block first, waiting for the new tip.
    std::vector<std::shared_ptr<const Transaction>> m_disconnected; // guarded by m_mutex
    std::vector<std::shared_ptr<MempoolListener>> m_listeners;      // guarded by m_mutex
    std::atomic<uint64_t> m_transactions_updated{0};
    std::atomic<bool> m_loaded{false};
    FeeEstimator m_estimator;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_MEMPOOL_MEMPOOL_H
