// orrery-node: the process that holds the chain and the peer policy. It serves
// Node (to orreryd) and PeerHost (to the p2p-agents), offers its RPC methods
// to the gui-bridge (services/node/rpc/), and asks orreryd for outbound
// connections through Supervisor.openConnection.
#ifndef ORRERY_SERVICES_NODE_NODE_H
#define ORRERY_SERVICES_NODE_NODE_H

#include <common/consensus/params.h>
#include <common/interfaces/node.h>
#include <common/interfaces/peer_host.h>
#include <common/interfaces/process_lookup.h>
#include <common/interfaces/supervisor.h>
#include <common/ipc/connection.h>
#include <common/ipc/options.h>
#include <common/p2p/addr.h>
#include <common/util/args.h>
#include <services/node/addrman.h>
#include <services/node/ban_list.h>
#include <services/node/block_sync.h>
#include <services/node/chain.h>
#include <services/node/compact_relay.h>
#include <services/node/mempool/mempool.h>
#include <services/node/peer_table.h>
#include <services/node/tx_relay.h>
#include <services/node/validation/chainstate.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace orrery::ipc {
class Client;
}

namespace orrery::node {

//! NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED: 0x409, what bitcoind announces.
inline constexpr uint64_t LOCAL_SERVICES = (1 << 0) | (1 << 3) | (1 << 10);
inline constexpr int32_t PROTOCOL_VERSION = 70016;

//! Declares orrery-node's options (and the common ones).
void AddArgs(ArgsManager& args);

//! A -whitelist entry as the node matches it.
struct WhitelistEntry {
    SubNet subnet;
    uint32_t permissions{0}; //!< NetPermissionFlags, implicit ones resolved
    bool inbound{true};
    bool outbound{false};
};

//! A -whitebind entry: peers arriving on `address` (host:port) get `permissions`.
struct WhitebindEntry {
    std::string address;
    uint32_t permissions{0};
};

//! What NodeService needs from the options.
struct NodeConfig {
    ChainType chain{ChainType::REGTEST};
    int max_connections{DEFAULT_MAX_PEER_CONNECTIONS};
    int64_t ban_time_seconds{DEFAULT_BAN_TIME_SECONDS}; //!< -bantime: setban's default duration
    bool listen{true};
    std::vector<std::string> connect;    //!< -connect: dialled and redialled, manual
    std::vector<std::string> add_nodes;  //!< -addnode: the start of the addnode list
    std::string user_agent{UserAgent()}; //!< with -uacomment; every agent announces it
    std::vector<WhitelistEntry> whitelist;
    std::vector<WhitebindEntry> whitebinds;
    std::string supervisor_endpoint; //!< where orreryd serves Supervisor
    //! Run by orreryd (-supervisorconnect given): agents are checked against its process table.
    bool supervised{false};
    std::filesystem::path data_dir; //!< <datadir>/<net>; size_on_disk counts its blocks/ and chainstate/
    ipc::Options ipc_options;       //!< role, keys and limits for the connection to orreryd
    //! -testactivationheight (regtest): the regtest parameters with these heights.
    std::optional<RegtestOptions> regtest;
    //! -dbcache, -par, -prune, -reindex... (data_dir and blocks_dir default to data_dir and data_dir/blocks).
    ChainstateOptions chainstate;
    //! -maxmempool, -minrelaytxfee, -mempoolfullrbf... (data_dir and now filled in by NodeService).
    MempoolOptions mempool;
    //! -checklevel and -checkblocks: the verification of the last blocks at start (bitcoind's VerifyDB).
    int check_level{DEFAULT_CHECKLEVEL};
    int check_blocks{DEFAULT_CHECKBLOCKS};
    bool blocks_only{false};                                //!< -blocksonly
    size_t max_orphan_txs{DEFAULT_MAX_ORPHAN_TRANSACTIONS}; //!< -maxorphantx
    // Addresses and automatic outbound connections (net_connections.cpp, doc/addrman.md).
    std::vector<std::string> seed_nodes; //!< -seednode: asked for addresses (addr-fetch) at start
    bool dns_seed{true};                 //!< -dnsseed (off with -connect; regtest has no seeds)
    //! Automatic outbound connections from the address book (off with -connect or -maxconnections=0).
    bool automatic_outbound{true};
    std::chrono::milliseconds feeler_interval{std::chrono::minutes{2}};     //!< Core's FEELER_INTERVAL (mean)
    std::chrono::milliseconds addr_dump_interval{std::chrono::seconds{10}}; //!< peers.dat after a change
    std::chrono::milliseconds retry_interval{std::chrono::seconds{5}};
    std::chrono::milliseconds maintenance_interval{500};
    std::chrono::milliseconds supervisor_connect_timeout{1000};
};

//! Reads the node's options into a NodeConfig. Throws std::runtime_error, with bitcoind's
//! message, for a bad -uacomment, -whitelist or -whitebind.
NodeConfig MakeNodeConfig(const ArgsManager& args);

//! The node's state and its two served interfaces.
//!
//! Agents: each agent registers its peer over its own IPC connection, which
//! the node learns from the call (ipc::CurrentCall). registerAgent binds that
//! connection to the peer, once; every later PeerHost call is checked against
//! the binding, so an agent acts for its own peer only. Under orreryd the
//! binding itself is checked too: orreryd must have started the caller's pid
//! (the kernel's, not a claim) as the agent of that very peer. The node keeps
//! the connection and an Agent proxy on it; when the connection drops (agent
//! killed), the maintenance thread notices and removes the peer. Without orreryd,
//! an agent a socket unit started asks for its own peer's admission on that same
//! connection (requestAdmission), and the admitted id is bound to the connection
//! before registerAgent names it.
//!
//! Thread-safety: every method may be called from any IPC thread. No lock is
//! held while calling another process.
class NodeService final : public interfaces::Node, public interfaces::PeerHost
{
public:
    explicit NodeService(NodeConfig config);
    ~NodeService() override;
    NodeService(const NodeService&) = delete;
    NodeService& operator=(const NodeService&) = delete;

