// The protocol engine of one peer; see peer.h. One thread polls the socket
// and a wake-up eventfd; every timer (handshake, inactivity, ping, stats) is
// a deadline that bounds the poll, so the engine needs no other threads.
#include <services/p2p-agent/peer.h>

#include <common/consensus/amount.h>
#include <common/consensus/check.h>
#include <common/consensus/pow.h>
#include <common/p2p/addr.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

namespace orrery::p2p_agent {
namespace {

uint64_t RandomNonce()
{
    uint64_t nonce = 0;
    while (nonce == 0) { // zero means "no nonce" to Core's pong handling
        if (::getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) nonce = 0;
    }
    return nonce;
}

double Seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

double Seconds(int64_t micros)
{
    return static_cast<double>(micros) / 1e6;
}

int64_t Micros(std::chrono::milliseconds d)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

} // namespace

PeerEngine::PeerEngine(int fd, PeerConfig config, PeerEvents& events)
    : m_fd(fd), m_wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), m_config(std::move(config)), m_events(events),
      m_deframer(m_config.params.message_start), m_consensus(GetChainParams(m_config.params.chain).consensus)
{
    if (m_wake_fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    const int flags = ::fcntl(m_fd, F_GETFL);
    if (flags < 0 || ::fcntl(m_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        throw std::runtime_error(std::string("cannot make the peer socket non-blocking: ") + std::strerror(errno));
    }
}

PeerEngine::~PeerEngine()
{
    if (m_fd >= 0) ::close(m_fd);
    ::close(m_wake_fd);
}

// Defined before its first use: a function with a deduced return type must be (clang refuses otherwise).
template <typename F> auto PeerEngine::AskNode(F&& f)
{
    try {
        return f();
    } catch (const std::exception& e) {
        throw Drop{std::string("cannot reach the node: ") + e.what()};
    }
}

void PeerEngine::RequestDisconnect(const std::string& reason)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_disconnect_reason) m_disconnect_reason = reason;
    }
    Wake();
}

void PeerEngine::ClockChanged()
{
    Wake();
}

void PeerEngine::Wake()
{
    const uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(m_wake_fd, &one, sizeof(one));
}

interfaces::PeerStats PeerEngine::GetStats() const
{
    std::lock_guard lock(m_mutex);
    return m_stats;
}

void PeerEngine::Post(std::function<void()> task)
{
    {
        std::lock_guard lock(m_mutex);
        m_posted.push_back(std::move(task));
    }
    const uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(m_wake_fd, &one, sizeof(one));
}

void PeerEngine::RunPosted()
{
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(m_mutex);
        tasks.swap(m_posted);
    }
    for (auto& task : tasks) task();
}

void PeerEngine::RequestHeaders(std::vector<uint256> locator)
{
    Post([this, locator = std::move(locator)] {
        p2p::GetHeadersMessage request;
        request.version = uint32_t(m_config.params.protocol_version);
        request.locator = locator;
        Send(request);
    });
}

void PeerEngine::RequestBlocks(std::vector<uint256> hashes)
{
    Post([this, hashes = std::move(hashes)] {
        p2p::GetDataMessage request;
        // Witness blocks from a peer that serves them (NODE_WITNESS), else plain ones.
        const bool witness = m_peer_version && (m_peer_version->services & p2p::NODE_WITNESS);
        for (const auto& hash : hashes)
            request.items.push_back({witness ? p2p::MSG_WITNESS_BLOCK : p2p::MSG_BLOCK, hash});
        Send(request);
    });
}

void PeerEngine::AnnounceBlocks(std::vector<BlockHeader> headers)
{
    Post([this, headers = std::move(headers)] {
        if (!m_handshake_done || headers.empty()) return;
        if (m_reported_version.send_headers && headers.size() <= p2p::MAX_BLOCKS_TO_ANNOUNCE) {
            Send(p2p::HeadersMessage{headers});
        } else {
            Send(p2p::InvMessage{{{p2p::MSG_BLOCK, headers.back().GetHash()}}});
        }
    });
}

void PeerEngine::AnnounceTransactions(std::vector<uint256> hashes, bool wtxid)
{
    Post([this, hashes = std::move(hashes), wtxid] {
        if (!m_handshake_done) return;
        p2p::InvMessage inv;
        for (const auto& hash : hashes) {
            inv.items.push_back({wtxid ? p2p::MSG_WTX : p2p::MSG_TX, hash});
            if (inv.items.size() == p2p::MAX_INV_SZ) {
                Send(inv);
                inv.items.clear();
            }
        }
        if (!inv.items.empty()) Send(inv);
    });
}

