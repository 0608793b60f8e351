// orrery-node's service: the Node and PeerHost interfaces over the chain view
// and the peer table, the connection to orreryd for outbound peers, and the
// process's run loop.
#include <services/node/node.h>

#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/node_ipc.h>
#include <common/interfaces/peer_host_ipc.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/protocol.h>
#include <common/rpc/router_link.h>
#include <common/service/service.h>
#include <common/util/host_port.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>
#include <common/util/net_permissions.h>
#include <common/util/options.h>
#include <common/util/user_agent.h>
#include <services/node/chain_service.h>
#include <services/node/rpc/rpc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <limits>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace orrery::node {
namespace {

//! The exit status once the chainstate asked to stop: EXIT_NO_RESTART after a fatal disk error, EXIT_STOP_ORRERY
//! at -stopatheight; 0 otherwise.
std::atomic<int> g_exit_status{0};

//! The node's clock: setmocktime and -mocktime pin it (common/util/mock_time.h).
int64_t UnixTime()
{
    return GetTime();
}

//! One orrery-node per datadir and network: a second would fight over blocks/ and chainstate/.
int LockFile(const std::filesystem::path& path)
{
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

// ---------------------------------------------------------------- options

void AddArgs(ArgsManager& args)
{
    AddOptions(args, PROCESS_NODE);
    args.AddArg("-supervisorconnect=<endpoint>",
                "Where orreryd serves Supervisor, to ask it for outbound connections (default: "
                "ipc://<net>/run/supervisor.sock)",
                ARG_NETWORK_ONLY);
    args.AddArg("-rpcrouterconnect=<endpoint>",
                "Where orrery-gui-bridge serves RpcRouter, to offer the node's RPC methods (default: "
                "ipc://<net>/run/rpc-router.sock)",
                ARG_NETWORK_ONLY);
}

namespace {

//! -testactivationheight=name@height values into regtest's options (bitcoind's names and messages).
RegtestOptions ParseActivationHeights(const std::vector<std::string>& values)
{
    RegtestOptions options;
    for (const std::string& value : values) {
        const auto at = value.find('@');
        if (at == std::string::npos) {
            throw std::runtime_error("Invalid format (" + value + ") for -testactivationheight=name@height.");
        }
        const std::string name = value.substr(0, at);
        const std::string height_text = value.substr(at + 1);
        int height = -1;
        auto [ptr, ec] = std::from_chars(height_text.data(), height_text.data() + height_text.size(), height);
        if (ec != std::errc{} || ptr != height_text.data() + height_text.size() || height < 0 ||
            height >= std::numeric_limits<int>::max()) {
            throw std::runtime_error("Invalid height value (" + value + ") for -testactivationheight=name@height.");
        }
        if (name == "bip34") {
            options.bip34_height = height;
        } else if (name == "dersig") {
            options.bip66_height = height;
        } else if (name == "cltv") {
            options.bip65_height = height;
        } else if (name == "csv") {
            options.csv_height = height;
        } else if (name == "segwit") {
            options.segwit_height = height;
        } else {
            throw std::runtime_error("Invalid name (" + value + ") for -testactivationheight=name@height.");
        }
    }
    return options;
}

//! The chainstate's options: -dbcache, -par, -prune, -txindex, -reindex, -loadblock, -blocksdir, ...
void ReadChainstateOptions(const ArgsManager& args, NodeConfig& config)
{
    ChainstateOptions& options = config.chainstate;
    const std::vector<std::string> activation = args.GetArgs("testactivationheight");
    if (!activation.empty()) {
        if (config.chain != ChainType::REGTEST) {
            throw std::runtime_error("-testactivationheight can only be used on regtest");
        }
        config.regtest = ParseActivationHeights(activation);
    }
    options.data_dir = config.data_dir;
    std::filesystem::path blocks_base = config.data_dir;
    if (args.IsArgSet("blocksdir")) {
        const std::filesystem::path dir = std::filesystem::absolute(args.GetArg("blocksdir", ""));
        if (!std::filesystem::is_directory(dir)) {
            throw std::runtime_error("Specified blocks directory \"" + dir.string() + "\" does not exist.");
        }
        blocks_base = args.GetDataDirNet() == args.GetDataDirBase() ? dir : dir / args.GetDataDirNet().filename();
    }
    options.blocks_dir = blocks_base / "blocks";
    // bitcoind's bounds: at least 4 MiB of cache.
    const int64_t dbcache_mib = std::clamp<int64_t>(args.GetIntArg("dbcache", 450), 4, int64_t{1} << 20);
    options.dbcache_bytes = static_cast<size_t>(dbcache_mib) << 20;
    options.db_batch_bytes = static_cast<size_t>(std::max<int64_t>(args.GetIntArg("dbbatchsize", 16 << 20), 1));
    // -par: 0 = one per core, negative = leave that many cores free; the calling thread counts as one.
    int64_t par = args.GetIntArg("par", 0);
    const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    if (par <= 0) par += cores;
    par = std::clamp<int64_t>(par, 1, 15);
    options.script_threads = static_cast<int>(par - 1);
    if (args.IsArgSet("assumevalid") && !args.IsArgNegated("assumevalid")) {
        const std::string value = args.GetArg("assumevalid", "");
        if (value != "0") {
            auto hash = uint256::FromHex(value);
            if (!hash) throw std::runtime_error("Invalid -assumevalid value: " + value);
            options.assume_valid = *hash;
        }
    }
    options.txindex = args.GetBoolArg("txindex", false);
    const int64_t prune = args.GetIntArg("prune", 0);
    if (prune < 0) throw std::runtime_error("Prune cannot be configured with a negative value.");
    if (prune == 1) {
        options.prune_target_bytes = 1;
    } else if (prune > 1) {
        if (prune < 550) {
            throw std::runtime_error("Prune configured below the minimum of 550 MiB.  Please use a higher number.");
        }
        options.prune_target_bytes = static_cast<uint64_t>(prune) << 20;
    }
    if (options.prune_target_bytes > 0 && options.txindex) {
        throw std::runtime_error("Prune mode is incompatible with -txindex.");
    }
    options.reindex = args.GetBoolArg("reindex", false);
    options.reindex_chainstate = args.GetBoolArg("reindex-chainstate", false);
    for (const std::string& file : args.GetArgs("loadblock")) options.load_block_files.emplace_back(file);
    options.stop_at_height = static_cast<int>(std::max<int64_t>(args.GetIntArg("stopatheight", 0), 0));
    if (args.GetBoolArg("fastprune", false)) options.max_block_file_size = 0x10000;
    // As bitcoind: the level is clamped to 0-4; 0 or fewer blocks, or more than the chain has, mean all of them.
    config.check_level = static_cast<int>(std::clamp<int64_t>(args.GetIntArg("checklevel", DEFAULT_CHECKLEVEL), 0, 4));
    config.check_blocks = static_cast<int>(
        std::clamp<int64_t>(args.GetIntArg("checkblocks", DEFAULT_CHECKBLOCKS), 0, std::numeric_limits<int>::max()));
}

//! The mempool's options, with bitcoind's names, defaults and errors.
void ReadMempoolOptions(const ArgsManager& args, NodeConfig& config)
{
    MempoolOptions& options = config.mempool;
    auto money = [&](const char* name, FeeRate fallback) {
        if (!args.IsArgSet(name)) return fallback;
        const std::string value = args.GetArg(name, "");
        auto amount = ParseMoney(value);
        if (!amount) throw std::runtime_error(fmt::format("Invalid amount for -{}=<amount>: '{}'", name, value));
        return FeeRate(*amount);
    };
    options.min_relay_fee = money("minrelaytxfee", FeeRate(DEFAULT_MIN_RELAY_TX_FEE));
    options.incremental_relay_fee = money("incrementalrelayfee", FeeRate(DEFAULT_INCREMENTAL_RELAY_FEE));
    options.standard.dust_relay_fee = money("dustrelayfee", FeeRate(DUST_RELAY_TX_FEE));
    options.bytes_per_sigop = std::max<int64_t>(args.GetIntArg("bytespersigop", DEFAULT_BYTES_PER_SIGOP), 0);
    options.standard.datacarrier = args.GetBoolArg("datacarrier", true);
    options.standard.max_datacarrier_bytes =
        options.standard.datacarrier
            ? static_cast<size_t>(std::max<int64_t>(args.GetIntArg("datacarriersize", MAX_OP_RETURN_RELAY), 0))
            : 0;
    options.standard.permit_bare_multisig = args.GetBoolArg("permitbaremultisig", true);
    options.require_standard = !args.GetBoolArg("acceptnonstdtxn", false);
    if (!options.require_standard && config.chain == ChainType::MAIN) {
        throw std::runtime_error("acceptnonstdtxn is not currently supported for main chain");
    }
    options.ancestor_count = args.GetIntArg("limitancestorcount", DEFAULT_ANCESTOR_LIMIT);
    options.ancestor_size_vbytes = args.GetIntArg("limitancestorsize", DEFAULT_ANCESTOR_SIZE_LIMIT_KVB) * 1000;
    options.descendant_count = args.GetIntArg("limitdescendantcount", DEFAULT_DESCENDANT_LIMIT);
    options.descendant_size_vbytes = args.GetIntArg("limitdescendantsize", DEFAULT_DESCENDANT_SIZE_LIMIT_KVB) * 1000;
    options.max_size_bytes = args.GetIntArg("maxmempool", DEFAULT_MAX_MEMPOOL_SIZE_MB) * 1'000'000;
    // Core: the mempool must hold at least 40 descendant packages of the largest size.
    const int64_t min_size_mb = (options.descendant_size_vbytes * 40 + 999'999) / 1'000'000;
    if (options.max_size_bytes < min_size_mb * 1'000'000) {
        throw std::runtime_error(fmt::format("-maxmempool must be at least {} MB", min_size_mb));
    }
    options.expiry =
        std::chrono::hours{std::max<int64_t>(args.GetIntArg("mempoolexpiry", DEFAULT_MEMPOOL_EXPIRY_HOURS), 0)};
    options.full_rbf = args.GetBoolArg("mempoolfullrbf", true);
    options.persist = args.GetBoolArg("persistmempool", true);
    options.persist_v1 = args.GetBoolArg("persistmempoolv1", false);
    if (options.incremental_relay_fee.PerKvB() < 0 || options.min_relay_fee.PerKvB() < 0) {
        throw std::runtime_error("Invalid amount for a relay fee rate");
    }
}

} // namespace

NodeConfig MakeNodeConfig(const ArgsManager& args)
{
    NodeConfig config;
    config.chain = ChainTypeFromString(args.GetChain()).value_or(ChainType::MAIN);
    config.max_connections = static_cast<int>(
        std::clamp<int64_t>(args.GetIntArg("maxconnections", DEFAULT_MAX_PEER_CONNECTIONS), 0, 100000));
    for (const auto& address : args.GetArgs("connect")) {
        if (!address.empty() && address != "0") config.connect.push_back(address);
    }
    // As in bitcoind, -connect means "only these peers" (-connect=0: none): no listening unless asked for.
    config.listen = args.GetBoolArg("listen", args.GetArgs("connect").empty());
    config.ban_time_seconds =
        std::clamp<int64_t>(args.GetIntArg("bantime", DEFAULT_BAN_TIME_SECONDS), 1, MAX_BAN_UNTIL);
    config.add_nodes = args.GetArgs("addnode");
    // As bitcoind: -connect (even -connect=0) turns off automatic connections and the DNS seeds.
    config.seed_nodes = args.GetArgs("seednode");
    config.automatic_outbound = !args.IsArgSet("connect") && config.max_connections > 0;
    config.dns_seed = args.GetBoolArg("dnsseed", !args.IsArgSet("connect"));
    std::string error;
    auto user_agent = MakeUserAgent(args.GetArgs("uacomment"), error);
    if (!user_agent) throw std::runtime_error(error);
    config.user_agent = *user_agent;
    const bool relay = args.GetBoolArg("whitelistrelay", true);
    const bool force_relay = args.GetBoolArg("whitelistforcerelay", false);
    for (const std::string& value : args.GetArgs("whitelist")) {
        auto parsed = ParseWhitelist(value, error);
        auto subnet = parsed ? ParseSubNet(parsed->address) : std::nullopt;
        if (!subnet)
            throw std::runtime_error(parsed ? "Invalid netmask specified in -whitelist: '" + value + "'" : error);
        config.whitelist.push_back(
            {*subnet, ResolveImplicit(parsed->flags, relay, force_relay), parsed->inbound, parsed->outbound});
    }
    for (const std::string& value : args.GetArgs("whitebind")) {
        auto parsed = ParseWhitebind(value, error);
        if (!parsed) throw std::runtime_error(error);
        config.whitebinds.push_back({parsed->address, ResolveImplicit(parsed->flags, relay, force_relay)});
    }
    config.supervisor_endpoint = args.GetArg("supervisorconnect", DefaultEndpoint(args, "supervisor"));
    config.supervised = args.IsArgSet("supervisorconnect");
    config.data_dir = args.GetDataDirNet();
    config.ipc_options.role = "node";
    config.ipc_options.interfaces = {"supervisor"};
    config.ipc_options.server_role = "orreryd";
    config.ipc_options.keys_dir = config.data_dir / "keys";
    config.ipc_options.max_message_size =
        static_cast<size_t>(args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
    ReadChainstateOptions(args, config);
    ReadMempoolOptions(args, config);
    config.blocks_only = args.GetBoolArg("blocksonly", false);
    config.max_orphan_txs = static_cast<size_t>(std::clamp<int64_t>(
        args.GetIntArg("maxorphantx", static_cast<int64_t>(DEFAULT_MAX_ORPHAN_TRANSACTIONS)), 0, 1'000'000));
    return config;
}

// ---------------------------------------------------------------- NodeService: life cycle

NodeService::NodeService(NodeConfig config)
    : m_config(std::move(config)),
      m_params(m_config.regtest && m_config.chain == ChainType::REGTEST ? MakeRegtestParams(*m_config.regtest)
                                                                        : GetChainParams(m_config.chain)),
      m_nonce_rng(std::random_device{}()),
      m_peers(m_config.max_connections, m_config.listen, [this] { return MakeNonce(); }),
      m_sync(std::chrono::seconds{m_params.consensus.pow_target_spacing}), m_relay(std::random_device{}()),
      m_processes(m_config.supervised ? std::make_shared<interfaces::OrrerydProcesses>(m_config.supervisor_endpoint,
                                                                                       m_config.ipc_options)
                                      : nullptr)
{
    for (const auto& address : m_config.add_nodes) m_peers.AddNode(address);
    LoadBans();
    LoadAddresses();
    m_addr_fetch.assign(m_config.seed_nodes.begin(), m_config.seed_nodes.end());
    ChainstateOptions options = m_config.chainstate;
    if (options.data_dir.empty()) options.data_dir = m_config.data_dir;
    if (options.blocks_dir.empty()) options.blocks_dir = options.data_dir / "blocks";
    if (!options.now) options.now = [] { return UnixTime(); };
    m_chainstate = std::make_unique<ChainstateManager>(m_params, std::move(options));
}

void NodeService::LoadChainstate()
{
    m_chainstate->Load();
    // bitcoind's VerifyDB at start; skipped when the chainstate was just rebuilt from the blocks, as there.
    const ChainstateOptions& chain_options = m_config.chainstate;
    if (!chain_options.reindex && !chain_options.reindex_chainstate &&
        !m_chainstate->VerifyChain(m_config.check_level, m_config.check_blocks)) {
        throw ChainstateLoadError(fmt::format("Corrupted block database detected: the check of the last {} blocks at "
                                              "level {} failed (the VerifyDB line before this one says where). "
                                              "Please restart with -reindex or -reindex-chainstate to recover.",
                                              m_config.check_blocks, m_config.check_level));
    }
    MempoolOptions options = m_config.mempool;
    if (options.data_dir.empty()) options.data_dir = m_config.data_dir;
    if (!options.now) options.now = [] { return UnixTime(); };
    m_mempool = std::make_unique<Mempool>(*m_chainstate, std::move(options));
    // Before anyone else listens: the mempool hears a block first, so listeners after it (Chain's wallets) see a
    // block's transactions leave the mempool before the block itself.
    m_mempool->Attach();
    // Relay hears every transaction entering the mempool, whatever brought it (doc/relay.md).
    m_relay_listener = MakeRelayMempoolListener(*this);
    m_mempool->RegisterListener(m_relay_listener);
    m_relay_chain_listener = MakeRelayChainListener(*this);
    m_chainstate->RegisterListener(m_relay_chain_listener);
    m_chainstate->Start();
    m_tip_announcer = MakeTipAnnouncer(*this);
    m_chainstate->RegisterListener(m_tip_announcer);
    m_chainstate_loaded = true;
}

void NodeService::LoadMempool()
{
    if (!m_mempool || m_mempool->IsLoaded()) return;
    try {
        m_mempool->Load();
    } catch (const std::exception& e) {
        LogPrintf("Loading mempool.dat failed: {}", e.what());
    }
}

NodeService::~NodeService()
{
    Stop();
}

void NodeService::Start()
{
    std::lock_guard lock(m_thread_mutex);
    if (m_thread.joinable() || m_stopping) return;
    m_thread = std::thread([this] {
        LoadMempool();
        std::unique_lock thread_lock(m_thread_mutex);
        while (!m_stopping) {
            thread_lock.unlock();
            Maintain();
            thread_lock.lock();
            m_thread_cv.wait_for(thread_lock, m_config.maintenance_interval, [this] { return m_stopping || m_wake; });
            m_wake = false;
        }
    });
    if (m_config.dns_seed && m_config.automatic_outbound) m_dns_thread = std::thread([this] { QueryDnsSeeds(); });
}

void NodeService::Stop()
{
    {
        std::lock_guard lock(m_thread_mutex);
        m_stopping = true;
    }
    m_thread_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
    if (m_dns_thread.joinable()) m_dns_thread.join();
    SaveAddresses(/*force=*/false); // what changed since the last write
    std::unique_ptr<ipc::Client> client;
    {
        std::lock_guard lock(m_supervisor_mutex);
        m_supervisor.reset();
        client = std::move(m_supervisor_client);
    }
    if (client) client->Stop();
    if (m_processes) m_processes->Stop();
    {
        std::lock_guard lock(m_mutex);
        m_agents.clear();
        m_self_admitted.clear();
    }
    if (m_mempool && !m_mempool_stopped.exchange(true)) {
        // Only a fully loaded mempool is written back, or a stop during the load would lose the rest of the file.
        if (m_mempool->Options().persist && m_mempool->IsLoaded()) m_mempool->Dump();
        m_mempool->Detach();
    }
    if (m_tip_announcer) {
        m_chainstate->UnregisterListener(m_tip_announcer);
        m_tip_announcer.reset();
    }
    if (m_relay_chain_listener) {
        m_chainstate->UnregisterListener(m_relay_chain_listener);
        m_relay_chain_listener.reset();
    }
    // Flushes the coins cache and the block index (crash-safe order, see doc/validation.md).
    if (m_chainstate_loaded) m_chainstate->Stop();
}

void NodeService::Wake()
{
    {
        std::lock_guard lock(m_thread_mutex);
        m_wake = true;
    }
    m_thread_cv.notify_all();
}

void NodeService::Maintain()
{
    SendQueuedDisconnects();
    int64_t now = UnixTime();
    std::vector<std::pair<int64_t, std::shared_ptr<ipc::Connection>>> links;
    std::vector<std::string> to_dial;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, link] : m_agents) links.emplace_back(id, link.connection);
        for (const auto& expired : m_peers.ExpirePending(now)) {
            LogPrintf("Peer {} ({}) forgotten: no agent registered it within {} s", expired.id, expired.address,
                      PENDING_PEER_TIMEOUT_SECONDS);
        }
        auto steady_now = std::chrono::steady_clock::now();
        auto due = [&](const std::string& address) {
            if (m_peers.HasPeerAtAddress(address)) return false;
            auto last = m_last_dial.find(address);
            return last == m_last_dial.end() || steady_now - last->second >= m_config.retry_interval;
        };
        for (const auto& address : m_config.connect) {
            if (due(address)) to_dial.push_back(address);
        }
        int manual = m_peers.CountManual();
        for (const auto& address : m_peers.AddedNodes()) {
            if (manual >= MAX_ADDNODE_CONNECTIONS) break;
            if (due(address) && std::find(to_dial.begin(), to_dial.end(), address) == to_dial.end()) {
                to_dial.push_back(address);
                ++manual;
            }
        }
        for (const auto& address : to_dial) m_last_dial[address] = steady_now;
    }
    // Asked outside m_mutex: the IPC layer's own lock is never taken under ours.
    for (const auto& [id, connection] : links) {
        if (!connection->IsConnected()) DropPeer(id, "agent " + std::to_string(connection->Peer().pid) + " went away");
    }
    for (const auto& address : to_dial) DialTarget(address);
    SyncTick();
    ForgetGoneAddressPeers();
    OpenAutomaticConnections();
    SaveAddresses(/*force=*/false);
    RelayTick();
}

// ---------------------------------------------------------------- banlist.json

std::filesystem::path NodeService::BanListPath() const
{
    return m_config.data_dir.empty() ? std::filesystem::path{} : m_config.data_dir / "banlist.json";
}

void NodeService::LoadBans()
{
    const auto path = BanListPath();
    std::error_code ec;
    if (path.empty() || !std::filesystem::exists(path, ec)) return;
    std::string error;
    std::optional<std::vector<BanEntry>> entries;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        error = ec.message();
    } else if (size > MAX_BAN_LIST_FILE_SIZE) {
        error = "file larger than " + std::to_string(MAX_BAN_LIST_FILE_SIZE) + " bytes";
    } else {
        std::string text(size, '\0');
        std::FILE* file = std::fopen(path.c_str(), "rb");
        if (!file) {
            error = std::strerror(errno);
        } else {
            text.resize(std::fread(text.data(), 1, text.size(), file));
            std::fclose(file);
            entries = ParseBanList(text, error);
        }
    }
    if (!entries) {
        LogPrintf("Error: cannot read {}: {}; starting with no bans", path.string(), error);
        return;
    }
    std::lock_guard lock(m_mutex);
    for (const auto& entry : *entries) m_peers.Bans().Add(entry);
    m_peers.Bans().SweepExpired(UnixTime());
    LogPrintf("Loaded {} banned subnets from {}", m_peers.Bans().Entries().size(), path.string());
}

