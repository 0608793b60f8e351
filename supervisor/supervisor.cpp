// orreryd: the process table, the event loop that drives it, and the
// Supervisor interface. Everything that changes the table runs on the main
// thread's loop; IPC handlers and the accept thread post work to it.
#include <supervisor/supervisor.h>

#include <supervisor/line_splitter.h>
#include <supervisor/listener.h>
#include <supervisor/restart_policy.h>
#include <supervisor/spawn.h>

#include <common/util/host_port.h>

#include <common/consensus/params.h>
#include <common/handoff/handoff.h>
#include <common/interfaces/link_report_ipc.h>
#include <common/interfaces/mock_clock_ipc.h>
#include <common/interfaces/node_ipc.h>
#include <common/interfaces/process_table_ipc.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/protocol.h>
#include <common/util/fs.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>
#include <common/util/net_permissions.h>
#include <common/util/options.h>
#include <common/util/user_agent.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace orrery::supervisor {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int64_t DEFAULT_RESTART_INTENSITY = 5;
constexpr int64_t DEFAULT_RESTART_PERIOD = 60;   // seconds
constexpr int64_t DEFAULT_STOP_TIMEOUT = 10;     // seconds
constexpr int64_t DEFAULT_STARTUP_TIMEOUT = 120; // seconds

// ---------------------------------------------------------------------------
// The services and the options they get
// ---------------------------------------------------------------------------

//! Permanent services in start order; they stop in the reverse order, with the
//! p2p-agents between the wallet and the node.
struct ServiceInfo {
    std::string_view role;
    std::string_view binary_option; //!< overrides where the binary is (tests, unusual installs)
};
constexpr ServiceInfo SERVICES[] = {
    {"node", "nodebinary"}, {"wallet", "walletbinary"}, {"gui-bridge", "guibridgebinary"}};
constexpr std::string_view AGENT_ROLE = "p2p-agent";
constexpr int64_t DEFAULT_AGENT_SPARES = 2;
constexpr int64_t MAX_AGENT_SPARES = 16;
//! After a hand-off the replacement spare waits this long: its fork and exec would
//! otherwise compete with the peer just handed over, whose registration asks
//! orreryd who the agent is (ProcessTable.identifyProcess) while orreryd forks.
constexpr auto SPARE_REPLACEMENT_DELAY = std::chrono::milliseconds{20};
constexpr std::string_view STOP_ORDER[] = {"gui-bridge", "wallet", "p2p-agent", "node"};

//! An fd that closes itself unless someone takes it.
struct OwnedFd {
    int fd{-1};
    explicit OwnedFd(int f) : fd(f) {}
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    ~OwnedFd()
    {
        if (fd >= 0) ::close(fd);
    }
};

