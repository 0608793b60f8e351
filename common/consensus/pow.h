// Proof of work: target encoding, the proof check, chain work, and the
// difficulty retarget rules (Core's pow.cpp) as pure functions. Instead of a
// block index they take the ancestor data they need as arguments.
#ifndef ORRERY_COMMON_CONSENSUS_POW_H
#define ORRERY_COMMON_CONSENSUS_POW_H

#include <common/consensus/arith_uint256.h>
#include <common/consensus/params.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <functional>
#include <optional>

namespace orrery {

//! Decodes nBits to a target; nullopt for negative, zero or overflowing
//! encodings (which can never be met).
std::optional<ArithUint256> DeriveTarget(uint32_t bits, const uint256& pow_limit);
//! Encodes a target as nBits (rounds down, like Core's GetCompact).
uint32_t TargetToBits(const ArithUint256& target);

//! hash, read as a little-endian number, is at most the target encoded in
//! bits, and that target is valid and not above the chain's pow limit.
bool CheckProofOfWork(const uint256& hash, uint32_t bits, const ConsensusParams& params);

//! Expected number of hashes to meet bits: 2^256 / (target + 1); zero for an
//! invalid encoding. Summed along a chain this is its chain work.
ArithUint256 GetBlockProof(uint32_t bits);

//! What the retarget rules need to know about one block.
struct PowBlockInfo {
    int height{0};
    uint32_t bits{0};
    int64_t time{0};
};
//! Returns the ancestor of the new block's parent at the given height
//! (0 <= height <= parent height). Only called on heights in the parent's
//! current difficulty period.
using PowAncestorLookup = std::function<PowBlockInfo(int height)>;

//! Core's GetNextWorkRequired: the nBits a block at parent.height + 1 with
//! timestamp new_block_time must carry. Off retarget boundaries this is the
//! parent's bits, except on chains with pow_allow_min_difficulty_blocks,
//! where a block more than twice the spacing late may use the pow limit and
//! otherwise the last bits not set by that exception apply (walking back
//! through ancestors, never past the period start). On a boundary, the
//! period's first block (height parent.height - (interval - 1)) is looked up.
uint32_t GetNextWorkRequired(const PowBlockInfo& parent, int64_t new_block_time, const ConsensusParams& params,
                             const PowAncestorLookup& ancestor);

//! Core's CalculateNextWorkRequired: retarget from the actual time span of
//! the period (clamped to a factor of four either way). first_block_bits is
//! used only under BIP94, which retargets from the first block's bits.
uint32_t CalculateNextWorkRequired(const PowBlockInfo& parent, int64_t first_block_time, uint32_t first_block_bits,
                                   const ConsensusParams& params);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_POW_H
