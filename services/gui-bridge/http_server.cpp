// The HTTP server's event loop and worker pool; see http_server.h.
//
// Ownership: connections belong to the I/O thread alone. A worker gets a copy
// of the parsed request and the connection's id, and hands back the formatted
// reply through a queue; the I/O thread writes it. A connection whose request
// is with a worker is not read from, so a client cannot queue more than one
// request's worth of memory per connection.
//
// A streamed response (server-sent events) keeps its connection in STREAMING:
// the I/O thread takes the stream's pending bytes only once the previous ones
// are written, so a slow client's backlog stays in the stream's bounded queue,
// which drops it when full.
#include <services/gui-bridge/http_server.h>

#include <common/http/stream.h>

#include <common/util/logging.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace orrery::http {
namespace {

using Clock = std::chrono::steady_clock;

std::string AddressToString(const sockaddr_storage& address)
{
    char host[INET6_ADDRSTRLEN] = {};
    uint16_t port = 0;
    if (address.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(address);
        ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
        port = ntohs(in.sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
        ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
        port = ntohs(in6.sin6_port);
        return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    return "unknown";
}

enum class ConnState { READING, BUSY, WRITING, STREAMING };

struct Connection {
    int fd{-1};
    std::string peer;
    std::string in;
    std::string out;
    size_t out_sent{0};
    ConnState state{ConnState::READING};
    bool close_after_write{false};
    bool continue_sent{false};
    Clock::time_point deadline;
    std::shared_ptr<BodyStream> stream; //!< a streamed response in progress
};

struct Task {
    uint64_t connection;
    Request request;
    std::string peer;
};

struct Result {
    uint64_t connection;
    std::string bytes;
    bool close;
    std::shared_ptr<BodyStream> stream;
};

} // namespace

struct Server::Impl {
    ServerOptions options;
    Handler handler;
    std::vector<int> listeners;
    std::vector<std::string> bound;
    int wake_fd{-1};
    std::thread io_thread;
    std::vector<std::thread> workers;
    std::atomic<bool> stopping{false};
    std::chrono::milliseconds grace{0};
    bool started{false};

    std::mutex mutex; // guards tasks, results, workers_stop
    std::condition_variable tasks_cv;
    std::deque<Task> tasks;
    std::deque<Result> results;
    bool workers_stop{false};

    // I/O thread only.
    std::map<uint64_t, Connection> connections;
    uint64_t next_id{1};

    void Wake() const
    {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
    }

    void Bind(const std::string& host, uint16_t port)
    {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        addrinfo* found = nullptr;
        std::string port_text = std::to_string(port);
        if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
            throw std::runtime_error("cannot resolve -rpcbind address " + host + ": " + ::gai_strerror(rc));
        }
        std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
        std::string last_error = "no address";
        for (addrinfo* ai = found; ai; ai = ai->ai_next) {
            int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                last_error = std::strerror(errno);
                continue;
            }
            int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (ai->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
                last_error = std::strerror(errno);
                ::close(fd);
                continue;
            }
            sockaddr_storage local{};
            socklen_t length = sizeof local;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
            listeners.push_back(fd);
            bound.push_back(AddressToString(local));
            return;
        }
        throw std::runtime_error("Unable to bind RPC server to " + host + ":" + port_text + ": " + last_error);
    }

    // --- workers -----------------------------------------------------------

    void WorkerMain()
    {
        for (;;) {
            Task task;
            {
                std::unique_lock lock(mutex);
                tasks_cv.wait(lock, [&] { return workers_stop || !tasks.empty(); });
                if (tasks.empty()) return;
                task = std::move(tasks.front());
                tasks.pop_front();
            }
            Response response;
            try {
                response = handler(task.request, task.peer);
            } catch (const std::exception& e) {
                LogPrintf("HTTP handler failed for {} {}: {}", task.request.method, task.request.target, e.what());
                response = Response{500, {}, "Internal error\n", false, nullptr};
            }
            bool keep_alive = task.request.keep_alive && !response.close && !response.stream;
            std::string bytes = FormatResponse(response, keep_alive);
            {
                std::lock_guard lock(mutex);
                results.push_back({task.connection, std::move(bytes), !keep_alive, std::move(response.stream)});
            }
            Wake();
        }
    }