void WriteAll(int fd, std::string_view data)
{
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

// ---------------------------------------------------------------------------
// The process table
// ---------------------------------------------------------------------------

struct Child {
    std::string role;
    pid_t pid{0};
    Clock::time_point started;
    std::string state{"starting"};
    std::string peer_address;                 //!< p2p-agents
    int64_t peer_id{-1};                      //!< p2p-agents
    std::optional<Clock::time_point> kill_at; //!< SIGKILL then, unless it has stopped after SIGTERM
};

//! A pipe carrying a child's stdout and stderr; it may outlive the child by a few reads.
struct Output {
    std::string role;
    pid_t pid{0};
    LineSplitter splitter;
    std::string last_line; //!< the previous line, to drop a service's stderr copy of the error it just logged
};

//! The node as orreryd uses it: to admit inbound peers.
struct NodeLink {
    std::unique_ptr<ipc::Client> client; // declared first: outlives the proxy
    std::unique_ptr<interfaces::Node> node;
};

struct Service {
    Service(std::string r, RestartPolicy p) : role(std::move(r)), policy(p) {}
    std::string role;
    std::optional<std::filesystem::path> binary; //!< nullopt: not built, or disabled
    RestartPolicy policy;
    pid_t pid{0};
    bool ready{false};
    bool started_before{false};
    int64_t restarts{0};
    std::optional<Clock::time_point> restart_at;
    bool restart_requested{false}; //!< Supervisor.restart: start again at once when it has stopped
    std::shared_ptr<std::atomic<bool>> probe_cancel;
};

class Constellation
{
public:
    Constellation(const ArgsManager& args, std::vector<std::string> command_line, std::string supervisor_endpoint);
    ~Constellation();

    //! Prepares signals, debug.log, binaries and the listening sockets. Returns an error message, or "" when ready.
    std::string Setup();
    //! The event loop; returns the exit code.
    int Loop();
    //! Fails every later or queued call from other threads.
    void CloseCommands();

    // Called from IPC threads; each runs on the loop and waits for it.
    std::vector<interfaces::ProcessStatus> Status();
    void Restart(const std::string& role);
    void OpenConnection(const std::string& address, int64_t peer_id, const std::string& connection_type);
    //! setmocktime: pins orreryd's clock and forwards the time to the wallet and the gui-bridge (MockClock).
    //! Runs on the calling IPC thread; a service that cannot be reached is logged and skipped.
    void ForwardMockTime(int64_t time);
    //! Supervisor.linkReport: orreryd's links and those each running service reports (LinkReport).
    //! Runs on the calling IPC thread; a service that does not answer within a second is left out.
    std::vector<interfaces::ProcessLinks> LinkReport();
    interfaces::ProcessIdentity IdentifyProcess(int64_t pid);

private:
    //! Queues `work` for the loop; false when the loop is gone.
    bool Post(std::function<void()> work);
    template <typename F> auto Call(F work) -> std::invoke_result_t<F>;

    void HandleSignals();
    void RunCommands();
    void Reap();
    void OnExit(pid_t pid, int status);
    void OnServiceFailure(Service& service, const std::string& what);
    void HandleTimers(Clock::time_point now);
    int TimeoutMs(Clock::time_point now) const;
    void Advance();
    void AdvanceShutdown();
    void BeginShutdown(int exit_code);

    std::vector<std::string> CommonArgs(std::string_view role) const;
    std::vector<std::string> ServiceArgv(const Service& service) const;
    void StartService(Service& service);
    void StartProbe(Service& service);
    void OnProbeResult(uint64_t probe, const std::string& role, pid_t pid, bool ready, std::shared_ptr<NodeLink> link);
    pid_t SpawnChild(const std::filesystem::path& binary, std::vector<std::string> argv, std::vector<int> fds,
                     const std::string& role);
    void StopChild(Child& child);
    void OnAccept(int fd, const std::string& peer, const std::string& local);
    void SpawnInbound(int fd, int64_t peer_id, const std::string& peer);
    //! Hands the peer to a spare agent; false when none took it.
    bool HandToSpare(int fd, int64_t peer_id, const std::string& peer);
    //! A spare wrote on its control socket ("ready", or its end closed).
    void OnSpareMessage(int control);
    //! Starts spares up to -agentspares once the services run.
    void ReplenishSpares(Clock::time_point now);
    void DropSpares();

    //! Runs a -startupnotify/-shutdownnotify command through /bin/sh; its output goes to debug.log.
    void RunNotify(const std::string& option, const std::string& command);

    void ReadOutput(int fd, bool final);
    void WriteLine(std::string_view line);
    void OpenLog();

    Service* FindService(std::string_view role);
    //! Mirrors a child's role and peer into m_identities (loop thread).
    void SetIdentity(pid_t pid, const std::string& role, int64_t peer_id);

    const ArgsManager& m_args;
    std::vector<std::string> m_command_line;
    std::string m_supervisor_endpoint;
    std::filesystem::path m_net;
    Clock::time_point m_started{Clock::now()};
    std::chrono::seconds m_stop_timeout;
    std::chrono::seconds m_startup_timeout;

    std::deque<Service> m_services; // deque: stable addresses
    std::optional<std::filesystem::path> m_agent_binary;
    //! Agents started ahead of need (common/handoff/handoff.h), oldest first.
    struct Spare {
        pid_t pid{0};
        int control{-1};    //!< orreryd's end of the hand-off socket pair
        bool ready{false};  //!< it said "ready": connected to the node, waiting
        bool silent{false}; //!< its end closed or failed: no more to read
    };
    std::deque<Spare> m_spares;
    size_t m_spare_target{0};
    Clock::time_point m_spares_after{};    //!< back-off after a spare died unused
    std::vector<std::string> m_agent_args; //!< -agentarg (regtest only): appended to every agent's command line
    std::map<pid_t, Child> m_children;
    //! -startupnotify/-shutdownnotify commands running: pid -> option name.
    std::map<pid_t, std::string> m_notify;
    //! Shutdown waits for the -shutdownnotify commands until then.
    std::optional<Clock::time_point> m_shutdown_notify_until;
    //! Each child's role and peer, as in m_children, for IdentifyProcess on IPC threads:
    //! answered without waiting for the loop, which may be busy spawning.
    std::mutex m_identity_mutex;
    std::map<pid_t, interfaces::ProcessIdentity> m_identities; // guarded by m_identity_mutex
    std::map<int, Output> m_outputs;
    size_t m_sequence{0}; //!< the service the start sequence waits on
    bool m_all_started{false};
    bool m_stopping{false};
    bool m_done{false};
    size_t m_stop_phase{0};
    int m_exit_code{0};
    //! The last "Error: " line each service wrote to its stderr (what an EXIT_NO_RESTART stop repeats).
    std::map<std::string, std::string> m_last_errors;

    int m_signal_fd{-1};
    int m_event_fd{-1};
    std::string m_log_path;
    int m_log_fd{-1};
    bool m_print_to_console{false};

    std::mutex m_commands_mutex;
    std::deque<std::function<void()>> m_commands;
    bool m_commands_closed{false};

    std::map<uint64_t, std::thread> m_probes;
    uint64_t m_next_probe{0};

    std::mutex m_node_mutex;
    std::shared_ptr<NodeLink> m_node_link;

    //! A kept connection to one service's LinkReport (a new one each second would itself show as a link).
    struct ReportClient {
        int64_t pid{0};
        std::unique_ptr<ipc::Client> client;
        std::unique_ptr<interfaces::LinkReport> report;
    };
    std::mutex m_reports_mutex; //!< held while a report is gathered
    std::map<std::string, ReportClient> m_report_clients;
    Listener m_listener;
};

Constellation::Constellation(const ArgsManager& args, std::vector<std::string> command_line,
                             std::string supervisor_endpoint)
    : m_args(args), m_command_line(std::move(command_line)), m_supervisor_endpoint(std::move(supervisor_endpoint)),
      m_net(args.GetDataDirNet()),
      m_stop_timeout(std::max<int64_t>(1, args.GetIntArg("stoptimeout", DEFAULT_STOP_TIMEOUT))),
      m_startup_timeout(std::max<int64_t>(1, args.GetIntArg("startuptimeout", DEFAULT_STARTUP_TIMEOUT))),
      m_spare_target(static_cast<size_t>(
          std::clamp<int64_t>(args.GetIntArg("agentspares", DEFAULT_AGENT_SPARES), 0, MAX_AGENT_SPARES)))
{
    // -mocktime pins orreryd's clock too; the services read it themselves (it is forwarded to them).
    if (const int64_t mock = args.GetIntArg("mocktime", 0); mock > 0) SetMockTime(mock);
}

Constellation::~Constellation()
{
    for (auto& [id, thread] : m_probes) thread.join();
    for (auto& [fd, output] : m_outputs) ::close(fd);
    if (m_signal_fd >= 0) ::close(m_signal_fd);
    if (m_event_fd >= 0) ::close(m_event_fd);
    if (m_log_fd >= 0) ::close(m_log_fd);
}

std::string Constellation::Setup()
{
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
    m_signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    m_event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_signal_fd < 0 || m_event_fd < 0) return std::string("signalfd/eventfd: ") + std::strerror(errno);
    // Orphans of our children come to us, so that nothing escapes the process table unreaped.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);

    m_print_to_console = m_args.GetBoolArg("printtoconsole", false);
    if (!m_args.IsArgNegated("debuglogfile")) {
        std::filesystem::path path = m_args.GetArg("debuglogfile", "debug.log");
        if (path.is_relative()) path = m_net / path;
        m_log_path = path.string();
        OpenLog();
    }

    bool disable_wallet = m_args.GetBoolArg("disablewallet", false);
    for (const ServiceInfo& info : SERVICES) {
        std::string role(info.role);
        RestartPolicy policy(static_cast<int>(m_args.GetIntArg("restartintensity", DEFAULT_RESTART_INTENSITY)),
                             std::chrono::seconds(m_args.GetIntArg("restartperiod", DEFAULT_RESTART_PERIOD)));
        Service& service = m_services.emplace_back(role, policy);
        std::string override_path = m_args.GetArg(info.binary_option, "");
        std::string searched;
        if (role == "wallet" && disable_wallet) {
            LogPrintf("Wallet disabled (-disablewallet); orrery-wallet not started");
            continue;
        }
        if (role == "gui-bridge" && !m_args.GetBoolArg("server", true)) {
            LogPrintf("JSON-RPC disabled (-server=0); orrery-gui-bridge not started");
            continue;
        }
        service.binary = FindServiceBinary(role, override_path, &searched);
        if (!service.binary) {
            if (!override_path.empty())
                return fmt::format("-{}={} is not an executable file", info.binary_option, override_path);
            LogPrintf("orrery-{} not built; not started (looked in {})", role, searched);
        }
    }
    // Test options for the agents (e.g. -testsandboxescape): never on a network with real peers.
    m_agent_args = m_args.GetArgs("agentarg");
    if (!m_agent_args.empty() && m_args.GetChain() != "regtest") {
        return fmt::format("-agentarg is for tests and only allowed on regtest (not on {})", m_args.GetChain());
    }
    for (const std::string& arg : m_agent_args) {
        if (!arg.starts_with('-')) return fmt::format("-agentarg={}: an agent option must start with '-'", arg);
        LogPrintf("Test: every p2p-agent gets {}", arg);
    }
    std::string searched;
    m_agent_binary = FindServiceBinary(AGENT_ROLE, m_args.GetArg("agentbinary", ""), &searched);
    if (!m_agent_binary) {
        if (m_args.IsArgSet("agentbinary")) return fmt::format("-agentbinary={} is not an executable file", searched);
        LogPrintf("orrery-p2p-agent not built; peers cannot connect (looked in {})", searched);
    }

    // P2P: -listen defaults to on; bitcoind's parameter interactions (applied at start-up) turn
    // it off for -connect and back on for -bind or -whitebind.
    if (m_args.GetBoolArg("listen", true)) {
        auto port = static_cast<uint16_t>(m_args.GetIntArg("port", GetChainParams(m_args.GetChain()).default_port));
        std::vector<std::string> binds = m_args.GetArgs("bind");
        std::vector<std::string> whitebinds;
        for (const std::string& whitebind : m_args.GetArgs("whitebind")) {
            std::string error;
            auto parsed = ParseWhitebind(whitebind, error);
            if (!parsed) return error;
            whitebinds.push_back(parsed->address);
        }
        bool explicit_binds = !binds.empty() || !whitebinds.empty();
        if (!explicit_binds) binds = {"0.0.0.0", "::"};
        binds.insert(binds.end(), whitebinds.begin(), whitebinds.end());
        for (const std::string& bind : binds) {
            auto address = ParseHostPort(bind, port);
            if (!address) return fmt::format("Invalid -bind address: '{}'", bind);
            try {
                m_listener.Bind(*address);
            } catch (const std::exception& e) {
                if (explicit_binds || bind == "0.0.0.0") return e.what();
                LogPrintf("Warning: {}", e.what()); // no IPv6 on this host
            }
        }
        for (const std::string& address : m_listener.Addresses()) LogPrintf("Listening for peers on {}", address);
        m_listener.Start(
            [this](int fd, const std::string& peer, const std::string& local) { OnAccept(fd, peer, local); });
    } else {
        LogPrintf("Not listening for peers (-listen=0{})", m_args.IsArgSet("connect") ? ", implied by -connect" : "");
    }
    return "";
}

