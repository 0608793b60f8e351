// A service's side of RPC routing: it offers the service's table of RPC
// methods to the gui-bridge. RouterLink connects to the bridge's RpcRouter in
// the background (the bridge may start later, or restart), registers the
// table, and answers the calls the bridge routes to it (RpcHost) on that same
// connection. After a reconnection the IPC layer registers the table again by
// itself, so a restarted bridge learns the methods without any help.
#ifndef ORRERY_COMMON_RPC_ROUTER_LINK_H
#define ORRERY_COMMON_RPC_ROUTER_LINK_H

#include <common/interfaces/rpc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/json_rpc.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace orrery::rpc {

//! The wire description of a table: names, categories, help and parameters, no handlers.
interfaces::RpcTableInfo DescribeTable(const std::string& service, const Table& table);

//! Runs calls routed to this service against its table. Thread-safe (the table is immutable).
class TableHost final : public interfaces::RpcHost
{
public:
    explicit TableHost(std::shared_ptr<const Table> table) : m_table(std::move(table)) {}
    std::string call(std::string method, std::string params, std::optional<std::string> wallet) override;

private:
    std::shared_ptr<const Table> m_table;
};

class RouterLink
{
public:
    //! `service` names the table ("node", "wallet"); `options.role` is this process's role.
    RouterLink(std::string service, std::shared_ptr<const Table> table, std::string endpoint, ipc::Options options);
    ~RouterLink();
    RouterLink(const RouterLink&) = delete;
    RouterLink& operator=(const RouterLink&) = delete;

    //! Starts connecting and registering in the background; returns at once.
    void Start(std::chrono::milliseconds retry = std::chrono::milliseconds(100));
    //! Withdraws the table and closes the connection. Idempotent.
    void Stop();
    //! The table is registered (it may be renewing after a reconnection).
    bool Registered() const;

private:
    void Run(std::chrono::milliseconds retry);

    const std::string m_service;
    const std::string m_endpoint;
    const interfaces::RpcTableInfo m_info;
    const std::shared_ptr<TableHost> m_host;
    ipc::Client m_client;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping{false};                            // guarded by m_mutex
    std::unique_ptr<ipc::Subscription> m_registration; // guarded by m_mutex
    std::thread m_thread;
};

} // namespace orrery::rpc

#endif // ORRERY_COMMON_RPC_ROUTER_LINK_H
