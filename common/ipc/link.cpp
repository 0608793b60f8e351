// The socket side of a Link (link.h): opening, binding and connecting, the
// peers and their identity, the handshake, and the dispatch of what arrives.
// The threads that poll, and synchronous calls, are in link_threads.cpp.
#include <common/ipc/link.h>
#include <common/util/text.h>

#include <cerrno>
#include <cstring>
#include <sys/eventfd.h>

namespace orrery::ipc {
namespace detail {

namespace {

void FreeVector(void*, void* hint)
{
    delete static_cast<std::vector<uint8_t>*>(hint);
}

//! inproc:// endpoints only reach sockets of the same ZeroMQ context, so all
//! inproc links of a process share one; it ends with the last of them.
//! ipc:// and tcp:// links own a context each, with its own ZAP handler.
std::shared_ptr<void> AcquireContext(bool shared)
{
    auto make = [] {
        void* context = zmq_ctx_new();
        if (!context)
            throw Error(ErrorCode::INTERNAL_ERROR,
                        std::string("cannot create a ZeroMQ context: ") + zmq_strerror(zmq_errno()));
        zmq_ctx_set(context, ZMQ_BLOCKY, 0);
        return std::shared_ptr<void>(context, [](void* c) { zmq_ctx_term(c); });
    };
    if (!shared) return make();
    static std::mutex mutex;
    static std::weak_ptr<void> current;
    std::lock_guard lock(mutex);
    auto context = current.lock();
    if (!context) {
        context = make();
        current = context;
    }
    return context;
}

std::string ZmqError()
{
    return zmq_strerror(zmq_errno());
}

} // namespace

namespace {

//! The links of this process, for LinkStats(). Links enter when made and leave when
//! stopped or destroyed; a walk holds the mutex, so no link dies during it. Leaked on
//! purpose: links may outlive static destruction order.
struct LinkRegistry {
    std::mutex mutex;
    std::set<Link*> links;
};

LinkRegistry& Registry()
{
    static auto* registry = new LinkRegistry;
    return *registry;
}

void Unregister(Link* link)
{
    LinkRegistry& registry = Registry();
    std::lock_guard lock(registry.mutex);
    registry.links.erase(link);
}

} // namespace

std::string PrintableId(const std::string& routing_id)
{
    std::string out;
    for (unsigned char c : routing_id) out += fmt::format("{:02x}", c);
    return out;
}

// ---------------------------------------------------------------- PeerConnection

bool PeerConnection::IsConnected() const
{
    auto link = m_link.lock();
    return link && link->PeerUsable(*this);
}

PeerInfo PeerConnection::Peer() const
{
    auto link = m_link.lock();
    return link ? link->PeerInfoOf(*this) : PeerInfo{};
}

std::unique_ptr<Envelope> PeerConnection::Transact(uint64_t id, std::string_view method, std::vector<uint8_t> request)
{
    auto link = m_link.lock();
    if (!link) throw Error(ErrorCode::DISCONNECTED, "connection closed");
    return link->CallSync(*this, id, method, std::move(request));
}

void PeerConnection::TransactAsync(uint64_t id, std::string_view method, std::vector<uint8_t> request, Completion done)
{
    auto link = m_link.lock();
    if (!link) {
        Error error(ErrorCode::DISCONNECTED, "connection closed");
        done(nullptr, &error);
        return;
    }
    link->CallAsync(*this, id, method, std::move(request), std::move(done));
}

std::unique_ptr<Subscription> PeerConnection::SubscribeEncoded(std::string method, std::vector<uint8_t> args,
                                                               uint32_t arg_count,
                                                               std::shared_ptr<NotificationSink> sink)
{
    auto link = m_link.lock();
    if (!link) throw Error(ErrorCode::DISCONNECTED, "connection closed");
    return link->AddClientSubscription(*this, std::move(method), std::move(args), arg_count, std::move(sink));
}

bool PeerConnection::SendNotification(std::vector<uint8_t> bytes)
{
    auto link = m_link.lock();
    return link && link->PeerUsable(*this) && link->SendTo(*this, std::move(bytes));
}

// ---------------------------------------------------------------- set-up and tear-down

Link::Link(Options options, const Dispatcher& dispatcher, bool is_server)
    : m_options(std::move(options)), m_dispatcher(dispatcher), m_is_server(is_server)
{
    LinkRegistry& registry = Registry();
    std::lock_guard lock(registry.mutex);
    registry.links.insert(this);
}

Link::~Link()
{
    Unregister(this);
    Stop();
}

void Link::AppendFigures(std::vector<LinkFigures>& out) const
{
    auto add = [&](const PeerConnection& peer) {
        if (peer.m_info.role.empty() || peer.m_closed) return;
        LinkFigures figures;
        figures.role = m_options.role;
        figures.peer_role = peer.m_info.role;
        figures.peer_pid = peer.m_info.pid;
        figures.endpoint = m_endpoint;
        figures.server = m_is_server;
        figures.made = peer.m_calls_made.Read();
        figures.served = peer.m_calls_served.Read();
        out.push_back(std::move(figures));
    };
    std::lock_guard lock(m_state);
    if (m_is_server) {
        for (const auto& [id, peer] : m_peers) add(*peer);
    } else if (m_client_peer) {
        add(*m_client_peer);
    }
}

} // namespace detail

std::vector<LinkFigures> LinkStats()
{
    std::vector<LinkFigures> out;
    detail::LinkRegistry& registry = detail::Registry();
    std::lock_guard lock(registry.mutex);
    for (const detail::Link* link : registry.links) link->AppendFigures(out);
    return out;
}

namespace detail {

void Link::OpenSocket(const std::string& endpoint)
{
    m_transport = endpoint.starts_with("tcp://")   ? Transport::TCP
                  : endpoint.starts_with("ipc://") ? Transport::IPC
                                                   : Transport::INPROC;
    m_context_owner = AcquireContext(endpoint.starts_with("inproc://"));
    m_context = m_context_owner.get();
    m_socket = zmq_socket(m_context, m_is_server ? ZMQ_ROUTER : ZMQ_DEALER);
    if (!m_socket) throw Error(ErrorCode::INTERNAL_ERROR, "cannot create a ZeroMQ socket: " + ZmqError());
    auto set_int = [&](int option, int value) { zmq_setsockopt(m_socket, option, &value, sizeof value); };
    set_int(ZMQ_LINGER, 0);
    set_int(ZMQ_SNDHWM, 100000);
    set_int(ZMQ_RCVHWM, 100000);
    set_int(ZMQ_HEARTBEAT_IVL, static_cast<int>(m_options.heartbeat_interval.count()));
    set_int(ZMQ_HEARTBEAT_TIMEOUT, static_cast<int>(m_options.heartbeat_timeout.count()));
    set_int(ZMQ_HEARTBEAT_TTL, static_cast<int>(m_options.heartbeat_timeout.count()));
    // ZeroMQ drops a connection that sends a frame above this; the application
    // limit below it is answered with an error instead.
    int64_t hard_limit = static_cast<int64_t>(m_options.max_message_size) * 2 + 4096;
    zmq_setsockopt(m_socket, ZMQ_MAXMSGSIZE, &hard_limit, sizeof hard_limit);
    if (m_is_server) {
        set_int(ZMQ_ROUTER_MANDATORY, 1);
    } else {
        set_int(ZMQ_IMMEDIATE, 1);
        set_int(ZMQ_RECONNECT_IVL, 100);
        set_int(ZMQ_RECONNECT_IVL_MAX, 1000);
    }
    if (endpoint.starts_with("tcp://")) {
        if (m_options.keys_dir.empty()) {
            throw Error(ErrorCode::PERMISSION_DENIED, "tcp:// endpoints need CurveZMQ keys; no keys folder was given");
        }
        if (m_is_server) {
            m_authenticator = std::make_unique<CurveAuthenticator>(m_context, m_options.keys_dir);
            CurveKeyPair keys = LoadOrCreateKeyPair(m_options.keys_dir, m_options.role);
            set_int(ZMQ_CURVE_SERVER, 1);
            zmq_setsockopt(m_socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.c_str(), 40);
            zmq_setsockopt(m_socket, ZMQ_ZAP_DOMAIN, "orrery", 6);
        } else {
            CurveKeyPair keys = LoadOrCreateKeyPair(m_options.keys_dir, m_options.role);
            std::string server_key = m_options.server_public_key.empty()
                                         ? ReadPublicKey(m_options.keys_dir, m_options.server_role)
                                         : m_options.server_public_key;
            zmq_setsockopt(m_socket, ZMQ_CURVE_SERVERKEY, server_key.c_str(), 40);
            zmq_setsockopt(m_socket, ZMQ_CURVE_PUBLICKEY, keys.public_key.c_str(), 40);
            zmq_setsockopt(m_socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.c_str(), 40);
        }
    } else if (!endpoint.starts_with("ipc://") && !endpoint.starts_with("inproc://")) {
        throw Error(ErrorCode::INVALID_REQUEST,
                    "unsupported endpoint '" + endpoint + "': use inproc://, ipc:// or tcp://");
    }
    static std::atomic<uint64_t> monitor_counter{0};
    std::string monitor_endpoint = fmt::format("inproc://orrery-monitor-{}", monitor_counter.fetch_add(1));
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (zmq_socket_monitor(m_socket, monitor_endpoint.c_str(), events) != 0) {
        throw Error(ErrorCode::INTERNAL_ERROR, "cannot monitor the socket: " + ZmqError());
    }
    m_monitor = zmq_socket(m_context, ZMQ_PAIR);
    int no_linger = 0;
    zmq_setsockopt(m_monitor, ZMQ_LINGER, &no_linger, sizeof no_linger);
    if (zmq_connect(m_monitor, monitor_endpoint.c_str()) != 0) {
        throw Error(ErrorCode::INTERNAL_ERROR, "cannot connect the socket monitor: " + ZmqError());
    }
    size_t size = sizeof m_socket_fd;
    zmq_getsockopt(m_socket, ZMQ_FD, &m_socket_fd, &size);
    size = sizeof m_monitor_fd;
    zmq_getsockopt(m_monitor, ZMQ_FD, &m_monitor_fd, &size);
    m_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wake_fd < 0) throw Error(ErrorCode::INTERNAL_ERROR, std::string("eventfd: ") + std::strerror(errno));
}

void Link::Bind(const std::string& endpoint)
{
    try {
        OpenSocket(endpoint);
        if (zmq_bind(m_socket, endpoint.c_str()) != 0) {
            throw Error(ErrorCode::INTERNAL_ERROR, "cannot bind " + endpoint + ": " + ZmqError());
        }
    } catch (...) {
        Stop();
        throw;
    }
    char last[256];
    size_t size = sizeof last;
    m_endpoint = zmq_getsockopt(m_socket, ZMQ_LAST_ENDPOINT, last, &size) == 0 ? std::string(last) : endpoint;
    LogDebug(LogCategory::IPC, "ipc: {} serving {} on {}", m_options.role, Join(m_dispatcher.Interfaces(), ","),
             m_endpoint);
    StartThreads(2);
}

std::shared_ptr<PeerConnection> Link::Connect(const std::string& endpoint)
{
    try {
        OpenSocket(endpoint);
        m_client_peer = std::make_shared<PeerConnection>(weak_from_this(), "");
        if (zmq_connect(m_socket, endpoint.c_str()) != 0) {
            throw Error(ErrorCode::INTERNAL_ERROR, "cannot connect to " + endpoint + ": " + ZmqError());
        }
    } catch (...) {
        Stop();
        throw;
    }
    m_endpoint = endpoint;
    {
        std::lock_guard lock(m_pool);
        m_only_calls = m_dispatcher.Interfaces().empty();
    }
    StartThreads(2);
    if (endpoint.starts_with("inproc://")) {
        // inproc has no ZMTP handshake (and no handshake event): the pipe is up once connected.
        {
            std::lock_guard lock(m_state);
            m_client_up = true;
        }
        StartHello();
    }
    std::unique_lock lock(m_state);
    if (!m_state_cv.wait_for(lock, m_options.connect_timeout,
                             [&] { return m_client_ready || !m_client_failure.empty(); })) {
        lock.unlock();
        Stop();
        throw Error(ErrorCode::DISCONNECTED, fmt::format("no answer from {} within {} ms (is the service running?)",
                                                         endpoint, m_options.connect_timeout.count()));
    }
    if (!m_client_failure.empty()) {
        std::string failure = m_client_failure;
        lock.unlock();
        Stop();
        throw Error(ErrorCode::DISCONNECTED, failure);
    }
    return m_client_peer;
}

void Link::StartThreads(size_t count)
{
    std::lock_guard lock(m_pool);
    for (size_t i = 0; i < count; ++i) m_threads.emplace_back([this] { WorkerMain(); });
}

void Link::Stop()
{
    Unregister(this); // a stopped link has no peers to report
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_pool);
        m_stopping = true;
        threads.swap(m_threads);
    }
    m_pool_cv.notify_all();
    m_caller_cv.notify_all();
    Wake();
    if (t_leading_link != this) {
        // A caller leading the link leaves at its next look; the socket closes after that.
        std::unique_lock lock(m_pool);
        m_caller_cv.wait(lock, [&] { return m_caller_leaders == 0; });
    }
    for (auto& thread : threads) {
        if (thread.get_id() == std::this_thread::get_id()) {
            thread.detach(); // stopped from one of its own handlers; it exits when that returns
        } else {
            thread.join();
        }
    }
    // inproc pipes give no disconnect event: tell the peers this side is gone (after the last handler's reply,
    // before the socket closes), or a call one of them sent here and that no one will read waits forever.
    if (m_transport == Transport::INPROC) {
        std::vector<std::shared_ptr<PeerConnection>> told;
        {
            std::lock_guard lock(m_state);
            if (m_is_server) {
                for (auto& [id, peer] : m_peers) {
                    if (peer->m_hello_done && !peer->m_closed) told.push_back(peer);
                }
            } else if (m_client_peer && m_client_ready && !m_client_peer->m_closed) {
                told.push_back(m_client_peer);
            }
        }
        for (auto& peer : told) peer->Notify("init.bye", 0);
    }
    // Fail what is still waiting, end served subscriptions (outside the lock: they run user code).
    std::map<uint64_t, Pending> pending;
    std::vector<std::unique_ptr<Subscription>> ended;
    {
        std::lock_guard lock(m_state);
        pending.swap(m_pending);
        for (auto& [id, peer] : m_peers) {
            peer->m_closed = true;
            for (auto& [sub, handle] : peer->m_served) ended.push_back(std::move(handle));
            peer->m_served.clear();
        }
        if (m_client_peer) m_client_peer->m_closed = true;
        m_client_up = m_client_ready = false;
        m_client_subscriptions.clear();
    }
    m_state_cv.notify_all();
    Error error(ErrorCode::DISCONNECTED, "connection closed");
    for (auto& [id, call] : pending) call.done(nullptr, &error);
    ended.clear();
    std::lock_guard io(m_io);
    if (m_monitor) zmq_close(m_monitor);
    if (m_socket) {
        // Replies sent by the last handlers still leave, for a short while.
        int linger = 200;
        zmq_setsockopt(m_socket, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(m_socket);
    }
    m_monitor = m_socket = nullptr;
    m_authenticator.reset();
    m_context = nullptr;
    m_context_owner.reset();
    if (m_wake_fd >= 0) ::close(m_wake_fd);
    m_wake_fd = -1;
}

