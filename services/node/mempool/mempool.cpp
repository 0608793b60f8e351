// The mempool's state: entries and their links, what reading code asks,
// removal, eviction and expiry, prioritisation, following the chain, and
// block template selection. Acceptance is in accept.cpp, mempool.dat in
// persist.cpp.
#include <services/node/mempool/mempool.h>

#include <common/consensus/consensus.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <algorithm>
#include <cmath>

namespace orrery::node {

std::string_view RemovalReasonName(RemovalReason reason)
{
    switch (reason) {
    case RemovalReason::EXPIRY:
        return "expiry";
    case RemovalReason::SIZELIMIT:
        return "sizelimit";
    case RemovalReason::REORG:
        return "reorg";
    case RemovalReason::BLOCK:
        return "block";
    case RemovalReason::CONFLICT:
        return "conflict";
    case RemovalReason::REPLACED:
        return "replaced";
    }
    return "unknown";
}

// ---------------------------------------------------------------- following the chain

class Mempool::ChainListener final : public ValidationListener
{
public:
    explicit ChainListener(Mempool& mempool) : m_mempool(mempool) {}
    void BlockConnected(const std::shared_ptr<const Block>& block, const BlockIndex* index) override
    {
        m_mempool.OnBlockConnected(*block, index);
    }
    void BlockDisconnected(const std::shared_ptr<const Block>& block, const BlockIndex* index) override
    {
        m_mempool.OnBlockDisconnected(*block, index);
    }
    void UpdatedBlockTip(const BlockIndex* tip, const BlockIndex* /*fork*/, bool /*ibd*/) override
    {
        m_mempool.OnUpdatedTip(tip);
    }

private:
    Mempool& m_mempool;
};

Mempool::Mempool(ChainstateManager& chainstate, MempoolOptions options)
    : m_chainstate(chainstate), m_options(std::move(options))
{
}

Mempool::~Mempool()
{
    Detach();
}

void Mempool::Attach()
{
    if (m_chain_listener) return;
    {
        auto chain_lock = m_chainstate.Lock();
        std::lock_guard lock(m_mutex);
        if (const BlockIndex* tip = m_chainstate.Tip()) m_tip = tip->hash;
        m_last_rolling_update = Now();
    }
    m_chain_listener = std::make_shared<ChainListener>(*this);
    m_chainstate.RegisterListener(m_chain_listener);
}

void Mempool::Detach()
{
    if (!m_chain_listener) return;
    m_chainstate.UnregisterListener(m_chain_listener);
    m_chain_listener.reset();
}

int64_t Mempool::Now() const
{
    return m_options.now ? m_options.now() : GetTime();
}

std::pair<std::unique_lock<std::recursive_mutex>, std::unique_lock<std::recursive_mutex>> Mempool::LockSynced()
{
    for (int attempt = 0;; ++attempt) {
        auto chain_lock = m_chainstate.Lock();
        std::unique_lock lock(m_mutex);
        const BlockIndex* tip = m_chainstate.Tip();
        if (!m_chain_listener || tip == nullptr || tip->hash == m_tip || attempt >= 1000) {
            return {std::move(chain_lock), std::move(lock)};
        }
        lock.unlock();
        chain_lock.unlock();
        // The chain moved and its news is still on the way to us: let it arrive.
        m_chainstate.SyncWithListeners();
    }
}

void Mempool::OnBlockConnected(const Block& block, const BlockIndex* index)
{
    auto chain_lock = m_chainstate.Lock();
    std::lock_guard lock(m_mutex);
    std::set<uint256> in_block;
    for (const Transaction& tx : block.txs) {
        const uint256 txid = tx.GetTxid();
        in_block.insert(txid);
        // A confirmed transaction leaves alone: its children stay, their parent is now in the chain.
        if (m_entries.count(txid)) {
            m_estimator.Confirmed(txid, index->height);
            RemoveEntryLocked(txid, RemovalReason::BLOCK);
        }
        // Anything else spending the same coins can never confirm now.
        for (const TxIn& in : tx.vin) {
            auto it = m_spenders.find(in.prevout);
            if (it != m_spenders.end() && it->second != txid) {
                RemoveWithDescendantsLocked(it->second, RemovalReason::CONFLICT);
            }
        }
        m_deltas.erase(txid);
        m_unbroadcast.erase(txid);
    }
    // Transactions of a disconnected block that this block confirms again need no return.
    std::erase_if(m_disconnected, [&](const auto& tx) { return in_block.count(tx->GetTxid()) > 0; });
    m_estimator.BlockConnected(index->height);
    m_block_since_bump = true;
    m_tip = index->hash;
    ++m_transactions_updated;
}

void Mempool::OnBlockDisconnected(const Block& block, const BlockIndex* index)
{
    std::lock_guard lock(m_mutex);
    // Blocks leave tip first; keep the oldest block's transactions first so parents come back before children.
    std::vector<std::shared_ptr<const Transaction>> txs;
    for (const Transaction& tx : block.txs) {
        if (!tx.IsCoinbase()) txs.push_back(std::make_shared<const Transaction>(tx));
    }
    m_disconnected.insert(m_disconnected.begin(), txs.begin(), txs.end());
    m_tip = index->header.prev_block;
}

void Mempool::OnUpdatedTip(const BlockIndex* tip)
{
    auto chain_lock = m_chainstate.Lock();
    std::lock_guard lock(m_mutex);
    if (tip) m_tip = tip->hash;
    if (!m_disconnected.empty()) UpdateForReorgLocked();
}

// ---------------------------------------------------------------- reading

bool Mempool::Exists(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    return m_entries.count(txid) > 0;
}

std::optional<MempoolEntry> Mempool::GetEntry(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(txid);
    if (it == m_entries.end()) return std::nullopt;
    return it->second;
}

std::shared_ptr<const Transaction> Mempool::GetTransaction(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(txid);
    return it == m_entries.end() ? nullptr : it->second.tx;
}

std::vector<MempoolEntry> Mempool::Entries() const
{
    std::lock_guard lock(m_mutex);
    std::vector<MempoolEntry> out;
    out.reserve(m_entries.size());
    for (const auto& [txid, entry] : m_entries) out.push_back(entry);
    std::sort(out.begin(), out.end(),
              [](const MempoolEntry& a, const MempoolEntry& b) { return a.entry_sequence < b.entry_sequence; });
    return out;
}

std::pair<std::vector<uint256>, uint64_t> Mempool::TxidsAndSequence() const
{
    std::lock_guard lock(m_mutex);
    std::vector<uint256> txids;
    txids.reserve(m_entries.size());
    for (const auto& [txid, entry] : m_entries) txids.push_back(txid);
    return {std::move(txids), m_sequence};
}

namespace {

//! Every entry reachable from `txid` along `link` (parents or children), `txid` itself excluded.
std::set<uint256> Reachable(const std::map<uint256, MempoolEntry>& entries, const uint256& txid,
                            std::set<uint256> MempoolEntry::*link)
{
    std::set<uint256> out;
    std::vector<uint256> todo{txid};
    while (!todo.empty()) {
        const uint256 next = todo.back();
        todo.pop_back();
        auto it = entries.find(next);
        if (it == entries.end()) continue;
        for (const uint256& linked : it->second.*link) {
            if (out.insert(linked).second) todo.push_back(linked);
        }
    }
    return out;
}

} // namespace

std::set<uint256> Mempool::AncestorsLocked(const uint256& txid) const
{
    return Reachable(m_entries, txid, &MempoolEntry::parents);
}

std::set<uint256> Mempool::DescendantsLocked(const uint256& txid) const
{
    return Reachable(m_entries, txid, &MempoolEntry::children);
}

PackageTotals Mempool::TotalsLocked(const uint256& txid, const std::set<uint256>& others) const
{
    PackageTotals totals;
    auto add = [&](const uint256& id) {
        auto it = m_entries.find(id);
        if (it == m_entries.end()) return;
        ++totals.count;
        totals.vsize += it->second.vsize;
        totals.modified_fees += it->second.ModifiedFee();
        totals.sigop_cost += it->second.sigop_cost;
    };
    add(txid);
    for (const uint256& id : others) add(id);
    return totals;
}

std::optional<std::vector<uint256>> Mempool::Ancestors(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    if (!m_entries.count(txid)) return std::nullopt;
    auto set = AncestorsLocked(txid);
    return std::vector<uint256>(set.begin(), set.end());
}

std::optional<std::vector<uint256>> Mempool::Descendants(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    if (!m_entries.count(txid)) return std::nullopt;
    auto set = DescendantsLocked(txid);
    return std::vector<uint256>(set.begin(), set.end());
}

PackageTotals Mempool::AncestorTotals(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    return TotalsLocked(txid, AncestorsLocked(txid));
}

PackageTotals Mempool::DescendantTotals(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    return TotalsLocked(txid, DescendantsLocked(txid));
}

std::optional<uint256> Mempool::SpenderOf(const OutPoint& outpoint) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_spenders.find(outpoint);
    if (it == m_spenders.end()) return std::nullopt;
    return it->second;
}

