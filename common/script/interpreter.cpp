// Script evaluation and verification (Core's script/interpreter.cpp
// semantics; the structure and names follow it so that the two can be read
// side by side).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <common/script/interpreter.h>

#include <common/crypto/hash.h>
#include <common/script/opcodes.h>
#include <common/script/signature.h>

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>

namespace orrery {

namespace {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

const StackElement VCH_FALSE{};
const StackElement VCH_TRUE{1};

bool SetError(ScriptError* error, ScriptError value)
{
    if (error) *error = value;
    return false;
}

bool SetSuccess(ScriptError* error)
{
    if (error) *error = ScriptError::OK;
    return true;
}

size_t CompactSizeLength(uint64_t n)
{
    if (n < 253) return 1;
    if (n <= 0xffff) return 3;
    if (n <= 0xffffffff) return 5;
    return 9;
}

// Core's optimised condition stack: only the depth and the position of the
// first false entry matter, since nothing executes below a false branch.
class ConditionStack
{
public:
    bool Empty() const { return m_size == 0; }
    bool AllTrue() const { return m_first_false == NO_FALSE; }
    void Push(bool value)
    {
        if (m_first_false == NO_FALSE && !value) m_first_false = m_size;
        ++m_size;
    }
    void Pop()
    {
        --m_size;
        if (m_first_false == m_size) m_first_false = NO_FALSE;
    }
    void ToggleTop()
    {
        if (m_first_false == NO_FALSE) {
            m_first_false = m_size - 1;
        } else if (m_first_false == m_size - 1) {
            m_first_false = NO_FALSE;
        }
        // Otherwise a false entry lies below the top and the toggle has no effect.
    }

private:
    static constexpr uint32_t NO_FALSE = std::numeric_limits<uint32_t>::max();
    uint32_t m_size{0};
    uint32_t m_first_false{NO_FALSE};
};

bool CheckMinimalPush(ByteView data, Opcode opcode)
{
    if (data.empty()) return opcode == OP_0;
    if (data.size() == 1 && data[0] >= 1 && data[0] <= 16) return false; // should be OP_1..OP_16
    if (data.size() == 1 && data[0] == 0x81) return false;               // should be OP_1NEGATE
    if (data.size() <= 75) return opcode == data.size();
    if (data.size() <= 255) return opcode == OP_PUSHDATA1;
    if (data.size() <= 65535) return opcode == OP_PUSHDATA2;
    return true;
}

bool CheckSignatureEncoding(ByteView sig, uint32_t flags, ScriptError* error)
{
    // An empty signature is a compact way to provide an invalid one (for
    // CHECK(MULTI)SIG NOT), so it is always allowed through here.
    if (sig.empty()) return true;
    if ((flags & (SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_LOW_S | SCRIPT_VERIFY_STRICTENC)) &&
        !IsValidSignatureEncoding(sig)) {
        return SetError(error, ScriptError::SIG_DER);
    }
    if ((flags & SCRIPT_VERIFY_LOW_S) && !IsLowS(sig.first(sig.size() - 1))) {
        return SetError(error, ScriptError::SIG_HIGH_S);
    }
    if ((flags & SCRIPT_VERIFY_STRICTENC) && !IsDefinedHashtypeSignature(sig)) {
        return SetError(error, ScriptError::SIG_HASHTYPE);
    }
    return true;
}

bool CheckPubKeyEncoding(ByteView pubkey, uint32_t flags, SigVersion sigversion, ScriptError* error)
{
    if ((flags & SCRIPT_VERIFY_STRICTENC) && !IsCompressedOrUncompressedPubKey(pubkey)) {
        return SetError(error, ScriptError::PUBKEYTYPE);
    }
    if ((flags & SCRIPT_VERIFY_WITNESS_PUBKEYTYPE) && sigversion == SigVersion::WITNESS_V0 &&
        !IsCompressedPubKey(pubkey)) {
        return SetError(error, ScriptError::WITNESS_PUBKEYTYPE);
    }
    return true;
}

Bytes PushOnlyScript(ByteView data)
{
    Bytes out;
    AppendPushData(out, data);
    return out;
}

bool EvalChecksigPreTapscript(ByteView sig, ByteView pubkey, ByteView script_code_view, uint32_t flags,
                              const SignatureChecker& checker, SigVersion sigversion, ScriptError* error,
                              bool& success)
{
    Bytes script_code(script_code_view.begin(), script_code_view.end());
    if (sigversion == SigVersion::BASE) {
        // A signature cannot sign itself: drop it from the signed script.
        const int found = FindAndDelete(script_code, PushOnlyScript(sig));
        if (found > 0 && (flags & SCRIPT_VERIFY_CONST_SCRIPTCODE)) {
            return SetError(error, ScriptError::SIG_FINDANDDELETE);
        }
    }
    if (!CheckSignatureEncoding(sig, flags, error) || !CheckPubKeyEncoding(pubkey, flags, sigversion, error)) {
        return false;
    }
    success = checker.CheckEcdsaSignature(sig, pubkey, script_code, sigversion);
    if (!success && (flags & SCRIPT_VERIFY_NULLFAIL) && !sig.empty()) {
        return SetError(error, ScriptError::SIG_NULLFAIL);
    }
    return true;
}

bool EvalChecksigTapscript(ByteView sig, ByteView pubkey, ScriptExecutionData& execdata, uint32_t flags,
                           const SignatureChecker& checker, SigVersion sigversion, ScriptError* error, bool& success)
{
    // Empty signatures are the defined way to fail; anything else costs
    // validation weight, even with an unknown public-key type.
    success = !sig.empty();
    if (success) {
        if (!execdata.m_validation_weight_left_init) return SetError(error, ScriptError::UNKNOWN_ERROR);
        execdata.m_validation_weight_left -= VALIDATION_WEIGHT_PER_SIGOP_PASSED;
        if (execdata.m_validation_weight_left < 0) {
            return SetError(error, ScriptError::TAPSCRIPT_VALIDATION_WEIGHT);
        }
    }
    if (pubkey.empty()) return SetError(error, ScriptError::TAPSCRIPT_EMPTY_PUBKEY);
    if (pubkey.size() == 32) {
        if (success && !checker.CheckSchnorrSignature(sig, pubkey, sigversion, execdata, error)) return false;
    } else if (flags & SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE) {
        return SetError(error, ScriptError::DISCOURAGE_UPGRADABLE_PUBKEYTYPE);
    }
    return true;
}

bool EvalChecksig(ByteView sig, ByteView pubkey, ByteView script_code, ScriptExecutionData& execdata, uint32_t flags,
                  const SignatureChecker& checker, SigVersion sigversion, ScriptError* error, bool& success)
{
    switch (sigversion) {
    case SigVersion::BASE:
    case SigVersion::WITNESS_V0:
        return EvalChecksigPreTapscript(sig, pubkey, script_code, flags, checker, sigversion, error, success);
    case SigVersion::TAPSCRIPT:
        return EvalChecksigTapscript(sig, pubkey, execdata, flags, checker, sigversion, error, success);
    case SigVersion::TAPROOT:
        break; // key-path spends never run a script
    }
    return SetError(error, ScriptError::UNKNOWN_ERROR);
}

template <typename Digest>
StackElement HashElement(ByteView data, Digest digest)
{
    const auto out = digest(data);
    return StackElement(out.begin(), out.end());
}

std::array<uint8_t, 20> Sha1(ByteView data)
{
    std::array<uint8_t, 20> out;
    SHA1(data.data(), data.size(), out.data());
    return out;
}

// The body of EvalScript; std::bad_alloc is the only exception it lets out.
bool EvalScriptInner(ScriptStack& stack, ByteView script, uint32_t flags, const SignatureChecker& checker,
                     SigVersion sigversion, ScriptExecutionData& execdata, ScriptError* error)
{
    SetError(error, ScriptError::UNKNOWN_ERROR);
    const bool legacy_limits = sigversion == SigVersion::BASE || sigversion == SigVersion::WITNESS_V0;
    if (legacy_limits && script.size() > MAX_SCRIPT_SIZE) return SetError(error, ScriptError::SCRIPT_SIZE);

    const bool require_minimal = (flags & SCRIPT_VERIFY_MINIMALDATA) != 0;
    size_t pc = 0;
    size_t begin_code_hash = 0;
    int op_count = 0;
    uint32_t opcode_pos = 0;
    ConditionStack exec_stack;
    ScriptStack altstack;
    ScriptOp op;
    execdata.m_codeseparator_pos = 0xffffffff;
    execdata.m_codeseparator_pos_init = true;

    auto top = [&stack](int i) -> StackElement& { return stack[stack.size() + static_cast<size_t>(i)]; };
    auto pop = [&stack]() { stack.pop_back(); };
    auto num = [&](int i, size_t max_size = ScriptNum::DEFAULT_MAX_SIZE) {
        return ScriptNum::Decode(top(i), require_minimal, max_size);
    };

    for (; pc < script.size(); ++opcode_pos) {
        const bool executing = exec_stack.AllTrue();
        if (!ReadScriptOp(script, pc, op)) return SetError(error, ScriptError::BAD_OPCODE);
        if (op.push.size() > MAX_SCRIPT_ELEMENT_SIZE) return SetError(error, ScriptError::PUSH_SIZE);
        const Opcode opcode = op.opcode;

        if (legacy_limits && opcode > OP_16 && ++op_count > MAX_OPS_PER_SCRIPT) {
            return SetError(error, ScriptError::OP_COUNT);
        }
        // Disabled opcodes fail even in an unexecuted branch.
        switch (opcode) {
        case OP_CAT: case OP_SUBSTR: case OP_LEFT: case OP_RIGHT: case OP_INVERT: case OP_AND: case OP_OR:
        case OP_XOR: case OP_2MUL: case OP_2DIV: case OP_MUL: case OP_DIV: case OP_MOD: case OP_LSHIFT:
        case OP_RSHIFT:
            return SetError(error, ScriptError::DISABLED_OPCODE);
        default:
            break;
        }
        // So does OP_CODESEPARATOR in legacy scripts under CONST_SCRIPTCODE.
        if (opcode == OP_CODESEPARATOR && sigversion == SigVersion::BASE && (flags & SCRIPT_VERIFY_CONST_SCRIPTCODE)) {
            return SetError(error, ScriptError::OP_CODESEPARATOR);
        }

        if (executing && opcode <= OP_PUSHDATA4) {
            if (require_minimal && !CheckMinimalPush(op.push, opcode)) return SetError(error, ScriptError::MINIMALDATA);
            stack.emplace_back(op.push.begin(), op.push.end());
        } else if (executing || (opcode >= OP_IF && opcode <= OP_ENDIF)) {
            switch (opcode) {
            // Push value
            case OP_1NEGATE: case OP_1: case OP_2: case OP_3: case OP_4: case OP_5: case OP_6: case OP_7:
            case OP_8: case OP_9: case OP_10: case OP_11: case OP_12: case OP_13: case OP_14: case OP_15:
            case OP_16:
                stack.push_back(ScriptNum::Encode(static_cast<int>(opcode) - static_cast<int>(OP_1 - 1)));
                break;

            // Control
            case OP_NOP:
                break;

            case OP_CHECKLOCKTIMEVERIFY: {
                if (!(flags & SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY)) break; // still OP_NOP2
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                // Five bytes: lock times go up to 2^32-1, beyond 4-byte script numbers.
                const auto lock_time = num(-1, 5);
                if (!lock_time) return SetError(error, ScriptError::SCRIPTNUM);
                if (lock_time->Value() < 0) return SetError(error, ScriptError::NEGATIVE_LOCKTIME);
                if (!checker.CheckLockTime(*lock_time)) return SetError(error, ScriptError::UNSATISFIED_LOCKTIME);
                break;
            }

            case OP_CHECKSEQUENCEVERIFY: {
                if (!(flags & SCRIPT_VERIFY_CHECKSEQUENCEVERIFY)) break; // still OP_NOP3
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto sequence = num(-1, 5);
                if (!sequence) return SetError(error, ScriptError::SCRIPTNUM);
                if (sequence->Value() < 0) return SetError(error, ScriptError::NEGATIVE_LOCKTIME);
                // With the disable flag set the operand is a NOP, for future soft forks.
                if ((sequence->Value() & SEQUENCE_LOCKTIME_DISABLE_FLAG) != 0) break;
                if (!checker.CheckSequence(*sequence)) return SetError(error, ScriptError::UNSATISFIED_LOCKTIME);
                break;
            }

            case OP_NOP1: case OP_NOP4: case OP_NOP5: case OP_NOP6: case OP_NOP7: case OP_NOP8: case OP_NOP9:
            case OP_NOP10:
                if (flags & SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS) {
                    return SetError(error, ScriptError::DISCOURAGE_UPGRADABLE_NOPS);
                }
                break;

            case OP_IF:
            case OP_NOTIF: {
                bool value = false;
                if (executing) {
                    if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                    const StackElement& vch = top(-1);
                    const bool non_minimal = vch.size() > 1 || (vch.size() == 1 && vch[0] != 1);
                    // Minimal IF is consensus in tapscript, policy in witness v0.
                    if (sigversion == SigVersion::TAPSCRIPT && non_minimal) {
                        return SetError(error, ScriptError::TAPSCRIPT_MINIMALIF);
                    }
                    if (sigversion == SigVersion::WITNESS_V0 && (flags & SCRIPT_VERIFY_MINIMALIF) && non_minimal) {
                        return SetError(error, ScriptError::MINIMALIF);
                    }
                    value = CastToBool(vch);
                    if (opcode == OP_NOTIF) value = !value;
                    pop();
                }
                exec_stack.Push(value);
                break;
            }

            case OP_ELSE:
                if (exec_stack.Empty()) return SetError(error, ScriptError::UNBALANCED_CONDITIONAL);
                exec_stack.ToggleTop();
                break;

            case OP_ENDIF:
                if (exec_stack.Empty()) return SetError(error, ScriptError::UNBALANCED_CONDITIONAL);
                exec_stack.Pop();
                break;

            case OP_VERIFY:
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                if (!CastToBool(top(-1))) return SetError(error, ScriptError::VERIFY);
                pop();
                break;

            case OP_RETURN:
                return SetError(error, ScriptError::OP_RETURN);

            // Stack ops
            case OP_TOALTSTACK:
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                altstack.push_back(std::move(top(-1)));
                pop();
                break;

            case OP_FROMALTSTACK:
                if (altstack.empty()) return SetError(error, ScriptError::INVALID_ALTSTACK_OPERATION);
                stack.push_back(std::move(altstack.back()));
                altstack.pop_back();
                break;

            case OP_2DROP:
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                pop();
                pop();
                break;

            case OP_2DUP: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement a = top(-2);
                StackElement b = top(-1);
                stack.push_back(std::move(a));
                stack.push_back(std::move(b));
                break;
            }

            case OP_3DUP: {
                if (stack.size() < 3) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement a = top(-3);
                StackElement b = top(-2);
                StackElement c = top(-1);
                stack.push_back(std::move(a));
                stack.push_back(std::move(b));
                stack.push_back(std::move(c));
                break;
            }

            case OP_2OVER: {
                if (stack.size() < 4) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement a = top(-4);
                StackElement b = top(-3);
                stack.push_back(std::move(a));
                stack.push_back(std::move(b));
                break;
            }

            case OP_2ROT: {
                if (stack.size() < 6) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement a = std::move(top(-6));
                StackElement b = std::move(top(-5));
                stack.erase(stack.end() - 6, stack.end() - 4);
                stack.push_back(std::move(a));
                stack.push_back(std::move(b));
                break;
            }

            case OP_2SWAP:
                if (stack.size() < 4) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                std::swap(top(-4), top(-2));
                std::swap(top(-3), top(-1));
                break;

            case OP_IFDUP: {
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                if (CastToBool(top(-1))) {
                    StackElement copy = top(-1);
                    stack.push_back(std::move(copy));
                }
                break;
            }

            case OP_DEPTH:
                stack.push_back(ScriptNum::Encode(static_cast<int64_t>(stack.size())));
                break;

            case OP_DROP:
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                pop();
                break;

            case OP_DUP: {
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement copy = top(-1);
                stack.push_back(std::move(copy));
                break;
            }

            case OP_NIP:
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                stack.erase(stack.end() - 2);
                break;

            case OP_OVER: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement copy = top(-2);
                stack.push_back(std::move(copy));
                break;
            }

            case OP_PICK:
            case OP_ROLL: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto n_num = num(-1);
                if (!n_num) return SetError(error, ScriptError::SCRIPTNUM);
                const int n = n_num->GetInt();
                pop();
                if (n < 0 || static_cast<size_t>(n) >= stack.size()) {
                    return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                }
                StackElement value = top(-n - 1);
                if (opcode == OP_ROLL) stack.erase(stack.end() - n - 1);
                stack.push_back(std::move(value));
                break;
            }

            case OP_ROT:
                // (x1 x2 x3 -- x2 x3 x1)
                if (stack.size() < 3) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                std::swap(top(-3), top(-2));
                std::swap(top(-2), top(-1));
                break;

            case OP_SWAP:
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                std::swap(top(-2), top(-1));
                break;

            case OP_TUCK: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement copy = top(-1);
                stack.insert(stack.end() - 2, std::move(copy));
                break;
            }

