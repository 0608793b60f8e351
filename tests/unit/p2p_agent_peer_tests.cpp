// The p2p-agent's protocol engine against a scripted peer on a socketpair:
// the handshake in both directions, ping/pong and its latency, and every
// reason to drop a peer.
#include <services/p2p-agent/peer.h>

#include <common/consensus/merkle.h>
#include <common/consensus/pow.h>
#include <common/p2p/addr.h>
#include <common/p2p/messages.h>
#include <common/p2p/protocol.h>
#include <common/util/mock_time.h>

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace orrery;
using namespace orrery::p2p;
using namespace orrery::p2p_agent;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t MAGIC = 0xdab5bffa;
constexpr uint64_t OUR_NONCE = 0x1111222233334444;

//! Records what the engine reports.
class Recorder final : public PeerEvents
{
public:
    void HandshakeDone(const interfaces::PeerVersion& version) override
    {
        std::lock_guard lock(m_mutex);
        m_version = version;
        m_changed.notify_all();
    }
    void Stats(const interfaces::PeerStats& stats) override
    {
        std::lock_guard lock(m_mutex);
        m_stats.push_back(stats);
        m_changed.notify_all();
    }
    void HeadersReceived(std::vector<uint8_t> headers) override
    {
        std::lock_guard lock(m_mutex);
        m_headers.push_back(std::move(headers));
        m_changed.notify_all();
    }
    void BlockReceived(std::vector<uint8_t> block) override
    {
        std::lock_guard lock(m_mutex);
        m_blocks.push_back(std::move(block));
        m_changed.notify_all();
    }
    void TransactionReceived(std::vector<uint8_t> tx) override
    {
        std::lock_guard lock(m_mutex);
        m_txs.push_back(std::move(tx));
        m_changed.notify_all();
    }
    void TransactionsAnnounced(std::vector<uint8_t> hashes) override
    {
        std::lock_guard lock(m_mutex);
        m_tx_invs.push_back(std::move(hashes));
        m_changed.notify_all();
    }
    std::optional<std::vector<uint8_t>> WaitForTx(size_t n = 1) { return WaitFor(m_txs, n); }
    std::optional<std::vector<uint8_t>> WaitForTxInv(size_t n = 1) { return WaitFor(m_tx_invs, n); }
    //! Waits for the n-th headers report (or block report) and returns it.
    std::optional<std::vector<uint8_t>> WaitForHeaders(size_t n = 1) { return WaitFor(m_headers, n); }
    std::optional<std::vector<uint8_t>> WaitForBlock(size_t n = 1) { return WaitFor(m_blocks, n); }
    std::optional<interfaces::PeerVersion> Version()
    {
        std::lock_guard lock(m_mutex);
        return m_version;
    }
    //! Waits for a stats report with a ping time.
    std::optional<interfaces::PeerStats> WaitForPingStats(std::chrono::milliseconds timeout)
    {
        std::unique_lock lock(m_mutex);
        std::optional<interfaces::PeerStats> found;
        m_changed.wait_for(lock, timeout, [&] {
            for (const auto& s : m_stats) {
                if (s.ping_time) found = s;
            }
            return found.has_value();
        });
        return found;
    }

private:
    std::optional<std::vector<uint8_t>> WaitFor(const std::vector<std::vector<uint8_t>>& list, size_t n)
    {
        std::unique_lock lock(m_mutex);
        if (!m_changed.wait_for(lock, 5s, [&] { return list.size() >= n; })) return std::nullopt;
        return list[n - 1];
    }

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::optional<interfaces::PeerVersion> m_version;
    std::vector<interfaces::PeerStats> m_stats;
    std::vector<std::vector<uint8_t>> m_headers;
    std::vector<std::vector<uint8_t>> m_blocks;
    std::vector<std::vector<uint8_t>> m_txs;
    std::vector<std::vector<uint8_t>> m_tx_invs;
};

//! The far end of the socketpair, played by the test.
class ScriptedPeer
{
public:
    explicit ScriptedPeer(int fd) : m_fd(fd), m_deframer(MAGIC) {}
    ~ScriptedPeer() { ::close(m_fd); }