bool Mempool::IsReplaceable(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(txid);
    if (it == m_entries.end()) return false;
    if (SignalsOptInRbf(*it->second.tx)) return true;
    for (const uint256& ancestor : AncestorsLocked(txid)) {
        if (SignalsOptInRbf(*m_entries.at(ancestor).tx)) return true;
    }
    return false;
}

size_t Mempool::Size() const
{
    std::lock_guard lock(m_mutex);
    return m_entries.size();
}

uint64_t Mempool::Sequence() const
{
    std::lock_guard lock(m_mutex);
    return m_sequence;
}

MempoolInfo Mempool::Info() const
{
    std::lock_guard lock(m_mutex);
    MempoolInfo info;
    info.loaded = m_loaded.load();
    info.size = static_cast<int64_t>(m_entries.size());
    info.bytes = m_total_vsize;
    info.usage = m_total_usage;
    info.total_fee = m_total_fee;
    info.max_size_bytes = m_options.max_size_bytes;
    info.min_fee = std::max(GetMinFeeLocked(), m_options.min_relay_fee);
    info.min_relay_fee = m_options.min_relay_fee;
    info.incremental_relay_fee = m_options.incremental_relay_fee;
    info.unbroadcast = static_cast<int64_t>(m_unbroadcast.size());
    info.full_rbf = m_options.full_rbf;
    return info;
}