            case OP_SIZE:
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                stack.push_back(ScriptNum::Encode(static_cast<int64_t>(top(-1).size())));
                break;

            // Bitwise logic
            case OP_EQUAL:
            case OP_EQUALVERIFY: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const bool equal = top(-2) == top(-1);
                pop();
                pop();
                stack.push_back(equal ? VCH_TRUE : VCH_FALSE);
                if (opcode == OP_EQUALVERIFY) {
                    if (!equal) return SetError(error, ScriptError::EQUALVERIFY);
                    pop();
                }
                break;
            }

            // Numeric
            case OP_1ADD: case OP_1SUB: case OP_NEGATE: case OP_ABS: case OP_NOT: case OP_0NOTEQUAL: {
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto operand = num(-1);
                if (!operand) return SetError(error, ScriptError::SCRIPTNUM);
                int64_t bn = operand->Value();
                switch (opcode) {
                case OP_1ADD: bn += 1; break;
                case OP_1SUB: bn -= 1; break;
                case OP_NEGATE: bn = -bn; break;
                case OP_ABS: if (bn < 0) bn = -bn; break;
                case OP_NOT: bn = bn == 0; break;
                case OP_0NOTEQUAL: bn = bn != 0; break;
                default: break;
                }
                pop();
                stack.push_back(ScriptNum::Encode(bn));
                break;
            }

