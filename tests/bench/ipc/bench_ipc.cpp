// IPC benchmarks, each against a raw Unix socketpair baseline measured in the same run:
//   - round trip of a 64-byte Echo.echoBytes call through the typed proxy, over
//     ipc:// and tcp:// (CurveZMQ): median and p99 of --calls calls (target:
//     median at most 6x the socketpair ping-pong of the same 64 bytes);
//   - pipelined throughput on one connection, 64 calls in flight, through
//     Connection::CallAsync (target: at least 100,000 calls/s);
//   - a 1 MiB payload echoed back: MB/s counting the bytes both ways (target:
//     at least 40% of the socketpair's bandwidth for the same 1 MiB echo).
// The service is a separate process (tests/tools/echo_service), and so is the
// baseline's echoing child. Every scenario runs twice: with this program and
// its children pinned to one CPU, and unpinned; each pass is a re-execution of
// this program (--pass pinned|unpinned), so that every thread of a pass is
// created under the pass's affinity and inherits it.
//
// bench_ipc [--echo-service PATH] [--calls N] [--pipelined N] [--mib N] [--pass both|pinned|unpinned]
// Without --echo-service, uses $ORRERY_BUILD_DIR/tests/tools/echo_service.
// Timing is never asserted: the exit status is non-zero only for functional failures.
#include "echo_impl.h"

#include <common/interfaces/echo_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/alloc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <mutex>
#include <optional>
#include <sched.h>
#include <ctime>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>
#include <zmq.h>

extern char** environ;

using namespace orrery;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t SMALL = 64;
constexpr size_t LARGE = 1024 * 1024;
constexpr size_t WINDOW = 64;
constexpr int RESULTS_FD = 3; //!< where a pass reports its figures to the parent

struct Settings {
    size_t calls{20000};
    size_t warmup{2000};
    size_t pipelined{200000};
    size_t mib{200};
    std::string echo_service;
};

//! A functional failure (not a slow figure): ends the run with a non-zero status.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Latency {
    double median_us{0};
    double p99_us{0};
};

Latency Summarize(std::vector<double> samples_us)
{
    std::sort(samples_us.begin(), samples_us.end());
    size_t n = samples_us.size();
    if (n == 0) return {};
    size_t p99 = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1;
    double median = n % 2 ? samples_us[n / 2] : (samples_us[n / 2 - 1] + samples_us[n / 2]) / 2;
    return {median, samples_us[std::min(p99, n - 1)]};
}

//! MB/s (1 MB = 10^6 bytes) of `round_trips` echoes of `size` bytes, counting both directions.
double Bandwidth(size_t round_trips, size_t size, Clock::duration elapsed)
{
    return 2.0 * static_cast<double>(round_trips) * static_cast<double>(size) / Seconds(elapsed) / 1e6;
}

std::string CpuList(const cpu_set_t& set)
{
    std::string out;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (!out.empty()) out += ",";
        out += std::to_string(cpu);
    }
    return out;
}

//! The Cpus_allowed_list line of a process, to show that a child inherited the pinning.
std::string AllowedCpusOf(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("Cpus_allowed_list:")) {
            auto start = line.find_first_not_of(" \t", 18);
            return start == std::string::npos ? "" : line.substr(start);
        }
    }
    return "?";
}

