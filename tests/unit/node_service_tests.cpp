// The node's served interfaces over real IPC links in one process: p2p-agent-like
// clients of PeerHost serving Agent back, an orreryd-like caller of Node, and a
// stand-in orreryd receiving openConnection; and what the node's RPC methods
// ask of NodeService (their JSON is in node_rpc_tests.cpp).
#include "test_util.h"
#include <services/node/node.h>
#include <services/node/rpc/rpc.h>

#include <common/interfaces/node_ipc.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/protocol.h>
#include <common/util/mock_time.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace orrery;
using namespace std::chrono_literals;
using orrery::test::WaitUntil;

namespace {

std::string UniqueEndpoint(const char* name)
{
    static std::atomic<int> counter{0};
    return "inproc://node-test-" + std::string(name) + "-" + std::to_string(counter++);
}

//! The node is served on ipc://, like in production: a closed agent connection is noticed there.
std::string UniqueSocket()
{
    static std::atomic<int> counter{0};
    return "ipc://" + (std::filesystem::temp_directory_path() /
                       ("orrery-node-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock"))
                          .string();
}

//! orreryd as far as the node sees it: records openConnection, can be told to fail.
class FakeSupervisor final : public interfaces::Supervisor
{
public:
    struct Request {
        std::string address;
        int64_t peer_id;
        std::string connection_type;
    };
    std::vector<interfaces::ProcessStatus> status() override { return {}; }
    std::vector<interfaces::ProcessLinks> linkReport() override { return {}; }
    void stop() override {}
    void restart(std::string) override {}
    void setMockTime(int64_t) override {}
    void openConnection(std::string address, int64_t peer_id, std::string connection_type) override
    {
        std::lock_guard lock(m_mutex);
        if (m_fail) throw std::runtime_error("no agent binary");
        m_requests.push_back({address, peer_id, connection_type});
    }
    std::vector<Request> Requests()
    {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }
    void SetFail(bool fail)
    {
        std::lock_guard lock(m_mutex);
        m_fail = fail;
    }

private:
    std::mutex m_mutex;
    std::vector<Request> m_requests;
    bool m_fail{false};
};

//! A p2p-agent's Agent interface: records what the node asked.
class FakeAgent final : public interfaces::Agent
{
public:
    void disconnect(std::string reason) override
    {
        std::lock_guard lock(m_mutex);
        m_disconnects.push_back(reason);
    }
    interfaces::PeerStats getStats() override { return {}; }
    void setMockTime(int64_t time) override
    {
        std::lock_guard lock(m_mutex);
        m_mock_times.push_back(time);
    }
    void requestHeaders(std::vector<uint8_t>) override {}
    void requestBlocks(std::vector<uint8_t>) override {}
    void announceBlocks(std::vector<uint8_t>) override {}
    void announceTransactions(std::vector<uint8_t>, bool) override {}
    void requestTransactions(std::vector<uint8_t>, bool) override {}
    void sendFeeFilter(int64_t) override {}
    void requestAddresses() override {}
    void sendAddresses(std::vector<uint8_t>) override {}
    void sendCompactBlockMode(bool) override {}
    void sendCompactBlock(std::vector<uint8_t>) override {}
    void requestCompactBlock(std::vector<uint8_t>) override {}
    void requestBlockTransactions(std::vector<uint8_t>) override {}
    std::vector<std::string> Disconnects()
    {
        std::lock_guard lock(m_mutex);
        return m_disconnects;
    }
    std::vector<int64_t> MockTimes()
    {
        std::lock_guard lock(m_mutex);
        return m_mock_times;
    }

private:
    std::mutex m_mutex;
    std::vector<std::string> m_disconnects;
    std::vector<int64_t> m_mock_times;
};

//! A node served on an inproc:// endpoint, with an optional stand-in orreryd.
struct NodeFixture {
    explicit NodeFixture(node::NodeConfig config = {}, bool with_supervisor = false)
    {
        config.chain = ChainType::REGTEST;
        config.supervisor_endpoint = UniqueEndpoint("supervisor");
        config.ipc_options.role = "node";
        config.ipc_options.interfaces = {"supervisor"};
        // Every Maintain() may redial a due target: what keeps one from being dialled again is then the
        // peer or the pending id, not the interval (and no test waits for it to pass).
        config.retry_interval = 0ms;
        config.supervisor_connect_timeout = 300ms;
        if (with_supervisor) {
            supervisor_server = std::make_unique<ipc::Server>(ServerOptions("orreryd"));
            supervisor_server->Serve<interfaces::Supervisor>(supervisor);
            supervisor_server->Bind(config.supervisor_endpoint);
        }
        service = std::make_shared<node::NodeService>(config);
        server = std::make_unique<ipc::Server>(ServerOptions("node"));
        server->Serve<interfaces::Node>(service, interfaces::NODE_CALLERS);
        server->Serve<interfaces::PeerHost>(service, interfaces::PEER_HOST_CALLERS);
        endpoint = UniqueSocket();
        server->Bind(endpoint);
        orreryd = std::make_unique<ipc::Client>(ClientOptions("orreryd", {"node"}));
        admission = ipc::MakeProxy<interfaces::Node>(orreryd->Connect(endpoint));
        node = service.get();
    }
    ~NodeFixture()
    {
        orreryd->Stop();
        server->Stop();
        service->Stop();
        if (supervisor_server) supervisor_server->Stop();
        std::filesystem::remove(endpoint.substr(6));
    }

