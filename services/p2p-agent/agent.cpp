// orrery-p2p-agent's start-up and its two adapters to the node: PeerEvents
// forwarded to PeerHost, and the Agent interface served back to the node.
#include <services/p2p-agent/agent.h>

#include <services/p2p-agent/peer.h>
#include <services/p2p-agent/sandbox.h>

#include <common/consensus/params.h>
#include <common/handoff/handoff.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/roles.h>
#include <common/ipc/endpoint.h>
#include <common/service/service.h>
#include <common/util/host_port.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>
#include <common/util/options.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace orrery::p2p_agent {
namespace {

//! bitcoind's defaults of -timeout (milliseconds) and -peertimeout (seconds).
constexpr int64_t DEFAULT_CONNECT_TIMEOUT = 5000;
constexpr int64_t DEFAULT_PEER_CONNECT_TIMEOUT = 60;

//! 32-byte hashes back to back, as PeerHost and Agent carry them.
std::vector<uint256> Hashes(const std::vector<uint8_t>& bytes, const char* what)
{
    if (bytes.size() % uint256::kSize != 0) throw std::runtime_error(std::string(what) + " must be 32 bytes each");
    std::vector<uint256> hashes;
    for (size_t at = 0; at < bytes.size(); at += uint256::kSize) {
        hashes.push_back(*uint256::FromBytes(std::span<const uint8_t>(bytes.data() + at, uint256::kSize)));
    }
    return hashes;
}

//! The Agent interface the node calls. The engine exists only once the node
//! has answered registerAgent; a disconnect asked before that is kept.
class AgentImpl final : public interfaces::Agent
{
public:
    void SetEngine(PeerEngine* engine)
    {
        std::lock_guard lock(m_mutex);
        m_engine = engine;
        if (m_engine && m_pending) m_engine->RequestDisconnect(*m_pending);
    }
    void setMockTime(int64_t time) override
    {
        std::lock_guard lock(m_mutex);
        SetMockTime(time);
        m_clock_pushed = true;
        if (m_engine) m_engine->ClockChanged();
        LogDebug(LogCategory::NET, "Mock time set to {} by the node", time);
    }
    //! Takes the mock time registerAgent answered, unless the node already pushed a newer one:
    //! a setmocktime between the node's answer and its arrival must not be undone.
    void AdoptRegisteredMockTime(int64_t time)
    {
        std::lock_guard lock(m_mutex);
        if (!m_clock_pushed) SetMockTime(time);
    }
    void disconnect(std::string reason) override
    {
        LogPrintf("The node asks to disconnect: {}", reason);
        std::lock_guard lock(m_mutex);
        std::string full = "disconnected by the node: " + reason;
        if (m_engine) {
            m_engine->RequestDisconnect(full);
        } else {
            m_pending = full;
        }
    }
    interfaces::PeerStats getStats() override
    {
        std::lock_guard lock(m_mutex);
        return m_engine ? m_engine->GetStats() : interfaces::PeerStats{};
    }
    void requestHeaders(std::vector<uint8_t> locator) override
    {
        auto hashes = Hashes(locator, "locator");
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->RequestHeaders(std::move(hashes));
    }
    void requestBlocks(std::vector<uint8_t> hashes) override
    {
        auto parsed = Hashes(hashes, "block hashes");
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->RequestBlocks(std::move(parsed));
    }
    void announceBlocks(std::vector<uint8_t> headers) override
    {
        if (headers.size() % BlockHeader::kSize != 0) throw std::runtime_error("headers must be 80 bytes each");
        std::vector<BlockHeader> parsed;
        for (size_t at = 0; at < headers.size(); at += BlockHeader::kSize) {
            parsed.push_back(DeserializeBlockHeader(std::span<const uint8_t>(headers.data() + at, BlockHeader::kSize)));
        }
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->AnnounceBlocks(std::move(parsed));
    }
    void announceTransactions(std::vector<uint8_t> hashes, bool wtxid) override
    {
        auto parsed = Hashes(hashes, "transaction hashes");
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->AnnounceTransactions(std::move(parsed), wtxid);
    }
    void requestTransactions(std::vector<uint8_t> hashes, bool wtxid) override
    {
        auto parsed = Hashes(hashes, "transaction hashes");
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->RequestTransactions(std::move(parsed), wtxid);
    }
    void sendFeeFilter(int64_t fee_rate) override
    {
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->SendFeeFilter(fee_rate);
    }
    void sendCompactBlockMode(bool high_bandwidth) override
    {
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->SendCompactBlockMode(high_bandwidth);
    }
    void sendCompactBlock(std::vector<uint8_t> cmpctblock) override
    {
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->SendCompactBlock(std::move(cmpctblock));
    }
    void requestCompactBlock(std::vector<uint8_t> hash) override
    {
        auto parsed = Hashes(hash, "block hash");
        if (parsed.size() != 1) throw std::runtime_error("one block hash expected");
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->RequestCompactBlock(parsed[0]);
    }
    void requestBlockTransactions(std::vector<uint8_t> getblocktxn) override
    {
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->RequestBlockTransactions(std::move(getblocktxn));
    }
    void requestAddresses() override
    {
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->RequestAddresses();
    }
    void sendAddresses(std::vector<uint8_t> addresses) override
    {
        std::lock_guard lock(m_mutex);
        if (m_engine) m_engine->SendAddresses(std::move(addresses));
    }
    std::optional<std::string> Pending()
    {
        std::lock_guard lock(m_mutex);
        return m_pending;
    }

private:
    std::mutex m_mutex;
    PeerEngine* m_engine{nullptr};
    std::optional<std::string> m_pending;
    bool m_clock_pushed{false};
};

//! Forwards the engine's reports to the node.
class HostEvents final : public PeerEvents
{
public:
    //! `escape` and `escape_user_agent`: the test hook of -testsandboxescapeuseragent (empty: none).
    HostEvents(interfaces::PeerHost& host, int64_t peer_id, std::string escape, std::string escape_user_agent)
        : m_host(host), m_peer_id(peer_id), m_escape(std::move(escape)),
          m_escape_user_agent(std::move(escape_user_agent))
    {
    }
    void HandshakeDone(const interfaces::PeerVersion& version) override
    {
        LogPrintf("Handshake done with peer={}: version {}, {}, height {}", m_peer_id, version.version,
                  version.user_agent, version.start_height);
        m_host.handshakeDone(m_peer_id, version);
        if (!m_escape_user_agent.empty() && version.user_agent.find(m_escape_user_agent) != std::string::npos) {
            LogPrintf("Test: trying to escape the sandbox ({}) after the handshake with {}", m_escape,
                      version.user_agent);
            LogPrintf("Test: sandbox escape not stopped: {}", TrySandboxEscape(m_escape));
        }
    }
    void Stats(const interfaces::PeerStats& stats) override { m_host.reportStats(m_peer_id, stats); }
    void HeadersReceived(std::vector<uint8_t> headers) override
    {
        m_host.headersReceived(m_peer_id, std::move(headers));
    }
    void BlockReceived(std::vector<uint8_t> block) override { m_host.blockReceived(m_peer_id, std::move(block)); }
    void BlocksAnnounced(std::vector<uint8_t> hashes) override { m_host.blocksAnnounced(m_peer_id, std::move(hashes)); }
    std::optional<std::vector<uint8_t>> GetHeaders(std::vector<uint8_t> locator, std::vector<uint8_t> stop) override
    {
        return m_host.getHeaders(m_peer_id, std::move(locator), std::move(stop));
    }
    std::vector<uint8_t> GetBlocks(std::vector<uint8_t> locator, std::vector<uint8_t> stop) override
    {
        return m_host.getBlocks(m_peer_id, std::move(locator), std::move(stop));
    }
    std::optional<std::vector<uint8_t>> GetBlock(std::vector<uint8_t> hash, bool witness) override
    {
        return m_host.getBlock(m_peer_id, std::move(hash), witness);
    }
    void TransactionsAnnounced(std::vector<uint8_t> hashes) override
    {
        m_host.transactionsAnnounced(m_peer_id, std::move(hashes));
    }
    void TransactionReceived(std::vector<uint8_t> tx) override { m_host.transactionReceived(m_peer_id, std::move(tx)); }
    void TransactionsNotFound(std::vector<uint8_t> hashes) override
    {
        m_host.transactionsNotFound(m_peer_id, std::move(hashes));
    }
    std::optional<std::vector<uint8_t>> GetTransaction(std::vector<uint8_t> hash, bool wtxid, bool witness) override
    {
        return m_host.getTransaction(m_peer_id, std::move(hash), wtxid, witness);
    }
    void FeeFilterReceived(int64_t fee_rate) override { m_host.feeFilterReceived(m_peer_id, fee_rate); }
    void MempoolRequested() override { m_host.mempoolRequested(m_peer_id); }
    void CompactBlocksOffered(bool high_bandwidth) override
    {
        m_host.compactBlocksOffered(m_peer_id, high_bandwidth);
    }
    void CompactBlockReceived(std::vector<uint8_t> cmpctblock) override
    {
        m_host.compactBlockReceived(m_peer_id, std::move(cmpctblock));
    }
    void BlockTransactionsReceived(std::vector<uint8_t> blocktxn) override
    {
        m_host.blockTransactionsReceived(m_peer_id, std::move(blocktxn));
    }
    std::optional<interfaces::WireMessage> GetBlockTransactions(std::vector<uint8_t> getblocktxn) override
    {
        return m_host.getBlockTransactions(m_peer_id, std::move(getblocktxn));
    }
    std::optional<interfaces::WireMessage> GetCompactBlock(std::vector<uint8_t> hash) override
    {
        return m_host.getCompactBlock(m_peer_id, std::move(hash));
    }
    void AddressesReceived(bool addrv2, std::vector<uint8_t> payload) override
    {
        m_host.addressesReceived(m_peer_id, addrv2, std::move(payload));
    }
    std::optional<std::vector<uint8_t>> GetAddresses() override { return m_host.getAddresses(m_peer_id); }
    bool Misbehaved(const std::string& reason) override { return m_host.peerMisbehaved(m_peer_id, reason); }

private:
    interfaces::PeerHost& m_host;
    int64_t m_peer_id;
    std::string m_escape;
    std::string m_escape_user_agent;
};

//! The socket's peer (or, with `local`, its own) address as "ip:port" / "[ip6]:port"; "" when unknown.
std::string SocketAddressOf(int fd, bool local = false)
{
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    auto* raw = reinterpret_cast<sockaddr*>(&address);
    if ((local ? ::getsockname(fd, raw, &length) : ::getpeername(fd, raw, &length)) != 0) return "";
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (::getnameinfo(raw, length, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return "";
    }
    // fmt rather than operator+ on a literal: GCC 12 warns falsely (-Wrestrict) on that at -O3.
    if (address.ss_family == AF_INET6) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

std::chrono::milliseconds Seconds(const ArgsManager& args, std::string_view name, int64_t fallback)
{
    return std::chrono::seconds{std::max<int64_t>(1, args.GetIntArg(name, fallback))};
}

} // namespace

void AddArgs(ArgsManager& args)
{
    AddOptions(args, PROCESS_P2P_AGENT); // -peertimeout, -timeout, logging, chain

    args.AddArg("-peerid=<id>", "The peer id the node chose for this connection", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-inboundfd=<fd>",
                "Serve an inbound connection whose socket is inherited as <fd>; without -peerid (a socket unit "
                "started the agent, not orreryd) the agent first asks the node to admit the peer",
                ARG_COMMAND_LINE_ONLY);
    args.AddArg("-connect=<host:port>", "Dial this peer (outbound connection)", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-spare=<fd>",
                "Start as a spare: connect to the node, then wait for orreryd to hand over an inbound peer "
                "on the Unix socket <fd> (see common/handoff/handoff.h)",
                ARG_COMMAND_LINE_ONLY);
    args.AddArg("-peeraddress=<ip:port>", "The peer's address as the node knows it", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-connectiontype=<type>", "bitcoind's connection type (inbound, outbound-full-relay, manual, ...)",
                ARG_COMMAND_LINE_ONLY);
    args.AddArg("-pinginterval=<seconds>", "Send a ping this often (default: 120)");
    args.AddArg("-testsandboxescape=<open|exec>",
                "Test only: after entering the sandbox, try to open "
                "/etc/passwd or execute /bin/true (the sandbox kills the agent)",
                ARG_COMMAND_LINE_ONLY);
    args.AddArg("-testsandboxescapeuseragent=<text>",
                "Test only: make the -testsandboxescape attempt after the handshake instead, and only with a "
                "peer whose user agent contains <text>",
                ARG_COMMAND_LINE_ONLY);
}

int DialPeer(const std::string& address, std::chrono::milliseconds timeout)
{
    auto parsed = ParseHostPort(address, 0);
    if (!parsed || parsed->port == 0) throw std::runtime_error("bad address " + address);
    const std::string host = parsed->host;
    const std::string port = std::to_string(parsed->port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error("cannot resolve " + address + ": " + ::gai_strerror(rc));
    }
    std::string error = "no address for " + address;
    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            error = std::string("socket: ") + std::strerror(errno);
            continue;
        }
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (rc == 0) {
                errno = ETIMEDOUT;
                rc = -1;
            } else if (rc > 0) {
                int so_error = 0;
                socklen_t length = sizeof(so_error);
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
                errno = so_error;
                rc = so_error == 0 ? 0 : -1;
            }
        }
        if (rc != 0) {
            error = "connect to " + address + " failed: " + std::strerror(errno);
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(found);
    if (fd < 0) throw std::runtime_error(error);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int Run(const ArgsManager& args)
{
    // Start-up: everything that needs files, names or new descriptors happens here.
    const bool spare = args.IsArgSet("spare");
    int64_t peer_id = args.GetIntArg("peerid", -1);
    const bool inbound = spare || args.IsArgSet("inboundfd");
    if (spare && (args.IsArgSet("peerid") || args.IsArgSet("inboundfd") || args.IsArgSet("connect"))) {
        LogPrintf("Error: -spare takes its peer from orreryd, not from -peerid, -inboundfd or -connect");
        return 1;
    }
    // -inboundfd without -peerid: started by a socket unit, the node admits the peer below.
    const bool admit = !spare && inbound && !args.IsArgSet("peerid");
    if (!spare && ((peer_id < 0 && !admit) || inbound == args.IsArgSet("connect"))) {
        LogPrintf("Error: -peerid and exactly one of -inboundfd and -connect are needed (or -spare, or "
                  "-inboundfd alone under a socket unit)");
        return 1;
    }
    ServiceProcess process(args, "p2p-agent"); // a client only: the IPC threads inherit its signal mask
    const sigset_t signals = process.Signals();

    // The node first: an outbound dial that fails is reported to it at once, so it
    // frees the peer id and redials on its own schedule instead of waiting for the
    // pending id to expire.
    ipc::Options options;
    try {
        options = process.IpcOptions();
    } catch (const std::exception& e) {
        return process.Fail(e.what());
    }
    options.interfaces = {"peerHost"};
    ipc::Client client(options);
    auto agent = std::make_shared<AgentImpl>();
    client.Serve<interfaces::Agent>(agent, interfaces::AGENT_CALLERS);
    const std::string endpoint = args.GetArg("ipcconnect", DefaultEndpoint(args, "node"));
    std::shared_ptr<ipc::Connection> connection;
    std::unique_ptr<interfaces::PeerHost> host;
    try {
        connection = client.Connect(endpoint);
        host = ipc::MakeProxy<interfaces::PeerHost>(connection);
    } catch (const std::exception& e) {
        LogPrintf("Error: cannot reach the node at {} for peer={}: {}", endpoint, peer_id, e.what());
        return 1;
    }

    int fd = -1;
    std::string address = args.GetArg("peeraddress", "");
    try {
        if (spare) {
            // The peer comes later, from orreryd.
        } else if (inbound) {
            fd = static_cast<int>(args.GetIntArg("inboundfd", -1));
            struct stat st {
            };
            if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
                throw std::runtime_error("-inboundfd=" + std::to_string(fd) + " is not a socket");
            }
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            if (address.empty()) address = SocketAddressOf(fd);
            if (admit) {
                // Started by a socket unit (systemd's Accept=yes, deploy/systemd/) rather than by orreryd:
                // nobody asked the node for this peer yet. The agent asks on its own connection, as the
                // p2p-agent its uid or key makes it, before it reads a byte from the peer; the node decides
                // as for orreryd (bans, limits, eviction) and binds the admitted id to this connection.
                const interfaces::Admission admission =
                    host->requestAdmission(address, SocketAddressOf(fd, /*local=*/true));
                if (!admission.accepted) {
                    LogPrintf("The node refused the inbound connection from {}: {}", address, admission.reason);
                    ::close(fd);
                    client.Stop();
                    return 0;
                }
                peer_id = admission.peer_id;
                LogPrintf("The node admitted the inbound connection from {} as peer={}", address, peer_id);
            }
        } else {
            std::string target = args.GetArg("connect", "");
            if (!HasPort(target)) {
                if (auto parsed = ParseHostPort(target, GetChainParams(args.GetChain()).default_port)) {
                    target = FormatHostPort(parsed->host, parsed->port);
                }
            }
            if (address.empty()) address = target;
            LogPrintf("Connecting to peer={} at {}", peer_id, target);
            fd = DialPeer(target, std::chrono::milliseconds{
                                      std::max<int64_t>(1, args.GetIntArg("timeout", DEFAULT_CONNECT_TIMEOUT))});
        }
    } catch (const std::exception& e) {
        LogPrintf("Error: {}", e.what());
        // Not registered: the node forgets the pending id (see PeerHost.peerDisconnected).
        try {
            host->peerDisconnected(peer_id, e.what());
        } catch (const std::exception& report) {
            LogPrintf("Cannot tell the node that peer={} failed: {}", peer_id, report.what());
        }
        client.Stop();
        return 1;
    }

    if (spare) {
        const int control = static_cast<int>(args.GetIntArg("spare", -1));
        handoff::SendReady(control);
        handoff::HandoffWait wait = handoff::WaitForHandoff(control);
        ::close(control);
        switch (wait.outcome) {
        case handoff::HandoffWait::Outcome::HANDOFF:
            break;
        case handoff::HandoffWait::Outcome::CLOSED:
        case handoff::HandoffWait::Outcome::SIGNALLED:
            LogDebug(LogCategory::NET, "Spare agent no longer needed");
            client.Stop();
            return 0;
        case handoff::HandoffWait::Outcome::BAD_MESSAGE:
            LogPrintf("Error: bad hand-off from orreryd on fd {}: {}", control, wait.error);
            client.Stop();
            return 1;
        }
        peer_id = wait.handoff.peer_id;
        fd = wait.handoff.fd;
        address = wait.handoff.address;
    }

    interfaces::HandshakeParams params;
    try {
        params = host->registerAgent(peer_id, address, inbound);
    } catch (const std::exception& e) {
        LogPrintf("Error: cannot register peer={} with the node at {}: {}", peer_id, endpoint, e.what());
        ::close(fd);
        return 1;
    }
    agent->AdoptRegisteredMockTime(params.mock_time);

    PeerConfig config;
    config.params = params;
    config.inbound = inbound;
    config.peer_address = address;
    config.peer_id = peer_id;
    // bitcoind's -peertimeout: how long a new peer has for the handshake before inactivity counts.
    config.handshake_timeout = Seconds(args, "peertimeout", DEFAULT_PEER_CONNECT_TIMEOUT);
    config.ping_interval = Seconds(args, "pinginterval", 120);
    const std::string escape = args.GetArg("testsandboxescape", "");
    const std::string escape_user_agent = args.GetArg("testsandboxescapeuseragent", "");
    HostEvents events(*host, peer_id, escape, escape.empty() ? "" : escape_user_agent);
    // Shared with the signal thread, which may outlive Run's stack.
    auto engine = std::make_shared<PeerEngine>(fd, config, events);
    agent->SetEngine(engine.get());
    // A signal ends the connection like a disconnect from the node would. The
    // thread is started before the sandbox and ends with the process.
    std::thread([engine, signals] {
        int signal = 0;
        while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
        }
        engine->RequestDisconnect(signal == SIGINT ? "SIGINT" : "SIGTERM");
    }).detach();