    // --- the I/O thread ------------------------------------------------------

    void Queue(uint64_t id, Connection& connection, std::string bytes, bool close)
    {
        (void)id;
        connection.out = std::move(bytes);
        connection.out_sent = 0;
        connection.close_after_write = close;
        connection.state = ConnState::WRITING;
        connection.deadline = Clock::now() + options.timeout;
    }

    void Reject(uint64_t id, Connection& connection, int status, const std::string& message)
    {
        Response response{status, {{"Content-Type", "text/plain"}}, message + "\n", true, nullptr};
        Queue(id, connection, FormatResponse(response, false), true);
    }

    //! Looks for a whole request in the connection's buffer and hands it to a worker.
    void TryDispatch(uint64_t id, Connection& connection)
    {
        ParseResult parsed = ParseRequest(connection.in, options.limits);
        switch (parsed.status) {
        case ParseStatus::INCOMPLETE:
            return;
        case ParseStatus::HEADERS_ONLY:
            if (parsed.request.expect_continue && !connection.continue_sent) {
                connection.continue_sent = true;
                static constexpr std::string_view CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
                // Small enough to go out at once; if not, the client sends the body after its own delay anyway.
                [[maybe_unused]] ssize_t n = ::send(connection.fd, CONTINUE.data(), CONTINUE.size(), MSG_NOSIGNAL);
            }
            return;
        case ParseStatus::FAILED:
            LogDebug(LogCategory::RPC, "HTTP request from {} refused: {} {}", connection.peer, parsed.error_status,
                     parsed.error_message);
            Reject(id, connection, parsed.error_status, parsed.error_message);
            return;
        case ParseStatus::COMPLETE:
            break;
        }
        connection.in.erase(0, parsed.consumed);
        connection.continue_sent = false;
        connection.state = ConnState::BUSY;
        bool full = false;
        {
            std::lock_guard lock(mutex);
            full = tasks.size() >= options.work_queue;
            if (!full) tasks.push_back({id, std::move(parsed.request), connection.peer});
        }
        if (full) {
            LogPrintf("WARNING: request rejected because http work queue depth exceeded, it can be increased with the "
                      "-rpcworkqueue= setting");
            Reject(id, connection, 503, "Work queue depth exceeded");
            return;
        }
        tasks_cv.notify_one();
    }

    void Accept(int listener)
    {
        for (;;) {
            sockaddr_storage address{};
            socklen_t length = sizeof address;
            int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return; // EAGAIN, or a transient failure (EMFILE): poll tells us again
            if (connections.size() >= options.max_connections) {
                ::close(fd);
                continue;
            }
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            Connection connection;
            connection.fd = fd;
            connection.peer = AddressToString(address);
            connection.deadline = Clock::now() + options.timeout;
            connections.emplace(next_id++, std::move(connection));
        }
    }