void NodeService::SaveBans()
{
    const auto path = BanListPath();
    if (path.empty()) return;
    m_peers.Bans().SweepExpired(UnixTime());
    const std::string text = WriteBanList(m_peers.Bans().Entries());
    // Written beside it, flushed, then renamed over it: a crash leaves the old file or the new one.
    auto tmp = path;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < text.size();) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    const int saved_errno = errno;
    if (fd >= 0) ::close(fd);
    if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) return;
    LogPrintf("Error: cannot write {}: {}", path.string(), std::strerror(ok ? errno : saved_errno));
    ::unlink(tmp.c_str());
}

uint64_t NodeService::MakeNonce()
{
    std::lock_guard lock(m_nonce_mutex);
    uint64_t nonce = 0;
    while (nonce == 0) nonce = m_nonce_rng(); // zero would mean "no nonce" to a peer
    return nonce;
}

// ---------------------------------------------------------------- outbound connections through orreryd

void NodeService::SetMockTimeEverywhere(int64_t time)
{
    SetMockTime(time);
    // The agents hear it from the node, which they already talk to (registerAgent gave each the time then).
    std::vector<std::pair<int64_t, std::shared_ptr<interfaces::Agent>>> agents;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, link] : m_agents) agents.emplace_back(id, link.agent);
    }
    for (const auto& [id, agent] : agents) {
        try {
            agent->setMockTime(time);
        } catch (const std::exception& e) {
            // An agent on its way out; the maintenance thread removes it.
            LogDebug(LogCategory::NET, "Agent of peer {} did not take the mock time: {}", id, e.what());
        }
    }
    if (m_config.supervised) GetSupervisor()->setMockTime(time);
}