//! CPU time and context switches of this process (all its threads, past and
//! present) and of one peer process: what a figure cost, whatever the load.
class Meter
{
public:
    explicit Meter(pid_t peer) : m_peer(peer) {}
    void Start() { m_start = Sample(); }
    //! Ends the measured stretch of `operations` operations.
    void Stop(size_t operations)
    {
        Totals end = Sample();
        double n = static_cast<double>(std::max<size_t>(operations, 1));
        m_self_cpu_us = (end.self_cpu - m_start.self_cpu) * 1e6 / n;
        m_peer_cpu_us = (end.peer_cpu - m_start.peer_cpu) * 1e6 / n;
        m_self_switches = (end.self_switches - m_start.self_switches) / n;
        m_peer_switches = (end.peer_switches - m_start.peer_switches) / n;
    }
    //! "cpu 3.1 + 2.0 us, switches 2.0 + 1.0 per call (this process + peer)"
    std::string Describe(const char* unit) const
    {
        char text[200];
        std::snprintf(text, sizeof text, "cpu %.1f + %.1f us, context switches %.1f + %.1f per %s (client + server)",
                      m_self_cpu_us, m_peer_cpu_us, m_self_switches, m_peer_switches, unit);
        return text;
    }
    double CpuUs() const { return m_self_cpu_us + m_peer_cpu_us; }
    double Switches() const { return m_self_switches + m_peer_switches; }

private:
    struct Totals {
        double self_cpu{0}, peer_cpu{0}, self_switches{0}, peer_switches{0};
    };
    static double CpuSeconds(clockid_t clock)
    {
        timespec ts{};
        if (clock_gettime(clock, &ts) != 0) return 0;
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }
    Totals Sample() const
    {
        Totals t;
        t.self_cpu = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        t.self_switches = static_cast<double>(usage.ru_nvcsw + usage.ru_nivcsw);
        clockid_t clock;
        if (clock_getcpuclockid(m_peer, &clock) == 0) t.peer_cpu = CpuSeconds(clock);
        // Per thread: /proc/<pid>/status alone counts the main thread's switches.
        std::error_code ec;
        for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(m_peer) + "/task", ec)) {
            std::ifstream status(task.path() / "status");
            std::string line;
            while (std::getline(status, line)) {
                if (line.starts_with("voluntary_ctxt_switches:") || line.starts_with("nonvoluntary_ctxt_switches:")) {
                    t.peer_switches += std::strtod(line.c_str() + line.find(':') + 1, nullptr);
                }
            }
        }
        return t;
    }

    pid_t m_peer;
    Totals m_start;
    double m_self_cpu_us{0}, m_peer_cpu_us{0}, m_self_switches{0}, m_peer_switches{0};
};

std::string LoadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

// ---------------------------------------------------------------- raw socketpair baseline

void ReadExactly(int fd, uint8_t* data, size_t size)
{
    while (size > 0) {
        ssize_t n = ::read(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw Failure(n == 0 ? "socketpair: peer closed" : std::string("read: ") + std::strerror(errno));
        data += n;
        size -= static_cast<size_t>(n);
    }
}

void WriteExactly(int fd, const uint8_t* data, size_t size)
{
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw Failure(std::string("write: ") + std::strerror(errno));
        data += n;
        size -= static_cast<size_t>(n);
    }
}

//! A forked child that echoes a stream on one end of a socketpair: it reads
//! `message` bytes in full, then writes them back, until the parent closes.
//! message == 0: it echoes whatever arrives as it arrives (pipelined stream).
class EchoChild
{
public:
    explicit EchoChild(size_t message)
    {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            throw Failure(std::string("socketpair: ") + std::strerror(errno));
        }
        std::fflush(stdout);
        m_pid = ::fork();
        if (m_pid < 0) throw Failure(std::string("fork: ") + std::strerror(errno));
        if (m_pid == 0) {
            ::close(fds[0]);
            Serve(fds[1], message);
        }
        ::close(fds[1]);
        m_fd = fds[0];
    }
    ~EchoChild()
    {
        if (m_fd >= 0) ::close(m_fd);
        int status;
        if (m_pid > 0) ::waitpid(m_pid, &status, 0);
    }
    EchoChild(const EchoChild&) = delete;
    EchoChild& operator=(const EchoChild&) = delete;
    int Fd() const { return m_fd; }
    pid_t Pid() const { return m_pid; }

private:
    [[noreturn]] static void Serve(int fd, size_t message)
    {
        std::vector<uint8_t> buffer(message ? message : 64 * 1024);
        for (;;) {
            size_t have = 0;
            if (message) {
                while (have < message) {
                    ssize_t n = ::read(fd, buffer.data() + have, message - have);
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0) ::_exit(0);
                    have += static_cast<size_t>(n);
                }
            } else {
                ssize_t n = ::read(fd, buffer.data(), buffer.size());
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) ::_exit(0);
                have = static_cast<size_t>(n);
            }
            size_t sent = 0;
            while (sent < have) {
                ssize_t n = ::write(fd, buffer.data() + sent, have - sent);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) ::_exit(1);
                sent += static_cast<size_t>(n);
            }
        }
    }

    pid_t m_pid{-1};
    int m_fd{-1};
};

