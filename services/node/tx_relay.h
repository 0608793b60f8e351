// The bookkeeping of transaction relay (doc/relay.md), kept apart from IPC,
// the mempool and the clock so that tests drive it directly: the orphanage
// (transactions whose parents are missing), the download tracker (which peer
// to ask for an announced transaction, and when to ask another), the trickle
// timers (when each peer's next inv of transactions is due), the feefilter
// rounding, and the bounded "recently seen" sets behind Core's rolling bloom
// filters. Nothing here locks: NodeService holds its relay mutex around it.
#ifndef ORRERY_SERVICES_NODE_TX_RELAY_H
#define ORRERY_SERVICES_NODE_TX_RELAY_H

#include <common/consensus/amount.h>
#include <common/consensus/block.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace orrery::node {

// Bitcoin Core 28's figures (net_processing.cpp, txorphanage.h, txrequest.h).
inline constexpr size_t DEFAULT_MAX_ORPHAN_TRANSACTIONS = 100; //!< -maxorphantx
inline constexpr int64_t ORPHAN_TX_EXPIRE_TIME_S = 20 * 60;    //!< an orphan lives 20 minutes
inline constexpr int64_t ORPHAN_TX_EXPIRE_INTERVAL_S = 5 * 60; //!< expired orphans are swept this often
inline constexpr int64_t INBOUND_INVENTORY_BROADCAST_INTERVAL_US = 5'000'000;
inline constexpr int64_t OUTBOUND_INVENTORY_BROADCAST_INTERVAL_US = 2'000'000;
inline constexpr size_t INVENTORY_BROADCAST_PER_SECOND = 14;
inline constexpr size_t INVENTORY_BROADCAST_TARGET = INVENTORY_BROADCAST_PER_SECOND * 5;
inline constexpr size_t INVENTORY_BROADCAST_MAX = 1000;
inline constexpr size_t INVENTORY_MAX_RECENT_RELAY = 3500; //!< what a peer may fetch after we announced it
inline constexpr size_t TX_INVENTORY_KNOWN_SIZE = 50'000;  //!< per peer: what it announced or was sent
inline constexpr size_t RECENT_REJECTS_SIZE = 120'000;
inline constexpr size_t RECENT_CONFIRMED_SIZE = 48'000;
inline constexpr size_t MAX_PEER_TX_ANNOUNCEMENTS = 5000;
inline constexpr size_t MAX_PEER_TX_REQUEST_IN_FLIGHT = 100;
inline constexpr int64_t GETDATA_TX_INTERVAL_US = 60'000'000;  //!< a request unanswered this long goes elsewhere
inline constexpr int64_t NONPREF_PEER_TX_DELAY_US = 2'000'000; //!< inbound peers are asked after outbound ones
inline constexpr int64_t TXID_RELAY_DELAY_US = 2'000'000;      //!< txid announcements wait while wtxid peers exist
inline constexpr int64_t OVERLOADED_PEER_TX_DELAY_US = 2'000'000;
inline constexpr int64_t AVG_FEEFILTER_BROADCAST_INTERVAL_US = 10 * 60 * 1'000'000LL;
inline constexpr int64_t MAX_FEEFILTER_CHANGE_DELAY_US = 5 * 60 * 1'000'000LL;
inline constexpr int64_t UNBROADCAST_RETRY_MIN_US = 10 * 60 * 1'000'000LL; //!< re-announce unbroadcast txs
inline constexpr int64_t UNBROADCAST_RETRY_SPREAD_US = 5 * 60 * 1'000'000LL;

//! Core's rand_exp_duration: an exponentially distributed delay of mean `mean_us` (a Poisson process's gaps).
int64_t ExponentialDelay(std::mt19937_64& rng, int64_t mean_us);

//! A set of at most about `capacity` hashes that forgets the oldest half when full: Core's
//! CRollingBloomFilter without its false positives. Ordered sets, because peers choose the keys.
class RollingHashSet
{
public:
    explicit RollingHashSet(size_t capacity) : m_half(std::max<size_t>(1, capacity / 2)) {}
    void Insert(const uint256& hash);
    bool Contains(const uint256& hash) const { return m_current.count(hash) || m_previous.count(hash); }
    void Clear();

private:
    size_t m_half;
    std::set<uint256> m_current;
    std::set<uint256> m_previous;
};