std::shared_ptr<interfaces::Supervisor> NodeService::GetSupervisor()
{
    std::lock_guard lock(m_supervisor_mutex);
    if (m_supervisor) return m_supervisor;
    const std::string& endpoint = m_config.supervisor_endpoint;
    // An ipc:// socket that does not exist cannot answer: say so without waiting for a timeout.
    if (endpoint.starts_with("ipc://") && !std::filesystem::exists(endpoint.substr(6))) {
        throw std::runtime_error("orreryd is not reachable at " + endpoint);
    }
    ipc::Options options = m_config.ipc_options;
    options.connect_timeout = m_config.supervisor_connect_timeout;
    auto client = std::make_unique<ipc::Client>(options);
    std::shared_ptr<ipc::Connection> connection;
    try {
        connection = client->Connect(endpoint);
    } catch (const std::exception& e) {
        client->Stop();
        throw std::runtime_error("orreryd is not reachable at " + endpoint + ": " + e.what());
    }
    m_supervisor = ipc::MakeProxy<interfaces::Supervisor>(connection);
    m_supervisor_client = std::move(client);
    LogPrintf("Connected to orreryd at {} for outbound connections", endpoint);
    return m_supervisor;
}

uint32_t NodeService::InboundPermissions(const std::string& address, const std::string& local_address) const
{
    uint32_t permissions = 0;
    const std::string local_port = local_address.substr(local_address.rfind(':') + 1);
    for (const WhitebindEntry& bind : m_config.whitebinds) {
        const std::string bind_host = HostOf(bind.address);
        const bool any_host = bind_host == "0.0.0.0" || bind_host == "::";
        if (bind.address == local_address ||
            (any_host && bind.address.substr(bind.address.rfind(':') + 1) == local_port)) {
            permissions |= bind.permissions;
        }
    }
    const std::string host = HostOf(address);
    for (const WhitelistEntry& entry : m_config.whitelist) {
        if (entry.inbound && entry.subnet.Contains(host)) permissions |= entry.permissions;
    }
    return permissions;
}

