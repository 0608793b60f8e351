// orrery-p2p-agent-testhost: a test tool, not a service. It plays the two
// parts of the constellation an agent meets — orreryd accepting an inbound
// TCP connection and spawning an agent for it, and the node serving PeerHost —
// so that the functional tests can drive real agents with an independent
// Bitcoin implementation before orreryd and orrery-node do this themselves.
#include <common/interfaces/peer_host_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <tests/tools/quiet_peer_host.h>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace orrery;

namespace {

class TestHost final : public test_tools::QuietPeerHost
{
public:
    interfaces::HandshakeParams registerAgent(int64_t peer_id, std::string address, bool inbound) override
    {
        const int64_t pid = ipc::CurrentCall() ? ipc::CurrentCall()->Caller().pid : 0; // the kernel's, on ipc://
        LogPrintf("registerAgent peer={} pid={} address={} inbound={}", peer_id, pid, address, inbound);
        interfaces::HandshakeParams params;
        params.chain = "regtest";
        params.message_start = 0xdab5bffa;
        params.services = 1 | 8;
        params.user_agent = "/Orrery:" ORRERY_VERSION "/";
        params.nonce = 0x0ddba11;
        return params;
    }
    void handshakeDone(int64_t peer_id, interfaces::PeerVersion version) override
    {
        LogPrintf("handshakeDone peer={} version={} subver={}", peer_id, version.version, version.user_agent);
    }
    void reportStats(int64_t peer_id, interfaces::PeerStats stats) override
    {
        if (stats.ping_time) LogPrintf("reportStats peer={} ping={:.6f}", peer_id, *stats.ping_time);
    }
    void peerDisconnected(int64_t peer_id, std::string reason) override
    {
        LogPrintf("peerDisconnected peer={} reason={}", peer_id, reason);
    }
    // Block sync: the test host has no chain. It logs what arrives and serves nothing.
    void headersReceived(int64_t peer_id, std::vector<uint8_t> headers) override
    {
        LogPrintf("headersReceived peer={} count={}", peer_id, headers.size() / 80);
    }
    void blockReceived(int64_t peer_id, std::vector<uint8_t> block) override
    {
        LogPrintf("blockReceived peer={} bytes={}", peer_id, block.size());
    }
    void blocksAnnounced(int64_t peer_id, std::vector<uint8_t> hashes) override
    {
        LogPrintf("blocksAnnounced peer={} count={}", peer_id, hashes.size() / 32);
    }
};

} // namespace

int main(int argc, char* argv[])
{
    ArgsManager args;
    AddCommonArgs(args);
    args.AddArg("-agent=<path>", "The orrery-p2p-agent binary to spawn", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-port=<port>", "Listen on 127.0.0.1:<port> (0: any free port, printed)", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-agentarg=<arg>", "Extra argument for every agent (repeatable)", ARG_COMMAND_LINE_ONLY);
    args.ForceSetArg("printtoconsole", "1");
    if (auto code = InitProcess(args, argc, argv, "testhost", "Usage: orrery-p2p-agent-testhost [options]", false)) {
        return *code;
    }
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    ipc::Options options;
    options.role = "node";
    ipc::Server server(options);
    server.Serve<interfaces::PeerHost>(std::make_shared<TestHost>(), {"p2p-agent"});
    const std::string endpoint = "ipc://" + (args.GetDataDirBase() / "testhost.sock").string();
    server.Bind(endpoint);

    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(args.GetIntArg("port", 0)));
    socklen_t length = sizeof(address);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(listener, 16) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::perror("listen");
        return 1;
    }
    std::printf("listening 127.0.0.1:%d\n", ntohs(address.sin_port));
    std::fflush(stdout);

    std::atomic<bool> stopping{false};
    std::vector<pid_t> children;
    std::mutex children_mutex;
    std::thread acceptor([&] {
        int64_t next_peer_id = 1;
        while (!stopping) {
            pollfd p{listener, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            sockaddr_in peer{};
            socklen_t peer_length = sizeof(peer);
            const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC);
            if (fd < 0) continue;
            char ip[INET_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
            std::vector<std::string> agent_args = {args.GetArg("agent", "orrery-p2p-agent"),
                                                   "-regtest",
                                                   "-peerid=" + std::to_string(next_peer_id++),
                                                   "-inboundfd=3",
                                                   "-peeraddress=" + std::string(ip) + ":" +
                                                       std::to_string(ntohs(peer.sin_port)),
                                                   "-ipcconnect=" + endpoint};
            for (const auto& extra : args.GetArgs("agentarg")) agent_args.push_back(extra);
            std::vector<char*> argv_spawn;
            for (auto& a : agent_args) argv_spawn.push_back(a.data());
            argv_spawn.push_back(nullptr);
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init(&actions);
            posix_spawn_file_actions_adddup2(&actions, fd, 3);
            pid_t pid = -1;
            if (::posix_spawn(&pid, argv_spawn[0], &actions, nullptr, argv_spawn.data(), environ) == 0) {
                std::lock_guard lock(children_mutex);
                children.push_back(pid);
            }
            posix_spawn_file_actions_destroy(&actions);
            ::close(fd);
        }
    });
    // Reaps agents as they exit and logs how.
    std::thread reaper([&] {
        while (!stopping) {
            int status = 0;
            const pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            {
                std::lock_guard lock(children_mutex);
                std::erase(children, pid);
            }
            if (WIFSIGNALED(status)) {
                LogPrintf("agent pid={} killed by signal {}", pid, WTERMSIG(status));
            } else {
                LogPrintf("agent pid={} exited with {}", pid, WEXITSTATUS(status));
            }
        }
    });

    int signal = 0;
    sigwait(&signals, &signal);
    stopping = true;
    acceptor.join();
    reaper.join();
    {
        std::lock_guard lock(children_mutex);
        for (pid_t pid : children) ::kill(pid, SIGTERM);
        for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
    }
    ::close(listener);
    server.Stop();
    return 0;
}
