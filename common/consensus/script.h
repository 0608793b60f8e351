// Script as data: the byte-vector type, Core's opcode names, and a bounds-
// checked iterator over a script's operations. Nothing here executes a
// script; the interpreter lives in common/script/ and builds on this header.
#ifndef ORRERY_COMMON_CONSENSUS_SCRIPT_H
#define ORRERY_COMMON_CONSENSUS_SCRIPT_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! A serialized script (scriptSig, scriptPubKey, witness script, ...).
using Script = std::vector<uint8_t>;

//! Script opcodes, with Bitcoin Core's names and values.
enum Opcode : uint8_t {
    // Pushes.
    OP_0 = 0x00,
    OP_FALSE = OP_0,
    OP_PUSHDATA1 = 0x4c,
    OP_PUSHDATA2 = 0x4d,
    OP_PUSHDATA4 = 0x4e,
    OP_1NEGATE = 0x4f,
    OP_RESERVED = 0x50,
    OP_1 = 0x51,
    OP_TRUE = OP_1,
    OP_2 = 0x52,
    OP_3 = 0x53,
    OP_4 = 0x54,
    OP_5 = 0x55,
    OP_6 = 0x56,
    OP_7 = 0x57,
    OP_8 = 0x58,
    OP_9 = 0x59,
    OP_10 = 0x5a,
    OP_11 = 0x5b,
    OP_12 = 0x5c,
    OP_13 = 0x5d,
    OP_14 = 0x5e,
    OP_15 = 0x5f,
    OP_16 = 0x60,

    // Control.
    OP_NOP = 0x61,
    OP_VER = 0x62,
    OP_IF = 0x63,
    OP_NOTIF = 0x64,
    OP_VERIF = 0x65,
    OP_VERNOTIF = 0x66,
    OP_ELSE = 0x67,
    OP_ENDIF = 0x68,
    OP_VERIFY = 0x69,
    OP_RETURN = 0x6a,

    // Stack.
    OP_TOALTSTACK = 0x6b,
    OP_FROMALTSTACK = 0x6c,
    OP_2DROP = 0x6d,
    OP_2DUP = 0x6e,
    OP_3DUP = 0x6f,
    OP_2OVER = 0x70,
    OP_2ROT = 0x71,
    OP_2SWAP = 0x72,
    OP_IFDUP = 0x73,
    OP_DEPTH = 0x74,
    OP_DROP = 0x75,
    OP_DUP = 0x76,
    OP_NIP = 0x77,
    OP_OVER = 0x78,
    OP_PICK = 0x79,
    OP_ROLL = 0x7a,
    OP_ROT = 0x7b,
    OP_SWAP = 0x7c,
    OP_TUCK = 0x7d,

    // Splice.
    OP_CAT = 0x7e,
    OP_SUBSTR = 0x7f,
    OP_LEFT = 0x80,
    OP_RIGHT = 0x81,
    OP_SIZE = 0x82,

    // Bit logic.
    OP_INVERT = 0x83,
    OP_AND = 0x84,
    OP_OR = 0x85,
    OP_XOR = 0x86,
    OP_EQUAL = 0x87,
    OP_EQUALVERIFY = 0x88,
    OP_RESERVED1 = 0x89,
    OP_RESERVED2 = 0x8a,

    // Numeric.
    OP_1ADD = 0x8b,
    OP_1SUB = 0x8c,
    OP_2MUL = 0x8d,
    OP_2DIV = 0x8e,
    OP_NEGATE = 0x8f,
    OP_ABS = 0x90,
    OP_NOT = 0x91,
    OP_0NOTEQUAL = 0x92,
    OP_ADD = 0x93,
    OP_SUB = 0x94,
    OP_MUL = 0x95,
    OP_DIV = 0x96,
    OP_MOD = 0x97,
    OP_LSHIFT = 0x98,
    OP_RSHIFT = 0x99,
    OP_BOOLAND = 0x9a,
    OP_BOOLOR = 0x9b,
    OP_NUMEQUAL = 0x9c,
    OP_NUMEQUALVERIFY = 0x9d,
    OP_NUMNOTEQUAL = 0x9e,
    OP_LESSTHAN = 0x9f,
    OP_GREATERTHAN = 0xa0,
    OP_LESSTHANOREQUAL = 0xa1,
    OP_GREATERTHANOREQUAL = 0xa2,
    OP_MIN = 0xa3,
    OP_MAX = 0xa4,
    OP_WITHIN = 0xa5,

