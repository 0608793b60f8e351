// orrery-test-service: a stand-in for node, wallet, gui-bridge and p2p-agent
// that orreryd's tests start through -nodebinary= and friends, so that the
// supervisor is tested on its own. orreryd names a child "orrery-<role>" in
// argv[0]; this program takes its role from there. Not installed.
//   node:       serves Node (admitInbound accepts every peer) and PeerHost on -ipcbind;
//               with ORRERY_TEST_OUTBOUND=<host:port> it asks orreryd once to dial that address;
//               with ORRERY_TEST_RESTART=<role>[,<role>...] it asks orreryd to restart each.
//   wallet, gui-bridge: bind -ipcbind and serve nothing (readiness is the hello).
//   node and wallet also register an empty table of RPC methods with the gui-bridge, as the
//   real ones register theirs (a real gui-bridge waits for both before it is ready).
//   p2p-agent:  registers with the node, then holds the inbound fd or the -connect
//               connection until the peer closes it.
#include <common/interfaces/node_ipc.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/router_link.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/options.h>
#include <tests/tools/quiet_peer_host.h>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace orrery;

class TestNode final : public interfaces::Node, public test_tools::QuietPeerHost
{
public:
    interfaces::Admission admitInbound(std::string address, std::string local_address) override
    {
        interfaces::Admission admission;
        admission.accepted = std::getenv("ORRERY_TEST_REFUSE_INBOUND") == nullptr;
        admission.peer_id = m_next_peer++;
        admission.reason = admission.accepted ? "" : "refused by test";
        LogPrintf("admitInbound {} on {}: {}", address, local_address, admission.accepted ? "accepted" : "refused");
        return admission;
    }
    interfaces::Admission requestAdmission(std::string address, std::string local_address) override
    {
        return admitInbound(std::move(address), std::move(local_address));
    }
    interfaces::HandshakeParams registerAgent(int64_t peer_id, std::string address, bool inbound) override
    {
        const int64_t pid = ipc::CurrentCall() ? ipc::CurrentCall()->Caller().pid : 0; // the kernel's, on ipc://
        LogPrintf("registerAgent peer={} pid={} address={} inbound={}", peer_id, pid, address, inbound);
        interfaces::HandshakeParams params;
        params.chain = "regtest";
        return params;
    }
    void peerDisconnected(int64_t peer_id, std::string reason) override
    {
        LogPrintf("peerDisconnected peer={} reason={}", peer_id, reason);
    }

private:
    std::atomic<int64_t> m_next_peer{1};
};

int WaitForStop()
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    int signal = 0;
    sigwait(&signals, &signal);
    LogPrintf("Stopping on signal {}", signal);
    return 0;
}

int DialTcp(const std::string& address)
{
    size_t colon = address.rfind(':');
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &target.sin_addr);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof(target)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

int RunAgent(const ArgsManager& args)
{
    int64_t peer_id = args.GetIntArg("peerid", -1);
    bool inbound = args.IsArgSet("inboundfd");
    std::string address = inbound ? args.GetArg("peeraddress", "") : args.GetArg("connect", "");
    ipc::Options options;
    options.role = "p2p-agent";
    options.interfaces = {"peerHost"};
    ipc::Client client(options);
    auto host = ipc::MakeProxy<interfaces::PeerHost>(client.Connect(args.GetArg("ipcconnect", "")));
    host->registerAgent(peer_id, address, inbound);
    int fd = inbound ? static_cast<int>(args.GetIntArg("inboundfd", 3)) : DialTcp(address);
    if (fd < 0) {
        host->peerDisconnected(peer_id, "cannot connect");
        return 1;
    }
    LogPrintf("peer {} {} {}", peer_id, inbound ? "from" : "to", address);
    char buffer[4096];
    while (::read(fd, buffer, sizeof(buffer)) > 0) {
    }
    host->peerDisconnected(peer_id, "peer closed the connection");
    return 0;
}

