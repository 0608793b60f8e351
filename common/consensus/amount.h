// Amounts in satoshis and the consensus limits on them.
#ifndef ORRERY_COMMON_CONSENSUS_AMOUNT_H
#define ORRERY_COMMON_CONSENSUS_AMOUNT_H

#include <cstdint>

namespace orrery {

using Amount = int64_t;

inline constexpr Amount COIN = 100000000;
//! No amount larger than this is valid; a sanity check, not the supply.
inline constexpr Amount MAX_MONEY = 21000000 * COIN;

inline constexpr bool MoneyRange(Amount value) { return value >= 0 && value <= MAX_MONEY; }

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_AMOUNT_H