    void SendRaw(const std::vector<uint8_t>& bytes)
    {
        REQUIRE(::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size()));
    }
    void Send(const Message& message) { SendRaw(EncodeMessage(MAGIC, message)); }

    //! The next message from the engine; fails the test after `timeout`.
    RawMessage Receive(std::chrono::milliseconds timeout = 5s)
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto m = m_deframer.Next()) return std::move(*m);
            REQUIRE(ReadSome(deadline));
        }
    }
    std::string ReceiveCommand() { return Receive().command; }

    //! True when the engine closes its end (after any messages still in flight).
    bool WaitClosed(std::chrono::milliseconds timeout = 5s)
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (!ReadSome(deadline)) return m_closed;
        }
        return false;
    }

private:
    bool ReadSome(std::chrono::steady_clock::time_point deadline)
    {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{m_fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        uint8_t buffer[65536];
        const ssize_t got = ::recv(m_fd, buffer, sizeof(buffer), 0);
        if (got <= 0) {
            m_closed = true;
            return false;
        }
        m_deframer.Feed(std::span<const uint8_t>(buffer, size_t(got)));
        return true;
    }

    int m_fd;
    Deframer m_deframer;
    bool m_closed{false};
};

VersionMessage PeerVersionMessage(int32_t version = PROTOCOL_VERSION)
{
    VersionMessage v;
    v.version = version;
    v.services = NODE_NETWORK | NODE_WITNESS;
    v.timestamp = 1'700'000'100;
    v.nonce = 0xabcdef;
    v.user_agent = "/Satoshi:27.0.0/";
    v.start_height = 321;
    v.relay = false;
    return v;
}

//! One engine on a socketpair, running on its own thread.
struct Harness {
    Recorder recorder;
    std::unique_ptr<ScriptedPeer> peer;
    std::unique_ptr<PeerEngine> engine;
    std::future<std::string> result;

    explicit Harness(bool inbound, PeerConfig config = {})
    {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        peer = std::make_unique<ScriptedPeer>(fds[1]);
        config.params.chain = "regtest";
        config.params.message_start = MAGIC;
        config.params.services = NODE_NETWORK | NODE_WITNESS;
        config.params.user_agent = "/Orrery:0.1.0/";
        config.params.start_height = 7;
        config.params.nonce = OUR_NONCE;
        config.inbound = inbound;
        config.peer_address = "127.0.0.1:18444";
        config.peer_id = 1;
        engine = std::make_unique<PeerEngine>(fds[0], config, recorder);
        result = std::async(std::launch::async, [this] { return engine->Run(); });
    }
    ~Harness()
    {
        engine->RequestDisconnect("test over");
        if (result.valid()) result.wait();
    }
    //! The reason the engine gave for dropping the peer.
    std::string DropReason(std::chrono::milliseconds timeout = 5s)
    {
        REQUIRE(result.wait_for(timeout) == std::future_status::ready);
        return result.get();
    }
    //! Runs the handshake as the remote side of an outbound connection.
    void CompleteOutboundHandshake()
    {
        auto version = peer->Receive();
        REQUIRE(version.command == "version");
        peer->Send(PeerVersionMessage());
        peer->Send(WtxidRelayMessage{});
        peer->Send(SendAddrV2Message{});
        peer->Send(VerackMessage{});
        CHECK(peer->ReceiveCommand() == "wtxidrelay");
        CHECK(peer->ReceiveCommand() == "sendaddrv2");
        CHECK(peer->ReceiveCommand() == "verack");
        CHECK(peer->ReceiveCommand() == "sendheaders");
        CHECK(peer->ReceiveCommand() == "sendcmpct"); // BIP152 version 2, low bandwidth
    }
};

//! Pins the process's clock (setmocktime) for one test.
struct MockTimeGuard {
    explicit MockTimeGuard(int64_t time) { SetMockTime(time); }
    ~MockTimeGuard() { SetMockTime(0); }
    MockTimeGuard(const MockTimeGuard&) = delete;
    MockTimeGuard& operator=(const MockTimeGuard&) = delete;
};

uint64_t NonceOf(const RawMessage& ping)
{
    return std::get<PingMessage>(DecodeMessage(ping.command, ping.payload)).nonce;
}

