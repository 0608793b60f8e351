// The gui-bridge's RPC router; see router.h.
#include <services/gui-bridge/router.h>

#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/subscription.h>
#include <common/util/logging.h>
#include <common/util/text.h>

#include <algorithm>
#include <thread>

namespace orrery::rpc {

RpcException ServiceDownError(const std::string& service)
{
    if (service == "wallet") {
        return RpcException(RPC_WALLET_NOT_FOUND,
                            "No wallet is loaded: the wallet service is not reachable (stopped, or restarting)");
    }
    return RpcException(RPC_IN_WARMUP,
                        "The " + service + " service is not reachable (stopped, or restarting); try again");
}

Router::Router(RouterOptions options) : m_options(std::move(options))
{
    m_warm = m_options.awaited.empty();
    std::lock_guard lock(m_mutex);
    RebuildLocked();
}

// ---------------------------------------------------------------- registrations

std::unique_ptr<ipc::Subscription> Router::registerTable(interfaces::RpcTableInfo table,
                                                         std::shared_ptr<interfaces::RpcHost> host)
{
    const std::string service = table.service;
    if (service.empty()) throw RpcException(RPC_INVALID_PARAMETER, "A table needs the name of its service");
    if (std::find(m_options.refused.begin(), m_options.refused.end(), service) != m_options.refused.end()) {
        LogPrintf("Refused the RPC methods of the {} service: disabled here (-disable{})", service, service);
        throw RpcException(RPC_MISC_ERROR,
                           "The gui-bridge runs with -disable" + service + ": its methods are not offered");
    }
    uint64_t generation = 0;
    bool warmed = false;
    {
        std::lock_guard lock(m_mutex);
        // A method belongs to one service: a clash is the newcomer's error, the table in place stays.
        for (const auto& method : table.methods) {
            bool taken = IsOwnMethod(method.name);
            for (const auto& [name, other] : m_services) {
                if (name == service) continue;
                taken = taken || std::any_of(other.info.methods.begin(), other.info.methods.end(),
                                             [&](const auto& m) { return m.name == method.name; });
            }
            if (taken) {
                throw RpcException(RPC_INVALID_PARAMETER,
                                   "RPC method " + method.name + " of the " + service + " service is already offered");
            }
        }
        generation = m_next_generation++;
        m_services[service] = Service{std::move(table), std::move(host), generation};
        RebuildLocked();
        if (!m_warm) {
            m_warm = std::all_of(m_options.awaited.begin(), m_options.awaited.end(),
                                 [&](const std::string& name) { return m_services.count(name) > 0; });
            warmed = m_warm;
        }
        LogPrintf("Connected to the {} service: {} RPC methods registered", service,
                  m_services[service].info.methods.size());
    }
    if (warmed) {
        LogPrintf("RPC warm-up done: every service has registered its methods");
        m_warm_cv.notify_all();
    }
    std::weak_ptr<Router> weak = weak_from_this();
    return std::make_unique<ipc::CallbackSubscription>([weak, service, generation] {
        if (auto router = weak.lock()) router->Unregister(service, generation);
    });
}

void Router::Unregister(const std::string& service, uint64_t generation)
{
    std::lock_guard lock(m_mutex);
    auto it = m_services.find(service);
    // A service that registered again (restarted) before its old connection was noticed gone keeps the new host.
    if (it == m_services.end() || it->second.generation != generation) return;
    it->second.host.reset(); // its methods stay listed, and answer ServiceDownError until it is back
    LogPrintf("The {} service went away: its RPC methods answer \"{}\" until it registers again", service,
              ServiceDownError(service).what());
}

bool Router::InWarmup() const
{
    std::lock_guard lock(m_mutex);
    return !m_warm;
}

bool Router::WaitUntilWarm()
{
    std::unique_lock lock(m_mutex);
    m_warm_cv.wait(lock, [&] { return m_warm || m_cancel_wait; });
    return m_warm;
}

void Router::CancelWait()
{
    {
        std::lock_guard lock(m_mutex);
        m_cancel_wait = true;
    }
    m_warm_cv.notify_all();
}

std::string Router::WarmupMessageLocked() const
{
    std::vector<std::string> missing;
    for (const auto& name : m_options.awaited) {
        if (!m_services.count(name)) missing.push_back(name);
    }
    return "Loading\u2026 waiting for the " + Join(missing, " and ") + " to start";
}

// ---------------------------------------------------------------- calls

Json Router::Execute(const std::string& method, const Json& params, const std::optional<std::string>& wallet)
{
    if (m_observer) m_observer(method);
    std::shared_ptr<const Table> table;
    {
        std::lock_guard lock(m_mutex);
        table = m_table;
        // As bitcoind during its start: every method waits, but the bridge's own answer at once.
        if (!m_warm && method != "help" && method != "uptime" && method != "stop") {
            throw RpcException(RPC_IN_WARMUP, WarmupMessageLocked());
        }
    }
    return table->Execute(method, params, wallet);
}

std::string Router::Help(const std::string& command) const
{
    std::shared_ptr<const Table> table;
    {
        std::lock_guard lock(m_mutex);
        table = m_table;
    }
    return table->Help(command);
}

Json Router::Route(const std::string& service, const std::string& method, const CallRequest& call) const
{
    std::shared_ptr<interfaces::RpcHost> host;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_services.find(service); it != m_services.end()) host = it->second.host;
    }
    if (!host) throw ServiceDownError(service);
    std::string result;
    try {
        result = host->call(method, call.params.dump(-1, ' ', false, Json::error_handler_t::replace), call.wallet);
    } catch (const ipc::Error& e) {
        auto code = static_cast<int32_t>(e.code());
        if (e.code() == ipc::ErrorCode::DISCONNECTED) throw ServiceDownError(service);
        // The IPC layer's own codes (-32000..-32099) are not RPC codes: the service could not run the call.
        if (code <= -32000 && code >= -32099) {
            throw RpcException(RPC_MISC_ERROR, service + " service: " + ipc::ErrorCodeName(e.code()) + ": " + e.what());
        }
        throw RpcException(code, e.what()); // the service's own RPC error, unchanged
    }
    // Keep each number's text, so that an amount reaches the client as the service wrote it ("50.00000000").
    std::optional<Json> parsed = ParseJson(result, NumberText::KEEP);
    if (!parsed)
        throw RpcException(RPC_INTERNAL_ERROR, "The " + service + " service answered " + method + " with invalid JSON");
    return std::move(*parsed);
}

