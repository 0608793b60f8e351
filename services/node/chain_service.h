// The node's Chain interface, served to wallets and the gui-bridge: the network's name, the tip,
// block hashes by height, blocks by hash or from a height, and the chain's
// news (blocks connected and disconnected, tip changes), read from the
// chainstate and fed by its ValidationListener notifications, which arrive
// on its one notification thread in the order the chainstate applied them.
#ifndef ORRERY_SERVICES_NODE_CHAIN_SERVICE_H
#define ORRERY_SERVICES_NODE_CHAIN_SERVICE_H

#include <common/interfaces/chain.h>
#include <services/node/mempool/mempool.h>
#include <services/node/validation/chainstate.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace orrery::node {

//! Thread-safe: IPC calls arrive on several threads.
class ChainService final : public interfaces::Chain, public std::enable_shared_from_this<ChainService>
{
public:
    //! `chainstate` must outlive the service. Call Attach() once the service is owned by a shared_ptr to follow
    //! the chainstate's notifications.
    explicit ChainService(ChainstateManager& chainstate);
    ~ChainService() override;

    //! Registers the service's listener with the chainstate: its block connections, disconnections and tip
    //! changes go to every subscriber, in the chainstate's order. Idempotent.
    void Attach();
    //! Unregisters the listener. Call it before the chainstate goes: the IPC server may keep the service alive
    //! longer. Idempotent.
    void Detach();
    //! Follows `mempool` too: its additions and removals (but those for a block, which its blockConnected carries)
    //! go to every subscriber through NotifyTransactionAdded/Removed, in order with the blocks. `mempool` must
    //! outlive Detach().
    void AttachMempool(Mempool& mempool);

    //! The node's tip as Chain reports it.
    interfaces::ChainTip Tip() const;
    //! Sends the current tip to every subscriber, in order.
    void NotifyTip();
    //! Sends `tip` / a connected / a disconnected block to every subscriber, in order (the chainstate's listener
    //! calls them on its notification thread).
    void NotifyTip(const interfaces::ChainTip& tip);
    void NotifyBlockConnected(const interfaces::ChainBlock& block);
    void NotifyBlockDisconnected(const interfaces::ChainBlock& block);
    //! The mempool's news for every subscriber, in order with the blocks' (the mempool calls them as it accepts and
    //! drops transactions; a transaction mined in a block is not "removed" here). `tx` is its serialization.
    void NotifyTransactionAdded(const std::vector<uint8_t>& tx, uint64_t mempool_sequence);
    void NotifyTransactionRemoved(const std::vector<uint8_t>& tx, const std::string& reason, uint64_t mempool_sequence);
    size_t SubscriberCount() const;

    // Chain
    std::string getChainName() override;
    interfaces::ChainTip getTip() override;
    std::string getBlockHash(int64_t height) override;
    std::vector<interfaces::ChainBlock> getBlocksFrom(int64_t height, int64_t max_count) override;
    std::optional<interfaces::ChainBlock> findBlock(std::string hash) override;
    std::unique_ptr<ipc::Subscription>
    subscribeNotifications(std::shared_ptr<interfaces::ChainListener> listener) override;
    std::string broadcastTransaction(std::vector<uint8_t> tx, int64_t max_fee_rate) override;
    interfaces::FeeEstimate estimateSmartFee(int64_t conf_target, bool conservative) override;
    int64_t relayMinFee() override;
    int64_t relayIncrementalFee() override;
    int64_t relayDustFee() override;
    int64_t mempoolMinFee() override;
    interfaces::MempoolAncestry getTransactionAncestry(std::string txid) override;

private:
    //! The mempool given to AttachMempool; throws (an error to the caller) before there is one.
    Mempool& RequireMempool() const;
    class Listener;
    class MempoolForwarder;
    //! Calls `send` for every subscriber; the caller holds m_notify_mutex so that each sees the news in order.
    void ForEachListener(const std::function<void(interfaces::ChainListener&)>& send);

    ChainstateManager& m_chainstate;
    std::shared_ptr<ValidationListener> m_listener;
    Mempool* m_mempool{nullptr};
    std::shared_ptr<MempoolListener> m_mempool_listener;
    //! Held while notifying, so that each subscriber sees the news in order.
    std::mutex m_notify_mutex;
    //! Guards the listeners; never held while one is called.
    mutable std::mutex m_mutex;
    std::map<uint64_t, std::shared_ptr<interfaces::ChainListener>> m_listeners; // guarded by m_mutex
    uint64_t m_next_listener{1};                                                // guarded by m_mutex
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_CHAIN_SERVICE_H
