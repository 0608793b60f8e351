// Context-free and height-contextual validity checks, after Core's
// validation.cpp, with the same order of checks so that the first failure
// (and hence the reject reason) is the same.
#include <common/consensus/check.h>

#include <common/consensus/consensus.h>
#include <common/consensus/locktime.h>
#include <common/consensus/merkle.h>
#include <common/consensus/pow.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace orrery {

// ---------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------

bool CheckTransaction(const Transaction& tx, ValidationState& state)
{
    if (tx.vin.empty()) return state.Invalid("bad-txns-vin-empty");
    if (tx.vout.empty()) return state.Invalid("bad-txns-vout-empty");
    // Witness is not counted: it has not been checked for malleation yet.
    if (GetSerializeSize(tx, /*with_witness=*/false) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) {
        return state.Invalid("bad-txns-oversize");
    }

    // Negative or overflowing output values (CVE-2010-5139).
    Amount total = 0;
    for (const TxOut& out : tx.vout) {
        if (out.value < 0) return state.Invalid("bad-txns-vout-negative");
        if (out.value > MAX_MONEY) return state.Invalid("bad-txns-vout-toolarge");
        total += out.value; // cannot overflow: both terms are <= MAX_MONEY here
        if (!MoneyRange(total)) return state.Invalid("bad-txns-txouttotal-toolarge");
    }

    // Duplicate inputs (CVE-2018-17144).
    if (tx.vin.size() > 1) {
        std::vector<const OutPoint*> prevouts;
        prevouts.reserve(tx.vin.size());
        for (const TxIn& in : tx.vin) prevouts.push_back(&in.prevout);
        std::sort(prevouts.begin(), prevouts.end(), [](const OutPoint* a, const OutPoint* b) { return *a < *b; });
        for (size_t i = 1; i < prevouts.size(); ++i) {
            if (*prevouts[i - 1] == *prevouts[i]) return state.Invalid("bad-txns-inputs-duplicate");
        }
    }

    if (tx.IsCoinbase()) {
        const size_t len = tx.vin[0].script_sig.size();
        if (len < 2 || len > 100) return state.Invalid("bad-cb-length");
    } else {
        for (const TxIn& in : tx.vin) {
            if (in.prevout.IsNull()) return state.Invalid("bad-txns-prevout-null");
        }
    }
    return true;
}

unsigned GetLegacySigOpCount(const Transaction& tx)
{
    unsigned count = 0;
    for (const TxIn& in : tx.vin) count += GetSigOpCount(in.script_sig, false);
    for (const TxOut& out : tx.vout) count += GetSigOpCount(out.script_pubkey, false);
    return count;
}

// ---------------------------------------------------------------------------
// Blocks, context-free
// ---------------------------------------------------------------------------

bool CheckBlockHeader(const BlockHeader& header, ValidationState& state, const ConsensusParams& params, bool check_pow)
{
    if (check_pow && !CheckProofOfWork(header.GetHash(), header.bits, params)) {
        return state.Invalid("high-hash", "proof of work failed", BlockFailure::INVALID_HEADER);
    }
    return true;
}

namespace {

bool CheckMerkleRoot(const Block& block, ValidationState& state)
{
    bool mutated = false;
    const uint256 root = BlockMerkleRoot(block, &mutated);
    if (block.merkle_root != root) return state.Invalid("bad-txnmrklroot", "hashMerkleRoot mismatch", BlockFailure::MUTATED);
    // CVE-2012-2459: a repeated tail of transactions leaves the root unchanged.
    if (mutated) return state.Invalid("bad-txns-duplicate", "duplicate transaction", BlockFailure::MUTATED);
    return true;
}

} // namespace

bool CheckBlock(const Block& block, ValidationState& state, const ConsensusParams& params, bool check_pow,
                bool check_merkle_root, const LegacySigOpCounter& sigop_counter)
{
    if (!CheckBlockHeader(block, state, params, check_pow)) return false;
    if (check_merkle_root && !CheckMerkleRoot(block, state)) return false;

    // Witness data is not looked at here: malleation of it is checked in
    // ContextualCheckBlock, once segwit activation is known.
    if (block.txs.empty() || block.txs.size() * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT ||
        GetSerializeSize(block, /*with_witness=*/false) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) {
        return state.Invalid("bad-blk-length", "size limits failed");
    }

    if (!block.txs[0].IsCoinbase()) return state.Invalid("bad-cb-missing", "first tx is not coinbase");
    for (size_t i = 1; i < block.txs.size(); ++i) {
        if (block.txs[i].IsCoinbase()) return state.Invalid("bad-cb-multiple", "more than one coinbase");
    }

    for (const Transaction& tx : block.txs) {
        ValidationState tx_state;
        if (!CheckTransaction(tx, tx_state)) {
            return state.Invalid(tx_state.GetRejectReason(),
                                 "Transaction check failed (tx hash " + tx.GetTxid().GetHex() + ") " +
                                     tx_state.GetDebugMessage());
        }
    }

    uint64_t sigops = 0;
    for (const Transaction& tx : block.txs) sigops += sigop_counter ? sigop_counter(tx) : GetLegacySigOpCount(tx);
    if (sigops * WITNESS_SCALE_FACTOR > uint64_t(MAX_BLOCK_SIGOPS_COST)) {
        return state.Invalid("bad-blk-sigops", "out-of-bounds SigOpCount");
    }
    return true;
}

// ---------------------------------------------------------------------------
// Blocks, with height context
// ---------------------------------------------------------------------------