void Constellation::OpenLog()
{
    if (m_log_path.empty()) return;
    int fd = ::open(m_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return; // keep the old file rather than lose lines
    if (m_log_fd >= 0) ::close(m_log_fd);
    m_log_fd = fd;
}

// ---------------------------------------------------------------------------
// Calls from other threads
// ---------------------------------------------------------------------------

bool Constellation::Post(std::function<void()> work)
{
    std::lock_guard<std::mutex> lock(m_commands_mutex);
    if (m_commands_closed) return false;
    m_commands.push_back(std::move(work));
    uint64_t one = 1;
    (void)!::write(m_event_fd, &one, sizeof(one));
    return true;
}

template <typename F> auto Constellation::Call(F work) -> std::invoke_result_t<F>
{
    using Result = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(work));
    auto future = task->get_future();
    if (!Post([task] { (*task)(); })) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "orreryd is stopping");
    try {
        return future.get();
    } catch (const std::future_error&) { // the loop ended with the call still queued
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "orreryd is stopping");
    }
}

void Constellation::CloseCommands()
{
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard<std::mutex> lock(m_commands_mutex);
        m_commands_closed = true;
        dropped.swap(m_commands);
    }
    // Destroying the queued tasks breaks their promises: waiting callers get "orreryd is stopping".
}

void Constellation::RunCommands()
{
    uint64_t count;
    (void)!::read(m_event_fd, &count, sizeof(count));
    std::deque<std::function<void()>> commands;
    {
        std::lock_guard<std::mutex> lock(m_commands_mutex);
        commands.swap(m_commands);
    }
    for (auto& command : commands) command();
}

std::vector<interfaces::ProcessStatus> Constellation::Status()
{
    return Call([this] {
        auto now = Clock::now();
        auto seconds = [&](Clock::time_point since) {
            return std::chrono::duration_cast<std::chrono::seconds>(now - since).count();
        };
        std::vector<interfaces::ProcessStatus> out;
        interfaces::ProcessStatus self;
        self.role = "orreryd";
        self.pid = ::getpid();
        self.state = m_stopping ? "stopping" : "running";
        self.uptime_seconds = seconds(m_started);
        ProcStats stats = ReadProcStats(::getpid());
        self.rss_bytes = stats.rss_bytes;
        self.cpu_seconds = stats.cpu_seconds;
        out.push_back(self);
        auto describe = [&](const Child& child) {
            interfaces::ProcessStatus entry;
            entry.role = child.role;
            entry.pid = child.pid;
            entry.state = child.state;
            entry.peer_address = child.peer_address;
            entry.uptime_seconds = seconds(child.started);
            ProcStats child_stats = ReadProcStats(child.pid);
            entry.rss_bytes = child_stats.rss_bytes;
            entry.cpu_seconds = child_stats.cpu_seconds;
            return entry;
        };
        for (const Service& service : m_services) {
            if (service.pid != 0) {
                auto entry = describe(m_children.at(service.pid));
                entry.restarts = service.restarts;
                out.push_back(entry);
            } else if (service.restart_at) {
                interfaces::ProcessStatus entry;
                entry.role = service.role;
                entry.state = "restarting";
                entry.restarts = service.restarts;
                out.push_back(entry);
            }
        }
        for (const auto& [pid, child] : m_children) {
            if (child.role == AGENT_ROLE) out.push_back(describe(child));
        }
        return out;
    });
}

void Constellation::Restart(const std::string& role)
{
    Call([&] {
        Service* service = FindService(role);
        if (!service) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    "Unknown service '" + role + "'; restart takes node, wallet or gui-bridge");
        }
        if (m_stopping) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "orreryd is stopping");
        if (!service->binary) throw rpc::RpcException(rpc::RPC_MISC_ERROR, role + " is not run by orreryd");
        LogPrintf("Restart of {} requested", role);
        if (service->pid == 0) {
            if (!service->restart_at) throw rpc::RpcException(rpc::RPC_MISC_ERROR, role + " has not started yet");
            service->restart_at = Clock::now(); // already waiting for a restart: now
            return;
        }
        service->restart_requested = true;
        StopChild(m_children.at(service->pid));
    });
}

void Constellation::ForwardMockTime(int64_t time)
{
    SetMockTime(time);
    LogPrintf("Mock time set to {}", time);
    for (const std::string role : {"wallet", "gui-bridge"}) {
        ipc::Options options;
        options.role = "orreryd";
        options.keys_dir = m_net / "keys";
        options.connect_timeout = 500ms;
        options.server_role = role;
        options.interfaces = {"mockClock"};
        try {
            ipc::Client client(options);
            auto clock = ipc::MakeProxy<interfaces::MockClock>(client.Connect(DefaultEndpoint(m_args, role)));
            clock->setMockTime(time);
        } catch (const std::exception& e) {
            LogPrintf("Mock time not forwarded to {}: {}", role, e.what());
        }
    }
}

std::vector<interfaces::ProcessLinks> Constellation::LinkReport()
{
    // Which services run now (read on the loop), then their reports (asked from this thread).
    auto running = Call([this] {
        std::vector<std::pair<std::string, int64_t>> out;
        for (const Service& service : m_services) {
            if (service.pid != 0 && service.ready) out.emplace_back(service.role, service.pid);
        }
        return out;
    });
    std::vector<interfaces::ProcessLinks> out;
    out.push_back({"orreryd", ::getpid(), ipc::LinkStats()});
    std::lock_guard lock(m_reports_mutex);
    for (const auto& [role, pid] : running) {
        ReportClient& kept = m_report_clients[role];
        try {
            if (!kept.report || kept.pid != pid) {
                kept.report.reset();
                kept.client.reset();
                ipc::Options options;
                options.role = "orreryd";
                options.keys_dir = m_net / "keys";
                options.connect_timeout = 1s;
                options.call_timeout = 1s;
                options.server_role = role;
                options.interfaces = {"linkReport"};
                kept.client = std::make_unique<ipc::Client>(options);
                kept.report =
                    ipc::MakeProxy<interfaces::LinkReport>(kept.client->Connect(DefaultEndpoint(m_args, role)));
                kept.pid = pid;
            }
            out.push_back({role, pid, kept.report->links()});
        } catch (const std::exception& e) {
            LogDebug(LogCategory::IPC, "No link report from {} ({}): {}", role, pid, e.what());
            kept.report.reset();
            kept.client.reset();
        }
    }
    return out;
}

