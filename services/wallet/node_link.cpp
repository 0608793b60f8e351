// orrery-wallet's link to the node's Chain; see node_link.h.
#include <services/wallet/node_link.h>

#include <common/interfaces/chain_ipc.h>
#include <common/util/logging.h>

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace orrery::wallet {

//! Stands in for the wallet at the node: each event goes to the link thread's queue, in the order it came.
class NodeLink::Listener final : public interfaces::ChainListener
{
public:
    explicit Listener(NodeLink& link) : m_link(link) {}
    void updatedBlockTip(interfaces::ChainTip tip) override { m_link.Push(std::move(tip), 64); }
    void blockConnected(interfaces::ChainBlock block) override
    {
        const size_t bytes = block.data.size();
        m_link.Push(ConnectedEvent{std::move(block)}, bytes);
    }
    void blockDisconnected(interfaces::ChainBlock block) override
    {
        const size_t bytes = block.data.size();
        m_link.Push(DisconnectedEvent{std::move(block)}, bytes);
    }
    void transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t) override
    {
        const size_t bytes = tx.size();
        m_link.Push(TxAdded{std::move(tx)}, bytes);
    }
    void transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t) override
    {
        const size_t bytes = tx.size();
        m_link.Push(TxRemoved{std::move(tx), std::move(reason)}, bytes);
    }

private:
    NodeLink& m_link;
};

NodeLink::NodeLink(std::string endpoint, ipc::Options options, std::string chain, std::shared_ptr<ChainHandler> handler,
                   RefusalHandler on_refusal)
    : m_endpoint(std::move(endpoint)), m_chain(std::move(chain)), m_handler(std::move(handler)),
      m_on_refusal(std::move(on_refusal)), m_client(std::move(options))
{
}

NodeLink::~NodeLink()
{
    Stop();
}

void NodeLink::Start(std::chrono::milliseconds retry)
{
    m_thread = std::thread([this, retry] { Run(retry); });
}

void NodeLink::Stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_connected = false;
        m_chain_proxy.reset();
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
    m_subscription.reset();
    m_client.Stop();
}

std::string NodeLink::Refusal() const
{
    std::lock_guard lock(m_mutex);
    return m_refusal;
}

bool NodeLink::Connected() const
{
    std::lock_guard lock(m_mutex);
    return m_connected;
}

void NodeLink::RequestCatchUp()
{
    {
        std::lock_guard lock(m_mutex);
        m_catch_up = true;
    }
    m_cv.notify_all();
}

std::shared_ptr<interfaces::Chain> NodeLink::GetChain() const
{
    std::lock_guard lock(m_mutex);
    return m_chain_proxy;
}

uint64_t NodeLink::DroppedEvents() const
{
    std::lock_guard lock(m_mutex);
    return m_dropped;
}

void NodeLink::Push(Event event, size_t bytes)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_overflowed) {
            ++m_dropped; // the catch-up to come covers it
            return;
        }
        if (m_events.size() >= MAX_QUEUED_EVENTS || m_queued_bytes + bytes > MAX_QUEUED_BYTES) {
            // The wallet is far behind: rather than hold the node's news without bound, forget it and read the
            // chain from the last block each wallet processed.
            m_dropped += m_events.size() + 1;
            m_events.clear();
            m_queued_bytes = 0;
            m_overflowed = true;
            LogPrintf("The wallet fell behind the node's news; dropping {} queued events and catching up from the "
                      "chain instead",
                      MAX_QUEUED_EVENTS);
        } else {
            m_events.push_back(std::move(event));
            m_queued_bytes += bytes;
        }
    }
    m_cv.notify_all();
}

std::shared_ptr<ipc::Connection> NodeLink::ConnectLoop(std::chrono::milliseconds retry)
{
    bool logged = false;
    for (;;) {
        try {
            return m_client.Connect(m_endpoint);
        } catch (const std::exception& e) {
            if (!logged) LogPrintf("Waiting for the node at {} ({})", m_endpoint, e.what());
            logged = true;
        }
        std::unique_lock lock(m_mutex);
        if (m_cv.wait_for(lock, retry, [&] { return m_stopping; })) return nullptr;
    }
}