    static ipc::Options ServerOptions(const char* role)
    {
        ipc::Options options;
        options.role = role;
        return options;
    }
    static ipc::Options ClientOptions(const char* role, std::vector<std::string> interfaces)
    {
        ipc::Options options;
        options.role = role;
        options.interfaces = std::move(interfaces);
        options.connect_timeout = 2s;
        return options;
    }

    std::shared_ptr<FakeSupervisor> supervisor = std::make_shared<FakeSupervisor>();
    std::unique_ptr<ipc::Server> supervisor_server;
    std::shared_ptr<node::NodeService> service;
    std::unique_ptr<ipc::Server> server;
    std::string endpoint;
    std::unique_ptr<ipc::Client> orreryd;
    std::unique_ptr<interfaces::Node> admission; //!< orreryd's proxy of Node
    node::NodeService* node{nullptr};
    std::shared_ptr<const rpc::Table> rpc_table;

    //! One of the node's RPC methods, run against its real table.
    rpc::Json Rpc(const std::string& method, rpc::Json params = rpc::Json::array())
    {
        if (!rpc_table) rpc_table = node::MakeRpcTable(*service);
        return rpc_table->Execute(method, params, std::nullopt);
    }
    int64_t ConnectionCount() { return Rpc("getconnectioncount").get<int64_t>(); }
};

//! One p2p-agent: its own client, serving Agent back over the connection.
struct AgentClient {
    explicit AgentClient(const std::string& endpoint) : client(NodeFixture::ClientOptions("p2p-agent", {"peerHost"}))
    {
        client.Serve<interfaces::Agent>(agent);
        host = ipc::MakeProxy<interfaces::PeerHost>(client.Connect(endpoint));
    }
    ~AgentClient() { client.Stop(); }

    std::shared_ptr<FakeAgent> agent = std::make_shared<FakeAgent>();
    ipc::Client client;
    std::unique_ptr<interfaces::PeerHost> host;
};

//! Runs `call` and returns the RPC error code it throws (0 if none) and its message.
template <typename F> std::pair<int32_t, std::string> CaptureError(F call)
{
    try {
        call();
    } catch (const ipc::Error& e) {
        return {static_cast<int32_t>(e.code()), e.what()};
    }
    return {0, ""};
}

} // namespace

