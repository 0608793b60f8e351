// The node's address book: new and tried tables, bucket limits per network
// group, terrible addresses, getaddr's share, peers.dat written and read back,
// and the addr/addrv2 payloads it is fed from.
#include <services/node/addrman.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::node;

namespace {

constexpr int64_t NOW = 1'700'000'000;

p2p::PeerAddress Addr(const std::string& text, uint32_t time = NOW - 60)
{
    auto a = p2p::ParsePeerAddress(text);
    REQUIRE(a);
    a->time = time;
    a->services = 9;
    return *a;
}

AddrMan MakeBook(bool allow_local = false)
{
    std::array<uint8_t, 32> key{};
    key[0] = 7;
    return AddrMan(key, 42, allow_local);
}

} // namespace

TEST_CASE("an address heard of is new, and tried once a connection to it worked")
{
    AddrMan book = MakeBook();
    const auto peer = Addr("1.2.3.4:8333");
    CHECK(book.Add({peer}, Addr("5.6.7.8:8333"), ADDR_TIME_PENALTY, NOW) == 1);
    CHECK(book.Size(std::nullopt, true) == 1);
    CHECK(book.Find(peer)->addr.time == NOW - 60 - ADDR_TIME_PENALTY);
    book.Attempt(peer, true, NOW);
    CHECK(book.Good(peer, NOW + 1));
    CHECK(book.Size(std::nullopt, false) == 1);
    CHECK(book.Size(std::nullopt, true) == 0);
    CHECK(book.Find(peer)->attempts == 0);
    CHECK_FALSE(book.Good(Addr("9.9.9.9:8333"), NOW)); // unknown
    auto selected = book.Select(false, std::nullopt, NOW + 3600);
    REQUIRE(selected);
    CHECK(selected->first.ToString() == "1.2.3.4:8333");
    CHECK(book.CheckConsistency());
}

TEST_CASE("unroutable addresses are refused unless the book is regtest's, where each loopback port is a group")
{
    AddrMan book = MakeBook();
    CHECK(book.Add({Addr("127.0.0.1:18444"), Addr("10.0.0.1:8333"), Addr("192.168.1.1:8333")}, Addr("1.1.1.1:1"), 0,
                   NOW) == 0);
    AddrMan regtest = MakeBook(/*allow_local=*/true);
    std::vector<p2p::PeerAddress> loopback;
    for (int port = 20000; port < 20020; ++port) loopback.push_back(Addr("127.0.0.1:" + std::to_string(port)));
    CHECK(regtest.Add(loopback, Addr("127.0.0.1:1"), 0, NOW) == 20);
    CHECK(regtest.Group(loopback[0]) != regtest.Group(loopback[1]));
    CHECK(book.Group(Addr("1.2.3.4:1")) == book.Group(Addr("1.2.200.1:2")));
    CHECK(book.Group(Addr("1.2.3.4:1")) != book.Group(Addr("1.3.3.4:1")));
    CHECK(book.Group(Addr("[2001:4860:1::1]:1")) == book.Group(Addr("[2001:4860:ffff::2]:1")));
}

TEST_CASE("one network group told by one source fills a single new bucket")
{
    AddrMan book = MakeBook();
    std::vector<p2p::PeerAddress> many;
    for (int i = 0; i < 1000; ++i)
        many.push_back(Addr("50.60." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":8333"));
    book.Add(many, Addr("5.6.7.8:8333"), 0, NOW);
    CHECK(book.Size() <= size_t(ADDRMAN_BUCKET_SIZE));
    CHECK(book.Size() > 30);
    CHECK(book.CheckConsistency());
}

TEST_CASE("an address that failed three times is terrible: getaddr leaves it out")
{
    AddrMan book = MakeBook();
    const auto bad = Addr("1.2.3.4:8333");
    const auto fine = Addr("4.3.2.1:8333");
    book.Add({bad, fine}, Addr("5.6.7.8:8333"), 0, NOW);
    // A failure counts once per success elsewhere (Core's rule: a network outage is not the address's fault).
    for (int i = 1; i <= 3; ++i) {
        book.Good(Addr("8.8.8.8:8333"), NOW + i * 1000 - 1);
        book.Attempt(bad, true, NOW + i * 1000);
        book.Attempt(bad, true, NOW + i * 1000 + 1);
    }
    CHECK(book.Find(bad)->attempts == 3);
    CHECK(book.Find(bad)->IsTerrible(NOW + 5000));
    const auto given = book.GetAddr(0, 0, std::nullopt, NOW + 5000);
    REQUIRE(given.size() == 1);
    CHECK(given[0].ToString() == "4.3.2.1:8333");
    // So is one heard of more than 30 days ago, or dated in the future.
    AddrInfo old;
    old.addr = Addr("1.1.1.1:1", NOW - 31 * 86400);
    CHECK(old.IsTerrible(NOW));
    old.addr.time = NOW + 3600;
    CHECK(old.IsTerrible(NOW));
}

