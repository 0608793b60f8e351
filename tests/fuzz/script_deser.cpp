// Fuzz target: arbitrary bytes as a script. Walks it with both operation
// readers (ours and common/consensus's, which must agree), runs the shape
// tests and every sigop counter, and the legacy scriptCode walk of FindAndDelete.
#include <common/consensus/script.h>
#include <common/script/interpreter.h>
#include <common/script/opcodes.h>
#include <common/script/sigops.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::span<const uint8_t> script(data, size);

    size_t pos_a = 0;
    size_t pos_b = 0;
    orrery::ScriptOp op;
    while (true) {
        orrery::Opcode opcode_b;
        std::span<const uint8_t> push_b;
        const bool ok_a = orrery::ReadScriptOp(script, pos_a, op);
        const bool ok_b = orrery::GetScriptOp(script, pos_b, opcode_b, push_b);
        // Both readers implement Core's GetScriptOp; any divergence is a bug.
        if (ok_a != ok_b || pos_a != pos_b || op.opcode != opcode_b || op.push.size() != push_b.size()) std::abort();
        if (!ok_a) break;
        if (pos_a > size) std::abort();
    }

    int version = 0;
    std::span<const uint8_t> program;
    (void)orrery::IsWitnessProgram(script, version, program);
    (void)orrery::IsPayToScriptHash(script);
    (void)orrery::IsPushOnly(script);

    if (orrery::CountScriptSigOps(script, true) != orrery::GetSigOpCount(script, true)) std::abort();
    if (orrery::CountScriptSigOps(script, false) != orrery::GetSigOpCount(script, false)) std::abort();

    // Treat the input as scriptSig and as scriptPubKey for the P2SH and witness counters.
    const orrery::ScriptWitness witness{std::vector<uint8_t>(data, data + size)};
    (void)orrery::CountP2SHSigOps(script, script);
    (void)orrery::CountWitnessSigOps(script, script, &witness,
                                     orrery::SCRIPT_VERIFY_P2SH | orrery::SCRIPT_VERIFY_WITNESS);

    if (size > 0) {
        std::vector<uint8_t> copy(data, data + size);
        const size_t needle = data[0] % 4 + 1;
        if (needle <= size) {
            const int removed = orrery::FindAndDelete(copy, script.subspan(size - needle));
            if (removed < 0 || copy.size() > size) std::abort();
        }
    }
    return 0;
}