    //! What orreryd started `pid` as (the server's ipc::ProcessLookup); nullopt when not
    //! one of orreryd's. Throws when orreryd cannot be reached.
    std::optional<std::string> StartedAs(int64_t pid);
    //! Starts the maintenance thread: dials -connect and -addnode peers, retries
    //! added ones, drops peers whose agent went away and ids never registered.
    void Start();
    //! Stops the maintenance thread and the connection to orreryd. Idempotent.
    void Stop();
    //! One round of the maintenance thread's work (tests call it directly).
    void Maintain();

    //! Opens and loads the chainstate (blocking: -reindex, -loadblock), verifies the last -checkblocks blocks at
    //! -checklevel as bitcoind does at start, starts its notifications and attaches the mempool to it. Throws
    //! ChainstateLoadError with the message for the user.
    void LoadChainstate();
    //! Reads mempool.dat (with -persistmempool) and marks the mempool loaded; the maintenance thread calls it
    //! first, so the RPC is served meanwhile (getmempoolinfo's "loaded" says when it is done).
    void LoadMempool();
    //! The mempool; there once LoadChainstate returned.
    Mempool& GetMempool() { return *m_mempool; }
    bool HasMempool() const { return m_mempool != nullptr; }
    //! The chainstate, for the RPC methods and the Chain service. Loaded once LoadChainstate returned.
    ChainstateManager& Chainstate() { return *m_chainstate; }
    const ChainstateManager& Chainstate() const { return *m_chainstate; }
    //! The network's parameters (with -testactivationheight on regtest).
    const ChainParams& Params() const { return m_params; }
    //! The user agent the node's agents announce (-uacomment included).
    const std::string& UserAgentString() const { return m_config.user_agent; }

    // What the node's RPC methods (services/node/rpc/) read and do. Failures throw rpc::RpcException
    // with bitcoind's codes and messages.

