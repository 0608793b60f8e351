// The node's half of address relay and its automatic outbound connections
// (doc/addrman.md): what agents report of addr/addrv2/getaddr, the address
// book's file, and the maintenance round that keeps 8 full-relay and 2
// block-relay-only outbound peers, makes feeler connections and fetches
// addresses from -seednode peers, as Bitcoin Core's ThreadOpenConnections.
#include <services/node/node.h>

#include <common/crypto/hash.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/util/fs.h>
#include <common/util/host_port.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>
#include <common/util/net_permissions.h>

#include <algorithm>
#include <condition_variable>
#include <netdb.h>
#include <set>
#include <thread>

namespace orrery::node {
namespace {

//! Core's address rate limit: 0.1 addresses a second per peer, at most 1,000 in the bucket.
constexpr double MAX_ADDR_RATE_PER_SECOND = 0.1;
constexpr double MAX_ADDR_PROCESSING_TOKEN_BUCKET = double(MAX_ADDR_TO_SEND);
//! An addr-fetch peer that has not answered by then is dropped (Core: 10 x the 30 s broadcast interval).
constexpr int64_t ADDR_FETCH_TIMEOUT_SECONDS = 300;
constexpr uint64_t NODE_NETWORK = 1;
constexpr uint64_t NODE_WITNESS = 1 << 3;
constexpr uint64_t NODE_NETWORK_LIMITED = 1 << 10;

//! Ports Core will not dial early on (IsBadPort): services that must not be probed by Bitcoin nodes.
bool IsBadPort(uint16_t port)
{
    static constexpr uint16_t BAD[] = {
        1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,   23,   25,   37,   42,   43,
        53,   69,   77,   79,   87,   95,   101,  102,  103,  104,  109,  110,  111,  113,  115,  117,
        119,  123,  135,  137,  139,  143,  161,  179,  389,  427,  465,  512,  513,  514,  515,  526,
        530,  531,  532,  540,  548,  554,  556,  563,  587,  601,  636,  989,  990,  993,  995,  1719,
        1720, 1723, 2049, 3659, 4045, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697, 10080};
    return std::find(std::begin(BAD), std::end(BAD), port) != std::end(BAD);
}

//! Core's DNS seeds of each network (chainparams.cpp); regtest has none.
std::vector<std::string> DnsSeeds(ChainType chain)
{
    switch (chain) {
    case ChainType::MAIN:
        return {"seed.bitcoin.sipa.be.",   "dnsseed.bluematt.me.",        "seed.bitcoin.jonasschnelli.ch.",
                "seed.btc.petertodd.net.", "seed.bitcoin.sprovoost.nl.",  "dnsseed.emzy.de.",
                "seed.bitcoin.wiz.biz.",   "seed.mainnet.achownodes.xyz."};
    case ChainType::TESTNET:
        return {"testnet-seed.bitcoin.jonasschnelli.ch.", "seed.tbtc.petertodd.net.",
                "seed.testnet.bitcoin.sprovoost.nl.", "testnet-seed.bluematt.me.", "seed.testnet.achownodes.xyz."};
    case ChainType::TESTNET4:
        return {"seed.testnet4.bitcoin.sprovoost.nl.", "seed.testnet4.wiz.biz."};
    case ChainType::SIGNET:
        return {"seed.signet.bitcoin.sprovoost.nl.", "seed.signet.achownodes.xyz."};
    default:
        return {};
    }
}

uint32_t MessageStart(const ChainParams& params)
{
    return uint32_t{params.message_start[0]} | uint32_t{params.message_start[1]} << 8 |
           uint32_t{params.message_start[2]} << 16 | uint32_t{params.message_start[3]} << 24;
}

bool RelaysAddresses(const std::string& connection_type)
{
    return connection_type != "block-relay-only" && connection_type != "feeler";
}

} // namespace

// ---------------------------------------------------------------- peers.dat

std::filesystem::path NodeService::PeersDatPath() const
{
    return m_config.data_dir.empty() ? std::filesystem::path{} : m_config.data_dir / "peers.dat";
}

void NodeService::LoadAddresses()
{
    const bool allow_local = m_config.chain == ChainType::REGTEST;
    std::random_device random;
    std::array<uint8_t, 32> key;
    for (auto& byte : key) byte = uint8_t(random());
    const uint64_t seed = (uint64_t(random()) << 32) | random();
    m_addr_rng.seed(seed);
    m_relay_key[0] = (uint64_t(random()) << 32) | random();
    m_relay_key[1] = (uint64_t(random()) << 32) | random();
    m_addrman = std::make_unique<AddrMan>(key, seed, allow_local);
    const auto path = PeersDatPath();
    std::error_code ec;
    if (path.empty() || !std::filesystem::exists(path, ec)) return;
    std::string error = "cannot read the file";
    if (auto text = ReadFileToString(path)) {
        const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text->data()), text->size());
        if (auto book = AddrMan::Deserialize(bytes, MessageStart(m_params), seed, allow_local, error)) {
            *m_addrman = std::move(*book);
            LogPrintf("Loaded {} addresses from peers.dat ({} new, {} tried)", m_addrman->Size(),
                      m_addrman->Size(std::nullopt, true), m_addrman->Size(std::nullopt, false));
            return;
        }
    }
    // A damaged book is no reason not to start: it is kept aside for a look, and the node starts empty.
    auto aside = path;
    aside += ".bad";
    std::filesystem::rename(path, aside, ec);
    LogPrintf("Error: invalid or corrupt peers.dat ({}); moved it to {}{} and starting with an empty address book",
              error, aside.string(), ec ? " (failed: " + ec.message() + ")" : std::string());
}

