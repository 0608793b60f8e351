// services/node/rpc: the node's RPC methods run against a real NodeService in
// one process, through the table the node registers with the gui-bridge:
// bitcoind's field names, parameter checks and error codes.
#include <services/node/node.h>
#include <services/node/rpc/rpc.h>
#include <tests/unit/test_util.h>

#include <doctest/doctest.h>

#include <cstdint>

using namespace orrery;
using orrery::rpc::Json;

namespace {

constexpr const char* REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

struct Node {
    test::TempDir dir{"orrery_node_rpc"};
    std::shared_ptr<node::NodeService> service;
    std::shared_ptr<const rpc::Table> table;

    Node()
    {
        node::NodeConfig config;
        config.chain = ChainType::REGTEST;
        config.supervisor_endpoint = "inproc://node-rpc-test-no-orreryd";
        config.supervisor_connect_timeout = std::chrono::milliseconds(100);
        config.data_dir = dir.path;
        service = std::make_shared<node::NodeService>(config);
        service->LoadChainstate();
        service->LoadMempool();
        table = node::MakeRpcTable(*service);
    }

    Json Call(const std::string& method, Json params = Json::array()) { return table->Execute(method, params, {}); }

    //! The RPC error code of a call that must fail.
    int32_t Code(const std::string& method, Json params = Json::array())
    {
        try {
            Call(method, std::move(params));
        } catch (const rpc::RpcException& e) {
            return e.code();
        }
        FAIL("no error from " << method);
        return 0;
    }
};

} // namespace

TEST_CASE("blockchain methods give the regtest genesis in bitcoind's fields")
{
    Node n;
    Json chain = n.Call("getblockchaininfo");
    CHECK(chain["chain"] == "regtest");
    CHECK(chain["blocks"] == 0);
    CHECK(chain["bestblockhash"] == REGTEST_GENESIS);
    for (const char* field : {"headers", "difficulty", "time", "mediantime", "verificationprogress",
                              "initialblockdownload", "chainwork", "size_on_disk", "pruned", "warnings"}) {
        CHECK_MESSAGE(chain.contains(field), field);
    }
    CHECK(chain["warnings"] == Json::array());
    CHECK(n.Call("getblockcount") == 0);
    CHECK(n.Call("getbestblockhash") == REGTEST_GENESIS);
    CHECK(n.Call("getblockhash", {0}) == REGTEST_GENESIS);
    CHECK(n.Code("getblockhash", {1}) == rpc::RPC_INVALID_PARAMETER);
    CHECK(n.Code("getblockhash", {"0"}) == rpc::RPC_TYPE_ERROR);
    CHECK(n.Code("getblockhash") == rpc::RPC_MISC_ERROR); // a missing argument answers the help
}

TEST_CASE("getmempoolinfo describes an empty, loaded mempool with bitcoind's defaults")
{
    Node n;
    Json pool = n.Call("getmempoolinfo");
    CHECK(pool["loaded"] == true);
    CHECK(pool["size"] == 0);
    CHECK(pool["bytes"] == 0);
    CHECK(pool["usage"] == 0);
    CHECK(rpc::WriteJson(pool["total_fee"]) == "0.00000000");
    CHECK(pool["maxmempool"] == 300000000);
    CHECK(rpc::WriteJson(pool["mempoolminfee"]) == "0.00001000");
    CHECK(rpc::WriteJson(pool["minrelaytxfee"]) == "0.00001000");
    CHECK(rpc::WriteJson(pool["incrementalrelayfee"]) == "0.00001000");
    CHECK(pool["unbroadcastcount"] == 0);
    CHECK(pool["fullrbf"] == true);
    CHECK(n.table->Help("getmempoolinfo").find("mempool") != std::string::npos);
}