    //! getblockchaininfo's figures.
    BlockchainInfo GetBlockchainInfo() const;
    struct ConnectionCounts {
        int64_t inbound{0};
        int64_t outbound{0};
    };
    ConnectionCounts CountConnections();
    //! The registered peers, as the peer table holds them.
    std::vector<PeerEntry> ConnectedPeers();
    //! addnode: `command` is "add", "remove" or "onetry".
    void AddNode(const std::string& address, const std::string& command);
    //! disconnectnode: by address, or by id when `address` is empty.
    void DisconnectNode(const std::string& address, int64_t peer_id);
    //! setban: `command` "add" or "remove"; `bantime` seconds (0: -bantime), or a unix time when `absolute`.
    //! "add" disconnects the peers in the subnet.
    void SetBan(const std::string& subnet, const std::string& command, int64_t bantime, bool absolute);
    //! listbanned: the bans still in force (expired ones are swept first).
    std::vector<BanEntry> ListBanned();
    void ClearBanned();
    //! setmocktime: pins this process's clock and every registered agent's (Agent.setMockTime; a new
    //! agent gets it from registerAgent), and, under orreryd, asks it to pin the other services'.
    //! Throws when orreryd cannot be reached.
    void SetMockTimeEverywhere(int64_t time);

    // Node
    interfaces::Admission admitInbound(std::string address, std::string local_address) override;

    // PeerHost
    interfaces::Admission requestAdmission(std::string address, std::string local_address) override;
    interfaces::HandshakeParams registerAgent(int64_t peer_id, std::string address, bool inbound) override;
    void handshakeDone(int64_t peer_id, interfaces::PeerVersion version) override;
    void reportStats(int64_t peer_id, interfaces::PeerStats stats) override;
    void peerDisconnected(int64_t peer_id, std::string reason) override;
    // PeerHost: block sync (node_sync.cpp, doc/sync.md)
    void headersReceived(int64_t peer_id, std::vector<uint8_t> headers) override;
    void blockReceived(int64_t peer_id, std::vector<uint8_t> block) override;
    void blocksAnnounced(int64_t peer_id, std::vector<uint8_t> hashes) override;
    std::optional<std::vector<uint8_t>> getHeaders(int64_t peer_id, std::vector<uint8_t> locator,
                                                   std::vector<uint8_t> stop) override;
    std::vector<uint8_t> getBlocks(int64_t peer_id, std::vector<uint8_t> locator, std::vector<uint8_t> stop) override;
    std::optional<std::vector<uint8_t>> getBlock(int64_t peer_id, std::vector<uint8_t> hash, bool witness) override;

