// Signature hashes: legacy (pre-segwit, with its historical quirks), BIP143
// (segwit v0) and BIP341/342 (taproot), plus the per-transaction data that
// makes the segwit and taproot ones linear in the number of inputs.
#ifndef ORRERY_COMMON_SCRIPT_SIGHASH_H
#define ORRERY_COMMON_SCRIPT_SIGHASH_H

#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>
#include <common/script/interpreter.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace orrery {

//! Hashes shared by every input of one transaction, computed once
//! (Core's PrecomputedTransactionData). Immutable after Init, so one object
//! may be read by several verification threads at once.
struct PrecomputedTransactionData {
    //! BIP341 single-SHA256 parts.
    std::array<uint8_t, 32> m_prevouts_single_hash{};
    std::array<uint8_t, 32> m_sequences_single_hash{};
    std::array<uint8_t, 32> m_outputs_single_hash{};
    std::array<uint8_t, 32> m_spent_amounts_single_hash{};
    std::array<uint8_t, 32> m_spent_scripts_single_hash{};
    //! BIP143 parts: SHA256 of the single-SHA256 parts above.
    std::array<uint8_t, 32> m_hash_prevouts{};
    std::array<uint8_t, 32> m_hash_sequence{};
    std::array<uint8_t, 32> m_hash_outputs{};

    bool m_bip143_segwit_ready{false};
    bool m_bip341_taproot_ready{false};
    bool m_spent_outputs_ready{false};
    //! The outputs spent by each input, in input order (needed by taproot).
    std::vector<TxOut> m_spent_outputs;

    PrecomputedTransactionData() = default;
    //! See Init.
    explicit PrecomputedTransactionData(const Transaction& tx, std::vector<TxOut> spent_outputs = {},
                                        bool force = false);
    //! Computes what the transaction's inputs will need: the BIP143 parts if
    //! any input has a witness that is not a taproot spend, the BIP341 parts
    //! if one is a taproot spend and `spent_outputs` (one per input) is
    //! given. `force` computes everything regardless.
    void Init(const Transaction& tx, std::vector<TxOut> spent_outputs, bool force = false);
};

//! Legacy signature hash (SigVersion::BASE), including Core's quirks: the
//! value 1 for an out-of-range input or a SIGHASH_SINGLE without matching
//! output, and OP_CODESEPARATOR removal from `script_code`.
uint256 SignatureHashLegacy(std::span<const uint8_t> script_code, const Transaction& tx, size_t n_in,
                            int32_t hash_type);

//! BIP143 signature hash. `cache` may be null (or not ready), in which case
//! the shared parts are computed on the spot: O(inputs) per call.
uint256 SignatureHashWitnessV0(std::span<const uint8_t> script_code, const Transaction& tx, size_t n_in,
                               int32_t hash_type, Amount amount, const PrecomputedTransactionData* cache);

//! Dispatches on sigversion (BASE or WITNESS_V0).
uint256 SignatureHash(std::span<const uint8_t> script_code, const Transaction& tx, size_t n_in, int32_t hash_type,
                      Amount amount, SigVersion sigversion, const PrecomputedTransactionData* cache);

//! BIP341 message (epoch byte 0x00 followed by SigMsg, plus the BIP342
//! extension for TAPSCRIPT) that is tagged-hashed with "TapSighash".
//! nullopt for an invalid hash type, SIGHASH_SINGLE without a matching
//! output, or a cache without the spent outputs. May fill
//! execdata.m_output_hash.
std::optional<std::vector<uint8_t>> SignatureMessageSchnorr(ScriptExecutionData& execdata, const Transaction& tx,
                                                            size_t in_pos, uint8_t hash_type, SigVersion sigversion,
                                                            const PrecomputedTransactionData& cache);
std::optional<std::array<uint8_t, 32>> SignatureHashSchnorr(ScriptExecutionData& execdata, const Transaction& tx,
                                                            size_t in_pos, uint8_t hash_type, SigVersion sigversion,
                                                            const PrecomputedTransactionData& cache);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SIGHASH_H