uint32_t NodeService::OutboundPermissions(const std::string& address, const std::string& connection_type) const
{
    uint32_t permissions = 0;
    if (connection_type != "manual") return permissions; // "out" applies to manual connections, as in bitcoind
    const std::string host = HostOf(address);
    for (const WhitelistEntry& entry : m_config.whitelist) {
        if (entry.outbound && entry.subnet.Contains(host)) permissions |= entry.permissions;
    }
    return permissions;
}

std::optional<std::string> NodeService::OpenOutbound(const std::string& address, const std::string& connection_type)
{
    PeerEntry entry;
    {
        std::lock_guard lock(m_mutex);
        entry =
            m_peers.IssueOutbound(address, connection_type, UnixTime(), OutboundPermissions(address, connection_type));
    }
    std::string failure;
    try {
        GetSupervisor()->openConnection(address, entry.id, connection_type);
        LogDebug(LogCategory::NET, "Asked orreryd to open a {} connection to {} as peer {}", connection_type, address,
                 entry.id);
        return std::nullopt;
    } catch (const std::exception& e) {
        failure = e.what();
    }
    std::lock_guard lock(m_mutex);
    m_peers.Remove(entry.id);
    return failure;
}

void NodeService::DialTarget(const std::string& address)
{
    auto failure = OpenOutbound(address, "manual");
    std::lock_guard lock(m_mutex);
    if (!failure) {
        if (m_dial_failures.erase(address)) LogPrintf("Dialling {} again through orreryd", address);
        return;
    }
    // Retries fail the same way every few seconds: log a failure once, then only under -debug=net.
    auto [it, inserted] = m_dial_failures.try_emplace(address, *failure);
    if (inserted || it->second != *failure) {
        it->second = *failure;
        LogPrintf("Cannot connect to {}: {}; will retry", address, *failure);
    } else {
        LogDebug(LogCategory::NET, "Cannot connect to {}: {}", address, *failure);
    }
}

