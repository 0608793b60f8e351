// The RPC methods over real IPC (inproc): fake Node and Wallet services behind
// Backends, so that field names, error codes crossing IPC, the wallet URL and
// absent services are checked without the real node or wallet.
#include "test_util.h"
#include <services/gui-bridge/backends.h>
#include <services/gui-bridge/methods.h>

#include <common/interfaces/node_ipc.h>
#include <common/interfaces/rpc_error.h>
#include <common/interfaces/wallet_ipc.h>

#include <doctest/doctest.h>

#include <mutex>
#include <thread>

using namespace orrery;
using namespace orrery::rpc;

using orrery::test::WaitUntil;

namespace {

class FakeNode final : public interfaces::Node
{
public:
    interfaces::BlockchainInfo getBlockchainInfo() override
    {
        interfaces::BlockchainInfo info;
        info.chain = "regtest";
        info.blocks = 3;
        info.headers = 4;
        info.best_block_hash = std::string(64, 'a');
        info.chain_work = std::string(64, '0');
        return info;
    }
    interfaces::NetworkInfo getNetworkInfo() override
    {
        interfaces::NetworkInfo info;
        info.version = 10000;
        info.subversion = "/Orrery:0.1.0/";
        info.protocol_version = 70016;
        info.local_services = 0x409; // NETWORK | WITNESS | NETWORK_LIMITED
        info.connections = 2;
        info.local_addresses = {"203.0.113.7:18444"};
        return info;
    }
    std::vector<interfaces::PeerDetails> getPeerInfo() override
    {
        interfaces::PeerDetails peer;
        peer.id = 5;
        peer.address = "127.0.0.1:40000";
        peer.inbound = true;
        peer.connection_type = "inbound";
        peer.services = 9;
        peer.ping_time = 0.25;
        peer.agent_pid = 4242;
        peer.handshake_done = true;
        return {peer};
    }
    int64_t getConnectionCount() override { return 2; }
    void addNode(std::string address, std::string command) override
    {
        if (command == "add" && address == "1.2.3.4:18444") {
            throw interfaces::RpcError(interfaces::RPC_CLIENT_NODE_ALREADY_ADDED, "Error: Node already added");
        }
        std::lock_guard lock(m_mutex);
        m_added.push_back(command + " " + address);
    }
    void disconnectNode(std::string address, int64_t peer_id) override
    {
        if (address.empty() && peer_id != 5) {
            throw interfaces::RpcError(interfaces::RPC_CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes");
        }
    }
    void setBan(std::string subnet, std::string command, int64_t bantime, bool absolute) override
    {
        if (subnet == "1.2.3.4" && command == "add") {
            throw interfaces::RpcError(interfaces::RPC_CLIENT_NODE_ALREADY_ADDED, "Error: IP/Subnet already banned");
        }
        std::lock_guard lock(m_mutex);
        m_bans.push_back(command + " " + subnet + " " + std::to_string(bantime) + (absolute ? " absolute" : ""));
    }
    std::vector<interfaces::BannedSubnet> listBanned() override
    {
        return {{"10.0.0.0/8", 1700000000, 1700003600, 3600, 1200}};
    }
    void clearBanned() override
    {
        std::lock_guard lock(m_mutex);
        m_bans.push_back("clear");
    }
    interfaces::Admission admitInbound(std::string, std::string) override { return {}; }

    std::mutex m_mutex;
    std::vector<std::string> m_added;
    std::vector<std::string> m_bans;
};

class FakeWallet final : public interfaces::Wallet, public interfaces::WalletLoader
{
public:
    std::string getNewAddress(std::string wallet, std::string label, std::string) override
    {
        if (wallet != "" && wallet != "w1") {
            throw interfaces::RpcError(interfaces::RPC_WALLET_NOT_FOUND,
                                       "Requested wallet does not exist or is not loaded");
        }
        return "bcrt1q" + wallet + label;
    }
    interfaces::WalletInfo getWalletInfo(std::string wallet) override
    {
        // "w1" has heard from the node, the others not yet.
        std::optional<interfaces::BlockRef> block;
        if (wallet == "w1") block = interfaces::BlockRef{std::string(64, 'a'), 7};
        return {wallet, 1, 2, "deadbeef", block};
    }
    std::string createWallet(std::string name) override { return name; }
    std::string loadWallet(std::string name) override
    {
        throw interfaces::RpcError(interfaces::RPC_WALLET_NOT_FOUND, "Wallet file verification failed. " + name);
    }
    void unloadWallet(std::string) override {}
    std::vector<std::string> listWallets() override { return {"w1"}; }
    std::vector<std::string> listWalletDir() override { return {"w1", "w2"}; }
};

ipc::Options ClientOptions(std::vector<std::string> interfaces)
{
    ipc::Options options;
    options.role = "gui-bridge";
    options.interfaces = std::move(interfaces);
    options.connect_timeout = std::chrono::milliseconds(500);
    return options;
}

void WaitConnected(Backend& backend)
{
    REQUIRE(WaitUntil([&] { return backend.Connection() != nullptr; }));
}

struct Fixture {
    std::shared_ptr<FakeNode> node_impl = std::make_shared<FakeNode>();
    std::shared_ptr<FakeWallet> wallet_impl = std::make_shared<FakeWallet>();
    ipc::Server node_server{ipc::Options{}};
    ipc::Server wallet_server{ipc::Options{}};
    Backend node{"node", "inproc://rpc-test-node", ClientOptions({"node"})};
    Backend wallet{"wallet", "inproc://rpc-test-wallet", ClientOptions({"wallet", "walletLoader"})};
    Table table;
    bool stopped_self{false};