            case OP_ADD: case OP_SUB: case OP_BOOLAND: case OP_BOOLOR: case OP_NUMEQUAL: case OP_NUMEQUALVERIFY:
            case OP_NUMNOTEQUAL: case OP_LESSTHAN: case OP_GREATERTHAN: case OP_LESSTHANOREQUAL:
            case OP_GREATERTHANOREQUAL: case OP_MIN: case OP_MAX: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto a_num = num(-2);
                if (!a_num) return SetError(error, ScriptError::SCRIPTNUM);
                const auto b_num = num(-1);
                if (!b_num) return SetError(error, ScriptError::SCRIPTNUM);
                const int64_t a = a_num->Value();
                const int64_t b = b_num->Value();
                int64_t result = 0;
                switch (opcode) {
                case OP_ADD: result = a + b; break;
                case OP_SUB: result = a - b; break;
                case OP_BOOLAND: result = a != 0 && b != 0; break;
                case OP_BOOLOR: result = a != 0 || b != 0; break;
                case OP_NUMEQUAL: result = a == b; break;
                case OP_NUMEQUALVERIFY: result = a == b; break;
                case OP_NUMNOTEQUAL: result = a != b; break;
                case OP_LESSTHAN: result = a < b; break;
                case OP_GREATERTHAN: result = a > b; break;
                case OP_LESSTHANOREQUAL: result = a <= b; break;
                case OP_GREATERTHANOREQUAL: result = a >= b; break;
                case OP_MIN: result = a < b ? a : b; break;
                case OP_MAX: result = a > b ? a : b; break;
                default: break;
                }
                pop();
                pop();
                stack.push_back(ScriptNum::Encode(result));
                if (opcode == OP_NUMEQUALVERIFY) {
                    if (!CastToBool(top(-1))) return SetError(error, ScriptError::NUMEQUALVERIFY);
                    pop();
                }
                break;
            }

            case OP_WITHIN: {
                if (stack.size() < 3) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto x = num(-3);
                if (!x) return SetError(error, ScriptError::SCRIPTNUM);
                const auto lo = num(-2);
                if (!lo) return SetError(error, ScriptError::SCRIPTNUM);
                const auto hi = num(-1);
                if (!hi) return SetError(error, ScriptError::SCRIPTNUM);
                const bool within = *lo <= *x && *x < *hi;
                pop();
                pop();
                pop();
                stack.push_back(within ? VCH_TRUE : VCH_FALSE);
                break;
            }

            // Crypto
            case OP_RIPEMD160: case OP_SHA1: case OP_SHA256: case OP_HASH160: case OP_HASH256: {
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                StackElement hash;
                const StackElement& value = top(-1);
                switch (opcode) {
                case OP_RIPEMD160: hash = HashElement(value, crypto::Ripemd160); break;
                case OP_SHA1: hash = HashElement(value, Sha1); break;
                case OP_SHA256: hash = HashElement(value, crypto::Sha256); break;
                case OP_HASH160: hash = HashElement(value, crypto::Hash160); break;
                default: hash = HashElement(value, crypto::Sha256d); break;
                }
                pop();
                stack.push_back(std::move(hash));
                break;
            }

            case OP_CODESEPARATOR:
                // Signatures commit to the script after the last executed separator.
                begin_code_hash = pc;
                execdata.m_codeseparator_pos = opcode_pos;
                break;

            case OP_CHECKSIG:
            case OP_CHECKSIGVERIFY: {
                if (stack.size() < 2) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                bool success = true;
                if (!EvalChecksig(top(-2), top(-1), script.subspan(begin_code_hash), execdata, flags, checker,
                                  sigversion, error, success)) {
                    return false;
                }
                pop();
                pop();
                stack.push_back(success ? VCH_TRUE : VCH_FALSE);
                if (opcode == OP_CHECKSIGVERIFY) {
                    if (!success) return SetError(error, ScriptError::CHECKSIGVERIFY);
                    pop();
                }
                break;
            }

            case OP_CHECKSIGADD: {
                // Tapscript only: elsewhere the byte is OP_SUCCESS or undefined.
                if (sigversion == SigVersion::BASE || sigversion == SigVersion::WITNESS_V0) {
                    return SetError(error, ScriptError::BAD_OPCODE);
                }
                if (stack.size() < 3) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto n = num(-2);
                if (!n) return SetError(error, ScriptError::SCRIPTNUM);
                bool success = true;
                if (!EvalChecksig(top(-3), top(-1), script.subspan(begin_code_hash), execdata, flags, checker,
                                  sigversion, error, success)) {
                    return false;
                }
                pop();
                pop();
                pop();
                stack.push_back(ScriptNum::Encode(n->Value() + (success ? 1 : 0)));
                break;
            }

            case OP_CHECKMULTISIG:
            case OP_CHECKMULTISIGVERIFY: {
                if (sigversion == SigVersion::TAPSCRIPT) return SetError(error, ScriptError::TAPSCRIPT_CHECKMULTISIG);

                // ([dummy] [sig ...] num_of_signatures [pubkey ...] num_of_pubkeys -- bool)
                int i = 1;
                if (static_cast<int>(stack.size()) < i) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto keys_num = num(-i);
                if (!keys_num) return SetError(error, ScriptError::SCRIPTNUM);
                int keys_count = keys_num->GetInt();
                if (keys_count < 0 || keys_count > static_cast<int>(MAX_PUBKEYS_PER_MULTISIG)) {
                    return SetError(error, ScriptError::PUBKEY_COUNT);
                }
                op_count += keys_count;
                if (op_count > MAX_OPS_PER_SCRIPT) return SetError(error, ScriptError::OP_COUNT);
                int ikey = ++i;
                // Position of the last key, for the NULLFAIL check on clean-up.
                int ikey2 = keys_count + 2;
                i += keys_count;
                if (static_cast<int>(stack.size()) < i) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                const auto sigs_num = num(-i);
                if (!sigs_num) return SetError(error, ScriptError::SCRIPTNUM);
                int sigs_count = sigs_num->GetInt();
                if (sigs_count < 0 || sigs_count > keys_count) return SetError(error, ScriptError::SIG_COUNT);
                int isig = ++i;
                i += sigs_count;
                if (static_cast<int>(stack.size()) < i) return SetError(error, ScriptError::INVALID_STACK_OPERATION);

                Bytes script_code(script.begin() + static_cast<std::ptrdiff_t>(begin_code_hash), script.end());
                if (sigversion == SigVersion::BASE) {
                    for (int k = 0; k < sigs_count; ++k) {
                        const int found = FindAndDelete(script_code, PushOnlyScript(top(-isig - k)));
                        if (found > 0 && (flags & SCRIPT_VERIFY_CONST_SCRIPTCODE)) {
                            return SetError(error, ScriptError::SIG_FINDANDDELETE);
                        }
                    }
                }

                bool success = true;
                while (success && sigs_count > 0) {
                    const StackElement& sig = top(-isig);
                    const StackElement& pubkey = top(-ikey);
                    // Encoding is only checked for the pairs actually tried.
                    if (!CheckSignatureEncoding(sig, flags, error) ||
                        !CheckPubKeyEncoding(pubkey, flags, sigversion, error)) {
                        return false;
                    }
                    if (checker.CheckEcdsaSignature(sig, pubkey, script_code, sigversion)) {
                        ++isig;
                        --sigs_count;
                    }
                    ++ikey;
                    --keys_count;
                    // More signatures left than keys: cannot succeed.
                    if (sigs_count > keys_count) success = false;
                }

                // Pop the arguments, checking NULLFAIL on the signatures.
                while (i-- > 1) {
                    if (!success && (flags & SCRIPT_VERIFY_NULLFAIL) && ikey2 == 0 && !top(-1).empty()) {
                        return SetError(error, ScriptError::SIG_NULLFAIL);
                    }
                    if (ikey2 > 0) --ikey2;
                    pop();
                }
                // The extra element consumed by the historical off-by-one.
                if (stack.empty()) return SetError(error, ScriptError::INVALID_STACK_OPERATION);
                if ((flags & SCRIPT_VERIFY_NULLDUMMY) && !top(-1).empty()) {
                    return SetError(error, ScriptError::SIG_NULLDUMMY);
                }
                pop();
                stack.push_back(success ? VCH_TRUE : VCH_FALSE);
                if (opcode == OP_CHECKMULTISIGVERIFY) {
                    if (!success) return SetError(error, ScriptError::CHECKMULTISIGVERIFY);
                    pop();
                }
                break;
            }

            default:
                return SetError(error, ScriptError::BAD_OPCODE);
            }
        }

        if (stack.size() + altstack.size() > MAX_STACK_SIZE) return SetError(error, ScriptError::STACK_SIZE);
    }

    if (!exec_stack.Empty()) return SetError(error, ScriptError::UNBALANCED_CONDITIONAL);
    return SetSuccess(error);
}

