// orrery-wallet's link to orrery-node's Chain interface. It connects in the
// background (the wallet serves its own interfaces meanwhile), checks that the
// node runs the wallet's network, subscribes to the chain's news and hands each
// event on, in the node's order, from its own thread. The IPC client reconnects
// by itself when the node restarts and renews the subscription; the node then
// sends its tip again, and the link checks the network again before passing
// anything on (a new node process may run another one). After each connection
// the handler catches up with the node (the subscription is in place by then, so
// nothing falls between). Events wait in a bounded queue: when the wallet falls
// too far behind, the queue is dropped and the handler catches up instead.
#ifndef ORRERY_SERVICES_WALLET_NODE_LINK_H
#define ORRERY_SERVICES_WALLET_NODE_LINK_H

#include <common/interfaces/chain.h>
#include <common/ipc/endpoint.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

namespace orrery::wallet {

//! What the link hands on, always from the link's thread, one call at a time. `chain` is the node's Chain, for
//! the catch-up calls (getBlocksFrom, findBlock); its calls throw ipc::Error when the node goes away.
class ChainHandler
{
public:
    virtual ~ChainHandler() = default;
    //! After each connection to a node of the right network, and after queued events were dropped.
    virtual void CatchUp(interfaces::Chain& chain) = 0;
    virtual void BlockConnected(interfaces::Chain& chain, const interfaces::ChainBlock& block) = 0;
    virtual void BlockDisconnected(interfaces::Chain& chain, const interfaces::ChainBlock& block) = 0;
    virtual void TransactionAdded(const std::vector<uint8_t>& tx) = 0;
    virtual void TransactionRemoved(const std::vector<uint8_t>& tx, const std::string& reason) = 0;
    //! The tip that closes each step of the node (and the one sent at every (re)subscription).
    virtual void Tip(interfaces::Chain& chain, const interfaces::ChainTip& tip) = 0;
    //! The node went away; calls resume with CatchUp once it is back.
    virtual void NodeLost() = 0;
};

//! Events held for the handler at most: beyond either bound the queue is dropped and the handler catches up.
inline constexpr size_t MAX_QUEUED_EVENTS{10000};
inline constexpr size_t MAX_QUEUED_BYTES{64 << 20};

class NodeLink
{
public:
    using RefusalHandler = std::function<void(const std::string&)>;

    //! `chain` is the wallet's network as bitcoind names it ("regtest", "test", ...).
    //! `handler` gets the news of a node of that network; `on_refusal` the
    //! message once a node of another network answered (the link then stops trying).
    NodeLink(std::string endpoint, ipc::Options options, std::string chain, std::shared_ptr<ChainHandler> handler,
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
    //! Asks the link thread to catch up (a wallet was loaded). Returns at once.
    void RequestCatchUp();
    //! The node's Chain while connected to a node whose network was checked, else nullptr (rescans call it).
    std::shared_ptr<interfaces::Chain> GetChain() const;
    //! Events dropped because the queue was full, since the start.
    uint64_t DroppedEvents() const;
    const std::string& Endpoint() const { return m_endpoint; }

private:
    class Listener;
    struct ConnectedEvent {
        interfaces::ChainBlock block;
    };
    struct DisconnectedEvent {
        interfaces::ChainBlock block;
    };
    struct TxAdded {
        std::vector<uint8_t> tx;
    };
    struct TxRemoved {
        std::vector<uint8_t> tx;
        std::string reason;
    };
    using Event = std::variant<interfaces::ChainTip, ConnectedEvent, DisconnectedEvent, TxAdded, TxRemoved>;

    void Run(std::chrono::milliseconds retry);
    //! Connects until the node answers or Stop; nullptr on Stop.
    std::shared_ptr<ipc::Connection> ConnectLoop(std::chrono::milliseconds retry);
    //! From the IPC thread: queues `event` (or drops the queue when it is full).
    void Push(Event event, size_t bytes);
    void Dispatch(interfaces::Chain& chain, const Event& event);

    const std::string m_endpoint;
    const std::string m_chain;
    const std::shared_ptr<ChainHandler> m_handler;
    const RefusalHandler m_on_refusal;
    ipc::Client m_client;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping{false};                           // guarded by m_mutex
    std::deque<Event> m_events;                       // guarded by m_mutex: arrived, not yet handed on
    size_t m_queued_bytes{0};                         // guarded by m_mutex
    bool m_overflowed{false};                         // guarded by m_mutex: events were dropped since the last catch-up
    bool m_catch_up{false};                           // guarded by m_mutex: asked by RequestCatchUp
    uint64_t m_dropped{0};                            // guarded by m_mutex
    std::shared_ptr<interfaces::Chain> m_chain_proxy; // guarded by m_mutex: set while connected and checked
    std::string m_refusal;                            // guarded by m_mutex
    bool m_connected{false};                          // guarded by m_mutex
    std::thread m_thread;
    std::unique_ptr<ipc::Subscription> m_subscription; // the link thread's until it ends, then Stop's
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_NODE_LINK_H