void Constellation::OpenConnection(const std::string& address, int64_t peer_id, const std::string& connection_type)
{
    Call([&] {
        if (m_stopping) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "orreryd is stopping");
        if (!m_agent_binary) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "orrery-p2p-agent is not built");
        if (address.empty() || address.find('\0') != std::string::npos) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid address '" + address + "'");
        }
        std::vector<std::string> argv{"orrery-p2p-agent", fmt::format("-peerid={}", peer_id), "-connect=" + address,
                                      "-connectiontype=" + connection_type};
        auto common = CommonArgs(AGENT_ROLE);
        argv.insert(argv.end(), common.begin(), common.end());
        pid_t pid = SpawnChild(*m_agent_binary, std::move(argv), {}, std::string(AGENT_ROLE)); // throws on exec failure
        Child& child = m_children.at(pid);
        child.peer_address = address;
        child.peer_id = peer_id;
        SetIdentity(pid, child.role, peer_id);
        child.state = "running";
        LogDebug(LogCategory::NET, "p2p-agent {} dials {} for peer {} ({})", pid, address, peer_id, connection_type);
    });
}

void Constellation::SetIdentity(pid_t pid, const std::string& role, int64_t peer_id)
{
    std::lock_guard lock(m_identity_mutex);
    m_identities[pid] = interfaces::ProcessIdentity{role, peer_id};
}

interfaces::ProcessIdentity Constellation::IdentifyProcess(int64_t pid)
{
    if (pid == ::getpid()) return {"orreryd", -1}; // its own probes
    {
        // A service, or an agent that has its peer: the mirror is up to date (its peer is
        // set before the hand-off leaves), so the loop need not be asked.
        std::lock_guard lock(m_identity_mutex);
        auto it = m_identities.find(static_cast<pid_t>(pid));
        if (it != m_identities.end() && (it->second.role != AGENT_ROLE || it->second.peer_id >= 0)) return it->second;
    }
    // On the loop, like every change of the table: a child is in it from its spawn
    // until it is reaped, and its peer is set in the same step that hands it one.
    return Call([&] {
        interfaces::ProcessIdentity identity;
        auto it = m_children.find(static_cast<pid_t>(pid));
        if (it == m_children.end()) return identity;
        identity.role = it->second.role;
        identity.peer_id = it->second.peer_id;
        return identity;
    });
}

// ---------------------------------------------------------------------------
// Starting children
// ---------------------------------------------------------------------------

std::vector<std::string> Constellation::CommonArgs(std::string_view role) const
{
    std::vector<std::string> args{"-datadir=" + std::filesystem::absolute(m_args.GetDataDirBase()).string()};
    auto forwarded = ForwardedArgs(m_command_line, role);
    args.insert(args.end(), forwarded.begin(), forwarded.end());
    args.push_back("-nodebuglogfile"); // orreryd writes their lines into debug.log
    args.push_back("-printtoconsole");
    if (role == AGENT_ROLE) {
        args.push_back("-ipcconnect=" + DefaultEndpoint(m_args, "node"));
        args.insert(args.end(), m_agent_args.begin(), m_agent_args.end());
    }
    return args;
}

std::vector<std::string> Constellation::ServiceArgv(const Service& service) const
{
    std::vector<std::string> argv{"orrery-" + service.role};
    auto common = CommonArgs(service.role);
    argv.insert(argv.end(), common.begin(), common.end());
    argv.push_back("-ipcbind=" + DefaultEndpoint(m_args, service.role));
    if (service.role == "node") {
        argv.push_back("-supervisorconnect=" + m_supervisor_endpoint);
    } else if (service.role == "wallet") {
        argv.push_back("-ipcconnect=" + DefaultEndpoint(m_args, "node"));
        argv.push_back("-supervisorconnect=" + m_supervisor_endpoint);
    } else if (service.role == "gui-bridge") {
        argv.push_back("-supervisorconnect=" + m_supervisor_endpoint);
        argv.push_back("-rpcrouterbind=" + DefaultEndpoint(m_args, "rpc-router"));
        if (m_args.GetBoolArg("disablewallet", false)) argv.push_back("-disablewallet");
    }
    // The node and the wallet register their RPC methods with the bridge.
    if (service.role == "node" || service.role == "wallet") {
        argv.push_back("-rpcrouterconnect=" + DefaultEndpoint(m_args, "rpc-router"));
    }
    return argv;
}

pid_t Constellation::SpawnChild(const std::filesystem::path& binary, std::vector<std::string> argv,
                                std::vector<int> fds, const std::string& role)
{
    SpawnRequest request{binary, std::move(argv), std::move(fds), SIGKILL};
    Spawned spawned = Spawn(request);
    Child child;
    child.role = role;
    child.pid = spawned.pid;
    child.started = Clock::now();
    SetIdentity(spawned.pid, role, -1);
    m_children.emplace(spawned.pid, std::move(child));
    Output output;
    output.role = role;
    output.pid = spawned.pid;
    m_outputs.emplace(spawned.output_fd, std::move(output));
    return spawned.pid;
}

void Constellation::RunNotify(const std::string& option, const std::string& command)
{
    try {
        // No parent-death signal: like bitcoind's, the command may outlive orreryd.
        Spawned spawned = Spawn(SpawnRequest{"/bin/sh", {"sh", "-c", command}, {}, 0});
        m_notify.emplace(spawned.pid, option);
        Output output;
        output.role = option;
        output.pid = spawned.pid;
        m_outputs.emplace(spawned.output_fd, std::move(output));
        LogPrintf("Running -{} command (pid {}): {}", option, spawned.pid, command);
    } catch (const std::exception& e) {
        LogPrintf("Error: cannot run -{} command: {}", option, e.what());
    }
}

void Constellation::StartService(Service& service)
{
    service.restart_at.reset();
    if (service.started_before) ++service.restarts;
    service.started_before = true;
    pid_t pid;
    try {
        pid = SpawnChild(*service.binary, ServiceArgv(service), {}, service.role);
    } catch (const std::exception& e) {
        OnServiceFailure(service, e.what());
        return;
    }
    service.pid = pid;
    service.ready = false;
    LogPrintf("Started {} (pid {}), waiting for it on {}", service.role, pid, DefaultEndpoint(m_args, service.role));
    StartProbe(service);
}