    // Crypto.
    OP_RIPEMD160 = 0xa6,
    OP_SHA1 = 0xa7,
    OP_SHA256 = 0xa8,
    OP_HASH160 = 0xa9,
    OP_HASH256 = 0xaa,
    OP_CODESEPARATOR = 0xab,
    OP_CHECKSIG = 0xac,
    OP_CHECKSIGVERIFY = 0xad,
    OP_CHECKMULTISIG = 0xae,
    OP_CHECKMULTISIGVERIFY = 0xaf,

    // Expansion.
    OP_NOP1 = 0xb0,
    OP_CHECKLOCKTIMEVERIFY = 0xb1,
    OP_NOP2 = OP_CHECKLOCKTIMEVERIFY,
    OP_CHECKSEQUENCEVERIFY = 0xb2,
    OP_NOP3 = OP_CHECKSEQUENCEVERIFY,
    OP_NOP4 = 0xb3,
    OP_NOP5 = 0xb4,
    OP_NOP6 = 0xb5,
    OP_NOP7 = 0xb6,
    OP_NOP8 = 0xb7,
    OP_NOP9 = 0xb8,
    OP_NOP10 = 0xb9,

    // Tapscript (BIP342).
    OP_CHECKSIGADD = 0xba,

    OP_INVALIDOPCODE = 0xff,
};

//! Highest opcode with a defined meaning outside tapscript (Core's MAX_OPCODE).
inline constexpr Opcode MAX_OPCODE = OP_NOP10;
//! Sigops charged for a bare OP_CHECKMULTISIG(VERIFY) in legacy counting.
inline constexpr unsigned MAX_PUBKEYS_PER_MULTISIG = 20;

//! Reads the operation at script[pos] and advances pos past it. For a push,
//! data is set to the pushed bytes (a view into script), otherwise emptied.
//! Returns false, with opcode = OP_INVALIDOPCODE, at the end of the script or
//! when a push runs past it; pos is then advanced the way Core's GetScriptOp
//! advances its iterator, and callers must stop iterating.
bool GetScriptOp(std::span<const uint8_t> script, size_t& pos, Opcode& opcode, std::span<const uint8_t>& data);
//! As above, copying the pushed bytes.
bool GetScriptOp(std::span<const uint8_t> script, size_t& pos, Opcode& opcode, std::vector<uint8_t>& data);
//! As above, ignoring pushed bytes.
bool GetScriptOp(std::span<const uint8_t> script, size_t& pos, Opcode& opcode);

//! Core's GetOpName: "0", "-1", "1".."16" for small-number pushes,
//! "OP_UNKNOWN" for undefined values, otherwise the OP_ name.
std::string GetOpName(Opcode opcode);
//! Reverse of GetOpName as Core's ParseScript accepts it: the full name or the
//! name without "OP_", for OP_NOP..OP_NOP10 and OP_RESERVED (small
//! numbers are numeric literals there, not opcode names).
std::optional<Opcode> OpcodeFromName(std::string_view name);

//! OP_0..OP_16 to 0..16. Precondition: opcode is OP_0 or in OP_1..OP_16.
int DecodeOpN(Opcode opcode);
//! 0..16 to OP_0..OP_16. Precondition: 0 <= n <= 16.
Opcode EncodeOpN(int n);

//! Legacy sigop count of one script (Core's CScript::GetSigOpCount). With
//! accurate = false every CHECKMULTISIG counts 20; with accurate = true a
//! preceding OP_1..OP_16 gives the count (as used for P2SH redeem scripts).
unsigned GetSigOpCount(std::span<const uint8_t> script, bool accurate);

//! Minimal CScriptNum encoding of n (little-endian magnitude, sign bit in the
//! top byte, empty for zero).
std::vector<uint8_t> EncodeScriptNum(int64_t n);
//! Appends the push of arbitrary bytes with the smallest push opcode
//! (direct, PUSHDATA1/2/4), like Core's CScript << std::vector.
void AppendPushData(Script& script, std::span<const uint8_t> data);
//! Appends n the way Core's CScript << int64_t does: OP_0, OP_1NEGATE or
//! OP_1..OP_16 when possible, otherwise a push of EncodeScriptNum(n).
void AppendPushInt64(Script& script, int64_t n);

//! True for OP_RETURN outputs and scripts longer than 10000 bytes, which can
//! never be spent (Core's CScript::IsUnspendable).
bool IsUnspendable(std::span<const uint8_t> script);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_SCRIPT_H
