// Who a connection is, in one process without sockets: parsing the kernel's
// credentials as libzmq reports them, the rules of which role a connection may
// claim, the allow-list's key roles, and the table of which role is served
// which interface. The same rules over
// real ipc:// and tcp:// sockets are in ipc_socket_tests.cpp.
#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/node_ipc.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/process_table_ipc.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/interfaces/wallet_ipc.h>
#include <common/ipc/curve.h>
#include <common/ipc/dispatcher.h>
#include <common/ipc/identity.h>

#include <doctest/doctest.h>

#include <stdexcept>

using namespace orrery;
using namespace orrery::ipc;

namespace {

PeerCredentials IpcPeer(uint32_t uid, int64_t pid)
{
    PeerCredentials who;
    who.transport = Transport::IPC;
    who.unix_peer = UnixCredentials{uid, uid, pid};
    return who;
}

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
    // '#' is a Z85 digit: a key that starts with it is a key, not a comment.
    const std::string hash_key = "#" + std::string(39, 'd');
    CHECK(FindKeyRole("# comment\n" + hash_key + " node\n", hash_key, why) == std::optional<std::string>("node"));
}

TEST_CASE("each interface is named in the hello of, and served to, only the roles of the table")
{
    Dispatcher dispatcher;
    Serve<interfaces::Node>(dispatcher, nullptr, interfaces::NODE_CALLERS);
    Serve<interfaces::Chain>(dispatcher, nullptr, interfaces::CHAIN_CALLERS);
    Serve<interfaces::PeerHost>(dispatcher, nullptr, interfaces::PEER_HOST_CALLERS);
    Serve<interfaces::WalletLoader>(dispatcher, nullptr, interfaces::WALLET_CALLERS);
    Serve<interfaces::Supervisor>(dispatcher, nullptr, interfaces::SUPERVISOR_CALLERS);
    Serve<interfaces::ProcessTable>(dispatcher, nullptr, interfaces::PROCESS_TABLE_CALLERS);
    Serve<interfaces::RpcRouter>(dispatcher, nullptr, interfaces::RPC_ROUTER_CALLERS);
    Serve<interfaces::RpcHost>(dispatcher, nullptr, interfaces::RPC_HOST_CALLERS);
    using Names = std::vector<std::string>;
    CHECK(dispatcher.InterfacesFor("p2p-agent") == Names{"peerHost"});
    CHECK(dispatcher.InterfacesFor("wallet") == Names{"chain", "processTable", "rpcRouter"});
    CHECK(dispatcher.InterfacesFor("gui-bridge") ==
          Names{"chain", "processTable", "rpcHost", "supervisor", "walletLoader"});
    CHECK(dispatcher.InterfacesFor("orreryd") == Names{"node"});
    CHECK(dispatcher.InterfacesFor("node") == Names{"processTable", "rpcRouter", "supervisor"});
    CHECK(dispatcher.InterfacesFor("cli") == Names{"supervisor"});
    CHECK(dispatcher.InterfacesFor("stranger").empty());
    CHECK_FALSE(dispatcher.Allowed("node.admitInbound", "p2p-agent"));
    CHECK_FALSE(dispatcher.Allowed("rpcHost.call", "p2p-agent"));
    CHECK_FALSE(dispatcher.Allowed("rpcRouter.registerTable", "p2p-agent"));
    CHECK_FALSE(dispatcher.Allowed("chain.getTip", "p2p-agent"));
    CHECK_FALSE(dispatcher.Allowed("peerHost.peerDisconnected", "wallet"));
    CHECK(dispatcher.Allowed("peerHost.peerDisconnected", "p2p-agent"));
}
