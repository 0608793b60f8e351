// The node's Chain interface; see chain_service.h.
#include <services/node/chain_service.h>

#include <common/rpc/protocol.h>
#include <common/util/logging.h>

namespace orrery::node {

//! Hands the chainstate's tip changes to the service, on the chainstate's notification thread.
class ChainService::Listener final : public ValidationListener
{
public:
    explicit Listener(std::weak_ptr<ChainService> service) : m_service(std::move(service)) {}
    void UpdatedBlockTip(const BlockIndex*, const BlockIndex*, bool) override
    {
        if (auto service = m_service.lock()) service->NotifyTip();
    }

private:
    std::weak_ptr<ChainService> m_service;
};

ChainService::ChainService(ChainstateManager& chainstate) : m_chainstate(chainstate) {}

ChainService::~ChainService()
{
    if (m_listener) m_chainstate.UnregisterListener(m_listener);
}

void ChainService::Attach()
{
    if (m_listener) return;
    m_listener = std::make_shared<Listener>(weak_from_this());
    m_chainstate.RegisterListener(m_listener);
}

interfaces::ChainTip ChainService::Tip() const
{
    interfaces::ChainTip tip;
    auto lock = m_chainstate.Lock();
    const BlockIndex* index = m_chainstate.Tip();
    if (index == nullptr) return tip;
    tip.height = index->height;
    tip.hash = index->hash.GetHex();
    tip.time = index->header.time;
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
    return ChainTypeToString(m_chainstate.Params().type);
}

interfaces::ChainTip ChainService::getTip()
{
    return Tip();
}

std::string ChainService::getBlockHash(int64_t height)
{
    auto lock = m_chainstate.Lock();
    const BlockIndex* index =
        height < 0 || height > m_chainstate.Height() ? nullptr : m_chainstate.Chain()[static_cast<int>(height)];
    if (index == nullptr) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
    return index->hash.GetHex();
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
