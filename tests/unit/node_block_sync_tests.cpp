// The block download scheduler over a block tree built in memory: what is asked from whom, the
// 16-per-peer and 1,024-block limits, stallers, download timeouts, peers leaving, and locators.
#include <services/node/block_sync.h>

#include <doctest/doctest.h>

#include <deque>

using namespace orrery;
using namespace orrery::node;
using namespace std::chrono_literals;

namespace {

//! A chain of headers from genesis, all valid as headers; only genesis has its block.
struct Tree {
    std::deque<BlockIndex> entries;
    ActiveChain chain;

    explicit Tree(int height)
    {
        for (int h = 0; h <= height; ++h) {
            BlockIndex& index = entries.emplace_back();
            std::array<uint8_t, 32> bytes{};
            bytes[0] = uint8_t(h);
            bytes[1] = uint8_t(h >> 8);
            bytes[2] = 0x5a;
            index.hash = uint256(bytes);
            index.height = h;
            index.prev = h > 0 ? &entries[size_t(h - 1)] : nullptr;
            index.chain_work = ArithUint256(uint64_t(h + 1));
            index.status = BLOCK_VALID_TREE;
            index.BuildSkip();
        }
        Have(0);
        chain.SetTip(&entries[0]);
    }
    BlockIndex* At(int height) { return &entries[size_t(height)]; }
    //! The block's data is stored (and its chain_tx set when every ancestor has data too).
    void Have(int height)
    {
        BlockIndex* index = At(height);
        index->status |= BLOCK_HAVE_DATA;
        index->chain_tx = (height == 0 || At(height - 1)->chain_tx > 0) ? uint64_t(height + 1) : 0;
    }
};

std::vector<uint256> Range(Tree& tree, int from, int to)
{
    std::vector<uint256> hashes;
    for (int h = from; h <= to; ++h) hashes.push_back(tree.At(h)->hash);
    return hashes;
}

const auto T0 = BlockSync::Clock::time_point{} + 1000s;

} // namespace

TEST_CASE("a peer with more work gets the lowest 16 missing blocks, a second peer the next 16")
{
    Tree tree(100);
    BlockSync sync(600s);
    sync.AddPeer(1);
    sync.AddPeer(2);
    sync.UpdateBestKnown(1, tree.At(100));
    sync.UpdateBestKnown(2, tree.At(100));
    auto requests = sync.Schedule(tree.chain, T0);
    CHECK(requests[1] == Range(tree, 1, 16));
    CHECK(requests[2] == Range(tree, 17, 32));
    CHECK(sync.IsInFlight(tree.At(1)->hash));
    CHECK(sync.Stats(1)->inflight.size() == 16);
    CHECK(sync.Stats(1)->synced_headers == 100);

    INFO("a full pipeline gets nothing more until a block arrives");
    CHECK(sync.Schedule(tree.chain, T0).empty());
    CHECK(sync.BlockReceived(1, tree.At(1)->hash, T0 + 1s));
    tree.Have(1);
    requests = sync.Schedule(tree.chain, T0 + 1s);
    CHECK(requests[1] == Range(tree, 33, 33));
}

TEST_CASE("nothing is asked from a peer whose best block has less work than our tip")
{
    Tree tree(20);
    for (int h = 1; h <= 20; ++h) tree.Have(h);
    tree.chain.SetTip(tree.At(20));
    BlockSync sync(600s);
    sync.AddPeer(1);
    sync.UpdateBestKnown(1, tree.At(10));
    CHECK(sync.Schedule(tree.chain, T0).empty());
    CHECK(sync.PeerHas(1, tree.At(5)));
    CHECK_FALSE(sync.PeerHas(1, tree.At(11)));
}

TEST_CASE("the peer holding the first block of a full window stalls the others and is dropped after 2 s")
{
    Tree tree(2000);
    BlockSync sync(600s);
    sync.AddPeer(1);
    sync.UpdateBestKnown(1, tree.At(2000));
    CHECK(sync.Schedule(tree.chain, T0)[1] == Range(tree, 1, 16));
    // Everything else in the 1,024-block window arrived from elsewhere; its first 16 blocks did not.
    for (int h = 17; h <= 1024; ++h) tree.Have(h);
    sync.AddPeer(2);
    sync.UpdateBestKnown(2, tree.At(2000));
    CHECK(sync.Schedule(tree.chain, T0 + 100ms).count(2) == 0);
    CHECK(sync.CheckTimeouts(T0 + 2s).empty());
    auto dropped = sync.CheckTimeouts(T0 + 2101ms);
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].first == 1);
    CHECK(dropped[0].second == "Peer=1 is stalling block download, disconnecting");
    CHECK(sync.StallingTimeout() == 4s);

    INFO("once it is gone, its blocks go to the other peer at once");
    sync.RemovePeer(1);
    CHECK(sync.Schedule(tree.chain, T0 + 3s)[2] == Range(tree, 1, 16));
}