    explicit Fixture(bool with_wallet = true)
    {
        node_server.Serve<interfaces::Node>(node_impl);
        node_server.Bind("inproc://rpc-test-node");
        wallet_server.Serve<interfaces::Wallet>(wallet_impl);
        wallet_server.Serve<interfaces::WalletLoader>(wallet_impl);
        wallet_server.Bind("inproc://rpc-test-wallet");
        node.Start(std::chrono::milliseconds(10));
        wallet.Start(std::chrono::milliseconds(10));
        WaitConnected(node);
        WaitConnected(wallet);
        MethodContext context;
        context.node = &node;
        context.wallet = with_wallet ? &wallet : nullptr;
        context.started = std::chrono::steady_clock::now();
        context.stop_self = [this] { stopped_self = true; };
        RegisterMethods(table, context);
    }

    Json Call(const std::string& method, Json params = Json::array(),
              std::optional<std::string> url_wallet = std::nullopt)
    {
        Json request{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}};
        return Json::parse(HandleBody(table, request.dump(), url_wallet).body);
    }
};

} // namespace

TEST_CASE("getblockchaininfo and getnetworkinfo use bitcoind's field names")
{
    Fixture f;
    Json chain = f.Call("getblockchaininfo")["result"];
    CHECK(chain["chain"] == "regtest");
    CHECK(chain["blocks"] == 3);
    CHECK(chain["bestblockhash"] == std::string(64, 'a'));
    for (const char* field :
         {"mediantime", "verificationprogress", "initialblockdownload", "chainwork", "size_on_disk", "warnings"}) {
        CHECK_MESSAGE(chain.contains(field), field);
    }
    Json net = f.Call("getnetworkinfo")["result"];
    CHECK(net["localservices"] == "0000000000000409");
    CHECK(net["localservicesnames"] == Json::array({"NETWORK", "WITNESS", "NETWORK_LIMITED"}));
    CHECK(net["protocolversion"] == 70016);
    CHECK(net["relayfee"].get<double>() == doctest::Approx(0.00001));
    CHECK(net["localaddresses"][0]["address"] == "203.0.113.7");
    CHECK(net["localaddresses"][0]["port"] == 18444);
    CHECK(f.Call("getconnectioncount")["result"] == 2);
}

