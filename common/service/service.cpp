// Start-up and shutdown shared by the services; see service.h.
#include <common/service/service.h>

#include <common/interfaces/mock_clock_ipc.h>
#include <common/interfaces/roles.h>
#include <common/ipc/identity.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace orrery {
namespace {

void RemoveSocketFile(const std::string& endpoint)
{
    if (!endpoint.starts_with("ipc://")) return;
    std::error_code ec;
    std::filesystem::remove(endpoint.substr(6), ec);
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
    if (!ipc::AddIpcAllow(options.roles, m_args.GetArgs("ipcallow"), error)) throw std::runtime_error(error);
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
    void setMockTime(int64_t time) override
    {
        SetMockTime(time);
        LogPrintf("Mock time set to {} (from orreryd)", time);
    }
};

} // namespace

void ServiceProcess::Bind()
{
    // Every service follows the constellation's mock time (orreryd calls it; nobody else may).
    Server().Serve<interfaces::MockClock>(std::make_shared<MockClockImpl>(), interfaces::MOCK_CLOCK_CALLERS);
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
    return orrery::WaitForShutdown(m_signals);
}

void ServiceProcess::Stop()
{
    if (m_server) m_server->Stop();
    if (m_bound) RemoveSocketFile(m_endpoint);
    m_bound = false;
}

} // namespace orrery