//! Transactions whose inputs are missing, kept (bounded) until a parent arrives: Core's TxOrphanage.
class TxOrphanage
{
public:
    struct Orphan {
        std::shared_ptr<const Transaction> tx;
        uint256 txid;
        uint256 wtxid;
        int64_t from_peer{0};
        int64_t expire_time{0}; //!< unix seconds
    };

    //! Keeps `tx` from `peer`. False (nothing kept) when it is there already or weighs more than a standard
    //! transaction may (Core's "ignoring large orphan tx").
    bool AddTx(std::shared_ptr<const Transaction> tx, int64_t peer, int64_t now);
    bool HaveTx(const uint256& wtxid) const { return m_orphans.count(wtxid) != 0; }
    //! Whether an orphan has this txid (whatever its witness).
    bool HaveTxid(const uint256& txid) const;
    const Orphan* Find(const uint256& wtxid) const;
    //! Forgets one orphan; false if unknown.
    bool EraseTx(const uint256& wtxid);
    //! Forgets what `peer` sent (it disconnected). Returns how many.
    size_t EraseForPeer(int64_t peer);
    //! Forgets orphans the block confirms or conflicts with. Returns how many.
    size_t EraseForBlock(const Block& block);
    //! Expires orphans past their time (swept at most every ORPHAN_TX_EXPIRE_INTERVAL_S), then evicts
    //! random ones until at most `max_orphans` remain. Returns the wtxids that left.
    std::vector<uint256> LimitOrphans(size_t max_orphans, int64_t now, std::mt19937_64& rng);
    //! Orphans spending an output of `parent`, each with the peer that sent it, in a stable order.
    std::vector<Orphan> ChildrenOf(const Transaction& parent, const uint256& parent_txid) const;
    size_t Size() const { return m_orphans.size(); }
    //! Every orphan by wtxid (compact block reconstruction looks through them).
    const std::map<uint256, Orphan>& All() const { return m_orphans; }

private:
    void EraseLocked(std::map<uint256, Orphan>::iterator it);

    std::map<uint256, Orphan> m_orphans;                //!< by wtxid
    std::map<OutPoint, std::set<uint256>> m_by_prevout; //!< outpoint → wtxids of orphans spending it
    int64_t m_next_sweep{0};
};

//! When each peer's next inv of transactions is due (Core's m_next_inv_send_time): outbound peers on
//! their own exponential timers of mean 2 s, inbound peers all on one shared timer of mean 5 s, so that
//! a spy with many inbound connections learns no more than with one. Noban peers are always due.
class TrickleScheduler
{
public:
    explicit TrickleScheduler(uint64_t seed) : m_rng(seed) {}
    //! Whether `peer` may be sent its queued announcements at `now_us`; when its timer ran out, draws the next.
    bool Due(int64_t peer, bool inbound, bool noban, int64_t now_us);
    //! The peer's next due time (0: never drawn yet, so due at once).
    int64_t NextFor(int64_t peer) const;
    void RemovePeer(int64_t peer) { m_next.erase(peer); }

private:
    std::mt19937_64 m_rng;
    std::map<int64_t, int64_t> m_next;
    int64_t m_next_inbound{0};
};

//! Core's FeeFilterRounder: the fee rates we tell peers are rounded to buckets 10% apart (downwards two
//! times out of three), so the exact mempool minimum does not identify us.
class FeeFilterRounder
{
public:
    FeeFilterRounder(Amount min_incremental_fee_per_kvb, uint64_t seed);
    Amount Round(Amount fee_rate);

private:
    std::set<double> m_buckets;
    std::mt19937_64 m_rng;
};

