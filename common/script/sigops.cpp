// Sigop counting.
#include <common/script/sigops.h>

#include <common/script/opcodes.h>

namespace orrery {

namespace {

unsigned WitnessProgramSigOps(int version, std::span<const uint8_t> program, const ScriptWitness& witness)
{
    if (version != 0) return 0;
    if (program.size() == 20) return 1;
    if (program.size() == 32 && !witness.empty()) return CountScriptSigOps(witness.back(), true);
    return 0;
}

} // namespace

unsigned CountScriptSigOps(std::span<const uint8_t> script, bool accurate)
{
    unsigned count = 0;
    size_t pos = 0;
    ScriptOp op;
    Opcode last = OP_INVALIDOPCODE;
    while (pos < script.size()) {
        if (!ReadScriptOp(script, pos, op)) break;
        if (op.opcode == OP_CHECKSIG || op.opcode == OP_CHECKSIGVERIFY) {
            ++count;
        } else if (op.opcode == OP_CHECKMULTISIG || op.opcode == OP_CHECKMULTISIGVERIFY) {
            if (accurate && last >= OP_1 && last <= OP_16) {
                count += static_cast<unsigned>(DecodeOpN(last));
            } else {
                count += MAX_PUBKEYS_PER_MULTISIG;
            }
        }
        last = op.opcode;
    }
    return count;
}

unsigned CountP2SHSigOps(std::span<const uint8_t> script_pubkey, std::span<const uint8_t> script_sig)
{
    if (!IsPayToScriptHash(script_pubkey)) return CountScriptSigOps(script_pubkey, true);
    size_t pos = 0;
    ScriptOp op;
    std::span<const uint8_t> last_push;
    while (pos < script_sig.size()) {
        if (!ReadScriptOp(script_sig, pos, op)) return 0;
        if (op.opcode > OP_16) return 0;
        last_push = op.push;
    }
    return CountScriptSigOps(last_push, true);
}

unsigned CountWitnessSigOps(std::span<const uint8_t> script_sig, std::span<const uint8_t> script_pubkey,
                            const ScriptWitness* witness, uint32_t flags)
{
    static const ScriptWitness EMPTY;
    if ((flags & SCRIPT_VERIFY_WITNESS) == 0) return 0;
    const ScriptWitness& stack = witness ? *witness : EMPTY;
    int version = 0;
    std::span<const uint8_t> program;
    if (IsWitnessProgram(script_pubkey, version, program)) return WitnessProgramSigOps(version, program, stack);
    if (IsPayToScriptHash(script_pubkey) && IsPushOnly(script_sig)) {
        size_t pos = 0;
        ScriptOp op;
        std::span<const uint8_t> last_push;
        while (pos < script_sig.size()) {
            if (!ReadScriptOp(script_sig, pos, op)) break;
            last_push = op.push;
        }
        if (IsWitnessProgram(last_push, version, program)) return WitnessProgramSigOps(version, program, stack);
    }
    return 0;
}

unsigned GetP2SHSigOpCount(const Transaction& tx, std::span<const TxOut> spent)
{
    if (tx.IsCoinbase()) return 0;
    unsigned count = 0;
    for (size_t i = 0; i < tx.vin.size() && i < spent.size(); ++i) {
        if (IsPayToScriptHash(spent[i].script_pubkey)) {
            count += CountP2SHSigOps(spent[i].script_pubkey, tx.vin[i].script_sig);
        }
    }
    return count;
}

int64_t GetTransactionSigOpCost(const Transaction& tx, std::span<const TxOut> spent, uint32_t flags)
{
    int64_t cost = static_cast<int64_t>(GetLegacySigOpCount(tx)) * WITNESS_SCALE_FACTOR;
    if (tx.IsCoinbase()) return cost;
    if (flags & SCRIPT_VERIFY_P2SH) cost += static_cast<int64_t>(GetP2SHSigOpCount(tx, spent)) * WITNESS_SCALE_FACTOR;
    for (size_t i = 0; i < tx.vin.size() && i < spent.size(); ++i) {
        cost += CountWitnessSigOps(tx.vin[i].script_sig, spent[i].script_pubkey, &tx.vin[i].witness, flags);
    }
    return cost;
}

} // namespace orrery