std::optional<PeerEntry> NodeService::QueueDisconnect(int64_t peer_id, const std::string& reason)
{
    auto entry = m_peers.Remove(peer_id);
    if (entry) QueueAgentDisconnect(peer_id, reason);
    return entry;
}

void NodeService::QueueAgentDisconnect(int64_t peer_id, const std::string& reason)
{
    auto link = m_agents.find(peer_id);
    if (link == m_agents.end()) return;
    m_disconnect_queue.push_back({peer_id, link->second.agent, reason});
    m_agents.erase(link);
}

void NodeService::SendQueuedDisconnects()
{
    std::vector<QueuedDisconnect> queue;
    {
        std::lock_guard lock(m_mutex);
        queue.swap(m_disconnect_queue);
    }
    for (const auto& item : queue) {
        try {
            item.agent->disconnect(item.reason);
        } catch (const std::exception& e) {
            // The agent may exit before its reply leaves; it is gone either way.
            LogDebug(LogCategory::NET, "Agent of peer {} did not answer disconnect: {}", item.peer_id, e.what());
        }
    }
}

void NodeService::DropPeer(int64_t peer_id, const std::string& reason)
{
    std::optional<PeerEntry> entry;
    {
        std::lock_guard lock(m_mutex);
        entry = m_peers.Remove(peer_id);
        m_agents.erase(peer_id);
    }
    if (entry) LogPrintf("Peer {} ({}) disconnected: {}", peer_id, entry->address, reason);
    SyncPeerGone(peer_id);
}

// ---------------------------------------------------------------- what the RPC methods use

BlockchainInfo NodeService::GetBlockchainInfo() const
{
    return node::GetBlockchainInfo(*m_chainstate, UnixTime());
}

NodeService::ConnectionCounts NodeService::CountConnections()
{
    std::lock_guard lock(m_mutex);
    return {m_peers.CountConnected(true), m_peers.CountConnected(false)};
}

std::vector<PeerEntry> NodeService::ConnectedPeers()
{
    std::lock_guard lock(m_mutex);
    return m_peers.Connected();
}

void NodeService::AddNode(const std::string& address, const std::string& command)
{
    if (command != "add" && command != "remove" && command != "onetry") {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                "Invalid command '" + command + "': expected add, remove or onetry");
    }
    if (address.empty()) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Error: empty node address");
    if (command == "remove") {
        std::lock_guard lock(m_mutex);
        if (!m_peers.RemoveAddedNode(address)) {
            throw rpc::RpcException(rpc::RPC_CLIENT_NODE_NOT_ADDED,
                                    "Error: Node could not be removed. It has not been added previously.");
        }
        m_last_dial.erase(address);
        m_dial_failures.erase(address);
        LogPrintf("addnode: removed {} from the added nodes", address);
        return;
    }
    if (command == "onetry") {
        {
            // As bitcoind: no second connection to a peer we have or are dialling.
            std::lock_guard lock(m_mutex);
            if (m_peers.HasPeerAtAddress(address)) return;
        }
        if (auto failure = OpenOutbound(address, "manual")) {
            throw rpc::RpcException(rpc::RPC_CLIENT_NODE_NOT_CONNECTED,
                                    "Error: Unable to open connection to " + address + ": " + *failure);
        }
        LogPrintf("addnode: trying {} once", address);
        return;
    }
    bool dial_now = false;
    {
        std::lock_guard lock(m_mutex);
        if (!m_peers.AddNode(address)) {
            throw rpc::RpcException(rpc::RPC_CLIENT_NODE_ALREADY_ADDED, "Error: Node already added");
        }
        dial_now = !m_peers.HasPeerAtAddress(address) && m_peers.CountManual() < MAX_ADDNODE_CONNECTIONS;
        if (dial_now) m_last_dial[address] = std::chrono::steady_clock::now();
    }
    LogPrintf("addnode: added {}", address);
    // Like bitcoind, "add" succeeds even when the peer cannot be reached now: it is retried.
    if (dial_now) DialTarget(address);
}