//! Which peer to ask for an announced transaction, and when (Core's TxRequestTracker, simplified): each
//! (peer, hash) announcement becomes ready at its request time; of the ready ones a preferred (outbound or
//! noban) peer's comes first, then the earliest. One request per hash is out at a time; an answer, a
//! notfound, a timeout (60 s) or the peer leaving passes the hash to the next announcer.
class TxDownload
{
public:
    struct Request {
        uint256 hash;
        bool wtxid{false};
    };
    //! Records an announcement; ignored when the peer has MAX_PEER_TX_ANNOUNCEMENTS pending and no relay
    //! permission, or already announced it.
    void ReceivedInv(int64_t peer, const uint256& hash, bool wtxid, bool preferred, int64_t request_time_us,
                     bool relay_permission = false);
    //! The requests to send now, per peer, marked in flight until `now_us` + GETDATA_TX_INTERVAL_US.
    std::map<int64_t, std::vector<Request>> RequestsToSend(int64_t now_us);
    //! The peer answered (tx or notfound) for `hash`.
    void ReceivedResponse(int64_t peer, const uint256& hash);
    //! No peer needs asking for `hash` any more (we have it, or rejected it).
    void ForgetTxHash(const uint256& hash);
    void DisconnectedPeer(int64_t peer);
    size_t CountInFlight(int64_t peer) const;
    size_t CountAnnouncements(int64_t peer) const;
    size_t Size() const { return m_hashes.size(); }

private:
    struct Announcement {
        int64_t peer{0};
        bool wtxid{false};
        bool preferred{false};
        int64_t request_time_us{0};
        uint64_t order{0};
        bool in_flight{false};
        int64_t expiry_us{0};
    };
    std::map<uint256, std::vector<Announcement>> m_hashes;
    std::map<int64_t, size_t> m_per_peer;
    uint64_t m_order{0};
};

//! What the node keeps for relaying transactions with one peer (Core's Peer::TxRelay and friends).
struct PeerRelay {
    bool inbound{false};
    bool preferred{false};   //!< outbound or noban: asked first for transactions
    uint32_t permissions{0}; //!< NetPermissionFlags
    bool wtxid_relay{false}; //!< BIP339 negotiated: announcements by wtxid
    bool relay_txs{false};   //!< the peer wants our transaction announcements (its version's relay flag)
    bool tx_relay{false};    //!< a transaction relay link at all (not block-relay-only, not a feeler)
    bool feefilter{false};   //!< the peer understands feefilter (protocol 70013)
    Amount fee_filter_received{0};
    Amount fee_filter_sent{0};
    int64_t next_feefilter_us{0};
    std::set<uint256> to_send; //!< (w)txids to announce at the next trickle
    RollingHashSet known{TX_INVENTORY_KNOWN_SIZE};
    RollingHashSet recently_announced{INVENTORY_MAX_RECENT_RELAY};
    //! The mempool sequence when the last inv went out: what entered before may be fetched (Core's rule).
    uint64_t last_inv_sequence{1};
    bool send_mempool{false};
};

//! The node's relay state, guarded by NodeService's relay mutex.
struct RelayState {
    explicit RelayState(uint64_t seed) : trickle(seed), rng(seed ^ 0x5eed) {}
    std::map<int64_t, PeerRelay> peers;
    TxOrphanage orphanage;
    TxDownload download;
    TrickleScheduler trickle;
    std::optional<FeeFilterRounder> fee_rounder;
    std::mt19937_64 rng;
    //! Rejected wtxids (and txids when the witness cannot matter), forgotten at each new tip.
    RollingHashSet recent_rejects{RECENT_REJECTS_SIZE};
    //! Rejected only for a fee too low alone (a package could carry them), forgotten at each new tip.
    RollingHashSet recent_rejects_reconsiderable{RECENT_REJECTS_SIZE};
    //! Txids and wtxids of transactions in recent blocks, forgotten when a block is disconnected.
    RollingHashSet recent_confirmed{RECENT_CONFIRMED_SIZE};
    //! The mempool as the relay heard it (its listener): txid → the mempool sequence it entered at.
    std::map<uint256, uint64_t> mempool_sequence;
    std::map<uint256, uint256> mempool_wtxids; //!< wtxid → txid of mempool transactions
    int64_t next_unbroadcast_us{0};
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_TX_RELAY_H
