// The option table and what comes from it: bitcoind's options accepted,
// unknown ones refused, what orreryd passes to each service, bitcoin.conf read
// when orrery.conf is absent, bitcoind's parameter interactions, -whitelist /
// -whitebind permissions and -uacomment checks.
#include <common/util/args.h>
#include <common/util/net_permissions.h>
#include <common/util/options.h>
#include <common/util/user_agent.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace orrery;

namespace {

bool Parse(ArgsManager& args, std::vector<std::string> argv, std::string& error)
{
    std::vector<const char*> pointers{"orreryd"};
    for (const auto& arg : argv) pointers.push_back(arg.c_str());
    return args.ParseParameters(static_cast<int>(pointers.size()), pointers.data(), error);
}

struct TempDir {
    std::filesystem::path path;
    TempDir()
        : path(std::filesystem::temp_directory_path() /
               ("orrery_options_" + std::to_string(::getpid()) + "_" + std::to_string(++counter)))
    {
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void Write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
    static inline int counter = 0;
};

} // namespace

TEST_CASE("orreryd accepts every option of bitcoind's table, and refuses one bitcoind does not know")
{
    ArgsManager args;
    AddOptions(args, PROCESS_ORRERYD);
    std::string error;
    std::vector<std::string> argv;
    for (const OptionInfo& option : OptionTable()) {
        if (option.flags & ARG_COMMAND_LINE_ONLY) continue; // -help, -version: they end the process
        argv.push_back("-" + std::string(option.Name()) + "=1");
    }
    CHECK(argv.size() > 150); // bitcoind v28 documents about 180 options, debugging ones included
    argv.erase(std::remove_if(argv.begin(), argv.end(),
                              [](const std::string& a) {
                                  return a.starts_with("-includeconf") || a.starts_with("-chain=") ||
                                         a.starts_with("-testnet") || a.starts_with("-signet=");
                              }),
               argv.end());
    CHECK_MESSAGE(Parse(args, argv, error), error);

    ArgsManager strict;
    AddOptions(strict, PROCESS_ORRERYD);
    CHECK_FALSE(Parse(strict, {"-nosuchoption"}, error));
    CHECK(error == "Invalid parameter -nosuchoption");
    CHECK_FALSE(Parse(strict, {"-includeconf=x.conf"}, error));
    CHECK(error == "-includeconf cannot be used from commandline; -includeconf=x.conf");
}

TEST_CASE("options without a feature in Orrery are listed for orreryd's one log line each")
{
    ArgsManager args;
    AddOptions(args, PROCESS_ORRERYD);
    std::string error;
    REQUIRE(Parse(args, {"-regtest", "-checkaddrman=1", "-capturemessages=1", "-rpcthreads=2"}, error));
    CHECK(OptionsWithoutEffect(args) == std::vector<std::string>{"capturemessages", "checkaddrman"});
}

TEST_CASE("orreryd passes each command-line option on to the services that declare it")
{
    const std::vector<std::string> command_line{
        "-regtest",       "-datadir=/tmp/x", "-bantime=60", "-rpcthreads=2", "-nolisten",          "-uacomment=a",
        "-peertimeout=5", "-dbcache=100",    "-debug=net",  "-wallet=w",     "-regtest.rpcport=1", "-printtoconsole"};
    CHECK(ForwardedArgs(command_line, "node") == std::vector<std::string>{"-regtest", "-bantime=60", "-nolisten",
                                                                          "-uacomment=a", "-dbcache=100",
                                                                          "-debug=net"});
    CHECK(ForwardedArgs(command_line, "gui-bridge") ==
          std::vector<std::string>{"-regtest", "-rpcthreads=2", "-debug=net", "-regtest.rpcport=1"});
    CHECK(ForwardedArgs(command_line, "wallet") == std::vector<std::string>{"-regtest", "-debug=net", "-wallet=w"});
    CHECK(ForwardedArgs(command_line, "p2p-agent") ==
          std::vector<std::string>{"-regtest", "-peertimeout=5", "-debug=net"});

    // Each service declares exactly the rows that name it: what is forwarded is accepted.
    for (std::string_view role : {"node", "wallet", "gui-bridge", "p2p-agent"}) {
        ArgsManager service;
        AddOptions(service, static_cast<OrreryProcess>(ProcessOfRole(role)));
        std::string error;
        CHECK_MESSAGE(Parse(service, ForwardedArgs(command_line, role), error), role, ": ", error);
    }
}

TEST_CASE("bitcoin.conf is read when the datadir has no orrery.conf, and -conf or orrery.conf win")
{
    TempDir dir;
    dir.Write("bitcoin.conf", "regtest=1\n[regtest]\nrpcport=1111\n");
    {
        ArgsManager args;
        AddOptions(args, PROCESS_ORRERYD);
        std::string error;
        REQUIRE(Parse(args, {"-datadir=" + dir.path.string()}, error));
        REQUIRE(args.ReadConfigFiles(error));
        CHECK(args.UsedBitcoinConf());
        CHECK(args.ConfigFilePath() == dir.path / "bitcoin.conf");
        CHECK(args.GetChain() == "regtest");
        CHECK(args.GetArg("rpcport", "") == "1111");
    }
    dir.Write("orrery.conf", "regtest=1\n[regtest]\nrpcport=2222\n");
    {
        ArgsManager args;
        AddOptions(args, PROCESS_ORRERYD);
        std::string error;
        REQUIRE(Parse(args, {"-datadir=" + dir.path.string()}, error));
        REQUIRE(args.ReadConfigFiles(error));
        CHECK_FALSE(args.UsedBitcoinConf());
        CHECK(args.GetArg("rpcport", "") == "2222");
    }
    dir.Write("other.conf", "regtest=1\n[regtest]\nrpcport=3333\nincludeconf=more.conf\n");
    dir.Write("more.conf", "[regtest]\nport=4444\n");
    {
        ArgsManager args;
        AddOptions(args, PROCESS_ORRERYD);
        std::string error;
        REQUIRE(Parse(args, {"-datadir=" + dir.path.string(), "-conf=other.conf"}, error));
        REQUIRE(args.ReadConfigFiles(error));
        CHECK(args.GetArg("rpcport", "") == "3333");
        CHECK(args.GetArg("port", "") == "4444"); // includeconf, as bitcoind
    }
}

TEST_CASE("a key of another process in the file is skipped quietly; connect=0 does not trouble the p2p-agent")
{
    TempDir dir;
    dir.Write("bitcoin.conf", "regtest=1\n[regtest]\nconnect=0\nrpcport=1\nfallbackfee=0.1\nnosuchkey=1\n");
    ArgsManager agent;
    AddOptions(agent, PROCESS_P2P_AGENT);
    agent.AddArg("-connect=<host:port>", "the peer to dial (orreryd's)", ARG_COMMAND_LINE_ONLY);
    std::string error;
    REQUIRE(Parse(agent, {"-datadir=" + dir.path.string(), "-connect=127.0.0.1:1"}, error));
    REQUIRE_MESSAGE(agent.ReadConfigFiles(error), error);
    CHECK(agent.GetArg("connect", "") == "127.0.0.1:1");
    CHECK(agent.GetWarnings() == std::vector<std::string>{"Ignoring unknown configuration value nosuchkey"});

    ArgsManager supervisor;
    AddOptions(supervisor, PROCESS_ORRERYD);
    dir.Write("bitcoin.conf", "conf=x.conf\n");
    REQUIRE(Parse(supervisor, {"-datadir=" + dir.path.string()}, error));
    CHECK_FALSE(supervisor.ReadConfigFiles(error));
    CHECK(error.find("conf cannot be set in the configuration file") != std::string::npos);
}

TEST_CASE("bitcoind's parameter interactions: -bind listens despite -connect, -connect alone does not")
{
    auto listen_with = [](std::vector<std::string> argv) {
        ArgsManager args;
        AddOptions(args, PROCESS_ORRERYD);
        std::string error;
        REQUIRE(Parse(args, argv, error));
        std::vector<std::string> changes;
        REQUIRE(args.ApplyParameterInteraction(changes, error));
        return args.GetBoolArg("listen", true);
    };
    CHECK(listen_with({"-regtest"}));
    CHECK_FALSE(listen_with({"-regtest", "-connect=0"}));
    CHECK_FALSE(listen_with({"-regtest", "-noconnect"}));
    CHECK_FALSE(listen_with({"-regtest", "-maxconnections=0"}));
    CHECK(listen_with({"-regtest", "-connect=0", "-bind=127.0.0.1"}));
    CHECK(listen_with({"-regtest", "-connect=0", "-whitebind=127.0.0.1:1"}));
    CHECK_FALSE(listen_with({"-regtest", "-proxy=127.0.0.1:9050"}));
    CHECK(listen_with({"-regtest", "-connect=0", "-listen=1"}));

    ArgsManager args;
    AddOptions(args, PROCESS_ORRERYD);
    std::string error;
    REQUIRE(Parse(args, {"-bind=127.0.0.1", "-listen=0"}, error));
    std::vector<std::string> changes;
    CHECK(args.ApplyParameterInteraction(changes, error)); // bitcoind refuses; Orrery lets -listen=0 win
    CHECK_FALSE(args.GetBoolArg("listen", true));
    CHECK(changes.back().starts_with("Warning: -listen=0 given"));
}

TEST_CASE("-whitelist and -whitebind read bitcoind's perm1,perm2@address syntax")
{
    std::string error;
    auto entry = ParseWhitelist("noban,relay@10.0.0.0/8", error);
    REQUIRE(entry);
    CHECK(entry->address == "10.0.0.0/8");
    CHECK(PermissionStrings(entry->flags) == std::vector<std::string>{"noban", "relay", "download"});
    CHECK(entry->inbound);
    CHECK_FALSE(entry->outbound);

    entry = ParseWhitelist("1.2.3.4", error); // no '@': the default set
    REQUIRE(entry);
    CHECK(entry->flags == PF_IMPLICIT);
    CHECK(PermissionStrings(ResolveImplicit(entry->flags, true, false)) ==
          std::vector<std::string>{"noban", "relay", "mempool", "download"});
    CHECK(PermissionStrings(ResolveImplicit(entry->flags, false, true)) ==
          std::vector<std::string>{"noban", "forcerelay", "relay", "mempool", "download"});

    entry = ParseWhitelist("out,mempool,download@::1", error);
    REQUIRE(entry);
    CHECK_FALSE(entry->inbound);
    CHECK(entry->outbound);
    CHECK(PermissionStrings(entry->flags) == std::vector<std::string>{"mempool", "download"});
    entry = ParseWhitelist("in,out,all@192.168.0.0/255.255.0.0", error);
    REQUIRE(entry);
    CHECK((entry->inbound && entry->outbound));
    CHECK(entry->flags == PF_ALL);

    CHECK_FALSE(ParseWhitelist("superpowers@1.2.3.4", error));
    CHECK(error == "Invalid P2P permission: 'superpowers'");
    CHECK_FALSE(ParseWhitelist("in@1.2.3.4", error));
    CHECK(error == "Only direction was set, no permissions: 'in@1.2.3.4'");
    CHECK_FALSE(ParseWhitelist("noban@1.2.3.4/33", error));
    CHECK(error == "Invalid netmask specified in -whitelist: '1.2.3.4/33'");
    CHECK_FALSE(ParseWhitelist("noban@example.com", error));

    auto bind = ParseWhitebind("noban@127.0.0.1:8333", error);
    REQUIRE(bind);
    CHECK(bind->address == "127.0.0.1:8333");
    CHECK(ParseWhitebind("[::1]:8333", error));
    CHECK_FALSE(ParseWhitebind("noban@127.0.0.1", error));
    CHECK(error == "Need to specify a port with -whitebind: '127.0.0.1'");
    CHECK_FALSE(ParseWhitebind("out,noban@127.0.0.1:1", error));
    CHECK(error == "whitebind may only be used for incoming connections (\"out\" was passed)");
}

TEST_CASE("-uacomment goes into the user agent, and unsafe or too long comments are refused as bitcoind does")
{
    std::string error;
    CHECK(*MakeUserAgent({}, error) == std::string("/Orrery:") + ORRERY_VERSION + "/");
    CHECK(*MakeUserAgent({"testnode0", "a b.c;d-e_f?g@h,i"}, error) ==
          std::string("/Orrery:") + ORRERY_VERSION + "(testnode0; a b.c;d-e_f?g@h,i)/");
    for (std::string bad : {"a/b", "a:b", "(x)", "tab\t"}) {
        CHECK_FALSE(MakeUserAgent({bad}, error));
        CHECK(error == "User Agent comment (" + bad + ") contains unsafe characters.");
    }
    CHECK_FALSE(MakeUserAgent({std::string(250, 'x')}, error));
    CHECK(error.starts_with("Total length of network version string ("));
    CHECK(error.ends_with("exceeds maximum length (256). Reduce the number or size of uacomments."));
}
