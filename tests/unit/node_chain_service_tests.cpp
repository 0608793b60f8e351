// The node's Chain interface: what it answers locally and over IPC, who may
// call it, and its tip subscriptions (registration, first tip, end).
#include "test_util.h"
#include <services/node/chain_service.h>
#include <tests/unit/node_validation_util.h>

#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/roles.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/error.h>
#include <common/rpc/protocol.h>

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace orrery;
using namespace std::chrono_literals;

using orrery::test::WaitUntil;

namespace {

constexpr const char* REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

//! Collects the tips a subscription delivers, and every notification as "tip <height>", "connected <height>" or
//! "disconnected <height>" (and "added"/"removed" for the mempool's news) in arrival order.
class TipCollector final : public interfaces::ChainListener
{
public:
    void updatedBlockTip(interfaces::ChainTip tip) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back("tip " + std::to_string(tip.height) + " " + tip.hash);
        m_tips.push_back(std::move(tip));
        m_cv.notify_all();
    }
    void blockConnected(interfaces::ChainBlock block) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back("connected " + std::to_string(block.height) + " " + block.hash);
        m_blocks.push_back(std::move(block));
        m_cv.notify_all();
    }
    void blockDisconnected(interfaces::ChainBlock block) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back("disconnected " + std::to_string(block.height) + " " + block.hash);
        m_blocks.push_back(std::move(block));
        m_cv.notify_all();
    }
    void transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back("added " + std::to_string(tx.size()) + " " + std::to_string(mempool_sequence));
        m_cv.notify_all();
    }
    void transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t mempool_sequence) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back("removed " + std::to_string(tx.size()) + " " + reason + " " +
                           std::to_string(mempool_sequence));
        m_cv.notify_all();
    }
    bool WaitForEvents(size_t count, std::chrono::milliseconds timeout = 10000ms)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, timeout, [&] { return m_events.size() >= count; });
    }
    std::vector<std::string> Events()
    {
        std::lock_guard lock(m_mutex);
        return m_events;
    }
    std::vector<interfaces::ChainBlock> Blocks()
    {
        std::lock_guard lock(m_mutex);
        return m_blocks;
    }
    bool WaitFor(size_t count, std::chrono::milliseconds timeout = 3000ms)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, timeout, [&] { return m_tips.size() >= count; });
    }
    std::vector<interfaces::ChainTip> Tips()
    {
        std::lock_guard lock(m_mutex);
        return m_tips;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<interfaces::ChainTip> m_tips;
    std::vector<interfaces::ChainBlock> m_blocks;
    std::vector<std::string> m_events;
};

std::pair<int32_t, std::string> CaptureError(const std::function<void()>& f)
{
    try {
        f();
    } catch (const ipc::Error& e) {
        return {static_cast<int32_t>(e.code()), e.what()};
    }
    return {0, ""};
}

//! An ipc:// socket, where a client that goes away is noticed at once.
std::string Endpoint()
{
    static std::atomic<int> counter{0};
    auto path = std::filesystem::temp_directory_path() /
                ("orrery_chain_service_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".sock");
    return "ipc://" + path.string();
}

ipc::Options ClientOptions(const char* role)
{
    ipc::Options options;
    options.role = role;
    options.interfaces = {"chain"};
    options.connect_timeout = 2s;
    return options;
}

} // namespace

TEST_CASE("Chain answers the network's name, its genesis as the tip and bitcoind's out-of-range error")
{
    test::GenesisChain genesis(ChainType::REGTEST);
    auto& chain = genesis.chainstate;
    node::ChainService service(chain);
    CHECK(service.getChainName() == "regtest");
    auto tip = service.getTip();
    CHECK(tip.height == 0);
    CHECK(tip.hash == REGTEST_GENESIS);
    CHECK(tip.time == 1296688602);
    CHECK(service.getBlockHash(0) == REGTEST_GENESIS);
    for (int64_t height : {1, -1, 1000000}) {
        auto error = CaptureError([&] { service.getBlockHash(height); });
        CHECK(error.first == rpc::RPC_INVALID_PARAMETER);
        CHECK(error.second == "Block height out of range");
    }
}

