// services/gui-bridge/router: services register their tables with the router
// over real IPC (inproc), each through its own RouterLink, and the router
// routes calls, answers warm-up until every awaited service is there, notices
// a service that goes away and one that registers again.
#include "test_util.h"
#include <services/gui-bridge/router.h>

#include <common/interfaces/roles.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/router_link.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace orrery;
using namespace orrery::rpc;
using namespace std::chrono_literals;
using orrery::test::WaitUntil;

namespace {

std::string UniqueEndpoint()
{
    static std::atomic<int> counter{0};
    return "inproc://router-test-" + std::to_string(counter++);
}

//! A small table standing for a service's: what matters here is where calls go.
std::shared_ptr<const Table> ServiceTable(const std::string& service)
{
    auto table = std::make_shared<Table>();
    if (service == "node") {
        table->Add({"getblockcount", "Blockchain", {}, "The height.", [](const CallRequest&) { return Json(7); }});
        table->Add({"echo",
                    "Network",
                    {Required("text", ParamType::STRING, "Said back"), Optional("times", ParamType::NUMBER, "")},
                    "Says the text back.",
                    [](const CallRequest& call) {
                        return Json::array({call.Arg(0), call.Arg(1)});
                    }});
        table->Add({"disconnectnode", "Network", {}, "Fails as bitcoind does.", [](const CallRequest&) -> Json {
                        throw RpcException(RPC_CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes");
                    }});
    } else {
        table->Add({"getwalletinfo", "Wallet", {}, "Names the URL's wallet.", [](const CallRequest& call) {
                        return Json{{"walletname", call.wallet.value_or("")}};
                    }});
    }
    return table;
}

struct Bridge {
    std::atomic<bool> stopped{false};
    std::shared_ptr<Router> router;
    ipc::Server server{ServerOptions()};
    std::string endpoint = UniqueEndpoint();

    explicit Bridge(RouterOptions options = {})
    {
        options.stop_self = [this] { stopped = true; };
        router = std::make_shared<Router>(options);
        server.Serve<interfaces::RpcRouter>(router, interfaces::RPC_ROUTER_CALLERS);
        server.Bind(endpoint);
    }
    ~Bridge() { server.Stop(); }

    static ipc::Options ServerOptions()
    {
        ipc::Options options;
        options.role = "gui-bridge";
        return options;
    }

    std::unique_ptr<RouterLink> Link(const std::string& service)
    {
        ipc::Options options;
        options.role = service;
        options.interfaces = {"rpcRouter"};
        options.connect_timeout = 500ms;
        auto link = std::make_unique<RouterLink>(service, ServiceTable(service), endpoint, options);
        link->Start(10ms);
        return link;
    }

    //! The RPC error code of a call that must fail, and its message.
    std::pair<int32_t, std::string> Error(const std::string& method, Json params = Json::array(),
                                          std::optional<std::string> wallet = std::nullopt)
    {
        try {
            router->Execute(method, params, wallet);
        } catch (const RpcException& e) {
            return {e.code(), e.what()};
        }
        return {0, ""};
    }
};

} // namespace

TEST_CASE("until the node and the wallet have registered, their methods answer warm-up and the bridge's own answer")
{
    Bridge b;
    auto [code, message] = b.Error("getblockcount");
    CHECK(code == RPC_IN_WARMUP);
    CHECK(message.find("node and wallet") != std::string::npos);
    CHECK(b.Error("nosuch").first == RPC_IN_WARMUP); // its owner may not be there yet
    CHECK(b.router->Execute("uptime", Json::array(), std::nullopt).get<int64_t>() >= 0);
    CHECK(b.router->Execute("help", Json::array(), std::nullopt).get<std::string>().find("== Control ==") !=
          std::string::npos);
    auto node = b.Link("node");
    REQUIRE(WaitUntil([&] { return node->Registered(); }));
    CHECK(b.router->InWarmup());
    CHECK(b.Error("getblockcount").second.find("waiting for the wallet") != std::string::npos);
    auto wallet = b.Link("wallet");
    REQUIRE(WaitUntil([&] { return !b.router->InWarmup(); }));
    CHECK(b.router->WaitUntilWarm());
    CHECK(b.router->Execute("getblockcount", Json::array(), std::nullopt) == 7);
    CHECK(b.Error("nosuch").first == RPC_METHOD_NOT_FOUND);
}

TEST_CASE("calls reach their owner with named parameters and the URL's wallet, and its errors keep their codes")
{
    Bridge b;
    auto node = b.Link("node");
    auto wallet = b.Link("wallet");
    REQUIRE(WaitUntil([&] { return !b.router->InWarmup(); }));
    CHECK(b.router->Execute("echo", Json{{"times", 2}, {"text", "hi"}}, std::nullopt) == Json::array({"hi", 2}));
    CHECK(b.router->Execute("getwalletinfo", Json::array(), "w1")["walletname"] == "w1");
    CHECK(b.Error("disconnectnode") ==
          std::pair<int32_t, std::string>{RPC_CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes"});
    CHECK(b.Error("echo", {1}).first == RPC_TYPE_ERROR);
    CHECK(b.Error("echo").first == RPC_MISC_ERROR); // a missing argument answers the help
    std::string help = b.router->Help("");
    for (const char* line : {"== Blockchain ==", "getblockcount", "== Network ==", "echo \"text\" ( times )",
                             "== Wallet ==", "getwalletinfo", "== Control ==", "stop ( wait )", "uptime"}) {
        CHECK_MESSAGE(help.find(line) != std::string::npos, line);
    }
    CHECK(b.router->Help("echo").starts_with("echo \"text\" ( times )\n\nSays the text back."));
}

TEST_CASE("a service that goes away answers bitcoind's error for it, and is found again when it registers again")
{
    Bridge b;
    auto node = b.Link("node");
    auto wallet = b.Link("wallet");
    REQUIRE(WaitUntil([&] { return !b.router->InWarmup(); }));
    node->Stop();
    REQUIRE(WaitUntil([&] { return b.Error("getblockcount").first == RPC_IN_WARMUP; }));
    CHECK(b.Error("getblockcount").second.find("node service is not reachable") != std::string::npos);
    wallet->Stop();
    REQUIRE(WaitUntil([&] { return b.Error("getwalletinfo").first == RPC_WALLET_NOT_FOUND; }));
    CHECK(b.router->Help("").find("getwalletinfo") != std::string::npos); // still listed
    CHECK_FALSE(b.router->InWarmup());                                    // a restart is not a start: no warm-up again
    auto node_again = b.Link("node");
    REQUIRE(WaitUntil([&] { return b.Error("getblockcount").first == 0; }));
    CHECK(b.router->Execute("getblockcount", Json::array(), std::nullopt) == 7);
}

TEST_CASE("with -disablewallet the wallet is refused and its methods do not exist")
{
    RouterOptions options;
    options.awaited = {"node"};
    options.refused = {"wallet"};
    Bridge b(options);
    auto wallet = b.Link("wallet");
    auto node = b.Link("node");
    REQUIRE(WaitUntil([&] { return !b.router->InWarmup(); }));
    CHECK_FALSE(wallet->Registered());
    CHECK(b.Error("getwalletinfo").first == RPC_METHOD_NOT_FOUND);
    CHECK(b.router->Execute("getblockcount", Json::array(), std::nullopt) == 7);
}

TEST_CASE("stop without orreryd stops the bridge and answers after bitcoind's optional wait")
{
    Bridge b;
    auto started = std::chrono::steady_clock::now();
    CHECK(b.router->Execute("stop", Json{{"wait", 200}}, std::nullopt) == "Orrery stopping");
    CHECK(std::chrono::steady_clock::now() - started >= 200ms);
    CHECK(b.stopped);
    CHECK(b.Error("stop", {"soon"}).first == RPC_TYPE_ERROR);
}

TEST_CASE("a restarted bridge gets every table again without the services doing anything")
{
    test::TempDir dir("orrery_router");
    const std::string endpoint = dir.Endpoint("rpc-router.sock");
    ipc::Options options;
    options.role = "node";
    options.interfaces = {"rpcRouter"};
    options.connect_timeout = 500ms;
    auto serve = [&](std::shared_ptr<Router> router) {
        auto server = std::make_unique<ipc::Server>(Bridge::ServerOptions());
        server->Serve<interfaces::RpcRouter>(router, interfaces::RPC_ROUTER_CALLERS);
        server->Bind(endpoint);
        return server;
    };
    RouterOptions awaiting_node;
    awaiting_node.awaited = {"node"};
    auto first = std::make_shared<Router>(awaiting_node);
    auto server = serve(first);
    RouterLink node("node", ServiceTable("node"), endpoint, options);
    node.Start(10ms);
    REQUIRE(WaitUntil([&] { return !first->InWarmup(); }));
    server->Stop();
    server.reset();
    std::filesystem::remove(endpoint.substr(6));
    auto second = std::make_shared<Router>(awaiting_node);
    server = serve(second);
    // The node's IPC client reconnects by itself and renews its registration with the new bridge.
    REQUIRE(WaitUntil([&] { return !second->InWarmup(); }));
    CHECK(second->Execute("getblockcount", Json::array(), std::nullopt) == 7);
    node.Stop();
    server->Stop();
}
