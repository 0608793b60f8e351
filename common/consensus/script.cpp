// Opcode iteration, names and the small script builders consensus code needs
// (genesis coinbase, BIP34 height push). Execution lives in common/script/.
#include <common/consensus/script.h>

#include <array>

namespace orrery {

// ---------------------------------------------------------------------------
// Iteration
// ---------------------------------------------------------------------------

namespace {

uint32_t ReadLe(const uint8_t* p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

} // namespace

bool GetScriptOp(std::span<const uint8_t> script, size_t& pos, Opcode& opcode, std::span<const uint8_t>& data)
{
    opcode = OP_INVALIDOPCODE;
    data = {};
    if (pos >= script.size()) return false;
    const uint8_t op = script[pos++];
    if (op <= OP_PUSHDATA4) {
        size_t size_bytes = 0;
        if (op == OP_PUSHDATA1) size_bytes = 1;
        if (op == OP_PUSHDATA2) size_bytes = 2;
        if (op == OP_PUSHDATA4) size_bytes = 4;
        size_t push_size = op;
        if (size_bytes > 0) {
            if (script.size() - pos < size_bytes) return false;
            push_size = ReadLe(script.data() + pos, size_bytes);
            pos += size_bytes;
        }
        if (script.size() - pos < push_size) return false;
        data = script.subspan(pos, push_size);
        pos += push_size;
    }
    opcode = static_cast<Opcode>(op);
    return true;
}

bool GetScriptOp(std::span<const uint8_t> script, size_t& pos, Opcode& opcode, std::vector<uint8_t>& data)
{
    std::span<const uint8_t> view;
    const bool ok = GetScriptOp(script, pos, opcode, view);
    data.assign(view.begin(), view.end());
    return ok;
}

bool GetScriptOp(std::span<const uint8_t> script, size_t& pos, Opcode& opcode)
{
    std::span<const uint8_t> view;
    return GetScriptOp(script, pos, opcode, view);
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

namespace {

// Names of OP_NOP (0x61) through OP_CHECKSIGADD (0xba), in opcode order.
constexpr std::array<const char*, 0xba - 0x61 + 1> kNames = {
    "OP_NOP", "OP_VER", "OP_IF", "OP_NOTIF", "OP_VERIF", "OP_VERNOTIF", "OP_ELSE", "OP_ENDIF", "OP_VERIFY",
    "OP_RETURN", "OP_TOALTSTACK", "OP_FROMALTSTACK", "OP_2DROP", "OP_2DUP", "OP_3DUP", "OP_2OVER", "OP_2ROT",
    "OP_2SWAP", "OP_IFDUP", "OP_DEPTH", "OP_DROP", "OP_DUP", "OP_NIP", "OP_OVER", "OP_PICK", "OP_ROLL", "OP_ROT",
    "OP_SWAP", "OP_TUCK", "OP_CAT", "OP_SUBSTR", "OP_LEFT", "OP_RIGHT", "OP_SIZE", "OP_INVERT", "OP_AND", "OP_OR",
    "OP_XOR", "OP_EQUAL", "OP_EQUALVERIFY", "OP_RESERVED1", "OP_RESERVED2", "OP_1ADD", "OP_1SUB", "OP_2MUL",
    "OP_2DIV", "OP_NEGATE", "OP_ABS", "OP_NOT", "OP_0NOTEQUAL", "OP_ADD", "OP_SUB", "OP_MUL", "OP_DIV", "OP_MOD",
    "OP_LSHIFT", "OP_RSHIFT", "OP_BOOLAND", "OP_BOOLOR", "OP_NUMEQUAL", "OP_NUMEQUALVERIFY", "OP_NUMNOTEQUAL",
    "OP_LESSTHAN", "OP_GREATERTHAN", "OP_LESSTHANOREQUAL", "OP_GREATERTHANOREQUAL", "OP_MIN", "OP_MAX", "OP_WITHIN",
    "OP_RIPEMD160", "OP_SHA1", "OP_SHA256", "OP_HASH160", "OP_HASH256", "OP_CODESEPARATOR", "OP_CHECKSIG",
    "OP_CHECKSIGVERIFY", "OP_CHECKMULTISIG", "OP_CHECKMULTISIGVERIFY", "OP_NOP1", "OP_CHECKLOCKTIMEVERIFY",
    "OP_CHECKSEQUENCEVERIFY", "OP_NOP4", "OP_NOP5", "OP_NOP6", "OP_NOP7", "OP_NOP8", "OP_NOP9", "OP_NOP10",
    "OP_CHECKSIGADD"};

} // namespace

std::string GetOpName(Opcode opcode)
{
    if (opcode == OP_0) return "0";
    if (opcode == OP_1NEGATE) return "-1";
    if (opcode >= OP_1 && opcode <= OP_16) return std::to_string(opcode - OP_1 + 1);
    if (opcode == OP_PUSHDATA1) return "OP_PUSHDATA1";
    if (opcode == OP_PUSHDATA2) return "OP_PUSHDATA2";
    if (opcode == OP_PUSHDATA4) return "OP_PUSHDATA4";
    if (opcode == OP_RESERVED) return "OP_RESERVED";
    if (opcode >= OP_NOP && opcode <= OP_CHECKSIGADD) return kNames[opcode - OP_NOP];
    if (opcode == OP_INVALIDOPCODE) return "OP_INVALIDOPCODE";
    return "OP_UNKNOWN";
}

std::optional<Opcode> OpcodeFromName(std::string_view name)
{
    std::string_view bare = name;
    if (bare.starts_with("OP_")) bare.remove_prefix(3);
    if (bare == "RESERVED") return OP_RESERVED;
    // Core's ParseScript table covers OP_NOP..MAX_OPCODE (OP_NOP10), so
    // OP_CHECKSIGADD is deliberately not accepted.
    for (size_t i = 0; i + OP_NOP <= MAX_OPCODE; ++i) {
        if (std::string_view(kNames[i]).substr(3) == bare) return static_cast<Opcode>(OP_NOP + i);
    }
    return std::nullopt;
}

int DecodeOpN(Opcode opcode)
{
    if (opcode == OP_0) return 0;
    return int(opcode) - int(OP_1 - 1);
}

Opcode EncodeOpN(int n)
{
    if (n == 0) return OP_0;
    return static_cast<Opcode>(OP_1 + n - 1);
}

// ---------------------------------------------------------------------------
// Sigops and builders
// ---------------------------------------------------------------------------

unsigned GetSigOpCount(std::span<const uint8_t> script, bool accurate)
{
    unsigned count = 0;
    size_t pos = 0;
    Opcode last = OP_INVALIDOPCODE;
    while (pos < script.size()) {
        Opcode op;
        if (!GetScriptOp(script, pos, op)) break;
        if (op == OP_CHECKSIG || op == OP_CHECKSIGVERIFY) {
            ++count;
        } else if (op == OP_CHECKMULTISIG || op == OP_CHECKMULTISIGVERIFY) {
            if (accurate && last >= OP_1 && last <= OP_16) {
                count += unsigned(DecodeOpN(last));
            } else {
                count += MAX_PUBKEYS_PER_MULTISIG;
            }
        }
        last = op;
    }
    return count;
}

std::vector<uint8_t> EncodeScriptNum(int64_t n)
{
    std::vector<uint8_t> out;
    if (n == 0) return out;
    const bool negative = n < 0;
    // Magnitude as unsigned so that INT64_MIN does not overflow.
    uint64_t magnitude = negative ? ~uint64_t(n) + 1 : uint64_t(n);
    while (magnitude > 0) {
        out.push_back(uint8_t(magnitude & 0xff));
        magnitude >>= 8;
    }
    // The top bit of the last byte is the sign; add a byte if it is taken.
    if (out.back() & 0x80) {
        out.push_back(negative ? 0x80 : 0x00);
    } else if (negative) {
        out.back() |= 0x80;
    }
    return out;
}

void AppendPushData(Script& script, std::span<const uint8_t> data)
{
    const size_t n = data.size();
    if (n < OP_PUSHDATA1) {
        script.push_back(uint8_t(n));
    } else if (n <= 0xff) {
        script.push_back(OP_PUSHDATA1);
        script.push_back(uint8_t(n));
    } else if (n <= 0xffff) {
        script.push_back(OP_PUSHDATA2);
        script.push_back(uint8_t(n));
        script.push_back(uint8_t(n >> 8));
    } else {
        script.push_back(OP_PUSHDATA4);
        for (int i = 0; i < 4; ++i) script.push_back(uint8_t(uint64_t(n) >> (8 * i)));
    }
    script.insert(script.end(), data.begin(), data.end());
}

void AppendPushInt64(Script& script, int64_t n)
{
    if (n == -1 || (n >= 1 && n <= 16)) {
        script.push_back(uint8_t(n + (OP_1 - 1)));
    } else if (n == 0) {
        script.push_back(OP_0);
    } else {
        AppendPushData(script, EncodeScriptNum(n));
    }
}

bool IsUnspendable(std::span<const uint8_t> script)
{
    return (!script.empty() && script[0] == OP_RETURN) || script.size() > 10000;
}

} // namespace orrery
