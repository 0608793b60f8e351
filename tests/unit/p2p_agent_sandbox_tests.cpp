// The real orrery-p2p-agent binary, registered with a stand-in PeerHost served
// from this test and given one end of a socketpair as its inbound peer socket:
// it completes a handshake inside its sandbox, obeys Agent.disconnect, and is
// killed by SIGSYS when it tries to open a file or execute a program.
#include "test_util.h"
#include <common/interfaces/peer_host_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/p2p/messages.h>
#include <common/p2p/protocol.h>
#include <tests/tools/quiet_peer_host.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace orrery;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t MAGIC = 0xdab5bffa;

std::filesystem::path AgentBinary()
{
    const char* build = std::getenv("ORRERY_BUILD_DIR");
    if (!build) return {};
    auto path = std::filesystem::path(build) / "services" / "p2p-agent" / "orrery-p2p-agent";
    return std::filesystem::exists(path) ? path : std::filesystem::path{};
}

//! Plays the node's side of PeerHost and records the calls.
class FakeHost final : public test_tools::QuietPeerHost
{
public:
    interfaces::HandshakeParams registerAgent(int64_t peer_id, std::string, bool inbound) override
    {
        const int64_t pid = ipc::CurrentCall() ? ipc::CurrentCall()->Caller().pid : 0;
        std::lock_guard lock(m_mutex);
        m_registered = peer_id;
        m_pid = pid;
        m_inbound = inbound;
        m_changed.notify_all();
        interfaces::HandshakeParams params;
        params.chain = "regtest";
        params.message_start = MAGIC;
        params.services = p2p::NODE_NETWORK | p2p::NODE_WITNESS;
        params.user_agent = "/Orrery:0.1.0/";
        params.nonce = 77;
        return params;
    }
    void handshakeDone(int64_t, interfaces::PeerVersion version) override
    {
        std::lock_guard lock(m_mutex);
        m_version = version;
        m_changed.notify_all();
    }
    void reportStats(int64_t, interfaces::PeerStats stats) override
    {
        std::lock_guard lock(m_mutex);
        if (stats.ping_time) m_ping_reported = true;
        m_changed.notify_all();
    }
    void peerDisconnected(int64_t, std::string reason) override
    {
        std::lock_guard lock(m_mutex);
        m_disconnected = reason;
        m_changed.notify_all();
    }
    template <typename P> bool WaitFor(P predicate, std::chrono::milliseconds timeout = 10s)
    {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, timeout, [&] { return predicate(*this); });
    }

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::optional<int64_t> m_registered;
    int64_t m_pid{0};
    bool m_inbound{false};
    std::optional<interfaces::PeerVersion> m_version;
    bool m_ping_reported{false};
    std::optional<std::string> m_disconnected;
};

//! A stand-in node, one agent process and the peer's end of its socket.
struct AgentProcess {
    orrery::test::TempDir dir{"orrery_agent_test"};
    std::shared_ptr<FakeHost> host = std::make_shared<FakeHost>();
    std::unique_ptr<ipc::Server> server;
    int peer_fd{-1};
    int stderr_fd{-1};
    pid_t pid{-1};
    int status{0};

    explicit AgentProcess(std::vector<std::string> extra)
    {
        ipc::Options options;
        options.role = "node";
        server = std::make_unique<ipc::Server>(options);
        server->Serve<interfaces::PeerHost>(host, {"p2p-agent"});
        const std::string endpoint = "ipc://" + (dir / "node.sock").string();
        server->Bind(endpoint);

        int pair[2], err[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
        REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        peer_fd = pair[0];
        stderr_fd = err[0];
        std::vector<std::string> args = {AgentBinary().string(), "-regtest", "-datadir=" + dir.path.string(),
                                         "-peerid=1", "-ipcconnect=" + endpoint};
        const bool outbound =
            std::any_of(extra.begin(), extra.end(), [](auto& a) { return a.starts_with("-connect="); });
        if (!outbound) {
            args.push_back("-inboundfd=3");
            args.push_back("-peeraddress=127.0.0.1:50000");
        }
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pair[1], 3);
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
        REQUIRE(::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pair[1]);
        ::close(err[1]);
    }
    ~AgentProcess()
    {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        ::close(peer_fd);
        ::close(stderr_fd);
        server->Stop();
    }
    //! Waits for the agent to exit; false if it is still running after `timeout`.
    bool WaitExit(std::chrono::milliseconds timeout = 10s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return true;
            }
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }
    //! Everything the agent logged (call after it exited).
    std::string Log()
    {
        std::string text;
        char buffer[4096];
        ssize_t got;
        while ((got = ::read(stderr_fd, buffer, sizeof(buffer))) > 0) text.append(buffer, size_t(got));
        return text;
    }
    void Send(const p2p::Message& message)
    {
        auto frame = p2p::EncodeMessage(MAGIC, message);
        REQUIRE(::send(peer_fd, frame.data(), frame.size(), MSG_NOSIGNAL) == ssize_t(frame.size()));
    }
    std::string Receive(p2p::Deframer& deframer, std::chrono::milliseconds timeout = 10s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto m = deframer.Next()) return m->command;
            pollfd p{peer_fd, POLLIN, 0};
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            REQUIRE(left.count() > 0);
            REQUIRE(::poll(&p, 1, static_cast<int>(left.count())) == 1);
            uint8_t buffer[4096];
            const ssize_t got = ::recv(peer_fd, buffer, sizeof(buffer), 0);
            REQUIRE(got > 0);
            deframer.Feed(std::span<const uint8_t>(buffer, size_t(got)));
        }
    }
};