PeerConfig FastConfig()
{
    PeerConfig config;
    config.handshake_timeout = 2s;
    config.inactivity_timeout = 5s;
    config.ping_interval = 60s;
    return config;
}

} // namespace

TEST_CASE("an outbound connection sends version first and completes the handshake")
{
    MockTimeGuard mock(1'700'000'000); // the version's timestamp and the offset follow setmocktime
    Harness h(/*inbound=*/false, FastConfig());
    auto raw = h.peer->Receive();
    REQUIRE(raw.command == "version");
    auto ours = std::get<VersionMessage>(DecodeMessage(raw.command, raw.payload));
    CHECK(ours.version == 70016);
    CHECK(ours.services == (NODE_NETWORK | NODE_WITNESS));
    CHECK(ours.timestamp == 1'700'000'000);
    CHECK(ours.addr_recv == *ParseVersionAddress("127.0.0.1:18444"));
    CHECK(ours.addr_from == VersionAddress{});
    CHECK(ours.nonce == OUR_NONCE);
    CHECK(ours.user_agent == "/Orrery:0.1.0/");
    CHECK(ours.start_height == 7);
    CHECK(ours.relay);

    h.peer->Send(PeerVersionMessage());
    // BIP339 and BIP155 are announced before verack.
    CHECK(h.peer->ReceiveCommand() == "wtxidrelay");
    CHECK(h.peer->ReceiveCommand() == "sendaddrv2");
    CHECK(h.peer->ReceiveCommand() == "verack");
    CHECK(!h.recorder.Version());
    h.peer->Send(WtxidRelayMessage{});
    h.peer->Send(SendAddrV2Message{});
    h.peer->Send(VerackMessage{});
    // sendheaders only after verack, then the first ping at once.
    CHECK(h.peer->ReceiveCommand() == "sendheaders");
    CHECK(h.peer->ReceiveCommand() == "sendcmpct"); // BIP152 version 2, low bandwidth
    CHECK(h.peer->ReceiveCommand() == "ping");
    auto version = h.recorder.Version();
    REQUIRE(version);
    CHECK(version->version == 70016);
    CHECK(version->user_agent == "/Satoshi:27.0.0/");
    CHECK(version->start_height == 321);
    CHECK(!version->relay);
    CHECK(version->wtxid_relay);
    CHECK(version->send_addrv2);
    CHECK(!version->send_headers);
    CHECK(version->time_offset == 100);
}

TEST_CASE("an inbound connection waits for the peer's version and then answers")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer->Send(PeerVersionMessage());
    CHECK(h.peer->ReceiveCommand() == "version");
    CHECK(h.peer->ReceiveCommand() == "wtxidrelay");
    CHECK(h.peer->ReceiveCommand() == "sendaddrv2");
    CHECK(h.peer->ReceiveCommand() == "verack");
    h.peer->Send(VerackMessage{});
    h.peer->Send(SendHeadersMessage{});
    CHECK(h.peer->ReceiveCommand() == "sendheaders");
    CHECK(h.peer->ReceiveCommand() == "sendcmpct"); // BIP152 version 2, low bandwidth
    CHECK(h.peer->ReceiveCommand() == "ping");
    REQUIRE(h.recorder.Version());
}

TEST_CASE("an older peer gets neither wtxidrelay nor sendaddrv2")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer->Send(PeerVersionMessage(70015));
    CHECK(h.peer->ReceiveCommand() == "version");
    CHECK(h.peer->ReceiveCommand() == "verack");
    h.peer->Send(VerackMessage{});
    CHECK(h.peer->ReceiveCommand() == "sendheaders");
    CHECK(h.peer->ReceiveCommand() == "sendcmpct"); // BIP152 version 2, low bandwidth
}

TEST_CASE("a ping is answered with a pong carrying its nonce")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    CHECK(h.peer->ReceiveCommand() == "ping");
    h.peer->Send(PingMessage{0x5eed});
    auto pong = h.peer->Receive();
    REQUIRE(pong.command == "pong");
    CHECK(std::get<PongMessage>(DecodeMessage(pong.command, pong.payload)).nonce == 0x5eed);
}