// ---------------------------------------------------------------------------
// Witness programs
// ---------------------------------------------------------------------------

bool ExecuteWitnessScript(ScriptStack stack, ByteView exec_script, uint32_t flags, SigVersion sigversion,
                          const SignatureChecker& checker, ScriptExecutionData& execdata, ScriptError* error)
{
    if (sigversion == SigVersion::TAPSCRIPT) {
        // An OP_SUCCESSx anywhere makes the script succeed before anything
        // else is checked, so that future soft forks can give it meaning.
        size_t pc = 0;
        ScriptOp op;
        while (pc < exec_script.size()) {
            if (!ReadScriptOp(exec_script, pc, op)) return SetError(error, ScriptError::BAD_OPCODE);
            if (IsOpSuccess(op.opcode)) {
                if (flags & SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS) {
                    return SetError(error, ScriptError::DISCOURAGE_OP_SUCCESS);
                }
                return SetSuccess(error);
            }
        }
        if (stack.size() > MAX_STACK_SIZE) return SetError(error, ScriptError::STACK_SIZE);
    }
    for (const auto& element : stack) {
        if (element.size() > MAX_SCRIPT_ELEMENT_SIZE) return SetError(error, ScriptError::PUSH_SIZE);
    }
    if (!EvalScript(stack, exec_script, flags, checker, sigversion, execdata, error)) return false;
    // Witness scripts must leave exactly one true element.
    if (stack.size() != 1) return SetError(error, ScriptError::CLEANSTACK);
    if (!CastToBool(stack.back())) return SetError(error, ScriptError::EVAL_FALSE);
    return true;
}

