// Who a connection is: parsing the kernel's credentials as libzmq reports them,
// the rules of which role a connection may claim, the allow-list's key roles,
// the table of which role is served which interface, and all of it over real
// ipc:// and tcp:// sockets: the kernel's pid wins over the claimed one, a
// second hello is refused, a key allowed for one role cannot say hello as another.
#include "echo_impl.h"

#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/echo_ipc.h>
#include <common/interfaces/node_ipc.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/interfaces/wallet_ipc.h>
#include <common/ipc/curve.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/identity.h>
#include <common/util/logging.h>

#include <doctest/doctest.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

using namespace orrery;
using namespace orrery::ipc;
using namespace std::chrono_literals;

namespace {

std::filesystem::path TempDir(const std::string& name)
{
    static std::atomic<int> counter{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("orrery_identity_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    return dir;
}

struct CapturedLog {
    std::filesystem::path path = TempDir("log") / "debug.log";
    CapturedLog() { InitLogging({.tag = "test", .file = path.string(), .print_to_console = false, .debug = {}}); }
    ~CapturedLog() { InitLogging({.tag = "test", .file = "", .print_to_console = false, .debug = {}}); }
    size_t Count(const std::string& needle) const
    {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        std::string text = s.str();
        size_t count = 0;
        for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
        return count;
    }
};

PeerCredentials IpcPeer(uint32_t uid, int64_t pid)
{
    PeerCredentials who;
    who.transport = Transport::IPC;
    who.unix_peer = UnixCredentials{uid, uid, pid};
    return who;
}

Options Named(const char* role, std::vector<std::string> interfaces = {})
{
    Options options;
    options.role = role;
    options.interfaces = std::move(interfaces);
    options.connect_timeout = 2000ms;
    return options;
}

int32_t CodeOf(const std::function<void()>& call)
{
    try {
        call();
    } catch (const Error& e) {
        return static_cast<int32_t>(e.code());
    }
    return 0;
}

constexpr auto DENIED = static_cast<int32_t>(ErrorCode::PERMISSION_DENIED);

//! A bare DEALER that says hello with whatever it likes.
struct RawClient {
    void* context = zmq_ctx_new();
    void* socket = zmq_socket(context, ZMQ_DEALER);
    explicit RawClient(const std::string& endpoint)
    {
        int linger = 0, timeout = 3000;
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_connect(socket, endpoint.c_str());
    }
    ~RawClient()
    {
        zmq_close(socket);
        zmq_ctx_term(context);
    }
    //! Sends init.hello and returns the reply.
    std::unique_ptr<Envelope> Hello(uint64_t id, const PeerInfo& info)
    {
        std::vector<uint8_t> bytes;
        Writer w(bytes);
        BeginEnvelope(w, Kind::REQUEST, id, "init.hello");
        w.ArrayHeader(1);
        WriteValue(w, info);
        zmq_send(socket, bytes.data(), bytes.size(), 0);
        auto buffer = std::make_shared<std::vector<uint8_t>>(1 << 16);
        int n = zmq_recv(socket, buffer->data(), buffer->size(), 0);
        if (n < 0) return nullptr;
        buffer->resize(static_cast<size_t>(n));
        return DecodeEnvelope(*buffer, buffer);
    }
};

} // namespace

TEST_CASE("the kernel's credentials are read from the right end of libzmq's Peer-Address, strictly")
{
    // What libzmq 4.3.4 gives on this system for a Unix socket, and with a prefix that has colons of its own.
    CHECK(ParseUnixPeerAddress("localhost:0:0:7462") == UnixCredentials{0, 0, 7462});
    CHECK(ParseUnixPeerAddress("x:1:2:3:1000:100:42") == UnixCredentials{1000, 100, 42});
    CHECK(ParseUnixPeerAddress(":4294967295:4294967295:4194304") == UnixCredentials{4294967295u, 4294967295u, 4194304});
    for (const char* bad :
         {"", "localhost", "1:2:3", "127.0.0.1", "x:1:2:0", "x:-1:2:3", "x:+1:2:3", "x:01:2:3", "x:1:2:4194305",
          "x:4294967296:0:1", "x:1:2:3 ", "x:1:2:", "x:1::3", "x:1:2:3a", "x:1:2:99999999999"}) {
        CAPTURE(bad);
        CHECK_FALSE(ParseUnixPeerAddress(bad));
    }
}

TEST_CASE("-ipcallow takes a role and a numeric uid")
{
    std::string error;
    CHECK(ParseIpcAllow("wallet:1000", error) == UidGrant{"wallet", 1000});
    CHECK(ParseIpcAllow("gui-bridge:0", error) == UidGrant{"gui-bridge", 0});
    for (const char* bad : {"wallet", "Wallet:1", "wallet:abc", "wallet:-1", ":1", "wallet:", "a b:1"}) {
        CAPTURE(bad);
        CHECK_FALSE(ParseIpcAllow(bad, error));
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("a role may be claimed only as the credentials allow")
{
    const uint32_t own = 1000;
    RolePolicy open;
    SUBCASE("inproc is this process: any role")
    {
        CHECK_FALSE(open.Check(PeerCredentials{}, "wallet", own));
        CHECK(open.Check(PeerCredentials{}, "Not A Role", own));
    }
    SUBCASE("tcp: the role of the key, nothing else")
    {
        PeerCredentials who;
        who.transport = Transport::TCP;
        who.key_role = "p2p-agent";
        CHECK_FALSE(open.Check(who, "p2p-agent", own));
        CHECK(open.Check(who, "wallet", own)->find("allowed for role p2p-agent only") != std::string::npos);
        who.key_role.clear();
        CHECK(open.Check(who, "p2p-agent", own));
    }
    SUBCASE("ipc by hand: the server's own uid, unless -ipcallow names the role")
    {
        CHECK_FALSE(open.Check(IpcPeer(own, 50), "wallet", own));
        CHECK(open.Check(IpcPeer(1001, 50), "wallet", own));
        RolePolicy granted;
        granted.Allow({"wallet", 1001});
        CHECK_FALSE(granted.Check(IpcPeer(1001, 50), "wallet", own));
        CHECK(granted.Check(IpcPeer(own, 50), "wallet", own)); // the grant replaces the default for that role
        CHECK_FALSE(granted.Check(IpcPeer(own, 50), "gui-bridge", own));
        CHECK(granted.Check(IpcPeer(1001, 50), "gui-bridge", own));
        PeerCredentials none;
        none.transport = Transport::IPC;
        CHECK(open.Check(none, "wallet", own));
    }
    SUBCASE("ipc under orreryd: a process it started is only what it was started as")
    {
        RolePolicy supervised;
        supervised.SetProcessLookup([](int64_t pid) -> std::optional<std::string> {
            if (pid == 77) return "p2p-agent";
            if (pid == 99) throw std::runtime_error("orreryd is stopping");
            return std::nullopt;
        });
        CHECK_FALSE(supervised.Check(IpcPeer(own, 77), "p2p-agent", own));
        auto refusal = supervised.Check(IpcPeer(own, 77), "wallet", own);
        REQUIRE(refusal);
        CHECK(*refusal == "pid 77 was started by orreryd as p2p-agent");
        CHECK_FALSE(supervised.Check(IpcPeer(own, 78), "cli", own)); // not one of orreryd's: the uid rule
        CHECK(supervised.Check(IpcPeer(own, 99), "cli", own)->find("orreryd is stopping") != std::string::npos);
    }
}

TEST_CASE("the allow-list binds each key to one role; old lines with the role as comment still read, a line "
          "without a role fails clearly")
{
    const std::string key(40, 'a');
    const std::string other(40, 'b');
    std::string why;
    std::string list = "# comment\n" + other + " wallet\n" + key + " gui-bridge made on host x\n";
    CHECK(FindKeyRole(list, key, why) == std::optional<std::string>("gui-bridge"));
    CHECK(FindKeyRole(list, other, why) == std::optional<std::string>("wallet"));
    CHECK_FALSE(FindKeyRole(list, std::string(40, 'c'), why));
    CHECK(why.empty());
    CHECK_FALSE(FindKeyRole(key + "\n", key, why));
    CHECK(why.find("line 1 of authorized_clients gives the key no role") != std::string::npos);
    CHECK_FALSE(FindKeyRole(key + " My Laptop\n", key, why));
    CHECK_FALSE(FindKeyRole(key + "x wallet\n", key, why)); // a longer token is another key
}

TEST_CASE("each interface is named in the hello of, and served to, only the roles of the table")
{
    Dispatcher dispatcher;
    Serve<interfaces::Node>(dispatcher, nullptr, interfaces::NODE_CALLERS);
    Serve<interfaces::Chain>(dispatcher, nullptr, interfaces::CHAIN_CALLERS);
    Serve<interfaces::PeerHost>(dispatcher, nullptr, interfaces::PEER_HOST_CALLERS);
    Serve<interfaces::Wallet>(dispatcher, nullptr, interfaces::WALLET_CALLERS);
    Serve<interfaces::WalletLoader>(dispatcher, nullptr, interfaces::WALLET_CALLERS);
    Serve<interfaces::Supervisor>(dispatcher, nullptr, interfaces::SUPERVISOR_CALLERS);
    using Names = std::vector<std::string>;
    CHECK(dispatcher.InterfacesFor("p2p-agent") == Names{"peerHost"});
    CHECK(dispatcher.InterfacesFor("wallet") == Names{"chain"});
    CHECK(dispatcher.InterfacesFor("gui-bridge") == Names{"node", "supervisor", "wallet", "walletLoader"});
    CHECK(dispatcher.InterfacesFor("orreryd") == Names{"node"});
    CHECK(dispatcher.InterfacesFor("node") == Names{"supervisor"});
    CHECK(dispatcher.InterfacesFor("cli") == Names{"supervisor"});
    CHECK(dispatcher.InterfacesFor("stranger").empty());
    CHECK_FALSE(dispatcher.Allowed("node.setBan", "p2p-agent"));
    CHECK_FALSE(dispatcher.Allowed("chain.getTip", "p2p-agent"));
    CHECK_FALSE(dispatcher.Allowed("peerHost.peerDisconnected", "wallet"));
    CHECK(dispatcher.Allowed("peerHost.peerDisconnected", "p2p-agent"));
}

TEST_CASE("over ipc:// the server records the kernel's pid, not the one a hello claims")
{
    auto dir = TempDir("pid");
    const std::string endpoint = "ipc://" + (dir / "echo.sock").string();
    Server server(Named("echo"));
    server.Serve(test::MakeEcho());
    server.Bind(endpoint);
    RawClient raw(endpoint);
    auto reply = raw.Hello(1, PeerInfo{"tester", 424242, {}});
    REQUIRE(reply);
    CHECK(reply->kind == Kind::RESPONSE);
    auto peers = server.Peers();
    REQUIRE(peers.size() == 1);
    CHECK(peers[0]->Peer().role == "tester");
    CHECK(peers[0]->Peer().pid == ::getpid());
}

TEST_CASE("over ipc:// a process orreryd started as an agent cannot say hello as anything else")
{
    CapturedLog log;
    auto dir = TempDir("lookup");
    const std::string endpoint = "ipc://" + (dir / "node.sock").string();
    Options options = Named("node");
    const int64_t self = ::getpid();
    options.roles.SetProcessLookup([self](int64_t pid) -> std::optional<std::string> {
        if (pid == self) return "p2p-agent";
        return std::nullopt;
    });
    Server server(options);
    server.Serve(test::MakeEcho());
    server.Bind(endpoint);
    Client wallet(Named("wallet"));
    CHECK_THROWS_WITH_AS(wallet.Connect(endpoint), doctest::Contains("was started by orreryd as p2p-agent"), Error);
    CHECK(log.Count("permission denied") == 1);
    Client agent(Named("p2p-agent", {"echo"}));
    CHECK(MakeProxy<interfaces::Echo>(agent.Connect(endpoint))->echo("ok") == "ok");
}

TEST_CASE("a second hello on an open connection is refused with one log line; the connection stays up")
{
    CapturedLog log;
    auto dir = TempDir("again");
    const std::string endpoint = "ipc://" + (dir / "echo.sock").string();
    Server server(Named("echo"));
    server.Serve(test::MakeEcho(), {"p2p-agent"});
    server.Bind(endpoint);
    Client agent(Named("p2p-agent", {"echo"}));
    auto connection = agent.Connect(endpoint);
    auto echo = MakeProxy<interfaces::Echo>(connection);
    CHECK(CodeOf([&] {
              connection->Call<PeerInfo>("init.hello", PeerInfo{"wallet", ::getpid(), {"chain"}});
          }) == DENIED);
    CHECK(log.Count("permission denied: a second hello (as wallet) on a connection that said hello as p2p-agent") == 1);
    CHECK(server.Peers().at(0)->Peer().role == "p2p-agent");
    CHECK(echo->echo("still an agent") == "still an agent");
}

TEST_CASE("over tcp:// a client whose key is allowed for one role can say hello as that role only")
{
    CapturedLog log;
    auto server_keys = TempDir("server_keys");
    auto client_keys = TempDir("client_keys");
    Options server_options = Named("echo");
    server_options.keys_dir = server_keys;
    Server server(server_options);
    server.Serve(test::MakeEcho(), {"wallet"}); // as Chain: wallets only
    server.Bind("tcp://127.0.0.1:0");
    // The client's key pair is made under the name "agent" and allowed for role p2p-agent.
    LoadOrCreateKeyPair(client_keys, "agent");
    AuthorizeClient(server_keys, ReadPublicKey(client_keys, "agent"), "p2p-agent");
    auto options = [&](const char* role, std::vector<std::string> interfaces) {
        Options o = Named(role, std::move(interfaces));
        o.keys_dir = client_keys;
        o.server_public_key = ReadPublicKey(server_keys, "echo");
        return o;
    };
    // It holds the key of "agent" under the role's name, as a client reads keys_dir/<role>.key.
    std::filesystem::copy_file(client_keys / "agent.key", client_keys / "wallet.key");
    std::filesystem::copy_file(client_keys / "agent.key", client_keys / "p2p-agent.key");

    Client as_wallet(options("wallet", {}));
    CHECK_THROWS_WITH_AS(as_wallet.Connect(server.Endpoint()),
                         doctest::Contains("its CurveZMQ key is allowed for role p2p-agent only"), Error);
    CHECK(log.Count("permission denied") == 1);

    Client as_agent(options("p2p-agent", {}));
    auto connection = as_agent.Connect(server.Endpoint());
    auto echo = MakeProxy<interfaces::Echo>(connection);
    CHECK(CodeOf([&] { echo->echo("let me in"); }) == DENIED);
    CHECK(CodeOf([&] {
              connection->Call<PeerInfo>("init.hello", PeerInfo{"wallet", ::getpid(), {"echo"}});
          }) == DENIED);
    CHECK(CodeOf([&] { echo->echo("and now?"); }) == DENIED);
    CHECK(log.Count("permission denied") == 4);
    CHECK(connection->IsConnected());
}
