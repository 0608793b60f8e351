// Chain: served by orrery-node to wallets and the gui-bridge. What a wallet needs of the block
// chain: which network it is, its tip, the hash at a height, the blocks
// themselves (by hash, or walking the active chain from a height, for
// rescans), and news of the chain in the order the node applied it: each
// block connected or disconnected, with its data, then the new tip, and the
// mempool's transactions as they come and go. The gui-bridge follows it too,
// for bitcoind's ZMQ notifications.
#ifndef ORRERY_COMMON_INTERFACES_CHAIN_H
#define ORRERY_COMMON_INTERFACES_CHAIN_H

#include <common/ipc/serialize.h>
#include <common/ipc/subscription.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! A block of the active chain.
struct ChainTip {
    int64_t height{0};
    std::string hash; //!< hex, in the order bitcoind prints it
    int64_t time{0};  //!< the header's time
    ORRERY_FIELDS(height, hash, time)
};

//! A block with its place in the tree and its data, as a wallet follows the chain.
struct ChainBlock {
    int64_t height{0};
    std::string hash;          //!< hex, in the order bitcoind prints it
    std::string prev_hash;     //!< hex; all zeros for the genesis block
    int64_t time{0};           //!< the header's time
    int64_t median_time{0};    //!< median time past of the block
    std::vector<uint8_t> data; //!< the block in its Bitcoin serialization, with witnesses
    ORRERY_FIELDS(height, hash, prev_hash, time, median_time, data)
};

//! estimateSmartFee's answer: a fee rate in satoshis per 1000 virtual bytes and the target it is for, or a rate of
//! 0 (and blocks 0) when the node has no estimate yet.
struct FeeEstimate {
    int64_t fee_rate{0}; //!< sat/kvB
    int64_t blocks{0};
    ORRERY_FIELDS(fee_rate, blocks)
};

//! A mempool transaction's family, counting itself (Core's getTransactionAncestry); zeros when not in the mempool.
struct MempoolAncestry {
    int64_t ancestors{0};
    int64_t descendants{0};
    int64_t ancestor_vsize{0};
    int64_t ancestor_fees{0}; //!< with prioritisetransaction's deltas, as Core's
    ORRERY_FIELDS(ancestors, descendants, ancestor_vsize, ancestor_fees)
};

//! What the node tells a subscriber, in the order it happened (Core's Chain::Notifications).
class ChainListener
{
public:
    virtual ~ChainListener() = default;
    //! The active chain's tip is now `tip`. Also sent once at (re)subscription with the current tip.
    virtual void updatedBlockTip(ChainTip tip) = 0;
    //! `block` joined the active chain. Within a reorganization every disconnection comes first (tip down to the
    //! fork), then the connections (fork up), then one updatedBlockTip; the node applied the whole step before
    //! the first of them, so the order is exactly the node's.
    virtual void blockConnected(ChainBlock block) = 0;
    //! `block` left the active chain (it was the tip at that moment).
    virtual void blockDisconnected(ChainBlock block) = 0;
    //! `tx` (Bitcoin serialization, with witnesses) entered the mempool; `mempool_sequence` is the mempool's counter
    //! after it (bitcoind's getrawmempool mempool_sequence).
    virtual void transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence) = 0;
    //! `tx` left the mempool for `reason` (bitcoind's: "expiry", "sizelimit", "reorg", "conflict", "replaced"), not
    //! by being mined: a mined transaction comes with its blockConnected.
    virtual void transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason,
                                               uint64_t mempool_sequence) = 0;
};

class Chain
{
public:
    virtual ~Chain() = default;
    //! bitcoind's chain name: "main", "test", "testnet4", "signet" or "regtest".
    virtual std::string getChainName() = 0;
    virtual ChainTip getTip() = 0;
    //! Hash (hex) of the active chain's block at `height`; RPC_INVALID_PARAMETER "Block height out of range" past the
    //! tip.
    virtual std::string getBlockHash(int64_t height) = 0;
    //! Blocks of the active chain from `height` up, in order: at most `max_count`, and no more than about 16 MiB of
    //! block data per call (always at least one block); empty past the tip. A rescan calls it until it is empty,
    //! checking with getBlockHash that the chain did not reorganize under it. RPC_MISC_ERROR
    //! "Block not available (pruned data)" for a pruned block; RPC_INVALID_PARAMETER for a negative height.
    virtual std::vector<ChainBlock> getBlocksFrom(int64_t height, int64_t max_count) = 0;
    //! The block with `hash` (hex), in the active chain or on a fork; nullopt when unknown or its data was never
    //! stored. RPC_MISC_ERROR "Block not available (pruned data)" when pruned.
    virtual std::optional<ChainBlock> findBlock(std::string hash) = 0;
    //! Chain news, in the order the node applied it: the current tip first, at once and after each renewal
    //! (reconnection), then each blockDisconnected / blockConnected and the updatedBlockTip that closes the step.
    //! A subscriber that must not miss a block catches up with getBlocksFrom after subscribing.
    virtual std::unique_ptr<ipc::Subscription> subscribeNotifications(std::shared_ptr<ChainListener> listener) = 0;
    //! Offers `tx` (Bitcoin serialization) to the mempool as sendrawtransaction does, refusing a fee rate above
    //! `max_fee_rate` sat/kvB (0: no limit); once in, it is relayed like any mempool transaction. "" when it is in
    //! the mempool (also when it already was), otherwise sendrawtransaction's error message (the reject reason,
    //! "Transaction outputs already in utxo set", "Fee exceeds maximum configured by user ...", "TX decode failed").
    virtual std::string broadcastTransaction(std::vector<uint8_t> tx, int64_t max_fee_rate) = 0;
    //! estimatesmartfee over the node's estimator, never below what the mempool takes now. `conservative` is
    //! accepted for Core's signature; the estimator has one mode.
    virtual FeeEstimate estimateSmartFee(int64_t conf_target, bool conservative) = 0;
    //! -minrelaytxfee, sat/kvB.
    virtual int64_t relayMinFee() = 0;
    //! -incrementalrelayfee, sat/kvB (the step a replacement must add).
    virtual int64_t relayIncrementalFee() = 0;
    //! -dustrelayfee, sat/kvB (what makes an output dust; a wallet's discard rate starts there).
    virtual int64_t relayDustFee() = 0;
    //! The lowest fee rate the mempool accepts now: max(its rolling minimum, -minrelaytxfee), sat/kvB.
    virtual int64_t mempoolMinFee() = 0;
    //! The mempool family of `txid` (hex, as bitcoind prints it).
    virtual MempoolAncestry getTransactionAncestry(std::string txid) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_CHAIN_H
