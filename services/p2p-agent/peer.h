// The protocol engine of one peer connection: it owns a connected socket,
// frames and decodes what the peer sends, runs the version handshake and the
// ping keep-alive, the context-free checks of headers, blocks (doc/sync.md) and
// transactions (doc/relay.md), and decides when to drop the peer. It knows nothing of IPC:
// it reports through PeerEvents, which the agent implements with calls to the
// node's PeerHost and the unit tests implement with a recorder.
#ifndef ORRERY_SERVICES_P2P_AGENT_PEER_H
#define ORRERY_SERVICES_P2P_AGENT_PEER_H

#include <common/consensus/params.h>
#include <common/interfaces/peer_host.h>
#include <common/p2p/messages.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace orrery::p2p_agent {

//! Where the engine reports. Called on the engine's thread (the one in Run()).
class PeerEvents
{
public:
    virtual ~PeerEvents() = default;
    //! version and verack exchanged both ways.
    virtual void HandshakeDone(const interfaces::PeerVersion& version) = 0;
    //! Every stats_interval and after each pong.
    virtual void Stats(const interfaces::PeerStats& stats) = 0;
    // Block sync, after the handshake. The byte layouts are PeerHost's (common/interfaces/peer_host.h).
    //! Headers that passed the checks: 80 bytes each.
    virtual void HeadersReceived(std::vector<uint8_t> /*headers*/) {}
    //! A block that passed the checks, as received.
    virtual void BlockReceived(std::vector<uint8_t> /*block*/) {}
    //! Hashes of blocks the peer announced by inv.
    virtual void BlocksAnnounced(std::vector<uint8_t> /*hashes*/) {}
    //! The answer to the peer's getheaders; nullopt: stay silent.
    virtual std::optional<std::vector<uint8_t>> GetHeaders(std::vector<uint8_t> /*locator*/,
                                                           std::vector<uint8_t> /*stop*/)
    {
        return std::nullopt;
    }
    //! The answer to the peer's getblocks: block hashes.
    virtual std::vector<uint8_t> GetBlocks(std::vector<uint8_t> /*locator*/, std::vector<uint8_t> /*stop*/)
    {
        return {};
    }
    //! A block the peer asked for; nullopt: notfound.
    virtual std::optional<std::vector<uint8_t>> GetBlock(std::vector<uint8_t> /*hash*/, bool /*witness*/)
    {
        return std::nullopt;
    }
    // Transaction relay (doc/relay.md), after the handshake.
    //! (W)txids the peer announced by inv, of the kind it negotiated.
    virtual void TransactionsAnnounced(std::vector<uint8_t> /*hashes*/) {}
    //! A transaction that passed CheckTransaction, as received.
    virtual void TransactionReceived(std::vector<uint8_t> /*tx*/) {}
    //! (W)txids of the peer's notfound.
    virtual void TransactionsNotFound(std::vector<uint8_t> /*hashes*/) {}
    //! A transaction the peer asked for; nullopt: notfound.
    virtual std::optional<std::vector<uint8_t>> GetTransaction(std::vector<uint8_t> /*hash*/, bool /*wtxid*/,
                                                               bool /*witness*/)
    {
        return std::nullopt;
    }
    //! The peer's feefilter, a valid amount.
    virtual void FeeFilterReceived(int64_t /*fee_rate*/) {}
    //! The peer's mempool message.
    virtual void MempoolRequested() {}
    // Compact blocks (BIP152, doc/compact_blocks.md), after the handshake.
    //! The peer's sendcmpct of version 2.
    virtual void CompactBlocksOffered(bool /*high_bandwidth*/) {}
    //! A cmpctblock that decoded, whose header has valid proof of work and whose layout passed
    //! CheckCompactBlock, as received.
    virtual void CompactBlockReceived(std::vector<uint8_t> /*cmpctblock*/) {}
    //! A blocktxn that decoded, as received.
    virtual void BlockTransactionsReceived(std::vector<uint8_t> /*blocktxn*/) {}
    //! The answer to the peer's getblocktxn; nullopt: none.
    virtual std::optional<interfaces::WireMessage> GetBlockTransactions(std::vector<uint8_t> /*getblocktxn*/)
    {
        return std::nullopt;
    }
    //! The answer to a getdata of MSG_CMPCT_BLOCK; nullopt: notfound.
    virtual std::optional<interfaces::WireMessage> GetCompactBlock(std::vector<uint8_t> /*hash*/)
    {
        return std::nullopt;
    }
    // Addresses (doc/addrman.md), after the handshake.
    //! An addr (`addrv2` false) or addrv2 payload of at most 1,000 entries that decoded.
    virtual void AddressesReceived(bool /*addrv2*/, std::vector<uint8_t> /*payload*/) {}
    //! The answer to the peer's getaddr, an addrv2 payload; nullopt: stay silent.
    virtual std::optional<std::vector<uint8_t>> GetAddresses() { return std::nullopt; }
    //! Misbehaviour seen: true to drop the peer, false to ignore the message (a manual or noban peer).
    virtual bool Misbehaved(const std::string& /*reason*/) { return true; }
};