void PeerEngine::RequestTransactions(std::vector<uint256> hashes, bool wtxid)
{
    Post([this, hashes = std::move(hashes), wtxid] {
        if (!m_handshake_done) return;
        // Core's MAX_GETDATA_SZ: no getdata longer than 1,000 entries is sent.
        constexpr size_t MAX_GETDATA_SZ = 1000;
        const bool witness = m_peer_version && (m_peer_version->services & p2p::NODE_WITNESS);
        p2p::GetDataMessage request;
        for (const auto& hash : hashes) {
            request.items.push_back({wtxid ? p2p::MSG_WTX : (witness ? p2p::MSG_WITNESS_TX : p2p::MSG_TX), hash});
            if (request.items.size() == MAX_GETDATA_SZ) {
                Send(request);
                request.items.clear();
            }
        }
        if (!request.items.empty()) Send(request);
    });
}

void PeerEngine::SendFeeFilter(int64_t fee_rate)
{
    Post([this, fee_rate] {
        if (m_handshake_done) Send(p2p::FeeFilterMessage{fee_rate});
    });
}

// ---------------------------------------------------------------------------
// Main loop

std::string PeerEngine::Run()
{
    m_started_us = GetTimeMicros();
    m_last_recv_us = m_started_us;
    m_next_stats = Clock::now() + m_config.stats_interval;
    std::string reason;
    try {
        if (!m_config.inbound) SendVersion();
        for (;;) {
            {
                std::lock_guard lock(m_mutex);
                if (m_disconnect_reason) throw Drop{*m_disconnect_reason};
            }
            CheckTimers(GetTimeMicros(), Clock::now());
            const int timeout_ms = PollTimeout(GetTimeMicros(), Clock::now());
            pollfd fds[2] = {{m_fd, short(POLLIN | (m_send_offset < m_send_buffer.size() ? POLLOUT : 0)), 0},
                             {m_wake_fd, POLLIN, 0}};
            const int ready = ::poll(fds, 2, timeout_ms);
            if (ready < 0) {
                if (errno == EINTR) continue;
                throw Drop{std::string("poll failed: ") + std::strerror(errno)};
            }
            if (fds[1].revents & POLLIN) {
                uint64_t count = 0;
                [[maybe_unused]] auto got = ::read(m_wake_fd, &count, sizeof(count));
            }
            RunPosted();
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (!ReadSocket()) throw Drop{"peer closed the connection"};
            }
            if (fds[0].revents & POLLOUT) FlushSocket();
            if (!m_getdata_queue.empty()) ServeGetData();
        }
    } catch (const Drop& drop) {
        reason = drop.reason;
    }
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_fd = -1;
    return reason;
}

