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