TEST_CASE("the engine's ping measures the peer's latency and repeats every interval")
{
    PeerConfig config = FastConfig();
    config.ping_interval = 300ms;
    Harness h(/*inbound=*/false, config);
    h.CompleteOutboundHandshake();
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        auto ping = h.peer->Receive();
        REQUIRE(ping.command == "ping");
        const uint64_t nonce = std::get<PingMessage>(DecodeMessage(ping.command, ping.payload)).nonce;
        std::this_thread::sleep_for(100ms);
        // A pong with the wrong nonce is not a measurement.
        h.peer->Send(PongMessage{nonce + 1});
        h.peer->Send(PongMessage{nonce});
    }
    auto stats = h.recorder.WaitForPingStats(2s);
    REQUIRE(stats);
    CHECK(*stats->ping_time >= 0.1);
    CHECK(*stats->ping_time < 2.0);
    REQUIRE(stats->min_ping);
    CHECK(*stats->min_ping <= *stats->ping_time);
    auto current = h.engine->GetStats();
    CHECK(current.bytes_sent > 0);
    CHECK(current.bytes_recv > 0);
    CHECK(current.last_recv >= GetTime() - 5);
    CHECK(current.last_recv <= GetTime());
}

TEST_CASE("pings are timed on the mock clock: setmocktime sends the next one and measures its latency")
{
    MockTimeGuard mock(1'700'000'000);
    PeerConfig config = FastConfig();
    config.ping_interval = 60s;
    config.inactivity_timeout = 20min;
    Harness h(/*inbound=*/false, config);
    h.CompleteOutboundHandshake();
    auto first = h.peer->Receive();
    REQUIRE(first.command == "ping");
    h.peer->Send(PongMessage{NonceOf(first)});
    auto stats = h.recorder.WaitForPingStats(2s);
    REQUIRE(stats);
    CHECK(*stats->ping_time == 0.0); // the clock stood still

    // The interval passes on the mock clock only: the engine pings at once.
    SetMockTime(1'700'000'061);
    h.engine->ClockChanged();
    auto second = h.peer->Receive(2s);
    REQUIRE(second.command == "ping");
    SetMockTime(1'700'000'064);
    h.peer->Send(PongMessage{NonceOf(second)});
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (h.engine->GetStats().ping_time != 3.0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    CHECK(h.engine->GetStats().ping_time == 3.0);
    CHECK(h.engine->GetStats().min_ping == 0.0);
    CHECK(h.engine->GetStats().last_recv == 1'700'000'064);
}

TEST_CASE("a ping left unanswered times out when the mock clock passes the timeout, as in Core")
{
    MockTimeGuard mock(1'700'000'000);
    Harness h(/*inbound=*/false, FastConfig()); // inactivity_timeout 5 s
    h.CompleteOutboundHandshake();
    CHECK(h.peer->ReceiveCommand() == "ping"); // never answered
    SetMockTime(1'700'000'003);
    h.peer->Send(PingMessage{7}); // data keeps coming: not an inactivity timeout
    CHECK(h.peer->ReceiveCommand() == "pong");
    SetMockTime(1'700'000'006);
    h.engine->ClockChanged();
    CHECK(h.DropReason() == "ping timeout: no pong for 6.000000 s");
}

TEST_CASE("a disconnect request closes the connection cleanly with its reason")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    h.engine->RequestDisconnect("disconnected by the node: ban");
    CHECK(h.DropReason() == "disconnected by the node: ban");
    CHECK(h.peer->WaitClosed());
}

TEST_CASE("messages the engine does not handle are ignored after the handshake")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    CHECK(h.peer->ReceiveCommand() == "ping");
    h.peer->Send(UnknownMessage{"sendtxrcncl", {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}});
    h.peer->Send(UnknownMessage{"sendcmpct", {0, 2, 0, 0, 0, 0, 0, 0, 0}});
    h.peer->Send(PingMessage{9});
    CHECK(h.peer->ReceiveCommand() == "pong");
}

TEST_CASE("the peer closing its end ends the engine")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer.reset();
    CHECK(h.DropReason() == "peer closed the connection");
}

// ---------------------------------------------------------------------------
// Reasons to drop a peer

TEST_CASE("garbage instead of a message drops the peer")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer->SendRaw({'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'});
    CHECK(h.DropReason().find("wrong network magic 47") != std::string::npos);
    CHECK(h.peer->WaitClosed());
}

TEST_CASE("another network's magic drops the peer")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer->SendRaw(EncodeMessage(0xd9b4bef9, PeerVersionMessage()));
    CHECK(h.DropReason() == "wrong network magic f9beb4d9 (expected fabfb5da)");
}

TEST_CASE("a bad checksum drops the peer")
{
    Harness h(/*inbound=*/true, FastConfig());
    auto frame = EncodeMessage(MAGIC, PeerVersionMessage());
    frame[20] ^= 0xff;
    h.peer->SendRaw(frame);
    CHECK(h.DropReason().find("bad checksum for message 'version'") != std::string::npos);
}

TEST_CASE("a payload length over the limit drops the peer before any payload arrives")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    auto frame = MakeFrame(MAGIC, "block", {});
    const uint32_t length = 4'000'001;
    for (size_t i = 0; i < 4; ++i) frame[16 + i] = uint8_t(length >> (8 * i));
    h.peer->SendRaw(frame);
    CHECK(h.DropReason().find("announces 4000001 payload bytes") != std::string::npos);
}

TEST_CASE("a message before the version message drops the peer")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer->Send(PingMessage{1});
    CHECK(h.DropReason() == "'ping' message before the version message");
}

TEST_CASE("a second version message drops the peer")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    h.peer->Send(PeerVersionMessage());
    CHECK(h.DropReason() == "second version message");
}

