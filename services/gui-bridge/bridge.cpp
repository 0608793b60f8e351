// orrery-gui-bridge's start-up, request routing and shutdown; see bridge.h.
//
// The node and the wallet register their RPC methods on the bridge's IPC
// endpoint (RpcRouter, see router.h); each call goes to its owner.
// Routing as bitcoind's httprpc.cpp: a POST to "/" or "/wallet/<name>" is JSON-RPC,
// "/rest/..." REST with -rest (rest.h); a GET of "/" or "/gui/..." is the web GUI (gui.h) and of
// "/events" its live event stream (events.h); anything else is 404. A request without credentials
// gets 401 at once, one with wrong credentials after 250 ms.
#include <services/gui-bridge/bridge.h>

#include <services/gui-bridge/auth.h>
#include <services/gui-bridge/backends.h>
#include <services/gui-bridge/events.h>
#include <services/gui-bridge/gui.h>
#include <services/gui-bridge/http_server.h>
#include <services/gui-bridge/rest.h>
#include <services/gui-bridge/router.h>
#include <services/gui-bridge/zmq_notifier.h>

#include <common/consensus/params.h>
#include <common/interfaces/process_lookup.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/identity.h>
#include <common/rpc/json_rpc.h>
#include <common/service/service.h>
#include <common/util/host_port.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/options.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <unistd.h>