TEST_CASE("the node's RPC methods give the regtest genesis and the node's network info")
{
    test::TempDir dir;
    node::NodeConfig config;
    config.data_dir = dir.path;
    NodeFixture f(config);
    f.node->LoadChainstate();
    auto chain = f.node->GetBlockchainInfo();
    CHECK(chain.chain == "regtest");
    CHECK(chain.blocks == 0);
    CHECK(chain.best_block_hash == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    CHECK(chain.chain_work.size() == 64);
    auto network = f.Rpc("getnetworkinfo");
    CHECK(network["version"] == node::ClientVersionNumber(ORRERY_VERSION));
    CHECK(network["subversion"] == std::string("/Orrery:") + ORRERY_VERSION + "/");
    CHECK(network["protocolversion"] == 70016);
    CHECK(network["localservices"] == "0000000000000409");
    CHECK(network["connections"] == 0);
    CHECK(f.ConnectionCount() == 0);
    CHECK(f.node->ConnectedPeers().empty());
}

TEST_CASE("addnode answers with bitcoind's error codes and messages")
{
    NodeFixture f; // no orreryd behind it
    CHECK(CaptureError([&] { f.node->AddNode("127.0.0.1:18555", "add"); }).first == 0);
    auto again = CaptureError([&] { f.node->AddNode("127.0.0.1:18555", "add"); });
    CHECK(again.first == rpc::RPC_CLIENT_NODE_ALREADY_ADDED);
    CHECK(again.second == "Error: Node already added");
    auto not_added = CaptureError([&] { f.node->AddNode("127.0.0.1:18556", "remove"); });
    CHECK(not_added.first == rpc::RPC_CLIENT_NODE_NOT_ADDED);
    CHECK(not_added.second == "Error: Node could not be removed. It has not been added previously.");
    CHECK(CaptureError([&] { f.node->AddNode("127.0.0.1:18555", "remove"); }).first == 0);
    CHECK(CaptureError([&] { f.node->AddNode("127.0.0.1:18555", "bogus"); }).first == rpc::RPC_INVALID_PARAMETER);
    auto onetry = CaptureError([&] { f.node->AddNode("127.0.0.1:18557", "onetry"); });
    CHECK(onetry.first == rpc::RPC_CLIENT_NODE_NOT_CONNECTED);
    CHECK(onetry.second.find("orreryd is not reachable") != std::string::npos);
}

TEST_CASE("an admitted inbound peer registered by its agent shows in getpeerinfo")
{
    NodeFixture f;
    auto admission = f.admission->admitInbound("127.0.0.1:40000", "127.0.0.1:18444");
    REQUIRE(admission.accepted);
    AgentClient agent(f.endpoint);
    auto handshake = agent.host->registerAgent(admission.peer_id, "127.0.0.1:40000", true);
    CHECK(handshake.chain == "regtest");
    CHECK(handshake.message_start == 0xdab5bffa); // fa bf b5 da on the wire
    CHECK(handshake.protocol_version == 70016);
    CHECK(handshake.services == 0x409);
    CHECK(handshake.user_agent == std::string("/Orrery:") + ORRERY_VERSION + "/");
    CHECK(handshake.start_height == 0);
    CHECK(handshake.nonce != 0);
    CHECK(handshake.relay);
    CHECK(f.ConnectionCount() == 1);

    interfaces::PeerVersion version;
    version.version = 70016;
    version.services = 0x409;
    version.user_agent = "/Satoshi:28.0.0/";
    version.start_height = 12;
    version.relay = true;
    agent.host->handshakeDone(admission.peer_id, version);
    interfaces::PeerStats stats;
    stats.bytes_sent = 300;
    stats.bytes_recv = 400;
    stats.ping_time = 0.01;
    agent.host->reportStats(admission.peer_id, stats);

    auto peers = f.Rpc("getpeerinfo");
    REQUIRE(peers.size() == 1);
    CHECK(peers[0]["id"] == admission.peer_id);
    CHECK(peers[0]["addr"] == "127.0.0.1:40000");
    CHECK(peers[0]["addrbind"] == "127.0.0.1:18444");
    CHECK(peers[0]["inbound"] == true);
    CHECK(peers[0]["connection_type"] == "inbound");
    CHECK(peers[0]["agent_pid"] == ::getpid());
    CHECK(peers[0]["transport_protocol_type"] == "v1");
    CHECK(peers[0]["subver"] == "/Satoshi:28.0.0/");
    CHECK(peers[0]["startingheight"] == 12);
    CHECK(peers[0]["services"] == "0000000000000409");
    CHECK(peers[0]["bytessent"] == 300);
    CHECK(peers[0]["bytesrecv"] == 400);
    CHECK(peers[0]["pingtime"] == 0.01);
    CHECK(peers[0]["conntime"].get<int64_t>() > 0);
    auto network = f.Rpc("getnetworkinfo");
    CHECK(network["connections"] == 1);
    CHECK(network["connections_in"] == 1);
    CHECK(network["connections_out"] == 0);

    agent.host->peerDisconnected(admission.peer_id, "peer closed the connection");
    CHECK(f.ConnectionCount() == 0);
}

TEST_CASE("setmocktime reaches every registered agent and a new agent gets it when it registers")
{
    NodeFixture f;
    auto first = f.admission->admitInbound("127.0.0.1:40010", "127.0.0.1:18444");
    REQUIRE(first.accepted);
    AgentClient early(f.endpoint);
    CHECK(early.host->registerAgent(first.peer_id, "127.0.0.1:40010", true).mock_time == 0);

    f.node->SetMockTimeEverywhere(1'600'000'000);
    CHECK(early.agent->MockTimes() == std::vector<int64_t>{1'600'000'000});

    auto second = f.admission->admitInbound("127.0.0.1:40011", "127.0.0.1:18444");
    REQUIRE(second.accepted);
    AgentClient late(f.endpoint);
    CHECK(late.host->registerAgent(second.peer_id, "127.0.0.1:40011", true).mock_time == 1'600'000'000);

    f.node->SetMockTimeEverywhere(0);
    CHECK(early.agent->MockTimes() == std::vector<int64_t>{1'600'000'000, 0});
    CHECK(late.agent->MockTimes() == std::vector<int64_t>{0});
    SetMockTime(0);
}

TEST_CASE("an agent registering an id the node never issued is refused")
{
    NodeFixture f;
    AgentClient agent(f.endpoint);
    auto error = CaptureError([&] { agent.host->registerAgent(42, "10.0.0.1:18444", false); });
    CHECK(error.first != 0);
    CHECK(error.second.find("unknown peer id 42") != std::string::npos);
    CHECK(CaptureError([&] { agent.host->reportStats(42, {}); }).first != 0);
}

TEST_CASE("an agent acts for the one peer its connection registered: any other peer id is refused")
{
    NodeFixture f;
    auto a = f.admission->admitInbound("127.0.0.1:40000", "");
    auto b = f.admission->admitInbound("127.0.0.1:40001", "");
    AgentClient agent_a(f.endpoint);
    AgentClient agent_b(f.endpoint);
    agent_a.host->registerAgent(a.peer_id, "127.0.0.1:40000", true);
    agent_b.host->registerAgent(b.peer_id, "127.0.0.1:40001", true);
    const auto denied = static_cast<int32_t>(ipc::ErrorCode::PERMISSION_DENIED);
    CHECK(CaptureError([&] { agent_a.host->registerAgent(b.peer_id, "", true); }).first == denied);
    CHECK(CaptureError([&] { agent_a.host->handshakeDone(b.peer_id, {}); }).first == denied);
    CHECK(CaptureError([&] { agent_a.host->reportStats(b.peer_id, {}); }).first == denied);
    CHECK(CaptureError([&] { agent_a.host->peerDisconnected(b.peer_id, "forged"); }).first == denied);
    CHECK(f.ConnectionCount() == 2);
    // A connection that registered nothing cannot end or speak for a served peer either.
    AgentClient stranger(f.endpoint);
    CHECK(CaptureError([&] { stranger.host->peerDisconnected(b.peer_id, "forged"); }).first == denied);
    CHECK(CaptureError([&] { stranger.host->reportStats(b.peer_id, {}); }).first == denied);
    CHECK(f.ConnectionCount() == 2);
    // Its own peer it may end.
    agent_a.host->peerDisconnected(a.peer_id, "peer closed the connection");
    CHECK(f.ConnectionCount() == 1);
}

TEST_CASE("only p2p-agents may call PeerHost")
{
    NodeFixture f;
    auto admission = f.admission->admitInbound("127.0.0.1:40000", "");
    ipc::Client intruder(NodeFixture::ClientOptions("wallet", {}));
    auto host = ipc::MakeProxy<interfaces::PeerHost>(intruder.Connect(f.endpoint));
    auto error = CaptureError([&] { host->registerAgent(admission.peer_id, "", true); });
    CHECK(error.first == static_cast<int32_t>(ipc::ErrorCode::PERMISSION_DENIED));
    intruder.Stop();
}

TEST_CASE("a peer whose agent goes away is dropped")
{
    NodeFixture f;
    auto admission = f.admission->admitInbound("127.0.0.1:40001", "");
    {
        AgentClient agent(f.endpoint);
        agent.host->registerAgent(admission.peer_id, "127.0.0.1:40001", true);
        CHECK(f.ConnectionCount() == 1);
    } // the agent's connection closes without a peerDisconnected
    CHECK(WaitUntil([&] {
        f.service->Maintain();
        return f.ConnectionCount() == 0;
    }));
}

TEST_CASE("disconnectnode asks the peer's agent to disconnect, by id or by address")
{
    NodeFixture f;
    auto first = f.admission->admitInbound("127.0.0.1:40002", "");
    AgentClient agent_a(f.endpoint);
    agent_a.host->registerAgent(first.peer_id, "127.0.0.1:40002", true);
    auto second = f.admission->admitInbound("127.0.0.1:40003", "");
    AgentClient agent_b(f.endpoint);
    agent_b.host->registerAgent(second.peer_id, "127.0.0.1:40003", true);
    REQUIRE(f.ConnectionCount() == 2);

    f.node->DisconnectNode("", first.peer_id);
    CHECK(agent_a.agent->Disconnects() == std::vector<std::string>{"disconnectnode"});
    CHECK(agent_b.agent->Disconnects().empty());
    f.node->DisconnectNode("127.0.0.1:40003", 0);
    CHECK(agent_b.agent->Disconnects() == std::vector<std::string>{"disconnectnode"});
    CHECK(f.ConnectionCount() == 0);

    auto missing = CaptureError([&] { f.node->DisconnectNode("", first.peer_id); });
    CHECK(missing.first == rpc::RPC_CLIENT_NODE_NOT_CONNECTED);
    CHECK(missing.second == "Node not found in connected nodes");
    CHECK(CaptureError([&] { f.node->DisconnectNode("10.9.9.9:1", 0); }).first == rpc::RPC_CLIENT_NODE_NOT_CONNECTED);
    // The agent's own report after the node dropped the peer is harmless.
    agent_a.host->peerDisconnected(first.peer_id, "disconnected on request");
}

TEST_CASE("addnode and onetry ask orreryd for manual connections with fresh peer ids")
{
    NodeFixture f({}, true);
    f.node->AddNode("127.0.0.1:18555", "add");
    f.node->AddNode("127.0.0.1:18556", "onetry");
    auto requests = f.supervisor->Requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].address == "127.0.0.1:18555");
    CHECK(requests[0].connection_type == "manual");
    CHECK(requests[1].address == "127.0.0.1:18556");
    CHECK(requests[1].peer_id > requests[0].peer_id);

    // The agent orreryd spawned registers the id it was given.
    AgentClient agent(f.endpoint);
    auto handshake = agent.host->registerAgent(requests[0].peer_id, "127.0.0.1:18555", false);
    CHECK(handshake.nonce != 0);
    auto peers = f.node->ConnectedPeers();
    REQUIRE(peers.size() == 1);
    CHECK_FALSE(peers[0].inbound);
    CHECK(peers[0].connection_type == "manual");
    // onetry to a peer already connected or being dialled opens nothing more.
    f.node->AddNode("127.0.0.1:18555", "onetry");
    f.node->AddNode("127.0.0.1:18556", "onetry");
    CHECK(f.supervisor->Requests().size() == 2);
    // A connected added node is not dialled again.
    f.service->Maintain();
    CHECK(f.supervisor->Requests().size() == 2);
}

TEST_CASE("added and -connect peers are redialled until orreryd takes them")
{
    node::NodeConfig config;
    config.connect = {"127.0.0.1:18600"};
    NodeFixture f(config, true);
    f.supervisor->SetFail(true);
    f.node->AddNode("127.0.0.1:18601", "add"); // succeeds although the dial fails
    f.service->Maintain();
    CHECK(f.supervisor->Requests().empty());
    f.supervisor->SetFail(false);
    CHECK(WaitUntil([&] {
        f.service->Maintain();
        return f.supervisor->Requests().size() == 2;
    }));
    auto requests = f.supervisor->Requests();
    std::vector<std::string> addresses{requests[0].address, requests[1].address};
    std::sort(addresses.begin(), addresses.end());
    CHECK(addresses == std::vector<std::string>{"127.0.0.1:18600", "127.0.0.1:18601"});
    // Pending ids are not dialled twice.
    f.service->Maintain();
    CHECK(f.supervisor->Requests().size() == 2);
    // addnode remove forgets the entry.
    f.node->AddNode("127.0.0.1:18601", "remove");
}

TEST_CASE("admitInbound refuses beyond the inbound slots and from banned hosts")
{
    node::NodeConfig config;
    config.max_connections = 12; // one inbound slot
    NodeFixture f(config);
    CHECK(f.admission->admitInbound("127.0.0.1:40010", "").accepted);
    auto full = f.admission->admitInbound("127.0.0.1:40011", "");
    CHECK_FALSE(full.accepted);
    CHECK(full.reason == "inbound connection limit reached (1), no peer to evict"); // pending: not evictable
    f.node->SetBan("10.1.1.1", "add", 60, false);
    auto banned = f.admission->admitInbound("10.1.1.1:5000", "");
    CHECK_FALSE(banned.accepted);
    CHECK(banned.reason.find("banned") != std::string::npos);
}

TEST_CASE("an agent a socket unit started asks the node to admit its peer, then registers it as any agent")
{
    NodeFixture f;
    AgentClient agent(f.endpoint);
    auto admission = agent.host->requestAdmission("127.0.0.1:40020", "127.0.0.1:18444");
    REQUIRE(admission.accepted);
    CHECK(agent.host->registerAgent(admission.peer_id, "127.0.0.1:40020", true).chain == "regtest");
    auto peers = f.Rpc("getpeerinfo");
    REQUIRE(peers.size() == 1);
    CHECK(peers[0]["id"] == admission.peer_id);
    CHECK(peers[0]["addr"] == "127.0.0.1:40020");
    CHECK(peers[0]["addrbind"] == "127.0.0.1:18444");
    CHECK(peers[0]["inbound"] == true);
    CHECK(peers[0]["agent_pid"] == ::getpid());
}

TEST_CASE("a self-admitted agent gets one peer, registers only that one, and no other agent may take it")
{
    NodeFixture f;
    const auto denied = static_cast<int32_t>(ipc::ErrorCode::PERMISSION_DENIED);
    AgentClient agent(f.endpoint);
    auto own = agent.host->requestAdmission("127.0.0.1:40030", "");
    REQUIRE(own.accepted);
    auto twice = CaptureError([&] { agent.host->requestAdmission("127.0.0.1:40031", ""); });
    CHECK(twice.first == denied);
    CHECK(twice.second.find("one admission per agent") != std::string::npos);
    // Another agent cannot register the id this connection was admitted.
    AgentClient thief(f.endpoint);
    auto stolen = CaptureError([&] { thief.host->registerAgent(own.peer_id, "127.0.0.1:40030", true); });
    CHECK(stolen.first == denied);
    CHECK(stolen.second.find("admitted for another agent") != std::string::npos);
    // Nor can the admitted agent register a peer orreryd-style admission gave out.
    auto other = f.admission->admitInbound("127.0.0.1:40032", "");
    REQUIRE(other.accepted);
    auto swapped = CaptureError([&] { agent.host->registerAgent(other.peer_id, "127.0.0.1:40032", true); });
    CHECK(swapped.first == denied);
    CHECK(swapped.second.find("was admitted peer " + std::to_string(own.peer_id)) != std::string::npos);
    agent.host->registerAgent(own.peer_id, "127.0.0.1:40030", true);
    CHECK(f.ConnectionCount() == 1);
    // Registered: its connection serves that peer and asks for no other.
    CHECK(CaptureError([&] { agent.host->requestAdmission("127.0.0.1:40033", ""); }).first == denied);
    // An agent that registered through orreryd's admission cannot admit a peer either.
    thief.host->registerAgent(other.peer_id, "127.0.0.1:40032", true);
    CHECK(CaptureError([&] { thief.host->requestAdmission("127.0.0.1:40034", ""); }).first == denied);
    CHECK(f.ConnectionCount() == 2);
}

TEST_CASE("a self-admission is decided as orreryd's: bans and the inbound limit refuse it")
{
    node::NodeConfig config;
    config.max_connections = 12; // one inbound slot
    NodeFixture f(config);
    f.node->SetBan("10.1.1.1", "add", 60, false);
    AgentClient banned(f.endpoint);
    auto refused = banned.host->requestAdmission("10.1.1.1:5000", "");
    CHECK_FALSE(refused.accepted);
    CHECK(refused.reason.find("banned") != std::string::npos);
    AgentClient first(f.endpoint);
    CHECK(first.host->requestAdmission("127.0.0.1:40040", "").accepted);
    AgentClient second(f.endpoint);
    auto full = second.host->requestAdmission("127.0.0.1:40041", "");
    CHECK_FALSE(full.accepted);
    CHECK(full.reason == "inbound connection limit reached (1), no peer to evict");
}

TEST_CASE("only p2p-agents may ask for an admission on PeerHost, and under orreryd none may")
{
    {
        NodeFixture f;
        ipc::Client intruder(NodeFixture::ClientOptions("wallet", {}));
        auto host = ipc::MakeProxy<interfaces::PeerHost>(intruder.Connect(f.endpoint));
        auto error = CaptureError([&] { host->requestAdmission("127.0.0.1:40050", ""); });
        CHECK(error.first == static_cast<int32_t>(ipc::ErrorCode::PERMISSION_DENIED));
        intruder.Stop();
        CHECK(f.ConnectionCount() == 0);
    }
    node::NodeConfig config;
    config.supervised = true;
    NodeFixture f(config, true);
    AgentClient agent(f.endpoint);
    auto error = CaptureError([&] { agent.host->requestAdmission("127.0.0.1:40051", ""); });
    CHECK(error.first == static_cast<int32_t>(ipc::ErrorCode::PERMISSION_DENIED));
    CHECK(error.second.find("orreryd admits") != std::string::npos);
}

TEST_CASE("an agent whose dial failed reports it before registering: the id is freed and the target redialled")
{
    NodeFixture f({}, true);
    f.node->AddNode("127.0.0.1:18610", "add");
    REQUIRE(f.supervisor->Requests().size() == 1);
    int64_t id = f.supervisor->Requests()[0].peer_id;
    // While the id is pending, the target is not dialled again.
    f.service->Maintain();
    CHECK(f.supervisor->Requests().size() == 1);
    // The agent never registers: it reports the failed dial and exits.
    AgentClient agent(f.endpoint);
    agent.host->peerDisconnected(id, "connect to 127.0.0.1:18610 failed: Connection refused");
    CHECK(f.node->ConnectedPeers().empty());
    // A late registration for that id is refused: the node forgot it.
    CHECK(CaptureError([&] { agent.host->registerAgent(id, "127.0.0.1:18610", false); }).first != 0);
    // The next maintenance round past the retry interval dials the added node again, with a new id.
    CHECK(WaitUntil([&] {
        f.service->Maintain();
        return f.supervisor->Requests().size() == 2;
    }));
    CHECK(f.supervisor->Requests()[1].peer_id > id);
    // A onetry to a target whose dial failed is not blocked by the old attempt either.
    f.node->AddNode("127.0.0.1:18611", "onetry");
    int64_t once = f.supervisor->Requests().back().peer_id;
    agent.host->peerDisconnected(once, "connect to 127.0.0.1:18611 failed: Connection refused");
    f.node->AddNode("127.0.0.1:18611", "onetry");
    CHECK(f.supervisor->Requests().back().peer_id > once);
}

TEST_CASE("an inbound peer sending our outbound nonce is ourselves: both ends are disconnected")
{
    NodeFixture f({}, true);
    f.node->AddNode("192.0.2.7:18444", "onetry");
    REQUIRE(f.supervisor->Requests().size() == 1);
    int64_t out_id = f.supervisor->Requests()[0].peer_id;
    AgentClient outbound(f.endpoint);
    auto ours = outbound.host->registerAgent(out_id, "192.0.2.7:18444", false);
    // The inbound socket comes from another local address: only the nonce tells.
    auto admission = f.admission->admitInbound("198.51.100.3:40000", "203.0.113.1:18444");
    REQUIRE(admission.accepted);
    AgentClient inbound(f.endpoint);
    inbound.host->registerAgent(admission.peer_id, "198.51.100.3:40000", true);
    CHECK(f.ConnectionCount() == 2);

    interfaces::PeerVersion version;
    version.version = 70016;
    version.nonce = ours.nonce + 1; // a stranger's nonce: nothing happens
    outbound.host->handshakeDone(out_id, version);
    CHECK(f.ConnectionCount() == 2);
    version.nonce = ours.nonce;
    inbound.host->handshakeDone(admission.peer_id, version);
    CHECK(f.ConnectionCount() == 0);
    f.service->Maintain(); // sends the queued disconnects
    CHECK(inbound.agent->Disconnects() == std::vector<std::string>{"connected to self"});
    CHECK(outbound.agent->Disconnects() == std::vector<std::string>{"connected to self"});
}

TEST_CASE("a full node evicts an unprotected inbound peer through its agent and admits the newcomer")
{
    node::NodeConfig config;
    config.max_connections = 16; // five inbound slots
    NodeFixture f(config);
    std::vector<std::unique_ptr<AgentClient>> agents;
    std::vector<int64_t> ids;
    for (int i = 0; i < 5; ++i) {
        auto admission = f.admission->admitInbound("127.0.0.1:4100" + std::to_string(i), "127.0.0.1:18444");
        REQUIRE(admission.accepted);
        agents.push_back(std::make_unique<AgentClient>(f.endpoint));
        agents.back()->host->registerAgent(admission.peer_id, "", true);
        ids.push_back(admission.peer_id);
    }
    // One netgroup (127.0): the oldest is protected by it, then half of the other four by age;
    // the youngest of the two left goes.
    auto newcomer = f.admission->admitInbound("127.0.0.1:41010", "127.0.0.1:18444");
    CHECK(newcomer.accepted);
    auto peers = f.node->ConnectedPeers();
    CHECK(peers.size() == 4);
    CHECK(std::none_of(peers.begin(), peers.end(), [&](const auto& p) { return p.id == ids[4]; }));
    f.service->Maintain();
    CHECK(agents[4]->agent->Disconnects() == std::vector<std::string>{"evicted to make room for an inbound peer"});
    CHECK(agents[3]->agent->Disconnects().empty());
}
