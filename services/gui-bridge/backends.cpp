// Background connection of the bridge's backends; see backends.h.
#include <services/gui-bridge/backends.h>

#include <common/util/logging.h>

namespace orrery::rpc {

RpcException TranslateIpcError(const ipc::Error& error, const std::string& service)
{
    auto code = static_cast<int32_t>(error.code());
    switch (error.code()) {
    case ipc::ErrorCode::DISCONNECTED:
        return RpcException(RPC_IN_WARMUP, "The " + service + " service is not reachable: " + error.what());
    case ipc::ErrorCode::REMOTE_EXCEPTION:
        // A plain exception in the service: bitcoind gives a runtime_error RPC_MISC_ERROR.
        return RpcException(RPC_MISC_ERROR, error.what());
    default:
        break;
    }
    // The IPC layer's own codes live in -32768..-32000; anything else is an RPC code a service chose.
    if (code <= -32000 && code >= -32768) {
        return RpcException(RPC_MISC_ERROR,
                            service + " service: " + ipc::ErrorCodeName(error.code()) + ": " + error.what());
    }
    return RpcException(code, error.what());
}

Backend::Backend(std::string service, std::string endpoint, ipc::Options options)
    : m_service(std::move(service)), m_endpoint(std::move(endpoint)), m_client(std::move(options))
{
}

Backend::~Backend()
{
    Stop();
}

void Backend::Start(std::chrono::milliseconds retry)
{
    m_thread = std::thread([this, retry] { ConnectLoop(retry); });
}

void Backend::ConnectLoop(std::chrono::milliseconds retry)
{
    bool logged = false;
    for (;;) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
        }
        try {
            auto connection = m_client.Connect(m_endpoint);
            std::lock_guard lock(m_mutex);
            m_connection = std::move(connection);
            LogPrintf("Connected to the {} service at {}", m_service, m_endpoint);
            return;
        } catch (const std::exception& e) {
            std::lock_guard lock(m_mutex);
            m_last_error = e.what();
            if (!logged) LogPrintf("Waiting for the {} service at {} ({})", m_service, m_endpoint, e.what());
            logged = true;
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, retry, [&] { return m_stopping; });
    }
}

void Backend::Stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
    m_client.Stop();
    std::lock_guard lock(m_mutex);
    m_connection.reset();
}

std::shared_ptr<ipc::Connection> Backend::Connection() const
{
    std::lock_guard lock(m_mutex);
    return m_connection;
}

RpcException Backend::Unreachable() const
{
    std::lock_guard lock(m_mutex);
    std::string reason = m_connection ? "connection lost, reconnecting" : m_last_error;
    return RpcException(RPC_IN_WARMUP,
                        "The " + m_service + " service is not reachable at " + m_endpoint + " (" + reason + ")");
}

} // namespace orrery::rpc
