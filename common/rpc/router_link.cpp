// A service's registration with the gui-bridge; see router_link.h.
#include <common/rpc/router_link.h>

#include <common/interfaces/roles.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/util/logging.h>

#include <algorithm>

namespace orrery::rpc {

interfaces::RpcTableInfo DescribeTable(const std::string& service, const Table& table)
{
    interfaces::RpcTableInfo info;
    info.service = service;
    for (const Method* method : table.Methods()) {
        interfaces::RpcMethodInfo entry{method->name, method->category, method->description, {}};
        for (const Param& param : method->params) {
            entry.params.push_back({param.name, std::string(ParamTypeName(param.type)), param.required, param.help});
        }
        info.methods.push_back(std::move(entry));
    }
    return info;
}

std::string TableHost::call(std::string method, std::string params, std::optional<std::string> wallet)
{
    std::optional<Json> parsed = ParseJson(params);
    if (!parsed || !(parsed->is_array() || parsed->is_object())) {
        throw RpcException(RPC_INVALID_REQUEST, "Params must be an array or object");
    }
    Json result = m_table->Execute(method, *parsed, wallet);
    // Amounts as raw numbers; strings from peers (a subversion) may be invalid UTF-8: replaced, never thrown.
    return WriteJson(result);
}

namespace {

//! Stop waits for a Connect in progress: keep each attempt short (ZeroMQ retries within it anyway).
ipc::Options WithShortConnect(ipc::Options options)
{
    options.connect_timeout = std::min(options.connect_timeout, std::chrono::milliseconds(500));
    return options;
}

//! A bridge that answered but refused the table (-disablewallet, a clash) is asked again only now and then.
constexpr auto REFUSED_RETRY = std::chrono::seconds(10);

} // namespace

RouterLink::RouterLink(std::string service, std::shared_ptr<const Table> table, std::string endpoint,
                       ipc::Options options)
    : m_service(std::move(service)), m_endpoint(std::move(endpoint)), m_info(DescribeTable(m_service, *table)),
      m_host(std::make_shared<TableHost>(std::move(table))), m_client(WithShortConnect(std::move(options)))
{
    // Only the bridge routes calls here: the role that runs the HTTP server and checks its credentials.
    m_client.Serve<interfaces::RpcHost>(m_host, interfaces::RPC_HOST_CALLERS);
}

RouterLink::~RouterLink()
{
    Stop();
}

void RouterLink::Start(std::chrono::milliseconds retry)
{
    m_thread = std::thread([this, retry] { Run(retry); });
}

void RouterLink::Stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
    std::unique_ptr<ipc::Subscription> registration;
    {
        std::lock_guard lock(m_mutex);
        registration = std::move(m_registration);
    }
    registration.reset(); // tells the bridge the methods are gone, if it is there
    m_client.Stop();
}

bool RouterLink::Registered() const
{
    std::lock_guard lock(m_mutex);
    return m_registration != nullptr;
}

void RouterLink::Run(std::chrono::milliseconds retry)
{
    std::shared_ptr<ipc::Connection> connection;
    std::string last_failure;
    for (;;) {
        auto wait = retry;
        try {
            if (!connection) connection = m_client.Connect(m_endpoint);
            auto router = ipc::MakeProxy<interfaces::RpcRouter>(connection);
            auto registration = router->registerTable(m_info, m_host);
            std::lock_guard lock(m_mutex);
            m_registration = std::move(registration);
            LogPrintf("RPC methods of the {} ({}) offered to the gui-bridge at {}", m_service, m_info.methods.size(),
                      m_endpoint);
            return; // from here the IPC client renews the registration after each reconnection
        } catch (const ipc::Error& e) {
            if (e.what() != last_failure) {
                LogPrintf("Waiting for the gui-bridge at {} to offer the {}'s RPC methods ({})", m_endpoint, m_service,
                          e.what());
                last_failure = e.what();
            }
            if (connection && e.code() != ipc::ErrorCode::DISCONNECTED) wait = REFUSED_RETRY;
        } catch (const std::exception& e) {
            LogPrintf("Cannot offer the {}'s RPC methods to the gui-bridge at {}: {}", m_service, m_endpoint, e.what());
            wait = REFUSED_RETRY;
        }
        std::unique_lock lock(m_mutex);
        if (m_cv.wait_for(lock, wait, [&] { return m_stopping; })) return;
    }
}

} // namespace orrery::rpc
