// orrery-wallet's link to orrery-node's Chain interface. It connects in the
// background (the wallet serves its own interfaces meanwhile), checks that the
// node runs the wallet's network, subscribes to tip changes and hands each tip
// on. The IPC client reconnects by itself when the node restarts and renews the
// subscription; the node then sends its tip again, and the link checks the
// network again before passing it on (a new node process may run another one).
#ifndef ORRERY_SERVICES_WALLET_NODE_LINK_H
#define ORRERY_SERVICES_WALLET_NODE_LINK_H

#include <common/interfaces/chain.h>
#include <common/ipc/endpoint.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace orrery::wallet {

class NodeLink
{
public:
    using TipHandler = std::function<void(const interfaces::ChainTip&)>;
    using RefusalHandler = std::function<void(const std::string&)>;

    //! `chain` is the wallet's network as bitcoind names it ("regtest", "test", ...).
    //! `on_tip` gets every tip of a node of that network; `on_refusal` the
    //! message once a node of another network answered (the link then stops trying).
    NodeLink(std::string endpoint, ipc::Options options, std::string chain, TipHandler on_tip,
             RefusalHandler on_refusal);
    ~NodeLink();
    NodeLink(const NodeLink&) = delete;
    NodeLink& operator=(const NodeLink&) = delete;

    //! Starts the background thread and returns at once.
    void Start(std::chrono::milliseconds retry = std::chrono::milliseconds(500));
    //! Ends the subscription and the connection. Idempotent.
    void Stop();
    //! Why the node was refused; empty if it was not.
    std::string Refusal() const;
    //! Connected to a node whose network was checked.
    bool Connected() const;
    const std::string& Endpoint() const { return m_endpoint; }

private:
    class Listener;

    void Run(std::chrono::milliseconds retry);
    //! Connects until the node answers or Stop; nullptr on Stop.
    std::shared_ptr<ipc::Connection> ConnectLoop(std::chrono::milliseconds retry);
    void TipArrived(interfaces::ChainTip tip);

    const std::string m_endpoint;
    const std::string m_chain;
    const TipHandler m_on_tip;
    const RefusalHandler m_on_refusal;
    ipc::Client m_client;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping{false};                            // guarded by m_mutex
    std::optional<interfaces::ChainTip> m_pending_tip; // guarded by m_mutex: arrived, not yet handed on
    std::string m_refusal;                             // guarded by m_mutex
    bool m_connected{false};                           // guarded by m_mutex
    std::thread m_thread;
    std::unique_ptr<ipc::Subscription> m_subscription; // the link thread's until it ends, then Stop's
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_NODE_LINK_H