    // PeerHost: transaction relay (node_relay.cpp, doc/relay.md)
    void transactionsAnnounced(int64_t peer_id, std::vector<uint8_t> hashes) override;
    void transactionReceived(int64_t peer_id, std::vector<uint8_t> tx) override;
    void transactionsNotFound(int64_t peer_id, std::vector<uint8_t> hashes) override;
    std::optional<std::vector<uint8_t>> getTransaction(int64_t peer_id, std::vector<uint8_t> hash, bool wtxid,
                                                       bool witness) override;
    void feeFilterReceived(int64_t peer_id, int64_t fee_rate) override;
    void mempoolRequested(int64_t peer_id) override;
    //! getpeerinfo's relay figures of a peer: relaytxes, minfeefilter (sat/kvB); nullopt before its handshake.
    std::optional<std::pair<bool, Amount>> RelayStats(int64_t peer_id);
    //! The mempool took a transaction (from any source: peers, RPC, wallets): queue it for every peer's next
    //! trickle. Called by the mempool's listener under the mempool's lock; takes only the relay mutex.
    void RelayTransactionAdded(const MempoolEntry& entry, uint64_t mempool_sequence);
    void RelayTransactionRemoved(const Transaction& tx);
    //! Chain events for relay: confirmed transactions and their conflicts leave the orphanage.
    void RelayBlockConnected(const Block& block);
    void RelayBlockDisconnected();
    void RelayNewTip();
    // PeerHost: compact blocks (node_compact.cpp, doc/compact_blocks.md)
    void compactBlocksOffered(int64_t peer_id, bool high_bandwidth) override;
    void compactBlockReceived(int64_t peer_id, std::vector<uint8_t> cmpctblock) override;
    void blockTransactionsReceived(int64_t peer_id, std::vector<uint8_t> blocktxn) override;
    std::optional<interfaces::WireMessage> getBlockTransactions(int64_t peer_id,
                                                                std::vector<uint8_t> getblocktxn) override;
    std::optional<interfaces::WireMessage> getCompactBlock(int64_t peer_id, std::vector<uint8_t> hash) override;
    //! getpeerinfo's (bip152_hb_to, bip152_hb_from) of a peer; nullopt before its handshake.
    std::optional<std::pair<bool, bool>> CompactStats(int64_t peer_id);
    // PeerHost: addresses (net_connections.cpp, doc/addrman.md)
    void addressesReceived(int64_t peer_id, bool addrv2, std::vector<uint8_t> payload) override;
    std::optional<std::vector<uint8_t>> getAddresses(int64_t peer_id) override;
    bool peerMisbehaved(int64_t peer_id, std::string reason) override;

    // What the address RPC methods read and do (rpc/net_addresses.cpp).
    //! getnodeaddresses: `count` addresses (0: all) of `network` (nullopt: all), terrible ones left out.
    std::vector<p2p::PeerAddress> GetNodeAddresses(size_t count, std::optional<p2p::Network> network);
    //! addpeeraddress: into the new table, then the tried one with `tried`. The error is Core's
    //! ("failed-adding-to-new", "failed-adding-to-tried"), empty on success. Writes peers.dat at once.
    std::string AddPeerAddress(const p2p::PeerAddress& address, bool tried);
    //! getaddrmaninfo: per network name, the (new, tried) counts.
    std::map<std::string, std::pair<size_t, size_t>> AddrManCounts();
    //! getpeerinfo's address relay figures of a peer.
    struct AddrRelayStats {
        bool relay_enabled{false};
        uint64_t processed{0};
        uint64_t rate_limited{0};
    };
    AddrRelayStats AddrStats(int64_t peer_id);

    //! getpeerinfo's sync figures of a peer (synced_headers, synced_blocks, inflight); nullopt before
    //! its handshake.
    std::optional<BlockSync::PeerStats> SyncStats(int64_t peer_id);
    //! Announces a new tip to every peer not known to have it (the chainstate's notification thread).
    void AnnounceTip(const BlockIndex* tip, const BlockIndex* fork);

private:
    //! The agent serving one registered peer.
    struct AgentLink {
        std::shared_ptr<ipc::Connection> connection;
        std::shared_ptr<interfaces::Agent> agent;
    };

    //! Issues an id and asks orreryd to dial `address`. Returns the failure, nullopt on success.
    std::optional<std::string> OpenOutbound(const std::string& address, const std::string& connection_type);
    //! The Supervisor proxy, connecting to orreryd first if needed. Throws when orreryd is not reachable.
    std::shared_ptr<interfaces::Supervisor> GetSupervisor();
    //! Dials a target the maintenance loop or addnode wants connected; logs the outcome once per change.
    void DialTarget(const std::string& address);
    void DropPeer(int64_t peer_id, const std::string& reason);
    //! The peer the calling agent's connection registered; PERMISSION_DENIED unless it is `peer_id`.
    void RequireOwnPeer(int64_t peer_id);
    //! Forgets the peer at once (its slot is free) and queues its agent's disconnect for the
    //! maintenance thread: the caller may be that very agent, waiting for its reply, or hold
    //! m_mutex. Call with m_mutex held; Wake() after releasing it. nullopt if the id is unknown.
    std::optional<PeerEntry> QueueDisconnect(int64_t peer_id, const std::string& reason);
    //! The agent half of QueueDisconnect, for a peer the table already forgot. m_mutex held.
    void QueueAgentDisconnect(int64_t peer_id, const std::string& reason);
    //! Makes the maintenance thread run a round now (queued disconnects).
    void Wake();
    //! Sends the queued disconnects to their agents (maintenance thread, or tests through Maintain).
    void SendQueuedDisconnects();
    uint64_t MakeNonce();

