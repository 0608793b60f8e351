// The web GUI's live event stream (GET /events, server-sent events). One hub
// fans the news out to every browser that listens: the node's tip and mempool
// changes come from the one Chain subscription the bridge already holds for
// ZMQ (ChainFanout shares it), and once a second, while someone listens, the
// hub samples orreryd's process table and the network byte counters and sends
// them with what changed (a process started or exited, a peer's agent came or
// went). Each browser gets only the events whose RPC method its user may call
// (-rpcwhitelist), and a browser that falls behind is dropped, not buffered.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_EVENTS_H
#define ORRERY_SERVICES_GUI_BRIDGE_EVENTS_H

#include <common/http/stream.h>
#include <common/interfaces/chain.h>
#include <common/rpc/json_rpc.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace orrery::bridge {

//! One Chain subscription for several listeners (the ZMQ notifier and the event hub), in the node's order.
class ChainFanout final : public interfaces::ChainListener
{
public:
    explicit ChainFanout(std::vector<std::shared_ptr<interfaces::ChainListener>> listeners)
        : m_listeners(std::move(listeners))
    {
    }
    void updatedBlockTip(interfaces::ChainTip tip) override;
    void blockConnected(interfaces::ChainBlock block) override;
    void blockDisconnected(interfaces::ChainBlock block) override;
    void transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence) override;
    void transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t mempool_sequence) override;

private:
    const std::vector<std::shared_ptr<interfaces::ChainListener>> m_listeners;
};

//! What the hub samples while a browser listens. Each may throw (the source is away): that sample is skipped.
struct EventSources {
    //! getprocessinfo's answer: orreryd's process table.
    std::function<rpc::Json()> processes;
    //! {"totalbytesrecv", "totalbytessent"} of the node.
    std::function<rpc::Json()> nettotals;
};

struct EventHubOptions {
    size_t max_clients{32};
    //! Bytes that may wait for one browser before it is dropped.
    size_t max_pending{256 * 1024};
    std::chrono::milliseconds tick{1000};
    //! A comment line this often keeps idle connections (and proxies) open.
    std::chrono::milliseconds heartbeat{15000};
};

//! Thread-safe. Events are "event: <name>\ndata: <json>\n\n": tip, mempool ({added, removed} since the last
//! one), processes (the whole table), process ({change: started|exited, role, pid}), peer ({change:
//! connected|disconnected, address, pid}), nettotals ({totalbytesrecv, totalbytessent, timemillis}).
class EventHub final : public interfaces::ChainListener
{
public:
    //! Whether the listening user may call an RPC method (its -rpcwhitelist).
    using Allowed = std::function<bool(const std::string& method)>;

    EventHub(EventHubOptions options, EventSources sources);
    ~EventHub();
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    //! Starts the sampling thread (it sleeps while nobody listens).
    void Start();
    //! Ends every stream and the thread. Safe to call twice.
    void Stop();
    //! A new listener: its stream starts with the current tip and process table. nullptr when max_clients
    //! listen already.
    std::shared_ptr<http::BodyStream> Subscribe(Allowed allowed);
    //! Listeners whose streams are still open.
    size_t Clients();

    //! The method whose answer carries what an event tells (what -rpcwhitelist must allow for it).
    static std::string MethodOf(const std::string& event);
    //! The changes between two process tables (getprocessinfo answers), as process and peer events.
    static std::vector<std::pair<std::string, rpc::Json>> Changes(const rpc::Json& before, const rpc::Json& after);

    // ChainListener
    void updatedBlockTip(interfaces::ChainTip tip) override;
    void blockConnected(interfaces::ChainBlock) override {}
    void blockDisconnected(interfaces::ChainBlock) override {}
    void transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence) override;
    void transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t mempool_sequence) override;

private:
    struct Listener {
        std::shared_ptr<http::BodyStream> stream;
        Allowed allowed;
    };

    //! Sends to every listener allowed the event's method; forgets closed streams. m_mutex held.
    void PublishLocked(const std::string& event, const rpc::Json& data);
    void Run();

    const EventHubOptions m_options;
    const EventSources m_sources;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Listener> m_listeners;    // guarded by m_mutex
    std::optional<rpc::Json> m_tip;       // guarded by m_mutex
    std::optional<rpc::Json> m_processes; // guarded by m_mutex
    uint64_t m_added{0};                  // guarded by m_mutex
    uint64_t m_removed{0};                // guarded by m_mutex
    bool m_stopping{false};               // guarded by m_mutex
    std::thread m_thread;
};

} // namespace orrery::bridge

#endif // ORRERY_SERVICES_GUI_BRIDGE_EVENTS_H
