// RpcRouter: served by orrery-gui-bridge to the services that own RPC methods
// (the node, the wallet). Each registers the table of its methods; the bridge
// answers HTTP, authentication, batches and help, and routes every call to the
// owner through RpcHost, which the service serves back on the same connection.
// Requests and results cross as JSON text: the IPC layer has no JSON type.
#ifndef ORRERY_COMMON_INTERFACES_RPC_H
#define ORRERY_COMMON_INTERFACES_RPC_H

#include <common/ipc/serialize.h>
#include <common/ipc/subscription.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! One parameter as help shows it and named arguments find it.
struct RpcParamInfo {
    std::string name;
    std::string type; //!< "string", "number", "bool", "object", "array", "any"
    bool required{false};
    std::string help;
    ORRERY_FIELDS(name, type, required, help)
};

struct RpcMethodInfo {
    std::string name;
    std::string category; //!< help's "== Category ==" section: "Blockchain", "Network", "Wallet", ...
    std::string description;
    std::vector<RpcParamInfo> params;
    ORRERY_FIELDS(name, category, description, params)
};

//! What a service offers: its name ("node", "wallet") and its methods.
struct RpcTableInfo {
    std::string service;
    std::vector<RpcMethodInfo> methods;
    ORRERY_FIELDS(service, methods)
};

class RpcHost
{
public:
    virtual ~RpcHost() = default;
    //! Runs one call of the service's table. `params` is the request's params as JSON text (an array, or an
    //! object of named arguments); `wallet` the name in a /wallet/<name> URL. Returns the result as JSON text.
    //! Fails with bitcoind's RPC error code and message (rpc::RpcException crosses with its code).
    virtual std::string call(std::string method, std::string params, std::optional<std::string> wallet) = 0;
};

class RpcRouter
{
public:
    virtual ~RpcRouter() = default;
    //! Offers `table`'s methods to RPC clients, answered by `host`, which the caller serves on this
    //! connection. They stay offered until the handle is dropped or either side goes away; the caller's
    //! IPC client registers again by itself after a reconnection (a restarted bridge). A service that
    //! registers again replaces its previous table.
    virtual std::unique_ptr<ipc::Subscription> registerTable(RpcTableInfo table, std::shared_ptr<RpcHost> host) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_RPC_H