std::vector<std::shared_ptr<Connection>> Link::Peers() const
{
    std::lock_guard lock(m_state);
    std::vector<std::shared_ptr<Connection>> peers;
    for (const auto& [id, peer] : m_peers) {
        if (peer->m_hello_done && !peer->m_closed) peers.push_back(peer);
    }
    return peers;
}

// ---------------------------------------------------------------- socket I/O

bool Link::TryReceiveMonitor(MonitorEvent& event)
{
    std::lock_guard io(m_io);
    if (!m_monitor) return false;
    int events = 0;
    size_t size = sizeof events;
    zmq_getsockopt(m_monitor, ZMQ_EVENTS, &events, &size);
    if (!(events & ZMQ_POLLIN)) return false;
    ZmqFrame head, address;
    if (zmq_msg_recv(&head.msg, m_monitor, ZMQ_DONTWAIT) < 0) return false;
    zmq_msg_recv(&address.msg, m_monitor, ZMQ_DONTWAIT);
    auto bytes = head.Bytes();
    if (bytes.size() < 6) return false;
    std::memcpy(&event.event, bytes.data(), 2);
    std::memcpy(&event.value, bytes.data() + 2, 4);
    auto addr = address.Bytes();
    event.address.assign(reinterpret_cast<const char*>(addr.data()), addr.size());
    return true;
}