    try {
        SandboxReport report = EnterSandbox();
        std::string active, skipped;
        for (const auto& p : report.active) active += (active.empty() ? "" : ", ") + p;
        for (const auto& p : report.skipped) skipped += (skipped.empty() ? "" : "; ") + p;
        LogPrintf("Sandbox active: {}{}", active, skipped.empty() ? "" : " (not applied: " + skipped + ")");
    } catch (const std::exception& e) {
        LogPrintf("Error: cannot enter the sandbox: {}", e.what());
        try {
            host->peerDisconnected(peer_id, std::string("agent sandbox failed: ") + e.what());
        } catch (const std::exception&) {
        }
        return 1;
    }
    if (!escape.empty() && escape_user_agent.empty()) {
        LogPrintf("Test: trying to escape the sandbox ({})", escape);
        LogPrintf("Test: sandbox escape not stopped: {}", TrySandboxEscape(escape));
    }

    LogPrintf("Serving {} peer={} {} (network {})", args.GetArg("connectiontype", inbound ? "inbound" : "outbound"),
              peer_id, address, params.chain);
    const std::string reason = engine->Run();
    agent->SetEngine(nullptr);
    LogPrintf("Disconnecting peer={} {}: {}", peer_id, address, reason);
    try {
        host->peerDisconnected(peer_id, reason);
    } catch (const std::exception& e) {
        LogPrintf("Cannot tell the node that peer={} is gone: {}", peer_id, e.what());
    }
    client.Stop();
    return 0;
}

} // namespace orrery::p2p_agent
