// The node's peer table: ids, registration by agents, admission of inbound
// sockets, the addnode list and bans, without processes or clocks.
#include <services/node/peer_table.h>

#include <common/util/net_permissions.h>

#include <doctest/doctest.h>

#include <memory>

using namespace orrery;
using namespace orrery::node;

namespace {

PeerTable MakeTable(int max_connections = DEFAULT_MAX_PEER_CONNECTIONS, bool listening = true)
{
    auto counter = std::make_shared<uint64_t>(1000);
    return PeerTable(max_connections, listening, [counter] { return ++*counter; });
}

} // namespace

TEST_CASE("peer ids start at zero and increase across inbound and outbound peers")
{
    PeerTable table = MakeTable();
    auto first = table.AdmitInbound("10.0.0.1:5000", "10.0.0.9:18444", 100);
    auto second = table.IssueOutbound("10.0.0.2:18444", "manual", 100);
    auto third = table.AdmitInbound("10.0.0.3:5000", "10.0.0.9:18444", 100);
    REQUIRE(first.accepted);
    REQUIRE(third.accepted);
    CHECK(first.peer_id == 0);
    CHECK(second.id == 1);
    CHECK(third.peer_id == 2);
    // A removed id is never reused.
    table.Remove(2);
    CHECK(table.IssueOutbound("10.0.0.4:18444", "manual", 100).id == 3);
}

TEST_CASE("each issued peer gets its own version nonce")
{
    PeerTable table = MakeTable();
    auto a = table.IssueOutbound("10.0.0.2:18444", "manual", 100);
    auto b = table.IssueOutbound("10.0.0.3:18444", "manual", 100);
    CHECK(a.nonce != 0);
    CHECK(a.nonce != b.nonce);
}

TEST_CASE("inbound slots are -maxconnections minus the eleven automatic outbound slots")
{
    CHECK(MakeTable().MaxInbound() == 114);
    CHECK(MakeTable(0).MaxInbound() == 0);
    CHECK(MakeTable(11).MaxInbound() == 0);
    CHECK(MakeTable(13).MaxInbound() == 2);
}

TEST_CASE("an inbound socket is refused when the inbound slots are full, pending ones included")
{
    PeerTable table = MakeTable(13);
    auto a = table.AdmitInbound("10.0.0.1:5000", "", 100);
    auto b = table.AdmitInbound("10.0.0.2:5000", "", 100);
    REQUIRE(a.accepted);
    REQUIRE(b.accepted);
    table.Register(a.peer_id, 4242, true, 101); // one registered, one still pending
    auto c = table.AdmitInbound("10.0.0.3:5000", "", 102);
    CHECK_FALSE(c.accepted);
    CHECK(c.reason == "inbound connection limit reached (2)");
    // Outbound peers do not take inbound slots.
    table.IssueOutbound("10.0.0.8:18444", "manual", 102);
    table.Remove(b.peer_id);
    CHECK(table.AdmitInbound("10.0.0.3:5000", "", 103).accepted);
}

TEST_CASE("no inbound peer is admitted with -maxconnections=0 or -listen=0")
{
    auto none = MakeTable(0).AdmitInbound("10.0.0.1:5000", "", 100);
    CHECK_FALSE(none.accepted);
    CHECK(none.reason.find("limit") != std::string::npos);
    auto not_listening = MakeTable(125, false).AdmitInbound("10.0.0.1:5000", "", 100);
    CHECK_FALSE(not_listening.accepted);
    CHECK(not_listening.reason.find("-listen=0") != std::string::npos);
}

TEST_CASE("a banned host is refused until its ban expires, whatever its port")
{
    PeerTable table = MakeTable();
    table.Bans().Add({*ParseSubNet("10.0.0.1"), 100, 200});
    auto refused = table.AdmitInbound("10.0.0.1:5000", "", 100);
    CHECK_FALSE(refused.accepted);
    CHECK(refused.reason == "address 10.0.0.1 is banned");
    CHECK_FALSE(table.AdmitInbound("10.0.0.1:6000", "", 199).accepted);
    CHECK(table.AdmitInbound("10.0.0.2:5000", "", 100).accepted);
    CHECK(table.AdmitInbound("10.0.0.1:5000", "", 200).accepted);
    table.Bans().Add({*ParseSubNet("::1"), 100, 300});
    CHECK(table.IsBanned("[::1]:18444", 250));
    table.Bans().Add({*ParseSubNet("192.168.0.0/16"), 100, 300});
    CHECK_FALSE(table.AdmitInbound("192.168.44.5:5000", "", 250).accepted);
    CHECK(table.AdmitInbound("192.169.0.1:5000", "", 250).accepted);
}