    // Block sync (node_sync.cpp). Lock order: the chainstate's lock, then m_sync_mutex; m_mutex, then
    // m_sync_mutex. Calls to agents are asynchronous and made with none of them held.
    //! Calls `method` of the peer's Agent without waiting for the reply.
    template <typename... A> void CallAgent(int64_t peer_id, std::string_view method, const A&... args);
    void SendGetHeaders(int64_t peer_id, const BlockIndex* from);
    //! The handshake is done: the peer takes part in sync, and gets its initial getheaders when the
    //! one-sync-peer rule lets it (doc/sync.md).
    void StartSync(int64_t peer_id, const PeerEntry& entry, const interfaces::PeerVersion& version);
    //! Sends the initial getheaders to the peers the one-sync-peer rule now lets sync (all of them once our
    //! best header is recent), from the best header's parent; `only`: just that peer.
    void StartHeadersSync(std::optional<int64_t> only = std::nullopt);
    //! Asks each peer with room for the next blocks to download.
    void ScheduleDownloads();
    //! The maintenance thread's round: stallers and download timeouts dropped, gone peers forgotten,
    //! downloads scheduled.
    void SyncTick();
    //! The peer left: its blocks in flight are asked from the others.
    void SyncPeerGone(int64_t peer_id);
    //! Core 28's Misbehaving: drops and discourages the peer (a local one is only dropped); a manual or
    //! noban peer is only logged. True when the peer is dropped.
    bool Misbehaving(int64_t peer_id, const std::string& reason);

    // Compact blocks (node_compact.cpp). m_cmpct_mutex is taken last: after the chainstate's lock,
    // m_mutex, m_sync_mutex or m_relay_mutex, and nothing is taken or called while it is held.
    void StartCompact(int64_t peer_id, bool inbound);
    void CompactPeerGone(int64_t peer_id);
    //! Core's BlockChecked: the first sender of a new valid block may become a high-bandwidth peer.
    void MaybeSelectHighBandwidth(int64_t peer_id, const uint256& hash, const BlockSubmitResult& result);
    //! The mempool's transactions with their wtxids, for reconstruction.
    std::vector<p2p::KnownTransaction> MempoolTransactions();
    //! A compact block failed: getdata of the whole block from the same peer.
    void RequestFullBlock(int64_t peer_id, const uint256& hash);
    //! A block rebuilt from a compact block: processed, never punished for (BIP152).
    void ProcessReconstructedBlock(int64_t peer_id, Block block);
    //! The most recent tip's block when it is `hash`, else null.
    std::shared_ptr<const Block> RecentBlock(const uint256& hash);
    //! The cmpctblock payload of the new tip (built once, with a fresh nonce; kept as the recent block).
    std::vector<uint8_t> CompactTip(const BlockIndex* tip);
    //! Peers that asked for high-bandwidth announcements.
    std::set<int64_t> HighBandwidthListeners();
    //! Whether the peer sent sendcmpct version 2.
    bool WantsCompactBlocks(int64_t peer_id);