void NodeService::SaveAddresses(bool force)
{
    const auto path = PeersDatPath();
    if (path.empty() || !m_addrman) return;
    std::vector<uint8_t> bytes;
    {
        std::lock_guard lock(m_addr_mutex);
        const auto now = std::chrono::steady_clock::now();
        if (!m_addr_dirty && !force) return;
        if (!force && now - m_addr_saved < m_config.addr_dump_interval) return;
        bytes = m_addrman->Serialize(MessageStart(m_params));
        m_addr_dirty = false;
        m_addr_saved = now;
    }
    // Temp file, fsync, rename: a crash leaves the old book or the new one, never half of one.
    if (auto error =
            WritePrivateFile(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))) {
        LogPrintf("Error: cannot write peers.dat: {}", *error);
        return;
    }
    LogDebug(LogCategory::NET, "Wrote {} bytes to peers.dat", bytes.size());
}

// ---------------------------------------------------------------- PeerHost: addresses

void NodeService::addressesReceived(int64_t peer_id, bool addrv2, std::vector<uint8_t> payload)
{
    RequireOwnPeer(peer_id);
    std::vector<p2p::PeerAddress> addresses;
    try {
        addresses = p2p::DecodeAddrPayload(payload, addrv2);
    } catch (const p2p::ProtocolError& e) {
        throw std::runtime_error(std::string("addresses: ") + e.what()); // the agent broke the contract
    }
    const int64_t now = GetTime();
    const int64_t now_us = GetTimeMicros();
    std::vector<p2p::PeerAddress> relay;
    bool fetch_done = false;
    size_t processed = 0;
    {
        std::lock_guard lock(m_mutex);
        auto entry = m_peers.Find(peer_id);
        if (!entry || !entry->handshake_done) return;
        if (!RelaysAddresses(entry->connection_type)) {
            LogDebug(LogCategory::NET, "ignoring {} addresses from {} peer={}", addresses.size(),
                     entry->connection_type, peer_id);
            return;
        }
        auto source = p2p::ParsePeerAddress(entry->address).value_or(p2p::PeerAddress{});
        std::lock_guard addr_lock(m_addr_mutex);
        AddrPeerState& state = m_addr_peers[peer_id];
        state.relay_enabled = true;
        // Core's token bucket: a peer gets 0.1 addresses a second, more after our getaddr.
        if (state.tokens < MAX_ADDR_PROCESSING_TOKEN_BUCKET) {
            const double elapsed = double(std::max<int64_t>(now_us - state.tokens_time_us, 0)) / 1e6;
            state.tokens =
                std::min(state.tokens + elapsed * MAX_ADDR_RATE_PER_SECOND, MAX_ADDR_PROCESSING_TOKEN_BUCKET);
        }
        state.tokens_time_us = now_us;
        const bool rate_limited = !HasPermission(entry->permissions, PF_ADDR);
        std::shuffle(addresses.begin(), addresses.end(), m_addr_rng);
        std::vector<p2p::PeerAddress> keep;
        for (p2p::PeerAddress& address : addresses) {
            if (state.tokens < 1.0) {
                if (rate_limited) {
                    ++state.rate_limited;
                    continue;
                }
            } else {
                state.tokens -= 1.0;
            }
            // Only full nodes' addresses are worth keeping.
            if (!(address.services & (NODE_NETWORK | NODE_NETWORK_LIMITED))) continue;
            if (address.time <= 100000000 || int64_t(address.time) > now + 10 * 60) {
                address.time = uint32_t(now - 5 * 24 * 60 * 60);
            }
            const std::string host = address.HostString();
            if (m_peers.IsBanned(host, now) || m_peers.IsDiscouraged(host)) continue;
            ++processed;
            if (int64_t(address.time) > now - 10 * 60 && !state.getaddr_sent && addresses.size() <= 10 &&
                address.IsRoutable()) {
                relay.push_back(address);
            }
            if (address.IsIPv4() || address.IsIPv6()) keep.push_back(address);
        }
        state.processed += processed;
        if (m_addrman->Add(keep, source, ADDR_TIME_PENALTY, now) > 0) m_addr_dirty = true;
        if (addresses.size() < MAX_ADDR_TO_SEND) state.getaddr_sent = false;
        // Core: more than one address, so a peer's announcement of itself does not end the fetch.
        fetch_done = entry->connection_type == "addr-fetch" && addresses.size() > 1;
        if (fetch_done) QueueDisconnect(peer_id, "addrfetch connection completed");
    }
    LogDebug(LogCategory::NET, "{} addresses from peer={}, {} processed", addresses.size(), peer_id, processed);
    for (const auto& address : relay) RelayAddress(peer_id, address);
    if (fetch_done) {
        LogPrintf("addrfetch connection completed peer={}; disconnecting", peer_id);
        Wake();
    }
}