TEST_CASE("Chain names each network as bitcoind does")
{
    for (auto [type, name, genesis] : {
             std::tuple{ChainType::MAIN, "main", "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
             std::tuple{ChainType::TESTNET, "test", "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"},
             std::tuple{ChainType::TESTNET4, "testnet4",
                        "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043"},
             std::tuple{ChainType::SIGNET, "signet",
                        "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"},
         }) {
        test::GenesisChain loaded(type);
        auto& chain = loaded.chainstate;
        node::ChainService service(chain);
        CHECK(service.getChainName() == name);
        CHECK(service.getTip().hash == genesis);
        CHECK(service.getBlockHash(0) == genesis);
    }
}

TEST_CASE("a subscription gets the current tip at once, then each NotifyTip, until its handle is dropped")
{
    test::GenesisChain genesis(ChainType::REGTEST);
    auto& chain = genesis.chainstate;
    auto service = std::make_shared<node::ChainService>(chain);
    auto first = std::make_shared<TipCollector>();
    auto second = std::make_shared<TipCollector>();
    auto first_handle = service->subscribeNotifications(first);
    REQUIRE(first->Tips().size() == 1);
    CHECK(first->Tips()[0].hash == REGTEST_GENESIS);
    auto second_handle = service->subscribeNotifications(second);
    CHECK(service->SubscriberCount() == 2);
    service->NotifyTip();
    CHECK(first->Tips().size() == 2);
    CHECK(second->Tips().size() == 2);
    first_handle.reset();
    CHECK(service->SubscriberCount() == 1);
    service->NotifyTip();
    CHECK(first->Tips().size() == 2);
    CHECK(second->Tips().size() == 3);
    second_handle.reset();
    CHECK(service->SubscriberCount() == 0);
}

TEST_CASE("over IPC a wallet calls Chain and subscribes; the subscription ends with the wallet's handle or its "
          "connection; other roles are refused")
{
    test::GenesisChain genesis(ChainType::REGTEST);
    auto& chain = genesis.chainstate;
    auto service = std::make_shared<node::ChainService>(chain);
    ipc::Options server_options;
    server_options.role = "node";
    ipc::Server server(server_options);
    server.Serve<interfaces::Chain>(service, interfaces::CHAIN_CALLERS);
    std::string endpoint = Endpoint();
    server.Bind(endpoint);

    ipc::Client wallet(ClientOptions("wallet"));
    auto proxy = ipc::MakeProxy<interfaces::Chain>(wallet.Connect(endpoint));
    CHECK(proxy->getChainName() == "regtest");
    CHECK(proxy->getTip().hash == REGTEST_GENESIS);
    CHECK(proxy->getBlockHash(0) == REGTEST_GENESIS);
    auto error = CaptureError([&] { proxy->getBlockHash(1); });
    CHECK(error.first == rpc::RPC_INVALID_PARAMETER);
    CHECK(error.second == "Block height out of range");

    auto tips = std::make_shared<TipCollector>();
    auto handle = proxy->subscribeNotifications(tips);
    REQUIRE(tips->WaitFor(1));
    CHECK(tips->Tips()[0].height == 0);
    CHECK(tips->Tips()[0].hash == REGTEST_GENESIS);
    CHECK(service->SubscriberCount() == 1);
    service->NotifyTip();
    CHECK(tips->WaitFor(2));
    handle.reset(); // init.unsubscribe
    CHECK(WaitUntil([&] { return service->SubscriberCount() == 0; }));

    handle = proxy->subscribeNotifications(tips);
    CHECK(service->SubscriberCount() == 1);
    wallet.Stop(); // the connection goes: the node ends the subscription
    CHECK(WaitUntil([&] { return service->SubscriberCount() == 0; }));
    handle.reset();

    for (const char* role : {"p2p-agent", "orreryd"}) {
        // The hello names no Chain to them, so a client asking for it fails to connect;
        // one that calls it anyway is refused.
        CHECK_THROWS_WITH_AS(ipc::Client(ClientOptions(role)).Connect(endpoint),
                             doctest::Contains("does not serve chain to role"), ipc::Error);
        auto options = ClientOptions(role);
        options.interfaces.clear();
        ipc::Client other(options);
        auto refused = ipc::MakeProxy<interfaces::Chain>(other.Connect(endpoint));
        CHECK(CaptureError([&] { refused->getTip(); }).first ==
              static_cast<int32_t>(ipc::ErrorCode::PERMISSION_DENIED));
        other.Stop();
    }
    server.Stop();
    std::filesystem::remove(endpoint.substr(6));
}

TEST_CASE("over IPC a subscriber gets disconnected and connected blocks, with their data, in the order sent")
{
    test::GenesisChain genesis(ChainType::REGTEST);
    auto& chain = genesis.chainstate;
    auto service = std::make_shared<node::ChainService>(chain);
    ipc::Options server_options;
    server_options.role = "node";
    ipc::Server server(server_options);
    server.Serve<interfaces::Chain>(service, interfaces::CHAIN_CALLERS);
    std::string endpoint = Endpoint();
    server.Bind(endpoint);
    ipc::Client wallet(ClientOptions("wallet"));
    auto proxy = ipc::MakeProxy<interfaces::Chain>(wallet.Connect(endpoint));
    auto events = std::make_shared<TipCollector>();
    auto handle = proxy->subscribeNotifications(events);
    REQUIRE(events->WaitForEvents(1));

    auto make_block = [](int64_t height, const std::string& hash, uint8_t fill) {
        interfaces::ChainBlock block;
        block.height = height;
        block.hash = hash;
        block.prev_hash = std::string(64, '0');
        block.time = 1296688602 + height;
        block.median_time = 1296688602;
        block.data.assign(1000 + static_cast<size_t>(height), fill);
        return block;
    };
    // A reorganization of one block: the old tip leaves, two blocks of the new branch join, then the new tip.
    std::string old_tip(64, 'a'), new_1(64, 'b'), new_2(64, 'c');
    service->NotifyBlockDisconnected(make_block(1, old_tip, 0x01));
    service->NotifyBlockConnected(make_block(1, new_1, 0x02));
    service->NotifyBlockConnected(make_block(2, new_2, 0x03));
    interfaces::ChainTip tip;
    tip.height = 2;
    tip.hash = new_2;
    service->NotifyTip(tip);
    REQUIRE(events->WaitForEvents(5));
    auto seen = events->Events();
    CHECK(seen[1] == "disconnected 1 " + old_tip);
    CHECK(seen[2] == "connected 1 " + new_1);
    CHECK(seen[3] == "connected 2 " + new_2);
    CHECK(seen[4] == "tip 2 " + new_2);
    auto blocks = events->Blocks();
    REQUIRE(blocks.size() == 3);
    CHECK(blocks[2].data == std::vector<uint8_t>(1002, 0x03));
    CHECK(blocks[1].median_time == 1296688602);

    handle.reset();
    wallet.Stop();
    server.Stop();
    std::filesystem::remove(endpoint.substr(6));
}

TEST_CASE("over IPC the gui-bridge subscribes too and gets the mempool's news in order with the blocks'")
{
    test::GenesisChain genesis(ChainType::REGTEST);
    auto service = std::make_shared<node::ChainService>(genesis.chainstate);
    ipc::Options server_options;
    server_options.role = "node";
    ipc::Server server(server_options);
    server.Serve<interfaces::Chain>(service, interfaces::CHAIN_CALLERS);
    std::string endpoint = Endpoint();
    server.Bind(endpoint);
    ipc::Client bridge(ClientOptions("gui-bridge"));
    auto proxy = ipc::MakeProxy<interfaces::Chain>(bridge.Connect(endpoint));
    auto events = std::make_shared<TipCollector>();
    auto handle = proxy->subscribeNotifications(events);
    REQUIRE(events->WaitForEvents(1));

    service->NotifyTransactionAdded(std::vector<uint8_t>(60, 0x01), 1);
    service->NotifyTransactionAdded(std::vector<uint8_t>(61, 0x02), 2);
    interfaces::ChainBlock block;
    block.height = 1;
    block.hash = std::string(64, 'd');
    block.prev_hash = std::string(64, '0');
    service->NotifyBlockConnected(block);
    service->NotifyTransactionRemoved(std::vector<uint8_t>(61, 0x02), "conflict", 4);
    REQUIRE(events->WaitForEvents(5));
    auto seen = events->Events();
    CHECK(seen[1] == "added 60 1");
    CHECK(seen[2] == "added 61 2");
    CHECK(seen[3] == "connected 1 " + block.hash);
    CHECK(seen[4] == "removed 61 conflict 4");

    handle.reset();
    bridge.Stop();
    server.Stop();
    std::filesystem::remove(endpoint.substr(6));
}
