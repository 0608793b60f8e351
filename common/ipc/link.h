// The engine behind Server and Client, private to common/ipc/: one ZeroMQ
// socket (ROUTER or DEALER), the peers on it, calls in flight, subscriptions,
// and the threads that poll. link.cpp holds the socket, the peers, the
// handshake and the dispatch of what arrives; link_threads.cpp the
// leader/follower pool and the calls whose caller leads.
//
// Threading (doc/ipc.md has the reasoning and the measurements):
// - Leader/follower pool. One thread at a time, the leader, polls the socket
//   and runs what it receives inline: a request's handler, a notification's
//   sink. No hand-off to another thread on the fast path.
// - A follower watches the leader while requests flow; when one handler has
//   run for a whole promotion_delay it takes over polling (spawning a spare
//   thread up to max_threads), so a slow method never stalls other callers
//   for more than about two promotion delays.
// - A thread that blocks in a call steps down as leader first, so a handler
//   that calls out never holds up the socket.
// - On a link that only calls (a client serving no interface and holding no
//   subscription) the caller of a synchronous call leads itself and receives
//   its own reply: no thread hop on the round trip. The worker threads then
//   stay off the socket for a short lend period after each such call, and
//   take it back when the callers go quiet.
// - Any thread sends. All ZeroMQ calls on the socket happen under m_io; the
//   leader polls the socket's ZMQ_FD without the lock, and a sender that finds
//   input pending after its send wakes the leader through an eventfd (ZMQ_FD
//   is edge-triggered by any operation on the socket).
#ifndef ORRERY_COMMON_IPC_LINK_H
#define ORRERY_COMMON_IPC_LINK_H

#include <common/ipc/curve.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/identity.h>
#include <common/ipc/link_stats.h>
#include <common/util/logging.h>

#include <zmq.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace orrery::ipc {
namespace detail {

using Clock = std::chrono::steady_clock;

//! A received frame; shared so that envelopes can reference its bytes.
struct ZmqFrame {
    zmq_msg_t msg;
    ZmqFrame() { zmq_msg_init(&msg); }
    ~ZmqFrame() { zmq_msg_close(&msg); }
    ZmqFrame(const ZmqFrame&) = delete;
    ZmqFrame& operator=(const ZmqFrame&) = delete;
    std::span<const uint8_t> Bytes() const
    {
        auto* self = const_cast<zmq_msg_t*>(&msg);
        return {static_cast<const uint8_t*>(zmq_msg_data(self)), zmq_msg_size(self)};
    }
};

//! How long the workers keep off a calling-only link's socket after a caller led it.
inline constexpr std::chrono::milliseconds LEND_PERIOD{5};

class Link;
//! The link whose socket this thread polls, and its leader epoch (link_threads.cpp).
extern thread_local Link* t_leading_link;
extern thread_local uint64_t t_leading_epoch;

//! A routing id as hex, for log lines.
std::string PrintableId(const std::string& routing_id);

//! One remote peer. For a Client there is one, kept across reconnects.
class PeerConnection final : public Connection, public std::enable_shared_from_this<PeerConnection>
{
public:
    PeerConnection(std::weak_ptr<Link> link, std::string routing_id)
        : m_link(std::move(link)), m_routing_id(std::move(routing_id))
    {
    }

    bool IsConnected() const override;
    PeerInfo Peer() const override;

    uint64_t TakeId() { return NextId(); }

    // Guarded by Link::m_state.
    std::weak_ptr<Link> m_link;
    std::string m_routing_id;
    int m_fd{-1};
    bool m_hello_started{false}; //!< a hello is being checked or was accepted: no second one
    bool m_hello_done{false};
    bool m_identified{false}; //!< m_credentials is set (server side)
    //! What the kernel or CurveZMQ says, from its first message; every later one must agree.
    PeerCredentials m_credentials;
    bool m_closed{false};
    PeerInfo m_info;
    size_t m_in_flight{0};
    std::set<uint64_t> m_cancelled;
    std::map<uint64_t, std::unique_ptr<Subscription>> m_served;
    // Not guarded: atomics, counted without a lock (link_stats.h).
    CallCounter m_calls_made;
    CallCounter m_calls_served;

