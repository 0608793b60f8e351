// Names and descriptions of script errors and verification flags.
#include <common/script/script_error.h>

#include <array>
#include <utility>

namespace orrery {

namespace {

struct ErrorInfo {
    ScriptError error;
    std::string_view name;
    std::string_view text;
};

constexpr std::array<ErrorInfo, static_cast<size_t>(ScriptError::ERROR_COUNT)> ERRORS{{
    {ScriptError::OK, "OK", "No error"},
    {ScriptError::UNKNOWN_ERROR, "UNKNOWN_ERROR", "unknown error"},
    {ScriptError::EVAL_FALSE, "EVAL_FALSE", "Script evaluated without error but finished with a false/empty top stack element"},
    {ScriptError::OP_RETURN, "OP_RETURN", "OP_RETURN was encountered"},
    {ScriptError::SCRIPTNUM, "SCRIPTNUM", "Script number overflowed or is non-minimally encoded"},
    {ScriptError::SCRIPT_SIZE, "SCRIPT_SIZE", "Script is too big"},
    {ScriptError::PUSH_SIZE, "PUSH_SIZE", "Push value size limit exceeded"},
    {ScriptError::OP_COUNT, "OP_COUNT", "Operation limit exceeded"},
    {ScriptError::STACK_SIZE, "STACK_SIZE", "Stack size limit exceeded"},
    {ScriptError::SIG_COUNT, "SIG_COUNT", "Signature count negative or greater than pubkey count"},
    {ScriptError::PUBKEY_COUNT, "PUBKEY_COUNT", "Pubkey count negative or limit exceeded"},
    {ScriptError::VERIFY, "VERIFY", "Script failed an OP_VERIFY operation"},
    {ScriptError::EQUALVERIFY, "EQUALVERIFY", "Script failed an OP_EQUALVERIFY operation"},
    {ScriptError::CHECKMULTISIGVERIFY, "CHECKMULTISIGVERIFY", "Script failed an OP_CHECKMULTISIGVERIFY operation"},
    {ScriptError::CHECKSIGVERIFY, "CHECKSIGVERIFY", "Script failed an OP_CHECKSIGVERIFY operation"},
    {ScriptError::NUMEQUALVERIFY, "NUMEQUALVERIFY", "Script failed an OP_NUMEQUALVERIFY operation"},
    {ScriptError::BAD_OPCODE, "BAD_OPCODE", "Opcode missing or not understood"},
    {ScriptError::DISABLED_OPCODE, "DISABLED_OPCODE", "Attempted to use a disabled opcode"},
    {ScriptError::INVALID_STACK_OPERATION, "INVALID_STACK_OPERATION", "Operation not valid with the current stack size"},
    {ScriptError::INVALID_ALTSTACK_OPERATION, "INVALID_ALTSTACK_OPERATION", "Operation not valid with the current altstack size"},
    {ScriptError::UNBALANCED_CONDITIONAL, "UNBALANCED_CONDITIONAL", "Invalid OP_IF construction"},
    {ScriptError::NEGATIVE_LOCKTIME, "NEGATIVE_LOCKTIME", "Negative locktime"},
    {ScriptError::UNSATISFIED_LOCKTIME, "UNSATISFIED_LOCKTIME", "Locktime requirement not satisfied"},
    {ScriptError::SIG_HASHTYPE, "SIG_HASHTYPE", "Signature hash type missing or not understood"},
    {ScriptError::SIG_DER, "SIG_DER", "Non-canonical DER signature"},
    {ScriptError::MINIMALDATA, "MINIMALDATA", "Data push larger than necessary"},
    {ScriptError::SIG_PUSHONLY, "SIG_PUSHONLY", "Only push operators allowed in signatures"},
    {ScriptError::SIG_HIGH_S, "SIG_HIGH_S", "Non-canonical signature: S value is unnecessarily high"},
    {ScriptError::SIG_NULLDUMMY, "SIG_NULLDUMMY", "Dummy CHECKMULTISIG argument must be zero"},
    {ScriptError::PUBKEYTYPE, "PUBKEYTYPE", "Public key is neither compressed or uncompressed"},
    {ScriptError::CLEANSTACK, "CLEANSTACK", "Stack size must be exactly one after execution"},
    {ScriptError::MINIMALIF, "MINIMALIF", "OP_IF/NOTIF argument must be minimal"},
    {ScriptError::SIG_NULLFAIL, "NULLFAIL", "Signature must be zero for failed CHECK(MULTI)SIG operation"},
    {ScriptError::DISCOURAGE_UPGRADABLE_NOPS, "DISCOURAGE_UPGRADABLE_NOPS", "NOPx reserved for soft-fork upgrades"},
    {ScriptError::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM", "Witness version reserved for soft-fork upgrades"},
    {ScriptError::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION, "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION", "Taproot version reserved for soft-fork upgrades"},
    {ScriptError::DISCOURAGE_OP_SUCCESS, "DISCOURAGE_OP_SUCCESS", "OP_SUCCESSx reserved for soft-fork upgrades"},
    {ScriptError::DISCOURAGE_UPGRADABLE_PUBKEYTYPE, "DISCOURAGE_UPGRADABLE_PUBKEYTYPE", "Public key version reserved for soft-fork upgrades"},
    {ScriptError::WITNESS_PROGRAM_WRONG_LENGTH, "WITNESS_PROGRAM_WRONG_LENGTH", "Witness program has incorrect length"},
    {ScriptError::WITNESS_PROGRAM_WITNESS_EMPTY, "WITNESS_PROGRAM_WITNESS_EMPTY", "Witness program was passed an empty witness"},
    {ScriptError::WITNESS_PROGRAM_MISMATCH, "WITNESS_PROGRAM_MISMATCH", "Witness program hash mismatch"},
    {ScriptError::WITNESS_MALLEATED, "WITNESS_MALLEATED", "Witness requires empty scriptSig"},
    {ScriptError::WITNESS_MALLEATED_P2SH, "WITNESS_MALLEATED_P2SH", "Witness requires only-redeemscript scriptSig"},
    {ScriptError::WITNESS_UNEXPECTED, "WITNESS_UNEXPECTED", "Witness provided for non-witness script"},
    {ScriptError::WITNESS_PUBKEYTYPE, "WITNESS_PUBKEYTYPE", "Using non-compressed keys in segwit"},
    {ScriptError::SCHNORR_SIG_SIZE, "SCHNORR_SIG_SIZE", "Invalid Schnorr signature size"},
    {ScriptError::SCHNORR_SIG_HASHTYPE, "SCHNORR_SIG_HASHTYPE", "Invalid Schnorr signature hash type"},
    {ScriptError::SCHNORR_SIG, "SCHNORR_SIG", "Invalid Schnorr signature"},
    {ScriptError::TAPROOT_WRONG_CONTROL_SIZE, "TAPROOT_WRONG_CONTROL_SIZE", "Invalid Taproot control block size"},
    {ScriptError::TAPSCRIPT_VALIDATION_WEIGHT, "TAPSCRIPT_VALIDATION_WEIGHT", "Too much signature validation relative to witness weight"},
    {ScriptError::TAPSCRIPT_CHECKMULTISIG, "TAPSCRIPT_CHECKMULTISIG", "OP_CHECKMULTISIG(VERIFY) is not available in tapscript"},
    {ScriptError::TAPSCRIPT_MINIMALIF, "TAPSCRIPT_MINIMALIF", "OP_IF/NOTIF argument must be minimal in tapscript"},
    {ScriptError::TAPSCRIPT_EMPTY_PUBKEY, "TAPSCRIPT_EMPTY_PUBKEY", "Empty public key in tapscript"},
    {ScriptError::OP_CODESEPARATOR, "OP_CODESEPARATOR", "Using OP_CODESEPARATOR in non-witness script"},
    {ScriptError::SIG_FINDANDDELETE, "SIG_FINDANDDELETE", "Signature is found in scriptCode"},
}};

constexpr bool ErrorTableInOrder()
{
    for (size_t i = 0; i < ERRORS.size(); ++i) {
        if (static_cast<size_t>(ERRORS[i].error) != i) return false;
    }
    return true;
}
static_assert(ErrorTableInOrder(), "ERRORS must list every ScriptError in enum order");

constexpr std::array<std::pair<std::string_view, uint32_t>, 21> FLAGS{{
    {"P2SH", SCRIPT_VERIFY_P2SH},
    {"STRICTENC", SCRIPT_VERIFY_STRICTENC},
    {"DERSIG", SCRIPT_VERIFY_DERSIG},
    {"LOW_S", SCRIPT_VERIFY_LOW_S},
    {"NULLDUMMY", SCRIPT_VERIFY_NULLDUMMY},
    {"SIGPUSHONLY", SCRIPT_VERIFY_SIGPUSHONLY},
    {"MINIMALDATA", SCRIPT_VERIFY_MINIMALDATA},
    {"DISCOURAGE_UPGRADABLE_NOPS", SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS},
    {"CLEANSTACK", SCRIPT_VERIFY_CLEANSTACK},
    {"CHECKLOCKTIMEVERIFY", SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY},
    {"CHECKSEQUENCEVERIFY", SCRIPT_VERIFY_CHECKSEQUENCEVERIFY},
    {"WITNESS", SCRIPT_VERIFY_WITNESS},
    {"DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM", SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM},
    {"MINIMALIF", SCRIPT_VERIFY_MINIMALIF},
    {"NULLFAIL", SCRIPT_VERIFY_NULLFAIL},
    {"WITNESS_PUBKEYTYPE", SCRIPT_VERIFY_WITNESS_PUBKEYTYPE},
    {"CONST_SCRIPTCODE", SCRIPT_VERIFY_CONST_SCRIPTCODE},
    {"TAPROOT", SCRIPT_VERIFY_TAPROOT},
    {"DISCOURAGE_UPGRADABLE_TAPROOT_VERSION", SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION},
    {"DISCOURAGE_OP_SUCCESS", SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS},
    {"DISCOURAGE_UPGRADABLE_PUBKEYTYPE", SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE},
}};

} // namespace

std::string_view ScriptErrorName(ScriptError error)
{
    const auto index = static_cast<size_t>(error);
    return index < ERRORS.size() ? ERRORS[index].name : "UNKNOWN_ERROR";
}

std::optional<ScriptError> ParseScriptErrorName(std::string_view name)
{
    for (const auto& info : ERRORS) {
        if (info.name == name) return info.error;
    }
    return std::nullopt;
}

std::string_view ScriptErrorString(ScriptError error)
{
    const auto index = static_cast<size_t>(error);
    return index < ERRORS.size() ? ERRORS[index].text : "unknown error";
}

std::optional<uint32_t> ParseScriptFlags(std::string_view names)
{
    uint32_t flags = 0;
    if (names.empty() || names == "NONE") return flags;
    size_t start = 0;
    while (start <= names.size()) {
        const size_t comma = names.find(',', start);
        const std::string_view word = names.substr(start, comma == std::string_view::npos ? names.npos : comma - start);
        bool found = false;
        for (const auto& [flag_name, bit] : FLAGS) {
            if (flag_name == word) {
                flags |= bit;
                found = true;
                break;
            }
        }
        if (!found) return std::nullopt;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return flags;
}

std::string FormatScriptFlags(uint32_t flags)
{
    std::string out;
    for (const auto& [flag_name, bit] : FLAGS) {
        if (flags & bit) {
            if (!out.empty()) out += ',';
            out += flag_name;
        }
    }
    return out;
}

bool IsValidFlagCombination(uint32_t flags)
{
    if ((flags & SCRIPT_VERIFY_CLEANSTACK) && !(flags & SCRIPT_VERIFY_WITNESS)) return false;
    if ((flags & SCRIPT_VERIFY_WITNESS) && !(flags & SCRIPT_VERIFY_P2SH)) return false;
    return true;
}

} // namespace orrery
