// rogue_agent: a TEST TOOL standing in for a p2p-agent that a stranger's bytes
// have taken over (tests/functional/test_identity.py). orreryd runs it as its
// agent binary (-agentbinary) with two extra options (-agentarg):
//   -realagent=<path>  the real orrery-p2p-agent
//   -roguefile=<path>  while this file does not exist, and for spares, it
//                      execs the real agent with the other arguments; once it
//                      exists (holding the id of a victim peer), the next
//                      agent started for a peer turns rogue.
// The rogue registers its own peer over the real protocol, then tries what the
// sandbox exists to contain: every Node method, PeerHost calls for the victim
// peer, Chain.getTip, a second hello as a wallet, and offering RPC methods to
// the gui-bridge as the node (the RPC methods, setban and the like, live there). It prints one line per
// attempt ("rogue: <method> refused: <code> <message>" or "... ALLOWED"), then
// "rogue: done" and holds its peer until SIGTERM.
#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/node_ipc.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/ipc/endpoint.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

using namespace orrery;

namespace {

std::string ValueOf(const std::vector<std::string>& args, std::string_view name)
{
    const std::string prefix = "-" + std::string(name) + "=";
    for (const auto& arg : args) {
        if (arg.starts_with(prefix)) return arg.substr(prefix.size());
    }
    return {};
}

int attempts_refused = 0;
int attempts_allowed = 0;

void Try(const char* what, const std::function<void()>& call)
{
    try {
        call();
        ++attempts_allowed;
        std::fprintf(stderr, "rogue: %s ALLOWED\n", what);
    } catch (const ipc::Error& e) {
        ++attempts_refused;
        std::fprintf(stderr, "rogue: %s refused: %d %s\n", what, static_cast<int>(e.code()), e.what());
    }
}

} // namespace

int main(int argc, char* argv[])
{
    std::vector<std::string> args(argv + 1, argv + argc);
    const std::string real_agent = ValueOf(args, "realagent");
    const std::string rogue_file = ValueOf(args, "roguefile");
    const std::string peer_id_text = ValueOf(args, "peerid");
    std::ifstream victim_file(rogue_file);
    int64_t victim = -1;
    if (rogue_file.empty() || peer_id_text.empty() || !(victim_file >> victim)) {
        // Not the rogue one: become the real agent, without our own options.
        std::vector<char*> exec_argv{const_cast<char*>("orrery-p2p-agent")};
        for (auto& arg : args) {
            if (!arg.starts_with("-realagent=") && !arg.starts_with("-roguefile=")) exec_argv.push_back(arg.data());
        }
        exec_argv.push_back(nullptr);
        ::execv(real_agent.c_str(), exec_argv.data());
        std::perror("rogue_agent: execv");
        return 1;
    }
    std::remove(rogue_file.c_str()); // one rogue only
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const int64_t own = std::stoll(peer_id_text);
    ipc::Options options;
    options.role = "p2p-agent";
    options.interfaces = {"peerHost"};
    ipc::Client client(options);
    std::shared_ptr<ipc::Connection> connection;
    try {
        connection = client.Connect(ValueOf(args, "ipcconnect"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rogue: cannot reach the node: %s\n", e.what());
        return 1;
    }
    auto host = ipc::MakeProxy<interfaces::PeerHost>(connection);
    auto node = ipc::MakeProxy<interfaces::Node>(connection);
    auto chain = ipc::MakeProxy<interfaces::Chain>(connection);
    auto rpc = ipc::MakeProxy<interfaces::RpcHost>(connection);
    try {
        host->registerAgent(own, ValueOf(args, "peeraddress"), true);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rogue: cannot register peer %lld: %s\n", static_cast<long long>(own), e.what());
        return 1;
    }
    std::fprintf(stderr, "rogue: registered peer %lld, attacking peer %lld\n", static_cast<long long>(own),
                 static_cast<long long>(victim));

    // The node's RPC methods (setban, addnode, disconnectnode, ...) are served only to the gui-bridge,
    // over the node's own registration with it: on the node's endpoint there is no RpcHost to call.
    Try("rpcHost.call setban", [&] { rpc->call("setban", R"(["127.0.0.1","add"])", std::nullopt); });
    Try("rpcHost.call disconnectnode",
        [&] { rpc->call("disconnectnode", "[\"\"," + std::to_string(victim) + "]", std::nullopt); });
    Try("node.admitInbound", [&] { node->admitInbound("192.0.2.66:1", ""); });
    Try("peerHost.peerDisconnected", [&] { host->peerDisconnected(victim, "rogue"); });
    Try("peerHost.handshakeDone", [&] { host->handshakeDone(victim, {}); });
    Try("peerHost.reportStats", [&] { host->reportStats(victim, {}); });
    Try("peerHost.registerAgent", [&] { host->registerAgent(victim, "", true); });
    Try("peerHost.headersReceived", [&] { host->headersReceived(victim, {}); });
    Try("peerHost.blockReceived", [&] { host->blockReceived(victim, {}); });
    Try("peerHost.getBlock", [&] { host->getBlock(victim, std::vector<uint8_t>(32), true); });
    Try("peerHost.transactionReceived", [&] { host->transactionReceived(victim, {}); });
    Try("peerHost.getTransaction", [&] { host->getTransaction(victim, std::vector<uint8_t>(32), true, true); });
    Try("peerHost.feeFilterReceived", [&] { host->feeFilterReceived(victim, 1000); });
    Try("chain.getTip", [&] { chain->getTip(); });
    Try("init.hello", [&] {
        connection->Call<ipc::PeerInfo>("init.hello", ipc::PeerInfo{"wallet", ::getpid(), {"chain"}});
    });
    Try("chain.getTip after the second hello", [&] { chain->getTip(); });
    // The RPC methods live in the services' tables, which they register with the gui-bridge:
    // try to offer a table there, as the node and as what this process is.
    std::string router = ValueOf(args, "ipcconnect");
    router = router.substr(0, router.rfind('/') + 1) + "rpc-router.sock";
    for (const char* role : {"node", "p2p-agent"}) {
        ipc::Options router_options;
        router_options.role = role;
        ipc::Client router_client(router_options);
        const std::string what = std::string("rpcRouter.registerTable as ") + role;
        Try(what.c_str(), [&] {
            auto link = router_client.Connect(router);
            interfaces::RpcTableInfo table{"node", {interfaces::RpcMethodInfo{"setban", "Network", "rogue", {}}}};
            link->Call<void>("rpcRouter.registerTable", uint64_t{1}, table);
        });
        router_client.Stop();
    }
    std::fprintf(stderr, "rogue: done, %d refused, %d allowed\n", attempts_refused, attempts_allowed);

    int signal = 0;
    sigwait(&signals, &signal);
    client.Stop();
    return 0;
}