    std::string Describe() const
    {
        if (m_info.role.empty())
            return m_routing_id.empty() ? std::string("peer") : "peer " + PrintableId(m_routing_id);
        return fmt::format("{}:{}", m_info.role, m_info.pid);
    }

protected:
    uint64_t NextId() override { return m_next_id.fetch_add(1, std::memory_order_relaxed); }
    std::unique_ptr<Envelope> Transact(uint64_t id, std::string_view method, std::vector<uint8_t> request) override;
    void TransactAsync(uint64_t id, std::string_view method, std::vector<uint8_t> request, Completion done) override;
    std::unique_ptr<Subscription> SubscribeEncoded(std::string method, std::vector<uint8_t> args, uint32_t arg_count,
                                                   std::shared_ptr<NotificationSink> sink) override;
    bool SendNotification(std::vector<uint8_t> bytes) override;

private:
    std::atomic<uint64_t> m_next_id{1};
};

class Link : public std::enable_shared_from_this<Link>
{
public:
    Link(Options options, const Dispatcher& dispatcher, bool is_server);
    ~Link();

    void Bind(const std::string& endpoint);
    std::shared_ptr<PeerConnection> Connect(const std::string& endpoint);
    void Stop();
    std::string Endpoint() const { return m_endpoint; }
    std::vector<std::shared_ptr<Connection>> Peers() const;

    // Called by PeerConnection.
    std::unique_ptr<Envelope> CallSync(PeerConnection& peer, uint64_t id, std::string_view method,
                                       std::vector<uint8_t> request);
    void CallAsync(PeerConnection& peer, uint64_t id, std::string_view method, std::vector<uint8_t> request,
                   Completion done);
    std::unique_ptr<Subscription> AddClientSubscription(PeerConnection& peer, std::string method,
                                                        std::vector<uint8_t> args, uint32_t arg_count,
                                                        std::shared_ptr<NotificationSink> sink);
    void EndClientSubscription(uint64_t subscription);
    bool SendTo(const PeerConnection& peer, std::vector<uint8_t> bytes);
    bool PeerUsable(const PeerConnection& peer) const;
    PeerInfo PeerInfoOf(const PeerConnection& peer) const;
    void StepDown(uint64_t epoch);
    //! Appends the figures of each peer that said hello (LinkStats()).
    void AppendFigures(std::vector<LinkFigures>& out) const;

private:
    struct SyncResult {
        std::atomic<bool> done{false};
        std::unique_ptr<Envelope> reply;
        std::optional<Error> error;
    };

    struct Pending {
        std::string method;
        size_t request_size{0};
        Clock::time_point start;
        Clock::time_point deadline{Clock::time_point::max()};
        std::weak_ptr<PeerConnection> peer;
        Completion done;
    };
    struct ClientSubscription {
        std::string method;
        std::vector<uint8_t> args;
        uint32_t arg_count{0};
        std::shared_ptr<NotificationSink> sink;
        std::weak_ptr<PeerConnection> peer;
    };
    struct Incoming {
        std::shared_ptr<ZmqFrame> frame;
        std::string routing_id;
        int fd{-1};
    };
    struct MonitorEvent {
        uint16_t event{0};
        int32_t value{0};
        std::string address;
    };
    class Context;