TEST_CASE("getpeerinfo shows each peer with its network and agent process")
{
    Fixture f;
    Json peer = f.Call("getpeerinfo")["result"][0];
    CHECK(peer["id"] == 5);
    CHECK(peer["addr"] == "127.0.0.1:40000");
    CHECK(peer["network"] == "not_publicly_routable");
    CHECK(peer["services"] == "0000000000000009");
    CHECK(peer["servicesnames"] == Json::array({"NETWORK", "WITNESS"}));
    CHECK(peer["pingtime"] == 0.25);
    CHECK_FALSE(peer.contains("minping"));
    CHECK(peer["agent_pid"] == 4242);
    CHECK(NetworkOf("8.8.8.8:8333") == "ipv4");
    CHECK(NetworkOf("[2001:4860::1]:8333") == "ipv6");
    CHECK(NetworkOf("[fd00::1]:8333") == "not_publicly_routable");
    CHECK(NetworkOf("192.168.1.2:8333") == "not_publicly_routable");
}

TEST_CASE("addnode and disconnectnode pass the node's own error codes through")
{
    Fixture f;
    CHECK(f.Call("addnode", {"5.6.7.8:18444", "onetry"})["result"].is_null());
    CHECK(f.node_impl->m_added == std::vector<std::string>{"onetry 5.6.7.8:18444"});
    CHECK(f.Call("addnode", {"1.2.3.4:18444", "add"})["error"]["code"] == -23);
    CHECK(f.Call("addnode", {"1.2.3.4:18444", "sideways"})["error"]["code"] == -1);
    CHECK(f.Call("disconnectnode", Json{{"nodeid", 5}})["result"].is_null());
    Json missing = f.Call("disconnectnode", Json{{"nodeid", 9}})["error"];
    CHECK(missing["code"] == -29);
    CHECK(missing["message"] == "Node not found in connected nodes");
    CHECK(f.Call("disconnectnode", Json::array())["error"]["code"] == -8);
    CHECK(f.Call("disconnectnode", {"1.2.3.4:1", 5})["error"]["code"] == -8);
    // Not integers: refused, never converted (a huge float would be undefined behaviour to cast).
    CHECK(f.Call("disconnectnode", Json{{"nodeid", 1e300}})["error"]["code"] == -3);
    CHECK(f.Call("disconnectnode", Json{{"nodeid", 5.5}})["error"]["code"] == -3);
    CHECK(f.Call("disconnectnode", Json{{"nodeid", UINT64_MAX}})["error"]["code"] == -3);
}

TEST_CASE("setban, listbanned and clearbanned take bitcoind's arguments and give its fields")
{
    Fixture f;
    CHECK(f.Call("setban", {"10.0.0.0/8", "add"})["result"].is_null());
    CHECK(f.Call("setban", {"10.0.0.0/8", "remove"})["result"].is_null());
    CHECK(f.Call("setban", Json{{"subnet", "5.6.7.8"}, {"command", "add"}, {"bantime", 1800000000}, {"absolute", true}})
              ["result"]
                  .is_null());
    CHECK(f.node_impl->m_bans ==
          std::vector<std::string>{"add 10.0.0.0/8 0", "remove 10.0.0.0/8 0", "add 5.6.7.8 1800000000 absolute"});
    Json taken = f.Call("setban", {"1.2.3.4", "add"})["error"];
    CHECK(taken["code"] == -23);
    CHECK(taken["message"] == "Error: IP/Subnet already banned");
    Json help = f.Call("setban", {"1.2.3.4", "ban"})["error"];
    CHECK(help["code"] == -1);
    CHECK(help["message"].get<std::string>().find("setban") != std::string::npos);
    CHECK(f.Call("setban", {"1.2.3.4", "add", "soon"})["error"]["code"] == -3);
    CHECK(f.Call("setban", {"1.2.3.4", "add", 1.5})["error"]["code"] == -3);
    Json banned = f.Call("listbanned")["result"];
    CHECK(banned == Json::array({Json{{"address", "10.0.0.0/8"},
                                      {"ban_created", 1700000000},
                                      {"banned_until", 1700003600},
                                      {"ban_duration", 3600},
                                      {"time_remaining", 1200}}}));
    CHECK(f.Call("clearbanned")["result"].is_null());
    CHECK(f.node_impl->m_bans.back() == "clear");
}