Latency RawPingPong(const Settings& settings, Meter& meter)
{
    EchoChild child(SMALL);
    meter = Meter(child.Pid());
    std::vector<uint8_t> out(SMALL, 0x5a), in(SMALL);
    std::vector<double> samples;
    samples.reserve(settings.calls);
    for (size_t i = 0; i < settings.warmup + settings.calls; ++i) {
        if (i == settings.warmup) meter.Start();
        auto start = Clock::now();
        WriteExactly(child.Fd(), out.data(), out.size());
        ReadExactly(child.Fd(), in.data(), in.size());
        auto end = Clock::now();
        if (i >= settings.warmup) samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    meter.Stop(settings.calls);
    if (in != out) throw Failure("socketpair: the echo differs");
    return Summarize(std::move(samples));
}

//! Messages of 64 bytes per second on a socketpair stream, 64 in flight.
double RawPipelined(const Settings& settings, Meter& meter)
{
    EchoChild child(0);
    meter = Meter(child.Pid());
    std::vector<uint8_t> message(SMALL, 0x5a);
    std::vector<uint8_t> batch(SMALL * WINDOW, 0x5a);
    std::vector<uint8_t> in(64 * 1024);
    size_t total = settings.pipelined;
    meter.Start();
    auto start = Clock::now();
    WriteExactly(child.Fd(), batch.data(), batch.size());
    size_t sent = WINDOW, received_bytes = 0;
    while (received_bytes < total * SMALL) {
        ssize_t n = ::read(child.Fd(), in.data(), in.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw Failure("socketpair: the echoing child went away");
        size_t before = received_bytes / SMALL;
        received_bytes += static_cast<size_t>(n);
        size_t completed = received_bytes / SMALL - before;
        // One new message per completed one, as the IPC completion does.
        size_t more = std::min(completed, total - sent);
        if (more > 0) {
            WriteExactly(child.Fd(), batch.data(), more * SMALL);
            sent += more;
        }
    }
    auto elapsed = Clock::now() - start;
    meter.Stop(total);
    return static_cast<double>(total) / Seconds(elapsed);
}

double RawLarge(const Settings& settings, Meter& meter)
{
    EchoChild child(LARGE);
    meter = Meter(child.Pid());
    std::vector<uint8_t> out(LARGE), in(LARGE);
    for (size_t i = 0; i < LARGE; ++i) out[i] = static_cast<uint8_t>(i * 7);
    auto round_trip = [&] {
        WriteExactly(child.Fd(), out.data(), out.size());
        ReadExactly(child.Fd(), in.data(), in.size());
    };
    for (int i = 0; i < 5; ++i) round_trip();
    meter.Start();
    auto start = Clock::now();
    for (size_t i = 0; i < settings.mib; ++i) round_trip();
    auto elapsed = Clock::now() - start;
    meter.Stop(settings.mib);
    if (in != out) throw Failure("socketpair: the 1 MiB echo differs");
    return Bandwidth(settings.mib, LARGE, elapsed);
}

//! The floor set by libzmq itself: a DEALER in this process and a ROUTER in a
//! forked child echoing each message, with plain blocking zmq_send/zmq_recv and
//! none of the Link's machinery. Not a target; it tells which part of a round
//! trip is ZeroMQ's (its I/O threads) and which is ours.
//! With `curve`, both ends use CurveZMQ as the Link's tcp:// does (no ZAP handler).
Latency RawZmq(const Settings& settings, Meter& meter, const std::string& endpoint, bool curve = false)
{
    char server_public[41], server_secret[41], client_public[41], client_secret[41];
    if (curve && (zmq_curve_keypair(server_public, server_secret) != 0 ||
                  zmq_curve_keypair(client_public, client_secret) != 0)) {
        throw Failure(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
    }
    std::fflush(stdout);
    pid_t pid = ::fork();
    if (pid < 0) throw Failure(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        void* context = zmq_ctx_new();
        void* router = zmq_socket(context, ZMQ_ROUTER);
        if (curve) {
            int one = 1;
            zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof one);
            zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, server_secret, 40);
        }
        if (zmq_bind(router, endpoint.c_str()) != 0) ::_exit(1);
        for (;;) {
            zmq_msg_t id, body;
            zmq_msg_init(&id);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0) ::_exit(1);
            if (zmq_msg_send(&id, router, ZMQ_SNDMORE) < 0 || zmq_msg_send(&body, router, 0) < 0) ::_exit(1);
        }
    }
    struct Reap {
        pid_t pid;
        ~Reap()
        {
            ::kill(pid, SIGKILL);
            int status;
            ::waitpid(pid, &status, 0);
        }
    } reap{pid};
    meter = Meter(pid);
    void* context = zmq_ctx_new();
    void* dealer = zmq_socket(context, ZMQ_DEALER);
    int linger = 0, timeout = 5000;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (curve) {
        zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server_public, 40);
        zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, client_public, 40);
        zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, client_secret, 40);
    }
    std::string error;
    if (zmq_connect(dealer, endpoint.c_str()) != 0) error = "zmq_connect: " + std::string(zmq_strerror(zmq_errno()));
    std::vector<uint8_t> out(SMALL, 0x5a), in(SMALL + 1);
    std::vector<double> samples;
    samples.reserve(settings.calls);
    for (size_t i = 0; error.empty() && i < settings.warmup + settings.calls; ++i) {
        if (i == settings.warmup) meter.Start();
        auto start = Clock::now();
        if (zmq_send(dealer, out.data(), out.size(), 0) != static_cast<int>(SMALL) ||
            zmq_recv(dealer, in.data(), in.size(), 0) != static_cast<int>(SMALL)) {
            error = "raw ZeroMQ echo failed: " + std::string(zmq_strerror(zmq_errno()));
        }
        auto end = Clock::now();
        if (i >= settings.warmup) samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    meter.Stop(settings.calls);
    zmq_close(dealer);
    zmq_ctx_term(context);
    if (!error.empty()) throw Failure(error);
    return Summarize(std::move(samples));
}

