// The script interpreter, with Bitcoin Core's semantics bit for bit: legacy
// scripts, P2SH (BIP16), segwit v0 (BIP141/143), taproot key and script paths
// (BIP341/342), and every verification flag of Core's SCRIPT_VERIFY_* set.
//
// The interpreter never sees a transaction: signature and lock-time checks go
// through a SignatureChecker, so the same code runs block validation
// (TransactionSignatureChecker in tx_checker.h), tests and fuzzing.
#ifndef ORRERY_COMMON_SCRIPT_INTERPRETER_H
#define ORRERY_COMMON_SCRIPT_INTERPRETER_H

#include <common/consensus/consensus.h>
#include <common/consensus/script.h>
#include <common/script/script_error.h>
#include <common/script/script_num.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace orrery {

//! Stack elements and witnesses are plain byte vectors.
using StackElement = std::vector<uint8_t>;
using ScriptStack = std::vector<StackElement>;
//! A transaction input's witness: the initial stack, bottom first.
using ScriptWitness = std::vector<std::vector<uint8_t>>;

inline constexpr size_t MAX_SCRIPT_ELEMENT_SIZE = 520;
inline constexpr int MAX_OPS_PER_SCRIPT = 201;
inline constexpr size_t MAX_SCRIPT_SIZE = 10000;
inline constexpr size_t MAX_STACK_SIZE = 1000;
inline constexpr int64_t VALIDATION_WEIGHT_PER_SIGOP_PASSED = 50;
inline constexpr int64_t VALIDATION_WEIGHT_OFFSET = 50;
inline constexpr uint8_t TAPROOT_LEAF_MASK = 0xfe;
inline constexpr uint8_t TAPROOT_LEAF_TAPSCRIPT = 0xc0;
inline constexpr size_t TAPROOT_CONTROL_BASE_SIZE = 33;
inline constexpr size_t TAPROOT_CONTROL_NODE_SIZE = 32;
inline constexpr size_t TAPROOT_CONTROL_MAX_NODE_COUNT = 128;
inline constexpr size_t TAPROOT_CONTROL_MAX_SIZE =
    TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * TAPROOT_CONTROL_MAX_NODE_COUNT;
inline constexpr uint8_t ANNEX_TAG = 0x50;

inline constexpr uint8_t SIGHASH_DEFAULT = 0;
inline constexpr uint8_t SIGHASH_ALL = 1;
inline constexpr uint8_t SIGHASH_NONE = 2;
inline constexpr uint8_t SIGHASH_SINGLE = 3;
inline constexpr uint8_t SIGHASH_ANYONECANPAY = 0x80;


enum class SigVersion {
    BASE,       //!< legacy and P2SH scripts
    WITNESS_V0, //!< BIP141 P2WPKH/P2WSH
    TAPROOT,    //!< BIP341 key path
    TAPSCRIPT,  //!< BIP342 script path, leaf version 0xc0
};

//! Per-input state gathered while executing a witness, used by the BIP341
//! signature hash. Fields are filled in as Core does; the *_init flags say
//! which are meaningful.
struct ScriptExecutionData {
    bool m_tapleaf_hash_init{false};
    std::array<uint8_t, 32> m_tapleaf_hash{};
    bool m_codeseparator_pos_init{false};
    uint32_t m_codeseparator_pos{0xffffffff};
    bool m_annex_init{false};
    bool m_annex_present{false};
    std::array<uint8_t, 32> m_annex_hash{};
    bool m_validation_weight_left_init{false};
    int64_t m_validation_weight_left{0};
    //! SHA256 of the output at the input's index, cached for SIGHASH_SINGLE.
    std::optional<std::array<uint8_t, 32>> m_output_hash;
};

//! What the interpreter needs from the transaction. The default
//! implementation fails every check (Core's BaseSignatureChecker).
class SignatureChecker
{
public:
    virtual ~SignatureChecker() = default;
    //! `sig` includes the trailing hash-type byte; `script_code` is the
    //! script from the last executed OP_CODESEPARATOR, with the signature
    //! already removed for BASE.
    virtual bool CheckEcdsaSignature(std::span<const uint8_t> sig, std::span<const uint8_t> pubkey,
                                     std::span<const uint8_t> script_code, SigVersion sigversion) const;
    //! `pubkey` is 32 bytes. On failure sets *error to a SCHNORR_* error.
    virtual bool CheckSchnorrSignature(std::span<const uint8_t> sig, std::span<const uint8_t> pubkey,
                                       SigVersion sigversion, ScriptExecutionData& execdata,
                                       ScriptError* error) const;
    virtual bool CheckLockTime(const ScriptNum& lock_time) const;
    virtual bool CheckSequence(const ScriptNum& sequence) const;
};

//! Runs one script on `stack`. Returns false and sets *error on failure.
bool EvalScript(ScriptStack& stack, std::span<const uint8_t> script, uint32_t flags, const SignatureChecker& checker,
                SigVersion sigversion, ScriptExecutionData& execdata, ScriptError* error);
bool EvalScript(ScriptStack& stack, std::span<const uint8_t> script, uint32_t flags, const SignatureChecker& checker,
                SigVersion sigversion, ScriptError* error);

//! Verifies that `script_sig` (and `witness`, may be null) satisfies
//! `script_pubkey` under `flags`. Flag sets that break Core's combination
//! rule (IsValidFlagCombination) fail with UNKNOWN_ERROR where Core asserts.
bool VerifyScript(std::span<const uint8_t> script_sig, std::span<const uint8_t> script_pubkey,
                  const ScriptWitness* witness, uint32_t flags, const SignatureChecker& checker, ScriptError* error);

//! Core's CastToBool: false for empty, all-zero and negative zero.
bool CastToBool(std::span<const uint8_t> value);

//! Core's FindAndDelete: removes every occurrence of `needle` that starts at
//! an opcode boundary of `script`; returns how many were removed.
int FindAndDelete(std::vector<uint8_t>& script, std::span<const uint8_t> needle);

//! BIP341 hashes.
std::array<uint8_t, 32> ComputeTapleafHash(uint8_t leaf_version, std::span<const uint8_t> script);
std::array<uint8_t, 32> ComputeTapbranchHash(std::span<const uint8_t> a, std::span<const uint8_t> b);
//! Merkle root from a control block (size already validated) and a leaf hash.
std::array<uint8_t, 32> ComputeTaprootMerkleRoot(std::span<const uint8_t> control,
                                                 const std::array<uint8_t, 32>& tapleaf_hash);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_INTERPRETER_H