void NodeLink::Dispatch(interfaces::Chain& chain, const Event& event)
{
    if (const auto* tip = std::get_if<interfaces::ChainTip>(&event)) {
        LogDebug(LogCategory::WALLET, "Node tip {} at height {}", tip->hash, tip->height);
        m_handler->Tip(chain, *tip);
    } else if (const auto* connected = std::get_if<ConnectedEvent>(&event)) {
        m_handler->BlockConnected(chain, connected->block);
    } else if (const auto* disconnected = std::get_if<DisconnectedEvent>(&event)) {
        m_handler->BlockDisconnected(chain, disconnected->block);
    } else if (const auto* added = std::get_if<TxAdded>(&event)) {
        m_handler->TransactionAdded(added->tx);
    } else if (const auto* removed = std::get_if<TxRemoved>(&event)) {
        m_handler->TransactionRemoved(removed->tx, removed->reason);
    }
}

void NodeLink::Run(std::chrono::milliseconds retry)
{
    auto connection = ConnectLoop(retry);
    if (!connection) return;
    std::shared_ptr<interfaces::Chain> chain = ipc::MakeProxy<interfaces::Chain>(connection);
    auto listener = std::make_shared<Listener>(*this);
    int64_t checked_pid = 0; // the node process last found on the right network; 0: none since the last loss
    bool need_catch_up = true;
    auto wait = std::chrono::milliseconds(250);
    for (;;) {
        std::deque<Event> batch;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait_for(lock, wait, [&] { return m_stopping || !m_events.empty() || m_overflowed || m_catch_up; });
            if (m_stopping) return;
            batch.swap(m_events);
            m_queued_bytes = 0;
            if (std::exchange(m_overflowed, false)) need_catch_up = true;
            if (std::exchange(m_catch_up, false)) need_catch_up = true;
        }
        wait = std::chrono::milliseconds(250);
        if (!connection->IsConnected()) {
            if (checked_pid != 0) {
                LogPrintf("Lost the node at {}; reconnecting (the wallets keep serving what they know)", m_endpoint);
                {
                    std::lock_guard lock(m_mutex);
                    m_connected = false;
                    m_chain_proxy.reset();
                }
                m_handler->NodeLost();
            }
            checked_pid = 0;
            need_catch_up = true; // the renewed subscription brings the tip again; the catch-up the rest
            continue;
        }
        try {
            // Every tip is checked against the network of the node that sent it: behind a fast
            // restart (or in a container, where every node is pid 1) another node may answer.
            int64_t pid = connection->Peer().pid;
            const bool has_tip = std::any_of(batch.begin(), batch.end(), [](const Event& e) {
                return std::holds_alternative<interfaces::ChainTip>(e);
            });
            if (has_tip || pid != checked_pid) {
                std::string name = chain->getChainName();
                if (name != m_chain) {
                    std::string refusal = fmt::format(
                        "The node at {} runs the chain \"{}\" but this wallet is for \"{}\". Start orrery-wallet "
                        "with the node's network, or point -ipcconnect at a node of this network.",
                        m_endpoint, name, m_chain);
                    LogPrintf("Error: {}", refusal);
                    {
                        std::lock_guard lock(m_mutex);
                        m_refusal = refusal;
                        m_connected = false;
                        m_chain_proxy.reset();
                    }
                    m_on_refusal(refusal);
                    return;
                }
                if (pid != checked_pid) {
                    checked_pid = pid;
                    need_catch_up = true;
                    LogPrintf("Connected to the node at {} (pid {}, chain {})", m_endpoint, pid, name);
                    std::lock_guard lock(m_mutex);
                    m_connected = true;
                    m_chain_proxy = chain;
                }
            }
            // The node answers a subscription with its tip at once; the IPC layer renews it after a reconnection.
            if (!m_subscription) m_subscription = chain->subscribeNotifications(listener);
            // With the subscription in place, whatever the node does from now on is in the queue: read the chain
            // up to its tip first, then the queued news (a block already read is recognised and skipped).
            if (need_catch_up) {
                m_handler->CatchUp(*chain);
                need_catch_up = false;
            }
            while (!batch.empty()) {
                Dispatch(*chain, batch.front());
                batch.pop_front();
            }
        } catch (const ipc::Error& e) {
            LogDebug(LogCategory::WALLET, "Call to the node at {} failed ({}); trying again", m_endpoint, e.what());
            wait = retry;
            need_catch_up = true; // what was not handed on is read from the chain instead
            continue;
        }
    }
}

} // namespace orrery::wallet