    // Addresses and automatic outbound connections (net_connections.cpp).
    //! <net>/peers.dat (empty path without a datadir).
    std::filesystem::path PeersDatPath() const;
    //! Reads peers.dat at start: missing is an empty book; damaged is set aside (peers.dat.bad) and logged.
    void LoadAddresses();
    //! Writes peers.dat (temp file, fsync, rename) when the book changed, at most every addr_dump_interval
    //! unless `force`.
    void SaveAddresses(bool force);
    //! The maintenance round's part: addr-fetch, full-relay, block-relay-only and feeler connections.
    void OpenAutomaticConnections();
    //! A handshake with `entry` completed: tried table, getaddr, feeler done.
    void AddressPeerReady(const PeerEntry& entry);
    //! Forgets the address state of peers no longer in the table (Core's Connected for full outbound ones).
    void ForgetGoneAddressPeers();
    //! Core's RelayAddress: an address fresh from a small addr message goes to up to two other peers.
    void RelayAddress(int64_t from_peer, const p2p::PeerAddress& address);
    //! -dnsseed: the seeds' addresses when the book is empty (a thread of its own; never on regtest).
    void QueryDnsSeeds();

    // Transaction relay (node_relay.cpp). Lock order: m_mutex, then m_relay_mutex; the mempool's lock, then
    // m_relay_mutex (its listener): the mempool is never called with m_relay_mutex held.
    //! The handshake is done: the peer takes part in relay as its version and our policy allow.
    void StartRelay(int64_t peer_id, const PeerEntry& entry, const interfaces::PeerVersion& version);
    //! The maintenance round: trickles, transaction requests, feefilters, orphan expiry, unbroadcast retries.
    void RelayTick();
    //! Asks peers for the announced transactions whose turn has come.
    void SendTxRequests(int64_t now_us);
    //! Core's AlreadyHaveTx: known from the orphanage, the reject filters, recent blocks or the mempool.
    //! m_relay_mutex held.
    bool AlreadyHaveTxLocked(const uint256& hash, bool wtxid, bool include_reconsiderable) const;
    //! Mempool acceptance of a transaction from `peer_id`, then of the orphans it unlocks.
    void ProcessTransaction(int64_t peer_id, const std::shared_ptr<const Transaction>& tx);
    //! -blocksonly: transactions from peers are refused (but those with the relay permission).
    bool RejectsIncomingTxs(const PeerEntry& entry) const;

    //! -whitebind and -whitelist ("in") permissions of an inbound peer.
    uint32_t InboundPermissions(const std::string& address, const std::string& local_address) const;
    //! -whitelist ("out") permissions of a manual outbound peer.
    uint32_t OutboundPermissions(const std::string& address, const std::string& connection_type) const;
    //! banlist.json in the network's folder (empty path when the node has no datadir).
    std::filesystem::path BanListPath() const;
    //! Reads the bans at start-up: a missing file is no bans; a bad one is logged and ignored.
    void LoadBans();
    //! Writes the bans (expired ones swept) to banlist.json atomically. Call with m_mutex held.
    void SaveBans();

    const NodeConfig m_config;
    const ChainParams m_params;
    std::unique_ptr<ChainstateManager> m_chainstate;
    std::atomic<bool> m_chainstate_loaded{false};
    std::unique_ptr<Mempool> m_mempool;
    std::atomic<bool> m_mempool_stopped{false};

    // Before m_peers, which draws a nonce as it is built.
    std::mutex m_nonce_mutex;
    std::mt19937_64 m_nonce_rng; // guarded by m_nonce_mutex

    std::mutex m_mutex;
    PeerTable m_peers;                                                        // guarded by m_mutex
    std::map<int64_t, AgentLink> m_agents;                                    // guarded by m_mutex
    std::map<std::string, std::chrono::steady_clock::time_point> m_last_dial; // guarded by m_mutex
    std::map<std::string, std::string> m_dial_failures; // guarded by m_mutex: last failure logged per address
    struct QueuedDisconnect {
        int64_t peer_id;
        std::shared_ptr<interfaces::Agent> agent;
        std::string reason;
    };
    std::vector<QueuedDisconnect> m_disconnect_queue; // guarded by m_mutex
    //! Peers a socket-activated agent got admitted (requestAdmission) and has not registered yet, with
    //! the connection that asked: that connection alone may register the id. Guarded by m_mutex.
    std::map<int64_t, std::shared_ptr<ipc::Connection>> m_self_admitted;