//! The test hooks of the stand-in node: calls orreryd makes possible only for a node.
void CallSupervisor(const ArgsManager& args)
{
    ipc::Options options;
    options.role = "node";
    ipc::Client client(options);
    std::unique_ptr<interfaces::Supervisor> supervisor;
    try {
        supervisor = ipc::MakeProxy<interfaces::Supervisor>(
            client.Connect(args.GetArg("supervisorconnect", DefaultEndpoint(args, "supervisor"))));
    } catch (const std::exception& e) {
        LogPrintf("cannot reach orreryd: {}", e.what());
        return;
    }
    if (const char* address = std::getenv("ORRERY_TEST_OUTBOUND")) {
        try {
            supervisor->openConnection(address, 1000, "manual");
            LogPrintf("openConnection {} done", address);
        } catch (const std::exception& e) {
            LogPrintf("openConnection {} failed: {}", address, e.what());
        }
    }
    std::string roles = std::getenv("ORRERY_TEST_RESTART") ? std::getenv("ORRERY_TEST_RESTART") : "";
    for (size_t start = 0; start < roles.size();) {
        size_t comma = std::min(roles.find(',', start), roles.size());
        std::string role = roles.substr(start, comma - start);
        start = comma + 1;
        for (int attempt = 0; attempt < 100; ++attempt) {
            try {
                supervisor->restart(role);
                LogPrintf("restart {} done", role);
            } catch (const std::exception& e) {
                if (std::string(e.what()).find("not started yet") != std::string::npos) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    continue; // orreryd starts it once this node is ready
                }
                LogPrintf("restart {} failed: {}", role, e.what());
            }
            break;
        }
    }
}

} // namespace

int main(int argc, char* argv[])
{
    std::string role = std::filesystem::path(argv[0]).filename().string();
    if (role.starts_with("orrery-")) role = role.substr(7);
    ArgsManager args;
    AddOptions(args, PROCESS_ORRERYD); // every row: it stands in for any service
    for (const char* option :
         {"-supervisorconnect=<e>", "-walletconnect=<e>", "-peerid=<n>", "-inboundfd=<fd>", "-peeraddress=<a>",
          "-connectiontype=<t>", "-spare=<fd>", "-pinginterval=<n>", "-rpcrouterconnect=<e>", "-rpcrouterbind=<e>"}) {
        args.AddArg(option, "accepted as orreryd passes it");
    }
    if (auto code = InitProcess(args, argc, argv, role, "Usage: orrery-test-service (as orrery-<role>)")) return *code;
    if (role == "p2p-agent") return RunAgent(args);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ipc::Options options;
    options.role = role;
    ipc::Server server(options);
    if (role == "node") {
        auto node = std::make_shared<TestNode>();
        server.Serve<interfaces::Node>(node);
        server.Serve<interfaces::PeerHost>(node);
    }
    server.Bind(args.GetArg("ipcbind", DefaultEndpoint(args, role)));
    LogPrintf("test service serving as {} on {}", role, server.Endpoint());
    std::unique_ptr<rpc::RouterLink> router;
    if (role == "node" || role == "wallet") {
        ipc::Options router_options = options;
        router_options.interfaces = {"rpcRouter"};
        router_options.server_role = "gui-bridge";
        router = std::make_unique<rpc::RouterLink>(role, std::make_shared<rpc::Table>(),
                                                   args.GetArg("rpcrouterconnect", DefaultEndpoint(args, "rpc-router")),
                                                   router_options);
        router->Start();
    }
    std::thread caller;
    if (role == "node" && (std::getenv("ORRERY_TEST_OUTBOUND") || std::getenv("ORRERY_TEST_RESTART"))) {
        caller = std::thread([&args] { CallSupervisor(args); });
    }
    int code = WaitForStop();
    if (caller.joinable()) caller.join();
    if (router) router->Stop();
    server.Stop();
    return code;
}