    //! Reads what is there. False when the connection is to be closed.
    bool Read(uint64_t id, Connection& connection)
    {
        char buffer[65536];
        for (;;) {
            ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                connection.in.append(buffer, static_cast<size_t>(n));
                connection.deadline = Clock::now() + options.timeout;
                // Past the largest acceptable request the parser refuses anyway: stop buffering.
                if (connection.in.size() > options.limits.max_header_bytes + options.limits.max_body) break;
                continue;
            }
            if (n == 0) return false;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return false;
        }
        TryDispatch(id, connection);
        return true;
    }

    //! Writes what it can. False when the connection is to be closed.
    bool Write(uint64_t id, Connection& connection)
    {
        while (connection.out_sent < connection.out.size()) {
            ssize_t n = ::send(connection.fd, connection.out.data() + connection.out_sent,
                               connection.out.size() - connection.out_sent, MSG_NOSIGNAL);
            if (n > 0) {
                connection.out_sent += static_cast<size_t>(n);
                connection.deadline = Clock::now() + options.timeout;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
            return false;
        }
        if (connection.stream) {
            bool closed = false;
            connection.out = connection.stream->Take(&closed);
            connection.out_sent = 0;
            if (connection.out.empty()) {
                connection.state = ConnState::STREAMING;
                return !closed && !stopping;
            }
            connection.state = ConnState::WRITING;
            return Write(id, connection);
        }
        if (connection.close_after_write || stopping) return false;
        connection.out.clear();
        connection.out_sent = 0;
        connection.state = ConnState::READING;
        TryDispatch(id, connection); // a pipelined request may already be buffered
        return true;
    }

    void Close(uint64_t id)
    {
        auto it = connections.find(id);
        if (it == connections.end()) return;
        if (it->second.stream) it->second.stream->Detach();
        ::close(it->second.fd);
        connections.erase(it);
    }

    void CollectResults()
    {
        uint64_t drained = 0;
        [[maybe_unused]] ssize_t n = ::read(wake_fd, &drained, sizeof drained);
        std::deque<Result> ready;
        {
            std::lock_guard lock(mutex);
            ready.swap(results);
        }
        for (auto& result : ready) {
            auto it = connections.find(result.connection);
            if (it == connections.end()) {
                if (result.stream) result.stream->Detach();
                continue;
            }
            Queue(result.connection, it->second, std::move(result.bytes), result.close);
            if (result.stream) {
                it->second.stream = result.stream;
                result.stream->SetWake([this] { Wake(); });
            }
            if (!Write(result.connection, it->second)) Close(result.connection);
        }
        // Streams with news (or closed) whose previous bytes are out.
        std::vector<uint64_t> done;
        for (auto& [id, c] : connections) {
            if (c.state == ConnState::STREAMING && !Write(id, c)) done.push_back(id);
        }
        for (uint64_t id : done) Close(id);
    }

    //! A streaming client sent something or hung up; what it sends is ignored. False when it is gone.
    bool Drain(Connection& connection)
    {
        char buffer[4096];
        for (;;) {
            ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, 0);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }

    void IoMain()
    {
        std::optional<Clock::time_point> stop_deadline;
        for (;;) {
            if (stopping && !stop_deadline) {
                stop_deadline = Clock::now() + grace;
                for (int fd : listeners) ::close(fd);
                listeners.clear();
            }
            if (stop_deadline) {
                // Idle connections go at once; those with a request in hand finish first.
                std::vector<uint64_t> idle;
                for (const auto& [id, c] : connections) {
                    if (c.state == ConnState::READING || c.state == ConnState::STREAMING) idle.push_back(id);
                }
                for (uint64_t id : idle) Close(id);
                if (connections.empty() || Clock::now() >= *stop_deadline) break;
            }
            std::vector<pollfd> fds;
            std::vector<uint64_t> ids;
            fds.push_back({wake_fd, POLLIN, 0});
            for (int fd : listeners) fds.push_back({fd, POLLIN, 0});
            auto now = Clock::now();
            auto next_deadline = now + std::chrono::seconds(3600);
            if (stop_deadline) next_deadline = *stop_deadline;
            for (const auto& [id, c] : connections) {
                if (c.state == ConnState::BUSY) continue;
                short events = c.state == ConnState::READING ? POLLIN : POLLOUT;
                if (c.state == ConnState::WRITING && c.stream) events |= POLLIN; // notice a hang-up
                if (c.state == ConnState::STREAMING) events = POLLIN;
                fds.push_back({c.fd, events, 0});
                ids.push_back(id);
                if (c.state != ConnState::STREAMING && !c.stream) next_deadline = std::min(next_deadline, c.deadline);
            }
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now).count();
            int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<int64_t>(wait + 1, 0, 3600000)));
            if (rc < 0 && errno != EINTR) {
                LogPrintf("HTTP server: poll failed: {}", std::strerror(errno));
                break;
            }
            if (rc > 0) {
                if (fds[0].revents) CollectResults();
                for (size_t i = 0; i < listeners.size(); ++i) {
                    if (fds[1 + i].revents & POLLIN) Accept(listeners[i]);
                }
                size_t first = 1 + listeners.size();
                for (size_t i = 0; i < ids.size(); ++i) {
                    short revents = fds[first + i].revents;
                    if (!revents) continue;
                    auto it = connections.find(ids[i]);
                    if (it == connections.end() || it->second.state == ConnState::BUSY) continue;
                    bool keep = true;
                    if (it->second.stream && (revents & POLLIN)) keep = Drain(it->second);
                    if (!keep) {
                        Close(ids[i]);
                        continue;
                    }
                    if (it->second.state == ConnState::STREAMING) {
                        keep = !(revents & (POLLHUP | POLLERR));
                    } else if (it->second.state == ConnState::READING) {
                        keep = (revents & (POLLIN | POLLHUP | POLLERR)) ? Read(ids[i], it->second) : true;
                    } else {
                        keep = (revents & (POLLOUT | POLLHUP | POLLERR)) ? Write(ids[i], it->second) : true;
                    }
                    if (!keep) Close(ids[i]);
                }
            }
            // Idle keep-alive connections and stalled clients time out; a request with a worker does not.
            now = Clock::now();
            std::vector<uint64_t> expired;
            for (const auto& [id, c] : connections) {
                if (c.state != ConnState::BUSY && !c.stream && c.deadline <= now) expired.push_back(id);
            }
            for (uint64_t id : expired) {
                LogDebug(LogCategory::RPC, "HTTP connection from {} timed out", connections[id].peer);
                Close(id);
            }
        }
        for (auto& [id, c] : connections) {
            if (c.stream) c.stream->Detach();
            ::close(c.fd);
        }
        connections.clear();
        for (int fd : listeners) ::close(fd);
        listeners.clear();
    }
};