TEST_CASE("getnetworkinfo names the node's services and fees as bitcoind does")
{
    Node n;
    Json net = n.Call("getnetworkinfo");
    CHECK(net["localservices"] == "0000000000000409");
    CHECK(net["localservicesnames"] == Json::array({"NETWORK", "WITNESS", "NETWORK_LIMITED"}));
    CHECK(net["protocolversion"] == 70016);
    CHECK(rpc::WriteJson(net["relayfee"]) == "0.00001000");
    CHECK(net["connections"] == 0);
    CHECK(net["networks"].size() == 5);
    CHECK(n.Call("getconnectioncount") == 0);
    CHECK(n.Call("getpeerinfo") == Json::array());
    CHECK(node::ServiceNames(9) == Json::array({"NETWORK", "WITNESS"}));
    CHECK(node::ServiceNames(uint64_t{1} << 20) == Json::array({"UNKNOWN[2^20]"}));
    CHECK(node::NetworkOf("8.8.8.8:8333") == "ipv4");
    CHECK(node::NetworkOf("[2001:4860::1]:8333") == "ipv6");
    CHECK(node::NetworkOf("[fd00::1]:8333") == "not_publicly_routable");
    CHECK(node::NetworkOf("192.168.1.2:8333") == "not_publicly_routable");
    CHECK(node::NetworkOf("abc.onion:8333") == "onion");
}

TEST_CASE("addnode and disconnectnode check their arguments and answer bitcoind's codes")
{
    Node n; // no orreryd: "add" is kept and retried, as bitcoind keeps it
    CHECK(n.Call("addnode", {"127.0.0.1:1", "add"}).is_null());
    CHECK(n.Code("addnode", {"127.0.0.1:1", "add"}) == rpc::RPC_CLIENT_NODE_ALREADY_ADDED);
    CHECK(n.Call("addnode", Json{{"node", "127.0.0.1:1"}, {"command", "remove"}}).is_null());
    CHECK(n.Code("addnode", {"127.0.0.1:1", "remove"}) == rpc::RPC_CLIENT_NODE_NOT_ADDED);
    CHECK(n.Code("addnode", {"127.0.0.1:1", "sideways"}) == rpc::RPC_MISC_ERROR);
    CHECK(n.Code("disconnectnode") == rpc::RPC_INVALID_PARAMETER);
    CHECK(n.Code("disconnectnode", {"1.2.3.4:1", 5}) == rpc::RPC_INVALID_PARAMETER);
    CHECK(n.Code("disconnectnode", Json{{"nodeid", 99}}) == rpc::RPC_CLIENT_NODE_NOT_CONNECTED);
    // Not integers: refused, never converted (a huge float would be undefined behaviour to cast).
    CHECK(n.Code("disconnectnode", Json{{"nodeid", 1e300}}) == rpc::RPC_TYPE_ERROR);
    CHECK(n.Code("disconnectnode", Json{{"nodeid", 5.5}}) == rpc::RPC_TYPE_ERROR);
    CHECK(n.Code("disconnectnode", Json{{"nodeid", UINT64_MAX}}) == rpc::RPC_TYPE_ERROR);
}

TEST_CASE("setban, listbanned and clearbanned keep the node's bans in bitcoind's fields")
{
    Node n;
    CHECK(n.Call("setban", {"10.0.0.0/8", "add", 3600}).is_null());
    CHECK(n.Code("setban", {"10.0.0.0/8", "add"}) == rpc::RPC_CLIENT_NODE_ALREADY_ADDED);
    CHECK(n.Code("setban", {"10.1.2.3", "ban"}) == rpc::RPC_MISC_ERROR);
    CHECK(n.Code("setban", {"10.1.2.3", "add", "soon"}) == rpc::RPC_TYPE_ERROR);
    CHECK(n.Code("setban", {"10.1.2.3", "add", 1.5}) == rpc::RPC_TYPE_ERROR);
    CHECK(n.Code("setban", {"not an address", "add"}) == rpc::RPC_CLIENT_INVALID_IP_OR_SUBNET);
    Json banned = n.Call("listbanned");
    REQUIRE(banned.size() == 1);
    CHECK(banned[0]["address"] == "10.0.0.0/8");
    CHECK(banned[0]["ban_duration"] == 3600);
    CHECK(banned[0]["banned_until"].get<int64_t>() - banned[0]["ban_created"].get<int64_t>() == 3600);
    CHECK(banned[0]["time_remaining"].get<int64_t>() <= 3600);
    CHECK(n.Call("setban", Json{{"subnet", "10.0.0.0/8"}, {"command", "remove"}}).is_null());
    CHECK(n.Code("setban", {"10.0.0.0/8", "remove"}) == rpc::RPC_CLIENT_INVALID_IP_OR_SUBNET);
    CHECK(n.Call("setban", {"5.6.7.8", "add"}).is_null());
    CHECK(n.Call("clearbanned").is_null());
    CHECK(n.Call("listbanned") == Json::array());
}
