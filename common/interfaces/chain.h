// Chain: served by orrery-node to wallets. What a wallet needs of the block
// chain: which network it is, its tip, the hash at a height, and news of tip
// changes.
#ifndef ORRERY_COMMON_INTERFACES_CHAIN_H
#define ORRERY_COMMON_INTERFACES_CHAIN_H

#include <common/ipc/serialize.h>
#include <common/ipc/subscription.h>

#include <cstdint>
#include <memory>
#include <string>

namespace orrery::interfaces {

//! A block of the active chain.
struct ChainTip {
    int64_t height{0};
    std::string hash; //!< hex, in the order bitcoind prints it
    int64_t time{0};  //!< the header's time
    ORRERY_FIELDS(height, hash, time)
};

class ChainListener
{
public:
    virtual ~ChainListener() = default;
    //! The active chain's tip is now `tip`. Also sent once at (re)subscription with the current tip.
    virtual void updatedBlockTip(ChainTip tip) = 0;
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
    //! Tip changes, in order; the current tip first, at once and after each renewal (reconnection).
    virtual std::unique_ptr<ipc::Subscription> subscribeNotifications(std::shared_ptr<ChainListener> listener) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_CHAIN_H