void NodeService::DisconnectNode(const std::string& address, int64_t peer_id)
{
    std::optional<PeerEntry> entry;
    std::shared_ptr<interfaces::Agent> agent;
    {
        std::lock_guard lock(m_mutex);
        if (!address.empty()) {
            entry = m_peers.FindConnectedByAddress(address);
        } else {
            entry = m_peers.Find(peer_id);
            if (entry && !entry->registered) entry.reset();
        }
        if (!entry) {
            throw rpc::RpcException(rpc::RPC_CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes");
        }
        auto link = m_agents.find(entry->id);
        if (link != m_agents.end()) agent = link->second.agent;
    }
    if (agent) {
        try {
            agent->disconnect("disconnectnode");
        } catch (const std::exception& e) {
            // The agent may exit before its reply leaves; it is gone either way.
            LogDebug(LogCategory::NET, "Agent of peer {} did not answer disconnect: {}", entry->id, e.what());
        }
    }
    DropPeer(entry->id, "disconnectnode");
}

void NodeService::SetBan(const std::string& subnet_text, const std::string& command, int64_t bantime, bool absolute)
{
    if (command != "add" && command != "remove") {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                "Invalid command '" + command + "': expected add or remove");
    }
    auto subnet = ParseSubNet(subnet_text);
    if (!subnet) throw rpc::RpcException(rpc::RPC_CLIENT_INVALID_IP_OR_SUBNET, "Error: Invalid IP/Subnet");
    const bool is_subnet = subnet_text.find('/') != std::string::npos;
    const int64_t now = UnixTime();
    std::vector<PeerEntry> dropped;
    int64_t until = now + m_config.ban_time_seconds;
    {
        std::lock_guard lock(m_mutex);
        if (command == "remove") {
            if (!m_peers.Bans().Remove(*subnet)) {
                throw rpc::RpcException(rpc::RPC_CLIENT_INVALID_IP_OR_SUBNET,
                                        "Error: Unban failed. Requested address/subnet was not previously "
                                        "manually banned.");
            }
            SaveBans();
            LogPrintf("setban: unbanned {}", subnet->ToString());
            return;
        }
        // As bitcoind: an address is "already banned" when any ban covers it, a subnet when it is itself banned.
        const bool banned =
            is_subnet ? m_peers.Bans().IsSubnetBanned(*subnet, now) : m_peers.Bans().IsBanned(HostOf(subnet_text), now);
        if (banned) throw rpc::RpcException(rpc::RPC_CLIENT_NODE_ALREADY_ADDED, "Error: IP/Subnet already banned");
        if (absolute && bantime < now) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Error: Absolute timestamp is in the past");
        }
        if (bantime > 0) until = absolute ? bantime : now + std::min(bantime, MAX_BAN_UNTIL);
        until = std::min(until, MAX_BAN_UNTIL);
        m_peers.Bans().Add({*subnet, now, until});
        SaveBans();
        for (const auto& entry : m_peers.PeersIn(*subnet)) {
            if (QueueDisconnect(entry.id, "banned")) dropped.push_back(entry);
        }
    }
    LogPrintf("setban: banned {} until {} ({} s); {} peer(s) in it disconnected", subnet->ToString(), until,
              until - now, dropped.size());
    for (const auto& entry : dropped) LogPrintf("Peer {} ({}) disconnected: banned", entry.id, entry.address);
    Wake();
}

std::vector<BanEntry> NodeService::ListBanned()
{
    const int64_t now = UnixTime();
    std::lock_guard lock(m_mutex);
    if (m_peers.Bans().SweepExpired(now)) SaveBans();
    return m_peers.Bans().Entries();
}

void NodeService::ClearBanned()
{
    std::lock_guard lock(m_mutex);
    m_peers.Bans().Clear();
    SaveBans();
    LogPrintf("clearbanned: all bans lifted");
}

// ---------------------------------------------------------------- Node

interfaces::Admission NodeService::admitInbound(std::string address, std::string local_address)
{
    std::optional<PeerEntry> evicted;
    interfaces::Admission admission;
    {
        std::lock_guard lock(m_mutex);
        admission = m_peers.AdmitInbound(address, local_address, UnixTime(), &evicted,
                                         InboundPermissions(address, local_address));
        if (evicted) QueueAgentDisconnect(evicted->id, "evicted to make room for an inbound peer");
    }
    if (evicted) {
        LogPrintf("Peer {} ({}) evicted: inbound slots full, making room for {}", evicted->id, evicted->address,
                  address);
        Wake();
    }
    if (admission.accepted) {
        LogDebug(LogCategory::NET, "Admitted inbound connection from {} as peer {}", address, admission.peer_id);
    } else {
        LogDebug(LogCategory::NET, "Refused inbound connection from {}: {}", address, admission.reason);
    }
    return admission;
}

// ---------------------------------------------------------------- PeerHost

interfaces::Admission NodeService::requestAdmission(std::string address, std::string local_address)
{
    ipc::CallContext* call = ipc::CurrentCall();
    if (!call) {
        throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED, "requestAdmission comes over an agent's connection");
    }
    if (m_config.supervised) {
        throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED, "under orreryd, orreryd admits the inbound peers");
    }
    std::shared_ptr<ipc::Connection> connection = call->CallerConnection();
    {
        std::lock_guard lock(m_mutex);
        // Ids whose agent registered, or that expired unregistered, need no binding any more.
        std::erase_if(m_self_admitted, [&](const auto& entry) {
            auto peer = m_peers.Find(entry.first);
            return !peer || peer->registered;
        });
        const bool asked = std::any_of(m_self_admitted.begin(), m_self_admitted.end(),
                                       [&](const auto& entry) { return entry.second == connection; });
        const bool serving = std::any_of(m_agents.begin(), m_agents.end(),
                                         [&](const auto& link) { return link.second.connection == connection; });
        if (asked || serving) {
            throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                             "this connection already has its peer: one admission per agent");
        }
    }
    interfaces::Admission admission = admitInbound(address, local_address);
    if (admission.accepted) {
        std::lock_guard lock(m_mutex);
        m_self_admitted[admission.peer_id] = connection;
    }
    LogDebug(LogCategory::NET, "Agent {} ({}) asked to admit {}: {}", call->Caller().pid, call->Caller().role, address,
             admission.accepted ? fmt::format("peer {}", admission.peer_id) : admission.reason);
    return admission;
}

