// Partially signed transactions (BIP174 version 0, with the taproot fields of
// BIP371): a bounds-checked parser of the binary form, its serializer in
// Bitcoin Core's field order, and the operations the wallet-less RPC methods
// need (combine, finalize, extract). Fields Orrery does not interpret
// (proprietary and unknown keys) are kept and written back unchanged.
//
// The parser takes untrusted bytes: it never reads past its input, never
// allocates by an announced length alone (common/consensus/serialize.h), and
// throws PsbtError with Core's message for each malformed case.
#ifndef ORRERY_COMMON_KEYS_PSBT_H
#define ORRERY_COMMON_KEYS_PSBT_H

#include <common/consensus/transaction.h>
#include <common/crypto/hash.h>
#include <common/keys/signer.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace orrery {

//! A PSBT that does not parse, or PSBTs that cannot be combined; what() is Core's message.
class PsbtError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

using Bytes = std::vector<uint8_t>;

//! One input's map (BIP174 PSBT_IN_*; BIP371 PSBT_IN_TAP_*).
struct PsbtInput {
    std::optional<Transaction> non_witness_utxo;
    std::optional<TxOut> witness_utxo;
    //! Keyed by the public key's Hash160 (Core's order): the public key and its signature.
    std::map<crypto::Hash20, std::pair<Bytes, Bytes>> partial_sigs;
    std::optional<uint32_t> sighash_type;
    Script redeem_script;
    Script witness_script;
    //! Public key → fingerprint and path (4-byte little-endian numbers), as serialized.
    std::map<Bytes, Bytes> hd_keypaths;
    Script final_script_sig;
    std::vector<Bytes> final_script_witness;
    //! Hash → preimage for PSBT_IN_RIPEMD160, SHA256, HASH160, HASH256.
    std::map<Bytes, Bytes> ripemd160_preimages, sha256_preimages, hash160_preimages, hash256_preimages;
    Bytes tap_key_sig;
    //! x-only key || leaf hash (64 bytes) → signature.
    std::map<Bytes, Bytes> tap_script_sigs;
    //! (script, leaf version) → control blocks.
    std::map<std::pair<Bytes, uint8_t>, std::set<Bytes>> tap_scripts;
    //! x-only key → leaf hashes and origin, as serialized.
    std::map<Bytes, Bytes> tap_bip32_paths;
    std::optional<std::array<uint8_t, 32>> tap_internal_key;
    std::optional<std::array<uint8_t, 32>> tap_merkle_root;
    std::map<Bytes, Bytes> proprietary;
    std::map<Bytes, Bytes> unknown;

    bool IsFinalized() const { return !final_script_sig.empty() || !final_script_witness.empty(); }
    //! The output this input spends: the witness UTXO, else the non-witness UTXO's output `n`.
    std::optional<TxOut> Utxo(uint32_t n) const;
    //! Core's PSBTInput::Merge: fields of `other` this input lacks.
    void Merge(const PsbtInput& other);
};

struct PsbtOutput {
    Script redeem_script;
    Script witness_script;
    std::map<Bytes, Bytes> hd_keypaths;
    std::optional<std::array<uint8_t, 32>> tap_internal_key;
    //! The PSBT_OUT_TAP_TREE value as serialized (checked to describe a complete tree).
    Bytes tap_tree;
    std::map<Bytes, Bytes> tap_bip32_paths;
    std::map<Bytes, Bytes> proprietary;
    std::map<Bytes, Bytes> unknown;

    void Merge(const PsbtOutput& other);
};

struct Psbt {
    Transaction tx; //!< the unsigned transaction: empty scriptSigs and witnesses
    //! Extended public key (78 bytes, after the type byte) → fingerprint and path.
    std::map<Bytes, Bytes> xpubs;
    std::optional<uint32_t> version;
    std::map<Bytes, Bytes> proprietary;
    std::map<Bytes, Bytes> unknown;
    std::vector<PsbtInput> inputs;
    std::vector<PsbtOutput> outputs;

    //! A PSBT for `tx`, whose scriptSigs and witnesses are dropped (converttopsbt) or must be empty.
    static Psbt FromTransaction(Transaction tx);
    //! Core's PartiallySignedTransaction::Merge: same unsigned transaction, or PsbtError "PSBTs not compatible
    //! (different transactions)".
    void Merge(const Psbt& other);
    //! The output input `index` spends, when the PSBT carries it.
    std::optional<TxOut> SpentOutput(size_t index) const;
    //! Σ outputs spent − Σ outputs, when every spent output is known.
    std::optional<Amount> Fee() const;
};

//! Parses the binary form. Throws PsbtError.
Psbt DecodePsbt(std::span<const uint8_t> data);
Bytes EncodePsbt(const Psbt& psbt);

//! Finalizes what can be: an input whose partial signatures (or taproot key signature) satisfy its script gets
//! its final scriptSig and witness, and loses the fields that were only there to build them. Returns whether
//! every input is final. Signatures are checked by the interpreter under `verify_flags`.
bool FinalizePsbt(Psbt& psbt, uint32_t verify_flags);
//! The network transaction of a finalized PSBT (final scriptSigs and witnesses in place); nullopt unless every
//! input is final.
std::optional<Transaction> ExtractTransaction(const Psbt& psbt);

//! Who should act next on a PSBT or one of its inputs (BIP174's roles, in order).
enum class PsbtRole { CREATOR, UPDATER, SIGNER, FINALIZER, EXTRACTOR };
//! "creator", "updater", "signer", "finalizer", "extractor".
std::string PsbtRoleName(PsbtRole role);

struct PsbtInputAnalysis {
    bool has_utxo{false};
    bool is_final{false};
    PsbtRole next{PsbtRole::EXTRACTOR};
    MissingData missing;
};

//! Core's AnalyzePSBT: each input's state and what it lacks, the fee when every amount is known, and the size and
//! fee rate once every input could be finalized. `error` names an invalid PSBT (the rest is then not filled).
struct PsbtAnalysis {
    std::vector<PsbtInputAnalysis> inputs;
    std::optional<int64_t> estimated_vsize;
    std::optional<Amount> estimated_feerate; //!< sat/kvB
    std::optional<Amount> fee;
    PsbtRole next{PsbtRole::EXTRACTOR};
    std::string error;
};
PsbtAnalysis AnalyzePsbt(const Psbt& psbt, uint32_t verify_flags);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_PSBT_H