TEST_CASE("the stall timeout doubles up to 64 s and deliveries bring it back down")
{
    Tree tree(3000);
    BlockSync sync(600s);
    auto now = T0;
    for (int64_t peer = 1; peer <= 7; ++peer) {
        sync.AddPeer(peer);
        sync.AddPeer(peer + 100);
        sync.UpdateBestKnown(peer, tree.At(3000));
        sync.Schedule(tree.chain, now); // peer takes the window's first missing blocks
        for (int h = 17; h <= 1024; ++h) tree.Have(h);
        sync.UpdateBestKnown(peer + 100, tree.At(3000));
        sync.Schedule(tree.chain, now);
        const auto timeout = sync.StallingTimeout();
        now += timeout + 1ms;
        auto dropped = sync.CheckTimeouts(now);
        REQUIRE(dropped.size() == 1);
        sync.RemovePeer(peer);
        sync.RemovePeer(peer + 100);
        // Start over with fresh blocks for the next round.
        tree = Tree(3000);
    }
    CHECK(sync.StallingTimeout() == 64s);
    sync.AddPeer(9);
    sync.UpdateBestKnown(9, tree.At(3000));
    sync.Schedule(tree.chain, now);
    CHECK(sync.BlockReceived(9, tree.At(1)->hash, now));
    CHECK(sync.StallingTimeout() == std::chrono::milliseconds(54400));
}

TEST_CASE("a peer whose oldest block is in flight past the download timeout is dropped")
{
    Tree tree(50);
    BlockSync sync(600s);
    sync.AddPeer(1);
    sync.UpdateBestKnown(1, tree.At(50));
    sync.Schedule(tree.chain, T0);
    CHECK(sync.CheckTimeouts(T0 + 600s).empty());
    auto dropped = sync.CheckTimeouts(T0 + 601s);
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].second ==
          "Timeout downloading block " + tree.At(1)->hash.GetHex() + " from peer=1, disconnecting");
}

TEST_CASE("a block announced before its header is resolved once the header arrives")
{
    Tree tree(10);
    BlockSync sync(600s);
    sync.AddPeer(1);
    sync.SetUnknownBest(1, tree.At(10)->hash);
    CHECK(sync.Schedule(tree.chain, T0).empty());
    sync.ResolveUnknown([&](const uint256& hash) { return hash == tree.At(10)->hash ? tree.At(10) : nullptr; });
    CHECK(sync.Schedule(tree.chain, T0)[1] == Range(tree, 1, 10));
}

TEST_CASE("a locator has the last ten blocks, then steps doubling back, and ends at genesis")
{
    Tree tree(100);
    auto locator = GetLocator(tree.At(100));
    std::vector<int> heights;
    for (const auto& hash : locator) {
        for (int h = 0; h <= 100; ++h) {
            if (tree.At(h)->hash == hash) heights.push_back(h);
        }
    }
    CHECK(heights == std::vector<int>{100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 87, 83, 75, 59, 27, 0});
    CHECK(GetLocator(tree.At(0)) == std::vector<uint256>{tree.At(0)->hash});
}

// ---- Headers sync: one sync peer during initial sync, and its timeout (Core's SendMessages).

namespace {
constexpr int64_t NOW_S = 1'700'000'000;
constexpr int64_t NOW_US = NOW_S * 1'000'000;
constexpr int64_t OLD_HEADER = NOW_S - 30 * 24 * 3600; // a month behind: 4,320 headers of 10 minutes
const auto NO_NOBAN = [](int64_t) { return false; };
} // namespace

