// The P2P wire codec (common/p2p/): frames and payloads round-trip, a version
// message matches bytes written out by hand from the protocol specification,
// and every malformed input is refused with a reason.
#include <common/p2p/messages.h>
#include <common/p2p/protocol.h>

#include <common/consensus/hex.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace orrery;
using namespace orrery::p2p;

namespace {

constexpr uint32_t REGTEST_MAGIC = 0xdab5bffa; // fa bf b5 da on the wire

std::vector<uint8_t> Hex(std::string_view hex)
{
    auto bytes = TryParseHex(hex);
    REQUIRE(bytes.has_value());
    return *bytes;
}

VersionMessage SampleVersion()
{
    VersionMessage v;
    v.version = 70016;
    v.services = NODE_NETWORK | NODE_WITNESS;
    v.timestamp = 1700000000;
    v.addr_recv = *ParseVersionAddress("127.0.0.1:18444");
    v.nonce = 0x0102030405060708;
    v.user_agent = "/Orrery:0.1.0/";
    v.start_height = 5;
    v.relay = true;
    return v;
}

//! Everything the deframer returns for `bytes`, fed in one piece.
std::vector<RawMessage> Deframe(const std::vector<uint8_t>& bytes)
{
    Deframer deframer(REGTEST_MAGIC);
    deframer.Feed(bytes);
    std::vector<RawMessage> out;
    while (auto m = deframer.Next()) out.push_back(std::move(*m));
    return out;
}

} // namespace

TEST_CASE("a version message has the exact bytes of the protocol specification")
{
    const std::string payload_hex = "80110100"                         // version 70016
                                    "0900000000000000"                 // NODE_NETWORK | NODE_WITNESS
                                    "00f1536500000000"                 // timestamp 1700000000
                                    "0000000000000000"                 // addr_recv services
                                    "00000000000000000000ffff7f000001" // ::ffff:127.0.0.1
                                    "480c"                             // port 18444, big-endian
                                    "0000000000000000"                 // addr_from services
                                    "00000000000000000000000000000000"
                                    "0000"
                                    "0807060504030201"               // nonce
                                    "0e2f4f72726572793a302e312e302f" // "/Orrery:0.1.0/"
                                    "05000000"                       // start height
                                    "01";                            // relay
    const std::string header_hex = "fabfb5da"                        // regtest magic
                                   "76657273696f6e0000000000"        // "version" padded to 12
                                   "64000000"                        // 100 payload bytes
                                   "9f4a7277";                       // SHA256d(payload)[0..4]
    CHECK(HexStr(EncodePayload(SampleVersion())) == payload_hex);
    CHECK(HexStr(EncodeMessage(REGTEST_MAGIC, SampleVersion())) == header_hex + payload_hex);
}

TEST_CASE("an empty payload has the well-known checksum 5df6e0e2")
{
    CHECK(HexStr(Checksum({})) == "5df6e0e2");
    CHECK(HexStr(EncodeMessage(REGTEST_MAGIC, VerackMessage{})) == "fabfb5da76657261636b000000000000000000005df6e0e2");
}

TEST_CASE("every message round-trips through a frame and the deframer")
{
    const std::vector<Message> messages = {
        SampleVersion(),
        VerackMessage{},
        PingMessage{42},
        PongMessage{~0ULL},
        SendAddrV2Message{},
        WtxidRelayMessage{},
        SendHeadersMessage{},
        UnknownMessage{"filterload", {1, 2, 3}},
        TxMessage{{1, 2, 3}},
        FeeFilterMessage{1000},
        MempoolMessage{},
        GetHeadersMessage{70016, {uint256::FromHex(std::string(64, '1')).value()}, {}},
        GetBlocksMessage{70016, {}, uint256::FromHex(std::string(64, '2')).value()},
        HeadersMessage{{BlockHeader{}}},
        InvMessage{{{MSG_WITNESS_BLOCK, uint256{}}}},
        GetDataMessage{{{MSG_TX, uint256{}}}},
        NotFoundMessage{},
        BlockMessage{{1, 2, 3}}};
    std::vector<uint8_t> stream;
    for (const auto& m : messages) {
        auto frame = EncodeMessage(REGTEST_MAGIC, m);
        stream.insert(stream.end(), frame.begin(), frame.end());
    }
    auto raw = Deframe(stream);
    REQUIRE(raw.size() == messages.size());
    for (size_t i = 0; i < messages.size(); ++i) {
        CAPTURE(i);
        CHECK(raw[i].command == CommandOf(messages[i]));
        CHECK(DecodeMessage(raw[i].command, raw[i].payload) == messages[i]);
    }
}

