// A simple fee estimator from what the node saw confirm (estimatesmartfee).
// Each transaction that enters the mempool is noted with its fee rate and the
// height it arrived at; when a block confirms it, the number of blocks it
// waited is kept as one observation, and a transaction that leaves unconfirmed
// (expired, evicted, replaced, conflicted) is kept as a failure. An estimate
// for a target of N blocks is the lowest fee rate at which, among the
// observations at that rate or above, at least 85% confirmed within N blocks,
// over the last 1,008 blocks' observations. See doc/mempool.md.
#ifndef ORRERY_SERVICES_NODE_MEMPOOL_FEE_ESTIMATOR_H
#define ORRERY_SERVICES_NODE_MEMPOOL_FEE_ESTIMATOR_H

#include <common/consensus/amount.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

namespace orrery::node {

class FeeEstimator
{
public:
    //! Core's MAX_BLOCK_CONFS for the longest horizon: targets are clamped to it.
    static constexpr int MAX_TARGET = 1008;
    //! Observations needed at or above a fee rate before it can be an answer.
    static constexpr size_t MIN_SAMPLES = 6;
    static constexpr double SUCCESS_THRESHOLD = 0.85;

    //! A transaction entered the mempool at `height` (the tip's) with fee rate `feerate` (sat/kvB).
    void Added(const uint256& txid, int height, Amount feerate);
    //! It was confirmed by the block at `height`.
    void Confirmed(const uint256& txid, int height);
    //! It left without being confirmed at `height`.
    void Failed(const uint256& txid, int height);
    //! A block at `height` was connected: drops observations older than MAX_TARGET blocks.
    void BlockConnected(int height);

    struct Estimate {
        Amount feerate{0}; //!< sat/kvB
        int blocks{0};     //!< the target answered for
    };
    //! The lowest fee rate that confirmed within `target` blocks often enough; nullopt without enough data.
    std::optional<Estimate> EstimateFee(int target) const;
    size_t Observations() const;

private:
    struct Tracked {
        int height{0};
        Amount feerate{0};
    };
    struct Observation {
        int height{0}; //!< when it was decided
        Amount feerate{0};
        int blocks{0}; //!< blocks waited; 0 for a failure
    };
    mutable std::mutex m_mutex;
    std::map<uint256, Tracked> m_tracked;   // guarded by m_mutex
    std::deque<Observation> m_observations; // guarded by m_mutex
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_MEMPOOL_FEE_ESTIMATOR_H