int PeerEngine::PollTimeout(int64_t now_us, Clock::time_point now) const
{
    // Under a pinned mock time the protocol deadlines do not come by themselves: a
    // setmocktime wakes the engine (ClockChanged), as the next tick of Core's loops would.
    int64_t deadline_us = m_last_recv_us + Micros(m_config.inactivity_timeout);
    if (!m_handshake_done) deadline_us = std::min(deadline_us, m_started_us + Micros(m_config.handshake_timeout));
    if (m_handshake_done && !m_ping_nonce) deadline_us = std::min(deadline_us, m_next_ping_us);
    if (m_ping_nonce) deadline_us = std::min(deadline_us, m_ping_sent_us + Micros(m_config.inactivity_timeout));
    const int64_t protocol_ms = (std::max<int64_t>(deadline_us - now_us, 0) + 999) / 1000;
    const int64_t stats_ms = std::chrono::ceil<std::chrono::milliseconds>(m_next_stats - now).count();
    return static_cast<int>(std::clamp<int64_t>(std::min(protocol_ms, stats_ms), 0, 60'000));
}

void PeerEngine::CheckTimers(int64_t now_us, Clock::time_point now)
{
    if (!m_handshake_done && now_us - m_started_us >= Micros(m_config.handshake_timeout)) {
        throw Drop{"version handshake timeout after " + std::to_string(Seconds(m_config.handshake_timeout)) + " s"};
    }
    if (now_us - m_last_recv_us >= Micros(m_config.inactivity_timeout)) {
        throw Drop{"inactivity timeout: no data for " + std::to_string(Seconds(now_us - m_last_recv_us)) + " s"};
    }
    if (m_ping_nonce && now_us - m_ping_sent_us >= Micros(m_config.inactivity_timeout)) {
        throw Drop{"ping timeout: no pong for " + std::to_string(Seconds(now_us - m_ping_sent_us)) + " s"};
    }
    if (m_handshake_done && !m_ping_nonce && now_us >= m_next_ping_us) {
        m_ping_nonce = RandomNonce();
        m_ping_sent_us = now_us;
        Send(p2p::PingMessage{*m_ping_nonce});
    }
    if (now >= m_next_stats) {
        m_next_stats = now + m_config.stats_interval;
        ReportStats();
    }
}

void PeerEngine::ReportStats()
{
    try {
        m_events.Stats(GetStats());
    } catch (const std::exception& e) {
        throw Drop{std::string("cannot report to the node: ") + e.what()};
    }
}

// ---------------------------------------------------------------------------
// Socket I/O

bool PeerEngine::ReadSocket()
{
    uint8_t buffer[65536];
    for (;;) {
        const ssize_t got = ::recv(m_fd, buffer, sizeof(buffer), 0);
        if (got == 0) return false;
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            throw Drop{std::string("receive failed: ") + std::strerror(errno)};
        }
        m_last_recv_us = GetTimeMicros();
        {
            std::lock_guard lock(m_mutex);
            m_stats.bytes_recv += got;
            m_stats.last_recv = m_last_recv_us / 1'000'000;
        }
        m_deframer.Feed(std::span<const uint8_t>(buffer, size_t(got)));
        try {
            while (auto message = m_deframer.Next()) HandleMessage(std::move(*message));
        } catch (const p2p::ProtocolError& e) {
            throw Drop{e.what()};
        }
        if (size_t(got) < sizeof(buffer)) return true;
    }
}

bool PeerEngine::FlushSocket()
{
    while (m_send_offset < m_send_buffer.size()) {
        const ssize_t sent =
            ::send(m_fd, m_send_buffer.data() + m_send_offset, m_send_buffer.size() - m_send_offset, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            throw Drop{std::string("send failed: ") + std::strerror(errno)};
        }
        m_send_offset += size_t(sent);
        std::lock_guard lock(m_mutex);
        m_stats.bytes_sent += sent;
        m_stats.last_send = GetTime();
    }
    m_send_buffer.clear();
    m_send_offset = 0;
    return true;
}

void PeerEngine::Send(const p2p::Message& message)
{
    LogDebug(LogCategory::NET, "sending {} to peer={}", p2p::CommandOf(message), m_config.peer_id);
    auto frame = p2p::EncodeMessage(m_config.params.message_start, message);
    {
        std::lock_guard lock(m_mutex);
        std::string type(p2p::CommandOf(message));
        if (!p2p::IsKnownMessageType(type)) type = p2p::OTHER_MESSAGE_TYPE;
        m_stats.bytes_sent_per_msg[type] += static_cast<int64_t>(frame.size());
    }
    m_send_buffer.insert(m_send_buffer.end(), frame.begin(), frame.end());
    FlushSocket();
}

// ---------------------------------------------------------------------------
// Protocol

void PeerEngine::SendVersion()
{
    const auto& params = m_config.params;
    p2p::VersionMessage version;
    version.version = params.protocol_version;
    version.services = params.services;
    version.timestamp = GetTime();
    // Like Core, the peer's address carries no services and ours is all zeros.
    version.addr_recv = p2p::ParseVersionAddress(m_config.peer_address).value_or(p2p::VersionAddress{});
    version.nonce = params.nonce;
    version.user_agent = params.user_agent;
    version.start_height = params.start_height;
    version.relay = params.relay;
    Send(version);
    m_version_sent = true;
}

void PeerEngine::HandleMessage(p2p::RawMessage raw)
{
    LogDebug(LogCategory::NET, "received {} ({} bytes) from peer={}", raw.command, raw.payload.size(),
             m_config.peer_id);
    {
        std::lock_guard lock(m_mutex);
        const std::string& type =
            p2p::IsKnownMessageType(raw.command) ? raw.command : std::string(p2p::OTHER_MESSAGE_TYPE);
        m_stats.bytes_recv_per_msg[type] += static_cast<int64_t>(p2p::HEADER_SIZE + raw.payload.size());
    }
    if (!m_peer_version && raw.command != p2p::command::VERSION) {
        throw Drop{"'" + raw.command + "' message before the version message"};
    }
    if (HandleAddrMessage(raw)) return;
    p2p::Message message = p2p::DecodeMessage(raw.command, raw.payload);
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, p2p::VersionMessage>) {
                if (m_peer_version) throw Drop{"second version message"};
                OnVersion(m);
            } else if constexpr (std::is_same_v<T, p2p::VerackMessage>) {
                if (m_verack_received) {
                    LogDebug(LogCategory::NET, "ignoring redundant verack from peer={}", m_config.peer_id);
                } else {
                    OnVerack();
                }
            } else if constexpr (std::is_same_v<T, p2p::WtxidRelayMessage>) {
                // BIP339: only valid between version and verack, and only counted at a common version of 70016.
                if (m_verack_received) throw Drop{"wtxidrelay received after verack"};
                if (std::min(m_peer_version->version, m_config.params.protocol_version) >= p2p::WTXID_RELAY_VERSION) {
                    m_reported_version.wtxid_relay = true;
                } else {
                    LogDebug(LogCategory::NET, "ignoring wtxidrelay due to old common version from peer={}",
                             m_config.peer_id);
                }
            } else if constexpr (std::is_same_v<T, p2p::SendAddrV2Message>) {
                // BIP155: only valid between version and verack.
                if (m_verack_received) throw Drop{"sendaddrv2 received after verack"};
                m_reported_version.send_addrv2 = true;
            } else if constexpr (std::is_same_v<T, p2p::SendHeadersMessage>) {
                m_reported_version.send_headers = true;
            } else if constexpr (std::is_same_v<T, p2p::PingMessage>) {
                if (m_handshake_done) {
                    Send(p2p::PongMessage{m.nonce});
                } else {
                    LogDebug(LogCategory::NET, "ignoring ping before verack from peer={}", m_config.peer_id);
                }
            } else if constexpr (std::is_same_v<T, p2p::PongMessage>) {
                if (m_handshake_done) OnPong(m);
            } else if constexpr (!std::is_same_v<T, p2p::UnknownMessage>) {
                // Block sync: only after the handshake, as Core ignores it before verack.
                if (!m_handshake_done) {
                    LogDebug(LogCategory::NET, "ignoring {} before verack from peer={}", p2p::CommandOf(message),
                             m_config.peer_id);
                } else if constexpr (std::is_same_v<T, p2p::HeadersMessage>) {
                    OnHeaders(m);
                } else if constexpr (std::is_same_v<T, p2p::BlockMessage>) {
                    OnBlock(m);
                } else if constexpr (std::is_same_v<T, p2p::InvMessage>) {
                    OnInv(m);
                } else if constexpr (std::is_same_v<T, p2p::GetHeadersMessage>) {
                    OnGetHeaders(m);
                } else if constexpr (std::is_same_v<T, p2p::GetBlocksMessage>) {
                    OnGetBlocks(m);
                } else if constexpr (std::is_same_v<T, p2p::GetDataMessage>) {
                    OnGetData(m);
                } else if constexpr (std::is_same_v<T, p2p::NotFoundMessage>) {
                    OnNotFound(m);
                } else if constexpr (std::is_same_v<T, p2p::TxMessage>) {
                    OnTx(m);
                } else if constexpr (std::is_same_v<T, p2p::FeeFilterMessage>) {
                    OnFeeFilter(m);
                } else if constexpr (std::is_same_v<T, p2p::MempoolMessage>) {
                    AskNode([&] { m_events.MempoolRequested(); });
                } else if constexpr (std::is_same_v<T, p2p::SendCmpctMessage>) {
                    // Only version 2 (with witnesses) is spoken; Core ignores any other.
                    if (m.version == p2p::CMPCTBLOCKS_VERSION) {
                        AskNode([&] { m_events.CompactBlocksOffered(m.high_bandwidth); });
                    }
                } else if constexpr (std::is_same_v<T, p2p::CmpctBlockMessage>) {
                    OnCmpctBlock(raw, m);
                } else if constexpr (std::is_same_v<T, p2p::GetBlockTxnMessage>) {
                    OnGetBlockTxn(raw);
                } else if constexpr (std::is_same_v<T, p2p::BlockTxnMessage>) {
                    AskNode([&] { m_events.BlockTransactionsReceived(raw.payload); });
                }
            } else if (m.command == "sendtxrcncl") {
                // BIP330 reconciliation is not offered (Core's default), so the message is ignored as there.
                LogDebug(LogCategory::NET,
                         "sendtxrcncl from peer={} ignored, as our node does not have "
                         "txreconciliation enabled",
                         m_config.peer_id);
            } else {
                LogDebug(LogCategory::NET, "ignoring unhandled '{}' message ({} bytes) from peer={}", m.command,
                         m.payload.size(), m_config.peer_id);
            }
        },
        message);
}