//! A service is ready when a hello on its endpoint succeeds. The probe runs on
//! its own thread (Connect blocks) and reports to the loop.
void Constellation::StartProbe(Service& service)
{
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    service.probe_cancel = cancel;
    uint64_t id = ++m_next_probe;
    ipc::Options options;
    options.role = "orreryd";
    options.keys_dir = m_net / "keys";
    options.max_message_size =
        static_cast<size_t>(m_args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
    options.connect_timeout = 500ms;
    options.server_role = service.role;
    if (service.role == "node") options.interfaces = {"node"};
    auto deadline = Clock::now() + m_startup_timeout;
    m_probes.emplace(id, std::thread([this, id, role = service.role, pid = service.pid, options, cancel, deadline,
                                      endpoint = DefaultEndpoint(m_args, service.role)] {
                         std::shared_ptr<NodeLink> link;
                         bool ready = false;
                         while (!*cancel && Clock::now() < deadline) {
                             auto attempt = Clock::now();
                             auto client = std::make_unique<ipc::Client>(options);
                             try {
                                 auto connection = client->Connect(endpoint);
                                 ready = true;
                                 if (role == "node") {
                                     link = std::make_shared<NodeLink>();
                                     link->node = ipc::MakeProxy<interfaces::Node>(connection);
                                     link->client = std::move(client);
                                 }
                                 break;
                             } catch (const std::exception&) {
                                 // not bound yet
                             }
                             if (Clock::now() - attempt < 100ms) std::this_thread::sleep_for(100ms);
                         }
                         Post([this, id, role, pid, ready, link] { OnProbeResult(id, role, pid, ready, link); });
                     }));
}

void Constellation::OnProbeResult(uint64_t probe, const std::string& role, pid_t pid, bool ready,
                                  std::shared_ptr<NodeLink> link)
{
    if (auto it = m_probes.find(probe); it != m_probes.end()) {
        it->second.join(); // it has posted this and is returning
        m_probes.erase(it);
    }
    Service* service = FindService(role);
    if (!service || service->pid != pid || m_stopping) return; // that process is gone already
    auto child = m_children.find(pid);
    if (!ready) {
        LogPrintf("Error: {} (pid {}) did not answer on {} within {} s; killing it", role, pid,
                  DefaultEndpoint(m_args, role), m_startup_timeout.count());
        ::kill(-pid, SIGKILL);
        return;
    }
    service->ready = true;
    if (child != m_children.end()) child->second.state = "running";
    LogPrintf("{} is ready (pid {})", role, pid);
    if (link) {
        std::shared_ptr<NodeLink> old;
        {
            std::lock_guard<std::mutex> lock(m_node_mutex);
            old = std::move(m_node_link);
            m_node_link = std::move(link);
        }
    }
}

// ---------------------------------------------------------------------------
// P2P connections
// ---------------------------------------------------------------------------

//! On the accept thread: the node decides (limits, bans), then the loop spawns the agent.
void Constellation::OnAccept(int fd, const std::string& peer, const std::string& local)
{
    auto socket = std::make_shared<OwnedFd>(fd);
    std::shared_ptr<NodeLink> link;
    {
        std::lock_guard<std::mutex> lock(m_node_mutex);
        link = m_node_link;
    }
    if (!link) {
        LogDebug(LogCategory::NET, "Inbound connection from {} dropped: the node is not running", peer);
        return;
    }
    interfaces::Admission admission;
    try {
        admission = link->node->admitInbound(peer, local);
    } catch (const std::exception& e) {
        LogPrintf("Inbound connection from {} dropped: the node did not answer ({})", peer, e.what());
        return;
    }
    if (!admission.accepted) {
        LogDebug(LogCategory::NET, "Inbound connection from {} refused by the node: {}", peer, admission.reason);
        return;
    }
    Post([this, socket, peer, id = admission.peer_id] {
        SpawnInbound(socket->fd, id, peer);
        // `socket` closes orreryd's copy when this command is destroyed: the agent has its own.
    });
}

void Constellation::SpawnInbound(int fd, int64_t peer_id, const std::string& peer)
{
    if (m_stopping) return;
    if (!m_agent_binary) {
        LogPrintf("Inbound connection from {} (peer {}) dropped: orrery-p2p-agent is not built", peer, peer_id);
        return;
    }
    if (HandToSpare(fd, peer_id, peer)) {
        m_spares_after = std::max(m_spares_after, Clock::now() + SPARE_REPLACEMENT_DELAY);
        return;
    }
    std::vector<std::string> argv{"orrery-p2p-agent", fmt::format("-peerid={}", peer_id), "-inboundfd=3",
                                  "-peeraddress=" + peer};
    auto common = CommonArgs(AGENT_ROLE);
    argv.insert(argv.end(), common.begin(), common.end());
    try {
        pid_t pid = SpawnChild(*m_agent_binary, std::move(argv), {fd}, std::string(AGENT_ROLE));
        Child& child = m_children.at(pid);
        child.peer_address = peer;
        child.peer_id = peer_id;
        SetIdentity(pid, child.role, peer_id);
        child.state = "running";
        LogDebug(LogCategory::NET, "p2p-agent {} serves inbound peer {} ({})", pid, peer_id, peer);
    } catch (const std::exception& e) {
        LogPrintf("Error: inbound connection from {} dropped: {}", peer, e.what());
    }
}

bool Constellation::HandToSpare(int fd, int64_t peer_id, const std::string& peer)
{
    while (!m_spares.empty()) {
        // The oldest ready spare; else the oldest still starting (it reads the hand-off once ready).
        auto pick = std::find_if(m_spares.begin(), m_spares.end(), [](const Spare& s) { return s.ready && !s.silent; });
        if (pick == m_spares.end()) pick = m_spares.begin();
        Spare spare = *pick;
        m_spares.erase(pick);
        // Its peer is known before the spare can ask the node to register it.
        SetIdentity(spare.pid, std::string(AGENT_ROLE), peer_id);
        const bool sent = handoff::SendHandoff(spare.control, peer_id, peer, fd);
        const int error = errno;
        // Read its "ready" if it is still queued: closing with unread data resets the spare's end.
        handoff::DiscardSpareReports(spare.control);
        ::close(spare.control);
        auto it = m_children.find(spare.pid);
        if (!sent || it == m_children.end()) {
            if (it != m_children.end()) SetIdentity(spare.pid, it->second.role, -1); // it did not get the peer
            LogDebug(LogCategory::NET, "Spare p2p-agent {} could not take peer {}: {}", spare.pid, peer_id,
                     sent ? "it is gone" : std::strerror(error));
            continue;
        }
        Child& child = it->second;
        child.peer_address = peer;
        child.peer_id = peer_id;
        child.state = "running";
        LogDebug(LogCategory::NET, "p2p-agent {} (a spare) serves inbound peer {} ({})", spare.pid, peer_id, peer);
        return true;
    }
    return false;
}

void Constellation::ReplenishSpares(Clock::time_point now)
{
    if (m_stopping || !m_all_started || !m_agent_binary || now < m_spares_after) return;
    while (m_spares.size() < m_spare_target) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
            LogPrintf("Error: cannot make a socket pair for a spare p2p-agent: {}", std::strerror(errno));
            m_spares_after = now + std::chrono::seconds{1};
            return;
        }
        std::vector<std::string> argv{"orrery-p2p-agent", "-spare=3"};
        auto common = CommonArgs(AGENT_ROLE);
        argv.insert(argv.end(), common.begin(), common.end());
        try {
            pid_t pid = SpawnChild(*m_agent_binary, std::move(argv), {pair[1]}, std::string(AGENT_ROLE));
            ::close(pair[1]);
            m_children.at(pid).state = "spare-starting";
            m_spares.push_back({pid, pair[0]});
        } catch (const std::exception& e) {
            ::close(pair[0]);
            ::close(pair[1]);
            LogPrintf("Error: cannot start a spare p2p-agent: {}", e.what());
            m_spares_after = now + std::chrono::seconds{1};
            return;
        }
    }
}

void Constellation::OnSpareMessage(int control)
{
    auto spare = std::find_if(m_spares.begin(), m_spares.end(), [&](const Spare& s) { return s.control == control; });
    if (spare == m_spares.end()) return;
    const handoff::SpareReport report = handoff::ReadSpareReport(control);
    if (report == handoff::SpareReport::NOTHING) return;
    if (report == handoff::SpareReport::READY && !spare->ready) {
        spare->ready = true;
        if (auto child = m_children.find(spare->pid); child != m_children.end()) child->second.state = "spare";
        LogDebug(LogCategory::NET, "Spare p2p-agent {} is ready", spare->pid);
        return;
    }
    spare->silent = true; // exiting, or talking nonsense: it is reaped or used as it is
    if (report != handoff::SpareReport::CLOSED) {
        LogPrintf("Spare p2p-agent {} sent an unexpected message on its hand-off socket", spare->pid);
    }
}

