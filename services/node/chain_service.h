// The node's Chain interface, served to wallets: the network's name, the tip,
// block hashes by height, blocks by hash or from a height, and the chain's
// news (blocks connected and disconnected, tip changes) in the order the node
// applied it.
//
// The service starts over the node's genesis-only chain view; once the
// chainstate is attached (AttachChainstate, in chain_service_blocks.cpp) it
// reads the tip and the blocks there and relays the chainstate's
// notifications, which arrive on its one notification thread in order.
#ifndef ORRERY_SERVICES_NODE_CHAIN_SERVICE_H
#define ORRERY_SERVICES_NODE_CHAIN_SERVICE_H

#include <common/interfaces/chain.h>
#include <services/node/chain.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace orrery::node {

class ChainstateManager;

//! Thread-safe: IPC calls arrive on several threads.
class ChainService final : public interfaces::Chain, public std::enable_shared_from_this<ChainService>
{
public:
    //! `chain` must outlive the service.
    explicit ChainService(const node::Chain& chain);
    ~ChainService() override;

    //! Reads the tip and blocks from `chainstate` from now on and relays its notifications to the subscribers.
    //! Call once, on a service held by a shared_ptr; `chainstate` must outlive the service or DetachChainstate.
    void AttachChainstate(ChainstateManager& chainstate);
    //! Stops relaying the chainstate's notifications (before the chainstate stops). Idempotent.
    void DetachChainstate();

    //! The node's tip as Chain reports it.
    interfaces::ChainTip Tip() const;
    //! Sends the current tip to every subscriber, in order.
    void NotifyTip();
    //! Sends a connected / disconnected block to every subscriber, in order (the chainstate's listener calls them).
    void NotifyBlockConnected(const interfaces::ChainBlock& block);
    void NotifyBlockDisconnected(const interfaces::ChainBlock& block);
    //! Sends `tip` to every subscriber.
    void NotifyTip(const interfaces::ChainTip& tip);
    size_t SubscriberCount() const;

    // Chain
    std::string getChainName() override;
    interfaces::ChainTip getTip() override;
    std::string getBlockHash(int64_t height) override;
    std::vector<interfaces::ChainBlock> getBlocksFrom(int64_t height, int64_t max_count) override;
    std::optional<interfaces::ChainBlock> findBlock(std::string hash) override;
    std::unique_ptr<ipc::Subscription>
    subscribeNotifications(std::shared_ptr<interfaces::ChainListener> listener) override;

private:
    //! What the chainstate answers once attached (chain_service_blocks.cpp).
    struct Reader {
        std::function<interfaces::ChainTip()> tip;
        std::function<std::optional<std::string>(int64_t)> hash_at;
        std::function<std::vector<interfaces::ChainBlock>(int64_t, int64_t)> blocks_from;
        std::function<std::optional<interfaces::ChainBlock>(const std::string&)> find_block;
    };
    std::shared_ptr<const Reader> GetReader() const;
    //! Calls `send` for every subscriber, holding m_notify_mutex so that each sees the news in order.
    void ForEachListener(const std::function<void(interfaces::ChainListener&)>& send);

    const node::Chain& m_chain;
    //! Held while notifying, so that each subscriber sees the news in order.
    std::mutex m_notify_mutex;
    //! Guards the listeners and the reader; never held while one is called.
    mutable std::mutex m_mutex;
    std::map<uint64_t, std::shared_ptr<interfaces::ChainListener>> m_listeners; // guarded by m_mutex
    uint64_t m_next_listener{1};                                                // guarded by m_mutex
    std::shared_ptr<const Reader> m_reader;                                     // guarded by m_mutex
    //! Unregisters the chainstate listener; set by AttachChainstate.
    std::function<void()> m_detach; // guarded by m_mutex
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_CHAIN_SERVICE_H