void PeerEngine::OnVersion(const p2p::VersionMessage& version)
{
    if (version.version < p2p::MIN_PEER_PROTO_VERSION) {
        throw Drop{"peer uses obsolete protocol version " + std::to_string(version.version)};
    }
    if (m_config.params.nonce != 0 && version.nonce == m_config.params.nonce) {
        throw Drop{"connected to self (the peer's version nonce is ours)"};
    }
    m_peer_version = version;
    m_reported_version.version = version.version;
    m_reported_version.services = version.services;
    m_reported_version.user_agent = version.user_agent;
    m_reported_version.start_height = version.start_height;
    m_reported_version.relay = version.relay;
    m_reported_version.time_offset = version.timestamp - GetTime();
    m_reported_version.nonce = version.nonce;
    if (!m_version_sent) SendVersion();
    const int32_t common_version = std::min(version.version, m_config.params.protocol_version);
    if (common_version >= p2p::WTXID_RELAY_VERSION) {
        Send(p2p::WtxidRelayMessage{});
        Send(p2p::SendAddrV2Message{});
    }
    Send(p2p::VerackMessage{});
}

void PeerEngine::OnVerack()
{
    m_verack_received = true;
    CompleteHandshake();
}

void PeerEngine::CompleteHandshake()
{
    const int32_t common_version = std::min(m_peer_version->version, m_config.params.protocol_version);
    if (common_version >= p2p::SENDHEADERS_VERSION) Send(p2p::SendHeadersMessage{});
    // BIP152 as Core: announce version 2 in low-bandwidth mode; the node asks for high bandwidth later.
    if (common_version >= p2p::SHORT_IDS_BLOCKS_VERSION) Send(p2p::SendCmpctMessage{false, p2p::CMPCTBLOCKS_VERSION});
    m_handshake_done = true;
    m_next_ping_us = GetTimeMicros(); // measure the latency at once, as Core does
    try {
        m_events.HandshakeDone(m_reported_version);
    } catch (const std::exception& e) {
        throw Drop{std::string("cannot report to the node: ") + e.what()};
    }
}