bool Link::TryReceive(Incoming& incoming)
{
    std::lock_guard io(m_io);
    if (!m_socket) return false;
    ++m_socket_ops;
    if (m_is_server) {
        ZmqFrame routing;
        if (zmq_msg_recv(&routing.msg, m_socket, ZMQ_DONTWAIT) < 0) {
            m_ops_at_drain = m_socket_ops; // commands processed, nothing to read
            return false;
        }
        auto id = routing.Bytes();
        incoming.routing_id.assign(reinterpret_cast<const char*>(id.data()), id.size());
    }
    auto frame = std::make_shared<ZmqFrame>();
    if (zmq_msg_recv(&frame->msg, m_socket, ZMQ_DONTWAIT) < 0) {
        if (!m_is_server) m_ops_at_drain = m_socket_ops;
        return false;
    }
    incoming.fd = zmq_msg_get(&frame->msg, ZMQ_SRCFD);
    // A message is exactly one frame after the routing id; extra frames are dropped.
    bool extra = false;
    while (zmq_msg_more(&frame->msg) && !extra) {
        ZmqFrame rest;
        zmq_msg_recv(&rest.msg, m_socket, ZMQ_DONTWAIT);
        extra = !zmq_msg_more(&rest.msg);
        if (extra) break;
    }
    incoming.frame = std::move(frame);
    return true;
}