bool IsPayToAnchor(int version, ByteView program)
{
    return version == 1 && program.size() == 2 && program[0] == 0x4e && program[1] == 0x73;
}

bool VerifyWitnessProgram(const ScriptWitness& witness, int version, ByteView program, uint32_t flags,
                          const SignatureChecker& checker, ScriptError* error, bool is_p2sh)
{
    ScriptExecutionData execdata;
    if (version == 0) {
        if (program.size() == 32) {
            // P2WSH: the last witness item is the script, committed to by SHA256.
            if (witness.empty()) return SetError(error, ScriptError::WITNESS_PROGRAM_WITNESS_EMPTY);
            const auto& script = witness.back();
            const auto script_hash = crypto::Sha256(script);
            if (!std::equal(script_hash.begin(), script_hash.end(), program.begin())) {
                return SetError(error, ScriptError::WITNESS_PROGRAM_MISMATCH);
            }
            ScriptStack stack(witness.begin(), witness.end() - 1);
            return ExecuteWitnessScript(std::move(stack), script, flags, SigVersion::WITNESS_V0, checker, execdata,
                                        error);
        }
        if (program.size() == 20) {
            // P2WPKH: exactly a signature and a key, run through the P2PKH template.
            if (witness.size() != 2) return SetError(error, ScriptError::WITNESS_PROGRAM_MISMATCH);
            Bytes script{OP_DUP, OP_HASH160};
            AppendPushData(script, program);
            script.push_back(OP_EQUALVERIFY);
            script.push_back(OP_CHECKSIG);
            return ExecuteWitnessScript(ScriptStack(witness.begin(), witness.end()), script, flags,
                                        SigVersion::WITNESS_V0, checker, execdata, error);
        }
        return SetError(error, ScriptError::WITNESS_PROGRAM_WRONG_LENGTH);
    }
    if (version == 1 && program.size() == 32 && !is_p2sh) {
        // Taproot (BIP341).
        if (!(flags & SCRIPT_VERIFY_TAPROOT)) return SetSuccess(error);
        if (witness.empty()) return SetError(error, ScriptError::WITNESS_PROGRAM_WITNESS_EMPTY);
        size_t stack_size = witness.size();
        if (stack_size >= 2 && !witness.back().empty() && witness.back()[0] == ANNEX_TAG) {
            // The annex is committed to by signatures (with its length prefix) but otherwise unused.
            const auto& annex = witness.back();
            Bytes length_prefix;
            const uint64_t n = annex.size();
            if (n < 253) {
                length_prefix.push_back(static_cast<uint8_t>(n));
            } else if (n <= 0xffff) {
                length_prefix = {253, static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8)};
            } else if (n <= 0xffffffff) {
                length_prefix = {254, static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8),
                                 static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 24)};
            } else {
                length_prefix.push_back(255);
                for (int i = 0; i < 8; ++i) length_prefix.push_back(static_cast<uint8_t>(n >> (8 * i)));
            }
            execdata.m_annex_hash = crypto::Sha256Hasher{}.Write(length_prefix).Write(annex).Finalize();
            execdata.m_annex_present = true;
            --stack_size;
        } else {
            execdata.m_annex_present = false;
        }
        execdata.m_annex_init = true;
        if (stack_size == 1) {
            // Key path: a single signature for the output key itself.
            if (!checker.CheckSchnorrSignature(witness.front(), program, SigVersion::TAPROOT, execdata, error)) {
                return false;
            }
            return SetSuccess(error);
        }
        // Script path: [stack...] script control_block [annex].
        const auto& control = witness[stack_size - 1];
        const auto& script = witness[stack_size - 2];
        if (control.size() < TAPROOT_CONTROL_BASE_SIZE || control.size() > TAPROOT_CONTROL_MAX_SIZE ||
            (control.size() - TAPROOT_CONTROL_BASE_SIZE) % TAPROOT_CONTROL_NODE_SIZE != 0) {
            return SetError(error, ScriptError::TAPROOT_WRONG_CONTROL_SIZE);
        }
        const uint8_t leaf_version = control[0] & TAPROOT_LEAF_MASK;
        execdata.m_tapleaf_hash = ComputeTapleafHash(leaf_version, script);
        const auto merkle_root = ComputeTaprootMerkleRoot(control, execdata.m_tapleaf_hash);
        if (!CheckTapTweak(program, ByteView(control).subspan(1, 32), merkle_root, (control[0] & 1) != 0)) {
            return SetError(error, ScriptError::WITNESS_PROGRAM_MISMATCH);
        }
        execdata.m_tapleaf_hash_init = true;
        if (leaf_version == TAPROOT_LEAF_TAPSCRIPT) {
            // Signature budget: the serialized size of the whole witness plus an offset.
            int64_t witness_size = static_cast<int64_t>(CompactSizeLength(witness.size()));
            for (const auto& item : witness) {
                witness_size += static_cast<int64_t>(CompactSizeLength(item.size()) + item.size());
            }
            execdata.m_validation_weight_left = witness_size + VALIDATION_WEIGHT_OFFSET;
            execdata.m_validation_weight_left_init = true;
            return ExecuteWitnessScript(ScriptStack(witness.begin(), witness.begin() + static_cast<std::ptrdiff_t>(stack_size - 2)),
                                        script, flags, SigVersion::TAPSCRIPT, checker, execdata, error);
        }
        if (flags & SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) {
            return SetError(error, ScriptError::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION);
        }
        return SetSuccess(error);
    }
    if (!is_p2sh && IsPayToAnchor(version, program)) return true;
    if (flags & SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) {
        return SetError(error, ScriptError::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM);
    }
    // Unknown versions and sizes are anyone-can-spend, for future soft forks.
    return true;
}

