// Lock-time rules: nLockTime finality, BIP68 relative locks, median time past.
#include <common/consensus/locktime.h>

#include <common/consensus/consensus.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace orrery {

bool IsFinalTx(const Transaction& tx, int block_height, int64_t block_time)
{
    if (tx.lock_time == 0) return true;
    const int64_t lock_time = int64_t{tx.lock_time};
    if (lock_time < (lock_time < LOCKTIME_THRESHOLD ? int64_t{block_height} : block_time)) return true;
    // An unmet lock time is ignored when every input opts out with a final
    // sequence; OP_CHECKLOCKTIMEVERIFY relies on this by requiring a
    // non-final sequence.
    return std::all_of(tx.vin.begin(), tx.vin.end(), [](const TxIn& in) { return in.sequence == SEQUENCE_FINAL; });
}

int64_t MedianTimePast(std::span<const int64_t> times)
{
    if (times.empty()) return 0;
    std::vector<int64_t> sorted(times.begin(), times.end());
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
}

std::pair<int, int64_t> CalculateSequenceLocks(const Transaction& tx, bool enforce_bip68,
                                               std::span<const int> prev_heights,
                                               std::span<const int64_t> prev_mtps)
{
    if (prev_heights.size() != tx.vin.size() || prev_mtps.size() != tx.vin.size()) {
        throw std::invalid_argument("CalculateSequenceLocks: need one height and one time per input");
    }
    // nLockTime semantics: the last invalid height/time; -1 allows all.
    int min_height = -1;
    int64_t min_time = -1;
    if (!enforce_bip68 || uint32_t(tx.version) < 2) return {min_height, min_time};

    for (size_t i = 0; i < tx.vin.size(); ++i) {
        const uint32_t sequence = tx.vin[i].sequence;
        if (sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) continue;
        const int64_t value = int64_t{sequence & SEQUENCE_LOCKTIME_MASK};
        if (sequence & SEQUENCE_LOCKTIME_TYPE_FLAG) {
            // Measured from the earliest time the coin's block could have had:
            // its parent's median time past. Minus one converts "first valid"
            // into nLockTime's "last invalid".
            min_time = std::max(min_time, prev_mtps[i] + (value << SEQUENCE_LOCKTIME_GRANULARITY) - 1);
        } else {
            min_height = std::max(min_height, prev_heights[i] + int(value) - 1);
        }
    }
    return {min_height, min_time};
}

bool EvaluateSequenceLocks(int block_height, int64_t prev_median_time_past, std::pair<int, int64_t> lock)
{
    return !(lock.first >= block_height || lock.second >= prev_median_time_past);
}

bool SequenceLocks(const Transaction& tx, bool enforce_bip68, std::span<const int> prev_heights,
                   std::span<const int64_t> prev_mtps, int block_height, int64_t prev_median_time_past)
{
    return EvaluateSequenceLocks(block_height, prev_median_time_past,
                                 CalculateSequenceLocks(tx, enforce_bip68, prev_heights, prev_mtps));
}

} // namespace orrery