// ---------------------------------------------------------------- the rolling minimum fee

FeeRate Mempool::GetMinFee() const
{
    std::lock_guard lock(m_mutex);
    return const_cast<Mempool*>(this)->GetMinFeeLocked();
}

FeeRate Mempool::GetMinFeeLocked() const
{
    // Core's GetMinFee: after a block, the minimum set by an eviction halves every 12 hours (faster when the
    // mempool is small), and disappears below half the incremental fee.
    auto* self = const_cast<Mempool*>(this);
    if (!m_block_since_bump || m_rolling_min_fee == 0) return FeeRate(std::llround(m_rolling_min_fee));
    const int64_t now = Now();
    if (now > m_last_rolling_update + 10) {
        double halflife = 60 * 60 * 12;
        if (m_total_usage < m_options.max_size_bytes / 4) {
            halflife /= 4;
        } else if (m_total_usage < m_options.max_size_bytes / 2) {
            halflife /= 2;
        }
        self->m_rolling_min_fee /= std::pow(2.0, static_cast<double>(now - m_last_rolling_update) / halflife);
        self->m_last_rolling_update = now;
        if (m_rolling_min_fee < static_cast<double>(m_options.incremental_relay_fee.PerKvB()) / 2) {
            self->m_rolling_min_fee = 0;
            return FeeRate(0);
        }
    }
    return std::max(FeeRate(std::llround(m_rolling_min_fee)), m_options.incremental_relay_fee);
}

// ---------------------------------------------------------------- removal, eviction, expiry

void Mempool::RemoveEntryLocked(const uint256& txid, RemovalReason reason)
{
    auto it = m_entries.find(txid);
    if (it == m_entries.end()) return;
    MempoolEntry entry = std::move(it->second);
    m_entries.erase(it);
    m_by_wtxid.erase(entry.wtxid);
    for (const TxIn& in : entry.tx->vin) m_spenders.erase(in.prevout);
    for (const uint256& parent : entry.parents) {
        if (auto p = m_entries.find(parent); p != m_entries.end()) p->second.children.erase(txid);
    }
    for (const uint256& child : entry.children) {
        if (auto c = m_entries.find(child); c != m_entries.end()) c->second.parents.erase(txid);
    }
    m_total_vsize -= entry.vsize;
    m_total_usage -= entry.usage;
    m_total_fee -= entry.fee;
    if (reason != RemovalReason::BLOCK) {
        m_unbroadcast.erase(txid);
        int height = 0;
        if (const BlockIndex* tip = m_chainstate.Tip()) height = tip->height;
        m_estimator.Failed(txid, height);
    }
    const uint64_t sequence = m_sequence++;
    ++m_transactions_updated;
    LogDebug(LogCategory::MEMPOOL, "Removed {} from the mempool: {}", txid.GetHex(), RemovalReasonName(reason));
    for (const auto& listener : m_listeners) listener->TransactionRemoved(entry.tx, reason, sequence);
}

