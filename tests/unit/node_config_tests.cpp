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

TEST_CASE("the chainstate's options: defaults, -dbcache, -prune, -txindex, -reindex, -loadblock, -stopatheight")
{
    auto defaults = ConfigFrom({"-regtest", "-datadir=/srv/orrery"});
    CHECK(defaults.chainstate.data_dir == "/srv/orrery/regtest");
    CHECK(defaults.chainstate.blocks_dir == "/srv/orrery/regtest/blocks");
    CHECK(defaults.chainstate.dbcache_bytes == size_t{450} << 20);
    CHECK(defaults.chainstate.prune_target_bytes == 0);
    CHECK(!defaults.chainstate.assume_valid);
    CHECK(!defaults.regtest);

    auto config = ConfigFrom({"-regtest", "-datadir=/srv/orrery", "-dbcache=100", "-prune=1", "-reindex",
                              "-loadblock=/tmp/a.dat", "-loadblock=/tmp/b.dat", "-stopatheight=7", "-par=3",
                              "-assumevalid=0000000000000000000000000000000000000000000000000000000000000001"});
    CHECK(config.chainstate.dbcache_bytes == size_t{100} << 20);
    CHECK(config.chainstate.prune_target_bytes == 1);
    CHECK(config.chainstate.reindex);
    CHECK(config.chainstate.load_block_files.size() == 2);
    CHECK(config.chainstate.stop_at_height == 7);
    CHECK(config.chainstate.script_threads == 2);
    REQUIRE(config.chainstate.assume_valid);
    CHECK(config.chainstate.assume_valid->GetHex().back() == '1');
    CHECK(ConfigFrom({"-regtest", "-prune=600"}).chainstate.prune_target_bytes == uint64_t{600} << 20);
    CHECK(ConfigFrom({"-regtest", "-txindex"}).chainstate.txindex);
}

TEST_CASE("bad chainstate options fail with bitcoind's messages")
{
    CHECK_THROWS_WITH(ConfigFrom({"-regtest", "-prune=100"}),
                      "Prune configured below the minimum of 550 MiB.  Please use a higher number.");
    CHECK_THROWS_WITH(ConfigFrom({"-regtest", "-prune=600", "-txindex"}), "Prune mode is incompatible with -txindex.");
    CHECK_THROWS_WITH(ConfigFrom({"-regtest", "-testactivationheight=taproot@5"}),
                      "Invalid name (taproot@5) for -testactivationheight=name@height.");
    CHECK_THROWS_WITH(ConfigFrom({"-regtest", "-testactivationheight=csv"}),
                      "Invalid format (csv) for -testactivationheight=name@height.");
    CHECK_THROWS(ConfigFrom({"-testactivationheight=csv@5"}));
}

TEST_CASE("-testactivationheight moves regtest's buried deployments")
{
    auto config = ConfigFrom({"-regtest", "-testactivationheight=segwit@50", "-testactivationheight=bip34@3"});
    REQUIRE(config.regtest);
    CHECK(config.regtest->segwit_height == 50);
    CHECK(config.regtest->bip34_height == 3);
    CHECK(!config.regtest->csv_height);
}
