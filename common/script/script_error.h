// Script verification errors and flags. Names and bit values follow Bitcoin
// Core (script/script_error.h, script/interpreter.h) so that test vectors and
// RPC answers use the same words.
#ifndef ORRERY_COMMON_SCRIPT_SCRIPT_ERROR_H
#define ORRERY_COMMON_SCRIPT_SCRIPT_ERROR_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orrery {

enum class ScriptError {
    OK = 0,
    UNKNOWN_ERROR,
    EVAL_FALSE,
    OP_RETURN,
    SCRIPTNUM,
    // Max sizes
    SCRIPT_SIZE,
    PUSH_SIZE,
    OP_COUNT,
    STACK_SIZE,
    SIG_COUNT,
    PUBKEY_COUNT,
    // Failed verify operations
    VERIFY,
    EQUALVERIFY,
    CHECKMULTISIGVERIFY,
    CHECKSIGVERIFY,
    NUMEQUALVERIFY,
    // Logical/format/canonical errors
    BAD_OPCODE,
    DISABLED_OPCODE,
    INVALID_STACK_OPERATION,
    INVALID_ALTSTACK_OPERATION,
    UNBALANCED_CONDITIONAL,
    // CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY
    NEGATIVE_LOCKTIME,
    UNSATISFIED_LOCKTIME,
    // Malleability
    SIG_HASHTYPE,
    SIG_DER,
    MINIMALDATA,
    SIG_PUSHONLY,
    SIG_HIGH_S,
    SIG_NULLDUMMY,
    PUBKEYTYPE,
    CLEANSTACK,
    MINIMALIF,
    SIG_NULLFAIL,
    // Soft-fork safeness
    DISCOURAGE_UPGRADABLE_NOPS,
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM,
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION,
    DISCOURAGE_OP_SUCCESS,
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE,
    // Segregated witness
    WITNESS_PROGRAM_WRONG_LENGTH,
    WITNESS_PROGRAM_WITNESS_EMPTY,
    WITNESS_PROGRAM_MISMATCH,
    WITNESS_MALLEATED,
    WITNESS_MALLEATED_P2SH,
    WITNESS_UNEXPECTED,
    WITNESS_PUBKEYTYPE,
    // Taproot
    SCHNORR_SIG_SIZE,
    SCHNORR_SIG_HASHTYPE,
    SCHNORR_SIG,
    TAPROOT_WRONG_CONTROL_SIZE,
    TAPSCRIPT_VALIDATION_WEIGHT,
    TAPSCRIPT_CHECKMULTISIG,
    TAPSCRIPT_MINIMALIF,
    TAPSCRIPT_EMPTY_PUBKEY,
    // Constant scriptCode
    OP_CODESEPARATOR,
    SIG_FINDANDDELETE,

    ERROR_COUNT
};

//! The name used by Core's test vectors: the enumerator name, except
//! SIG_NULLFAIL which the vectors spell "NULLFAIL".
std::string_view ScriptErrorName(ScriptError error);
//! Inverse of ScriptErrorName ("OK" included).
std::optional<ScriptError> ParseScriptErrorName(std::string_view name);
//! Human-readable description, Core's ScriptErrorString wording.
std::string_view ScriptErrorString(ScriptError error);

// Verification flags (Core's SCRIPT_VERIFY_*), same bit positions.
inline constexpr uint32_t SCRIPT_VERIFY_NONE = 0;
inline constexpr uint32_t SCRIPT_VERIFY_P2SH = 1U << 0;
inline constexpr uint32_t SCRIPT_VERIFY_STRICTENC = 1U << 1;
inline constexpr uint32_t SCRIPT_VERIFY_DERSIG = 1U << 2;
inline constexpr uint32_t SCRIPT_VERIFY_LOW_S = 1U << 3;
inline constexpr uint32_t SCRIPT_VERIFY_NULLDUMMY = 1U << 4;
inline constexpr uint32_t SCRIPT_VERIFY_SIGPUSHONLY = 1U << 5;
inline constexpr uint32_t SCRIPT_VERIFY_MINIMALDATA = 1U << 6;
inline constexpr uint32_t SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS = 1U << 7;
inline constexpr uint32_t SCRIPT_VERIFY_CLEANSTACK = 1U << 8;
inline constexpr uint32_t SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY = 1U << 9;
inline constexpr uint32_t SCRIPT_VERIFY_CHECKSEQUENCEVERIFY = 1U << 10;
inline constexpr uint32_t SCRIPT_VERIFY_WITNESS = 1U << 11;
inline constexpr uint32_t SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 1U << 12;
inline constexpr uint32_t SCRIPT_VERIFY_MINIMALIF = 1U << 13;
inline constexpr uint32_t SCRIPT_VERIFY_NULLFAIL = 1U << 14;
inline constexpr uint32_t SCRIPT_VERIFY_WITNESS_PUBKEYTYPE = 1U << 15;
inline constexpr uint32_t SCRIPT_VERIFY_CONST_SCRIPTCODE = 1U << 16;
inline constexpr uint32_t SCRIPT_VERIFY_TAPROOT = 1U << 17;
inline constexpr uint32_t SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 1U << 18;
inline constexpr uint32_t SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS = 1U << 19;
inline constexpr uint32_t SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 1U << 20;
//! Every flag above.
inline constexpr uint32_t SCRIPT_VERIFY_ALL = (1U << 21) - 1;

//! Parses "P2SH,WITNESS" (names without the SCRIPT_VERIFY_ prefix; "" and
//! "NONE" mean no flag). nullopt on an unknown name.
std::optional<uint32_t> ParseScriptFlags(std::string_view names);
//! Comma-separated names of the set flags.
std::string FormatScriptFlags(uint32_t flags);
//! Core's rule that CLEANSTACK needs WITNESS and WITNESS needs P2SH; VerifyScript
//! refuses other combinations with UNKNOWN_ERROR (Core asserts).
bool IsValidFlagCombination(uint32_t flags);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SCRIPT_ERROR_H
