// Start-up and shutdown shared by the services; see service.h.
#include <common/service/service.h>

#include <common/service/systemd_notify.h>

#include <common/interfaces/link_report_ipc.h>
#include <common/interfaces/mock_clock_ipc.h>
#include <common/interfaces/roles.h>
#include <common/ipc/identity.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace orrery {
namespace {

void RemoveSocketFile(const std::string& endpoint)
{
    if (!endpoint.starts_with("ipc://")) return;
    std::error_code ec;
    std::filesystem::remove(endpoint.substr(6), ec);
}

//! -ipcallow=<role>:<user>: a user name (as systemd units and containers know their users) is
//! turned into its uid here, once at start; a number passes as it is.
std::vector<std::string> ResolveIpcAllowUsers(std::vector<std::string> grants)
{
    for (std::string& grant : grants) {
        const size_t colon = grant.rfind(':');
        if (colon == std::string::npos) continue; // AddIpcAllow explains the form
        const std::string who = grant.substr(colon + 1);
        if (who.empty() || std::all_of(who.begin(), who.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
        passwd entry{};
        passwd* found = nullptr;
        std::vector<char> buffer(16384);
        if (getpwnam_r(who.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
            throw std::runtime_error(fmt::format("-ipcallow={}: no user named '{}' on this host", grant, who));
        }
        grant = grant.substr(0, colon + 1) + std::to_string(found->pw_uid);
    }
    return grants;
}

} // namespace

ServiceProcess::ServiceProcess(const ArgsManager& args, std::string role)
    : m_args(args), m_role(std::move(role)), m_endpoint(args.GetArg("ipcbind", DefaultEndpoint(args, m_role)))
{
    sigemptyset(&m_signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&m_signals, s);
    pthread_sigmask(SIG_BLOCK, &m_signals, nullptr);
    // -mocktime: the clock starts pinned; orreryd moves it later through MockClock (setmocktime).
    if (const int64_t mock = args.GetIntArg("mocktime", 0); mock > 0) SetMockTime(mock);
}

ServiceProcess::~ServiceProcess()
{
    Stop();
}

ipc::Options ServiceProcess::IpcOptions() const
{
    ipc::Options options;
    options.role = m_role;
    options.keys_dir = m_args.GetDataDirNet() / "keys";
    options.max_message_size =
        static_cast<size_t>(m_args.GetIntArg("ipcmaxmessagesize", static_cast<int64_t>(ipc::DEFAULT_MAX_MESSAGE_SIZE)));
    std::string error;
    if (!ipc::AddIpcAllow(options.roles, ResolveIpcAllowUsers(m_args.GetArgs("ipcallow")), error))
        throw std::runtime_error(error);
    return options;
}

ipc::Server& ServiceProcess::MakeServer(ipc::Options options)
{
    m_server = std::make_unique<ipc::Server>(std::move(options));
    return *m_server;
}

ipc::Server& ServiceProcess::Server()
{
    if (!m_server) MakeServer(IpcOptions());
    return *m_server;
}

namespace {

//! Follows orreryd's setmocktime.
class MockClockImpl final : public interfaces::MockClock
{
public:
    explicit MockClockImpl(bool regtest) : m_regtest(regtest) {}
    void setMockTime(int64_t time) override
    {
        // As bitcoind's setmocktime: regtest only. Elsewhere the orreryd role may belong to a
        // socket-activated agent's admission key (deploy/), which has no business with the clock.
        if (!m_regtest) throw std::runtime_error("setmocktime is for regression testing (-regtest mode) only");
        SetMockTime(time);
        LogPrintf("Mock time set to {} (from orreryd)", time);
    }

private:
    const bool m_regtest;
};

//! This process's IPC links, for orreryd.
class LinkReportImpl final : public interfaces::LinkReport
{
public:
    std::vector<ipc::LinkFigures> links() override { return ipc::LinkStats(); }
};

} // namespace

void ServiceProcess::Bind()
{
    // Every service follows the constellation's mock time (orreryd calls it; nobody else may).
    Server().Serve<interfaces::MockClock>(std::make_shared<MockClockImpl>(m_args.GetChain() == "regtest"),
                                          interfaces::MOCK_CLOCK_CALLERS);
    // And reports its IPC links to orreryd (the constellation page's calls/s and latency).
    Server().Serve<interfaces::LinkReport>(std::make_shared<LinkReportImpl>(), interfaces::LINK_REPORT_CALLERS);
    RemoveSocketFile(m_endpoint); // a killed run's socket: binding over it would fail
    Server().Bind(m_endpoint);
    m_endpoint = Server().Endpoint();
    m_bound = true;
}

int ServiceProcess::Fail(const std::string& message) const
{
    LogPrintf("Error: {}", message);
    std::fprintf(stderr, "Error: %s\n", message.c_str());
    return 1;
}

int ServiceProcess::WaitForShutdown()
{
    // Everything the service set up before this call is serving: tell systemd (a no-op elsewhere).
    NotifyServiceManager(fmt::format("READY=1\nSTATUS={} serving on {}", m_role, m_endpoint));
    const auto watchdog = WatchdogInterval();
    if (!watchdog) {
        const int signal = orrery::WaitForShutdown(m_signals);
        NotifyServiceManager("STOPPING=1");
        return signal;
    }
    // The watchdog is fed from this thread, between signals, so a main thread that is stuck starves it.
    LogPrintf("systemd watchdog: WATCHDOG=1 every {} ms", watchdog->count() / 1000);
    NotifyServiceManager("WATCHDOG=1");
    const timespec period{static_cast<time_t>(watchdog->count() / 1000000),
                          static_cast<long>(watchdog->count() % 1000000 * 1000)};
    int signal = 0;
    for (;;) {
        signal = sigtimedwait(&m_signals, nullptr, &period);
        if (signal < 0) {
            if (errno == EAGAIN) NotifyServiceManager("WATCHDOG=1");
            continue; // EAGAIN: the period passed; EINTR: try again
        }
        if (signal != SIGHUP) break;
        ReopenLogFile();
        LogPrintf("Reopened debug.log on SIGHUP");
    }
    LogPrintf("Shutdown requested ({}), stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    NotifyServiceManager("STOPPING=1");
    return signal;
}

void ServiceProcess::Stop()
{
    if (m_server) m_server->Stop();
    if (m_bound) RemoveSocketFile(m_endpoint);
    m_bound = false;
}

} // namespace orrery
