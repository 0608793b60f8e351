// orrery-node's options: what the command line turns into for NodeService.
#include <services/node/node.h>

#include <doctest/doctest.h>

#include <vector>

using namespace orrery;

namespace {

node::NodeConfig ConfigFrom(std::vector<const char*> argv)
{
    argv.insert(argv.begin(), "orrery-node");
    ArgsManager args;
    node::AddArgs(args);
    std::string error;
    REQUIRE_MESSAGE(args.ParseParameters(static_cast<int>(argv.size()), argv.data(), error), error);
    return node::MakeNodeConfig(args);
}

} // namespace

TEST_CASE("by default the node listens, keeps 125 connections and finds orreryd in run/")
{
    auto config = ConfigFrom({"-regtest", "-datadir=/srv/orrery"});
    CHECK(config.chain == ChainType::REGTEST);
    CHECK(config.listen);
    CHECK(config.max_connections == 125);
    CHECK(config.connect.empty());
    CHECK(config.add_nodes.empty());
    CHECK(config.supervisor_endpoint == "ipc:///srv/orrery/regtest/run/supervisor.sock");
    CHECK(config.data_dir == "/srv/orrery/regtest");
    CHECK(config.ipc_options.role == "node");
}

TEST_CASE("-connect implies -listen=0 unless -listen is given")
{
    auto only = ConfigFrom({"-regtest", "-connect=127.0.0.1:18444", "-connect=127.0.0.1:18445"});
    CHECK_FALSE(only.listen);
    CHECK(only.connect == std::vector<std::string>{"127.0.0.1:18444", "127.0.0.1:18445"});
    CHECK(ConfigFrom({"-regtest", "-connect=127.0.0.1:18444", "-listen"}).listen);
    // -connect=0 means no peers at all, not a peer named "0", and no listening either (as bitcoind);
    // -noconnect only clears the list.
    auto none = ConfigFrom({"-regtest", "-connect=0"});
    CHECK(none.connect.empty());
    CHECK_FALSE(none.listen);
    CHECK(ConfigFrom({"-regtest", "-noconnect"}).listen);
}

TEST_CASE("-addnode, -maxconnections, -supervisorconnect and the network are read")
{
    auto config = ConfigFrom({"-testnet4", "-addnode=10.0.0.1:48333", "-addnode=10.0.0.2:48333", "-maxconnections=20",
                              "-supervisorconnect=ipc:///tmp/s.sock", "-nolisten"});
    CHECK(config.chain == ChainType::TESTNET4);
    CHECK(config.add_nodes == std::vector<std::string>{"10.0.0.1:48333", "10.0.0.2:48333"});
    CHECK(config.max_connections == 20);
    CHECK(config.supervisor_endpoint == "ipc:///tmp/s.sock");
    CHECK_FALSE(config.listen);
    CHECK(ConfigFrom({"-regtest", "-maxconnections=-5"}).max_connections == 0);
}