void PeerEngine::OnPong(const p2p::PongMessage& pong)
{
    if (!m_ping_nonce) {
        LogDebug(LogCategory::NET, "unsolicited pong from peer={}", m_config.peer_id);
        return;
    }
    if (pong.nonce != *m_ping_nonce) {
        // Core cancels the ping on a zero nonce and keeps waiting on any other mismatch.
        LogDebug(LogCategory::NET, "pong with the wrong nonce from peer={}", m_config.peer_id);
        if (pong.nonce == 0) {
            m_ping_nonce.reset();
            m_next_ping_us = m_ping_sent_us + Micros(m_config.ping_interval);
        }
        return;
    }
    const int64_t latency_us = GetTimeMicros() - m_ping_sent_us;
    m_ping_nonce.reset();
    m_next_ping_us = m_ping_sent_us + Micros(m_config.ping_interval);
    if (latency_us < 0) {
        // The mock clock went back while the ping was out: Core ends the ping without a figure.
        LogDebug(LogCategory::NET, "pong from peer={}: timing mishap", m_config.peer_id);
        return;
    }
    const double latency = Seconds(latency_us);
    {
        std::lock_guard lock(m_mutex);
        m_stats.ping_time = latency;
        m_stats.min_ping = m_stats.min_ping ? std::min(*m_stats.min_ping, latency) : latency;
    }
    ReportStats();
}

// ---------------------------------------------------------------------------
// Block sync: checks that need only the peer's bytes, then the node.

namespace {

std::vector<uint8_t> HashBytes(const std::vector<uint256>& hashes)
{
    std::vector<uint8_t> out;
    out.reserve(hashes.size() * uint256::kSize);
    for (const auto& hash : hashes) out.insert(out.end(), hash.data(), hash.data() + uint256::kSize);
    return out;
}

} // namespace

void PeerEngine::OnHeaders(const p2p::HeadersMessage& message)
{
    // The count limit is the decoder's (MAX_HEADERS_RESULTS); Core punishes a longer message the same way.
    std::vector<uint8_t> bytes;
    bytes.reserve(message.headers.size() * BlockHeader::kSize);
    uint256 previous;
    for (size_t i = 0; i < message.headers.size(); ++i) {
        const BlockHeader& header = message.headers[i];
        const uint256 hash = header.GetHash();
        if (!CheckProofOfWork(hash, header.bits, m_consensus)) {
            throw Drop{"header " + hash.GetHex() + " has invalid proof of work (high-hash)"};
        }
        if (i > 0 && header.prev_block != previous) throw Drop{"non-continuous headers sequence"};
        previous = hash;
        auto serialized = SerializeBlockHeader(header);
        bytes.insert(bytes.end(), serialized.begin(), serialized.end());
    }
    AskNode([&] { m_events.HeadersReceived(std::move(bytes)); });
}

