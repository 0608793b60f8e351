// The gui-bridge's RPC router. The node and the wallet register the tables of
// their RPC methods here (RpcRouter, over IPC); the router keeps one merged
// table of every method, its own (help, uptime, stop) included, and sends each
// call to the service that owns the method (RpcHost, over the connection that
// service registered on). It also says when to answer bitcoind's warm-up
// error, and what a call to a service that is down answers.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_ROUTER_H
#define ORRERY_SERVICES_GUI_BRIDGE_ROUTER_H

#include <services/gui-bridge/backends.h>

#include <common/interfaces/rpc.h>
#include <common/rpc/json_rpc.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace orrery::rpc {

struct RouterOptions {
    //! The services whose methods the RPC port waits for before it leaves warm-up ("node", "wallet").
    std::vector<std::string> awaited{"node", "wallet"};
    //! Services refused when they try to register (-disablewallet: "wallet").
    std::vector<std::string> refused;
    std::chrono::steady_clock::time_point started{std::chrono::steady_clock::now()};
    //! orreryd, for stop; nullptr or unreachable: stop_self.
    Backend* supervisor{nullptr};
    //! Stops this bridge (the stop method when orreryd is not there). Must return at once.
    std::function<void()> stop_self;
    //! More methods the bridge answers itself (getzmqnotifications), beside help, uptime and stop.
    std::vector<Method> methods;
};

//! What a call answers when the service owning its method is not connected: the node's methods
//! RPC_IN_WARMUP (clients such as bitcoin-cli -rpcwait try again), the wallet's RPC_WALLET_NOT_FOUND
//! (as bitcoind answers when no wallet is loaded), any other service's RPC_IN_WARMUP.
RpcException ServiceDownError(const std::string& service);

//! Thread-safe: registrations arrive on IPC threads, calls on HTTP workers. No lock is held while
//! a service runs a call.
class Router final : public interfaces::RpcRouter, public std::enable_shared_from_this<Router>
{
public:
    explicit Router(RouterOptions options);

    // RpcRouter
    std::unique_ptr<ipc::Subscription> registerTable(interfaces::RpcTableInfo table,
                                                     std::shared_ptr<interfaces::RpcHost> host) override;

    //! Runs one call: bitcoind's warm-up error while a service is awaited (the bridge's own methods
    //! answer at once), RPC_METHOD_NOT_FOUND for a method no service registered, else the owner's answer.
    Json Execute(const std::string& method, const Json& params, const std::optional<std::string>& wallet);
    //! help's text over every method of every service, grouped by category.
    std::string Help(const std::string& command) const;
    //! True until every awaited service has registered once.
    bool InWarmup() const;
    //! Blocks until warm-up is over (true) or CancelWait was called (false).
    bool WaitUntilWarm();
    void CancelWait();
    //! Called with every method name before it runs (found or not); for -debug=rpc. Set before serving.
    void SetCallObserver(std::function<void(const std::string& method)> observer) { m_observer = std::move(observer); }

private:
    struct Service {
        interfaces::RpcTableInfo info;
        std::shared_ptr<interfaces::RpcHost> host; //!< nullptr while the service is away
        uint64_t generation{0};
    };

    //! Rebuilds m_table from the bridge's methods and the services' tables. m_mutex held.
    void RebuildLocked();
    void Unregister(const std::string& service, uint64_t generation);
    Json Route(const std::string& service, const std::string& method, const CallRequest& call) const;
    std::string WarmupMessageLocked() const;
    void AddOwnMethods(Table& table);
    //! A method the bridge answers itself: no service may register it.
    bool IsOwnMethod(const std::string& name) const;

    const RouterOptions m_options;
    std::function<void(const std::string&)> m_observer;
    mutable std::mutex m_mutex;
    std::map<std::string, Service> m_services; // guarded by m_mutex
    std::shared_ptr<const Table> m_table;      // guarded by m_mutex; replaced whole, never changed
    uint64_t m_next_generation{1};             // guarded by m_mutex
    bool m_warm{false};                        // guarded by m_mutex
    bool m_cancel_wait{false};                 // guarded by m_mutex
    std::condition_variable m_warm_cv;
};

} // namespace orrery::rpc

#endif // ORRERY_SERVICES_GUI_BRIDGE_ROUTER_H