bool ContextualCheckBlockHeader(const BlockHeader& header, ValidationState& state, const ConsensusParams& params,
                                const HeaderContext& context)
{
    if (header.bits != context.expected_bits) {
        return state.Invalid("bad-diffbits", "incorrect proof of work", BlockFailure::INVALID_HEADER);
    }
    if (header.GetBlockTime() <= context.prev_median_time_past) {
        return state.Invalid("time-too-old", "block's timestamp is too early", BlockFailure::INVALID_HEADER);
    }
    if (params.enforce_bip94 && context.height % params.DifficultyAdjustmentInterval() == 0 &&
        header.GetBlockTime() < context.prev_time - MAX_TIMEWARP) {
        return state.Invalid("time-timewarp-attack", "block's timestamp is too early on diff adjustment block",
                             BlockFailure::INVALID_HEADER);
    }
    if (header.GetBlockTime() > context.adjusted_time + MAX_FUTURE_BLOCK_TIME) {
        return state.Invalid("time-too-new", "block timestamp too far in the future", BlockFailure::TIME_FUTURE);
    }
    if ((header.version < 2 && params.DeploymentActiveAt(context.height, BuriedDeployment::HEIGHTINCB)) ||
        (header.version < 3 && params.DeploymentActiveAt(context.height, BuriedDeployment::DERSIG)) ||
        (header.version < 4 && params.DeploymentActiveAt(context.height, BuriedDeployment::CLTV))) {
        char version[16];
        std::snprintf(version, sizeof(version), "0x%08x", uint32_t(header.version));
        return state.Invalid(std::string("bad-version(") + version + ")",
                             std::string("rejected nVersion=") + version + " block", BlockFailure::INVALID_HEADER);
    }
    return true;
}

Script CoinbaseHeightPrefix(int height)
{
    Script prefix;
    AppendPushInt64(prefix, height);
    return prefix;
}

bool CheckCoinbaseHeight(const Block& block, int height)
{
    if (block.txs.empty() || block.txs[0].vin.empty()) return false;
    const Script expect = CoinbaseHeightPrefix(height);
    const Script& script_sig = block.txs[0].vin[0].script_sig;
    return script_sig.size() >= expect.size() && std::equal(expect.begin(), expect.end(), script_sig.begin());
}

bool CheckWitnessMalleation(const Block& block, bool expect_witness_commitment, ValidationState& state)
{
    if (expect_witness_commitment) {
        if (const auto index = GetWitnessCommitmentIndex(block)) {
            // A commitment exists, so txs[0] exists; CheckBlock ensured it is a
            // coinbase, but be safe with unchecked blocks too.
            if (block.txs[0].vin.empty()) {
                return state.Invalid("bad-witness-nonce-size", "coinbase has no input", BlockFailure::MUTATED);
            }
            const auto& stack = block.txs[0].vin[0].witness;
            if (stack.size() != 1 || stack[0].size() != 32) {
                return state.Invalid("bad-witness-nonce-size", "invalid witness reserved value size",
                                     BlockFailure::MUTATED);
            }
            const uint256 commitment = ComputeWitnessCommitment(BlockWitnessMerkleRoot(block), stack[0]);
            const Script& spk = block.txs[0].vout[*index].script_pubkey;
            if (!std::equal(commitment.begin(), commitment.end(), spk.begin() + 6)) {
                return state.Invalid("bad-witness-merkle-match", "witness merkle commitment mismatch",
                                     BlockFailure::MUTATED);
            }
            return true;
        }
    }
    // Without a commitment, witness data would be free, unvalidated space.
    for (const Transaction& tx : block.txs) {
        if (tx.HasWitness()) {
            return state.Invalid("unexpected-witness", "unexpected witness data found", BlockFailure::MUTATED);
        }
    }
    return true;
}

bool ContextualCheckBlock(const Block& block, ValidationState& state, const ConsensusParams& params, int height,
                          int64_t prev_median_time_past)
{
    // BIP113: once CSV is active, lock times are judged against the parent's
    // median time past instead of the block's own (miner-chosen) time.
    const int64_t lock_time_cutoff =
        params.DeploymentActiveAt(height, BuriedDeployment::CSV) ? prev_median_time_past : block.GetBlockTime();
    for (const Transaction& tx : block.txs) {
        if (!IsFinalTx(tx, height, lock_time_cutoff)) return state.Invalid("bad-txns-nonfinal", "non-final transaction");
    }

    if (params.DeploymentActiveAt(height, BuriedDeployment::HEIGHTINCB) && !CheckCoinbaseHeight(block, height)) {
        return state.Invalid("bad-cb-height", "block height mismatch in coinbase");
    }

    if (!CheckWitnessMalleation(block, params.DeploymentActiveAt(height, BuriedDeployment::SEGWIT), state)) {
        return false;
    }

    // Only now, with the coinbase witness pinned down by the commitment, is a
    // weight failure a property of the block rather than of its relay.
    if (GetBlockWeight(block) > MAX_BLOCK_WEIGHT) return state.Invalid("bad-blk-weight", "weight limit failed");
    return true;
}

bool IsBlockMutated(const Block& block, bool check_witness_root)
{
    ValidationState state;
    if (!CheckMerkleRoot(block, state)) return true;
    if (block.txs.empty() || !block.txs[0].IsCoinbase()) {
        return std::any_of(block.txs.begin(), block.txs.end(),
                           [](const Transaction& tx) { return GetSerializeSize(tx, false) == 64; });
    }
    return !CheckWitnessMalleation(block, check_witness_root, state);
}

} // namespace orrery