TEST_CASE("the deframer reassembles messages delivered one byte at a time")
{
    auto a = EncodeMessage(REGTEST_MAGIC, SampleVersion());
    auto b = EncodeMessage(REGTEST_MAGIC, PingMessage{7});
    a.insert(a.end(), b.begin(), b.end());
    Deframer deframer(REGTEST_MAGIC);
    std::vector<std::string> commands;
    for (uint8_t byte : a) {
        deframer.Feed(std::span(&byte, 1));
        while (auto m = deframer.Next()) commands.push_back(m->command);
    }
    CHECK(commands == std::vector<std::string>{"version", "ping"});
    CHECK(deframer.Buffered() == 0);
}

TEST_CASE("a version message with only the oldest fields decodes with defaults")
{
    auto full = EncodePayload(SampleVersion());
    // version, services, timestamp, addr_recv: 46 bytes, as protocol 106 peers sent it.
    auto v = std::get<VersionMessage>(DecodeMessage("version", std::span(full).first(46)));
    CHECK(v.version == 70016);
    CHECK(v.nonce == 0);
    CHECK(v.user_agent.empty());
    CHECK(v.relay);
    // Without the relay byte (protocol before 70001), relay defaults to true.
    auto no_relay = std::get<VersionMessage>(DecodeMessage("version", std::span(full).first(full.size() - 1)));
    CHECK(no_relay.start_height == 5);
    CHECK(no_relay.relay);
    // Bytes after the last known field are ignored, as Core does.
    full.push_back(0xaa);
    CHECK(std::get<VersionMessage>(DecodeMessage("version", full)) == SampleVersion());
}

TEST_CASE("malformed payloads are refused with the reason")
{
    auto full = EncodePayload(SampleVersion());
    CHECK_THROWS_WITH_AS(DecodeMessage("version", std::span(full).first(20)),
                         doctest::Contains("malformed 'version' message: truncated"), ProtocolError);
    // addr_from present but the nonce cut short.
    CHECK_THROWS_AS(DecodeMessage("version", std::span(full).first(46 + 26 + 3)), ProtocolError);
    // A user agent announcing more bytes than there are.
    auto cut = std::vector<uint8_t>(full.begin(), full.begin() + 80 + 1);
    CHECK_THROWS_WITH_AS(DecodeMessage("version", cut), doctest::Contains("truncated"), ProtocolError);
    // A user agent longer than 256 bytes.
    auto v = SampleVersion();
    v.user_agent.assign(257, 'x');
    CHECK_THROWS_WITH_AS(DecodeMessage("version", EncodePayload(v)), doctest::Contains("user agent of 257 bytes"),
                         ProtocolError);
    v.user_agent.assign(256, 'x');
    CHECK(std::get<VersionMessage>(DecodeMessage("version", EncodePayload(v))).user_agent.size() == 256);
    // A non-canonical CompactSize for the user agent length.
    auto noncanonical = std::vector<uint8_t>(full.begin(), full.begin() + 80);
    for (uint8_t b : {0xfd, 0x01, 0x00}) noncanonical.push_back(b);
    CHECK_THROWS_WITH_AS(DecodeMessage("version", noncanonical), doctest::Contains("non-canonical"), ProtocolError);
    CHECK_THROWS_WITH_AS(DecodeMessage("ping", Hex("01020304")), doctest::Contains("malformed 'ping'"), ProtocolError);
    CHECK_THROWS_AS(DecodeMessage("pong", {}), ProtocolError);
    // Block sync limits, from the counts alone.
    CHECK_THROWS_WITH_AS(DecodeMessage("headers", Hex("fdd107")), doctest::Contains("headers message size = 2001"),
                         ProtocolError);
    CHECK_THROWS_WITH_AS(DecodeMessage("inv", Hex("fd51c3")), doctest::Contains("inv message size = 50001"),
                         ProtocolError);
    CHECK_THROWS_WITH_AS(DecodeMessage("getheaders", Hex("7011010066")),
                         doctest::Contains("getheaders locator size 102 > 101"), ProtocolError);
}

TEST_CASE("a wrong network magic is refused as soon as its first byte arrives")
{
    auto frame = EncodeMessage(0xd9b4bef9, VerackMessage{}); // mainnet
    Deframer deframer(REGTEST_MAGIC);
    deframer.Feed(std::span(frame).first(1));
    CHECK_THROWS_WITH_AS(deframer.Next(), doctest::Contains("wrong network magic f9"), ProtocolError);
    // The stream stays failed.
    CHECK_THROWS_AS(deframer.Next(), ProtocolError);
    CHECK_THROWS_WITH_AS(Deframe(Hex("474554202f20485454502f312e310d0a")), // "GET / HTTP/1.1"
                         doctest::Contains("wrong network magic 47455420"), ProtocolError);
}