TEST_CASE("a malformed version message drops the peer")
{
    Harness h(/*inbound=*/true, FastConfig());
    auto payload = EncodePayload(PeerVersionMessage());
    payload.resize(30);
    h.peer->SendRaw(MakeFrame(MAGIC, "version", payload));
    CHECK(h.DropReason().find("malformed 'version' message") != std::string::npos);
}

TEST_CASE("a peer echoing our own nonce is a connection to ourselves and is dropped")
{
    Harness h(/*inbound=*/true, FastConfig());
    auto version = PeerVersionMessage();
    version.nonce = OUR_NONCE;
    h.peer->Send(version);
    CHECK(h.DropReason().find("connected to self") != std::string::npos);
}

TEST_CASE("a peer below the minimum protocol version is dropped")
{
    Harness h(/*inbound=*/true, FastConfig());
    h.peer->Send(PeerVersionMessage(31799));
    CHECK(h.DropReason() == "peer uses obsolete protocol version 31799");
}

TEST_CASE("wtxidrelay after verack drops the peer")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    h.peer->Send(WtxidRelayMessage{});
    CHECK(h.DropReason() == "wtxidrelay received after verack");
}

TEST_CASE("a silent peer is dropped when the handshake times out")
{
    PeerConfig config = FastConfig();
    config.handshake_timeout = 300ms;
    Harness h(/*inbound=*/true, config);
    const auto started = std::chrono::steady_clock::now();
    CHECK(h.DropReason().find("version handshake timeout") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started >= 300ms);
    CHECK(h.peer->WaitClosed());
}

TEST_CASE("a peer that stops sending after the handshake is dropped for inactivity")
{
    PeerConfig config = FastConfig();
    config.inactivity_timeout = 500ms;
    Harness h(/*inbound=*/false, config);
    h.CompleteOutboundHandshake();
    CHECK(h.peer->ReceiveCommand() == "ping"); // never answered
    CHECK(h.DropReason().find("inactivity timeout") != std::string::npos);
}

