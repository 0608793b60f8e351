// The threads of a Link: the leader/follower pool that polls the socket, and
// synchronous calls, including the path where the calling thread leads the
// socket itself to receive its own reply (see link.h and doc/ipc.md).
#include <common/ipc/link.h>

#include <poll.h>
#include <unistd.h>

namespace orrery::ipc {
namespace detail {

thread_local Link* t_leading_link = nullptr;
thread_local uint64_t t_leading_epoch = 0;

// ---------------------------------------------------------------- leader/follower pool

void Link::WorkerMain()
{
    std::unique_lock lock(m_pool);
    while (!m_stopping) {
        if (m_only_calls && (m_caller_leaders > 0 || (!m_has_leader && Clock::now() < m_lend_until))) {
            // A caller polls for its own reply, or is about to call again:
            // keep off the socket, and look again when the lend runs out.
            ++m_idle;
            m_pool_cv.wait_until(lock, std::max(m_lend_until, Clock::now() + LEND_PERIOD));
            --m_idle;
            continue;
        }
        if (!m_has_leader) {
            m_has_leader = true;
            m_leader_busy = false;
            uint64_t epoch = ++m_leader_epoch;
            lock.unlock();
            Lead(epoch);
            lock.lock();
            continue;
        }
        ++m_idle;
        if (m_activity) {
            // Requests are flowing: check on the leader once per promotion delay.
            m_activity = false;
            uint64_t seq = m_busy_seq;
            bool busy = m_leader_busy;
            m_pool_cv.wait_for(lock, m_options.promotion_delay);
            --m_idle;
            if (!m_stopping && busy && m_leader_busy && m_busy_seq == seq && m_has_leader) {
                // One handler has run for a whole period: take over polling.
                m_has_leader = false;
                m_activity = true;
                if (m_idle == 0 && m_threads.size() < m_options.max_threads) {
                    m_threads.emplace_back([this] { WorkerMain(); });
                }
            }
        } else {
            ++m_deep_sleepers;
            m_pool_cv.wait(lock, [&] { return m_activity || m_stopping || !m_has_leader; });
            --m_deep_sleepers;
            --m_idle;
        }
    }
}

bool Link::MarkBusy()
{
    bool wake;
    {
        std::lock_guard lock(m_pool);
        m_leader_busy = true;
        ++m_busy_seq;
        m_activity = true;
        wake = m_deep_sleepers > 0;
    }
    if (wake) m_pool_cv.notify_one();
    return true;
}

bool Link::MarkIdle(uint64_t epoch)
{
    std::lock_guard lock(m_pool);
    if (m_leader_epoch.load() != epoch || !m_has_leader || m_stopping) return false;
    m_leader_busy = false;
    return true;
}

void Link::StepDown(uint64_t epoch)
{
    {
        std::lock_guard lock(m_pool);
        if (m_leader_epoch.load() != epoch || !m_has_leader) return;
        m_has_leader = false;
        m_leader_busy = false;
        if (m_idle == 0 && m_threads.size() < m_options.max_threads && !m_stopping) {
            m_threads.emplace_back([this] { WorkerMain(); });
        }
    }
    m_pool_cv.notify_one();
}

void Link::Wake()
{
    if (m_wake_fd < 0) return;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_wake_fd, &one, sizeof one);
}

bool Link::WaitReadable(int timeout_ms)
{
    // Before sleeping, let ZeroMQ process its commands: ZMQ_FD only signals
    // changes, so input already pending would otherwise never wake the poll.
    {
        std::lock_guard io(m_io);
        if (!m_socket) return false;
        // Unless the leader's own receive just found nothing and no one has
        // used the socket since (then the edge is still to come).
        if (m_socket_ops != m_ops_at_drain) {
            int events = 0;
            size_t size = sizeof events;
            zmq_getsockopt(m_socket, ZMQ_EVENTS, &events, &size);
            ++m_socket_ops;
            if (events & ZMQ_POLLIN) return false;
        }
        // The monitor socket needs no such check: only the leader touches it, and always drains it.
    }
    pollfd fds[3] = {{m_socket_fd, POLLIN, 0}, {m_monitor_fd, POLLIN, 0}, {m_wake_fd, POLLIN, 0}};
    int n = ::poll(fds, 3, timeout_ms);
    if (n > 0 && (fds[2].revents & POLLIN)) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(m_wake_fd, &count, sizeof count);
    }
    return n == 0 || (n > 0 && (fds[1].revents & POLLIN));
}