interfaces::HandshakeParams NodeService::registerAgent(int64_t peer_id, std::string address, bool inbound)
{
    ipc::CallContext* call = ipc::CurrentCall();
    if (!call) throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED, "registerAgent comes over an agent's connection");
    std::shared_ptr<ipc::Connection> connection = call->CallerConnection();
    const int64_t pid = call->Caller().pid; // the kernel's on ipc://
    if (m_config.supervised) {
        // orreryd says which peer it started (or handed) this process for; the agent's word is not enough.
        interfaces::ProcessIdentity identity = m_processes->Identify(pid);
        if (identity.role != "p2p-agent" || identity.peer_id != peer_id) {
            throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                             fmt::format("agent {} may not register peer {}: orreryd started it {}", pid, peer_id,
                                         identity.role.empty()
                                             ? std::string("not at all")
                                             : fmt::format("as {} for peer {}", identity.role, identity.peer_id)));
        }
    }
    PeerEntry entry;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, link] : m_agents) {
            if (link.connection == connection) {
                throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                                 fmt::format("this connection already serves peer {}", id));
            }
        }
        // A peer an agent got admitted itself is that agent's alone, and that agent has no other.
        for (const auto& [id, asker] : m_self_admitted) {
            if ((id == peer_id) != (asker == connection)) {
                throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                                 id == peer_id
                                     ? fmt::format("peer {} was admitted for another agent", peer_id)
                                     : fmt::format("this connection was admitted peer {}, not {}", id, peer_id));
            }
        }
        try {
            entry = m_peers.Register(peer_id, pid, inbound, UnixTime());
        } catch (const PeerTableError& e) {
            LogPrintf("Refused agent {} for peer {}: {}", pid, peer_id, e.what());
            throw std::runtime_error(e.what());
        }
        m_agents[peer_id] = AgentLink{connection, ipc::MakeProxy<interfaces::Agent>(connection)};
        m_self_admitted.erase(peer_id);
    }
    if (address != entry.address) {
        LogDebug(LogCategory::NET, "Agent of peer {} reports address {} for {}", peer_id, address, entry.address);
    }
    LogPrintf("Peer {} ({}, {}) served by agent {}", peer_id, entry.address, entry.connection_type, pid);

    const ChainParams& params = m_params;
    interfaces::HandshakeParams handshake;
    handshake.chain = ChainTypeToString(params.type);
    handshake.message_start = uint32_t{params.message_start[0]} | uint32_t{params.message_start[1]} << 8 |
                              uint32_t{params.message_start[2]} << 16 | uint32_t{params.message_start[3]} << 24;
    handshake.protocol_version = PROTOCOL_VERSION;
    handshake.services = LOCAL_SERVICES;
    handshake.user_agent = m_config.user_agent;
    if (m_chainstate_loaded) {
        auto chain_lock = m_chainstate->Lock();
        handshake.start_height = std::max(m_chainstate->Height(), 0);
    }
    handshake.nonce = entry.nonce;
    // Core's version relay flag: false on block-relay-only links and, with -blocksonly, but to relay peers.
    handshake.relay = !RejectsIncomingTxs(entry);
    handshake.mock_time = GetMockTime();
    return handshake;
}

void NodeService::handshakeDone(int64_t peer_id, interfaces::PeerVersion version)
{
    RequireOwnPeer(peer_id);
    PeerEntry entry;
    std::optional<PeerEntry> ours;
    {
        std::lock_guard lock(m_mutex);
        try {
            m_peers.SetHandshakeDone(peer_id, version);
        } catch (const PeerTableError& e) {
            throw std::runtime_error(e.what());
        }
        entry = *m_peers.Find(peer_id);
        // Bitcoin Core's check: an inbound peer that sends the nonce of one of our outbound
        // version messages is ourselves. Whatever the addresses look like (NAT, another local
        // address), both ends go.
        if (entry.inbound) ours = m_peers.FindOutboundByNonce(version.nonce);
        if (ours) {
            QueueDisconnect(peer_id, "connected to self");
            QueueDisconnect(ours->id, "connected to self");
        }
    }
    if (ours) {
        LogPrintf("connected to self at {} (inbound peer={}, our outbound peer={} to {}), disconnecting", entry.address,
                  peer_id, ours->id, ours->address);
        Wake();
        return;
    }
    LogPrintf("New {} peer connected: version: {}, blocks={}, peer={} ({})", entry.connection_type, version.version,
              version.start_height, peer_id, version.user_agent);
    AddressPeerReady(entry);
    if (entry.connection_type == "feeler") return; // disconnected at once, no sync
    if (m_chainstate_loaded) StartCompact(peer_id, entry.inbound);
    if (m_chainstate_loaded) StartSync(peer_id, entry, version);
    if (m_chainstate_loaded) StartRelay(peer_id, entry, version);
}

void NodeService::reportStats(int64_t peer_id, interfaces::PeerStats stats)
{
    RequireOwnPeer(peer_id);
    std::lock_guard lock(m_mutex);
    try {
        m_peers.SetStats(peer_id, stats);
    } catch (const PeerTableError& e) {
        throw std::runtime_error(e.what());
    }
}

