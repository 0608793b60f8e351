// BIP152 high-bandwidth peer selection (services/node/compact_relay.h): Core's
// MaybeSetPeerAsAnnouncingHeaderAndIDs, the last three peers to give us a new
// block first, keeping an outbound one.
#include <services/node/compact_relay.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::node;

namespace {

std::map<int64_t, CompactPeer> Peers(std::initializer_list<std::pair<int64_t, bool>> inbound_by_id)
{
    std::map<int64_t, CompactPeer> peers;
    for (auto [id, inbound] : inbound_by_id) {
        peers[id].inbound = inbound;
        peers[id].provides = true;
    }
    return peers;
}

} // namespace

TEST_CASE("the last three peers to deliver a new block first announce to us in high-bandwidth mode")
{
    auto peers = Peers({{1, false}, {2, false}, {3, false}, {4, false}});
    HighBandwidthPeers hb;
    CHECK(hb.Select(1, peers) == std::vector<HighBandwidthChange>{{1, true}});
    CHECK(hb.Select(2, peers) == std::vector<HighBandwidthChange>{{2, true}});
    CHECK(hb.Select(3, peers) == std::vector<HighBandwidthChange>{{3, true}});
    CHECK(hb.Select(2, peers).empty()); // already chosen: now the newest
    // A fourth pushes out the oldest (1), which is told to go back to low bandwidth.
    CHECK(hb.Select(4, peers) == std::vector<HighBandwidthChange>{{1, false}, {4, true}});
    CHECK(hb.Peers() == std::deque<int64_t>{3, 2, 4});
    CHECK_FALSE(peers[1].hb_to);
    CHECK(peers[4].hb_to);
}

TEST_CASE("a peer that never sent sendcmpct version 2 is not chosen")
{
    auto peers = Peers({{1, false}});
    peers[1].provides = false;
    HighBandwidthPeers hb;
    CHECK(hb.Select(1, peers).empty());
    CHECK(hb.Peers().empty());
}

TEST_CASE("an inbound peer never pushes out the last outbound high-bandwidth peer")
{
    auto peers = Peers({{1, false}, {2, true}, {3, true}, {4, true}});
    HighBandwidthPeers hb;
    hb.Select(1, peers); // the one outbound, oldest
    hb.Select(2, peers);
    hb.Select(3, peers);
    // Inbound 4 comes: the second oldest (2) goes instead of outbound 1.
    CHECK(hb.Select(4, peers) == std::vector<HighBandwidthChange>{{2, false}, {4, true}});
    CHECK(hb.Peers() == std::deque<int64_t>{1, 3, 4});
    hb.Remove(3);
    CHECK(hb.Peers() == std::deque<int64_t>{1, 4});
}