void Link::Lead(uint64_t epoch, const SyncResult* until)
{
    Link* outer_link = t_leading_link;
    uint64_t outer_epoch = t_leading_epoch;
    t_leading_link = this;
    t_leading_epoch = epoch;
    while (m_leader_epoch.load() == epoch) {
        if (until && until->done.load()) break;
        {
            std::lock_guard lock(m_pool);
            if (m_stopping || m_leader_epoch.load() != epoch) break;
            if (!until && m_handoff) {
                // A calling thread wants to receive its own reply: let it lead.
                m_handoff = false;
                m_has_leader = false;
                m_lend_until = Clock::now() + LEND_PERIOD;
                m_caller_cv.notify_all();
                break;
            }
        }
        if (m_check_monitor.exchange(false)) {
            // Connection events go first: a disconnect must be seen before a new peer's messages.
            MonitorEvent event;
            while (TryReceiveMonitor(event)) HandleMonitorEvent(event);
        }
        Incoming incoming;
        if (!TryReceive(incoming)) {
            ExpireCalls();
            if (WaitReadable(m_options.call_timeout.count() > 0 ? 50 : 1000)) m_check_monitor = true;
            continue;
        }
        bool ran_user_code = HandleIncoming(std::move(incoming));
        if (ran_user_code && !MarkIdle(epoch)) break; // deposed while busy: become a follower
    }
    t_leading_link = outer_link;
    t_leading_epoch = outer_epoch;
}

// ---------------------------------------------------------------- calls

bool Link::CallerMayLead() const
{
    if (!m_only_calls || t_leading_link == this) return false;
    std::lock_guard lock(m_state);
    return m_client_subscriptions.empty();
}

std::unique_ptr<Envelope> Link::CallSync(PeerConnection& peer, uint64_t id, std::string_view method,
                                         std::vector<uint8_t> request)
{
    if (t_leading_link) t_leading_link->StepDown(t_leading_epoch);
    if (CallerMayLead()) return CallLeading(peer, id, method, std::move(request));
    struct Result {
        std::mutex mutex;
        std::condition_variable cv;
        bool done{false};
        std::unique_ptr<Envelope> reply;
        std::optional<Error> error;
    };
    auto result = std::make_shared<Result>();
    CallAsync(peer, id, method, std::move(request), [result](std::unique_ptr<Envelope> reply, const Error* error) {
        {
            std::lock_guard lock(result->mutex);
            result->reply = std::move(reply);
            if (error) result->error.emplace(*error);
            result->done = true;
        }
        result->cv.notify_one();
    });
    std::unique_lock lock(result->mutex);
    result->cv.wait(lock, [&] { return result->done; });
    if (result->error) throw *result->error;
    return std::move(result->reply);
}

std::unique_ptr<Envelope> Link::CallLeading(PeerConnection& peer, uint64_t id, std::string_view method,
                                            std::vector<uint8_t> request)
{
    auto result = std::make_shared<SyncResult>();
    {
        std::lock_guard lock(m_pool);
        ++m_leading_callers;
    }
    CallAsync(peer, id, method, std::move(request),
              [this, result](std::unique_ptr<Envelope> reply, const Error* error) {
                  result->reply = std::move(reply);
                  if (error) result->error.emplace(*error);
                  {
                      std::lock_guard lock(m_pool);
                      result->done = true;
                  }
                  m_caller_cv.notify_all();
              });
    std::unique_lock lock(m_pool);
    while (!result->done) {
        if (!m_has_leader && !m_stopping) {
            m_has_leader = true;
            m_leader_busy = false;
            m_handoff = false;
            uint64_t epoch = ++m_leader_epoch;
            ++m_caller_leaders;
            lock.unlock();
            Lead(epoch, result.get());
            lock.lock();
            --m_caller_leaders;
            if (m_has_leader && m_leader_epoch.load() == epoch) m_has_leader = false;
            m_lend_until = Clock::now() + LEND_PERIOD;
            // Another caller may be waiting for the lead, or Stop for the last leading caller.
            if (m_leading_callers > 1 || m_stopping) m_caller_cv.notify_all();
            continue;
        }
        if (m_has_leader && m_caller_leaders == 0 && !m_handoff && !m_stopping) {
            m_handoff = true; // the worker polling steps down at its next look
            Wake();
        }
        m_caller_cv.wait(lock);
    }
    --m_leading_callers;
    lock.unlock();
    if (result->error) throw *result->error;
    return std::move(result->reply);
}

} // namespace detail
} // namespace orrery::ipc