    std::mutex m_sync_mutex;
    BlockSync m_sync;                           // guarded by m_sync_mutex
    std::map<int64_t, uint256> m_hash_continue; // guarded by m_sync_mutex: the last hash of a getblocks answer
    //! The best header's time as of the last maintenance round (the headers-sync timeout reads it where the
    //! chainstate's lock may not be taken).
    std::atomic<int64_t> m_best_header_time{0};
    std::shared_ptr<ValidationListener> m_tip_announcer;

    std::mutex m_relay_mutex;
    RelayState m_relay; // guarded by m_relay_mutex
    std::mutex m_cmpct_mutex;
    CompactState m_cmpct; // guarded by m_cmpct_mutex
    std::shared_ptr<MempoolListener> m_relay_listener;
    std::shared_ptr<ValidationListener> m_relay_chain_listener;
    // Addresses (net_connections.cpp). Lock order: m_mutex, then m_addr_mutex.
    struct AddrPeerState {
        std::string address;
        std::string connection_type;
        bool handshake_done{false};
        bool relay_enabled{false}; //!< Core's m_addr_relay_enabled
        bool getaddr_sent{false};
        bool getaddr_answered{false};
        double tokens{1.0}; //!< Core's address rate limit bucket
        int64_t tokens_time_us{0};
        uint64_t processed{0};
        uint64_t rate_limited{0};
    };
    std::mutex m_addr_mutex;
    std::unique_ptr<AddrMan> m_addrman;                 // guarded by m_addr_mutex
    std::map<int64_t, AddrPeerState> m_addr_peers;      // guarded by m_addr_mutex
    std::deque<std::string> m_addr_fetch;               // guarded by m_addr_mutex: -seednode targets not tried yet
    bool m_addr_dirty{false};                           // guarded by m_addr_mutex
    std::chrono::steady_clock::time_point m_addr_saved; // guarded by m_addr_mutex
    //! When the next feeler may open (GetTimeMicros, so setmocktime moves it as Core's GetTime does); 0 until the
    //! first round, which draws it one exponential spacing ahead. Guarded by m_addr_mutex.
    int64_t m_next_feeler_us{0};
    std::mt19937_64 m_addr_rng;    // guarded by m_addr_mutex
    uint64_t m_relay_key[2]{0, 0}; //!< keys the choice of peers an address is relayed to
    std::thread m_dns_thread;

    //! orreryd's process table, when supervised (null otherwise).
    const std::shared_ptr<interfaces::OrrerydProcesses> m_processes;

    std::mutex m_supervisor_mutex;
    std::unique_ptr<ipc::Client> m_supervisor_client;     // guarded by m_supervisor_mutex
    std::shared_ptr<interfaces::Supervisor> m_supervisor; // guarded by m_supervisor_mutex

    std::mutex m_thread_mutex;
    std::condition_variable m_thread_cv;
    bool m_stopping{false}; // guarded by m_thread_mutex
    bool m_wake{false};     // guarded by m_thread_mutex
    std::thread m_thread;
};

//! The listener that makes `node` announce new tips (registered by LoadChainstate).
std::shared_ptr<ValidationListener> MakeTipAnnouncer(NodeService& node);
//! The listeners that feed `node`'s relay: mempool additions and removals, blocks (registered by LoadChainstate).
std::shared_ptr<MempoolListener> MakeRelayMempoolListener(NodeService& node);
std::shared_ptr<ValidationListener> MakeRelayChainListener(NodeService& node);

//! Runs orrery-node until SIGTERM/SIGINT: takes the node's lock in the
//! network's folder, loads the chainstate (a failure exits with its message), serves Node, PeerHost and
//! Chain on -ipcbind (default <net>/run/node.sock) and offers its RPC methods to
//! the gui-bridge at -rpcrouterconnect. Returns the process exit code.
int Run(const ArgsManager& args);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_NODE_H