TEST_CASE("wallet methods follow the /wallet/ URL and the wallet's errors")
{
    Fixture f;
    CHECK(f.Call("getnewaddress", Json::array(), "w1")["result"] == "bcrt1qw1");
    CHECK(f.Call("getnewaddress", {"lbl"})["result"] == "bcrt1qlbl");
    CHECK(f.Call("getnewaddress", Json::array(), "nosuch")["error"]["code"] == -18);
    CHECK(f.Call("getnewaddress", {"*"})["error"]["code"] == -11);
    CHECK(f.Call("getwalletinfo", Json::array(), "w1")["result"]["walletname"] == "w1");
    // bitcoind's "lastprocessedblock": {"hash", "height"}; absent until the wallet has reached the node.
    CHECK(f.Call("getwalletinfo", Json::array(), "w1")["result"]["lastprocessedblock"] ==
          Json{{"hash", std::string(64, 'a')}, {"height", 7}});
    CHECK_FALSE(f.Call("getwalletinfo", Json::array(), "w2")["result"].contains("lastprocessedblock"));
    CHECK(f.Call("createwallet", {"w3"})["result"] == Json{{"name", "w3"}});
    CHECK(f.Call("createwallet", {"w3", true})["error"]["code"] == -4);
    CHECK(f.Call("loadwallet", {"w9"})["error"]["code"] == -18);
    CHECK(f.Call("listwallets")["result"] == Json::array({"w1"}));
    CHECK(f.Call("listwalletdir")["result"]["wallets"][1]["name"] == "w2");
    CHECK(f.Call("unloadwallet", Json::array(), "w1")["result"] == Json::object());
    CHECK(f.Call("unloadwallet", {"w2"}, "w1")["error"]["code"] == -8);
}

TEST_CASE("with the wallet disabled its methods do not exist")
{
    Fixture f(/*with_wallet=*/false);
    CHECK(f.Call("getnewaddress")["error"]["code"] == -32601);
    CHECK(f.Call("getblockchaininfo")["result"]["chain"] == "regtest");
}

TEST_CASE("a service that is not there answers RPC_IN_WARMUP, and stop without orreryd stops the bridge")
{
    Backend absent("node", "inproc://rpc-test-nobody", ClientOptions({"node"}));
    absent.Start(std::chrono::milliseconds(10));
    Table table;
    bool stopped = false;
    MethodContext context;
    context.node = &absent;
    context.started = std::chrono::steady_clock::now();
    context.stop_self = [&] { stopped = true; };
    RegisterMethods(table, context);
    Json reply = Json::parse(HandleBody(table, R"({"method":"getconnectioncount","id":1})", std::nullopt).body);
    CHECK(reply["error"]["code"] == -28);
    CHECK(reply["error"]["message"].get<std::string>().find("node service is not reachable") != std::string::npos);
    Json stop = Json::parse(HandleBody(table, R"({"method":"stop","id":1})", std::nullopt).body);
    CHECK(stop["result"] == "Orrery stopping");
    CHECK(stopped);
    CHECK(Json::parse(HandleBody(table, R"({"method":"uptime","id":1})", std::nullopt).body)["result"] >= 0);
}

TEST_CASE("IPC failures keep RPC codes and turn plain exceptions into RPC_MISC_ERROR")
{
    CHECK(TranslateIpcError(interfaces::RpcError(interfaces::RPC_WALLET_ALREADY_EXISTS, "exists"), "wallet").code() ==
          -36);
    CHECK(TranslateIpcError(ipc::Error(ipc::ErrorCode::REMOTE_EXCEPTION, "boom"), "node").code() == -1);
    CHECK(TranslateIpcError(ipc::Error(ipc::ErrorCode::DISCONNECTED, "gone"), "node").code() == -28);
    CHECK(TranslateIpcError(ipc::Error(ipc::ErrorCode::METHOD_NOT_FOUND, "old node"), "node").code() == -1);
}
