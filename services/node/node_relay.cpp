// The node's half of transaction relay (doc/relay.md): what agents report
// (announcements, transactions, notfound, feefilter, mempool requests), what
// their peers fetch, the orphans, and the maintenance round that trickles
// announcements, asks peers for transactions and sends feefilters. The node
// decides everything; agents only frame, check and forward. Transactions are
// parsed and validated here again, and only the mempool's transactions are
// ever announced or served, so nothing invalid is relayed.
#include <services/node/node.h>

#include <common/util/logging.h>
#include <common/util/mock_time.h>
#include <common/util/net_permissions.h>

#include <algorithm>

namespace orrery::node {
namespace {

std::vector<uint256> ParseTxHashes(const std::vector<uint8_t>& bytes, const char* what)
{
    auto hashes = ParseHashList(bytes, 50000); // Core's MAX_INV_SZ
    if (!hashes) {
        throw std::runtime_error(std::string(what) + ": " + std::to_string(bytes.size()) +
                                 " bytes are not whole 32-byte hashes, or too many");
    }
    return *hashes;
}

std::vector<uint8_t> ToBytes(const std::vector<uint256>& hashes)
{
    std::vector<uint8_t> out;
    out.reserve(hashes.size() * uint256::kSize);
    for (const auto& hash : hashes) out.insert(out.end(), hash.data(), hash.data() + uint256::kSize);
    return out;
}

class RelayMempoolListener final : public MempoolListener
{
public:
    explicit RelayMempoolListener(NodeService& node) : m_node(node) {}
    void TransactionAdded(const MempoolEntry& entry, uint64_t mempool_sequence) override
    {
        m_node.RelayTransactionAdded(entry, mempool_sequence);
    }
    void TransactionRemoved(const std::shared_ptr<const Transaction>& tx, RemovalReason, uint64_t) override
    {
        m_node.RelayTransactionRemoved(*tx);
    }

private:
    NodeService& m_node;
};

class RelayChainListener final : public ValidationListener
{
public:
    explicit RelayChainListener(NodeService& node) : m_node(node) {}
    void BlockConnected(const std::shared_ptr<const Block>& block, const BlockIndex*) override
    {
        m_node.RelayBlockConnected(*block);
    }
    void BlockDisconnected(const std::shared_ptr<const Block>&, const BlockIndex*) override
    {
        m_node.RelayBlockDisconnected();
    }
    void UpdatedBlockTip(const BlockIndex*, const BlockIndex*, bool) override { m_node.RelayNewTip(); }

private:
    NodeService& m_node;
};

} // namespace

std::shared_ptr<MempoolListener> MakeRelayMempoolListener(NodeService& node)
{
    return std::make_shared<RelayMempoolListener>(node);
}

std::shared_ptr<ValidationListener> MakeRelayChainListener(NodeService& node)
{
    return std::make_shared<RelayChainListener>(node);
}

// ---------------------------------------------------------------- peers joining and leaving

bool NodeService::RejectsIncomingTxs(const PeerEntry& entry) const
{
    // Core's RejectIncomingTxs: block-relay-only links never carry transactions, nor do feelers (they only
    // check that an address answers); with -blocksonly, only peers with the relay permission may send them.
    if (entry.connection_type == "block-relay-only" || entry.connection_type == "feeler") return true;
    if (HasPermission(entry.permissions, PF_RELAY)) return false;
    return m_config.blocks_only;
}

void NodeService::StartRelay(int64_t peer_id, const PeerEntry& entry, const interfaces::PeerVersion& version)
{
    PeerRelay peer;
    peer.inbound = entry.inbound;
    peer.permissions = entry.permissions;
    peer.preferred = !entry.inbound || HasPermission(entry.permissions, PF_NOBAN);
    peer.wtxid_relay = version.wtxid_relay;
    // Core sets up transaction relay unless the link is block-relay-only or a feeler, and announces to the
    // peer only when its version asked for transactions (no bloom filters are offered).
    peer.tx_relay = entry.connection_type != "block-relay-only" && entry.connection_type != "feeler";
    peer.relay_txs = peer.tx_relay && version.relay;
    peer.feefilter = version.version >= 70013;
    std::lock_guard lock(m_relay_mutex);
    if (!m_relay.fee_rounder) {
        m_relay.fee_rounder.emplace(m_mempool->Options().incremental_relay_fee.PerKvB(), m_relay.rng());
    }
    m_relay.peers[peer_id] = std::move(peer);
}

std::optional<std::pair<bool, Amount>> NodeService::RelayStats(int64_t peer_id)
{
    std::lock_guard lock(m_relay_mutex);
    auto it = m_relay.peers.find(peer_id);
    if (it == m_relay.peers.end()) return std::nullopt;
    return std::make_pair(it->second.relay_txs, it->second.fee_filter_received);
}

// ---------------------------------------------------------------- what the mempool and the chain tell

void NodeService::RelayTransactionAdded(const MempoolEntry& entry, uint64_t mempool_sequence)
{
    std::lock_guard lock(m_relay_mutex);
    m_relay.mempool_sequence[entry.txid] = mempool_sequence;
    m_relay.mempool_wtxids[entry.wtxid] = entry.txid;
    // Core's RelayTransaction: every peer that takes transactions gets it at its next trickle, unless it is
    // known to have it already (it announced it, or sent it to us).
    for (auto& [id, peer] : m_relay.peers) {
        if (!peer.relay_txs) continue;
        const uint256& hash = peer.wtxid_relay ? entry.wtxid : entry.txid;
        if (!peer.known.Contains(hash)) peer.to_send.insert(hash);
    }
}

void NodeService::RelayTransactionRemoved(const Transaction& tx)
{
    const uint256 txid = tx.GetTxid();
    std::lock_guard lock(m_relay_mutex);
    m_relay.mempool_sequence.erase(txid);
    m_relay.mempool_wtxids.erase(tx.GetWtxid());
}

void NodeService::RelayBlockConnected(const Block& block)
{
    std::lock_guard lock(m_relay_mutex);
    const size_t erased = m_relay.orphanage.EraseForBlock(block);
    if (erased) LogDebug(LogCategory::NET, "Erased {} orphan transaction(s) included or conflicted by block", erased);
    for (const Transaction& tx : block.txs) {
        const uint256 txid = tx.GetTxid();
        const uint256 wtxid = tx.GetWtxid();
        m_relay.recent_confirmed.Insert(txid);
        m_relay.recent_confirmed.Insert(wtxid);
        m_relay.download.ForgetTxHash(txid);
        m_relay.download.ForgetTxHash(wtxid);
    }
}

void NodeService::RelayBlockDisconnected()
{
    // Core: a disconnected block's transactions may come back; they are no longer "recently confirmed".
    std::lock_guard lock(m_relay_mutex);
    m_relay.recent_confirmed.Clear();
}

void NodeService::RelayNewTip()
{
    // Core forgets its rejections at each new tip: what failed may pass against the new chain.
    std::lock_guard lock(m_relay_mutex);
    m_relay.recent_rejects.Clear();
    m_relay.recent_rejects_reconsiderable.Clear();
}

bool NodeService::AlreadyHaveTxLocked(const uint256& hash, bool wtxid, bool include_reconsiderable) const
{
    if (wtxid) {
        if (m_relay.orphanage.HaveTx(hash)) return true;
        if (include_reconsiderable && m_relay.recent_rejects_reconsiderable.Contains(hash)) return true;
    } else if (m_relay.orphanage.HaveTxid(hash)) {
        return true;
    }
    if (m_relay.recent_confirmed.Contains(hash) || m_relay.recent_rejects.Contains(hash)) return true;
    return wtxid ? m_relay.mempool_wtxids.count(hash) != 0 : m_relay.mempool_sequence.count(hash) != 0;
}

// ---------------------------------------------------------------- PeerHost: what agents report

void NodeService::transactionsAnnounced(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    const std::vector<uint256> hashes = ParseTxHashes(bytes, "announced transactions");
    if (!m_chainstate_loaded) return;
    const bool ibd = m_chainstate->IsInitialBlockDownload();
    const int64_t now_us = GetTimeMicros();
    {
        std::lock_guard lock(m_relay_mutex);
        auto it = m_relay.peers.find(peer_id);
        if (it == m_relay.peers.end()) return;
        PeerRelay& peer = it->second;
        const bool relay_permission = HasPermission(peer.permissions, PF_RELAY);
        // Core's AddTxAnnouncement: inbound peers wait 2 s (outbound ones are asked first), txid announcements
        // wait 2 s more while wtxid peers exist, and a peer with 100 requests out waits 2 s more.
        int64_t delay = peer.preferred ? 0 : NONPREF_PEER_TX_DELAY_US;
        if (!peer.wtxid_relay && std::any_of(m_relay.peers.begin(), m_relay.peers.end(),
                                             [](const auto& p) { return p.second.wtxid_relay; })) {
            delay += TXID_RELAY_DELAY_US;
        }
        if (!relay_permission && m_relay.download.CountInFlight(peer_id) >= MAX_PEER_TX_REQUEST_IN_FLIGHT) {
            delay += OVERLOADED_PEER_TX_DELAY_US;
        }
        for (const auto& hash : hashes) {
            peer.known.Insert(hash);
            // During initial block download nothing is fetched, as in Core.
            if (ibd || AlreadyHaveTxLocked(hash, peer.wtxid_relay, true)) continue;
            m_relay.download.ReceivedInv(peer_id, hash, peer.wtxid_relay, peer.preferred, now_us + delay,
                                         relay_permission);
        }
    }
    SendTxRequests(now_us);
}

void NodeService::transactionsNotFound(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    const std::vector<uint256> hashes = ParseTxHashes(bytes, "transactions not found");
    {
        std::lock_guard lock(m_relay_mutex);
        // The next announcer, if any, is asked at once.
        for (const auto& hash : hashes) m_relay.download.ReceivedResponse(peer_id, hash);
    }
    SendTxRequests(GetTimeMicros());
}

void NodeService::transactionReceived(int64_t peer_id, std::vector<uint8_t> bytes)
{
    RequireOwnPeer(peer_id);
    if (!m_chainstate_loaded) return;
    std::shared_ptr<const Transaction> tx;
    try {
        tx = std::make_shared<const Transaction>(DeserializeTransaction(bytes));
    } catch (const std::exception& e) {
        Misbehaving(peer_id, std::string("malformed transaction: ") + e.what());
        return;
    }
    std::optional<PeerEntry> entry;
    {
        std::lock_guard lock(m_mutex);
        entry = m_peers.Find(peer_id);
    }
    if (!entry) return;
    if (RejectsIncomingTxs(*entry)) {
        // The agent refuses these itself (our version said relay=false); an agent that passes one on anyway
        // gets the disconnect Core gives the peer.
        LogPrintf("transaction sent in violation of protocol peer={}", peer_id);
        {
            std::lock_guard lock(m_mutex);
            QueueDisconnect(peer_id, "transaction sent in violation of protocol");
        }
        Wake();
        return;
    }
    // Core stops here during initial block download: there is not enough chain to judge it.
    if (m_chainstate->IsInitialBlockDownload()) return;
    const uint256 txid = tx->GetTxid();
    const uint256 wtxid = tx->GetWtxid();
    bool already = false;
    bool force_relay = false;
    {
        std::lock_guard lock(m_relay_mutex);
        auto it = m_relay.peers.find(peer_id);
        if (it == m_relay.peers.end()) return;
        it->second.known.Insert(it->second.wtxid_relay ? wtxid : txid);
        m_relay.download.ReceivedResponse(peer_id, txid);
        if (tx->HasWitness()) m_relay.download.ReceivedResponse(peer_id, wtxid);
        // By wtxid: without witness malleation that is strictly better than by txid.
        already = AlreadyHaveTxLocked(wtxid, true, true);
        force_relay = HasPermission(it->second.permissions, PF_FORCERELAY);
    }
    if (already) {
        // Core relays a forcerelay peer's transaction again even when known: the node may be a gateway.
        if (force_relay) {
            std::optional<MempoolEntry> in_mempool = m_mempool->GetEntry(txid);
            if (!in_mempool) {
                LogPrintf("Not relaying non-mempool transaction {} (wtxid={}) from forcerelay peer={}", txid.GetHex(),
                          wtxid.GetHex(), peer_id);
            } else {
                LogPrintf("Force relaying tx {} (wtxid={}) from peer={}", txid.GetHex(), wtxid.GetHex(), peer_id);
                std::lock_guard lock(m_relay_mutex);
                for (auto& [id, peer] : m_relay.peers) {
                    const uint256& hash = peer.wtxid_relay ? wtxid : txid;
                    if (peer.relay_txs && !peer.known.Contains(hash)) peer.to_send.insert(hash);
                }
            }
        }
        return;
    }
    ProcessTransaction(peer_id, tx);
}

void NodeService::ProcessTransaction(int64_t peer_id, const std::shared_ptr<const Transaction>& first)
{
    // The transaction, then each orphan whose parent just entered the mempool (Core's orphan work set), each
    // judged for the peer that sent it.
    struct Work {
        std::shared_ptr<const Transaction> tx;
        int64_t from_peer;
        bool orphan;
    };
    std::vector<Work> work{{first, peer_id, false}};
    std::vector<std::pair<int64_t, std::string>> punish;
    while (!work.empty()) {
        const Work item = work.front();
        work.erase(work.begin());
        const Transaction& tx = *item.tx;
        const uint256 txid = tx.GetTxid();
        const uint256 wtxid = tx.GetWtxid();
        if (item.orphan) {
            std::lock_guard lock(m_relay_mutex);
            if (!m_relay.orphanage.HaveTx(wtxid)) continue; // gone meanwhile (block, eviction)
        }
        const AcceptResult result = m_mempool->AcceptTransaction(tx);
        if (result.accepted) {
            LogDebug(LogCategory::NET, "AcceptToMemoryPool: peer={}: accepted {} (wtxid={}) (poolsz {} txn){}",
                     item.from_peer, txid.GetHex(), wtxid.GetHex(), m_mempool->Size(), item.orphan ? " orphan" : "");
            std::lock_guard lock(m_relay_mutex);
            m_relay.download.ForgetTxHash(txid);
            m_relay.download.ForgetTxHash(wtxid);
            m_relay.orphanage.EraseTx(wtxid);
            for (const auto& child : m_relay.orphanage.ChildrenOf(tx, txid)) {
                work.push_back({child.tx, child.from_peer, true});
            }
            continue; // announced to every peer by the mempool's listener
        }
        if (result.failure == AcceptResult::Failure::MISSING_INPUTS) {
            if (item.orphan) continue; // still missing another parent: it stays in the orphanage
            std::set<uint256> parents;
            for (const TxIn& in : tx.vin) parents.insert(in.prevout.hash);
            const int64_t now_us = GetTimeMicros();
            std::lock_guard lock(m_relay_mutex);
            const bool rejected_parents = std::any_of(parents.begin(), parents.end(), [&](const uint256& parent) {
                return m_relay.recent_rejects.Contains(parent);
            });
            if (rejected_parents) {
                LogDebug(LogCategory::NET, "not keeping orphan with rejected parents {} (wtxid={})", txid.GetHex(),
                         wtxid.GetHex());
                // Whatever its witness, it will not be accepted: neither id is asked for again.
                m_relay.recent_rejects.Insert(txid);
                m_relay.recent_rejects.Insert(wtxid);
                m_relay.download.ForgetTxHash(txid);
                m_relay.download.ForgetTxHash(wtxid);
                continue;
            }
            auto peer = m_relay.peers.find(item.from_peer);
            if (peer != m_relay.peers.end()) {
                // Parents are known only by txid, so they are asked for by txid, of the peer that sent the orphan.
                int64_t delay = peer->second.preferred ? 0 : NONPREF_PEER_TX_DELAY_US;
                if (std::any_of(m_relay.peers.begin(), m_relay.peers.end(),
                                [](const auto& p) { return p.second.wtxid_relay; })) {
                    delay += TXID_RELAY_DELAY_US;
                }
                for (const auto& parent : parents) {
                    peer->second.known.Insert(parent);
                    if (AlreadyHaveTxLocked(parent, false, false)) continue;
                    m_relay.download.ReceivedInv(item.from_peer, parent, false, peer->second.preferred, now_us + delay,
                                                 HasPermission(peer->second.permissions, PF_RELAY));
                }
            }
            if (m_relay.orphanage.AddTx(item.tx, item.from_peer, GetTime())) {
                LogDebug(LogCategory::NET, "stored orphan tx {} (wtxid={}), orphanage size {}", txid.GetHex(),
                         wtxid.GetHex(), m_relay.orphanage.Size());
            }
            // An orphan is "already had": no peer is asked for it again.
            m_relay.download.ForgetTxHash(txid);
            m_relay.download.ForgetTxHash(wtxid);
            const auto evicted = m_relay.orphanage.LimitOrphans(m_config.max_orphan_txs, GetTime(), m_relay.rng);
            if (!evicted.empty()) LogDebug(LogCategory::NET, "orphanage overflow, removed {} tx", evicted.size());
            continue;
        }
        LogDebug(LogCategory::NET, "{} (wtxid={}) from peer={} was not accepted: {}", txid.GetHex(), wtxid.GetHex(),
                 item.from_peer, result.ToString());
        {
            std::lock_guard lock(m_relay_mutex);
            if (result.failure == AcceptResult::Failure::RECONSIDERABLE) {
                m_relay.recent_rejects_reconsiderable.Insert(wtxid);
            } else if (result.failure != AcceptResult::Failure::IN_MEMPOOL) {
                m_relay.recent_rejects.Insert(wtxid);
                // The spent scripts are covered by the txid: any witness fails the same way (Core's rule).
                if (result.reject_reason == "bad-txns-nonstandard-inputs" || !tx.HasWitness()) {
                    m_relay.recent_rejects.Insert(txid);
                }
            }
            m_relay.download.ForgetTxHash(wtxid);
            if (!tx.HasWitness()) m_relay.download.ForgetTxHash(txid);
            m_relay.orphanage.EraseTx(wtxid);
        }
        // Core's MaybePunishNodeForTx: consensus-invalid data is punished; policy never is. A premature coinbase
        // spend is TX_PREMATURE_SPEND in Core, not a consensus failure of the peer.
        if (result.failure == AcceptResult::Failure::CONSENSUS &&
            result.reject_reason != "bad-txns-premature-spend-of-coinbase") {
            punish.emplace_back(item.from_peer, "invalid transaction " + txid.GetHex() + ": " + result.ToString());
        }
    }
    for (const auto& [peer, reason] : punish) Misbehaving(peer, reason);
}

void NodeService::feeFilterReceived(int64_t peer_id, int64_t fee_rate)
{
    RequireOwnPeer(peer_id);
    if (!MoneyRange(fee_rate)) throw std::runtime_error("feefilter outside the money range");
    std::lock_guard lock(m_relay_mutex);
    auto it = m_relay.peers.find(peer_id);
    if (it == m_relay.peers.end() || !it->second.tx_relay) return;
    it->second.fee_filter_received = fee_rate;
    LogDebug(LogCategory::NET, "received: feefilter of {} from peer={}", FeeRate(fee_rate).ToString(), peer_id);
}

void NodeService::mempoolRequested(int64_t peer_id)
{
    RequireOwnPeer(peer_id);
    std::optional<PeerEntry> entry;
    {
        std::lock_guard lock(m_mutex);
        entry = m_peers.Find(peer_id);
        if (!entry) return;
        // Core answers BIP35 only when it offers bloom filters (Orrery does not) or to mempool-permitted
        // peers; others are disconnected, but noban ones.
        if (!HasPermission(entry->permissions, PF_MEMPOOL)) {
            if (!HasPermission(entry->permissions, PF_NOBAN)) {
                LogDebug(LogCategory::NET, "mempool request with bloom filters disabled, disconnect peer={}", peer_id);
                QueueDisconnect(peer_id, "mempool request with bloom filters disabled");
            }
        }
    }
    if (!HasPermission(entry->permissions, PF_MEMPOOL)) {
        Wake();
        return;
    }
    std::lock_guard lock(m_relay_mutex);
    auto it = m_relay.peers.find(peer_id);
    if (it != m_relay.peers.end() && it->second.tx_relay) it->second.send_mempool = true;
}

// ---------------------------------------------------------------- PeerHost: what peers fetch

std::optional<std::vector<uint8_t>> NodeService::getTransaction(int64_t peer_id, std::vector<uint8_t> bytes, bool wtxid,
                                                                bool witness)
{
    RequireOwnPeer(peer_id);
    const std::vector<uint256> hash = ParseTxHashes(bytes, "transaction hash");
    if (hash.size() != 1) throw std::runtime_error("one transaction hash expected");
    if (!m_chainstate_loaded) return std::nullopt;
    uint256 txid;
    {
        std::lock_guard lock(m_relay_mutex);
        auto peer = m_relay.peers.find(peer_id);
        if (peer == m_relay.peers.end() || !peer->second.tx_relay) return std::nullopt;
        if (wtxid) {
            auto found = m_relay.mempool_wtxids.find(hash[0]);
            if (found == m_relay.mempool_wtxids.end()) return std::nullopt;
            txid = found->second;
        } else {
            txid = hash[0];
        }
        auto sequence = m_relay.mempool_sequence.find(txid);
        if (sequence == m_relay.mempool_sequence.end()) return std::nullopt;
        // Core's rule: only what the peer could have heard of from us, so a spy cannot probe our mempool for
        // transactions we have not announced yet.
        if (!(sequence->second < peer->second.last_inv_sequence) &&
            !peer->second.recently_announced.Contains(hash[0])) {
            return std::nullopt;
        }
    }
    std::shared_ptr<const Transaction> tx = m_mempool->GetTransaction(txid);
    if (!tx) return std::nullopt;
    // A peer fetched it: it is out in the network (sendrawtransaction's unbroadcast set).
    m_mempool->RemoveUnbroadcast(txid);
    return SerializeTransaction(*tx, witness);
}

// ---------------------------------------------------------------- the maintenance round

void NodeService::SendTxRequests(int64_t now_us)
{
    std::map<int64_t, std::vector<TxDownload::Request>> requests;
    {
        std::lock_guard lock(m_relay_mutex);
        requests = m_relay.download.RequestsToSend(now_us);
    }
    for (const auto& [peer_id, list] : requests) {
        std::vector<uint256> by_wtxid, by_txid;
        for (const auto& request : list) (request.wtxid ? by_wtxid : by_txid).push_back(request.hash);
        if (!by_wtxid.empty()) {
            LogDebug(LogCategory::NET, "getdata of {} transactions (by wtxid) to peer={}", by_wtxid.size(), peer_id);
            CallAgent(peer_id, "agent.requestTransactions", ToBytes(by_wtxid), true);
        }
        if (!by_txid.empty()) {
            LogDebug(LogCategory::NET, "getdata of {} transactions (by txid) to peer={}", by_txid.size(), peer_id);
            CallAgent(peer_id, "agent.requestTransactions", ToBytes(by_txid), false);
        }
    }
}

void NodeService::RelayTick()
{
    if (!m_chainstate_loaded || !m_mempool) return;
    const int64_t now_us = GetTimeMicros();
    std::vector<int64_t> connected;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, link] : m_agents) connected.push_back(id);
    }
    const bool ibd = m_chainstate->IsInitialBlockDownload();
    const Amount min_fee = std::max(m_mempool->GetMinFee().PerKvB(), Amount{0});
    const Amount min_relay_fee = m_mempool->Options().min_relay_fee.PerKvB();

    // Peers due for a trickle: what they are to be told, taken out under the lock and judged without it.
    struct Due {
        int64_t peer_id;
        bool wtxid;
        Amount fee_filter;
        std::vector<std::pair<uint256, uint256>> candidates; //!< (announced hash, txid)
        bool whole_mempool;
    };
    std::vector<Due> due;
    std::vector<std::pair<int64_t, Amount>> fee_filters;
    bool retry_unbroadcast = false;
    {
        std::lock_guard lock(m_relay_mutex);
        for (auto it = m_relay.peers.begin(); it != m_relay.peers.end();) {
            if (std::find(connected.begin(), connected.end(), it->first) != connected.end()) {
                ++it;
                continue;
            }
            // Gone: its announcements go to the others, its orphans are forgotten.
            m_relay.download.DisconnectedPeer(it->first);
            m_relay.orphanage.EraseForPeer(it->first);
            m_relay.trickle.RemovePeer(it->first);
            it = m_relay.peers.erase(it);
        }
        for (auto& [id, peer] : m_relay.peers) {
            if (!peer.tx_relay) continue;
            if (!m_relay.trickle.Due(id, peer.inbound, HasPermission(peer.permissions, PF_NOBAN), now_us)) continue;
            if (!peer.relay_txs) peer.to_send.clear();
            if (peer.to_send.empty() && !peer.send_mempool) continue;
            Due d{id, peer.wtxid_relay, peer.fee_filter_received, {}, peer.send_mempool};
            peer.send_mempool = false;
            for (const auto& hash : peer.to_send) {
                uint256 txid = hash;
                if (peer.wtxid_relay) {
                    auto found = m_relay.mempool_wtxids.find(hash);
                    if (found == m_relay.mempool_wtxids.end()) continue; // left the mempool
                    txid = found->second;
                }
                d.candidates.emplace_back(hash, txid);
            }
            due.push_back(std::move(d));
        }
        // Core's MaybeSendFeefilter: the mempool's minimum (rounded, at least -minrelaytxfee; the maximum during
        // initial block download) every 10 minutes on average, sooner after a large change.
        if (!m_config.blocks_only) {
            for (auto& [id, peer] : m_relay.peers) {
                if (!peer.tx_relay || !peer.feefilter || HasPermission(peer.permissions, PF_FORCERELAY)) continue;
                Amount current = ibd ? MAX_MONEY : min_fee;
                if (!ibd && peer.fee_filter_sent == m_relay.fee_rounder->Round(MAX_MONEY)) peer.next_feefilter_us = 0;
                if (now_us > peer.next_feefilter_us) {
                    const Amount to_send = std::max(m_relay.fee_rounder->Round(current), min_relay_fee);
                    if (to_send != peer.fee_filter_sent) {
                        fee_filters.emplace_back(id, to_send);
                        peer.fee_filter_sent = to_send;
                    }
                    peer.next_feefilter_us =
                        now_us + ExponentialDelay(m_relay.rng, AVG_FEEFILTER_BROADCAST_INTERVAL_US);
                } else if (now_us + MAX_FEEFILTER_CHANGE_DELAY_US < peer.next_feefilter_us &&
                           (current < 3 * peer.fee_filter_sent / 4 || current > 4 * peer.fee_filter_sent / 3)) {
                    peer.next_feefilter_us =
                        now_us + static_cast<int64_t>(m_relay.rng() % uint64_t(MAX_FEEFILTER_CHANGE_DELAY_US));
                }
            }
        }
        const auto expired = m_relay.orphanage.LimitOrphans(m_config.max_orphan_txs, GetTime(), m_relay.rng);
        if (!expired.empty()) LogDebug(LogCategory::NET, "Erased {} orphan tx due to expiration", expired.size());
        if (m_relay.next_unbroadcast_us == 0) {
            m_relay.next_unbroadcast_us = now_us + UNBROADCAST_RETRY_MIN_US;
        } else if (now_us >= m_relay.next_unbroadcast_us) {
            retry_unbroadcast = true;
            m_relay.next_unbroadcast_us =
                now_us + UNBROADCAST_RETRY_MIN_US + static_cast<int64_t>(m_relay.rng() % UNBROADCAST_RETRY_SPREAD_US);
        }
    }

    for (const auto& [peer_id, fee_rate] : fee_filters) {
        LogDebug(LogCategory::NET, "sending feefilter of {} to peer={}", FeeRate(fee_rate).ToString(), peer_id);
        CallAgent(peer_id, "agent.sendFeeFilter", fee_rate);
    }

    for (Due& d : due) {
        // Core's order: parents before children (fewer in-mempool ancestors first), then the higher fee rate.
        struct Candidate {
            uint256 hash;
            int64_t ancestors;
            FeeRate rate;
            Amount fee;
            int64_t vsize;
        };
        std::vector<Candidate> candidates;
        std::vector<uint256> dropped; // no longer in the mempool
        for (const auto& [hash, txid] : d.candidates) {
            std::optional<MempoolEntry> entry = m_mempool->GetEntry(txid);
            if (!entry) {
                dropped.push_back(hash);
                continue;
            }
            candidates.push_back({hash, m_mempool->AncestorTotals(txid).count,
                                  FeeRate::FromFee(entry->ModifiedFee(), entry->vsize), entry->fee, entry->vsize});
        }
        std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
            if (a.ancestors != b.ancestors) return a.ancestors < b.ancestors;
            return a.rate > b.rate;
        });
        const size_t limit =
            std::min(INVENTORY_BROADCAST_MAX, INVENTORY_BROADCAST_TARGET + d.candidates.size() / 1000 * 5);
        const FeeRate filter(d.fee_filter);
        std::vector<uint256> announce;
        std::vector<uint256> considered = dropped; // leave the to-send set, announced or filtered
        for (const auto& c : candidates) {
            if (announce.size() >= limit) break;
            considered.push_back(c.hash);
            // The peer's BIP133 filter: a transaction it would not take is not announced.
            if (d.fee_filter > 0 && c.fee < filter.GetFee(c.vsize)) continue;
            announce.push_back(c.hash);
        }
        if (d.whole_mempool) {
            // BIP35 for a mempool-permitted peer: everything above its filter.
            for (const MempoolEntry& entry : m_mempool->Entries()) {
                const uint256& hash = d.wtxid ? entry.wtxid : entry.txid;
                if (d.fee_filter > 0 && entry.fee < filter.GetFee(entry.vsize)) continue;
                if (std::find(announce.begin(), announce.end(), hash) == announce.end()) announce.push_back(hash);
            }
        }
        const uint64_t sequence = m_mempool->Sequence();
        {
            std::lock_guard lock(m_relay_mutex);
            auto it = m_relay.peers.find(d.peer_id);
            if (it == m_relay.peers.end()) continue;
            PeerRelay& peer = it->second;
            for (const auto& hash : considered) peer.to_send.erase(hash);
            std::vector<uint256> fresh;
            for (const auto& hash : announce) {
                if (peer.known.Contains(hash)) continue;
                peer.known.Insert(hash);
                peer.recently_announced.Insert(hash);
                fresh.push_back(hash);
            }
            announce = std::move(fresh);
            // Whatever entered the mempool before this inv may now be fetched by the peer (Core's rule).
            peer.last_inv_sequence = sequence;
        }
        if (announce.empty()) continue;
        LogDebug(LogCategory::NET, "inv of {} transactions (by {}) to peer={}", announce.size(),
                 d.wtxid ? "wtxid" : "txid", d.peer_id);
        CallAgent(d.peer_id, "agent.announceTransactions", ToBytes(announce), d.wtxid);
    }

    if (retry_unbroadcast) {
        // Core's ReattemptInitialBroadcast: a local transaction no peer fetched yet is announced again.
        std::vector<MempoolEntry> unbroadcast;
        for (const MempoolEntry& entry : m_mempool->Entries()) {
            if (m_mempool->IsUnbroadcast(entry.txid)) unbroadcast.push_back(entry);
        }
        std::lock_guard lock(m_relay_mutex);
        for (const MempoolEntry& entry : unbroadcast) {
            for (auto& [id, peer] : m_relay.peers) {
                if (peer.relay_txs) peer.to_send.insert(peer.wtxid_relay ? entry.wtxid : entry.txid);
            }
        }
    }
    SendTxRequests(now_us);
}

} // namespace orrery::node