std::optional<std::vector<uint8_t>> NodeService::getAddresses(int64_t peer_id)
{
    RequireOwnPeer(peer_id);
    const int64_t now = GetTime();
    std::vector<p2p::PeerAddress> addresses;
    {
        std::lock_guard lock(m_mutex);
        auto entry = m_peers.Find(peer_id);
        if (!entry || !entry->handshake_done) return std::nullopt;
        // Core answers inbound peers only: an outbound peer's getaddr could fingerprint us.
        if (!entry->inbound) {
            LogDebug(LogCategory::NET, "Ignoring \"getaddr\" from {} connection. peer={}", entry->connection_type,
                     peer_id);
            return std::nullopt;
        }
        std::lock_guard addr_lock(m_addr_mutex);
        AddrPeerState& state = m_addr_peers[peer_id];
        if (state.getaddr_answered) {
            LogDebug(LogCategory::NET, "Ignoring repeated \"getaddr\". peer={}", peer_id);
            return std::nullopt;
        }
        state.getaddr_answered = true;
        state.relay_enabled = true;
        for (auto& address : m_addrman->GetAddr(MAX_ADDR_TO_SEND, MAX_PCT_ADDR_TO_SEND, std::nullopt, now)) {
            const std::string host = address.HostString();
            if (!m_peers.IsBanned(host, now) && !m_peers.IsDiscouraged(host)) addresses.push_back(std::move(address));
        }
    }
    LogDebug(LogCategory::NET, "answering getaddr of peer={} with {} addresses", peer_id, addresses.size());
    return p2p::EncodeAddrPayload(addresses, true);
}

bool NodeService::peerMisbehaved(int64_t peer_id, std::string reason)
{
    RequireOwnPeer(peer_id);
    return Misbehaving(peer_id, reason);
}

void NodeService::RelayAddress(int64_t from_peer, const p2p::PeerAddress& address)
{
    // Core's choice: the same two peers for a given address for a day, keyed so no one can predict them.
    std::vector<uint8_t> id_bytes(address.ip);
    id_bytes.push_back(uint8_t(address.port >> 8));
    id_bytes.push_back(uint8_t(address.port));
    const uint64_t hash_address = crypto::SipHash24(0, 0, id_bytes);
    const uint64_t period = (uint64_t(GetTime()) + hash_address) / (24 * 60 * 60);
    std::vector<std::pair<uint64_t, int64_t>> ranked;
    {
        std::lock_guard lock(m_addr_mutex);
        for (const auto& [id, state] : m_addr_peers) {
            if (id == from_peer || !state.relay_enabled || !state.handshake_done) continue;
            uint8_t data[24];
            for (int i = 0; i < 8; ++i) {
                data[i] = uint8_t(hash_address >> (8 * i));
                data[8 + i] = uint8_t(period >> (8 * i));
                data[16 + i] = uint8_t(uint64_t(id) >> (8 * i));
            }
            ranked.emplace_back(crypto::SipHash24(m_relay_key[0], m_relay_key[1], data), id);
        }
    }
    std::sort(ranked.rbegin(), ranked.rend());
    const auto payload = p2p::EncodeAddrPayload({address}, true);
    for (size_t i = 0; i < ranked.size() && i < 2; ++i) CallAgent(ranked[i].second, "agent.sendAddresses", payload);
}