    void OpenSocket(const std::string& endpoint);
    void StartThreads(size_t count);
    void WorkerMain();
    //! Polls and dispatches while `epoch` leads; a caller passes its result and stops once it is done.
    void Lead(uint64_t epoch, const SyncResult* until = nullptr);
    //! True on a link that only calls, and then only while it holds no subscription.
    bool CallerMayLead() const;
    //! A synchronous call whose caller leads the link until its reply is in.
    std::unique_ptr<Envelope> CallLeading(PeerConnection& peer, uint64_t id, std::string_view method,
                                          std::vector<uint8_t> request);
    bool MarkBusy();
    bool MarkIdle(uint64_t epoch);
    void Wake();
    //! Sleeps until input may be there; true when the monitor needs a look.
    bool WaitReadable(int timeout_ms);
    bool TryReceiveMonitor(MonitorEvent& event);
    bool TryReceive(Incoming& incoming);
    void CheckInputAfterSend();
    void HandleMonitorEvent(const MonitorEvent& event);
    //! Returns true when it ran a handler or a listener (user code of unknown length).
    bool HandleIncoming(Incoming incoming);
    void HandleRequest(const std::shared_ptr<PeerConnection>& peer, const Envelope& env);
    void HandleHello(PeerConnection& peer, const Envelope& env);
    //! The credentials of the connection a received frame came over (server side).
    PeerCredentials CredentialsOf(const ZmqFrame& frame) const;
    void HandleCompletion(const std::shared_ptr<PeerConnection>& peer, std::unique_ptr<Envelope> env);
    void HandleNotification(const std::shared_ptr<PeerConnection>& peer, const Envelope& env);
    void SendError(PeerConnection& peer, uint64_t id, std::string_view method, ErrorCode code, const std::string& why);
    void PeerGone(const std::shared_ptr<PeerConnection>& peer, const std::string& reason);
    void StartHello();
    void ExpireCalls();
    std::shared_ptr<PeerConnection> FindOrAddPeer(const std::string& routing_id, int fd);
    std::string SelfTag() const { return fmt::format("{}:{}", m_options.role, ::getpid()); }

    const Options m_options;
    const Dispatcher& m_dispatcher;
    const bool m_is_server;
    Transport m_transport{Transport::INPROC};
    const uint32_t m_own_uid{static_cast<uint32_t>(::geteuid())};
    std::string m_endpoint;

    std::shared_ptr<void> m_context_owner;
    void* m_context{nullptr};
    void* m_socket{nullptr};
    void* m_monitor{nullptr};
    int m_socket_fd{-1};
    int m_monitor_fd{-1};
    int m_wake_fd{-1};
    std::unique_ptr<CurveAuthenticator> m_authenticator;

    mutable std::mutex m_io; //!< every ZeroMQ call on m_socket and m_monitor
    // Guarded by m_io: operations on m_socket, and their count when a receive last found nothing.
    uint64_t m_socket_ops{0};
    uint64_t m_ops_at_drain{~uint64_t{0}};

    mutable std::mutex m_state; //!< peers, calls, subscriptions
    std::condition_variable m_state_cv;
    std::map<std::string, std::shared_ptr<PeerConnection>> m_peers;
    std::shared_ptr<PeerConnection> m_client_peer;
    bool m_client_up{false};      //!< transport connected (client)
    bool m_client_ready{false};   //!< hello done (client)
    std::string m_client_failure; //!< why the last hello failed
    std::map<uint64_t, Pending> m_pending;
    std::map<uint64_t, ClientSubscription> m_client_subscriptions;
    uint64_t m_next_subscription{1};
    // Notifications are delivered in arrival order even when the leader changes.
    uint64_t m_notify_next_ticket{0};
    uint64_t m_notify_serving{0};

    std::mutex m_pool; //!< leader/follower state
    std::condition_variable m_pool_cv;
    // Callers that lead (see CallLeading), guarded by m_pool.
    bool m_only_calls{false};            //!< a client serving no interface
    std::condition_variable m_caller_cv; //!< leading callers: a reply came, or the lead is free
    size_t m_leading_callers{0};         //!< callers inside CallLeading
    size_t m_caller_leaders{0};          //!< 1 while a caller is the leader
    bool m_handoff{false};               //!< a caller asks the worker leading to step down
    Clock::time_point m_lend_until{};    //!< workers keep off the socket until then
    std::vector<std::thread> m_threads;
    bool m_stopping{false};
    std::atomic<bool> m_check_monitor{true};
    bool m_has_leader{false};
    std::atomic<uint64_t> m_leader_epoch{0};
    bool m_leader_busy{false};
    uint64_t m_busy_seq{0};
    bool m_activity{false};
    size_t m_idle{0};
    size_t m_deep_sleepers{0};
};

} // namespace detail
} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_LINK_H