void Mempool::RemoveWithDescendantsLocked(const uint256& txid, RemovalReason reason)
{
    if (!m_entries.count(txid)) return;
    std::set<uint256> all = DescendantsLocked(txid);
    all.insert(txid);
    // Children first: remove those whose descendants are gone.
    while (!all.empty()) {
        for (auto it = all.begin(); it != all.end();) {
            const auto& children = m_entries.at(*it).children;
            const bool leaf = std::none_of(children.begin(), children.end(),
                                           [&](const uint256& child) { return all.count(child) > 0; });
            if (leaf) {
                RemoveEntryLocked(*it, reason);
                it = all.erase(it);
            } else {
                ++it;
            }
        }
    }
}

size_t Mempool::ExpireLocked(int64_t cutoff)
{
    std::vector<uint256> old;
    for (const auto& [txid, entry] : m_entries) {
        if (entry.time < cutoff) old.push_back(txid);
    }
    size_t removed = m_entries.size();
    for (const uint256& txid : old) RemoveWithDescendantsLocked(txid, RemovalReason::EXPIRY);
    removed -= m_entries.size();
    if (removed > 0) LogDebug(LogCategory::MEMPOOL, "Expired {} transactions from the memory pool", removed);
    return removed;
}

void Mempool::TrimToSizeLocked(int64_t limit, std::vector<OutPoint>* /*no_spends_remaining*/)
{
    size_t evicted = 0;
    FeeRate max_removed{0};
    while (!m_entries.empty() && UsageLocked() > limit) {
        // The lowest descendant score: for each entry the higher of its own fee rate and its package's with
        // descendants (Core's CompareTxMemPoolEntryByDescendantScore).
        const MempoolEntry* worst = nullptr;
        FeeRate worst_rate;
        PackageTotals worst_totals;
        for (const auto& [txid, entry] : m_entries) {
            const PackageTotals totals = TotalsLocked(txid, DescendantsLocked(txid));
            const FeeRate own = FeeRate::FromFee(entry.ModifiedFee(), entry.vsize);
            const FeeRate package = FeeRate::FromFee(totals.modified_fees, totals.vsize);
            const FeeRate score = std::max(own, package);
            if (worst == nullptr || score < worst_rate ||
                (score == worst_rate && entry.entry_sequence > worst->entry_sequence)) {
                worst = &entry;
                worst_rate = score;
                worst_totals = totals;
            }
        }
        // The package's own rate plus the increment is the new floor.
        const FeeRate removed(FeeRate::FromFee(worst_totals.modified_fees, worst_totals.vsize).PerKvB() +
                              m_options.incremental_relay_fee.PerKvB());
        if (static_cast<double>(removed.PerKvB()) > m_rolling_min_fee) {
            m_rolling_min_fee = static_cast<double>(removed.PerKvB());
            m_block_since_bump = false;
            m_last_rolling_update = Now();
        }
        max_removed = std::max(max_removed, removed);
        evicted += static_cast<size_t>(worst_totals.count);
        RemoveWithDescendantsLocked(worst->txid, RemovalReason::SIZELIMIT);
    }
    if (evicted > 0) {
        LogDebug(LogCategory::MEMPOOL, "Removed {} txn, rolling minimum fee bumped to {}", evicted,
                 max_removed.ToString());
    }
}

void Mempool::LimitSizeLocked()
{
    ExpireLocked(Now() - m_options.expiry.count());
    TrimToSizeLocked(m_options.max_size_bytes, nullptr);
}

void Mempool::LimitSize()
{
    auto chain_lock = m_chainstate.Lock();
    std::lock_guard lock(m_mutex);
    LimitSizeLocked();
}

// ---------------------------------------------------------------- prioritisation

void Mempool::PrioritiseTransaction(const uint256& txid, Amount delta)
{
    std::lock_guard lock(m_mutex);
    Amount& total = m_deltas[txid];
    total += delta;
    if (auto it = m_entries.find(txid); it != m_entries.end()) it->second.fee_delta = total;
    if (total == 0) m_deltas.erase(txid);
    ++m_transactions_updated;
    LogPrintf("PrioritiseTransaction: {} fee += {}", txid.GetHex(), delta);
}