// ---------------------------------------------------------------- peers coming and going

void NodeService::AddressPeerReady(const PeerEntry& entry)
{
    const auto address = p2p::ParsePeerAddress(entry.address);
    const std::string& type = entry.connection_type;
    const bool ask = type == "outbound-full-relay" || type == "manual" || type == "addr-fetch";
    {
        std::lock_guard lock(m_addr_mutex);
        AddrPeerState& state = m_addr_peers[entry.id];
        state.address = entry.address;
        state.connection_type = type;
        state.handshake_done = true;
        state.tokens_time_us = GetTimeMicros();
        // A connection that worked: the address goes to the tried table (Core does so for every outbound one).
        if (!entry.inbound && address) {
            m_addrman->Good(*address, GetTime());
            m_addr_dirty = true;
        }
        if (ask) {
            state.relay_enabled = true;
            state.getaddr_sent = true;
            state.tokens += MAX_ADDR_TO_SEND; // the answer may be large
        }
    }
    if (ask) CallAgent(entry.id, "agent.requestAddresses");
    if (type == "feeler") {
        // A feeler only checks that the address answers.
        {
            std::lock_guard lock(m_mutex);
            QueueDisconnect(entry.id, "feeler connection completed");
        }
        LogDebug(LogCategory::NET, "feeler connection completed peer={}; disconnecting", entry.id);
        Wake();
    }
}

void NodeService::ForgetGoneAddressPeers()
{
    const int64_t now = GetTime();
    std::set<int64_t> present;
    std::vector<PeerEntry> stale_fetch;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& entry : m_peers.Connected()) {
            present.insert(entry.id);
            if (entry.connection_type == "addr-fetch" && now - entry.conn_time > ADDR_FETCH_TIMEOUT_SECONDS) {
                QueueDisconnect(entry.id, "addr-fetch timeout");
                stale_fetch.push_back(entry);
            }
        }
    }
    for (const auto& entry : stale_fetch) LogPrintf("Peer {} ({}): addr-fetch timeout", entry.id, entry.address);
    std::lock_guard lock(m_addr_mutex);
    for (auto it = m_addr_peers.begin(); it != m_addr_peers.end();) {
        if (present.count(it->first)) {
            ++it;
            continue;
        }
        const AddrPeerState& state = it->second;
        // Core's Connected: a full outbound connection that ends refreshes the address's time.
        if (state.handshake_done && state.connection_type != "inbound" && RelaysAddresses(state.connection_type)) {
            if (auto address = p2p::ParsePeerAddress(state.address)) m_addrman->Connected(*address, now);
        }
        it = m_addr_peers.erase(it);
    }
}

// ---------------------------------------------------------------- automatic outbound connections