TEST_CASE("a socket connected to itself is refused")
{
    PeerTable table = MakeTable();
    auto self = table.AdmitInbound("127.0.0.1:18444", "127.0.0.1:18444", 100);
    CHECK_FALSE(self.accepted);
    CHECK(self.reason == "connection to self");
}

TEST_CASE("only an id the node issued can be registered, once, in its direction")
{
    PeerTable table = MakeTable();
    CHECK_THROWS_WITH_AS(table.Register(7, 100, true, 100), "unknown peer id 7: the node did not issue it",
                         PeerTableError);
    auto inbound = table.AdmitInbound("10.0.0.1:5000", "10.0.0.9:18444", 100);
    CHECK_THROWS_AS(table.Register(inbound.peer_id, 100, false, 100), PeerTableError);
    auto entry = table.Register(inbound.peer_id, 100, true, 105);
    CHECK(entry.registered);
    CHECK(entry.agent_pid == 100);
    CHECK(entry.conn_time == 105);
    CHECK(entry.address == "10.0.0.1:5000");
    CHECK(entry.local_address == "10.0.0.9:18444");
    CHECK(entry.connection_type == "inbound");
    CHECK_THROWS_WITH_AS(table.Register(inbound.peer_id, 101, true, 100), "peer id 0 is already served by agent 100",
                         PeerTableError);
}

TEST_CASE("handshake and stats reports need a registered peer")
{
    PeerTable table = MakeTable();
    auto id = table.IssueOutbound("10.0.0.2:18444", "manual", 100).id;
    interfaces::PeerVersion version;
    version.version = 70016;
    version.user_agent = "/Satoshi:28.0.0/";
    CHECK_THROWS_AS(table.SetHandshakeDone(id, version), PeerTableError);
    CHECK_THROWS_AS(table.SetStats(99, {}), PeerTableError);
    table.Register(id, 55, false, 100);
    table.SetHandshakeDone(id, version);
    interfaces::PeerStats stats;
    stats.bytes_sent = 1234;
    stats.ping_time = 0.25;
    table.SetStats(id, stats);
    auto entry = table.Find(id);
    REQUIRE(entry);
    CHECK(entry->handshake_done);
    CHECK(entry->version.user_agent == "/Satoshi:28.0.0/");
    CHECK(entry->stats.bytes_sent == 1234);
    CHECK(entry->stats.ping_time == 0.25);
}

TEST_CASE("connected peers are the registered ones, counted by direction")
{
    PeerTable table = MakeTable();
    auto in = table.AdmitInbound("10.0.0.1:5000", "", 100).peer_id;
    auto out = table.IssueOutbound("10.0.0.2:18444", "manual", 100).id;
    table.IssueOutbound("10.0.0.3:18444", "manual", 100); // pending
    CHECK(table.CountConnected() == 0);
    table.Register(in, 1, true, 100);
    table.Register(out, 2, false, 100);
    CHECK(table.CountConnected() == 2);
    CHECK(table.CountConnected(true) == 1);
    CHECK(table.CountConnected(false) == 1);
    CHECK(table.CountManual() == 2);
    CHECK(table.Connected().size() == 2);
    CHECK(table.FindConnectedByAddress("10.0.0.2:18444")->id == out);
    CHECK_FALSE(table.FindConnectedByAddress("10.0.0.3:18444"));
    CHECK(table.HasPeerAtAddress("10.0.0.3:18444"));
}

