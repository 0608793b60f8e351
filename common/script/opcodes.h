// The operation reader the interpreter uses, and script shape tests. Opcode
// names come from common/consensus/script.h. The reader reproduces Bitcoin Core's GetScriptOp
// exactly, including where it leaves the cursor when a push is truncated:
// legacy signature hashing (OP_CODESEPARATOR removal) and sigop counting
// depend on that position, so it is consensus-critical.
#ifndef ORRERY_COMMON_SCRIPT_OPCODES_H
#define ORRERY_COMMON_SCRIPT_OPCODES_H

#include <common/consensus/script.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace orrery {

//! One decoded operation. `push` views into the script being read, so it is
//! valid only as long as that buffer is.
struct ScriptOp {
    Opcode opcode{OP_INVALIDOPCODE};
    std::span<const uint8_t> push{};
};

//! Reads the operation at `pos` of `script` and advances `pos` past it.
//! Returns false at the end of the script or on a truncated push; in the
//! truncated case `pos` has moved past the bytes already consumed, exactly as
//! in Bitcoin Core, and `op.opcode` is OP_INVALIDOPCODE.
bool ReadScriptOp(std::span<const uint8_t> script, size_t& pos, ScriptOp& op);

//! BIP342 OP_SUCCESSx opcodes.
bool IsOpSuccess(uint8_t opcode);

//! Shape tests on serialized scripts, as in Core's CScript.
bool IsPayToScriptHash(std::span<const uint8_t> script);
bool IsPushOnly(std::span<const uint8_t> script);
//! On success sets version (0..16) and a view of the 2..40-byte program.
bool IsWitnessProgram(std::span<const uint8_t> script, int& version, std::span<const uint8_t>& program);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_OPCODES_H