// ---------------------------------------------------------------- the merged table

bool Router::IsOwnMethod(const std::string& name) const
{
    if (name == "help" || name == "uptime" || name == "stop") return true;
    return std::any_of(m_options.methods.begin(), m_options.methods.end(),
                       [&](const Method& method) { return method.name == name; });
}

void Router::AddOwnMethods(Table& table)
{
    for (const auto& method : m_options.methods) table.Add(method);
    table.Add({"help",
               "Control",
               {Optional("command", ParamType::STRING, "A method to explain")},
               "Lists every method of every service by category, or explains one method.",
               [this](const CallRequest& call) { return Json(Help(StringArg(call.Arg(0)))); }});
    auto started = m_options.started;
    table.Add(
        {"uptime", "Control", {}, "Gives the seconds since the RPC server started.", [started](const CallRequest&) {
             return Json(
                 std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
         }});
    Backend* supervisor = m_options.supervisor;
    auto stop_self = m_options.stop_self;
    table.Add(
        {"stop",
         "Control",
         {Optional("wait", ParamType::NUMBER,
                   "Milliseconds to wait before answering, once the shutdown has begun (for tests, as bitcoind)")},
         "Stops Orrery cleanly: every process under orreryd, or this RPC server when it runs alone.",
         [supervisor, stop_self](const CallRequest& call) {
             int64_t wait = call.Arg(0).is_null() ? 0 : IntegerArg(call.Arg(0));
             // orreryd stops every process in order, the bridge among them; without it, the bridge stops alone.
             bool asked = false;
             if (supervisor && supervisor->Connection() && supervisor->Connection()->IsConnected()) {
                 try {
                     supervisor->Use<interfaces::Supervisor>([](interfaces::Supervisor& s) { s.stop(); });
                     asked = true;
                 } catch (const RpcException&) {
                 }
             }
             if (!asked && stop_self) stop_self();
             // The HTTP server lets this request finish before it closes (its stop grace).
             if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(wait, 60000)));
             return Json("Orrery stopping");
         }});
}

void Router::RebuildLocked()
{
    auto table = std::make_shared<Table>();
    AddOwnMethods(*table);
    for (const auto& [service, entry] : m_services) {
        for (const auto& info : entry.info.methods) {
            Method method;
            method.name = info.name;
            method.category = info.category;
            method.description = info.description;
            for (const auto& param : info.params) {
                method.params.push_back(
                    {param.name, ParamTypeFromName(param.type).value_or(ParamType::ANY), param.required, param.help});
            }
            std::string owner = service;
            std::string name = info.name;
            method.handler = [this, owner, name](const CallRequest& call) { return Route(owner, name, call); };
            table->Add(std::move(method));
        }
    }
    m_table = std::move(table);
}

} // namespace orrery::rpc