void PeerEngine::OnBlock(const p2p::BlockMessage& message)
{
    Block block;
    try {
        block = DeserializeBlock(message.payload);
    } catch (const DeserializeError& e) {
        throw Drop{std::string("malformed block: ") + e.what()};
    }
    // Core's CheckBlock: proof of work against the header's bits, merkle root and its CVE-2012-2459
    // mutation, size, coinbase placement, transaction sanity, legacy sigops. Nothing else needs context.
    ValidationState state;
    if (!CheckBlock(block, state, m_consensus)) {
        throw Drop{"invalid block " + block.GetHash().GetHex() + ": " + state.ToString()};
    }
    AskNode([&] { m_events.BlockReceived(message.payload); });
}

void PeerEngine::OnCmpctBlock(const p2p::RawMessage& raw, const p2p::CmpctBlockMessage& message)
{
    // What needs only the message: the header's proof of work against its own bits (Core punishes a bad
    // one through the header check) and the layout (Core's READ_STATUS_INVALID, "invalid compact block").
    const uint256 hash = message.header.GetHash();
    if (!CheckProofOfWork(hash, message.header.bits, m_consensus)) {
        throw Drop{"compact block " + hash.GetHex() + " has invalid proof of work (high-hash)"};
    }
    if (auto error = p2p::CheckCompactBlock(message)) throw Drop{"invalid compact block: " + *error};
    AskNode([&] { m_events.CompactBlockReceived(raw.payload); });
}

void PeerEngine::OnGetBlockTxn(const p2p::RawMessage& raw)
{
    auto answer = AskNode([&] { return m_events.GetBlockTransactions(raw.payload); });
    if (answer) SendNodeAnswer(*answer);
}

void PeerEngine::SendNodeAnswer(const interfaces::WireMessage& answer)
{
    if (answer.command != p2p::command::CMPCTBLOCK && answer.command != p2p::command::BLOCKTXN &&
        answer.command != p2p::command::BLOCK) {
        throw Drop{"the node answered with a '" + answer.command + "' message"};
    }
    Send(p2p::UnknownMessage{answer.command, answer.payload});
}

void PeerEngine::SendCompactBlockMode(bool high_bandwidth)
{
    Post([this, high_bandwidth] {
        if (m_handshake_done) Send(p2p::SendCmpctMessage{high_bandwidth, p2p::CMPCTBLOCKS_VERSION});
    });
}

void PeerEngine::SendCompactBlock(std::vector<uint8_t> cmpctblock)
{
    p2p::DecodeCmpctBlock(cmpctblock); // a bad payload is the node's error, reported to its call
    Post([this, cmpctblock = std::move(cmpctblock)] {
        if (m_handshake_done) Send(p2p::UnknownMessage{std::string(p2p::command::CMPCTBLOCK), cmpctblock});
    });
}

void PeerEngine::RequestCompactBlock(uint256 hash)
{
    Post([this, hash] {
        if (m_handshake_done) Send(p2p::GetDataMessage{{{p2p::MSG_CMPCT_BLOCK, hash}}});
    });
}

void PeerEngine::RequestBlockTransactions(std::vector<uint8_t> getblocktxn)
{
    auto request = p2p::DecodeGetBlockTxn(getblocktxn);
    Post([this, request = std::move(request)] {
        if (m_handshake_done) Send(request);
    });
}

void PeerEngine::OnInv(const p2p::InvMessage& message)
{
    std::vector<uint256> blocks;
    std::vector<uint256> txs;
    // As Core: a wtxidrelay peer's MSG_TX entries and another peer's MSG_WTX entries are ignored.
    const uint32_t tx_type = m_reported_version.wtxid_relay ? p2p::MSG_WTX : p2p::MSG_TX;
    for (const auto& item : message.items) {
        const uint32_t type = item.type & ~p2p::MSG_WITNESS_FLAG;
        if (type == p2p::MSG_BLOCK) {
            blocks.push_back(item.hash);
        } else if (type == p2p::MSG_TX || type == p2p::MSG_WTX) {
            if (RejectsIncomingTxs()) {
                throw Drop{"transaction (" + item.hash.GetHex() + ") inv sent in violation of protocol"};
            }
            if (item.type == tx_type) txs.push_back(item.hash);
        }
    }
    if (!blocks.empty()) AskNode([&] { m_events.BlocksAnnounced(HashBytes(blocks)); });
    if (!txs.empty()) AskNode([&] { m_events.TransactionsAnnounced(HashBytes(txs)); });
}