struct PeerConfig {
    interfaces::HandshakeParams params;
    bool inbound{false};
    std::string peer_address; //!< "ip:port", for addr_recv and logs
    int64_t peer_id{0};
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds{60}};
    std::chrono::milliseconds ping_interval{std::chrono::minutes{2}};
    std::chrono::milliseconds inactivity_timeout{std::chrono::minutes{20}};
    //! How often the stats go to the node; real time even under mock time (it is not protocol).
    std::chrono::milliseconds stats_interval{std::chrono::seconds{5}};
};

//! Drives one socket until the peer is gone. Run() is called once, on one
//! thread; RequestDisconnect(), ClockChanged() and GetStats() may be called from any thread.
//!
//! Time: what Bitcoin Core reads from its mockable clock — the version timestamp, the
//! peer's time offset, last send/receive, ping start, latency and interval, the handshake,
//! inactivity and ping timeouts — comes from the process's clock (common/util/mock_time.h),
//! so setmocktime moves them as it moves bitcoind's.

class PeerEngine
{
public:
    //! Takes ownership of `fd` (a connected stream socket) and makes it non-blocking.
    //! Creates its wake-up eventfd here, so nothing after construction needs new descriptors.
    PeerEngine(int fd, PeerConfig config, PeerEvents& events);
    ~PeerEngine();
    PeerEngine(const PeerEngine&) = delete;
    PeerEngine& operator=(const PeerEngine&) = delete;

    //! Runs the protocol until the peer is dropped or goes away, and returns why.
    //! The socket is shut down and closed when it returns.
    std::string Run();
    //! Makes Run() close the connection and return `reason`.
    void RequestDisconnect(const std::string& reason);
    interfaces::PeerStats GetStats() const;
    //! The process's mock time changed: re-reads the clock for every timer at once.
    void ClockChanged();
    //! The node's requests (Agent interface), queued for the engine's thread. Any thread.
    void RequestHeaders(std::vector<uint256> locator);
    void RequestBlocks(std::vector<uint256> hashes);
    void AnnounceBlocks(std::vector<BlockHeader> headers);
    void AnnounceTransactions(std::vector<uint256> hashes, bool wtxid);
    void RequestTransactions(std::vector<uint256> hashes, bool wtxid);
    void SendFeeFilter(int64_t fee_rate);
    // Compact blocks (Agent interface), queued for the engine's thread. Any thread; the payloads are
    // decoded on the caller's thread, so a bad one is an error to the node's call.
    void SendCompactBlockMode(bool high_bandwidth);
    void SendCompactBlock(std::vector<uint8_t> cmpctblock);
    void RequestCompactBlock(uint256 hash);
    void RequestBlockTransactions(std::vector<uint8_t> getblocktxn);
    // Addresses (Agent interface), queued for the engine's thread. Any thread.
    void RequestAddresses();
    void SendAddresses(std::vector<uint8_t> addrv2_payload);

private:
    using Clock = std::chrono::steady_clock;
    struct Drop {
        std::string reason;
    };

