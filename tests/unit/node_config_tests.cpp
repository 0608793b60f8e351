// orrery-node's options: what the command line turns into for NodeService.
#include <services/node/node.h>

#include <common/util/net_permissions.h>

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

TEST_CASE("-uacomment goes into the user agent; -whitelist and -whitebind become permissions")
{
    auto config =
        ConfigFrom({"-regtest", "-uacomment=testnode0", "-whitelist=noban,relay@10.0.0.0/8",
                    "-whitelist=out,mempool@::1", "-whitelist=192.168.1.1", "-whitebind=download@127.0.0.1:9"});
    CHECK(config.user_agent == std::string("/Orrery:") + ORRERY_VERSION + "(testnode0)/");
    REQUIRE(config.whitelist.size() == 3);
    CHECK(config.whitelist[0].subnet.ToString() == "10.0.0.0/8");
    CHECK(PermissionStrings(config.whitelist[0].permissions) == std::vector<std::string>{"noban", "relay", "download"});
    CHECK((config.whitelist[1].outbound && !config.whitelist[1].inbound));
    // No permissions written: bitcoind's default set, relay included (-whitelistrelay defaults to 1).
    CHECK(PermissionStrings(config.whitelist[2].permissions) ==
          std::vector<std::string>{"noban", "relay", "mempool", "download"});
    REQUIRE(config.whitebinds.size() == 1);
    CHECK(config.whitebinds[0].address == "127.0.0.1:9");
    CHECK(config.whitebinds[0].permissions == PF_DOWNLOAD);

    CHECK_THROWS_WITH(ConfigFrom({"-regtest", "-uacomment=a/b"}),
                      "User Agent comment (a/b) contains unsafe characters.");
    CHECK_THROWS_WITH(ConfigFrom({"-regtest", "-whitelist=nope@1.2.3.4"}), "Invalid P2P permission: 'nope'");
}
