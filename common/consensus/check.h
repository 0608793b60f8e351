// Block and transaction validity checks that need no UTXO set (Core's
// CheckTransaction, CheckBlockHeader, CheckBlock, and the parts of
// ContextualCheckBlockHeader/ContextualCheckBlock that need only the height
// and a few times of ancestors). Failures carry Core's reject reasons, which
// are part of Orrery's P2P and RPC surface.
#ifndef ORRERY_COMMON_CONSENSUS_CHECK_H
#define ORRERY_COMMON_CONSENSUS_CHECK_H

#include <common/consensus/block.h>
#include <common/consensus/params.h>
#include <common/consensus/transaction.h>

#include <cstdint>
#include <functional>
#include <string>

namespace orrery {

//! Why a block was rejected, for peer punishment (Core's BlockValidationResult,
//! reduced to what these checks produce).
enum class BlockFailure {
    NONE,
    CONSENSUS,      //!< invalid by consensus rules
    MUTATED,        //!< the block data does not match its header (maybe a relay bug)
    INVALID_HEADER, //!< proof of work or header fields invalid
    TIME_FUTURE,    //!< timestamp too far ahead; may become valid later
};

//! Outcome of a check. Invalid() records the first failure and returns false
//! so checks can `return state.Invalid(...)`.
class ValidationState
{
public:
    bool Invalid(std::string reject_reason, std::string debug_message = {}, BlockFailure failure = BlockFailure::CONSENSUS)
    {
        m_valid = false;
        m_reject_reason = std::move(reject_reason);
        m_debug_message = std::move(debug_message);
        m_failure = failure;
        return false;
    }
    bool IsValid() const { return m_valid; }
    bool IsInvalid() const { return !m_valid; }
    const std::string& GetRejectReason() const { return m_reject_reason; }
    const std::string& GetDebugMessage() const { return m_debug_message; }
    BlockFailure GetFailure() const { return m_failure; }
    //! "reason, debug" or "reason" (Core's ToString).
    std::string ToString() const
    {
        if (m_valid) return "Valid";
        return m_debug_message.empty() ? m_reject_reason : m_reject_reason + ", " + m_debug_message;
    }

private:
    bool m_valid{true};
    std::string m_reject_reason;
    std::string m_debug_message;
    BlockFailure m_failure{BlockFailure::NONE};
};

//! Context-free transaction rules: inputs and outputs present, size, output
//! value ranges, no duplicate inputs, coinbase scriptSig length 2..100, no
//! null prevout outside the coinbase.
bool CheckTransaction(const Transaction& tx, ValidationState& state);

//! Legacy (non-P2SH, non-witness) sigops of a transaction: the sum of
//! GetSigOpCount(script, false) over every scriptSig and scriptPubKey.
unsigned GetLegacySigOpCount(const Transaction& tx);

//! Proof of work of the header ("high-hash").
bool CheckBlockHeader(const BlockHeader& header, ValidationState& state, const ConsensusParams& params,
                      bool check_pow = true);

//! Replaceable legacy sigop counter for CheckBlock; defaults to
//! GetLegacySigOpCount.
using LegacySigOpCounter = std::function<unsigned(const Transaction&)>;

//! Core's CheckBlock: header, merkle root and its malleation, size, coinbase
//! placement, CheckTransaction on every tx, legacy sigop limit. Signet block
//! solutions are not checked here (they need the script interpreter).
bool CheckBlock(const Block& block, ValidationState& state, const ConsensusParams& params, bool check_pow = true,
                bool check_merkle_root = true, const LegacySigOpCounter& sigop_counter = {});

//! What the contextual header check needs to know about the chain.
struct HeaderContext {
    int height{0};                 //!< height of the new block
    uint32_t expected_bits{0};     //!< from GetNextWorkRequired
    int64_t prev_median_time_past{0};
    int64_t prev_time{0};          //!< parent's timestamp (BIP94 timewarp rule)
    int64_t adjusted_time{0};      //!< the node's clock, for "time-too-new"
};

//! Core's ContextualCheckBlockHeader without checkpoints: "bad-diffbits",
//! "time-too-old", "time-timewarp-attack" (BIP94), "time-too-new",
//! "bad-version(0x...)".
bool ContextualCheckBlockHeader(const BlockHeader& header, ValidationState& state, const ConsensusParams& params,
                                const HeaderContext& context);

//! Core's ContextualCheckBlock: all transactions final ("bad-txns-nonfinal",
//! judged by the parent's median time past once CSV is active, else by the
//! block's time), BIP34 height in coinbase ("bad-cb-height"), witness
//! commitment or absence of witness (see CheckWitnessMalleation), weight
//! ("bad-blk-weight").
bool ContextualCheckBlock(const Block& block, ValidationState& state, const ConsensusParams& params, int height,
                          int64_t prev_median_time_past);

//! BIP141: when expect_witness_commitment (segwit active) and the coinbase has
//! a commitment output, the coinbase witness must be one 32-byte item
//! ("bad-witness-nonce-size") and the commitment must match
//! ("bad-witness-merkle-match"). Otherwise no transaction may carry a
//! witness ("unexpected-witness").
bool CheckWitnessMalleation(const Block& block, bool expect_witness_commitment, ValidationState& state);

//! BIP34: the coinbase scriptSig starts with the push of height exactly as
//! Core's `CScript() << height` encodes it.
bool CheckCoinbaseHeight(const Block& block, int height);
//! The prefix CheckCoinbaseHeight expects (for building coinbases).
Script CoinbaseHeightPrefix(int height);

//! Core's IsBlockMutated: true if the transactions do not belong to the header
//! (merkle mismatch or duplicate-subtree malleation); if there is no coinbase,
//! true exactly when some transaction is 64 bytes without witness (it could
//! pose as an inner merkle node); otherwise true if CheckWitnessMalleation
//! fails with expect_witness_commitment = check_witness_root.
bool IsBlockMutated(const Block& block, bool check_witness_root);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_CHECK_H