void Link::CheckInputAfterSend()
{
    if (t_leading_link == this) return; // the leader looks again before it sleeps
    int events = 0;
    size_t size = sizeof events;
    zmq_getsockopt(m_socket, ZMQ_EVENTS, &events, &size);
    if (events & ZMQ_POLLIN) Wake();
}

bool Link::SendTo(const PeerConnection& peer, std::vector<uint8_t> bytes)
{
    std::lock_guard io(m_io);
    if (!m_socket) return false;
    ++m_socket_ops;
    if (m_is_server) {
        if (zmq_send(m_socket, peer.m_routing_id.data(), peer.m_routing_id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            CheckInputAfterSend();
            return false;
        }
    }
    int rc;
    if (bytes.size() < 4096) {
        rc = zmq_send(m_socket, bytes.data(), bytes.size(), ZMQ_DONTWAIT);
    } else {
        // Large payloads are handed to ZeroMQ without another copy.
        auto* owned = new std::vector<uint8_t>(std::move(bytes));
        zmq_msg_t msg;
        zmq_msg_init_data(&msg, owned->data(), owned->size(), FreeVector, owned);
        rc = zmq_msg_send(&msg, m_socket, ZMQ_DONTWAIT);
        if (rc < 0) zmq_msg_close(&msg);
    }
    CheckInputAfterSend();
    return rc >= 0;
}

// ---------------------------------------------------------------- peers and events

std::shared_ptr<PeerConnection> Link::FindOrAddPeer(const std::string& routing_id, int fd)
{
    std::lock_guard lock(m_state);
    if (!m_is_server) return m_client_peer;
    auto it = m_peers.find(routing_id);
    if (it != m_peers.end()) return it->second;
    auto peer = std::make_shared<PeerConnection>(weak_from_this(), routing_id);
    peer->m_fd = fd;
    m_peers.emplace(routing_id, peer);
    return peer;
}

bool Link::PeerUsable(const PeerConnection& peer) const
{
    std::lock_guard lock(m_state);
    if (peer.m_closed) return false;
    return m_is_server ? peer.m_hello_done : m_client_ready;
}

PeerInfo Link::PeerInfoOf(const PeerConnection& peer) const
{
    std::lock_guard lock(m_state);
    return peer.m_info;
}

void Link::HandleMonitorEvent(const MonitorEvent& event)
{
    switch (event.event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        if (!m_is_server) {
            {
                std::lock_guard lock(m_state);
                m_client_up = true;
            }
            StartHello();
        }
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (m_is_server) {
            std::shared_ptr<PeerConnection> gone;
            {
                std::lock_guard lock(m_state);
                for (auto& [id, peer] : m_peers) {
                    if (peer->m_fd == event.value) gone = peer;
                }
            }
            if (gone) PeerGone(gone, "disconnected");
        } else {
            {
                std::lock_guard lock(m_state);
                m_client_up = m_client_ready = false;
            }
            PeerGone(m_client_peer, "disconnected from " + m_endpoint);
        }
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        LogPrintf("ipc: {} refused a connection on {}: authentication failed", m_options.role, m_endpoint);
        if (!m_is_server) {
            std::lock_guard lock(m_state);
            m_client_failure = "the service at " + m_endpoint + " refused this client's key";
            m_state_cv.notify_all();
        }
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        LogPrintf("ipc: {} dropped a connection on {}: ZMTP protocol error", m_options.role, m_endpoint);
        break;
    default:
        break;
    }
}

void Link::PeerGone(const std::shared_ptr<PeerConnection>& peer, const std::string& reason)
{
    std::vector<Pending> failed;
    std::vector<std::unique_ptr<Subscription>> ended;
    {
        std::lock_guard lock(m_state);
        for (auto it = m_pending.begin(); it != m_pending.end();) {
            if (it->second.peer.lock() == peer) {
                failed.push_back(std::move(it->second));
                it = m_pending.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& [sub, handle] : peer->m_served) ended.push_back(std::move(handle));
        peer->m_served.clear();
        peer->m_hello_done = false;
        if (m_is_server) {
            peer->m_closed = true;
            m_peers.erase(peer->m_routing_id);
        }
    }
    LogDebug(LogCategory::IPC, "ipc: {} lost {}: {} ({} calls failed, {} subscriptions ended)", SelfTag(),
             peer->Describe(), reason, failed.size(), ended.size());
    Error error(ErrorCode::DISCONNECTED, fmt::format("{} ({})", reason, peer->Describe()));
    for (auto& call : failed) call.done(nullptr, &error);
    ended.clear();
}

// ---------------------------------------------------------------- handshake

void Link::StartHello()
{
    auto self = shared_from_this();
    PeerInfo me{m_options.role, static_cast<int64_t>(::getpid()), m_options.interfaces};
    std::vector<uint8_t> bytes;
    auto done = [this, self](std::unique_ptr<Envelope> reply, const Error* error) {
        if (error) {
            LogPrintf("ipc: hello to {} failed: {}", m_endpoint, error->what());
            std::lock_guard lock(m_state);
            if (error->code() != ErrorCode::DISCONNECTED) {
                m_client_failure = fmt::format("hello to {} failed: {}", m_endpoint, error->what());
            }
            m_state_cv.notify_all();
            return;
        }
        PeerInfo info;
        try {
            Reader body = reply->Body();
            ReadValue(body, info);
        } catch (const Error& e) {
            std::lock_guard lock(m_state);
            m_client_failure = fmt::format("malformed hello reply from {}: {}", m_endpoint, e.what());
            m_state_cv.notify_all();
            return;
        }
        std::vector<std::string> missing;
        for (const auto& wanted : m_options.interfaces) {
            if (std::find(info.interfaces.begin(), info.interfaces.end(), wanted) == info.interfaces.end()) {
                missing.push_back(wanted);
            }
        }
        std::vector<std::pair<uint64_t, ClientSubscription>> renew;
        {
            std::lock_guard lock(m_state);
            if (!missing.empty()) {
                m_client_failure = fmt::format("{} at {} does not serve {} to role {}", info.role, m_endpoint,
                                               Join(missing, ", "), m_options.role);
                m_state_cv.notify_all();
                return;
            }
            m_client_peer->m_info = info;
            m_client_peer->m_hello_done = true;
            m_client_ready = true;
            for (auto& [sub, entry] : m_client_subscriptions) renew.emplace_back(sub, entry);
        }
        m_state_cv.notify_all();
        LogDebug(LogCategory::IPC, "ipc: {} connected to {}:{} at {}", SelfTag(), info.role, info.pid, m_endpoint);
        for (auto& [sub, entry] : renew) {
            // Re-issue the subscribe request with the same subscription id.
            std::vector<uint8_t> request;
            Writer w(request);
            std::string method = entry.method;
            auto resubscribe = [method](std::unique_ptr<Envelope>, const Error* e) {
                if (e) LogPrintf("ipc: renewing subscription {} failed: {}", method, e->what());
            };
            uint64_t rid = m_client_peer->TakeId();
            BeginEnvelope(w, Kind::REQUEST, rid, entry.method);
            w.ArrayHeader(entry.arg_count + 1);
            w.Uint(sub);
            w.Raw(entry.args);
            CallAsync(*m_client_peer, rid, entry.method, std::move(request), resubscribe);
        }
    };
    uint64_t hello_id = m_client_peer->TakeId();
    Writer w(bytes);
    BeginEnvelope(w, Kind::REQUEST, hello_id, "init.hello");
    w.ArrayHeader(1);
    WriteValue(w, me);
    {
        std::lock_guard lock(m_state);
        m_pending[hello_id] = Pending{
            "init.hello", bytes.size(), Clock::now(), Clock::now() + m_options.connect_timeout, m_client_peer, done};
    }
    if (!SendTo(*m_client_peer, std::move(bytes))) {
        std::lock_guard lock(m_state);
        m_pending.erase(hello_id);
    }
}

void Link::HandleHello(PeerConnection& peer, const Envelope& env)
{
    Reader args = env.BodyItems();
    ExpectEnd(args, 1);
    auto info = ReadArg<PeerInfo>(args, "hello");
    if (info.role.empty()) throw DecodeError("hello: the role must not be empty");
    PeerCredentials credentials;
    std::string current;
    {
        // Marked at once: a second hello racing this one on another thread is refused too.
        std::lock_guard lock(m_state);
        if (peer.m_hello_started) current = peer.m_info.role.empty() ? std::string("(pending)") : peer.m_info.role;
        peer.m_hello_started = true;
        credentials = peer.m_credentials;
    }
    if (!current.empty()) {
        throw Error(ErrorCode::PERMISSION_DENIED,
                    fmt::format("a second hello (as {}) on a connection that said hello as {}", info.role, current));
    }
    if (auto refusal = m_options.roles.Check(credentials, info.role, m_own_uid)) {
        {
            std::lock_guard lock(m_state);
            peer.m_hello_started = false; // it may try again with a role it may claim
        }
        throw Error(ErrorCode::PERMISSION_DENIED,
                    fmt::format("{} may not say it is {}: {}", credentials.Describe(), info.role, *refusal));
    }
    // On ipc:// the kernel's pid, not the claimed one (they differ only across pid namespaces).
    if (credentials.unix_peer) info.pid = credentials.unix_peer->pid;
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::RESPONSE, env.id, env.method);
    WriteValue(w, PeerInfo{m_options.role, static_cast<int64_t>(::getpid()), m_dispatcher.InterfacesFor(info.role)});
    {
        std::lock_guard lock(m_state);
        peer.m_info = info;
        peer.m_hello_done = true;
    }
    LogDebug(LogCategory::IPC, "ipc: {} accepted {}:{} on {} ({})", SelfTag(), info.role, info.pid, m_endpoint,
             credentials.Describe());
    SendTo(peer, std::move(bytes));
}

PeerCredentials Link::CredentialsOf(const ZmqFrame& frame) const
{
    PeerCredentials credentials;
    credentials.transport = m_transport;
    auto* msg = const_cast<zmq_msg_t*>(&frame.msg);
    if (const char* address = zmq_msg_gets(msg, "Peer-Address")) credentials.address = address;
    if (m_transport == Transport::IPC) credentials.unix_peer = ParseUnixPeerAddress(credentials.address);
    if (m_transport == Transport::TCP) {
        // The ZAP handler answers with the role bound to the key as the User-Id.
        if (const char* user = zmq_msg_gets(msg, "User-Id")) credentials.key_role = user;
    }
    return credentials;
}

void Link::CallAsync(PeerConnection& peer, uint64_t id, std::string_view method, std::vector<uint8_t> request,
                     Completion done)
{
    auto fail = [&](ErrorCode code, const std::string& why) {
        Error error(code, why);
        done(nullptr, &error);
    };
    if (request.size() > m_options.max_message_size) {
        return fail(ErrorCode::MESSAGE_TOO_LARGE, fmt::format("request of {} bytes exceeds the limit of {}",
                                                              request.size(), m_options.max_message_size));
    }
    Clock::time_point now = Clock::now();
    {
        std::unique_lock lock(m_state);
        if (!m_is_server && !m_client_ready && m_client_up) {
            // Connected but the hello is still under way: wait for it, briefly.
            m_state_cv.wait_for(lock, m_options.connect_timeout, [&] { return m_client_ready || !m_client_up; });
        }
        bool usable = !peer.m_closed && (m_is_server ? peer.m_hello_done : m_client_ready);
        if (!usable) {
            lock.unlock();
            return fail(ErrorCode::DISCONNECTED, fmt::format("not connected to {}", m_endpoint));
        }
        Pending& pending = m_pending[id];
        pending.method = std::string(method);
        pending.request_size = request.size();
        pending.start = now;
        if (m_options.call_timeout.count() > 0) pending.deadline = now + m_options.call_timeout;
        pending.peer = std::static_pointer_cast<PeerConnection>(peer.shared_from_this());
        pending.done = std::move(done);
    }
    if (!SendTo(peer, std::move(request))) {
        Completion callback;
        {
            std::lock_guard lock(m_state);
            auto it = m_pending.find(id);
            if (it == m_pending.end()) return; // already failed by a disconnect
            callback = std::move(it->second.done);
            m_pending.erase(it);
        }
        Error error(ErrorCode::DISCONNECTED, fmt::format("cannot send to {}", m_endpoint));
        callback(nullptr, &error);
        return;
    }
}

void Link::ExpireCalls()
{
    if (m_options.call_timeout.count() == 0 && m_is_server) return;
    std::vector<Pending> expired;
    Clock::time_point now = Clock::now();
    {
        std::lock_guard lock(m_state);
        for (auto it = m_pending.begin(); it != m_pending.end();) {
            if (it->second.deadline <= now) {
                expired.push_back(std::move(it->second));
                it = m_pending.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& call : expired) {
        if (auto peer = call.peer.lock()) peer->m_calls_made.Record(now - call.start, true);
        Error error(ErrorCode::TIMEOUT, fmt::format("{} to {} timed out", call.method, m_endpoint));
        call.done(nullptr, &error);
    }
}

void Link::HandleCompletion(const std::shared_ptr<PeerConnection>& peer, std::unique_ptr<Envelope> env)
{
    Pending call;
    {
        std::lock_guard lock(m_state);
        auto it = m_pending.find(env->id);
        if (it == m_pending.end()) {
            LogDebug(LogCategory::IPC, "ipc: {} dropped a {} for unknown id {} from {}", SelfTag(), KindName(env->kind),
                     env->id, peer->Describe());
            return;
        }
        call = std::move(it->second);
        m_pending.erase(it);
    }
    const Clock::duration elapsed = Clock::now() - call.start;
    if (call.method != "init.hello") peer->m_calls_made.Record(elapsed, env->kind == Kind::ERROR);
    LogDebug(LogCategory::IPC, "ipc: {} -> {} {} id={} {}B/{}B {}us{}", SelfTag(), peer->Describe(), call.method,
             env->id, call.request_size, env->size,
             std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
             env->kind == Kind::ERROR ? " error" : "");
    if (env->kind == Kind::ERROR) {
        Error error = env->BodyAsError();
        call.done(nullptr, &error);
    } else {
        call.done(std::move(env), nullptr);
    }
}

// ---------------------------------------------------------------- incoming

void Link::SendError(PeerConnection& peer, uint64_t id, std::string_view method, ErrorCode code, const std::string& why)
{
    LogPrintf("ipc: {} rejected {} id={} from {}: {}: {}", SelfTag(), method.empty() ? "message" : method, id,
              peer.Describe(), ErrorCodeName(code), why);
    SendTo(peer, MakeErrorEnvelope(id, method, code, why));
}

bool Link::HandleIncoming(Incoming incoming)
{
    auto peer = FindOrAddPeer(incoming.routing_id, incoming.fd);
    if (!peer) return false;
    // The connection's identity, as libzmq attached it to the message (no copy: compared in place).
    const char* address = nullptr;
    const char* user = nullptr;
    if (m_is_server && m_transport != Transport::INPROC) {
        auto* msg = &incoming.frame->msg;
        address = zmq_msg_gets(msg, "Peer-Address");
        if (m_transport == Transport::TCP) user = zmq_msg_gets(msg, "User-Id");
    }
    {
        std::lock_guard lock(m_state);
        if (peer->m_closed && m_is_server) return false; // refused earlier (version mismatch)
        if (incoming.fd >= 0) peer->m_fd = incoming.fd;
        if (m_is_server && !peer->m_identified) {
            peer->m_credentials = CredentialsOf(*incoming.frame);
            peer->m_identified = true;
        } else if (m_is_server && (peer->m_credentials.address != (address ? address : "") ||
                                   peer->m_credentials.key_role != (user ? user : ""))) {
            // Another connection under a known routing id (a client may choose its own):
            // it is not the peer that said hello, so it speaks for no one.
            LogPrintf("ipc: {} dropped a message under the routing id of {} from another connection ({})", SelfTag(),
                      peer->Describe(), address ? address : "?");
            return false;
        }
    }
    auto bytes = incoming.frame->Bytes();
    std::unique_ptr<Envelope> env;
    try {
        env = DecodeEnvelope(bytes, incoming.frame, m_options.max_message_size);
    } catch (const EnvelopeError& e) {
        // Answer what can be answered; never let a bad frame reach a handler.
        SendError(*peer, e.id().value_or(0), e.method(), e.code(), e.what());
        if (e.code() == ErrorCode::VERSION_MISMATCH && m_is_server) {
            std::lock_guard lock(m_state);
            peer->m_closed = true;
        }
        return false;
    }
    switch (env->kind) {
    case Kind::REQUEST:
        MarkBusy();
        HandleRequest(peer, *env);
        return true;
    case Kind::NOTIFICATION:
        if (env->method == "init.bye") {
            // The peer's link stopped (inproc only: the transports with a connection have the monitor's event).
            if (!m_is_server) {
                std::lock_guard lock(m_state);
                m_client_up = m_client_ready = false;
                m_state_cv.notify_all();
            }
            PeerGone(peer, "it closed its link");
            return false;
        }
        MarkBusy();
        HandleNotification(peer, *env);
        return true;
    case Kind::RESPONSE:
    case Kind::ERROR:
        HandleCompletion(peer, std::move(env));
        return false;
    case Kind::CANCEL: {
        std::lock_guard lock(m_state);
        if (peer->m_cancelled.size() < 1024) peer->m_cancelled.insert(env->id);
        return false;
    }
    }
    return false;
}

namespace {
class LinkCallContext final : public CallContext
{
public:
    LinkCallContext(std::shared_ptr<PeerConnection> peer, PeerInfo info, PeerCredentials credentials, std::mutex& state)
        : m_peer(std::move(peer)), m_info(std::move(info)), m_credentials(std::move(credentials)), m_state(state)
    {
    }
    const PeerInfo& Caller() const override { return m_info; }
    const PeerCredentials& Credentials() const override { return m_credentials; }
    std::shared_ptr<Connection> CallerConnection() const override { return m_peer; }
    void KeepSubscription(uint64_t subscription, std::unique_ptr<Subscription> handle) override
    {
        std::unique_ptr<Subscription> replaced;
        std::lock_guard lock(m_state);
        if (m_peer->m_closed) return; // gone while subscribing: the handle ends right here
        auto& slot = m_peer->m_served[subscription];
        replaced = std::move(slot);
        slot = std::move(handle);
    }

private:
    std::shared_ptr<PeerConnection> m_peer;
    PeerInfo m_info;
    PeerCredentials m_credentials;
    std::mutex& m_state;
};
} // namespace

void Link::HandleRequest(const std::shared_ptr<PeerConnection>& peer, const Envelope& env)
{
    Clock::time_point start = Clock::now();
    PeerInfo caller;
    PeerCredentials credentials;
    {
        std::lock_guard lock(m_state);
        if (peer->m_hello_done) caller = peer->m_info;
        credentials = peer->m_credentials;
    }
    try {
        if (env.method == "init.hello") return HandleHello(*peer, env);
    } catch (const Error& e) {
        return SendError(*peer, env.id, env.method, e.code(), e.what());
    }
    if (caller.role.empty()) {
        return SendError(*peer, env.id, env.method, ErrorCode::HELLO_REQUIRED, "the first request must be init.hello");
    }
    const MethodHandler* handler = m_dispatcher.Find(env.method);
    if (!handler) {
        return SendError(*peer, env.id, env.method, ErrorCode::METHOD_NOT_FOUND,
                         fmt::format("unknown method {}", env.method));
    }
    if (!m_dispatcher.Allowed(env.method, caller.role)) {
        return SendError(*peer, env.id, env.method, ErrorCode::PERMISSION_DENIED,
                         fmt::format("role {} may not call {}", caller.role, env.method));
    }
    bool admitted = false;
    {
        std::lock_guard lock(m_state);
        if (peer->m_in_flight < m_options.max_requests_in_flight) {
            ++peer->m_in_flight;
            admitted = true;
        }
    }
    if (!admitted) {
        return SendError(*peer, env.id, env.method, ErrorCode::BUSY,
                         fmt::format("more than {} requests in flight", m_options.max_requests_in_flight));
    }
    std::vector<uint8_t> reply;
    reply.reserve(64);
    std::optional<Error> failure;
    try {
        Writer w(reply);
        BeginEnvelope(w, Kind::RESPONSE, env.id, env.method);
        Reader args = env.BodyItems();
        LinkCallContext context(peer, caller, std::move(credentials), m_state);
        CallScope scope(context);
        (*handler)(context, args, w);
    } catch (const Error& e) {
        failure.emplace(e);
    } catch (const std::exception& e) {
        failure.emplace(ErrorCode::REMOTE_EXCEPTION, e.what());
    } catch (...) {
        failure.emplace(ErrorCode::REMOTE_EXCEPTION, "unknown exception");
    }
    // Counted before the reply leaves, so a caller that has its result finds the call counted here.
    const Clock::duration elapsed = Clock::now() - start;
    peer->m_calls_served.Record(elapsed, failure.has_value());
    bool cancelled;
    {
        std::lock_guard lock(m_state);
        --peer->m_in_flight;
        cancelled = peer->m_cancelled.erase(env.id) > 0;
    }
    if (cancelled) return;
    if (failure) {
        if (failure->code() == ErrorCode::INVALID_PARAMS || failure->code() == ErrorCode::PERMISSION_DENIED) {
            // Logged once, as every refusal: a caller asking for what it may not have is news.
            return SendError(*peer, env.id, env.method, failure->code(), failure->what());
        }
        LogDebug(LogCategory::IPC, "ipc: {} {} from {} failed: {}", SelfTag(), env.method, peer->Describe(),
                 failure->what());
        SendTo(*peer, MakeErrorEnvelope(env.id, env.method, failure->code(), failure->what()));
        return;
    }
    if (reply.size() > m_options.max_message_size) {
        return SendError(*peer, env.id, env.method, ErrorCode::MESSAGE_TOO_LARGE,
                         fmt::format("reply of {} bytes exceeds the limit", reply.size()));
    }
    // Logged before the reply leaves, so the line is written before the caller can see the result.
    LogDebug(LogCategory::IPC, "ipc: {} <- {} {} id={} {}B/{}B {}us", SelfTag(), peer->Describe(), env.method, env.id,
             env.size, reply.size(), std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    SendTo(*peer, std::move(reply));
}

void Link::HandleNotification(const std::shared_ptr<PeerConnection>& peer, const Envelope& env)
{
    uint64_t subscription = 0;
    try {
        Reader args = env.BodyItems();
        subscription = args.Uint();
        if (env.method == "init.unsubscribe") {
            std::unique_ptr<Subscription> ended;
            {
                std::lock_guard lock(m_state);
                auto it = peer->m_served.find(subscription);
                if (it != peer->m_served.end()) {
                    ended = std::move(it->second);
                    peer->m_served.erase(it);
                }
            }
            return; // `ended` runs the implementation's clean-up here, outside the lock
        }
        std::shared_ptr<NotificationSink> sink;
        uint64_t ticket;
        {
            std::lock_guard lock(m_state);
            auto it = m_client_subscriptions.find(subscription);
            if (it == m_client_subscriptions.end()) return; // ended while in flight
            sink = it->second.sink;
            ticket = m_notify_next_ticket++;
        }
        // Wait for our turn, so order survives a change of leader mid-delivery.
        {
            std::unique_lock lock(m_state);
            m_state_cv.wait(lock, [&] { return m_notify_serving == ticket; });
        }
        try {
            sink->Deliver(env.method, args);
        } catch (const std::exception& e) {
            LogPrintf("ipc: {} notification {} from {} failed: {}", SelfTag(), env.method, peer->Describe(), e.what());
        }
        {
            std::lock_guard lock(m_state);
            ++m_notify_serving;
        }
        m_state_cv.notify_all();
    } catch (const Error& e) {
        LogPrintf("ipc: {} rejected notification {} from {}: {}", SelfTag(), env.method, peer->Describe(), e.what());
    }
}

// ---------------------------------------------------------------- client subscriptions

namespace {
class RemoteSubscription final : public Subscription
{
public:
    RemoteSubscription(std::weak_ptr<Link> link, uint64_t id) : m_link(std::move(link)), m_id(id) {}
    ~RemoteSubscription() override
    {
        if (auto link = m_link.lock()) link->EndClientSubscription(m_id);
    }

private:
    std::weak_ptr<Link> m_link;
    uint64_t m_id;
};
} // namespace

std::unique_ptr<Subscription> Link::AddClientSubscription(PeerConnection& peer, std::string method,
                                                          std::vector<uint8_t> args, uint32_t arg_count,
                                                          std::shared_ptr<NotificationSink> sink)
{
    uint64_t subscription;
    {
        std::lock_guard lock(m_state);
        subscription = m_next_subscription++;
        m_client_subscriptions[subscription] = ClientSubscription{
            method, args, arg_count, sink, std::static_pointer_cast<PeerConnection>(peer.shared_from_this())};
    }
    auto handle = std::make_unique<RemoteSubscription>(weak_from_this(), subscription);
    std::vector<uint8_t> request;
    Writer w(request);
    uint64_t id = peer.TakeId();
    BeginEnvelope(w, Kind::REQUEST, id, method);
    w.ArrayHeader(arg_count + 1);
    w.Uint(subscription);
    w.Raw(args);
    CallSync(peer, id, method, std::move(request)); // throws; `handle` then ends the registration
    return handle;
}

void Link::EndClientSubscription(uint64_t subscription)
{
    std::shared_ptr<PeerConnection> peer;
    {
        std::lock_guard lock(m_state);
        auto it = m_client_subscriptions.find(subscription);
        if (it == m_client_subscriptions.end()) return;
        peer = it->second.peer.lock();
        m_client_subscriptions.erase(it);
    }
    if (peer && PeerUsable(*peer)) peer->Notify("init.unsubscribe", subscription);
}

} // namespace detail

// ---------------------------------------------------------------- Server and Client

Server::Server(Options options) : m_options(std::move(options)) {}
Server::~Server()
{
    Stop();
}
Dispatcher& Server::GetDispatcher()
{
    return m_dispatcher;
}

void Server::Bind(const std::string& endpoint)
{
    if (m_link) throw Error(ErrorCode::INTERNAL_ERROR, "server already bound");
    auto link = std::make_shared<detail::Link>(m_options, m_dispatcher, /*is_server=*/true);
    link->Bind(endpoint);
    m_link = std::move(link);
}

std::string Server::Endpoint() const
{
    return m_link ? m_link->Endpoint() : std::string();
}

std::vector<std::shared_ptr<Connection>> Server::Peers() const
{
    return m_link ? m_link->Peers() : std::vector<std::shared_ptr<Connection>>{};
}

void Server::Stop()
{
    if (m_link) m_link->Stop();
    m_link.reset();
}

Client::Client(Options options) : m_options(std::move(options)) {}
Client::~Client()
{
    Stop();
}
Dispatcher& Client::GetDispatcher()
{
    return m_dispatcher;
}

std::shared_ptr<Connection> Client::Connect(const std::string& endpoint)
{
    if (m_link) throw Error(ErrorCode::INTERNAL_ERROR, "client already connected");
    auto link = std::make_shared<detail::Link>(m_options, m_dispatcher, /*is_server=*/false);
    auto peer = link->Connect(endpoint);
    m_link = std::move(link);
    return peer;
}

void Client::Stop()
{
    if (m_link) m_link->Stop();
    m_link.reset();
}

} // namespace orrery::ipc
