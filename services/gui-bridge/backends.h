// The gui-bridge's link to orreryd, which its stop method asks to stop the
// constellation. A Backend makes its ipc::Client once and connects it in the
// background until the service answers; from then on the IPC layer reconnects
// by itself across restarts. A call while the service is away fails at once
// with RPC_IN_WARMUP, which bitcoin-cli -rpcwait treats as "try again". (The
// node and the wallet come the other way: they register with the router.)
#ifndef ORRERY_SERVICES_GUI_BRIDGE_BACKENDS_H
#define ORRERY_SERVICES_GUI_BRIDGE_BACKENDS_H

#include <common/rpc/json_rpc.h>

#include <common/ipc/connection.h>
#include <common/ipc/dispatcher.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/error.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace orrery::rpc {

//! An IPC failure as the RPC caller sees it: the service's own RPC codes
//! (rpc::RpcException) unchanged, a lost service as RPC_IN_WARMUP, the rest RPC_MISC_ERROR.
RpcException TranslateIpcError(const ipc::Error& error, const std::string& service);

class Backend
{
public:
    //! `service` names it in messages ("node"); `options.interfaces` are those it must serve.
    Backend(std::string service, std::string endpoint, ipc::Options options);
    ~Backend();
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;

    //! Starts connecting in the background (retrying every `retry`) and returns at once.
    void Start(std::chrono::milliseconds retry = std::chrono::milliseconds(500));
    void Stop();
    //! The connection once the first hello succeeded; nullptr before.
    std::shared_ptr<ipc::Connection> Connection() const;
    const std::string& Endpoint() const { return m_endpoint; }

    //! Runs `f` with a proxy of interface I; IPC errors become RpcException.
    template <typename I, typename F> auto Use(F&& f)
    {
        auto connection = Connection();
        if (!connection || !connection->IsConnected()) throw Unreachable();
        auto proxy = ipc::MakeProxy<I>(connection);
        try {
            return f(*proxy);
        } catch (const ipc::Error& e) {
            throw TranslateIpcError(e, m_service);
        }
    }

private:
    RpcException Unreachable() const;
    void ConnectLoop(std::chrono::milliseconds retry);

    std::string m_service;
    std::string m_endpoint;
    ipc::Client m_client;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::shared_ptr<ipc::Connection> m_connection;
    std::string m_last_error{"not connected yet"};
    bool m_stopping{false};
    std::thread m_thread;
};

} // namespace orrery::rpc

#endif // ORRERY_SERVICES_GUI_BRIDGE_BACKENDS_H
