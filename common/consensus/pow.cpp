// Proof-of-work checks and difficulty retargeting.
#include <common/consensus/pow.h>

#include <stdexcept>

namespace orrery {

std::optional<ArithUint256> DeriveTarget(uint32_t bits, const uint256& pow_limit)
{
    bool negative = false;
    bool overflow = false;
    const ArithUint256 target = ArithUint256::FromCompact(bits, &negative, &overflow);
    if (negative || overflow || target == ArithUint256() || target > ArithUint256::FromUint256(pow_limit)) {
        return std::nullopt;
    }
    return target;
}

uint32_t TargetToBits(const ArithUint256& target)
{
    return target.GetCompact();
}

bool CheckProofOfWork(const uint256& hash, uint32_t bits, const ConsensusParams& params)
{
    const auto target = DeriveTarget(bits, params.pow_limit);
    return target && ArithUint256::FromUint256(hash) <= *target;
}

ArithUint256 GetBlockProof(uint32_t bits)
{
    bool negative = false;
    bool overflow = false;
    const ArithUint256 target = ArithUint256::FromCompact(bits, &negative, &overflow);
    if (negative || overflow || target == ArithUint256()) return ArithUint256();
    // 2^256 / (target + 1) does not fit; it equals ~target / (target + 1) + 1.
    return (~target / (target + ArithUint256(1))) + ArithUint256(1);
}

uint32_t GetNextWorkRequired(const PowBlockInfo& parent, int64_t new_block_time, const ConsensusParams& params,
                             const PowAncestorLookup& ancestor)
{
    const int64_t interval = params.DifficultyAdjustmentInterval();
    const uint32_t pow_limit_bits = ArithUint256::FromUint256(params.pow_limit).GetCompact();

    if ((parent.height + 1) % interval != 0) {
        if (params.pow_allow_min_difficulty_blocks) {
            if (new_block_time > parent.time + params.pow_target_spacing * 2) return pow_limit_bits;
            // Walk back to the last block not mined under the 20-minute rule.
            PowBlockInfo block = parent;
            while (block.height > 0 && block.height % interval != 0 && block.bits == pow_limit_bits) {
                block = ancestor(block.height - 1);
            }
            return block.bits;
        }
        return parent.bits;
    }

    const int64_t first_height = parent.height - (interval - 1);
    if (first_height < 0) throw std::invalid_argument("GetNextWorkRequired: retarget before a full period exists");
    const PowBlockInfo first = ancestor(int(first_height));
    return CalculateNextWorkRequired(parent, first.time, first.bits, params);
}

uint32_t CalculateNextWorkRequired(const PowBlockInfo& parent, int64_t first_block_time, uint32_t first_block_bits,
                                   const ConsensusParams& params)
{
    if (params.pow_no_retargeting) return parent.bits;

    int64_t timespan = parent.time - first_block_time;
    if (timespan < params.pow_target_timespan / 4) timespan = params.pow_target_timespan / 4;
    if (timespan > params.pow_target_timespan * 4) timespan = params.pow_target_timespan * 4;

    const ArithUint256 pow_limit = ArithUint256::FromUint256(params.pow_limit);
    // BIP94 uses the period's first block, which the min-difficulty exception
    // can never apply to, so testnet4 keeps its real difficulty.
    ArithUint256 target = ArithUint256::FromCompact(params.enforce_bip94 ? first_block_bits : parent.bits);
    // Core multiplies by a uint32 here (the clamped span always fits) and
    // the product wraps modulo 2^256; both are reproduced.
    target *= uint64_t(uint32_t(timespan));
    target /= ArithUint256(uint64_t(params.pow_target_timespan));
    if (target > pow_limit) target = pow_limit;
    return target.GetCompact();
}

} // namespace orrery