p2p::VersionMessage PeerVersion()
{
    p2p::VersionMessage v;
    v.services = p2p::NODE_NETWORK;
    v.nonce = 99;
    v.user_agent = "/test-peer/";
    v.start_height = 3;
    return v;
}

} // namespace

TEST_CASE("the sandboxed agent completes a handshake and answers a ping")
{
    if (AgentBinary().empty()) {
        MESSAGE("skipped: $ORRERY_BUILD_DIR/services/p2p-agent/orrery-p2p-agent is not built");
        return;
    }
    AgentProcess agent({"-pinginterval=1"});
    REQUIRE(agent.host->WaitFor([](FakeHost& h) { return h.m_registered.has_value(); }));
    CHECK(*agent.host->m_registered == 1);
    CHECK(agent.host->m_pid == agent.pid);
    CHECK(agent.host->m_inbound);
    p2p::Deframer deframer(MAGIC);
    agent.Send(PeerVersion());
    CHECK(agent.Receive(deframer) == "version");
    CHECK(agent.Receive(deframer) == "wtxidrelay");
    CHECK(agent.Receive(deframer) == "sendaddrv2");
    CHECK(agent.Receive(deframer) == "verack");
    agent.Send(p2p::VerackMessage{});
    CHECK(agent.Receive(deframer) == "sendheaders");
    CHECK(agent.Receive(deframer) == "sendcmpct"); // BIP152 version 2, low-bandwidth, to a peer of 70014 or later
    CHECK(agent.host->WaitFor([](FakeHost& h) { return h.m_version.has_value(); }));
    CHECK(agent.host->m_version->user_agent == "/test-peer/");
    // The agent pings at once; our pong gives the node a latency.
    CHECK(agent.Receive(deframer) == "ping");
    agent.Send(p2p::PingMessage{5});
    std::string command = agent.Receive(deframer);
    while (command == "ping") command = agent.Receive(deframer);
    CHECK(command == "pong");

    // The node asks the agent to go: it closes the socket, reports and exits 0.
    auto peers = agent.server->Peers();
    REQUIRE(peers.size() == 1);
    ipc::MakeProxy<interfaces::Agent>(peers[0])->disconnect("test done");
    REQUIRE(agent.WaitExit());
    CHECK(WIFEXITED(agent.status));
    CHECK(WEXITSTATUS(agent.status) == 0);
    CHECK(agent.host->WaitFor([](FakeHost& h) { return h.m_disconnected.has_value(); }));
    CHECK(*agent.host->m_disconnected == "disconnected by the node: test done");
    const std::string log = agent.Log();
    CHECK(log.find("Sandbox active:") != std::string::npos);
    CHECK(log.find("seccomp") != std::string::npos);
}

TEST_CASE("a peer that hangs up makes the sandboxed agent report and exit 0")
{
    if (AgentBinary().empty()) {
        MESSAGE("skipped: orrery-p2p-agent is not built");
        return;
    }
    AgentProcess agent({});
    REQUIRE(agent.host->WaitFor([](FakeHost& h) { return h.m_registered.has_value(); }));
    ::shutdown(agent.peer_fd, SHUT_RDWR);
    REQUIRE(agent.WaitExit());
    CHECK(WIFEXITED(agent.status));
    CHECK(WEXITSTATUS(agent.status) == 0);
    CHECK(agent.host->WaitFor([](FakeHost& h) { return h.m_disconnected.has_value(); }));
    CHECK(*agent.host->m_disconnected == "peer closed the connection");
}