void PeerEngine::OnNotFound(const p2p::NotFoundMessage& message)
{
    std::vector<uint256> txs;
    for (const auto& item : message.items) {
        const uint32_t type = item.type & ~p2p::MSG_WITNESS_FLAG;
        if (type == p2p::MSG_TX || type == p2p::MSG_WTX) txs.push_back(item.hash);
    }
    LogDebug(LogCategory::NET, "notfound of {} items ({} transactions) from peer={}", message.items.size(), txs.size(),
             m_config.peer_id);
    if (!txs.empty()) AskNode([&] { m_events.TransactionsNotFound(HashBytes(txs)); });
}

void PeerEngine::OnTx(const p2p::TxMessage& message)
{
    if (RejectsIncomingTxs()) throw Drop{"transaction sent in violation of protocol"};
    Transaction tx;
    try {
        tx = DeserializeTransaction(message.payload);
    } catch (const DeserializeError& e) {
        throw Drop{std::string("malformed tx: ") + e.what()};
    }
    // Core's CheckTransaction (no inputs or outputs, size, amounts, duplicate inputs, coinbase script size,
    // null prevouts): invalid whatever the chain, so the peer sent consensus-invalid data.
    ValidationState state;
    if (!CheckTransaction(tx, state)) {
        throw Drop{"invalid transaction " + tx.GetTxid().GetHex() + ": " + state.ToString()};
    }
    AskNode([&] { m_events.TransactionReceived(message.payload); });
}

void PeerEngine::OnFeeFilter(const p2p::FeeFilterMessage& message)
{
    // Core keeps a value only within the money range and ignores any other.
    if (!MoneyRange(message.fee_rate)) {
        LogDebug(LogCategory::NET, "ignoring feefilter of {} from peer={}", message.fee_rate, m_config.peer_id);
        return;
    }
    AskNode([&] { m_events.FeeFilterReceived(message.fee_rate); });
}

void PeerEngine::OnGetHeaders(const p2p::GetHeadersMessage& request)
{
    auto answer = AskNode([&] { return m_events.GetHeaders(HashBytes(request.locator), HashBytes({request.stop})); });
    if (!answer) return;
    if (answer->size() % BlockHeader::kSize != 0 || answer->size() / BlockHeader::kSize > p2p::MAX_HEADERS_RESULTS) {
        throw Drop{"the node answered getheaders with " + std::to_string(answer->size()) + " bytes"};
    }
    p2p::HeadersMessage headers;
    for (size_t at = 0; at < answer->size(); at += BlockHeader::kSize) {
        headers.headers.push_back(
            DeserializeBlockHeader(std::span<const uint8_t>(answer->data() + at, BlockHeader::kSize)));
    }
    Send(headers);
}

void PeerEngine::OnGetBlocks(const p2p::GetBlocksMessage& request)
{
    auto answer = AskNode([&] { return m_events.GetBlocks(HashBytes(request.locator), HashBytes({request.stop})); });
    p2p::InvMessage inv;
    for (size_t at = 0; at + uint256::kSize <= answer.size(); at += uint256::kSize) {
        inv.items.push_back(
            {p2p::MSG_BLOCK, *uint256::FromBytes(std::span<const uint8_t>(answer.data() + at, uint256::kSize))});
    }
    if (!inv.items.empty()) Send(inv);
}

void PeerEngine::OnGetData(const p2p::GetDataMessage& request)
{
    if (m_getdata_queue.size() + request.items.size() > p2p::MAX_INV_SZ) {
        throw Drop{"getdata requests pile up: " + std::to_string(m_getdata_queue.size() + request.items.size()) +
                   " entries not served yet"};
    }
    m_getdata_queue.insert(m_getdata_queue.end(), request.items.begin(), request.items.end());
    ServeGetData();
}

