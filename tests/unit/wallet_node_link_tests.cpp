// orrery-wallet's link to the node's Chain, against the node's real
// ChainService served over an ipc:// socket: the tip it hands on, a node that
// comes late or restarts, a node of another network refused, and getwalletinfo's
// lastprocessedblock.
#include "test_util.h"
#include <services/node/chain_service.h>
#include <services/wallet/node_link.h>
#include <services/wallet/wallet_service.h>
#include <tests/unit/node_validation_util.h>

#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/roles.h>

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <unistd.h>

using namespace orrery;
using namespace std::chrono_literals;

namespace {

constexpr const char* REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

using orrery::test::CapturedLog;
using orrery::test::TempDir;
using orrery::test::WaitUntil;

//! orrery-node's Chain on `endpoint`, as node.cpp serves it.
struct ChainNode {
    test::GenesisChain genesis;
    node::ChainstateManager& chain;
    std::shared_ptr<node::ChainService> service;
    ipc::Server server;
    ChainNode(ChainType type, const std::string& endpoint)
        : genesis(type), chain(genesis.chainstate), service(std::make_shared<node::ChainService>(chain)),
          server(ServerOptions())
    {
        server.Serve<interfaces::Chain>(service, interfaces::CHAIN_CALLERS);
        server.Bind(endpoint);
    }
    ~ChainNode() { server.Stop(); }
    static ipc::Options ServerOptions()
    {
        ipc::Options options;
        options.role = "node";
        return options;
    }
};

//! What the link hands on.
struct Seen {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<interfaces::ChainTip> tips;
    std::string refusal;

    void Tip(const interfaces::ChainTip& tip)
    {
        std::lock_guard lock(mutex);
        tips.push_back(tip);
        cv.notify_all();
    }
    void Refused(const std::string& message)
    {
        std::lock_guard lock(mutex);
        refusal = message;
        cv.notify_all();
    }
    bool WaitForTips(size_t count, std::chrono::milliseconds timeout = 5000ms)
    {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return tips.size() >= count; });
    }
    bool WaitForRefusal(std::chrono::milliseconds timeout = 5000ms)
    {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return !refusal.empty(); });
    }
    size_t TipCount()
    {
        std::lock_guard lock(mutex);
        return tips.size();
    }
};

ipc::Options WalletOptions()
{
    ipc::Options options;
    options.role = "wallet";
    options.interfaces = {"chain"};
    options.connect_timeout = 500ms;
    return options;
}

//! Hands the link's tips to Seen; counts the catch-ups.
class TipHandler final : public wallet::ChainHandler
{
public:
    explicit TipHandler(Seen& seen) : m_seen(seen) {}
    void CatchUp(interfaces::Chain&) override { ++catch_ups; }
    void BlockConnected(interfaces::Chain&, const interfaces::ChainBlock&) override {}
    void BlockDisconnected(interfaces::Chain&, const interfaces::ChainBlock&) override {}
    void TransactionAdded(const std::vector<uint8_t>&) override {}
    void TransactionRemoved(const std::vector<uint8_t>&, const std::string&) override {}
    void Tip(interfaces::Chain&, const interfaces::ChainTip& tip) override { m_seen.Tip(tip); }
    void NodeLost() override {}
    std::atomic<int> catch_ups{0};

private:
    Seen& m_seen;
};

std::unique_ptr<wallet::NodeLink> MakeLink(const std::string& endpoint, const std::string& chain, Seen& seen)
{
    return std::make_unique<wallet::NodeLink>(endpoint, WalletOptions(), chain, std::make_shared<TipHandler>(seen),
                                              [&seen](const std::string& message) { seen.Refused(message); });
}

} // namespace

