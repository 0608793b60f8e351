// BIP9's state machine over the header tree, as Core's versionbits.cpp runs it.
#include <services/node/validation/versionbits.h>

#include <cassert>

namespace orrery::node {

std::string_view ThresholdStateName(ThresholdState state)
{
    switch (state) {
    case ThresholdState::DEFINED:
        return "defined";
    case ThresholdState::STARTED:
        return "started";
    case ThresholdState::LOCKED_IN:
        return "locked_in";
    case ThresholdState::ACTIVE:
        return "active";
    case ThresholdState::FAILED:
        return "failed";
    }
    return "invalid";
}

std::string_view DeploymentName(DeploymentPos pos)
{
    return pos == DeploymentPos::TESTDUMMY ? "testdummy" : "taproot";
}

const Bip9Deployment& DeploymentParams(const ConsensusParams& params, DeploymentPos pos)
{
    return pos == DeploymentPos::TESTDUMMY ? params.testdummy : params.taproot;
}

bool SignalsDeployment(int32_t version, const Bip9Deployment& deployment)
{
    const auto bits = static_cast<uint32_t>(version);
    return (bits & VERSIONBITS_TOP_MASK) == static_cast<uint32_t>(VERSIONBITS_TOP_BITS) &&
           (bits & (uint32_t{1} << deployment.bit)) != 0;
}

Bip9Stats GetStateStatistics(const BlockIndex* index, const Bip9Deployment& deployment, std::vector<bool>* signals)
{
    Bip9Stats stats;
    stats.period = deployment.period;
    stats.threshold = deployment.threshold;
    if (index == nullptr) return stats;
    int remaining = 1 + index->height % stats.period; // blocks of the period up to `index`
    if (signals) signals->assign(static_cast<size_t>(remaining), false);
    for (const BlockIndex* walk = index; remaining > 0; walk = walk->prev) {
        --remaining;
        ++stats.elapsed;
        if (SignalsDeployment(walk->header.version, deployment)) {
            ++stats.count;
            if (signals) (*signals)[static_cast<size_t>(remaining)] = true;
        }
    }
    stats.possible = (stats.period - stats.threshold) >= (stats.elapsed - stats.count);
    return stats;
}

ThresholdState VersionBitsCache::StateLocked(const BlockIndex* prev, const Bip9Deployment& deployment, Cache& cache)
{
    if (deployment.start_time == Bip9Deployment::ALWAYS_ACTIVE) return ThresholdState::ACTIVE;
    if (deployment.start_time == Bip9Deployment::NEVER_ACTIVE) return ThresholdState::FAILED;
    const int period = deployment.period;

    // Every block of a period has the state of its first block, computed from the previous period's last entry.
    if (prev) prev = prev->GetAncestor(prev->height - ((prev->height + 1) % period));

    // Back, a period at a time, to a state known already (or trivially DEFINED).
    std::vector<const BlockIndex*> to_compute;
    while (!cache.contains(prev)) {
        if (prev == nullptr || prev->GetMedianTimePast() < deployment.start_time) {
            // The genesis block is DEFINED by definition, and so is every period before the start time.
            cache[prev] = ThresholdState::DEFINED;
            break;
        }
        to_compute.push_back(prev);
        prev = prev->GetAncestor(prev->height - period);
    }
    ThresholdState state = cache.at(prev);

    // Then forward, period by period.
    while (!to_compute.empty()) {
        const BlockIndex* last = to_compute.back();
        to_compute.pop_back();
        ThresholdState next = state;
        switch (state) {
        case ThresholdState::DEFINED:
            if (last->GetMedianTimePast() >= deployment.start_time) next = ThresholdState::STARTED;
            break;
        case ThresholdState::STARTED: {
            int count = 0;
            const BlockIndex* walk = last;
            for (int i = 0; i < period; ++i, walk = walk->prev) {
                if (SignalsDeployment(walk->header.version, deployment)) ++count;
            }
            if (count >= deployment.threshold) {
                next = ThresholdState::LOCKED_IN;
            } else if (last->GetMedianTimePast() >= deployment.timeout) {
                next = ThresholdState::FAILED;
            }
            break;
        }
        case ThresholdState::LOCKED_IN:
            if (last->height + 1 >= deployment.min_activation_height) next = ThresholdState::ACTIVE;
            break;
        case ThresholdState::ACTIVE:
        case ThresholdState::FAILED:
            break; // final
        }
        cache[last] = state = next;
    }
    return state;
}

ThresholdState VersionBitsCache::State(const BlockIndex* prev, const ConsensusParams& params, DeploymentPos pos)
{
    std::lock_guard lock(m_mutex);
    return StateLocked(prev, DeploymentParams(params, pos), m_caches[static_cast<size_t>(pos)]);
}

int VersionBitsCache::StateSinceHeight(const BlockIndex* prev, const ConsensusParams& params, DeploymentPos pos)
{
    const Bip9Deployment& deployment = DeploymentParams(params, pos);
    if (deployment.start_time == Bip9Deployment::ALWAYS_ACTIVE ||
        deployment.start_time == Bip9Deployment::NEVER_ACTIVE) {
        return 0;
    }
    std::lock_guard lock(m_mutex);
    Cache& cache = m_caches[static_cast<size_t>(pos)];
    const ThresholdState initial = StateLocked(prev, deployment, cache);
    if (initial == ThresholdState::DEFINED) return 0; // the genesis block is DEFINED
    // Not DEFINED, so `prev` exists; step back a period at a time while the state stays the same.
    const int period = deployment.period;
    assert(prev != nullptr);
    prev = prev->GetAncestor(prev->height - ((prev->height + 1) % period));
    const BlockIndex* earlier = prev->GetAncestor(prev->height - period);
    while (earlier != nullptr && StateLocked(earlier, deployment, cache) == initial) {
        prev = earlier;
        earlier = prev->GetAncestor(prev->height - period);
    }
    return prev->height + 1;
}

int32_t VersionBitsCache::ComputeBlockVersion(const BlockIndex* prev, const ConsensusParams& params)
{
    int32_t version = VERSIONBITS_TOP_BITS;
    for (DeploymentPos pos : ALL_DEPLOYMENTS) {
        const ThresholdState state = State(prev, params, pos);
        if (state == ThresholdState::STARTED || state == ThresholdState::LOCKED_IN) {
            version |= static_cast<int32_t>(uint32_t{1} << DeploymentParams(params, pos).bit);
        }
    }
    return version;
}

} // namespace orrery::node
