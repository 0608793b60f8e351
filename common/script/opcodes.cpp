// Script operation reader and shape tests.
#include <common/script/opcodes.h>


namespace orrery {

bool ReadScriptOp(std::span<const uint8_t> script, size_t& pos, ScriptOp& op)
{
    op.opcode = OP_INVALIDOPCODE;
    op.push = {};
    const size_t end = script.size();
    if (pos >= end) return false;
    const uint8_t opcode = script[pos++];
    if (opcode <= OP_PUSHDATA4) {
        size_t size = 0;
        if (opcode < OP_PUSHDATA1) {
            size = opcode;
        } else if (opcode == OP_PUSHDATA1) {
            if (end - pos < 1) return false;
            size = script[pos];
            pos += 1;
        } else if (opcode == OP_PUSHDATA2) {
            if (end - pos < 2) return false;
            size = size_t{script[pos]} | size_t{script[pos + 1]} << 8;
            pos += 2;
        } else {
            if (end - pos < 4) return false;
            size = size_t{script[pos]} | size_t{script[pos + 1]} << 8 | size_t{script[pos + 2]} << 16 |
                   size_t{script[pos + 3]} << 24;
            pos += 4;
        }
        if (end - pos < size) return false;
        op.push = script.subspan(pos, size);
        pos += size;
    }
    op.opcode = static_cast<Opcode>(opcode);
    return true;
}

bool IsOpSuccess(uint8_t opcode)
{
    return opcode == 80 || opcode == 98 || (opcode >= 126 && opcode <= 129) || (opcode >= 131 && opcode <= 134) ||
           (opcode >= 137 && opcode <= 138) || (opcode >= 141 && opcode <= 142) || (opcode >= 149 && opcode <= 153) ||
           (opcode >= 187 && opcode <= 254);
}

bool IsPayToScriptHash(std::span<const uint8_t> script)
{
    return script.size() == 23 && script[0] == OP_HASH160 && script[1] == 0x14 && script[22] == OP_EQUAL;
}

bool IsPushOnly(std::span<const uint8_t> script)
{
    size_t pos = 0;
    ScriptOp op;
    while (pos < script.size()) {
        if (!ReadScriptOp(script, pos, op)) return false;
        // OP_RESERVED counts as a push here, as in Core: it fails when executed anyway.
        if (op.opcode > OP_16) return false;
    }
    return true;
}

bool IsWitnessProgram(std::span<const uint8_t> script, int& version, std::span<const uint8_t>& program)
{
    if (script.size() < 4 || script.size() > 42) return false;
    if (script[0] != OP_0 && (script[0] < OP_1 || script[0] > OP_16)) return false;
    if (static_cast<size_t>(script[1]) + 2 != script.size()) return false;
    version = DecodeOpN(static_cast<Opcode>(script[0]));
    program = script.subspan(2);
    return true;
}

} // namespace orrery