bool VerifyScriptInner(ByteView script_sig, ByteView script_pubkey, const ScriptWitness* witness, uint32_t flags,
                       const SignatureChecker& checker, ScriptError* error)
{
    static const ScriptWitness EMPTY_WITNESS;
    if (witness == nullptr) witness = &EMPTY_WITNESS;
    bool had_witness = false;
    SetError(error, ScriptError::UNKNOWN_ERROR);
    if (!IsValidFlagCombination(flags)) return false;

    if ((flags & SCRIPT_VERIFY_SIGPUSHONLY) && !IsPushOnly(script_sig)) {
        return SetError(error, ScriptError::SIG_PUSHONLY);
    }

    // scriptSig and scriptPubKey run one after the other on the same stack,
    // not concatenated: the scriptSig cannot jump into the scriptPubKey.
    ScriptStack stack;
    ScriptStack stack_copy;
    if (!EvalScript(stack, script_sig, flags, checker, SigVersion::BASE, error)) return false;
    if (flags & SCRIPT_VERIFY_P2SH) stack_copy = stack;
    if (!EvalScript(stack, script_pubkey, flags, checker, SigVersion::BASE, error)) return false;
    if (stack.empty() || !CastToBool(stack.back())) return SetError(error, ScriptError::EVAL_FALSE);

    int version = 0;
    ByteView program;
    if ((flags & SCRIPT_VERIFY_WITNESS) && IsWitnessProgram(script_pubkey, version, program)) {
        had_witness = true;
        if (!script_sig.empty()) return SetError(error, ScriptError::WITNESS_MALLEATED);
        if (!VerifyWitnessProgram(*witness, version, program, flags, checker, error, false)) return false;
        // The stack is not clean for witness programs; CLEANSTACK must not look at it.
        stack.resize(1);
    }

    if ((flags & SCRIPT_VERIFY_P2SH) && IsPayToScriptHash(script_pubkey)) {
        if (!IsPushOnly(script_sig)) return SetError(error, ScriptError::SIG_PUSHONLY);
        std::swap(stack, stack_copy);
        // Not empty: HASH160 <h> EQUAL would have failed on an empty stack.
        if (stack.empty()) return SetError(error, ScriptError::UNKNOWN_ERROR);
        const StackElement redeem_script = std::move(stack.back());
        stack.pop_back();
        if (!EvalScript(stack, redeem_script, flags, checker, SigVersion::BASE, error)) return false;
        if (stack.empty() || !CastToBool(stack.back())) return SetError(error, ScriptError::EVAL_FALSE);

        if ((flags & SCRIPT_VERIFY_WITNESS) && IsWitnessProgram(redeem_script, version, program)) {
            had_witness = true;
            // The scriptSig must be exactly one push of the redeem script.
            if (PushOnlyScript(redeem_script) != Bytes(script_sig.begin(), script_sig.end())) {
                return SetError(error, ScriptError::WITNESS_MALLEATED_P2SH);
            }
            if (!VerifyWitnessProgram(*witness, version, program, flags, checker, error, true)) return false;
            stack.resize(1);
        }
    }

    // After P2SH and witness evaluation, which leave their inputs behind otherwise.
    if ((flags & SCRIPT_VERIFY_CLEANSTACK) && stack.size() != 1) return SetError(error, ScriptError::CLEANSTACK);

    if ((flags & SCRIPT_VERIFY_WITNESS) && !had_witness && !witness->empty()) {
        return SetError(error, ScriptError::WITNESS_UNEXPECTED);
    }
    return SetSuccess(error);
}

} // namespace

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