void Constellation::DropSpares()
{
    // A spare whose socket closes exits quietly; it is also stopped with the agents.
    for (const Spare& spare : m_spares) ::close(spare.control);
    m_spares.clear();
}

// ---------------------------------------------------------------------------
// Exits, restarts, shutdown
// ---------------------------------------------------------------------------

Service* Constellation::FindService(std::string_view role)
{
    for (Service& service : m_services) {
        if (service.role == role) return &service;
    }
    return nullptr;
}

void Constellation::Reap()
{
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        OnExit(pid, status);
    }
}

void Constellation::OnExit(pid_t pid, int status)
{
    if (auto notify = m_notify.find(pid); notify != m_notify.end()) {
        LogPrintf("-{} command (pid {}) {}", notify->second, pid, DescribeExit(status));
        m_notify.erase(notify);
        return;
    }
    auto it = m_children.find(pid);
    if (it == m_children.end()) { // reparented to us as subreaper
        LogPrintf("Reaped orphaned process {} ({})", pid, DescribeExit(status));
        return;
    }
    Child child = std::move(it->second);
    m_children.erase(it);
    {
        std::lock_guard lock(m_identity_mutex);
        m_identities.erase(pid);
    }
    std::string how = DescribeExit(status);
    if (child.role == AGENT_ROLE && child.state.starts_with("spare")) {
        auto spare = std::find_if(m_spares.begin(), m_spares.end(), [&](const Spare& s) { return s.pid == pid; });
        if (spare != m_spares.end()) {
            ::close(spare->control);
            m_spares.erase(spare);
        }
        if (m_stopping) {
            LogDebug(LogCategory::NET, "Spare p2p-agent {} {}", pid, how);
        } else {
            // Unused and gone: something is wrong with agents; do not spin.
            m_spares_after = Clock::now() + std::chrono::seconds{1};
            LogPrintf("Spare p2p-agent {} {} before it served a peer; starting another in 1 s", pid, how);
        }
        return;
    }
    if (child.role == AGENT_ROLE) {
        LogPrintf("p2p-agent {} for peer {} ({}) {}", pid, child.peer_id, child.peer_address, how);
        return;
    }
    Service& service = *FindService(child.role);
    service.pid = 0;
    service.ready = false;
    if (service.probe_cancel) *service.probe_cancel = true;
    if (m_stopping) {
        LogPrintf("{} (pid {}) stopped: {}", child.role, pid, how);
        return;
    }
    if (service.restart_requested) {
        service.restart_requested = false;
        LogPrintf("{} (pid {}) stopped for a restart: {}", child.role, pid, how);
        StartService(service);
        return;
    }
    std::string last_error = std::move(m_last_errors[child.role]);
    m_last_errors.erase(child.role);
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_STOP_ORRERY) {
        LogPrintf("{} (pid {}) asks to stop Orrery", child.role, pid);
        BeginShutdown(0);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NO_RESTART) {
        // The service met what a restart cannot fix (a full disk, a read-only datadir) and said why on stderr.
        std::string message =
            fmt::format("Error: {} (pid {}) stopped on an error a restart cannot fix: {}; stopping Orrery", child.role,
                        pid, last_error.empty() ? "see debug.log" : last_error);
        LogPrintf("{}", message);
        if (!m_print_to_console) std::fprintf(stderr, "%s\n", message.c_str());
        BeginShutdown(1);
        return;
    }
    OnServiceFailure(service, fmt::format("{} (pid {}) {}", child.role, pid, how));
}

void Constellation::OnServiceFailure(Service& service, const std::string& what)
{
    auto now = Clock::now();
    auto delay = service.policy.OnFailure(now);
    auto period = std::chrono::duration_cast<std::chrono::seconds>(service.policy.Period()).count();
    if (!delay) {
        std::string message = fmt::format("Error: {} failed {} times within {} s (last: {}); giving up and stopping "
                                          "Orrery",
                                          service.role, service.policy.Intensity() + 1, period, what);
        LogPrintf("{}", message);
        if (!m_print_to_console) std::fprintf(stderr, "%s\n", message.c_str());
        BeginShutdown(1);
        return;
    }
    LogPrintf("{}; restarting it in {} ms (restart {} of at most {} within {} s)", what, delay->count(),
              service.policy.RecentRestarts(now), service.policy.Intensity(), period);
    service.restart_at = now + *delay;
}

void Constellation::StopChild(Child& child)
{
    if (child.kill_at) return; // already asked
    ::kill(child.pid, SIGTERM);
    child.state = "stopping";
    child.kill_at = Clock::now() + m_stop_timeout;
    if (child.role == AGENT_ROLE) {
        LogDebug(LogCategory::SUPERVISOR, "Stopping p2p-agent {}", child.pid);
    } else {
        LogPrintf("Stopping {} (pid {})", child.role, child.pid);
    }
}

void Constellation::BeginShutdown(int exit_code)
{
    if (m_stopping) return;
    m_stopping = true;
    m_exit_code = exit_code;
    m_listener.Stop(); // no new agents
    DropSpares();
    // bitcoind runs -shutdownnotify before it stops anything, and waits for it.
    for (const std::string& command : m_args.GetArgs("shutdownnotify")) RunNotify("shutdownnotify", command);
    if (!m_notify.empty()) m_shutdown_notify_until = Clock::now() + m_stop_timeout;
    for (Service& service : m_services) {
        service.restart_at.reset();
        if (service.probe_cancel) *service.probe_cancel = true;
    }
}

void Constellation::AdvanceShutdown()
{
    if (m_shutdown_notify_until) {
        bool waiting = std::any_of(m_notify.begin(), m_notify.end(),
                                   [](const auto& entry) { return entry.second == "shutdownnotify"; });
        if (waiting && Clock::now() < *m_shutdown_notify_until) return;
        if (waiting) LogPrintf("-shutdownnotify still runs after {} s; stopping anyway", m_stop_timeout.count());
        m_shutdown_notify_until.reset();
    }
    while (m_stop_phase < std::size(STOP_ORDER)) {
        bool waiting = false;
        for (auto& [pid, child] : m_children) {
            if (child.role != STOP_ORDER[m_stop_phase]) continue;
            StopChild(child);
            waiting = true;
        }
        if (waiting) return;
        ++m_stop_phase;
    }
    // Anything left (an unknown role cannot happen, but never exit with children behind).
    for (auto& [pid, child] : m_children) StopChild(child);
    if (m_children.empty()) m_done = true;
}

void Constellation::HandleTimers(Clock::time_point now)
{
    for (auto& [pid, child] : m_children) {
        if (child.kill_at && *child.kill_at <= now) {
            LogPrintf("{} (pid {}) did not stop within {} s; killing it", child.role, pid, m_stop_timeout.count());
            if (::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);
            child.kill_at = Clock::time_point::max();
        }
    }
    if (m_stopping) return;
    for (Service& service : m_services) {
        if (service.restart_at && *service.restart_at <= now) StartService(service);
    }
    ReplenishSpares(now);
}

int Constellation::TimeoutMs(Clock::time_point now) const
{
    std::optional<Clock::time_point> next;
    auto consider = [&](const std::optional<Clock::time_point>& at) {
        if (at && *at != Clock::time_point::max() && (!next || *at < *next)) next = at;
    };
    for (const auto& [pid, child] : m_children) consider(child.kill_at);
    consider(m_shutdown_notify_until);
    if (!m_stopping) {
        for (const Service& service : m_services) consider(service.restart_at);
        if (m_all_started && m_spares.size() < m_spare_target && m_agent_binary) consider(m_spares_after);
    }
    if (!next) return -1;
    if (*next <= now) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*next - now).count());
}