namespace orrery::bridge {
namespace {

constexpr std::string_view WWW_AUTH_HEADER = "Basic realm=\"jsonrpc\"";

http::Response Plain(int status, std::string body = "")
{
    http::Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

http::Response Unauthorized(const http::Request& request)
{
    http::Response response = Plain(401);
    // The web GUI asks without the challenge: with it, a browser would put up its own log-in box.
    if (!request.Header("x-requested-with")) {
        response.headers.emplace_back("WWW-Authenticate", std::string(WWW_AUTH_HEADER));
    }
    return response;
}

ipc::Options BackendOptions(const ArgsManager& args, std::vector<std::string> interfaces, std::string server_role)
{
    ipc::Options options;
    options.role = "gui-bridge";
    options.interfaces = std::move(interfaces);
    options.server_role = std::move(server_role);
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.connect_timeout = std::chrono::milliseconds(1000);
    options.max_message_size = static_cast<size_t>(args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
    return options;
}

std::filesystem::path CookiePath(const ArgsManager& args)
{
    std::filesystem::path path = args.GetArg("rpccookiefile", ".cookie");
    return path.is_relative() ? args.GetDataDirNet() / path : path;
}

} // namespace

void AddArgs(ArgsManager& args)
{
    AddOptions(args, PROCESS_GUI_BRIDGE);
    args.AddArg("-supervisorconnect=<endpoint>", "Where orreryd serves (default: run/supervisor.sock)");
    args.AddArg("-rpcrouterbind=<endpoint>",
                "Where the node and the wallet register their RPC methods (default: ipc://<net>/run/rpc-router.sock)",
                ARG_NETWORK_ONLY);
}

int Run(const ArgsManager& args)
{
    auto started = std::chrono::steady_clock::now();
    ServiceProcess process(args, "gui-bridge"); // threads started below inherit its signal mask

    // --- credentials
    rpc::Authenticator auth;
    std::filesystem::path cookie_path;
    if (args.GetArg("rpcpassword", "").empty()) {
        cookie_path = CookiePath(args);
        std::string password = rpc::RandomHexPassword();
        if (auto failure = rpc::WriteCookieFile(cookie_path, password)) {
            LogPrintf("Error: Unable to start HTTP server. See debug log for details. ({})", *failure);
            std::fprintf(stderr, "Error: cannot write the RPC cookie %s: %s\n", cookie_path.c_str(), failure->c_str());
            return 1;
        }
        auth.AddPassword(std::string(rpc::COOKIE_USER), password);
        LogPrintf("Generated RPC authentication cookie {}", cookie_path.string());
    } else {
        auth.AddPassword(args.GetArg("rpcuser", ""), args.GetArg("rpcpassword", ""));
    }
    for (const auto& spec : args.GetArgs("rpcauth")) {
        if (!auth.AddRpcAuth(spec)) {
            std::fprintf(stderr, "Error: Invalid -rpcauth argument.\n");
            if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
            return 1;
        }
    }

    // --- who may call what
    rpc::RpcWhitelist whitelist;
    for (const auto& spec : args.GetArgs("rpcwhitelist")) whitelist.Add(spec);
    whitelist.SetDefault(args.GetBoolArg("rpcwhitelistdefault", args.IsArgSet("rpcwhitelist")));
    rpc::AllowedNetworks allowed;
    for (const auto& subnet : args.GetArgs("rpcallowip")) {
        if (!allowed.Add(subnet)) {
            std::string message = "Invalid -rpcallowip subnet specification: " + subnet +
                                  ". Valid are a single IP (e.g. 1.2.3.4), a network/netmask (e.g. "
                                  "1.2.3.4/255.255.255.0) or a network/CIDR (e.g. 1.2.3.4/24).";
            LogPrintf("Error: {}", message);
            std::fprintf(stderr, "Error: %s\n", message.c_str());
            if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
            return 1;
        }
    }

    // --- ZMQ notifications: publishers bound now (a bad address stops the start, as bitcoind), fed once the
    // node answers.
    std::shared_ptr<zmq_notify::Notifier> notifier;
    try {
        auto topics = zmq_notify::ConfigFromArgs(args);
        if (!topics.empty()) notifier = std::make_shared<zmq_notify::Notifier>(std::move(topics));
    } catch (const std::exception& e) {
        LogPrintf("Error: Unable to start ZMQ notification interface: {}", e.what());
        std::fprintf(stderr, "Error: Unable to start ZMQ notification interface: %s\n", e.what());
        if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
        return 1;
    }

    // --- the router the services register with
    rpc::Backend supervisor("orreryd", args.GetArg("supervisorconnect", DefaultEndpoint(args, "supervisor")),
                            BackendOptions(args, {"supervisor"}, "orreryd"));
    rpc::RouterOptions router_options;
    if (args.GetBoolArg("disablewallet", false)) {
        router_options.awaited = {"node"};
        router_options.refused = {"wallet"};
    }
    router_options.started = started;
    router_options.supervisor = &supervisor;
    router_options.stop_self = [] { ::kill(::getpid(), SIGTERM); }; // the signal loop below stops us cleanly
    for (auto& method : GuiMethods(supervisor)) router_options.methods.push_back(std::move(method));
    router_options.methods.push_back(
        {"getzmqnotifications",
         "Zmq",
         {},
         "Lists the ZMQ notification topics this server publishes: type, address and send high-water mark of each.",
         [notifier](const rpc::CallRequest&) { return notifier ? notifier->Describe() : rpc::Json::array(); }});
    auto router = std::make_shared<rpc::Router>(router_options);
    router->SetCallObserver(
        [](const std::string& method) { LogDebug(LogCategory::RPC, "ThreadRPCServer method={}", method); });
    rpc::Executor execute = [&router](const std::string& method, const rpc::Json& params,
                                      const std::optional<std::string>& wallet) {
        return router->Execute(method, params, wallet);
    };

    // --- the GUI's live events, sampled from orreryd and the node while a browser listens
    EventSources sources;
    sources.processes = [&supervisor] { return ProcessInfo(supervisor); };
    sources.nettotals = [&router] {
        try {
            return router->Execute("getnettotals", rpc::Json::array(), std::nullopt);
        } catch (const rpc::RpcException& e) {
            if (e.code() != rpc::RPC_METHOD_NOT_FOUND) throw;
        }
        // No getnettotals in the node yet: the bytes of the peers connected now.
        rpc::Json totals{{"totalbytesrecv", 0}, {"totalbytessent", 0}};
        for (const auto& peer : router->Execute("getpeerinfo", rpc::Json::array(), std::nullopt)) {
            totals["totalbytesrecv"] = totals["totalbytesrecv"].get<int64_t>() + peer.value("bytesrecv", int64_t{0});
            totals["totalbytessent"] = totals["totalbytessent"].get<int64_t>() + peer.value("bytessent", int64_t{0});
        }
        return totals;
    };
    auto events = std::make_shared<EventHub>(EventHubOptions{}, std::move(sources));

    // --- HTTP
    http::ServerOptions options;
    auto port = static_cast<uint16_t>(args.GetIntArg("rpcport", GetChainParams(args.GetChain()).rpc_port));
    // As bitcoind: -rpcbind counts only with -rpcallowip (else loopback alone is served), and -rpcallowip
    // without -rpcbind listens on every IPv4 address.
    std::vector<std::string> binds = args.GetArgs("rpcbind");
    if (!args.IsArgSet("rpcallowip") && !binds.empty()) {
        LogPrintf("WARNING: option -rpcbind was ignored because -rpcallowip was not specified, refusing to allow "
                  "everyone to connect");
        binds.clear();
    }
    if (binds.empty()) binds.push_back(args.IsArgSet("rpcallowip") ? "0.0.0.0" : "127.0.0.1");
    for (const auto& bind : binds) {
        auto address = ParseHostPort(bind, port);
        if (!address) {
            std::fprintf(stderr, "Error: Invalid -rpcbind address '%s'\n", bind.c_str());
            if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
            return 1;
        }
        options.binds.emplace_back(address->host, address->port);
    }
    options.threads = static_cast<size_t>(std::max<int64_t>(1, args.GetIntArg("rpcthreads", 4)));
    options.work_queue = static_cast<size_t>(std::max<int64_t>(1, args.GetIntArg("rpcworkqueue", 16)));
    options.timeout = std::chrono::seconds(std::max<int64_t>(1, args.GetIntArg("rpcservertimeout", 30)));

    const bool rest_enabled = args.GetBoolArg("rest", false);
    const bool whitelisting = !whitelist.Empty() || args.GetBoolArg("rpcwhitelistdefault", false);
    //! The user the request's credentials name; nullopt when they are missing or wrong.
    auto authenticate = [&](const http::Request& request, const std::string& peer) -> std::optional<std::string> {
        auto authorization = request.Header("authorization");
        if (!authorization) return std::nullopt;
        std::string user;
        if (!auth.Check(*authorization, &user)) {
            LogPrintf("ThreadRPCServer incorrect password attempt from {}", peer);
            // Deters brute force, as bitcoind does; a worker waits, the I/O thread does not.
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            return std::nullopt;
        }
        return user;
    };
    auto handler = [&](const http::Request& request, const std::string& peer) -> http::Response {
        std::string_view path = request.target;
        if (!allowed.Allows(peer)) {
            LogDebug(LogCategory::RPC, "HTTP request from {} rejected: Client network is not allowed RPC access", peer);
            return Plain(403);
        }
        // REST needs no credentials, as bitcoind's; it answers from the node's RPC methods.
        if (rest_enabled && rest::IsRestPath(path)) return rest::Handle(request, execute);
        // The GUI's files hold nothing secret; what the pages show comes through JSON-RPC and /events.
        if (request.method != "POST" && IsGuiPath(path)) return ServeGuiFile(request);
        if (path == "/events") {
            if (request.method != "GET") return Plain(405);
            auto user = authenticate(request, peer);
            if (!user) return Unauthorized(request);
            EventHub::Allowed may = [&whitelist, whitelisting, name = *user](const std::string& method) {
                return !whitelisting || whitelist.Allowed(name, method);
            };
            http::Response response;
            response.stream = events->Subscribe(std::move(may));
            if (!response.stream) return Plain(503, "Too many event listeners\n");
            response.headers.emplace_back("Content-Type", "text/event-stream");
            response.headers.emplace_back("Cache-Control", "no-cache");
            return response;
        }
        std::optional<std::string> wallet_name;
        if (path.starts_with("/wallet/")) {
            wallet_name = http::PercentDecode(path.substr(8));
            if (!wallet_name) return Plain(400, "Invalid wallet name in URL\n");
        } else if (path != "/") {
            return Plain(404);
        }
        if (request.method != "POST") return Plain(405, "JSONRPC server handles only POST requests");
        auto authenticated = authenticate(request, peer);
        if (!authenticated) return Unauthorized(request);
        const std::string& user = *authenticated;
        LogDebug(LogCategory::RPC, "Received a POST request for {} from {} user={}", request.target, peer, user);
        if (whitelisting) {
            // Every method of the request (each of a batch) must be on the user's list before any runs.
            if (auto parsed = rpc::ParseJson(request.body)) {
                std::vector<const rpc::Json*> calls;
                if (parsed->is_array()) {
                    for (const auto& call : *parsed) calls.push_back(&call);
                } else {
                    calls.push_back(&*parsed);
                }
                for (const rpc::Json* call : calls) {
                    std::string method;
                    if (call->is_object() && call->contains("method") && (*call)["method"].is_string())
                        method = (*call)["method"].get<std::string>();
                    if (!whitelist.Allowed(user, method)) {
                        LogPrintf("RPC User {} not allowed to call method {}", user, method);
                        return Plain(403);
                    }
                }
            }
        }
        rpc::Reply reply = rpc::HandleBody(execute, request.body, wallet_name);
        http::Response response = Plain(reply.status, std::move(reply.body));
        if (reply.status != 204) response.headers.emplace_back("Content-Type", "application/json");
        return response;
    };
    http::Server server(options, handler);
    // -guiport: the same server (GUI, JSON-RPC, /events) on a second port of the same addresses.
    std::unique_ptr<http::Server> gui_server;
    if (args.IsArgSet("guiport")) {
        http::ServerOptions gui_options = options;
        for (auto& [host, bind_port] : gui_options.binds) {
            bind_port = static_cast<uint16_t>(args.GetIntArg("guiport", 0));
        }
        gui_server = std::make_unique<http::Server>(gui_options, handler);
    }
    try {
        server.Start();
        if (gui_server) gui_server->Start();
    } catch (const std::exception& e) {
        LogPrintf("Error: {}", e.what());
        std::fprintf(stderr, "Error: %s\n", e.what());
        server.Stop();
        if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
        return 1;
    }
    for (const auto& address : server.BoundAddresses()) LogPrintf("Binding RPC on address {}", address);
    if (gui_server) {
        for (const auto& address : gui_server->BoundAddresses()) LogPrintf("Web GUI also on http://{}/", address);
    }

    supervisor.Start();
    events->Start();
    // One Chain subscription feeds both the ZMQ topics and the GUI's events.
    std::vector<std::shared_ptr<interfaces::ChainListener>> chain_listeners{events};
    if (notifier) chain_listeners.insert(chain_listeners.begin(), notifier);
    auto follower = std::make_unique<zmq_notify::ChainFollower>(
        args.GetArg("ipcconnect", DefaultEndpoint(args, "node")), BackendOptions(args, {"chain"}, "node"),
        std::make_shared<ChainFanout>(std::move(chain_listeners)));
    follower->Start();

    // The services register their RPC methods on -rpcrouterbind from the start; -ipcbind (the
    // process's own endpoint) answers hello once RPC has left warm-up: orreryd's sign that the
    // constellation is up.
    ipc::Options ipc_options;
    try {
        ipc_options = process.IpcOptions();
    } catch (const std::exception& e) {
        events->Stop();
        server.Stop();
        if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
        return process.Fail(e.what());
    }
    // Under orreryd a process it started may register only as what it was started as.
    std::shared_ptr<interfaces::OrrerydProcesses> processes;
    if (args.IsArgSet("supervisorconnect")) {
        processes = std::make_shared<interfaces::OrrerydProcesses>(args.GetArg("supervisorconnect", ""), ipc_options);
        ipc_options.roles.SetProcessLookup(processes->Lookup());
    }
    ipc::Server router_server(ipc_options);
    router_server.Serve<interfaces::RpcRouter>(router, interfaces::RPC_ROUTER_CALLERS);
    std::string router_endpoint = args.GetArg("rpcrouterbind", DefaultEndpoint(args, "rpc-router"));
    if (router_endpoint.starts_with("ipc://")) std::filesystem::remove(router_endpoint.substr(6)); // a dead run's
    process.MakeServer(ipc_options);
    try {
        router_server.Bind(router_endpoint);
    } catch (const std::exception& e) {
        events->Stop();
        server.Stop();
        if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
        return process.Fail(e.what());
    }
    LogPrintf("gui-bridge ready: JSON-RPC on {}, RPC router on {}", server.BoundAddresses().front(),
              router_server.Endpoint());
    std::thread readiness([&] {
        if (!router->WaitUntilWarm()) return;
        try {
            process.Bind();
            LogPrintf("RPC serving normally; endpoint {}", process.Endpoint());
        } catch (const std::exception& e) {
            LogPrintf("Error: {}", e.what());
            ::kill(::getpid(), SIGTERM);
        }
    });

    process.WaitForShutdown();
    router->CancelWait();
    readiness.join();
    events->Stop(); // ends the event streams, so the servers' connections close at once
    if (gui_server) gui_server->Stop();
    server.Stop();
    process.Stop();
    router_server.Stop();
    if (processes) processes->Stop();
    if (router_endpoint.starts_with("ipc://")) std::filesystem::remove(router_endpoint.substr(6));
    supervisor.Stop();
    follower->Stop();
    if (!cookie_path.empty()) std::filesystem::remove(cookie_path);
    LogPrintf("Shutdown done");
    return 0;
}

} // namespace orrery::bridge