TEST_CASE("ids whose agent never registered expire, registered ones stay")
{
    PeerTable table = MakeTable();
    auto old_pending = table.IssueOutbound("10.0.0.2:18444", "manual", 100).id;
    auto registered = table.IssueOutbound("10.0.0.3:18444", "manual", 100).id;
    auto young_pending = table.IssueOutbound("10.0.0.4:18444", "manual", 150).id;
    table.Register(registered, 7, false, 101);
    auto expired = table.ExpirePending(170, 60);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].id == old_pending);
    CHECK_FALSE(table.Find(old_pending));
    CHECK(table.Find(registered));
    CHECK(table.Find(young_pending));
    CHECK_FALSE(table.Remove(old_pending));
}

TEST_CASE("the addnode list refuses duplicates and unknown removals")
{
    PeerTable table = MakeTable();
    CHECK(table.AddNode("10.0.0.2:18444"));
    CHECK_FALSE(table.AddNode("10.0.0.2:18444"));
    CHECK(table.AddNode("10.0.0.3:18444"));
    CHECK(table.AddedNodes() == std::vector<std::string>{"10.0.0.2:18444", "10.0.0.3:18444"});
    CHECK_FALSE(table.RemoveAddedNode("10.0.0.9:18444"));
    CHECK(table.RemoveAddedNode("10.0.0.2:18444"));
    CHECK(table.AddedNodes() == std::vector<std::string>{"10.0.0.3:18444"});
}

TEST_CASE("an inbound version nonce equal to one of our outbound nonces finds that outbound peer")
{
    PeerTable table = MakeTable();
    auto out = table.IssueOutbound("192.0.2.7:18444", "manual", 100);
    // Different addresses on both ends: the address check cannot see it, the nonce does.
    auto in = table.AdmitInbound("198.51.100.3:40000", "203.0.113.1:18444", 100);
    REQUIRE(in.accepted);
    auto found = table.FindOutboundByNonce(out.nonce);
    REQUIRE(found);
    CHECK(found->id == out.id);
    // Inbound peers' nonces, unknown nonces and "no nonce" find nothing.
    CHECK_FALSE(table.FindOutboundByNonce(table.Find(in.peer_id)->nonce));
    CHECK_FALSE(table.FindOutboundByNonce(out.nonce + 12345));
    CHECK_FALSE(table.FindOutboundByNonce(0));
}

namespace {
EvictionCandidate Candidate(int64_t id, int64_t conn_time, std::string group, std::optional<double> min_ping = {})
{
    EvictionCandidate c;
    c.id = id;
    c.conn_time = conn_time;
    c.netgroup = std::move(group);
    c.netgroup_key = std::hash<std::string>{}(c.netgroup);
    c.min_ping = min_ping;
    return c;
}
} // namespace

TEST_CASE("network groups are /16 for IPv4 and /32 for IPv6")
{
    CHECK(NetGroup("10.1.2.3") == "10.1");
    CHECK(NetGroup("127.0.0.1") == "127.0");
    CHECK(NetGroup("2001:db8:1::1") == "2001:db8");
    CHECK(NetGroup("not-an-ip") == "not-an-ip");
}

TEST_CASE("eviction in one network group takes the youngest peer not protected by group, ping or age")
{
    std::vector<EvictionCandidate> peers;
    for (int64_t i = 0; i < 5; ++i) peers.push_back(Candidate(i, 100 + i, "127.0"));
    // 0: its group's oldest; 1 and 2: the older half of 1..4; 3 and 4 are left: 4 is the youngest.
    CHECK(SelectPeerToEvict(peers) == 4);
    // A measured low ping protects the youngest: then 3 goes (1 protected by age among 1, 2, 3).
    peers[4].min_ping = 0.001;
    CHECK(SelectPeerToEvict(peers) == 3);
    // Same connection second: the higher id came later.
    for (auto& p : peers) p.conn_time = 100;
    peers[4].min_ping.reset();
    CHECK(SelectPeerToEvict(peers) == 4);
}

TEST_CASE("eviction takes from the network group with the most peers, and spares a lone peer")
{
    std::vector<EvictionCandidate> peers{
        Candidate(0, 100, "10.1"), Candidate(1, 101, "10.2"), Candidate(2, 102, "10.3"), Candidate(3, 103, "10.4"),
        Candidate(4, 104, "10.5"), Candidate(5, 105, "10.9"), Candidate(6, 106, "10.9"), Candidate(7, 107, "10.9"),
        Candidate(8, 108, "10.9"), Candidate(9, 109, "10.8")};
    auto victim = SelectPeerToEvict(peers);
    REQUIRE(victim);
    // Whatever groups the key protects, the crowded 10.9 loses its youngest.
    CHECK(*victim == 8);
    CHECK_FALSE(SelectPeerToEvict({Candidate(0, 100, "10.1")}));
    CHECK_FALSE(SelectPeerToEvict({}));
}

