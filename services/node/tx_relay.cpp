// Transaction relay bookkeeping; see tx_relay.h and doc/relay.md.
#include <services/node/tx_relay.h>

#include <algorithm>
#include <cmath>

namespace orrery::node {

int64_t ExponentialDelay(std::mt19937_64& rng, int64_t mean_us)
{
    // 48 random bits as Core draws them; log1p keeps precision near zero.
    const double unit = static_cast<double>(rng() >> 16) / static_cast<double>(1ULL << 48);
    return static_cast<int64_t>(-std::log1p(-unit) * static_cast<double>(mean_us));
}

// ---------------------------------------------------------------- RollingHashSet

void RollingHashSet::Insert(const uint256& hash)
{
    if (Contains(hash)) return;
    if (m_current.size() >= m_half) {
        m_previous = std::move(m_current);
        m_current.clear();
    }
    m_current.insert(hash);
}

void RollingHashSet::Clear()
{
    m_current.clear();
    m_previous.clear();
}

// ---------------------------------------------------------------- TxOrphanage

bool TxOrphanage::AddTx(std::shared_ptr<const Transaction> tx, int64_t peer, int64_t now)
{
    const uint256 wtxid = tx->GetWtxid();
    if (m_orphans.count(wtxid)) return false;
    // Core: a transaction too heavy to be standard is not worth the memory (MAX_STANDARD_TX_WEIGHT).
    if (GetTransactionWeight(*tx) > 400'000) return false;
    Orphan orphan{tx, tx->GetTxid(), wtxid, peer, now + ORPHAN_TX_EXPIRE_TIME_S};
    for (const TxIn& in : tx->vin) m_by_prevout[in.prevout].insert(wtxid);
    m_orphans.emplace(wtxid, std::move(orphan));
    return true;
}

bool TxOrphanage::HaveTxid(const uint256& txid) const
{
    // At most -maxorphantx entries: a scan costs less than a second index to keep right.
    return std::any_of(m_orphans.begin(), m_orphans.end(), [&](const auto& o) { return o.second.txid == txid; });
}

const TxOrphanage::Orphan* TxOrphanage::Find(const uint256& wtxid) const
{
    auto it = m_orphans.find(wtxid);
    return it == m_orphans.end() ? nullptr : &it->second;
}

void TxOrphanage::EraseLocked(std::map<uint256, Orphan>::iterator it)
{
    for (const TxIn& in : it->second.tx->vin) {
        auto spends = m_by_prevout.find(in.prevout);
        if (spends == m_by_prevout.end()) continue;
        spends->second.erase(it->first);
        if (spends->second.empty()) m_by_prevout.erase(spends);
    }
    m_orphans.erase(it);
}

bool TxOrphanage::EraseTx(const uint256& wtxid)
{
    auto it = m_orphans.find(wtxid);
    if (it == m_orphans.end()) return false;
    EraseLocked(it);
    return true;
}

size_t TxOrphanage::EraseForPeer(int64_t peer)
{
    size_t erased = 0;
    for (auto it = m_orphans.begin(); it != m_orphans.end();) {
        auto next = std::next(it);
        if (it->second.from_peer == peer) {
            EraseLocked(it);
            ++erased;
        }
        it = next;
    }
    return erased;
}

size_t TxOrphanage::EraseForBlock(const Block& block)
{
    std::set<uint256> gone;
    for (const Transaction& tx : block.txs) {
        gone.insert(tx.GetWtxid()); // confirmed (with this witness)
        for (const TxIn& in : tx.vin) {
            auto spends = m_by_prevout.find(in.prevout);
            if (spends != m_by_prevout.end()) gone.insert(spends->second.begin(), spends->second.end());
        }
    }
    size_t erased = 0;
    for (const auto& wtxid : gone) erased += EraseTx(wtxid) ? 1 : 0;
    return erased;
}

std::vector<uint256> TxOrphanage::LimitOrphans(size_t max_orphans, int64_t now, std::mt19937_64& rng)
{
    std::vector<uint256> gone;
    if (m_next_sweep <= now) {
        int64_t earliest = now + ORPHAN_TX_EXPIRE_TIME_S;
        for (auto it = m_orphans.begin(); it != m_orphans.end();) {
            auto next = std::next(it);
            if (it->second.expire_time <= now) {
                gone.push_back(it->first);
                EraseLocked(it);
            } else {
                earliest = std::min(earliest, it->second.expire_time);
            }
            it = next;
        }
        // As Core: sweep again when the next orphan expires, but not sooner than the interval allows.
        m_next_sweep = earliest + ORPHAN_TX_EXPIRE_INTERVAL_S;
    }
    while (m_orphans.size() > max_orphans) {
        auto it = std::next(m_orphans.begin(), static_cast<long>(rng() % m_orphans.size()));
        gone.push_back(it->first);
        EraseLocked(it);
    }
    return gone;
}

std::vector<TxOrphanage::Orphan> TxOrphanage::ChildrenOf(const Transaction& parent, const uint256& parent_txid) const
{
    std::set<uint256> children;
    for (uint32_t n = 0; n < parent.vout.size(); ++n) {
        auto spends = m_by_prevout.find(OutPoint{parent_txid, n});
        if (spends != m_by_prevout.end()) children.insert(spends->second.begin(), spends->second.end());
    }
    std::vector<Orphan> out;
    for (const auto& wtxid : children) out.push_back(m_orphans.at(wtxid));
    return out;
}

// ---------------------------------------------------------------- TrickleScheduler

bool TrickleScheduler::Due(int64_t peer, bool inbound, bool noban, int64_t now_us)
{
    bool due = noban; // Core: noban peers bypass the trickle
    int64_t& next = m_next[peer];
    if (next < now_us) {
        due = true;
        if (inbound) {
            // Core's NextInvToInbounds: one timer for every inbound peer.
            if (m_next_inbound < now_us) {
                m_next_inbound = now_us + ExponentialDelay(m_rng, INBOUND_INVENTORY_BROADCAST_INTERVAL_US);
            }
            next = m_next_inbound;
        } else {
            next = now_us + ExponentialDelay(m_rng, OUTBOUND_INVENTORY_BROADCAST_INTERVAL_US);
        }
    }
    return due;
}

int64_t TrickleScheduler::NextFor(int64_t peer) const
{
    auto it = m_next.find(peer);
    return it == m_next.end() ? 0 : it->second;
}

// ---------------------------------------------------------------- FeeFilterRounder

FeeFilterRounder::FeeFilterRounder(Amount min_incremental_fee_per_kvb, uint64_t seed) : m_rng(seed)
{
    // Core's MakeFeeSet: 0, then from half the incremental fee up to 10,000,000 sat/kvB in steps of 10%.
    constexpr double MAX_FILTER_FEERATE = 1e7;
    constexpr double FEE_FILTER_SPACING = 1.1;
    m_buckets.insert(0);
    for (double boundary = static_cast<double>(std::max<Amount>(1, min_incremental_fee_per_kvb / 2));
         boundary <= MAX_FILTER_FEERATE; boundary *= FEE_FILTER_SPACING) {
        m_buckets.insert(boundary);
    }
}

Amount FeeFilterRounder::Round(Amount fee_rate)
{
    auto it = m_buckets.lower_bound(static_cast<double>(fee_rate));
    if (it == m_buckets.end() || (it != m_buckets.begin() && m_rng() % 3 != 0)) --it;
    return static_cast<Amount>(*it);
}

// ---------------------------------------------------------------- TxDownload

void TxDownload::ReceivedInv(int64_t peer, const uint256& hash, bool wtxid, bool preferred, int64_t request_time_us,
                             bool relay_permission)
{
    size_t& count = m_per_peer[peer];
    if (count >= MAX_PEER_TX_ANNOUNCEMENTS && !relay_permission) return;
    auto& announcements = m_hashes[hash];
    for (const auto& a : announcements) {
        if (a.peer == peer) return;
    }
    announcements.push_back({peer, wtxid, preferred, request_time_us, m_order++, false, 0});
    ++count;
}

std::map<int64_t, std::vector<TxDownload::Request>> TxDownload::RequestsToSend(int64_t now_us)
{
    std::map<int64_t, std::vector<Request>> out;
    for (auto it = m_hashes.begin(); it != m_hashes.end();) {
        auto& announcements = it->second;
        // A request out too long: that peer failed us; the next one gets its turn.
        for (auto a = announcements.begin(); a != announcements.end();) {
            if (a->in_flight && a->expiry_us <= now_us) {
                --m_per_peer[a->peer];
                a = announcements.erase(a);
            } else {
                ++a;
            }
        }
        if (announcements.empty()) {
            it = m_hashes.erase(it);
            continue;
        }
        const bool waiting =
            std::any_of(announcements.begin(), announcements.end(), [](const Announcement& a) { return a.in_flight; });
        if (!waiting) {
            Announcement* best = nullptr;
            for (auto& a : announcements) {
                if (a.request_time_us > now_us) continue;
                if (!best || (a.preferred && !best->preferred) ||
                    (a.preferred == best->preferred && a.order < best->order)) {
                    best = &a;
                }
            }
            if (best) {
                best->in_flight = true;
                best->expiry_us = now_us + GETDATA_TX_INTERVAL_US;
                out[best->peer].push_back({it->first, best->wtxid});
            }
        }
        ++it;
    }
    return out;
}

void TxDownload::ReceivedResponse(int64_t peer, const uint256& hash)
{
    auto it = m_hashes.find(hash);
    if (it == m_hashes.end()) return;
    auto& announcements = it->second;
    for (auto a = announcements.begin(); a != announcements.end(); ++a) {
        if (a->peer != peer) continue;
        --m_per_peer[peer];
        announcements.erase(a);
        break;
    }
    if (announcements.empty()) m_hashes.erase(it);
}

void TxDownload::ForgetTxHash(const uint256& hash)
{
    auto it = m_hashes.find(hash);
    if (it == m_hashes.end()) return;
    for (const auto& a : it->second) --m_per_peer[a.peer];
    m_hashes.erase(it);
}

void TxDownload::DisconnectedPeer(int64_t peer)
{
    for (auto it = m_hashes.begin(); it != m_hashes.end();) {
        std::erase_if(it->second, [&](const Announcement& a) { return a.peer == peer; });
        it = it->second.empty() ? m_hashes.erase(it) : std::next(it);
    }
    m_per_peer.erase(peer);
}

size_t TxDownload::CountInFlight(int64_t peer) const
{
    size_t count = 0;
    for (const auto& [hash, announcements] : m_hashes) {
        for (const auto& a : announcements) count += (a.peer == peer && a.in_flight) ? 1 : 0;
    }
    return count;
}

size_t TxDownload::CountAnnouncements(int64_t peer) const
{
    auto it = m_per_peer.find(peer);
    return it == m_per_peer.end() ? 0 : it->second;
}

} // namespace orrery::node