TEST_CASE("a bad checksum is refused")
{
    auto frame = EncodeMessage(REGTEST_MAGIC, PingMessage{1});
    frame.back() ^= 1;
    CHECK_THROWS_WITH_AS(Deframe(frame), doctest::Contains("bad checksum for message 'ping'"), ProtocolError);
}

TEST_CASE("a payload length over 4,000,000 bytes is refused from the header alone")
{
    auto frame = EncodeMessage(REGTEST_MAGIC, VerackMessage{});
    const uint32_t length = MAX_PROTOCOL_MESSAGE_LENGTH + 1;
    for (size_t i = 0; i < 4; ++i) frame[16 + i] = uint8_t(length >> (8 * i));
    CHECK_THROWS_WITH_AS(Deframe(frame), doctest::Contains("announces 4000001 payload bytes"), ProtocolError);
    // Exactly the limit is a valid header: the deframer waits for the payload.
    for (size_t i = 0; i < 4; ++i) frame[16 + i] = uint8_t(MAX_PROTOCOL_MESSAGE_LENGTH >> (8 * i));
    CHECK(Deframe(frame).empty());
    CHECK_THROWS_AS(MakeFrame(REGTEST_MAGIC, "block", std::vector<uint8_t>(MAX_PROTOCOL_MESSAGE_LENGTH + 1)),
                    ProtocolError);
}

TEST_CASE("a command must be printable ASCII padded with NULs only")
{
    auto frame = EncodeMessage(REGTEST_MAGIC, VerackMessage{});
    auto with_byte = [&](size_t position, uint8_t value) {
        auto copy = frame;
        copy[4 + position] = value;
        return copy;
    };
    CHECK_THROWS_WITH_AS(Deframe(with_byte(10, 'x')), doctest::Contains("after its NUL padding"), ProtocolError);
    CHECK_THROWS_WITH_AS(Deframe(with_byte(0, 0x07)), doctest::Contains("non-printable byte 0x07"), ProtocolError);
    // A full 12-character command needs no NUL at all.
    auto twelve = MakeFrame(REGTEST_MAGIC, "abcdefghijkl", {});
    CHECK(Deframe(twelve).at(0).command == "abcdefghijkl");
    CHECK_THROWS_AS(MakeFrame(REGTEST_MAGIC, "abcdefghijklm", {}), ProtocolError);
}

TEST_CASE("unknown commands keep their payload for the generic path")
{
    // BIP37's filterload: Orrery offers no bloom filters, so the agent does not decode it.
    auto m = DecodeMessage("filterload", Hex("000200000000000000"));
    REQUIRE(std::holds_alternative<UnknownMessage>(m));
    CHECK(std::get<UnknownMessage>(m).payload == Hex("000200000000000000"));
    CHECK(CommandOf(m) == "filterload");
}

TEST_CASE("feefilter carries a fee rate in 8 bytes, tx its payload as received, mempool nothing")
{
    auto fee = DecodeMessage("feefilter", Hex("e803000000000000"));
    REQUIRE(std::holds_alternative<FeeFilterMessage>(fee));
    CHECK(std::get<FeeFilterMessage>(fee).fee_rate == 1000);
    CHECK(EncodePayload(fee) == Hex("e803000000000000"));
    CHECK_THROWS_AS(DecodeMessage("feefilter", Hex("e80300")), ProtocolError);
    auto tx = DecodeMessage("tx", Hex("0102"));
    CHECK(std::get<TxMessage>(tx).payload == Hex("0102"));
    CHECK(std::holds_alternative<MempoolMessage>(DecodeMessage("mempool", {})));
}

TEST_CASE("host:port strings become version addresses")
{
    auto v4 = ParseVersionAddress("10.0.0.1:8333");
    REQUIRE(v4);
    CHECK(HexStr(v4->ip) == "00000000000000000000ffff0a000001");
    CHECK(v4->port == 8333);
    auto v6 = ParseVersionAddress("[2001:db8::1]:18444");
    REQUIRE(v6);
    CHECK(HexStr(v6->ip) == "20010db8000000000000000000000001");
    CHECK(!ParseVersionAddress("example.com:8333"));
    CHECK(!ParseVersionAddress("1.2.3.4"));
    CHECK(!ParseVersionAddress("1.2.3.4:99999"));
}