bool SignatureChecker::CheckEcdsaSignature(std::span<const uint8_t>, std::span<const uint8_t>,
                                           std::span<const uint8_t>, SigVersion) const
{
    return false;
}

bool SignatureChecker::CheckSchnorrSignature(std::span<const uint8_t>, std::span<const uint8_t>, SigVersion,
                                             ScriptExecutionData&, ScriptError*) const
{
    return false;
}

bool SignatureChecker::CheckLockTime(const ScriptNum&) const
{
    return false;
}

bool SignatureChecker::CheckSequence(const ScriptNum&) const
{
    return false;
}

bool CastToBool(std::span<const uint8_t> value)
{
    for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] != 0) {
            // Negative zero is false.
            return !(i == value.size() - 1 && value[i] == 0x80);
        }
    }
    return false;
}

int FindAndDelete(std::vector<uint8_t>& script, std::span<const uint8_t> needle)
{
    int found = 0;
    if (needle.empty()) return found;
    Bytes result;
    size_t pc = 0;
    size_t kept_from = 0;
    ScriptOp op;
    do {
        result.insert(result.end(), script.begin() + static_cast<std::ptrdiff_t>(kept_from),
                      script.begin() + static_cast<std::ptrdiff_t>(pc));
        while (script.size() - pc >= needle.size() &&
               std::equal(needle.begin(), needle.end(), script.begin() + static_cast<std::ptrdiff_t>(pc))) {
            pc += needle.size();
            ++found;
        }
        kept_from = pc;
    } while (ReadScriptOp(script, pc, op));
    if (found > 0) {
        result.insert(result.end(), script.begin() + static_cast<std::ptrdiff_t>(kept_from), script.end());
        script = std::move(result);
    }
    return found;
}

