// Options and orrery.conf, parsed the way bitcoind users expect.
#include <common/util/args.h>

#include <doctest/doctest.h>

using orrery::ArgsManager;

namespace {
ArgsManager MakeArgs()
{
    ArgsManager args;
    orrery::AddCommonArgs(args);
    args.AddArg("-port=<port>", "P2P port", orrery::ARG_NETWORK_ONLY);
    args.AddArg("-addnode=<ip>", "Add a node", orrery::ARG_NETWORK_ONLY);
    args.AddArg("-listen", "Accept connections");
    args.AddArg("-rpcuser=<user>", "RPC user");
    return args;
}

bool Parse(ArgsManager& args, std::initializer_list<const char*> argv_list, std::string& error)
{
    std::vector<const char*> argv{"orreryd"};
    argv.insert(argv.end(), argv_list.begin(), argv_list.end());
    return args.ParseParameters(static_cast<int>(argv.size()), argv.data(), error);
}
} // namespace

TEST_CASE("command-line values, negations and lists are read as bitcoind reads them")
{
    ArgsManager args = MakeArgs();
    std::string error;
    REQUIRE(Parse(args, {"-regtest", "-port=18555", "-nolisten", "-addnode=a", "--addnode=b", "-debug=ipc"}, error));
    CHECK(args.GetArg("port", "") == "18555");
    CHECK(args.GetIntArg("port", 0) == 18555);
    CHECK_FALSE(args.GetBoolArg("listen", true));
    CHECK(args.IsArgNegated("listen"));
    CHECK(args.GetArgs("addnode") == std::vector<std::string>{"a", "b"});
    CHECK(args.GetArgs("debug") == std::vector<std::string>{"ipc"});
    CHECK(*args.GetChainName(error) == "regtest");
    CHECK(args.GetDataDirNet().filename() == "regtest");
}

TEST_CASE("an undeclared option is refused with its name")
{
    ArgsManager args = MakeArgs();
    std::string error;
    CHECK_FALSE(Parse(args, {"-bogus=1"}, error));
    CHECK(error == "Invalid parameter -bogus");
    CHECK_FALSE(Parse(args, {"stray"}, error));
    CHECK(error.find("unexpected token") != std::string::npos);
}

TEST_CASE("two networks at once are refused")
{
    ArgsManager args = MakeArgs();
    std::string error;
    CHECK_FALSE(Parse(args, {"-regtest", "-testnet"}, error));
    CHECK(error.find("at most one") != std::string::npos);
}

TEST_CASE("a network section overrides the top of the file and the command line overrides both")
{
    ArgsManager args = MakeArgs();
    std::string error;
    REQUIRE(Parse(args, {"-regtest", "-rpcuser=cli"}, error));
    REQUIRE(args.ReadConfigString("# comment\nrpcuser=top\nport=1\naddnode=top\n[regtest]\nport=2\naddnode=r1\n"
                                  "addnode=r2\n[main]\nport=3\n",
                                  "orrery.conf", error));
    CHECK(args.GetArg("port", "") == "2");
    CHECK(args.GetArgs("addnode") == std::vector<std::string>{"r1", "r2"});
    CHECK(args.GetArg("rpcuser", "") == "cli");
}

TEST_CASE("network-only options at the top of the file do not leak into test networks")
{
    ArgsManager args = MakeArgs();
    std::string error;
    REQUIRE(Parse(args, {"-regtest"}, error));
    REQUIRE(args.ReadConfigString("port=1\nrpcuser=top\nregtest.listen=0\n", "orrery.conf", error));
    CHECK_FALSE(args.IsArgSet("port"));
    CHECK(args.GetArg("rpcuser", "") == "top");
    CHECK_FALSE(args.GetBoolArg("listen", true));
}

TEST_CASE("a malformed config line is an error naming the line, an unknown key a warning")
{
    ArgsManager args = MakeArgs();
    std::string error;
    REQUIRE(Parse(args, {}, error));
    CHECK_FALSE(args.ReadConfigString("port=1\nnolisten\n", "orrery.conf", error));
    CHECK(error.find("line 2") != std::string::npos);
    CHECK(error.find("nofoo=1") != std::string::npos);
    REQUIRE(args.ReadConfigString("mystery=1\n", "orrery.conf", error));
    REQUIRE(args.GetWarnings().size() == 1);
    CHECK(args.GetWarnings()[0] == "Ignoring unknown configuration value mystery");
}

TEST_CASE("the network can be chosen in the config file")
{
    ArgsManager args = MakeArgs();
    std::string error;
    REQUIRE(Parse(args, {}, error));
    REQUIRE(args.ReadConfigString("regtest=1\n", "orrery.conf", error));
    CHECK(*args.GetChainName(error) == "regtest");
}
