// orreryd: the process table and its Supervisor interface.
#include <supervisor/supervisor.h>

#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/init.h>
#include <common/util/logging.h>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

namespace orrery::supervisor {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ReadRssBytes()
{
    std::ifstream statm("/proc/self/statm");
    int64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * ::sysconf(_SC_PAGESIZE);
}

double ReadCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

class SupervisorImpl final : public interfaces::Supervisor
{
public:
    explicit SupervisorImpl(Clock::time_point started) : m_started(started) {}
    std::vector<interfaces::ProcessStatus> status() override
    {
        interfaces::ProcessStatus self;
        self.role = "orreryd";
        self.pid = ::getpid();
        self.state = "running";
        self.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - m_started).count();
        self.rss_bytes = ReadRssBytes();
        self.cpu_seconds = ReadCpuSeconds();
        return {self};
    }
    void stop() override
    {
        LogPrintf("Stop requested over IPC");
        ::kill(::getpid(), SIGTERM); // handled by the signal loop like any SIGTERM
    }

    void restart(std::string role) override
    {
        throw std::runtime_error("orreryd does not run " + role + " yet");
    }
    void openConnection(std::string address, int64_t, std::string) override
    {
        throw std::runtime_error("orreryd cannot open connections yet (" + address + ")");
    }

private:
    Clock::time_point m_started;
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

} // namespace

void AddArgs(ArgsManager& args)
{
    AddCommonArgs(args);
    args.AddArg("-daemon", "Run in the background (not yet: use systemd or &)", ARG_COMMAND_LINE_ONLY);
}

int Run(const ArgsManager& args)
{
    auto started = Clock::now();
    std::filesystem::path net = args.GetDataDirNet();
    int lock_fd = LockDataDir(net);
    if (lock_fd < 0) {
        LogPrintf("Error: Cannot obtain a lock on data directory {}. Orrery is probably already running.", net.string());
        std::fprintf(stderr, "Error: Cannot obtain a lock on data directory %s. Orrery is probably already running.\n",
                     net.c_str());
        return 1;
    }
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr); // threads started below inherit the mask

    ipc::Options options;
    options.role = "orreryd";
    options.keys_dir = net / "keys";
    options.max_message_size = static_cast<size_t>(args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
    ipc::Server server(options);
    server.Serve<interfaces::Supervisor>(std::make_shared<SupervisorImpl>(started));
    std::string endpoint = args.GetArg("ipcbind", DefaultEndpoint(args, "supervisor"));
    if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6)); // stale socket of a dead run
    try {
        server.Bind(endpoint);
    } catch (const std::exception& e) {
        LogPrintf("Error: {}", e.what());
        std::fprintf(stderr, "Error: %s\n", e.what());
        return 1;
    }
    std::ofstream(net / "run" / "orreryd.pid") << ::getpid() << "\n";
    LogPrintf("Orrery version {} started on {} (datadir {})", ORRERY_VERSION, args.GetChain(),
              net.string());
    LogPrintf("Supervisor interface on {}", server.Endpoint());
    std::printf("orreryd %s running, datadir %s\n  supervisor: %s\n  status:     orrery-cli -datadir=%s%s "
                "-supervisor status\n",
                ORRERY_VERSION, net.c_str(), server.Endpoint().c_str(), args.GetDataDirBase().c_str(),
                args.GetChain() == "main" ? "" : (" -chain=" + args.GetChain()).c_str());
    std::fflush(stdout);

    for (;;) {
        int signal = 0;
        sigwait(&signals, &signal);
        if (signal == SIGHUP) {
            ReopenLogFile();
            LogPrintf("Reopened debug.log on SIGHUP");
            continue;
        }
        LogPrintf("Shutdown requested ({}), stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    server.Stop();
    std::filesystem::remove(net / "run" / "orreryd.pid");
    if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6));
    LogPrintf("Shutdown done");
    ::close(lock_fd);
    return 0;
}

} // namespace orrery::supervisor