void NodeService::OpenAutomaticConnections()
{
    if (!m_config.automatic_outbound) return;
    // -seednode: one addr-fetch connection per round, as Core's ProcessAddrFetch.
    std::optional<std::string> fetch;
    {
        std::lock_guard lock(m_addr_mutex);
        if (!m_addr_fetch.empty()) {
            fetch = m_addr_fetch.front();
            m_addr_fetch.pop_front();
        }
    }
    if (fetch) {
        bool connected = false;
        {
            std::lock_guard lock(m_mutex);
            connected = m_peers.HasPeerAtAddress(*fetch);
        }
        if (!connected) {
            if (auto failure = OpenOutbound(*fetch, "addr-fetch")) {
                LogPrintf("Cannot ask seed node {} for addresses: {}", *fetch, *failure);
            } else {
                LogPrintf("Asking seed node {} for addresses", *fetch);
            }
        }
    }

    const int64_t now = GetTime();
    int full = 0, block = 0, feelers = 0, connected = 0;
    std::set<std::string> addresses;
    std::set<std::vector<uint8_t>> groups;
    {
        std::lock_guard lock(m_mutex);
        std::lock_guard addr_lock(m_addr_mutex);
        for (const auto& entry : m_peers.Outbound()) {
            addresses.insert(entry.address);
            if (entry.registered) ++connected;
            if (entry.connection_type == "outbound-full-relay") ++full;
            if (entry.connection_type == "block-relay-only") ++block;
            if (entry.connection_type == "feeler") ++feelers;
            // Core: automatic outbound peers each from a network group of its own.
            if (entry.connection_type != "manual") {
                if (auto address = p2p::ParsePeerAddress(entry.address)) groups.insert(m_addrman->Group(*address));
            }
        }
    }
    const int max_full = std::min(MAX_OUTBOUND_FULL_RELAY_CONNECTIONS, m_config.max_connections);
    const int max_block = std::min(MAX_BLOCK_RELAY_ONLY_CONNECTIONS, m_config.max_connections - max_full);
    std::string type;
    std::optional<p2p::PeerAddress> chosen;
    {
        std::lock_guard lock(m_mutex);
        std::lock_guard addr_lock(m_addr_mutex);
        // Core's exponential spacing around FEELER_INTERVAL, on the mockable clock, the first one after start.
        const int64_t now_us = GetTimeMicros();
        const auto next_feeler = [&] {
            std::exponential_distribution<double> spacing(1.0);
            const auto interval_us = std::chrono::duration_cast<std::chrono::microseconds>(m_config.feeler_interval);
            return now_us + static_cast<int64_t>(static_cast<double>(interval_us.count()) * spacing(m_addr_rng));
        };
        if (m_next_feeler_us == 0) m_next_feeler_us = next_feeler();
        if (full < max_full) {
            type = "outbound-full-relay";
        } else if (block < max_block) {
            type = "block-relay-only";
        } else if (feelers < MAX_FEELER_CONNECTIONS && now_us >= m_next_feeler_us) {
            type = "feeler";
            m_next_feeler_us = next_feeler();
        } else {
            return;
        }
        if (m_addrman->Size() == 0) return;
        const bool feeler = type == "feeler";
        // Core tries 100 times; a small book (a test's) is exhausted sooner, and each try costs a bucket walk.
        const int max_tries = int(std::min<size_t>(100, 2 * m_addrman->Size() + 10));
        for (int tries = 0; tries < max_tries && !chosen; ++tries) {
            auto selected = m_addrman->Select(feeler, std::nullopt, now);
            if (!selected) break;
            const auto& [address, last_try] = *selected;
            if (addresses.count(address.ToString())) continue;
            if (!feeler && groups.count(m_addrman->Group(address))) continue;
            if (now - last_try < 10 * 60 && tries < 30) continue; // tried recently: others first
            if (!feeler && (address.services & (NODE_NETWORK | NODE_WITNESS)) != (NODE_NETWORK | NODE_WITNESS)) {
                continue;
            }
            if (feeler && !(address.services & (NODE_NETWORK | NODE_NETWORK_LIMITED))) continue;
            if (tries < 50 && IsBadPort(address.port)) continue;
            const std::string host = address.HostString();
            if (m_peers.IsBanned(host, now) || m_peers.IsDiscouraged(host)) continue;
            chosen = address;
        }
        if (!chosen) return;
        // Failures count once we have peers: then the network works and the address is at fault.
        m_addrman->Attempt(*chosen, connected >= 2, now);
        m_addr_dirty = true;
    }
    const std::string target = chosen->ToString();
    if (auto failure = OpenOutbound(target, type)) {
        LogDebug(LogCategory::NET, "Cannot open a {} connection to {}: {}", type, target, *failure);
    } else {
        LogDebug(LogCategory::NET, "Opening a {} connection to {}", type, target);
    }
}

// ---------------------------------------------------------------- DNS seeds