TEST_CASE("a full table evicts a registered inbound peer for a newcomer, or refuses when none may go")
{
    PeerTable table = MakeTable(13); // two inbound slots
    auto a = table.AdmitInbound("10.0.0.1:5000", "", 100);
    auto b = table.AdmitInbound("10.0.0.2:5000", "", 100);
    std::optional<PeerEntry> evicted;
    // Pending peers cannot be evicted.
    auto refused = table.AdmitInbound("10.0.0.3:5000", "", 100, &evicted);
    CHECK_FALSE(refused.accepted);
    CHECK(refused.reason == "inbound connection limit reached (2), no peer to evict");
    table.Register(a.peer_id, 1, true, 100);
    table.Register(b.peer_id, 2, true, 101);
    // Same /16: a is protected by its group, b is the half of one that is not protected by age.
    auto admitted = table.AdmitInbound("10.0.0.3:5000", "", 102, &evicted);
    CHECK(admitted.accepted);
    REQUIRE(evicted);
    CHECK(evicted->id == b.peer_id);
    CHECK_FALSE(table.Find(b.peer_id));
    // Without the out-parameter the old rule holds: refuse.
    table.Register(admitted.peer_id, 3, true, 103);
    CHECK_FALSE(table.AdmitInbound("10.0.0.4:5000", "", 104).accepted);
}

TEST_CASE("a noban peer is admitted from a banned address, keeps its permissions and is never evicted")
{
    PeerTable table = MakeTable(12); // one inbound slot
    table.Bans().Add({*ParseSubNet("10.0.0.0/8"), 100, 300});
    CHECK_FALSE(table.AdmitInbound("10.0.0.1:5000", "", 100).accepted);
    std::optional<PeerEntry> evicted;
    auto whitelisted = table.AdmitInbound("10.0.0.1:5000", "", 100, &evicted, PF_NOBAN | PF_RELAY);
    REQUIRE(whitelisted.accepted);
    CHECK(table.Find(whitelisted.peer_id)->permissions == (PF_NOBAN | PF_RELAY));
    table.Register(whitelisted.peer_id, 1, true, 100);
    auto refused = table.AdmitInbound("192.168.0.1:5000", "", 101, &evicted);
    CHECK_FALSE(refused.accepted); // the only candidate is protected by noban
    CHECK_FALSE(evicted);
    auto manual = table.IssueOutbound("10.1.1.1:8333", "manual", 102, PF_MEMPOOL);
    CHECK(manual.permissions == PF_MEMPOOL);
}

TEST_CASE("a discouraged host gets in while inbound slots are free, and not when they are nearly full")
{
    PeerTable table = MakeTable(/*max_connections=*/14); // 3 inbound slots
    table.Discourage("10.9.9.9:4000");
    CHECK(table.IsDiscouraged("10.9.9.9:5555"));
    CHECK_FALSE(table.IsDiscouraged("10.9.9.8:4000"));
    CHECK(table.AdmitInbound("10.9.9.9:5000", "", 100).accepted);
    CHECK(table.AdmitInbound("10.0.0.2:5000", "", 100).accepted);
    const auto refused = table.AdmitInbound("10.9.9.9:5001", "", 100);
    CHECK_FALSE(refused.accepted);
    CHECK(refused.reason == "address 10.9.9.9 is discouraged and inbound slots are nearly full");
    CHECK(table.AdmitInbound("10.0.0.3:5000", "", 100).accepted); // others still do
    // noban peers are never refused for it.
    PeerTable other = MakeTable(14);
    other.Discourage("10.9.9.9");
    other.AdmitInbound("10.0.0.2:5000", "", 100);
    other.AdmitInbound("10.0.0.3:5000", "", 100);
    CHECK(other.AdmitInbound("10.9.9.9:5000", "", 100, nullptr, PF_NOBAN).accepted);
}