TEST_CASE("bytes are counted per message type, header included, unknown types as *other*")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    auto ping = h.peer->Receive();
    REQUIRE(ping.command == "ping");
    // A message type the protocol does not define, with a 3-byte payload.
    h.peer->SendRaw(MakeFrame(MAGIC, "nonsense", std::vector<uint8_t>{1, 2, 3}));
    h.peer->Send(PongMessage{std::get<PingMessage>(DecodeMessage(ping.command, ping.payload)).nonce});
    auto stats = h.recorder.WaitForPingStats(5s);
    REQUIRE(stats);
    const auto our_version_size = int64_t(HEADER_SIZE) + 86 + int64_t(std::string("/Orrery:0.1.0/").size());
    const auto their_version_size = int64_t(HEADER_SIZE) + 86 + int64_t(std::string("/Satoshi:27.0.0/").size());
    CHECK(stats->bytes_sent_per_msg.at("version") == our_version_size);
    CHECK(stats->bytes_sent_per_msg.at("verack") == 24);
    CHECK(stats->bytes_sent_per_msg.at("wtxidrelay") == 24);
    CHECK(stats->bytes_sent_per_msg.at("sendaddrv2") == 24);
    CHECK(stats->bytes_sent_per_msg.at("sendheaders") == 24);
    CHECK(stats->bytes_sent_per_msg.at("sendcmpct") == 24 + 9);
    CHECK(stats->bytes_sent_per_msg.at("ping") == 32);
    CHECK(stats->bytes_recv_per_msg.at("version") == their_version_size);
    CHECK(stats->bytes_recv_per_msg.at("verack") == 24);
    CHECK(stats->bytes_recv_per_msg.at("pong") == 32);
    CHECK(stats->bytes_recv_per_msg.at("*other*") == 27);
    // The per-type counts add up to the totals: every byte belongs to a whole message here.
    int64_t sent = 0;
    for (const auto& [type, bytes] : stats->bytes_sent_per_msg) sent += bytes;
    int64_t received = 0;
    for (const auto& [type, bytes] : stats->bytes_recv_per_msg) received += bytes;
    CHECK(sent == stats->bytes_sent);
    CHECK(received == stats->bytes_recv);
}

// ---------------------------------------------------------------------------
// Block sync: the agent's context-free checks before anything reaches the node

namespace {

//! A regtest header on `prev` with its proof of work solved (the regtest limit makes that quick).
BlockHeader SolvedHeader(const uint256& prev, uint32_t time, const uint256& merkle_root = {})
{
    BlockHeader header;
    header.version = 0x20000000;
    header.prev_block = prev;
    header.merkle_root = merkle_root;
    header.time = time;
    header.bits = 0x207fffff;
    while (!CheckProofOfWork(header.GetHash(), header.bits, GetChainParams("regtest").consensus)) ++header.nonce;
    return header;
}

//! A one-transaction block on `prev`, its merkle root right (or wrong), solved.
Block SolvedBlock(const uint256& prev, bool right_merkle = true)
{
    Block block;
    Transaction coinbase;
    coinbase.version = 1;
    TxIn in;
    in.prevout.n = 0xffffffff;
    in.script_sig = Script(std::vector<uint8_t>{0x01, 0x15, 0x01, 0x01});
    coinbase.vin.push_back(in);
    TxOut out;
    out.value = 50 * COIN;
    out.script_pubkey = Script(std::vector<uint8_t>{0x51});
    coinbase.vout.push_back(out);
    block.txs.push_back(coinbase);
    uint256 root = BlockMerkleRoot(block);
    if (!right_merkle) root.data()[0] ^= 1;
    static_cast<BlockHeader&>(block) = SolvedHeader(prev, 1'700'000'000, root);
    return block;
}

} // namespace

TEST_CASE("headers with valid proof of work that chain reach the node as 80-byte headers")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    auto first = SolvedHeader(uint256{}, 1'700'000'000);
    auto second = SolvedHeader(first.GetHash(), 1'700'000'001);
    h.peer->Send(HeadersMessage{{first, second}});
    auto got = h.recorder.WaitForHeaders();
    REQUIRE(got);
    auto expected = SerializeBlockHeader(first);
    auto tail = SerializeBlockHeader(second);
    expected.insert(expected.end(), tail.begin(), tail.end());
    CHECK(*got == expected);
}

TEST_CASE("headers that do not chain drop the peer before the node hears of them")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    auto first = SolvedHeader(uint256{}, 1'700'000'000);
    auto stray = SolvedHeader(uint256::FromHex(std::string(64, '4')).value(), 1'700'000'001);
    h.peer->Send(HeadersMessage{{first, stray}});
    CHECK(h.DropReason() == "non-continuous headers sequence");
}

TEST_CASE("a header without the proof of work its bits ask for drops the peer")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    auto header = SolvedHeader(uint256{}, 1'700'000'000);
    header.bits = 0x1d00ffff; // mainnet's difficulty 1: nothing solved for regtest meets it
    h.peer->Send(HeadersMessage{{header}});
    CHECK(h.DropReason().find("has invalid proof of work (high-hash)") != std::string::npos);
}

TEST_CASE("a valid block reaches the node as sent and one whose merkle root is wrong drops the peer")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    auto good = SerializeBlock(SolvedBlock(uint256{}));
    h.peer->Send(BlockMessage{good});
    auto got = h.recorder.WaitForBlock();
    REQUIRE(got);
    CHECK(*got == good);
    h.peer->Send(BlockMessage{SerializeBlock(SolvedBlock(uint256{}, /*right_merkle=*/false))});
    CHECK(h.DropReason().find("bad-txnmrklroot") != std::string::npos);
}

TEST_CASE("getdata for a block the node does not have is answered with notfound")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    InvItem item{MSG_WITNESS_BLOCK, uint256::FromHex(std::string(64, '7')).value()};
    h.peer->Send(GetDataMessage{{item}});
    RawMessage reply;
    do {
        reply = h.peer->Receive();
    } while (reply.command == "ping");
    REQUIRE(reply.command == "notfound");
    CHECK(std::get<NotFoundMessage>(DecodeMessage(reply.command, reply.payload)).items == std::vector<InvItem>{item});
}

// ---------------------------------------------------------------------------
// Transaction relay (doc/relay.md)

namespace {

std::vector<uint8_t> SampleTx(bool duplicate_input)
{
    Transaction tx;
    tx.vin.push_back(TxIn{OutPoint{uint256::FromHex(std::string(64, '5')).value(), 0}, Script{}, 0xffffffff, {{0x51}}});
    if (duplicate_input) tx.vin.push_back(tx.vin.front());
    tx.vout.push_back(TxOut{1000, Script{}});
    return SerializeTransaction(tx);
}

} // namespace

TEST_CASE("a transaction passing CheckTransaction reaches the node as sent; one spending an input twice drops the peer")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake();
    const auto good = SampleTx(false);
    h.peer->Send(TxMessage{good});
    auto got = h.recorder.WaitForTx();
    REQUIRE(got);
    CHECK(*got == good);
    h.peer->Send(TxMessage{SampleTx(true)});
    CHECK(h.DropReason().find("bad-txns-inputs-duplicate") != std::string::npos);
}

