// orrery-wallet's link to the node's Chain; see node_link.h.
#include <services/wallet/node_link.h>

#include <common/interfaces/chain_ipc.h>
#include <common/util/logging.h>

#include <fmt/format.h>

#include <utility>

namespace orrery::wallet {

//! Stands in for the wallet at the node: each tip goes to the link thread.
class NodeLink::Listener final : public interfaces::ChainListener
{
public:
    explicit Listener(NodeLink& link) : m_link(link) {}
    void updatedBlockTip(interfaces::ChainTip tip) override { m_link.TipArrived(std::move(tip)); }
    // The wallet follows the tip only, for now; it will read the blocks when it tracks transactions.
    void blockConnected(interfaces::ChainBlock) override {}
    void blockDisconnected(interfaces::ChainBlock) override {}
    void transactionAddedToMempool(std::vector<uint8_t>, uint64_t) override {}
    void transactionRemovedFromMempool(std::vector<uint8_t>, std::string, uint64_t) override {}

private:
    NodeLink& m_link;
};

NodeLink::NodeLink(std::string endpoint, ipc::Options options, std::string chain, TipHandler on_tip,
                   RefusalHandler on_refusal)
    : m_endpoint(std::move(endpoint)), m_chain(std::move(chain)), m_on_tip(std::move(on_tip)),
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

void NodeLink::TipArrived(interfaces::ChainTip tip)
{
    {
        std::lock_guard lock(m_mutex);
        m_pending_tip = std::move(tip); // only the newest tip matters
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

void NodeLink::Run(std::chrono::milliseconds retry)
{
    auto connection = ConnectLoop(retry);
    if (!connection) return;
    auto chain = ipc::MakeProxy<interfaces::Chain>(connection);
    auto listener = std::make_shared<Listener>(*this);
    int64_t checked_pid = 0; // the node process last found on the right network; 0: none since the last loss
    std::optional<interfaces::ChainTip> tip; // arrived, not handed on yet
    auto wait = std::chrono::milliseconds(250);
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait_for(lock, wait, [&] { return m_stopping || m_pending_tip; });
            if (m_stopping) return;
            if (m_pending_tip) tip = std::exchange(m_pending_tip, std::nullopt);
        }
        wait = std::chrono::milliseconds(250);
        if (!connection->IsConnected()) {
            if (checked_pid != 0) {
                LogPrintf("Lost the node at {}; reconnecting (lastprocessedblock stays as it was)", m_endpoint);
                std::lock_guard lock(m_mutex);
                m_connected = false;
            }
            checked_pid = 0;
            tip.reset(); // the renewed subscription brings the tip again
            continue;
        }
        try {
            // Every tip is checked against the network of the node that sent it: behind a fast
            // restart (or in a container, where every node is pid 1) another node may answer.
            int64_t pid = connection->Peer().pid;
            if (tip || pid != checked_pid) {
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
                    }
                    m_on_refusal(refusal);
                    return;
                }
                if (pid != checked_pid) {
                    checked_pid = pid;
                    LogPrintf("Connected to the node at {} (pid {}, chain {})", m_endpoint, pid, name);
                    std::lock_guard lock(m_mutex);
                    m_connected = true;
                }
            }
            // The node answers a subscription with its tip at once; the IPC layer renews it after a reconnection.
            if (!m_subscription) m_subscription = chain->subscribeNotifications(listener);
        } catch (const ipc::Error& e) {
            LogDebug(LogCategory::WALLET, "Call to the node at {} failed ({}); trying again", m_endpoint, e.what());
            wait = retry; // `tip` waits for a node whose network is checked
            continue;
        }
        if (tip) {
            LogDebug(LogCategory::WALLET, "Node tip {} at height {}", tip->hash, tip->height);
            m_on_tip(*tip);
            tip.reset();
        }
    }
}

} // namespace orrery::wallet
