// Consensus-critical constants (Core's consensus/consensus.h and the relative
// lock-time constants of CTxIn).
#ifndef ORRERY_COMMON_CONSENSUS_CONSENSUS_H
#define ORRERY_COMMON_CONSENSUS_CONSENSUS_H

#include <cstddef>
#include <cstdint>

namespace orrery {

//! BIP141 weight limit of a block.
inline constexpr unsigned MAX_BLOCK_WEIGHT = 4000000;
//! Largest serialized block including witness (also bounds P2P messages).
inline constexpr unsigned MAX_BLOCK_SERIALIZED_SIZE = 4000000;
//! Sigop cost limit of a block (legacy sigops count 4 each).
inline constexpr int64_t MAX_BLOCK_SIGOPS_COST = 80000;
inline constexpr int WITNESS_SCALE_FACTOR = 4;
//! Blocks before a coinbase output may be spent.
inline constexpr int COINBASE_MATURITY = 100;
//! Weight of the smallest transaction that can be valid (60 bytes).
inline constexpr size_t MIN_TRANSACTION_WEIGHT = WITNESS_SCALE_FACTOR * 60;
//! Weight of the smallest transaction that can be parsed (10 bytes).
inline constexpr size_t MIN_SERIALIZABLE_TRANSACTION_WEIGHT = WITNESS_SCALE_FACTOR * 10;

//! nLockTime below this is a block height, at or above it a UNIX time.
inline constexpr uint32_t LOCKTIME_THRESHOLD = 500000000;

//! nSequence value that disables nLockTime and BIP68 for an input.
inline constexpr uint32_t SEQUENCE_FINAL = 0xffffffff;
//! Highest nSequence that still enables nLockTime (BIP125 users pick below).
inline constexpr uint32_t MAX_SEQUENCE_NONFINAL = SEQUENCE_FINAL - 1;
//! BIP68: when set, nSequence has no relative lock-time meaning.
inline constexpr uint32_t SEQUENCE_LOCKTIME_DISABLE_FLAG = 1U << 31;
//! BIP68: when set, the lock is in units of 512 seconds, else in blocks.
inline constexpr uint32_t SEQUENCE_LOCKTIME_TYPE_FLAG = 1U << 22;
inline constexpr uint32_t SEQUENCE_LOCKTIME_MASK = 0x0000ffff;
//! log2(512): time-based relative locks count in 512-second units.
inline constexpr int SEQUENCE_LOCKTIME_GRANULARITY = 9;

//! Largest time a block header may be ahead of the node's clock.
inline constexpr int64_t MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;
//! BIP94: how far the first block of a period may precede its parent.
inline constexpr int64_t MAX_TIMEWARP = 600;

//! Witness commitment output prefix: OP_RETURN, push 36, 0xaa21a9ed.
inline constexpr uint8_t WITNESS_COMMITMENT_HEADER[6] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};
inline constexpr size_t MINIMUM_WITNESS_COMMITMENT = 38;

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_CONSENSUS_H
