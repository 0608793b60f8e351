// The node's Chain interface; see chain_service.h.
#include <services/node/chain_service.h>

#include <common/rpc/protocol.h>
#include <common/util/logging.h>

namespace orrery::node {

ChainService::ChainService(const node::Chain& chain) : m_chain(chain) {}

ChainService::~ChainService()
{
    DetachChainstate();
}

void ChainService::DetachChainstate()
{
    std::function<void()> detach;
    {
        std::lock_guard lock(m_mutex);
        detach = std::move(m_detach);
        m_detach = nullptr;
    }
    if (detach) detach();
}

std::shared_ptr<const ChainService::Reader> ChainService::GetReader() const
{
    std::lock_guard lock(m_mutex);
    return m_reader;
}

interfaces::ChainTip ChainService::Tip() const
{
    if (auto reader = GetReader()) return reader->tip();
    interfaces::ChainTip tip;
    tip.height = m_chain.Height();
    tip.hash = m_chain.TipHash().GetHex();
    tip.time = m_chain.Tip().time;
    return tip;
}

void ChainService::ForEachListener(const std::function<void(interfaces::ChainListener&)>& send)
{
    std::vector<std::shared_ptr<interfaces::ChainListener>> listeners;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, listener] : m_listeners) listeners.push_back(listener);
    }
    // A remote listener only queues the notification; one whose peer is gone sends nothing.
    for (const auto& listener : listeners) send(*listener);
}

void ChainService::NotifyTip()
{
    std::lock_guard notify_lock(m_notify_mutex);
    interfaces::ChainTip tip = Tip();
    ForEachListener([&tip](interfaces::ChainListener& listener) { listener.updatedBlockTip(tip); });
}

void ChainService::NotifyTip(const interfaces::ChainTip& tip)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&tip](interfaces::ChainListener& listener) { listener.updatedBlockTip(tip); });
}

void ChainService::NotifyBlockConnected(const interfaces::ChainBlock& block)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&block](interfaces::ChainListener& listener) { listener.blockConnected(block); });
}

void ChainService::NotifyBlockDisconnected(const interfaces::ChainBlock& block)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&block](interfaces::ChainListener& listener) { listener.blockDisconnected(block); });
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
    std::optional<std::string> hash;
    if (auto reader = GetReader()) {
        hash = reader->hash_at(height);
    } else if (auto genesis_view = m_chain.HashAt(height)) {
        hash = genesis_view->GetHex();
    }
    if (!hash) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
    return *hash;
}

std::vector<interfaces::ChainBlock> ChainService::getBlocksFrom(int64_t height, int64_t max_count)
{
    if (height < 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
    if (max_count <= 0) return {};
    auto reader = GetReader();
    if (!reader) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "The node's block store is not open");
    return reader->blocks_from(height, max_count);
}

std::optional<interfaces::ChainBlock> ChainService::findBlock(std::string hash)
{
    auto reader = GetReader();
    if (!reader) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "The node's block store is not open");
    return reader->find_block(hash);
}

std::unique_ptr<ipc::Subscription>
ChainService::subscribeNotifications(std::shared_ptr<interfaces::ChainListener> listener)
{
    uint64_t id;
    {
        std::lock_guard notify_lock(m_notify_mutex); // no later news can overtake the first tip
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