TEST_CASE("getaddr gives at most 23 percent of the book and at most 1000 addresses")
{
    AddrMan book = MakeBook();
    std::vector<p2p::PeerAddress> many;
    for (int i = 0; i < 200; ++i)
        many.push_back(Addr(std::to_string(i + 1) + "." + std::to_string(i + 7) + ".1.1:8333"));
    for (int s = 0; s < 5; ++s) book.Add(many, Addr(std::to_string(s + 100) + ".1.1.1:8333"), 0, NOW);
    const size_t size = book.Size();
    CHECK(size > 150); // a few collide in their slot
    CHECK(book.GetAddr(MAX_ADDR_TO_SEND, MAX_PCT_ADDR_TO_SEND, std::nullopt, NOW).size() == size * 23 / 100);
    CHECK(book.GetAddr(10, 0, std::nullopt, NOW).size() == 10);
    CHECK(book.GetAddr(0, 0, p2p::Network::IPV6, NOW).empty());
}

TEST_CASE("the book reads back from its file, and a damaged or foreign file is refused with a reason")
{
    AddrMan book = MakeBook();
    const auto tried = Addr("1.2.3.4:8333");
    book.Add({tried, Addr("4.3.2.1:8333"), Addr("[2001:4860::8888]:8333")}, Addr("5.6.7.8:8333"), 0, NOW);
    book.Good(tried, NOW);
    const auto bytes = book.Serialize(0xdab5bffa);
    std::string error;
    auto back = AddrMan::Deserialize(bytes, 0xdab5bffa, 1, false, error);
    REQUIRE(back);
    CHECK(back->Size() == 3);
    CHECK(back->Size(std::nullopt, false) == 1);
    CHECK(back->Find(tried)->in_tried);
    CHECK(back->Size(p2p::Network::IPV6) == 1);
    CHECK(back->CheckConsistency());

    CHECK_FALSE(AddrMan::Deserialize(bytes, 0xd9b4bef9, 1, false, error));
    CHECK(error == "the file belongs to another network");
    auto damaged = bytes;
    damaged[50] ^= 1;
    CHECK_FALSE(AddrMan::Deserialize(damaged, 0xdab5bffa, 1, false, error));
    CHECK(error == "checksum mismatch");
    CHECK_FALSE(AddrMan::Deserialize(std::vector<uint8_t>(10, 0), 0xdab5bffa, 1, false, error));
    CHECK(error.find("too short") != std::string::npos);
}

TEST_CASE("addr and addrv2 payloads round-trip, and more than 1000 entries are refused")
{
    std::vector<p2p::PeerAddress> list{Addr("1.2.3.4:8333"), Addr("[2001:db8::1]:18444")};
    for (bool v2 : {false, true}) {
        CHECK(p2p::DecodeAddrPayload(p2p::EncodeAddrPayload(list, v2), v2) == list);
    }
    std::vector<p2p::PeerAddress> too_many(1001, Addr("1.2.3.4:8333"));
    CHECK_THROWS_WITH_AS(p2p::DecodeAddrPayload(p2p::EncodeAddrPayload(too_many, false), false),
                         "addr message size = 1001", p2p::ProtocolError);
    // An addrv2 IPv4 entry must be 4 bytes long.
    std::vector<uint8_t> bad{1, 0, 0, 0, 0, 9, 1, 5, 1, 2, 3, 4, 5, 0x20, 0x8d};
    CHECK_THROWS_AS(p2p::DecodeAddrPayload(bad, true), p2p::ProtocolError);
    // A Tor v3 entry decodes, and an addr (v1) message leaves it out.
    p2p::PeerAddress onion;
    onion.network = p2p::Network::TORV3;
    onion.ip.assign(32, 7);
    onion.port = 8333;
    CHECK(p2p::DecodeAddrPayload(p2p::EncodeAddrPayload({onion}, true), true).size() == 1);
    CHECK(p2p::DecodeAddrPayload(p2p::EncodeAddrPayload({onion}, false), false).empty());
}