TEST_CASE("during initial sync only one peer gets the initial getheaders; all do once the best header is recent")
{
    BlockSync sync(600s);
    sync.AddPeer(1, /*preferred=*/true);
    sync.AddPeer(2, /*preferred=*/true);
    sync.AddPeer(3, /*preferred=*/false);
    CHECK(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600));
    CHECK_FALSE(sync.StartHeadersSync(2, OLD_HEADER, NOW_US, 600));
    CHECK_FALSE(sync.StartHeadersSync(3, OLD_HEADER, NOW_US, 600));
    CHECK(sync.HeadersSyncStarted(1));
    CHECK_FALSE(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600)); // once per peer
    SUBCASE("the sync peer leaving lets the next one start")
    {
        sync.RemovePeer(1);
        CHECK(sync.StartHeadersSync(2, OLD_HEADER, NOW_US, 600));
    }
    SUBCASE("a best header younger than a day lets every peer start")
    {
        CHECK(sync.StartHeadersSync(2, NOW_S - 3600, NOW_US, 600));
        CHECK(sync.StartHeadersSync(3, NOW_S - 3600, NOW_US, 600));
    }
}

TEST_CASE("an inbound peer syncs headers only when no outbound peer is there to do it")
{
    BlockSync sync(600s);
    sync.AddPeer(1, /*preferred=*/false);
    CHECK(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600)); // no preferred peer at all
    BlockSync other(600s);
    other.AddPeer(1, /*preferred=*/true);
    other.AddPeer(2, /*preferred=*/false);
    other.AddPeer(3, /*preferred=*/true, /*can_serve=*/false);
    CHECK_FALSE(other.StartHeadersSync(3, OLD_HEADER, NOW_US, 600)); // serves no blocks
    CHECK(other.StartHeadersSync(2, OLD_HEADER, NOW_US, 600));        // nothing downloading yet
}

TEST_CASE("a sync peer that does not bring the headers within a day in 15 minutes plus 1 ms a header is dropped")
{
    BlockSync sync(600s);
    sync.AddPeer(1, true);
    sync.AddPeer(2, true);
    REQUIRE(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600));
    // 30 days of 10-minute blocks: 4,320 expected headers, 4.32 s on top of 15 minutes.
    const int64_t deadline = NOW_US + 15 * 60 * 1'000'000LL + 4'320'000;
    CHECK(sync.CheckHeadersSyncTimeout(OLD_HEADER, deadline, NO_NOBAN).empty());
    auto timeouts = sync.CheckHeadersSyncTimeout(OLD_HEADER, deadline + 1, NO_NOBAN);
    REQUIRE(timeouts.size() == 1);
    CHECK(timeouts[0].peer_id == 1);
    CHECK(timeouts[0].disconnect);
    CHECK(timeouts[0].reason == "Timeout downloading headers from peer=1, disconnecting");
}

TEST_CASE("the headers-sync timeout spares the only preferred peer, a noban peer and a peer that caught up")
{
    SUBCASE("no other preferred peer to take over")
    {
        BlockSync sync(600s);
        sync.AddPeer(1, true);
        sync.AddPeer(2, false);
        REQUIRE(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600));
        CHECK(sync.CheckHeadersSyncTimeout(OLD_HEADER, NOW_US + 3600'000'000LL, NO_NOBAN).empty());
    }
    SUBCASE("a noban peer stays connected but hands headers sync to another")
    {
        BlockSync sync(600s);
        sync.AddPeer(1, true);
        sync.AddPeer(2, true);
        REQUIRE(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600));
        auto timeouts = sync.CheckHeadersSyncTimeout(OLD_HEADER, NOW_US + 3600'000'000LL, [](int64_t) { return true; });
        REQUIRE(timeouts.size() == 1);
        CHECK_FALSE(timeouts[0].disconnect);
        CHECK_FALSE(sync.HeadersSyncStarted(1));
        CHECK(sync.StartHeadersSync(2, OLD_HEADER, NOW_US + 3600'000'000LL, 600));
    }
    SUBCASE("once the best header was recent, the peer never times out")
    {
        BlockSync sync(600s);
        sync.AddPeer(1, true);
        sync.AddPeer(2, true);
        REQUIRE(sync.StartHeadersSync(1, OLD_HEADER, NOW_US, 600));
        CHECK(sync.CheckHeadersSyncTimeout(NOW_S, NOW_US + 1, NO_NOBAN).empty());
        CHECK(sync.CheckHeadersSyncTimeout(OLD_HEADER, NOW_US + 3600'000'000LL, NO_NOBAN).empty());
    }
}