Server::Server(ServerOptions options, Handler handler) : m_impl(std::make_unique<Impl>())
{
    m_impl->options = std::move(options);
    m_impl->handler = std::move(handler);
}

Server::~Server()
{
    Stop();
}

void Server::Start()
{
    Impl& impl = *m_impl;
    impl.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (impl.wake_fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    try {
        for (const auto& [host, port] : impl.options.binds) impl.Bind(host, port);
    } catch (...) {
        for (int fd : impl.listeners) ::close(fd);
        impl.listeners.clear();
        ::close(impl.wake_fd);
        impl.wake_fd = -1;
        throw;
    }
    impl.started = true;
    for (size_t i = 0; i < std::max<size_t>(1, impl.options.threads); ++i) {
        impl.workers.emplace_back([&impl] { impl.WorkerMain(); });
    }
    impl.io_thread = std::thread([&impl] { impl.IoMain(); });
}

std::vector<std::string> Server::BoundAddresses() const
{
    return m_impl->bound;
}

void Server::Stop(std::chrono::milliseconds grace)
{
    Impl& impl = *m_impl;
    if (!impl.started) return;
    impl.started = false;
    impl.grace = grace;
    impl.stopping = true;
    impl.Wake();
    impl.io_thread.join();
    {
        std::lock_guard lock(impl.mutex);
        impl.workers_stop = true;
        impl.tasks.clear();
    }
    impl.tasks_cv.notify_all();
    for (auto& worker : impl.workers) worker.join();
    impl.workers.clear();
    ::close(impl.wake_fd);
    impl.wake_fd = -1;
}

} // namespace orrery::http