std::map<uint256, Mempool::Prioritisation> Mempool::Prioritisations() const
{
    std::lock_guard lock(m_mutex);
    std::map<uint256, Prioritisation> out;
    for (const auto& [txid, delta] : m_deltas) {
        Prioritisation p;
        p.delta = delta;
        if (auto it = m_entries.find(txid); it != m_entries.end()) {
            p.in_mempool = true;
            p.modified_fee = it->second.ModifiedFee();
        }
        out[txid] = p;
    }
    return out;
}

// ---------------------------------------------------------------- broadcast

void Mempool::AddUnbroadcast(const uint256& txid)
{
    std::lock_guard lock(m_mutex);
    if (m_entries.count(txid)) m_unbroadcast.insert(txid);
}

void Mempool::RemoveUnbroadcast(const uint256& txid)
{
    std::lock_guard lock(m_mutex);
    m_unbroadcast.erase(txid);
}

bool Mempool::IsUnbroadcast(const uint256& txid) const
{
    std::lock_guard lock(m_mutex);
    return m_unbroadcast.count(txid) > 0;
}

// ---------------------------------------------------------------- listeners

void Mempool::RegisterListener(std::shared_ptr<MempoolListener> listener)
{
    std::lock_guard lock(m_mutex);
    m_listeners.push_back(std::move(listener));
}

void Mempool::UnregisterListener(const std::shared_ptr<MempoolListener>& listener)
{
    std::lock_guard lock(m_mutex);
    std::erase(m_listeners, listener);
}

// ---------------------------------------------------------------- block templates

std::vector<Mempool::BlockCandidate> Mempool::SelectForBlock(int64_t max_weight, int64_t max_sigop_cost)
{
    auto [chain_lock, lock] = LockSynced();
    // Core's addPackageTxs: repeatedly take the entry whose not-yet-included ancestors give the best fee rate,
    // with those ancestors, parents first, while it fits.
    std::set<uint256> included;
    std::set<uint256> failed;
    std::vector<BlockCandidate> out;
    int64_t weight = 0;
    int64_t sigops = 0;
    while (true) {
        const uint256* best = nullptr;
        FeeRate best_rate;
        std::set<uint256> best_package;
        int64_t best_weight = 0;
        int64_t best_sigops = 0;
        for (const auto& [txid, entry] : m_entries) {
            if (included.count(txid) || failed.count(txid)) continue;
            std::set<uint256> package = AncestorsLocked(txid);
            for (auto it = package.begin(); it != package.end();) it = included.count(*it) ? package.erase(it) : ++it;
            package.insert(txid);
            Amount package_fee = 0;
            int64_t package_vsize = 0;
            int64_t package_weight = 0;
            int64_t package_sigops = 0;
            for (const uint256& id : package) {
                const MempoolEntry& e = m_entries.at(id);
                package_fee += e.ModifiedFee();
                package_vsize += e.vsize;
                package_weight += e.weight;
                package_sigops += e.sigop_cost;
            }
            const FeeRate rate = FeeRate::FromFee(package_fee, package_vsize);
            if (best == nullptr || rate > best_rate) {
                best = &txid;
                best_rate = rate;
                best_package = std::move(package);
                best_weight = package_weight;
                best_sigops = package_sigops;
            }
        }
        if (best == nullptr) break;
        if (weight + best_weight > max_weight || sigops + best_sigops > max_sigop_cost) {
            failed.insert(*best);
            continue;
        }
        // Parents first: ancestors have fewer in-mempool ancestors than their descendants.
        std::vector<uint256> ordered(best_package.begin(), best_package.end());
        std::map<uint256, size_t> depth;
        for (const uint256& id : ordered) depth[id] = AncestorsLocked(id).size();
        std::sort(ordered.begin(), ordered.end(), [&](const uint256& a, const uint256& b) {
            return depth[a] != depth[b] ? depth[a] < depth[b] : a < b;
        });
        for (const uint256& id : ordered) {
            const MempoolEntry& e = m_entries.at(id);
            out.push_back(BlockCandidate{e.tx, e.txid, e.wtxid, e.fee, e.sigop_cost, e.weight});
            included.insert(id);
        }
        weight += best_weight;
        sigops += best_sigops;
    }
    return out;
}

} // namespace orrery::node