//! A loopback TCP port that was free a moment ago (the raw ZeroMQ child binds it).
uint16_t FreeTcpPort()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        if (fd >= 0) ::close(fd);
        throw Failure(std::string("cannot find a free port: ") + std::strerror(errno));
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

// ---------------------------------------------------------------- the Echo service

//! tests/tools/echo_service in its own process; SIGTERM and reaped on destruction.
class Service
{
public:
    Service(const std::string& path, const std::string& endpoint, const std::string& keys_dir)
    {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw Failure(std::string("pipe: ") + std::strerror(errno));
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        std::vector<char*> argv{const_cast<char*>(path.c_str()), const_cast<char*>(endpoint.c_str())};
        if (!keys_dir.empty()) argv.push_back(const_cast<char*>(keys_dir.c_str()));
        argv.push_back(nullptr);
        std::fflush(stdout);
        // The child inherits this thread's CPU affinity: pinned in the pinned pass.
        int rc = posix_spawn(&m_pid, path.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            m_pid = -1;
            throw Failure("cannot start " + path + ": " + std::strerror(rc));
        }
        std::string line;
        char c;
        while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
        ::close(fds[0]);
        if (!line.starts_with("ready ")) throw Failure("echo_service did not start on " + endpoint + ": '" + line + "'");
        m_endpoint = line.substr(6);
    }
    ~Service()
    {
        if (m_pid <= 0) return;
        ::kill(m_pid, SIGTERM);
        int status;
        ::waitpid(m_pid, &status, 0);
    }
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;
    const std::string& Endpoint() const { return m_endpoint; }
    pid_t Pid() const { return m_pid; }

private:
    pid_t m_pid{-1};
    std::string m_endpoint;
};

struct IpcFigures {
    Latency echo;
    double pipelined{0};
    double large{0};
};

