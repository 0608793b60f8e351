// The fee estimator; see fee_estimator.h.
#include <services/node/mempool/fee_estimator.h>

#include <algorithm>
#include <vector>

namespace orrery::node {

void FeeEstimator::Added(const uint256& txid, int height, Amount feerate)
{
    std::lock_guard lock(m_mutex);
    m_tracked.emplace(txid, Tracked{height, feerate}); // a reorganization re-adding it keeps its first arrival
}

void FeeEstimator::Confirmed(const uint256& txid, int height)
{
    std::lock_guard lock(m_mutex);
    auto it = m_tracked.find(txid);
    if (it == m_tracked.end()) return;
    m_observations.push_back(Observation{height, it->second.feerate, std::max(1, height - it->second.height)});
    m_tracked.erase(it);
}

void FeeEstimator::Failed(const uint256& txid, int height)
{
    std::lock_guard lock(m_mutex);
    auto it = m_tracked.find(txid);
    if (it == m_tracked.end()) return;
    m_observations.push_back(Observation{height, it->second.feerate, 0});
    m_tracked.erase(it);
}

void FeeEstimator::BlockConnected(int height)
{
    std::lock_guard lock(m_mutex);
    while (!m_observations.empty() && m_observations.front().height <= height - MAX_TARGET) {
        m_observations.pop_front();
    }
}

std::optional<FeeEstimator::Estimate> FeeEstimator::EstimateFee(int target) const
{
    target = std::clamp(target, 1, MAX_TARGET);
    std::vector<Observation> sorted;
    {
        std::lock_guard lock(m_mutex);
        sorted.assign(m_observations.begin(), m_observations.end());
    }
    // Highest fee rate first: walking down, the counts are those "at this rate or above".
    std::sort(sorted.begin(), sorted.end(),
              [](const Observation& a, const Observation& b) { return a.feerate > b.feerate; });
    size_t total = 0;
    size_t within = 0;
    std::optional<Estimate> best;
    for (size_t i = 0; i < sorted.size(); ++i) {
        ++total;
        if (sorted[i].blocks > 0 && sorted[i].blocks <= target) ++within;
        // Decide only once every observation at this exact rate is counted.
        if (i + 1 < sorted.size() && sorted[i + 1].feerate == sorted[i].feerate) continue;
        if (total >= MIN_SAMPLES) {
            if (static_cast<double>(within) / static_cast<double>(total) >= SUCCESS_THRESHOLD) {
                best = Estimate{sorted[i].feerate, target};
            } else {
                break; // lower rates only add observations at lower rates; Core stops at the first failing bucket
            }
        }
    }
    return best;
}

size_t FeeEstimator::Observations() const
{
    std::lock_guard lock(m_mutex);
    return m_observations.size();
}

} // namespace orrery::node
