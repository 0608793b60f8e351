// Absolute (nLockTime, BIP113) and relative (BIP68) lock-time rules as pure
// functions of the values a caller reads from its chain.
#ifndef ORRERY_COMMON_CONSENSUS_LOCKTIME_H
#define ORRERY_COMMON_CONSENSUS_LOCKTIME_H

#include <common/consensus/transaction.h>

#include <cstdint>
#include <span>
#include <utility>

namespace orrery {

//! Core's IsFinalTx. block_time is the block's own time before BIP113 (CSV)
//! and the parent's median time past after it; pass whichever applies.
bool IsFinalTx(const Transaction& tx, int block_height, int64_t block_time);

//! Median of the given block times (Core's GetMedianTimePast takes the last
//! 11 blocks; pass those, in any order). Zero for an empty span.
int64_t MedianTimePast(std::span<const int64_t> times);

//! BIP68 lock of a transaction in nLockTime semantics: the last invalid
//! height and time (-1 = no constraint). prev_heights[i] is the height of the
//! block that created input i's coin; prev_mtps[i] is the median time past of
//! that block's parent, i.e. of the block at max(prev_heights[i] - 1, 0).
//! Relative locks are enforced only for version >= 2 (compared unsigned, as
//! BIP68 specifies) and when enforce_bip68 (CSV active) is set.
//! Precondition: both spans have one entry per input.
std::pair<int, int64_t> CalculateSequenceLocks(const Transaction& tx, bool enforce_bip68,
                                               std::span<const int> prev_heights,
                                               std::span<const int64_t> prev_mtps);

//! Whether a block at block_height, whose parent's median time past is
//! prev_median_time_past, satisfies the lock.
bool EvaluateSequenceLocks(int block_height, int64_t prev_median_time_past, std::pair<int, int64_t> lock);

//! Calculate then evaluate.
bool SequenceLocks(const Transaction& tx, bool enforce_bip68, std::span<const int> prev_heights,
                   std::span<const int64_t> prev_mtps, int block_height, int64_t prev_median_time_past);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_LOCKTIME_H