//! 64-byte echoes through the typed proxy, each timed on its own.
Latency IpcRoundTrip(interfaces::Echo& echo, const Settings& settings, Meter& meter)
{
    ipc::Bytes payload(SMALL, 0x5a);
    std::vector<double> samples;
    samples.reserve(settings.calls);
    ipc::Bytes back;
    for (size_t i = 0; i < settings.warmup + settings.calls; ++i) {
        if (i == settings.warmup) meter.Start();
        auto start = Clock::now();
        back = echo.echoBytes(payload);
        auto end = Clock::now();
        if (i >= settings.warmup) samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    meter.Stop(settings.calls);
    if (back != payload) throw Failure("echoBytes returned different bytes");
    return Summarize(std::move(samples));
}

//! State of a pipelined run, shared with the completions (which run on IPC threads
//! and may outlive the waiting frame if something goes wrong).
struct Pipeline : std::enable_shared_from_this<Pipeline> {
    ipc::Connection* connection{nullptr};
    ipc::Bytes payload = ipc::Bytes(SMALL, 0x5a);
    size_t total{0};
    std::atomic<size_t> issued{0};
    std::mutex mutex;
    std::condition_variable cv;
    size_t completed{0};
    size_t failed{0};
    std::string first_error;

    void Issue()
    {
        if (issued.fetch_add(1) >= total) return;
        connection->CallAsync(
            "echo.echoBytes",
            [self = shared_from_this()](std::unique_ptr<ipc::Envelope> reply, const ipc::Error* error) {
                self->Done(std::move(reply), error);
            },
            payload);
    }
    void Done(std::unique_ptr<ipc::Envelope> reply, const ipc::Error* error)
    {
        std::string why;
        if (error) {
            why = error->what();
        } else {
            try {
                ipc::Reader body = reply->Body();
                ipc::Bytes back;
                ipc::ReadValue(body, back);
                if (back != payload) why = "a reply with different bytes";
            } catch (const std::exception& e) {
                why = e.what();
            }
        }
        Issue(); // keep the window full before anything else
        std::lock_guard lock(mutex);
        ++completed;
        if (!why.empty() && failed++ == 0) first_error = why;
        if (completed == total) cv.notify_all();
    }
};

//! Calls/s of echo.echoBytes(64 bytes) with exactly WINDOW calls in flight:
//! each completion issues the next call.
double IpcPipelined(ipc::Connection& connection, const Settings& settings, Meter& meter)
{
    auto pipeline = std::make_shared<Pipeline>();
    pipeline->connection = &connection;
    pipeline->total = settings.pipelined;
    meter.Start();
    auto start = Clock::now();
    for (size_t i = 0; i < WINDOW; ++i) pipeline->Issue();
    std::unique_lock lock(pipeline->mutex);
    bool finished = pipeline->cv.wait_for(lock, 120s, [&] { return pipeline->completed >= pipeline->total; });
    auto elapsed = Clock::now() - start;
    meter.Stop(pipeline->total);
    if (!finished) {
        pipeline->issued.store(pipeline->total);
        throw Failure("pipelined calls did not complete within 120 s (" + std::to_string(pipeline->completed) + " of " +
                      std::to_string(pipeline->total) + ")");
    }
    if (pipeline->failed) {
        throw Failure(std::to_string(pipeline->failed) + " pipelined calls failed; the first: " + pipeline->first_error);
    }
    return static_cast<double>(pipeline->total) / Seconds(elapsed);
}

//! MB/s of 1 MiB echoBytes round trips, counted as the socketpair baseline counts.
double IpcLarge(interfaces::Echo& echo, const Settings& settings, Meter& meter)
{
    ipc::Bytes payload(LARGE);
    for (size_t i = 0; i < LARGE; ++i) payload[i] = static_cast<uint8_t>(i * 7);
    // Each call sends what the previous one brought back (moved, as the socketpair
    // baseline reuses its buffer), so that no copy of the benchmark's own is timed.
    ipc::Bytes back = payload;
    for (int i = 0; i < 5; ++i) back = echo.echoBytes(std::move(back));
    meter.Start();
    auto start = Clock::now();
    for (size_t i = 0; i < settings.mib; ++i) back = echo.echoBytes(std::move(back));
    auto elapsed = Clock::now() - start;
    meter.Stop(settings.mib);
    if (back != payload) throw Failure("echoBytes of 1 MiB returned different bytes");
    return Bandwidth(settings.mib, LARGE, elapsed);
}

} // namespace

// ---------------------------------------------------------------- one pass