TEST_CASE("the link waits for a node that comes late, hands on its tip, and follows it across a restart")
{
    TempDir dir;
    std::string endpoint = "ipc://" + (dir.path / "node.sock").string();
    CapturedLog log;
    Seen seen;
    auto link = MakeLink(endpoint, "regtest", seen);
    link->Start(100ms);
    // It tried, found no node, and keeps trying.
    REQUIRE(WaitUntil([&] { return log.Count("Waiting for the node at " + endpoint) == 1; }));
    CHECK_FALSE(link->Connected());
    CHECK(seen.TipCount() == 0);

    auto node = std::make_unique<ChainNode>(ChainType::REGTEST, endpoint);
    REQUIRE(seen.WaitForTips(1));
    CHECK(seen.tips[0].height == 0);
    CHECK(seen.tips[0].hash == REGTEST_GENESIS);
    CHECK(link->Connected());
    CHECK(node->service->SubscriberCount() == 1);

    // A tip change reaches the wallet (the node calls NotifyTip when its tip moves).
    node->service->NotifyTip();
    REQUIRE(seen.WaitForTips(2));

    // The node goes away and comes back: the subscription is renewed and the tip comes again.
    node.reset();
    CHECK(WaitUntil([&] { return !link->Connected(); }));
    node = std::make_unique<ChainNode>(ChainType::REGTEST, endpoint);
    REQUIRE(seen.WaitForTips(3));
    CHECK(seen.tips[2].hash == REGTEST_GENESIS);
    CHECK(link->Connected());
    CHECK(link->Refusal().empty());

    link->Stop();
    CHECK(node->service->SubscriberCount() <= 1); // the unsubscribe may still be on its way
}

TEST_CASE("a node of another network is refused and its tip never reaches the wallet")
{
    TempDir dir;
    std::string endpoint = "ipc://" + (dir.path / "node.sock").string();
    ChainNode node(ChainType::TESTNET4, endpoint);
    Seen seen;
    auto link = MakeLink(endpoint, "regtest", seen);
    link->Start(100ms);
    REQUIRE(seen.WaitForRefusal());
    CHECK(seen.refusal.find("runs the chain \"testnet4\" but this wallet is for \"regtest\"") != std::string::npos);
    CHECK(seen.refusal.find(endpoint) != std::string::npos);
    CHECK(link->Refusal() == seen.refusal);
    CHECK_FALSE(link->Connected());
    // The link stops at the refusal, before it subscribes: no tip can come after it.
    CHECK(seen.TipCount() == 0);
    CHECK(node.service->SubscriberCount() == 0);
    link->Stop();
}

TEST_CASE("a node restarted on another network behind the same endpoint is refused")
{
    TempDir dir;
    std::string endpoint = "ipc://" + (dir.path / "node.sock").string();
    auto node = std::make_unique<ChainNode>(ChainType::REGTEST, endpoint);
    Seen seen;
    auto link = MakeLink(endpoint, "regtest", seen);
    link->Start(100ms);
    REQUIRE(seen.WaitForTips(1));
    node.reset();
    node = std::make_unique<ChainNode>(ChainType::SIGNET, endpoint);
    REQUIRE(seen.WaitForRefusal());
    CHECK(seen.refusal.find("\"signet\"") != std::string::npos);
    CHECK(seen.TipCount() == 1);
    link->Stop();
}

TEST_CASE("getwalletinfo has no lastprocessedblock until the wallet processed a block, then that block")
{
    TempDir dir;
    wallet::WalletService service(dir.path, Network::REGTEST, 10);
    service.LoadStartupWallets({});
    CHECK_FALSE(service.GetWalletInfo("").last_processed_block.has_value());
    // A node with its genesis: catching up makes the genesis the wallet's last processed block.
    ChainNode node(ChainType::REGTEST, "ipc://" + (dir.path / "node.sock").string());
    service.CatchUp(*node.service);
    auto info = service.GetWalletInfo("default");
    REQUIRE(info.last_processed_block.has_value());
    CHECK(info.last_processed_block->hash == REGTEST_GENESIS);
    CHECK(info.last_processed_block->height == 0);
    service.CloseAll();
}
