// The node's Chain interface, served to wallets: the network's name, the tip,
// block hashes by height and tip notifications, read from the chainstate and
// fed by its ValidationListener notifications (in the order the chainstate
// applied the changes).
#ifndef ORRERY_SERVICES_NODE_CHAIN_SERVICE_H
#define ORRERY_SERVICES_NODE_CHAIN_SERVICE_H

#include <common/interfaces/chain.h>
#include <services/node/chain.h>
#include <services/node/validation/chainstate.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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

    //! Registers the service's listener with the chainstate (NotifyTip on every UpdatedBlockTip).
    void Attach();

    //! The node's tip as Chain reports it.
    interfaces::ChainTip Tip() const;
    //! Sends the current tip to every subscriber, in order. The node calls it when its tip moves.
    void NotifyTip();
    size_t SubscriberCount() const;

    // Chain
    std::string getChainName() override;
    interfaces::ChainTip getTip() override;
    std::string getBlockHash(int64_t height) override;
    std::unique_ptr<ipc::Subscription>
    subscribeNotifications(std::shared_ptr<interfaces::ChainListener> listener) override;

private:
    class Listener;
    ChainstateManager& m_chainstate;
    std::shared_ptr<ValidationListener> m_listener;
    //! Held while notifying, so that each subscriber sees the tips in order.
    std::mutex m_notify_mutex;
    //! Guards the listeners; never held while one is called.
    mutable std::mutex m_mutex;
    std::map<uint64_t, std::shared_ptr<interfaces::ChainListener>> m_listeners; // guarded by m_mutex
    uint64_t m_next_listener{1};                                                // guarded by m_mutex
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_CHAIN_SERVICE_H