void Constellation::Advance()
{
    if (m_stopping) {
        AdvanceShutdown();
        return;
    }
    while (m_sequence < m_services.size()) {
        Service& service = m_services[m_sequence];
        if (!service.binary || service.ready) {
            ++m_sequence;
            continue;
        }
        if (service.pid == 0 && !service.restart_at) StartService(service);
        if (m_stopping) return; // it failed past its intensity
        return;
    }
    if (!m_all_started) {
        m_all_started = true;
        LogPrintf("All services started");
        ReplenishSpares(Clock::now());
        for (const std::string& command : m_args.GetArgs("startupnotify")) RunNotify("startupnotify", command);
    }
}

// ---------------------------------------------------------------------------
// Signals, output and the loop
// ---------------------------------------------------------------------------

void Constellation::HandleSignals()
{
    signalfd_siginfo info{};
    while (::read(m_signal_fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        switch (info.ssi_signo) {
        case SIGCHLD:
            Reap();
            break;
        case SIGHUP:
            ReopenLogFile();
            OpenLog();
            LogPrintf("Reopened debug.log on SIGHUP");
            break;
        default:
            if (m_stopping) {
                LogPrintf("Already stopping");
                break;
            }
            LogPrintf("Shutdown requested ({}), stopping", info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
            BeginShutdown(0);
        }
    }
    Reap(); // SIGCHLDs coalesce; also catches an exit that raced the signalfd read
}

void Constellation::WriteLine(std::string_view line)
{
    std::string record(line);
    record += '\n';
    if (m_log_fd >= 0) WriteAll(m_log_fd, record);
    if (m_print_to_console || m_log_fd < 0) WriteAll(STDOUT_FILENO, record); // -printtoconsole: stdout, as bitcoind
}

void Constellation::ReadOutput(int fd, bool final)
{
    auto it = m_outputs.find(fd);
    if (it == m_outputs.end()) return;
    Output& output = it->second;
    auto sink = [&](std::string_view line) {
        if (line.starts_with("Error: ")) {
            m_last_errors[output.role] = std::string(line.substr(7));
            // A service logs its error and then says it on stderr for whoever runs it alone; both come down
            // this one pipe, in that order: debug.log gets it once.
            if (std::string_view(output.last_line).ends_with(line)) {
                output.last_line.clear();
                return;
            }
        }
        output.last_line = line;
        WriteLine(TagLine(line, output.role, output.pid));
    };
    char buffer[16384];
    // A bounded number of reads per wake-up, so that one chatty child cannot starve the loop.
    for (int round = 0; round < 16 || final; ++round) {
        ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n > 0) {
            output.splitter.Feed(std::string_view(buffer, static_cast<size_t>(n)), sink);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN && !final) return;
        output.splitter.Finish(sink); // end of stream (or nothing more at the end)
        ::close(fd);
        m_outputs.erase(it);
        return;
    }
}

int Constellation::Loop()
{
    std::vector<pollfd> fds;
    while (!m_done) {
        Advance();
        if (m_done) break;
        fds.clear();
        fds.push_back({m_signal_fd, POLLIN, 0});
        fds.push_back({m_event_fd, POLLIN, 0});
        for (const auto& [fd, output] : m_outputs) fds.push_back({fd, POLLIN, 0});
        const size_t outputs_end = fds.size();
        for (const Spare& spare : m_spares) {
            if (!spare.ready && !spare.silent) fds.push_back({spare.control, POLLIN, 0});
        }
        int n = ::poll(fds.data(), fds.size(), TimeoutMs(Clock::now()));
        if (n < 0 && errno != EINTR) {
            LogPrintf("Error: poll: {}", std::strerror(errno));
            BeginShutdown(1);
        }
        if (n > 0) {
            for (size_t i = 2; i < outputs_end; ++i) {
                if (fds[i].revents) ReadOutput(fds[i].fd, false);
            }
            for (size_t i = outputs_end; i < fds.size(); ++i) {
                if (fds[i].revents) OnSpareMessage(fds[i].fd); // before a reap closes its socket
            }
            if (fds[0].revents) HandleSignals();
            if (fds[1].revents) RunCommands();
        }
        HandleTimers(Clock::now());
    }
    // Everyone is gone: what is left in the pipes goes to the log, then they close.
    std::vector<int> remaining;
    for (const auto& [fd, output] : m_outputs) remaining.push_back(fd);
    for (int fd : remaining) ReadOutput(fd, true);
    for (auto& [id, probe] : m_probes) probe.join();
    m_probes.clear();
    std::lock_guard<std::mutex> lock(m_node_mutex);
    m_node_link.reset();
    return m_exit_code;
}

// ---------------------------------------------------------------------------
// The Supervisor interface
// ---------------------------------------------------------------------------

class SupervisorImpl final : public interfaces::Supervisor
{
public:
    explicit SupervisorImpl(Constellation& constellation) : m_constellation(constellation) {}
    std::vector<interfaces::ProcessStatus> status() override { return m_constellation.Status(); }
    void stop() override
    {
        LogPrintf("Stop requested over IPC");
        ::kill(::getpid(), SIGTERM); // handled by the loop like any SIGTERM
    }
    void restart(std::string role) override { m_constellation.Restart(role); }
    void openConnection(std::string address, int64_t peer_id, std::string connection_type) override
    {
        m_constellation.OpenConnection(address, peer_id, connection_type);
    }
    void setMockTime(int64_t time) override { m_constellation.ForwardMockTime(time); }
    std::vector<interfaces::ProcessLinks> linkReport() override { return m_constellation.LinkReport(); }

private:
    Constellation& m_constellation;
};

//! Who orreryd started a pid as, for the services' checks of their ipc:// callers.
class ProcessTableImpl final : public interfaces::ProcessTable
{
public:
    explicit ProcessTableImpl(Constellation& constellation) : m_constellation(constellation) {}
    interfaces::ProcessIdentity identifyProcess(int64_t pid) override { return m_constellation.IdentifyProcess(pid); }

private:
    Constellation& m_constellation;
};

//! One orreryd per datadir and network: a second one would fight over the files.
int LockDataDir(const std::filesystem::path& net)
{
    std::string path = (net / ".lock").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

//! At a clean stop: the sockets of the constellation's services (left behind only by one
//! that was killed), then run/ itself when nothing else is in it (a service started on its
//! own may still serve there).
void RemoveRuntimeFolder(const std::filesystem::path& run)
{
    std::error_code ec;
    for (std::string_view role : {"supervisor", "node", "wallet", "gui-bridge"}) {
        std::filesystem::remove(run / (std::string(role) + ".sock"), ec);
    }
    if (std::filesystem::is_empty(run, ec) && !ec) {
        std::filesystem::remove(run, ec);
    } else {
        LogPrintf("{} is not empty; left in place", run.string());
    }
}

int Fail(const std::string& message)
{
    LogPrintf("Error: {}", message);
    std::fprintf(stderr, "Error: %s\n", message.c_str());
    return 1;
}

} // namespace

void AddArgs(ArgsManager& args)
{
    // Every option of the table (common/util/options.h): orreryd accepts all of bitcoind's and
    // passes each on to the services that use it.
    AddOptions(args, PROCESS_ORRERYD);
    args.AddArg("-restartintensity=<n>", "Restarts of one service allowed within -restartperiod before orreryd "
                                         "gives up (default: 5)");
    args.AddArg("-restartperiod=<seconds>", "Window of -restartintensity (default: 60)");
    args.AddArg("-stoptimeout=<seconds>", "How long a process may take to stop before SIGKILL (default: 10)");
    args.AddArg("-startuptimeout=<seconds>", "How long a service may take to answer on IPC (default: 120)");
    args.AddArg("-nodebinary=<path>", "Run this program as the node (default: orrery-node beside orreryd)");
    args.AddArg("-walletbinary=<path>", "Run this program as the wallet (default: orrery-wallet beside orreryd)");
    args.AddArg("-guibridgebinary=<path>", "Run this program as the gui-bridge (default: orrery-gui-bridge)");
    args.AddArg("-agentbinary=<path>", "Run this program for each peer (default: orrery-p2p-agent)");
    args.AddArg("-agentspares=<n>",
                fmt::format("Keep <n> p2p-agents started ahead of need, so an inbound peer does not wait for a "
                            "process to start; 0 starts one per connection (default: {}, at most {})",
                            DEFAULT_AGENT_SPARES, MAX_AGENT_SPARES));
    args.AddArg("-agentarg=<arg>",
                "Test only, regtest only: pass <arg> to every p2p-agent (repeatable), e.g. "
                "-agentarg=-testsandboxescape=open",
                ARG_NETWORK_ONLY);
}

int Run(const ArgsManager& args, const std::vector<std::string>& command_line)
{
    std::filesystem::path net = args.GetDataDirNet();
    int lock_fd = LockDataDir(net);
    if (lock_fd < 0) {
        return Fail(fmt::format("Cannot obtain a lock on data directory {}. Orrery is probably already running.",
                                net.string()));
    }
    // What a service would only find out after orreryd restarted it five times: checked here, as bitcoind does.
    {
        std::string error;
        if (!MakeUserAgent(args.GetArgs("uacomment"), error)) {
            ::close(lock_fd);
            return Fail(error);
        }
        for (const std::string& value : args.GetArgs("whitelist")) {
            if (!ParseWhitelist(value, error)) {
                ::close(lock_fd);
                return Fail(error);
            }
        }
    }
    if (args.UsedBitcoinConf()) {
        LogPrintf("Config file: {} (orrery.conf not found: reading bitcoind's file)", args.ConfigFilePath().string());
    } else if (!args.ConfigFilePath().empty()) {
        LogPrintf("Config file: {}", args.ConfigFilePath().string());
    }
    for (const std::string& name : OptionsWithoutEffect(args)) {
        LogPrintf("Option -{} is accepted for bitcoind compatibility and has no effect in Orrery", name);
    }
    // wallets/ exists in every network folder, as in bitcoind's, with or without a wallet.
    if (auto failure = EnsurePrivateDir(net / "wallets")) {
        ::close(lock_fd);
        return Fail(*failure);
    }
    // Blocked before any thread starts, so that every thread inherits the mask and the loop reads them.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::string endpoint = args.GetArg("ipcbind", DefaultEndpoint(args, "supervisor"));
    if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6)); // stale socket of a dead run
    // -pid, as bitcoind's: in the network's folder unless absolute; -nopid: none.
    std::filesystem::path pid_file;
    if (!args.IsArgNegated("pid")) {
        pid_file = args.GetArg("pid", "orreryd.pid");
        if (pid_file.is_relative()) pid_file = net / pid_file;
    }
    int code;
    {
        Constellation constellation(args, command_line, endpoint);
        ipc::Options options;
        options.role = "orreryd";
        options.keys_dir = net / "keys";
        options.max_message_size =
            static_cast<size_t>(args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
        if (std::string error; !ipc::AddIpcAllow(options.roles, args.GetArgs("ipcallow"), error)) {
            ::close(lock_fd);
            return Fail(error);
        }
        // Its own children may say only what they were started as.
        options.roles.SetProcessLookup([&constellation](int64_t pid) -> std::optional<std::string> {
            auto identity = constellation.IdentifyProcess(pid);
            if (identity.role.empty()) return std::nullopt;
            return identity.role;
        });
        ipc::Server server(options);
        server.Serve<interfaces::Supervisor>(std::make_shared<SupervisorImpl>(constellation),
                                             interfaces::SUPERVISOR_CALLERS);
        server.Serve<interfaces::ProcessTable>(std::make_shared<ProcessTableImpl>(constellation),
                                               interfaces::PROCESS_TABLE_CALLERS);
        try {
            server.Bind(endpoint);
        } catch (const std::exception& e) {
            ::close(lock_fd);
            return Fail(e.what());
        }
        if (std::string error = constellation.Setup(); !error.empty()) {
            server.Stop();
            if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6));
            ::close(lock_fd);
            return Fail(error);
        }
        if (!pid_file.empty()) std::ofstream(pid_file) << ::getpid() << "\n";
        LogPrintf("Orrery version {} started on {} (datadir {})", ORRERY_VERSION, args.GetChain(), net.string());
        LogPrintf("Supervisor interface on {}", server.Endpoint());
        // Say where things are, as a user starting it for the first time needs to know.
        const auto& params = GetChainParams(ChainTypeFromString(args.GetChain()).value());
        std::string chain_flag = args.GetChain() == "main" ? "" : " -chain=" + args.GetChain();
        std::string cli = fmt::format("orrery-cli -datadir={}{}", args.GetDataDirBase().string(), chain_flag);
        std::printf("orreryd %s running on %s, datadir %s\n", ORRERY_VERSION, args.GetChain().c_str(), net.c_str());
        if (args.GetBoolArg("server", true)) {
            // Where the gui-bridge listens: -rpcbind counts only with -rpcallowip, as in bitcoind.
            const auto rpc_port = static_cast<uint16_t>(args.GetIntArg("rpcport", params.rpc_port));
            HostPort rpc{"127.0.0.1", rpc_port};
            if (args.IsArgSet("rpcallowip")) {
                auto binds = args.GetArgs("rpcbind");
                rpc = binds.empty()
                          ? HostPort{"0.0.0.0", rpc_port}
                          : ParseHostPort(binds.front(), rpc_port).value_or(HostPort{binds.front(), rpc_port});
            }
            std::string every = rpc.host == "0.0.0.0" || rpc.host == "::" ? " on every address" : "";
            std::printf("  JSON-RPC:   http://%s/%s (cookie in %s)\n", FormatHostPort(rpc.host, rpc.port).c_str(),
                        every.c_str(), (net / ".cookie").c_str());
            uint16_t gui_port = static_cast<uint16_t>(args.GetIntArg("guiport", rpc.port));
            std::printf("  web GUI:    http://%s/%s (log in with the RPC credentials or the cookie's line)\n",
                        FormatHostPort(every.empty() ? rpc.host : "127.0.0.1", gui_port).c_str(), every.c_str());
        } else {
            std::printf("  JSON-RPC:   off (-server=0), and with it the web GUI\n");
        }
        if (args.GetBoolArg("listen", true)) {
            std::printf("  P2P:        port %lld\n",
                        static_cast<long long>(args.GetIntArg("port", params.default_port)));
        }
        std::printf("  supervisor: %s\n  try:        %s getblockchaininfo\n              %s -supervisor status\n",
                    server.Endpoint().c_str(), cli.c_str(), cli.c_str());
        std::fflush(stdout);

        code = constellation.Loop();
        constellation.CloseCommands();
        server.Stop();
    }
    if (!pid_file.empty()) std::filesystem::remove(pid_file);
    if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6));
    if (code == 0) RemoveRuntimeFolder(net / "run");
    if (code == 0) {
        LogPrintf("Shutdown done");
    } else {
        LogPrintf("Shutdown done after a failure (exit code {})", code);
    }
    ::close(lock_fd);
    return code;
}

} // namespace orrery::supervisor