void NodeService::peerDisconnected(int64_t peer_id, std::string reason)
{
    ipc::CallContext* call = ipc::CurrentCall();
    bool bound = false;
    if (call) {
        std::lock_guard lock(m_mutex);
        auto connection = call->CallerConnection();
        bound = std::any_of(m_agents.begin(), m_agents.end(),
                            [&](const auto& link) { return link.second.connection == connection; });
    }
    if (bound) {
        RequireOwnPeer(peer_id);
    } else if (call) {
        // An outbound agent whose dial failed, before registering: it may free the id it
        // was started for, and only while no agent serves it.
        if (m_config.supervised) {
            interfaces::ProcessIdentity identity = m_processes->Identify(call->Caller().pid);
            if (identity.role != "p2p-agent" || identity.peer_id != peer_id) {
                throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                                 fmt::format("agent {} may not end peer {}: it was not started for it",
                                             call->Caller().pid, peer_id));
            }
        }
        std::lock_guard lock(m_mutex);
        auto entry = m_peers.Find(peer_id);
        if (entry && entry->registered) {
            throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                             fmt::format("peer {} is served by another agent", peer_id));
        }
    }
    // An agent reports its end even when the node already dropped the peer (disconnectnode): not an error.
    DropPeer(peer_id, reason);
}

void NodeService::RequireOwnPeer(int64_t peer_id)
{
    ipc::CallContext* call = ipc::CurrentCall();
    if (!call) return; // an in-process caller is the node itself
    auto connection = call->CallerConnection();
    std::lock_guard lock(m_mutex);
    for (const auto& [id, link] : m_agents) {
        if (link.connection != connection) continue;
        if (id == peer_id) return;
        throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                         fmt::format("this agent serves peer {}, not peer {}", id, peer_id));
    }
    throw ipc::Error(ipc::ErrorCode::PERMISSION_DENIED,
                     fmt::format("this agent has not registered a peer (asked for peer {})", peer_id));
}

std::optional<std::string> NodeService::StartedAs(int64_t pid)
{
    if (!m_processes) return std::nullopt;
    interfaces::ProcessIdentity identity = m_processes->Identify(pid);
    if (identity.role.empty()) return std::nullopt;
    return identity.role;
}

// ---------------------------------------------------------------- the process

int Run(const ArgsManager& args)
{
    ServiceProcess process(args, "node");
    std::filesystem::path net = args.GetDataDirNet();
    {
        std::error_code ec;
        std::filesystem::create_directories(net, ec);
        if (ec) return process.Fail(fmt::format("cannot create {}: {}", net.string(), ec.message()));
    }
    int lock_fd = LockFile(net / ".node.lock");
    if (lock_fd < 0) {
        return process.Fail(fmt::format(
            "Cannot obtain a lock on data directory {}. orrery-node is probably already running.", net.string()));
    }
    std::shared_ptr<NodeService> service;
    try {
        NodeConfig config = MakeNodeConfig(args);
        // A fatal disk error or -stopatheight stops the process as a signal would, and a restart would not help:
        // the exit status asks orreryd to stop Orrery as bitcoind stops.
        config.chainstate.request_shutdown = [](const std::string& reason) {
            LogPrintf("Shutdown requested: {}", reason);
            if (reason == "reached -stopatheight") { // the chainstate's words for it (chainstate.cpp)
                g_exit_status.store(EXIT_STOP_ORRERY);
            } else {
                g_exit_status.store(EXIT_NO_RESTART);
                std::fprintf(stderr, "Error: %s\n", reason.c_str()); // orreryd repeats it as it stops Orrery
            }
            ::kill(::getpid(), SIGTERM);
        };
        service = std::make_shared<NodeService>(std::move(config));
    } catch (const std::exception& e) {
        ::close(lock_fd);
        process.Fail(e.what()); // a bad option (-prune=100) stays bad across a restart
        return EXIT_NO_RESTART;
    }
    LogPrintf("Orrery node version {} started on {} (datadir {})", ORRERY_VERSION, args.GetChain(), net.string());
    try {
        service->LoadChainstate();
    } catch (const std::exception& e) {
        service->Stop();
        service.reset();
        ::close(lock_fd);
        // Files the node cannot read or write stay so across a restart: the user must act (space, -reindex).
        process.Fail(e.what());
        return EXIT_NO_RESTART;
    }
    {
        auto chain_lock = service->Chainstate().Lock();
        const BlockIndex* tip = service->Chainstate().Tip();
        LogPrintf("Genesis {} ({}), tip height {}, tip {}", service->Params().GenesisHash().GetHex(),
                  ChainTypeToString(service->Params().type), service->Chainstate().Height(),
                  tip ? tip->hash.GetHex() : std::string{"(none)"});
    }

    ipc::Options options;
    try {
        options = process.IpcOptions();
    } catch (const std::exception& e) {
        ::close(lock_fd);
        return process.Fail(e.what());
    }
    if (MakeNodeConfig(args).supervised) {
        // Under orreryd a process it started may be only what it was started as.
        std::weak_ptr<NodeService> weak = service;
        options.roles.SetProcessLookup([weak](int64_t pid) -> std::optional<std::string> {
            auto node = weak.lock();
            if (!node) throw std::runtime_error("the node is stopping");
            return node->StartedAs(pid);
        });
    }
    ipc::Server& server = process.MakeServer(options);
    server.Serve<interfaces::Node>(service, interfaces::NODE_CALLERS);
    server.Serve<interfaces::PeerHost>(service, interfaces::PEER_HOST_CALLERS);
    auto chain_service = std::make_shared<ChainService>(service->Chainstate());
    chain_service->AttachMempool(service->GetMempool());
    chain_service->Attach();
    server.Serve<interfaces::Chain>(chain_service, interfaces::CHAIN_CALLERS);
    try {
        process.Bind(); // under the node's lock, a socket left there belongs to a node that died
    } catch (const std::exception& e) {
        chain_service->Detach();
        ::close(lock_fd);
        return process.Fail(e.what());
    }
    LogPrintf("Node interface on {}", process.Endpoint());
    service->Start();
    // The RPC methods go to the bridge whenever it is there (it may start later, or restart).
    ipc::Options router_options = options;
    router_options.interfaces = {"rpcRouter"};
    router_options.server_role = "gui-bridge";
    rpc::RouterLink router("node", MakeRpcTable(*service),
                           args.GetArg("rpcrouterconnect", DefaultEndpoint(args, "rpc-router")), router_options);
    router.Start();

    process.WaitForShutdown();
    service->Chainstate().InterruptWaits(); // a waitfornewblock in progress must not hold up the stop
    router.Stop();
    process.Stop();
    chain_service->Detach(); // the server may hold the service beyond the chainstate's life
    service->Stop();
    LogPrintf("Shutdown done");
    ::close(lock_fd);
    return g_exit_status.load();
}

} // namespace orrery::node