void NodeService::QueryDnsSeeds()
{
    const std::vector<std::string> seeds = DnsSeeds(m_config.chain);
    if (seeds.empty()) return;
    {
        // Core gives addresses already known 11 s to connect before it asks the seeds.
        std::unique_lock lock(m_thread_mutex);
        if (m_thread_cv.wait_for(lock, std::chrono::seconds{11}, [this] { return m_stopping; })) return;
    }
    {
        std::lock_guard lock(m_addr_mutex);
        if (m_addrman->Size() > 0) {
            LogPrintf("P2P peers available. Skipped DNS seeding.");
            return;
        }
    }
    const int64_t now = GetTime();
    size_t found = 0;
    for (const std::string& seed : seeds) {
        // The lookup runs on a thread of its own, holding only its own state: a resolver that does not
        // answer must not hold up the node's stop (this thread gives up on it then).
        struct Lookup {
            std::mutex mutex;
            std::condition_variable cv;
            bool done{false};
            std::vector<std::string> hosts;
        };
        auto lookup = std::make_shared<Lookup>();
        std::thread([lookup, seed] {
            addrinfo hints{};
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* result = nullptr;
            std::vector<std::string> hosts;
            if (::getaddrinfo(seed.c_str(), nullptr, &hints, &result) == 0) {
                for (addrinfo* ai = result; ai; ai = ai->ai_next) {
                    char host[NI_MAXHOST];
                    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) ==
                        0) {
                        hosts.emplace_back(host);
                    }
                }
                ::freeaddrinfo(result);
            }
            std::lock_guard lock(lookup->mutex);
            lookup->hosts = std::move(hosts);
            lookup->done = true;
            lookup->cv.notify_all();
        }).detach();
        std::vector<std::string> hosts;
        for (;;) {
            {
                std::lock_guard lock(m_thread_mutex);
                if (m_stopping) return;
            }
            std::unique_lock lock(lookup->mutex);
            if (lookup->cv.wait_for(lock, std::chrono::milliseconds{200}, [&] { return lookup->done; })) {
                hosts = lookup->hosts;
                break;
            }
        }
        std::vector<p2p::PeerAddress> addresses;
        for (const std::string& host : hosts) {
            auto address = p2p::ParsePeerAddress(FormatHostPort(host, m_params.default_port));
            if (!address) continue;
            address->services = NODE_NETWORK | NODE_WITNESS;
            addresses.push_back(*address);
        }
        if (addresses.empty()) continue;
        std::lock_guard lock(m_addr_mutex);
        // As Core: seen three to seven days ago.
        for (auto& address : addresses) {
            address.time = uint32_t(now - 3 * 24 * 3600 - int64_t(m_addr_rng() % (4 * 24 * 3600)));
        }
        found += m_addrman->Add(addresses, addresses.front(), 0, now);
        m_addr_dirty = true;
    }
    LogPrintf("{} addresses found from DNS seeds", found);
}

// ---------------------------------------------------------------- what the RPC methods use

std::vector<p2p::PeerAddress> NodeService::GetNodeAddresses(size_t count, std::optional<p2p::Network> network)
{
    std::lock_guard lock(m_addr_mutex);
    return m_addrman->GetAddr(count, 0, network, GetTime());
}

std::string NodeService::AddPeerAddress(const p2p::PeerAddress& address, bool tried)
{
    std::string error;
    {
        std::lock_guard lock(m_addr_mutex);
        const int64_t now = GetTime();
        if (m_addrman->Add({address}, address, 0, now) == 0) {
            error = "failed-adding-to-new";
        } else if (tried && !m_addrman->Good(address, now)) {
            error = "failed-adding-to-tried";
        }
        m_addr_dirty = true;
    }
    SaveAddresses(/*force=*/true);
    return error;
}

std::map<std::string, std::pair<size_t, size_t>> NodeService::AddrManCounts()
{
    std::lock_guard lock(m_addr_mutex);
    std::map<std::string, std::pair<size_t, size_t>> counts;
    for (p2p::Network n :
         {p2p::Network::IPV4, p2p::Network::IPV6, p2p::Network::TORV3, p2p::Network::I2P, p2p::Network::CJDNS}) {
        counts[std::string(p2p::NetworkName(n))] = {m_addrman->Size(n, true), m_addrman->Size(n, false)};
    }
    counts["all_networks"] = {m_addrman->Size(std::nullopt, true), m_addrman->Size(std::nullopt, false)};
    return counts;
}

NodeService::AddrRelayStats NodeService::AddrStats(int64_t peer_id)
{
    std::lock_guard lock(m_addr_mutex);
    auto it = m_addr_peers.find(peer_id);
    if (it == m_addr_peers.end()) return {};
    return {it->second.relay_enabled, it->second.processed, it->second.rate_limited};
}

} // namespace orrery::node