TEST_CASE("opening a file from inside the sandbox kills the agent with SIGSYS")
{
    if (AgentBinary().empty()) {
        MESSAGE("skipped: orrery-p2p-agent is not built");
        return;
    }
    AgentProcess agent({"-testsandboxescape=open"});
    REQUIRE(agent.WaitExit());
    REQUIRE(WIFSIGNALED(agent.status));
    CHECK(WTERMSIG(agent.status) == SIGSYS);
    const std::string log = agent.Log();
    CHECK(log.find("trying to escape the sandbox (open)") != std::string::npos);
    CHECK(log.find("not stopped") == std::string::npos);
    // The stand-in node serves on: a second agent registers normally.
    AgentProcess next({});
    CHECK(next.host->WaitFor([](FakeHost& h) { return h.m_registered.has_value(); }));
}

TEST_CASE("executing a program from inside the sandbox kills the agent with SIGSYS")
{
    if (AgentBinary().empty()) {
        MESSAGE("skipped: orrery-p2p-agent is not built");
        return;
    }
    AgentProcess agent({"-testsandboxescape=exec"});
    REQUIRE(agent.WaitExit());
    REQUIRE(WIFSIGNALED(agent.status));
    CHECK(WTERMSIG(agent.status) == SIGSYS);
    CHECK(agent.Log().find("trying to escape the sandbox (exec)") != std::string::npos);
}

namespace {

//! A TCP listener on 127.0.0.1 for the agent to dial.
struct Listener {
    int fd{-1};
    uint16_t port{0};
    Listener()
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof(address);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port = ntohs(address.sin_port);
    }
    ~Listener() { ::close(fd); }
};

} // namespace

TEST_CASE("an outbound agent dials its peer, sends version first and reports an outbound connection")
{
    if (AgentBinary().empty()) {
        MESSAGE("skipped: orrery-p2p-agent is not built");
        return;
    }
    Listener listener;
    AgentProcess agent({"-connect=127.0.0.1:" + std::to_string(listener.port), "-connectiontype=manual"});
    pollfd p{listener.fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    ::close(agent.peer_fd);
    agent.peer_fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(agent.peer_fd >= 0);
    p2p::Deframer deframer(MAGIC);
    CHECK(agent.Receive(deframer) == "version");
    REQUIRE(agent.host->WaitFor([](FakeHost& h) { return h.m_registered.has_value(); }));
    CHECK(!agent.host->m_inbound);
    agent.Send(PeerVersion());
    agent.Send(p2p::VerackMessage{});
    CHECK(agent.Receive(deframer) == "wtxidrelay");
    CHECK(agent.Receive(deframer) == "sendaddrv2");
    CHECK(agent.Receive(deframer) == "verack");
    CHECK(agent.Receive(deframer) == "sendheaders");
    CHECK(agent.host->WaitFor([](FakeHost& h) { return h.m_version.has_value(); }));
    ::kill(agent.pid, SIGTERM);
    REQUIRE(agent.WaitExit());
    CHECK(WIFEXITED(agent.status));
    CHECK(WEXITSTATUS(agent.status) == 0);
    CHECK(agent.host->WaitFor([](FakeHost& h) { return h.m_disconnected == "SIGTERM"; }));
}

TEST_CASE("an outbound agent that cannot reach its peer reports it without registering and exits 1")
{
    if (AgentBinary().empty()) {
        MESSAGE("skipped: orrery-p2p-agent is not built");
        return;
    }
    uint16_t closed_port = 0;
    {
        Listener listener; // bound, then closed: nobody listens there any more
        closed_port = listener.port;
    }
    AgentProcess agent({"-connect=127.0.0.1:" + std::to_string(closed_port)});
    REQUIRE(agent.WaitExit());
    CHECK(WIFEXITED(agent.status));
    CHECK(WEXITSTATUS(agent.status) == 1);
    const std::string failure = "connect to 127.0.0.1:" + std::to_string(closed_port) + " failed: Connection refused";
    CHECK(agent.Log().find(failure) != std::string::npos);
    CHECK(!agent.host->m_registered);
    // The node hears of it at once, so it frees the peer id instead of waiting for it to expire.
    CHECK(agent.host->WaitFor([&](FakeHost& h) { return h.m_disconnected == failure; }));
}