bool EvalScript(ScriptStack& stack, std::span<const uint8_t> script, uint32_t flags, const SignatureChecker& checker,
                SigVersion sigversion, ScriptExecutionData& execdata, ScriptError* error)
{
    try {
        return EvalScriptInner(stack, script, flags, checker, sigversion, execdata, error);
    } catch (const std::bad_alloc&) {
        return SetError(error, ScriptError::UNKNOWN_ERROR);
    }
}

bool EvalScript(ScriptStack& stack, std::span<const uint8_t> script, uint32_t flags, const SignatureChecker& checker,
                SigVersion sigversion, ScriptError* error)
{
    ScriptExecutionData execdata;
    return EvalScript(stack, script, flags, checker, sigversion, execdata, error);
}

bool VerifyScript(std::span<const uint8_t> script_sig, std::span<const uint8_t> script_pubkey,
                  const ScriptWitness* witness, uint32_t flags, const SignatureChecker& checker, ScriptError* error)
{
    try {
        return VerifyScriptInner(script_sig, script_pubkey, witness, flags, checker, error);
    } catch (const std::bad_alloc&) {
        return SetError(error, ScriptError::UNKNOWN_ERROR);
    }
}

std::array<uint8_t, 32> ComputeTapleafHash(uint8_t leaf_version, std::span<const uint8_t> script)
{
    auto hasher = crypto::TaggedHasher("TapLeaf");
    const uint8_t version_byte[1] = {leaf_version};
    hasher.Write(version_byte);
    Bytes length_prefix;
    const uint64_t n = script.size();
    if (n < 253) {
        length_prefix.push_back(static_cast<uint8_t>(n));
    } else if (n <= 0xffff) {
        length_prefix = {253, static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8)};
    } else {
        length_prefix = {254, static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n >> 16),
                         static_cast<uint8_t>(n >> 24)};
    }
    hasher.Write(length_prefix).Write(script);
    return hasher.Finalize();
}

std::array<uint8_t, 32> ComputeTapbranchHash(std::span<const uint8_t> a, std::span<const uint8_t> b)
{
    auto hasher = crypto::TaggedHasher("TapBranch");
    // Children are ordered lexicographically so that proofs need no direction bits.
    if (std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end())) {
        hasher.Write(a).Write(b);
    } else {
        hasher.Write(b).Write(a);
    }
    return hasher.Finalize();
}

std::array<uint8_t, 32> ComputeTaprootMerkleRoot(std::span<const uint8_t> control,
                                                 const std::array<uint8_t, 32>& tapleaf_hash)
{
    std::array<uint8_t, 32> k = tapleaf_hash;
    const size_t path_len = (control.size() - TAPROOT_CONTROL_BASE_SIZE) / TAPROOT_CONTROL_NODE_SIZE;
    for (size_t i = 0; i < path_len; ++i) {
        const auto node = control.subspan(TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * i,
                                          TAPROOT_CONTROL_NODE_SIZE);
        k = ComputeTapbranchHash(k, node);
    }
    return k;
}

} // namespace orrery