    void Send(const p2p::Message& message);
    void SendVersion();
    void HandleMessage(p2p::RawMessage raw);
    void OnVersion(const p2p::VersionMessage& version);
    void OnVerack();
    void CompleteHandshake();
    void OnPong(const p2p::PongMessage& pong);
    void OnHeaders(const p2p::HeadersMessage& headers);
    void OnBlock(const p2p::BlockMessage& block);
    void OnInv(const p2p::InvMessage& inv);
    void OnGetHeaders(const p2p::GetHeadersMessage& request);
    void OnGetBlocks(const p2p::GetBlocksMessage& request);
    void OnGetData(const p2p::GetDataMessage& request);
    void OnNotFound(const p2p::NotFoundMessage& message);
    void OnTx(const p2p::TxMessage& message);
    void OnFeeFilter(const p2p::FeeFilterMessage& message);
    void OnCmpctBlock(const p2p::RawMessage& raw, const p2p::CmpctBlockMessage& message);
    void OnGetBlockTxn(const p2p::RawMessage& raw);
    //! Sends what the node answered for a compact block request: only the commands it may answer with.
    void SendNodeAnswer(const interfaces::WireMessage& answer);
    //! Core's RejectIncomingTxs: we told the peer not to send transactions (relay=false in our version).
    bool RejectsIncomingTxs() const { return !m_config.params.relay; }
    //! addr, addrv2 and getaddr (true), or another command (false).
    bool HandleAddrMessage(const p2p::RawMessage& raw);
    //! Serves queued getdata entries while less than SEND_BUFFER_LIMIT bytes wait to be sent.
    void ServeGetData();
    //! Runs a task on the engine's thread (the next loop round).
    void Post(std::function<void()> task);
    void RunPosted();
    //! Calls the node through m_events; a failure of the call ends the connection.
    template <typename F> auto AskNode(F&& f);
    //! `now_us`: the protocol clock (unix microseconds, mock-aware); `now`: the real one, for the stats.
    void CheckTimers(int64_t now_us, Clock::time_point now);
    bool ReadSocket();
    bool FlushSocket();
    void ReportStats();
    //! How long poll may sleep before the next timer is due, in milliseconds.
    int PollTimeout(int64_t now_us, Clock::time_point now) const;
    void Wake();

    int m_fd;
    int m_wake_fd;
    PeerConfig m_config;
    PeerEvents& m_events;
    p2p::Deframer m_deframer;

    std::vector<uint8_t> m_send_buffer;
    std::deque<p2p::InvItem> m_getdata_queue; //!< what the peer asked for and is not served yet
    size_t m_send_offset{0};

    // Handshake state (engine thread only).
    bool m_version_sent{false};
    std::optional<p2p::VersionMessage> m_peer_version;
    bool m_verack_received{false};
    bool m_handshake_done{false};
    interfaces::PeerVersion m_reported_version;
    // Protocol times, unix microseconds on the mock-aware clock (engine thread only).
    int64_t m_started_us{0};
    int64_t m_last_recv_us{0};

    // Ping state.
    std::optional<uint64_t> m_ping_nonce;
    int64_t m_ping_sent_us{0};
    int64_t m_next_ping_us{0};
    Clock::time_point m_next_stats;

    const ConsensusParams& m_consensus;

    mutable std::mutex m_mutex; // guards the three below
    std::vector<std::function<void()>> m_posted;
    interfaces::PeerStats m_stats;
    std::optional<std::string> m_disconnect_reason;
};

} // namespace orrery::p2p_agent

#endif // ORRERY_SERVICES_P2P_AGENT_PEER_H