namespace {

//! Figures of one pass, reported to the parent as "key value" lines.
using Figures = std::map<std::string, double>;

std::string Grouped(double value)
{
    auto digits = std::to_string(static_cast<long long>(std::llround(value)));
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

const char* Verdict(bool met) { return met ? "met" : "MISSED"; }

struct Pass {
    std::string name; //!< "pinned" or "unpinned"
    cpu_set_t cpus;
};

//! Runs every scenario under this process's current affinity and prints each figure.
Figures RunPass(const Pass& pass, const Settings& settings)
{
    Figures f;
    const char* label = pass.name.c_str();
    std::printf("\n== %s pass: this process and its children on CPU %s (load average %s) ==\n", label,
                CpuList(pass.cpus).c_str(), LoadAverage().c_str());
    std::fflush(stdout);

    Meter meter(0);
    auto cost = [&](const std::string& key, const char* unit) {
        f[key + ".cpu_us"] = meter.CpuUs();
        f[key + ".switches"] = meter.Switches();
        std::printf("                 %-8s %s\n", label, meter.Describe(unit).c_str());
        std::fflush(stdout);
    };
    Latency raw = RawPingPong(settings, meter);
    f["raw.median_us"] = raw.median_us;
    f["raw.p99_us"] = raw.p99_us;
    std::printf("socketpair 64B   %-8s median %7.1f us  p99 %7.1f us   (baseline)\n", label, raw.median_us, raw.p99_us);
    cost("raw.echo", "call");
    double raw_pipelined = RawPipelined(settings, meter);
    f["raw.pipelined"] = raw_pipelined;
    std::printf("socketpair pipe  %-8s %s msgs/s with %zu in flight   (baseline)\n", label, Grouped(raw_pipelined).c_str(),
                WINDOW);
    cost("raw.pipelined", "call");
    double raw_large = RawLarge(settings, meter);
    f["raw.large"] = raw_large;
    std::printf("socketpair 1MiB  %-8s %s MB/s   (baseline)\n", label, Grouped(raw_large).c_str());
    cost("raw.large", "MiB echo");

    auto dir = std::filesystem::temp_directory_path() / ("orrery_bench_ipc_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "keys");
    std::filesystem::permissions(dir / "keys", std::filesystem::perms::owner_all);
    struct Cleanup {
        std::filesystem::path dir;
        ~Cleanup()
        {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
    } cleanup{dir};

    Latency zmq = RawZmq(settings, meter, "ipc://" + (dir / "raw.sock").string());
    f["zmq.median_us"] = zmq.median_us;
    f["zmq.median_ratio"] = zmq.median_us / raw.median_us;
    std::printf("raw zmq 64B      %-8s median %7.1f us  p99 %7.1f us   ratio to socketpair %.1fx "
                "(libzmq DEALER/ROUTER over ipc://, no Link: the floor)\n",
                label, zmq.median_us, zmq.p99_us, zmq.median_us / raw.median_us);
    cost("zmq.echo", "call");

    Latency zmq_curve = RawZmq(settings, meter, "tcp://127.0.0.1:" + std::to_string(FreeTcpPort()), /*curve=*/true);
    f["zmq_curve.median_us"] = zmq_curve.median_us;
    f["zmq_curve.median_ratio"] = zmq_curve.median_us / raw.median_us;
    std::printf("raw zmq tcp 64B  %-8s median %7.1f us  p99 %7.1f us   ratio to socketpair %.1fx "
                "(libzmq over tcp:// with CurveZMQ, no Link: the floor for tcp)\n",
                label, zmq_curve.median_us, zmq_curve.p99_us, zmq_curve.median_us / raw.median_us);
    cost("zmq_curve.echo", "call");

    for (std::string transport : {"ipc", "tcp"}) {
        bool tcp = transport == "tcp";
        std::string endpoint = tcp ? std::string("tcp://127.0.0.1:0") : "ipc://" + (dir / "echo.sock").string();
        Service service(settings.echo_service, endpoint, tcp ? (dir / "keys").string() : std::string());
        ipc::Options options;
        options.role = "bench";
        options.interfaces = {"echo"};
        if (tcp) {
            options.keys_dir = dir / "keys";
            options.server_role = "echo";
        }
        ipc::Client client(options);
        auto connection = client.Connect(service.Endpoint());
        auto echo = ipc::MakeProxy<interfaces::Echo>(connection);
        std::printf("%s: echo_service pid %d on %s, its CPUs %s%s\n", transport.c_str(), static_cast<int>(service.Pid()),
                    service.Endpoint().c_str(), AllowedCpusOf(service.Pid()).c_str(), tcp ? " (CurveZMQ)" : "");
        std::fflush(stdout);
        const char* t = transport.c_str();

        meter = Meter(service.Pid());
        Latency rt = IpcRoundTrip(*echo, settings, meter);
        double ratio = rt.median_us / raw.median_us;
        f[transport + ".median_us"] = rt.median_us;
        f[transport + ".p99_us"] = rt.p99_us;
        f[transport + ".median_ratio"] = ratio;
        std::printf("%s echo 64B     %-8s median %7.1f us  p99 %7.1f us   ratio to socketpair %.1fx (target <= 6x: %s)\n",
                    t, label, rt.median_us, rt.p99_us, ratio, Verdict(ratio <= 6.0));
        cost(transport + ".echo", "call");

        double pipelined = IpcPipelined(*connection, settings, meter);
        f[transport + ".pipelined"] = pipelined;
        f[transport + ".pipelined_ratio"] = pipelined / raw_pipelined;
        std::printf("%s pipelined    %-8s %s calls/s with %zu in flight   ratio to socketpair %.2fx "
                    "(target >= 100,000 calls/s: %s)\n",
                    t, label, Grouped(pipelined).c_str(), WINDOW, pipelined / raw_pipelined,
                    Verdict(pipelined >= 100000));
        cost(transport + ".pipelined", "call");

        double large = IpcLarge(*echo, settings, meter);
        f[transport + ".large"] = large;
        f[transport + ".large_ratio"] = large / raw_large;
        std::printf("%s 1MiB         %-8s %s MB/s   ratio to socketpair %.0f%% (target >= 40%%: %s)\n", t, label,
                    Grouped(large).c_str(), 100 * large / raw_large, Verdict(large / raw_large >= 0.4));
        cost(transport + ".large", "MiB echo");
    }
    return f;
}

// ---------------------------------------------------------------- driver

std::string SelfPath()
{
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : path.string();
}

std::string DefaultEchoService()
{
    if (const char* build = std::getenv("ORRERY_BUILD_DIR"); build && *build) {
        return std::string(build) + "/tests/tools/echo_service";
    }
    // <build>/tests/bench/ipc/bench_ipc -> <build>/tests/tools/echo_service
    auto self = std::filesystem::path(SelfPath());
    return (self.parent_path().parent_path().parent_path() / "tools" / "echo_service").string();
}

//! Re-executes this program for one pass with its figures on a pipe; returns them.
std::optional<Figures> SpawnPass(const std::string& name, const std::vector<std::string>& args)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Failure(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], RESULTS_FD);
    std::string self = SelfPath();
    std::vector<std::string> all{self, "--child-pass", name};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : all) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    pid_t pid;
    int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw Failure("cannot re-execute " + self + ": " + std::strerror(rc));
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    Figures figures;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        auto space = line.find(' ');
        if (space != std::string::npos) figures[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
    }
    return figures;
}

void PrintSummary(const std::vector<std::pair<std::string, Figures>>& passes)
{
    std::printf("\n== summary (ratios are to the raw socketpair of the same pass) ==\n");
    std::printf("%-34s", "");
    for (const auto& [name, f] : passes) std::printf("%22s", name.c_str());
    std::printf("\n");
    auto row = [&](const char* title, const std::string& key, const char* format, double scale = 1.0) {
        std::printf("%-34s", title);
        for (const auto& [name, f] : passes) {
            auto it = f.find(key);
            char cell[64];
            if (it == f.end()) {
                std::snprintf(cell, sizeof cell, "-");
            } else {
                std::snprintf(cell, sizeof cell, format, it->second * scale);
            }
            std::printf("%22s", cell);
        }
        std::printf("\n");
    };
    row("socketpair 64B median / p99 (us)", "raw.median_us", "%.1f");
    row("", "raw.p99_us", "%.1f");
    row("socketpair pipelined (msgs/s)", "raw.pipelined", "%.0f");
    row("socketpair 1 MiB (MB/s)", "raw.large", "%.0f");
    row("socketpair 64B cpu us / switches", "raw.echo.cpu_us", "%.1f");
    row("", "raw.echo.switches", "%.1f");
    row("raw zmq 64B median (us)", "zmq.median_us", "%.1f");
    row("raw zmq median / socketpair", "zmq.median_ratio", "%.1fx");
    row("raw zmq cpu us / switches", "zmq.echo.cpu_us", "%.1f");
    row("raw zmq tcp+curve median (us)", "zmq_curve.median_us", "%.1f");
    row("raw zmq tcp+curve / socketpair", "zmq_curve.median_ratio", "%.1fx");
    row("", "zmq.echo.switches", "%.1f");
    for (std::string t : {"ipc", "tcp"}) {
        row((t + " echo 64B median (us)").c_str(), t + ".median_us", "%.1f");
        row((t + " echo 64B p99 (us)").c_str(), t + ".p99_us", "%.1f");
        row((t + " echo median / socketpair").c_str(), t + ".median_ratio", "%.1fx");
        row((t + " echo cpu us / switches per call").c_str(), t + ".echo.cpu_us", "%.1f");
        row("", t + ".echo.switches", "%.1f");
        row((t + " pipelined (calls/s)").c_str(), t + ".pipelined", "%.0f");
        row((t + " pipelined / socketpair").c_str(), t + ".pipelined_ratio", "%.2fx");
        row((t + " pipelined cpu us / switches").c_str(), t + ".pipelined.cpu_us", "%.1f");
        row("", t + ".pipelined.switches", "%.1f");
        row((t + " 1 MiB (MB/s)").c_str(), t + ".large", "%.0f");
        row((t + " 1 MiB / socketpair").c_str(), t + ".large_ratio", "%.0f%%", 100.0);
    }
    std::printf("\ntargets (echo <= 6x socketpair, pipelined >= 100,000 calls/s, 1 MiB >= 40%% of socketpair):\n");
    for (const auto& pass : passes) {
        const auto& name = pass.first;
        const auto& f = pass.second;
        for (std::string t : {"ipc", "tcp"}) {
            auto get = [&](const std::string& key) { return f.count(key) ? f.at(key) : NAN; };
            double ratio = get(t + ".median_ratio"), pipelined = get(t + ".pipelined"), large = get(t + ".large_ratio");
            std::printf("  %-8s %s: echo %.1fx %s, pipelined %s calls/s %s, 1 MiB %.0f%% %s\n", name.c_str(), t.c_str(),
                        ratio, Verdict(ratio <= 6.0), Grouped(pipelined).c_str(), Verdict(pipelined >= 100000),
                        100 * large, Verdict(large >= 0.4));
        }
    }
}

[[noreturn]] void Usage()
{
    std::fprintf(stderr, "usage: bench_ipc [--echo-service PATH] [--calls N] [--pipelined N] [--mib N] "
                         "[--pass both|pinned|unpinned]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    orrery::KeepLargeBlocksOnHeap(); // the services' allocator policy (common/util/alloc.h)
    Settings settings;
    std::string passes = "both";
    std::string child_pass;
    std::vector<std::string> forwarded; // what a pass needs to know
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) Usage();
            return argv[++i];
        };
        auto count = [&]() -> size_t {
            std::string v = value();
            char* end = nullptr;
            unsigned long long n = std::strtoull(v.c_str(), &end, 10);
            if (v.empty() || *end || n == 0) Usage();
            forwarded.push_back(arg);
            forwarded.push_back(v);
            return static_cast<size_t>(n);
        };
        if (arg == "--calls") {
            settings.calls = count();
        } else if (arg == "--pipelined") {
            settings.pipelined = std::max<size_t>(count(), WINDOW);
        } else if (arg == "--mib") {
            settings.mib = count();
        } else if (arg == "--echo-service") {
            settings.echo_service = value();
        } else if (arg == "--pass") {
            passes = value();
            if (passes != "both" && passes != "pinned" && passes != "unpinned") Usage();
        } else if (arg == "--child-pass") {
            child_pass = value();
        } else {
            Usage();
        }
    }
    settings.warmup = std::min<size_t>(2000, settings.calls / 10 + 1);
    if (settings.echo_service.empty()) settings.echo_service = DefaultEchoService();
    forwarded.push_back("--echo-service");
    forwarded.push_back(settings.echo_service);

    if (!child_pass.empty()) {
        // One pass, in a fresh process: set the affinity before any thread exists.
        Pass pass{child_pass, {}};
        CPU_ZERO(&pass.cpus);
        if (sched_getaffinity(0, sizeof pass.cpus, &pass.cpus) != 0) {
            std::fprintf(stderr, "sched_getaffinity: %s\n", std::strerror(errno));
            return 1;
        }
        if (child_pass == "pinned") {
            int cpu = CPU_ISSET(0, &pass.cpus) ? 0 : -1;
            for (int c = 0; cpu < 0 && c < CPU_SETSIZE; ++c) {
                if (CPU_ISSET(c, &pass.cpus)) cpu = c;
            }
            CPU_ZERO(&pass.cpus);
            CPU_SET(cpu, &pass.cpus);
            if (sched_setaffinity(0, sizeof pass.cpus, &pass.cpus) != 0) {
                std::fprintf(stderr, "sched_setaffinity: %s\n", std::strerror(errno));
                return 1;
            }
        }
        try {
            Figures figures = RunPass(pass, settings);
            std::string text;
            for (const auto& [key, value] : figures) text += key + " " + std::to_string(value) + "\n";
            if (::fcntl(RESULTS_FD, F_GETFD) >= 0) WriteExactly(RESULTS_FD, reinterpret_cast<const uint8_t*>(text.data()), text.size());
        } catch (const std::exception& e) {
            std::fflush(stdout);
            std::fprintf(stderr, "bench_ipc: %s pass FAILED: %s\n", child_pass.c_str(), e.what());
            return 1;
        }
        return 0;
    }

    std::printf("bench_ipc: Echo over ipc:// and tcp:// (echo_service %s) against a raw Unix socketpair;\n"
                "%zu timed 64-byte calls after %zu warm-up, %zu pipelined calls, %zu x 1 MiB round trips "
                "(MB/s = 10^6 bytes/s, both directions counted)\n",
                settings.echo_service.c_str(), settings.calls, settings.warmup, settings.pipelined, settings.mib);
    if (::access(settings.echo_service.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "bench_ipc: cannot run %s (set ORRERY_BUILD_DIR or pass --echo-service)\n",
                     settings.echo_service.c_str());
        return 1;
    }
    std::vector<std::pair<std::string, Figures>> results;
    bool ok = true;
    for (std::string name : {"pinned", "unpinned"}) {
        if (passes != "both" && passes != name) continue;
        try {
            auto figures = SpawnPass(name, forwarded);
            if (!figures) {
                ok = false;
                results.emplace_back(name, Figures{});
                continue;
            }
            results.emplace_back(name, std::move(*figures));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_ipc: %s\n", e.what());
            ok = false;
        }
    }
    PrintSummary(results);
    std::fflush(stdout);
    return ok ? 0 : 1;
}