void PeerEngine::ServeGetData()
{
    // As Core pauses at -maxsendbuffer: a peer that asks for many blocks gets them as fast as it reads them,
    // and the agent never holds more than about this much for it.
    constexpr size_t SEND_BUFFER_LIMIT = 5'000'000;
    p2p::NotFoundMessage not_found;
    while (!m_getdata_queue.empty() && m_send_buffer.size() - m_send_offset < SEND_BUFFER_LIMIT) {
        const p2p::InvItem item = m_getdata_queue.front();
        m_getdata_queue.pop_front();
        const uint32_t type = item.type & ~p2p::MSG_WITNESS_FLAG;
        if (type == p2p::MSG_BLOCK) {
            const bool witness = item.type & p2p::MSG_WITNESS_FLAG;
            auto block = AskNode([&] { return m_events.GetBlock(HashBytes({item.hash}), witness); });
            if (block) {
                Send(p2p::BlockMessage{std::move(*block)});
            } else {
                not_found.items.push_back(item);
            }
        } else if (type == p2p::MSG_TX || type == p2p::MSG_WTX) {
            // MSG_WTX is always answered with witness; MSG_TX with it only when asked by the witness flag.
            const bool wtxid = type == p2p::MSG_WTX;
            const bool witness = wtxid || (item.type & p2p::MSG_WITNESS_FLAG);
            auto tx = AskNode([&] { return m_events.GetTransaction(HashBytes({item.hash}), wtxid, witness); });
            if (tx) {
                Send(p2p::TxMessage{std::move(*tx)});
            } else {
                not_found.items.push_back(item);
            }
        } else if (type == p2p::MSG_CMPCT_BLOCK) {
            auto answer = AskNode([&] { return m_events.GetCompactBlock(HashBytes({item.hash})); });
            if (answer) {
                SendNodeAnswer(*answer);
            } else {
                not_found.items.push_back(item);
            }
        }
        // Filtered blocks are not served: Core ignores what it does not offer.
    }
    if (!not_found.items.empty()) Send(not_found);
}

// ---------------------------------------------------------------------------
// Addresses: addr and addrv2 bounds-checked here, kept and answered by the node.

bool PeerEngine::HandleAddrMessage(const p2p::RawMessage& raw)
{
    const bool v2 = raw.command == p2p::command::ADDRV2;
    const bool getaddr = raw.command == p2p::command::GETADDR;
    if (!v2 && !getaddr && raw.command != p2p::command::ADDR) return false;
    if (!m_handshake_done) {
        LogDebug(LogCategory::NET, "ignoring {} before verack from peer={}", raw.command, m_config.peer_id);
        return true;
    }
    if (getaddr) {
        auto answer = AskNode([&] { return m_events.GetAddresses(); });
        if (!answer) return true;
        std::vector<p2p::PeerAddress> addresses;
        try {
            addresses = p2p::DecodeAddrPayload(*answer, true);
        } catch (const p2p::ProtocolError& e) {
            throw Drop{std::string("the node answered getaddr with a bad list: ") + e.what()};
        }
        const bool peer_v2 = m_reported_version.send_addrv2;
        Send(p2p::UnknownMessage{std::string(peer_v2 ? p2p::command::ADDRV2 : p2p::command::ADDR),
                                 p2p::EncodeAddrPayload(addresses, peer_v2)});
        return true;
    }
    try {
        p2p::DecodeAddrPayload(raw.payload, v2);
    } catch (const p2p::AddrCountError& e) {
        // Core's Misbehaving: the node discourages the peer and the agent drops it, unless the node
        // protects it (manual, noban); the message is ignored either way.
        if (AskNode([&] { return m_events.Misbehaved(e.what()); })) {
            throw Drop{std::string("misbehaving: ") + e.what()};
        }
        return true;
    } catch (const p2p::ProtocolError& e) {
        throw Drop{e.what()};
    }
    AskNode([&] { m_events.AddressesReceived(v2, raw.payload); });
    return true;
}

void PeerEngine::RequestAddresses()
{
    Post([this] {
        if (m_handshake_done) Send(p2p::UnknownMessage{std::string(p2p::command::GETADDR), {}});
    });
}

void PeerEngine::SendAddresses(std::vector<uint8_t> addrv2_payload)
{
    // Decoded here, on the caller's thread: a bad list from the node is an error to the node's call.
    auto addresses = p2p::DecodeAddrPayload(addrv2_payload, true);
    Post([this, addresses = std::move(addresses)] {
        if (!m_handshake_done || addresses.empty()) return;
        const bool peer_v2 = m_reported_version.send_addrv2;
        Send(p2p::UnknownMessage{std::string(peer_v2 ? p2p::command::ADDRV2 : p2p::command::ADDR),
                                 p2p::EncodeAddrPayload(addresses, peer_v2)});
    });
}

} // namespace orrery::p2p_agent
