// The node's Chain interface; see chain_service.h.
#include <services/node/chain_service.h>

#include <common/rpc/protocol.h>
#include <common/util/logging.h>

namespace orrery::node {

ChainService::ChainService(const node::Chain& chain) : m_chain(chain) {}

interfaces::ChainTip ChainService::Tip() const
{
    interfaces::ChainTip tip;
    tip.height = m_chain.Height();
    tip.hash = m_chain.TipHash().GetHex();
    tip.time = m_chain.Tip().time;
    return tip;
}

void ChainService::NotifyTip()
{
    std::lock_guard notify_lock(m_notify_mutex);
    std::vector<std::shared_ptr<interfaces::ChainListener>> listeners;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, listener] : m_listeners) listeners.push_back(listener);
    }
    interfaces::ChainTip tip = Tip();
    // A remote listener only queues the notification; one whose peer is gone sends nothing.
    for (const auto& listener : listeners) listener->updatedBlockTip(tip);
}

size_t ChainService::SubscriberCount() const
{
    std::lock_guard lock(m_mutex);
    return m_listeners.size();
}

std::string ChainService::getChainName()
{
    return m_chain.Name();
}

interfaces::ChainTip ChainService::getTip()
{
    return Tip();
}

std::string ChainService::getBlockHash(int64_t height)
{
    auto hash = m_chain.HashAt(height);
    if (!hash) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
    return hash->GetHex();
}

std::unique_ptr<ipc::Subscription>
ChainService::subscribeNotifications(std::shared_ptr<interfaces::ChainListener> listener)
{
    uint64_t id;
    {
        std::lock_guard notify_lock(m_notify_mutex); // no later tip can overtake the first one
        {
            std::lock_guard lock(m_mutex);
            id = m_next_listener++;
            m_listeners.emplace(id, listener);
        }
        listener->updatedBlockTip(Tip());
    }
    LogDebug(LogCategory::IPC, "Chain subscription {} added", id);
    std::weak_ptr<ChainService> weak = weak_from_this();
    return std::make_unique<ipc::CallbackSubscription>([weak, id] {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lock(self->m_mutex);
        self->m_listeners.erase(id);
    });
}

} // namespace orrery::node