TEST_CASE("a transaction inv reaches the node only in the kind the peer negotiated (wtxid after wtxidrelay)")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake(); // the peer sent wtxidrelay
    const uint256 by_txid = uint256::FromHex(std::string(64, '1')).value();
    const uint256 by_wtxid = uint256::FromHex(std::string(64, '2')).value();
    h.peer->Send(InvMessage{{{MSG_TX, by_txid}, {MSG_WTX, by_wtxid}}});
    auto got = h.recorder.WaitForTxInv();
    REQUIRE(got);
    CHECK(*got == std::vector<uint8_t>(by_wtxid.data(), by_wtxid.data() + 32));
}

TEST_CASE("after a version saying relay=false, a transaction from the peer drops it")
{
    PeerConfig config = FastConfig();
    config.params.relay = false; // -blocksonly
    Harness h(/*inbound=*/false, config);
    h.CompleteOutboundHandshake();
    h.peer->Send(TxMessage{SampleTx(false)});
    CHECK(h.DropReason() == "transaction sent in violation of protocol");
}

TEST_CASE("the node's addresses go out as addrv2, and an addr of more than 1,000 entries drops the peer")
{
    Harness h(/*inbound=*/false, FastConfig());
    h.CompleteOutboundHandshake(); // the scripted peer sent sendaddrv2
    CHECK(h.peer->ReceiveCommand() == "ping");
    PeerAddress address = *ParsePeerAddress("1.2.3.4:8333");
    address.services = 9;
    h.engine->SendAddresses(EncodeAddrPayload({address}, true));
    auto sent = h.peer->Receive();
    REQUIRE(sent.command == "addrv2");
    CHECK(DecodeAddrPayload(sent.payload, true) == std::vector<PeerAddress>{address});
    h.engine->RequestAddresses();
    CHECK(h.peer->ReceiveCommand() == "getaddr");
    h.peer->Send(UnknownMessage{"addr", EncodeAddrPayload(std::vector<PeerAddress>(1001, address), false)});
    CHECK(h.DropReason() == "misbehaving: addr message size = 1001");
}
