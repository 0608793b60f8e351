// Signature hash algorithms.
#include <common/script/sighash.h>

#include <common/consensus/serialize.h>
#include <common/crypto/hash.h>
#include <common/script/opcodes.h>

namespace orrery {

namespace {

using Hash32 = std::array<uint8_t, 32>;

void WriteOutPoint(Writer& w, const OutPoint& prevout)
{
    w.WriteBytes(prevout.hash);
    w.WriteU32(prevout.n);
}

void WriteTxOut(Writer& w, const TxOut& out)
{
    w.WriteI64(out.value);
    w.WriteByteVector(out.script_pubkey);
}

Hash32 PrevoutsSha256(const Transaction& tx)
{
    std::vector<uint8_t> buf;
    buf.reserve(tx.vin.size() * 36);
    Writer w{buf};
    for (const auto& in : tx.vin) WriteOutPoint(w, in.prevout);
    return crypto::Sha256(buf);
}

Hash32 SequencesSha256(const Transaction& tx)
{
    std::vector<uint8_t> buf;
    buf.reserve(tx.vin.size() * 4);
    Writer w{buf};
    for (const auto& in : tx.vin) w.WriteU32(in.sequence);
    return crypto::Sha256(buf);
}

Hash32 OutputsSha256(const Transaction& tx)
{
    std::vector<uint8_t> buf;
    Writer w{buf};
    for (const auto& out : tx.vout) WriteTxOut(w, out);
    return crypto::Sha256(buf);
}

Hash32 SpentAmountsSha256(const std::vector<TxOut>& spent)
{
    std::vector<uint8_t> buf;
    buf.reserve(spent.size() * 8);
    Writer w{buf};
    for (const auto& out : spent) w.WriteI64(out.value);
    return crypto::Sha256(buf);
}

Hash32 SpentScriptsSha256(const std::vector<TxOut>& spent)
{
    std::vector<uint8_t> buf;
    Writer w{buf};
    for (const auto& out : spent) w.WriteByteVector(out.script_pubkey);
    return crypto::Sha256(buf);
}

bool IsTaprootScript(const Script& script)
{
    return script.size() == 34 && script[0] == OP_1 && script[1] == 32;
}

// Legacy scriptCode serialization: the script with every OP_CODESEPARATOR
// removed. Mirrors Core's walk, including its behaviour on a truncated final
// push (the reader's stopping point bounds the copied tail while the length
// prefix counts the whole script).
void WriteLegacyScriptCode(Writer& w, std::span<const uint8_t> script_code)
{
    size_t pos = 0;
    ScriptOp op;
    size_t separators = 0;
    while (ReadScriptOp(script_code, pos, op)) {
        if (op.opcode == OP_CODESEPARATOR) ++separators;
    }
    w.WriteCompactSize(script_code.size() - separators);
    pos = 0;
    size_t copied_from = 0;
    while (ReadScriptOp(script_code, pos, op)) {
        if (op.opcode == OP_CODESEPARATOR) {
            w.WriteBytes(script_code.subspan(copied_from, pos - copied_from - 1));
            copied_from = pos;
        }
    }
    if (copied_from != script_code.size()) w.WriteBytes(script_code.subspan(copied_from, pos - copied_from));
}

} // namespace

// ---------------------------------------------------------------------------
// Precomputed data
// ---------------------------------------------------------------------------

PrecomputedTransactionData::PrecomputedTransactionData(const Transaction& tx, std::vector<TxOut> spent_outputs,
                                                       bool force)
{
    Init(tx, std::move(spent_outputs), force);
}

void PrecomputedTransactionData::Init(const Transaction& tx, std::vector<TxOut> spent_outputs, bool force)
{
    if (!spent_outputs.empty() && spent_outputs.size() == tx.vin.size()) {
        m_spent_outputs = std::move(spent_outputs);
        m_spent_outputs_ready = true;
    }
    bool uses_bip143 = force;
    bool uses_bip341 = force;
    for (size_t i = 0; i < tx.vin.size() && !(uses_bip143 && uses_bip341); ++i) {
        if (tx.vin[i].witness.empty()) continue;
        if (m_spent_outputs_ready && IsTaprootScript(m_spent_outputs[i].script_pubkey)) {
            uses_bip341 = true;
        } else {
            uses_bip143 = true;
        }
    }
    if (uses_bip143 || uses_bip341) {
        m_prevouts_single_hash = PrevoutsSha256(tx);
        m_sequences_single_hash = SequencesSha256(tx);
        m_outputs_single_hash = OutputsSha256(tx);
    }
    if (uses_bip143) {
        m_hash_prevouts = crypto::Sha256(m_prevouts_single_hash);
        m_hash_sequence = crypto::Sha256(m_sequences_single_hash);
        m_hash_outputs = crypto::Sha256(m_outputs_single_hash);
        m_bip143_segwit_ready = true;
    }
    if (uses_bip341 && m_spent_outputs_ready) {
        m_spent_amounts_single_hash = SpentAmountsSha256(m_spent_outputs);
        m_spent_scripts_single_hash = SpentScriptsSha256(m_spent_outputs);
        m_bip341_taproot_ready = true;
    }
}

// ---------------------------------------------------------------------------
// Legacy
// ---------------------------------------------------------------------------

uint256 SignatureHashLegacy(std::span<const uint8_t> script_code, const Transaction& tx, size_t n_in,
                            int32_t hash_type)
{
    uint256 one;
    one.data()[0] = 1;
    if (n_in >= tx.vin.size()) return one;
    const bool anyone_can_pay = (hash_type & SIGHASH_ANYONECANPAY) != 0;
    const bool hash_single = (hash_type & 0x1f) == SIGHASH_SINGLE;
    const bool hash_none = (hash_type & 0x1f) == SIGHASH_NONE;
    // The "SIGHASH_SINGLE bug": no matching output signs the constant 1.
    if (hash_single && n_in >= tx.vout.size()) return one;

    std::vector<uint8_t> buf;
    buf.reserve(GetSerializeSize(tx, false) + script_code.size() + 8);
    Writer w{buf};
    w.WriteI32(tx.version);
    const size_t n_inputs = anyone_can_pay ? 1 : tx.vin.size();
    w.WriteCompactSize(n_inputs);
    for (size_t k = 0; k < n_inputs; ++k) {
        const size_t input = anyone_can_pay ? n_in : k;
        WriteOutPoint(w, tx.vin[input].prevout);
        if (input == n_in) {
            WriteLegacyScriptCode(w, script_code);
        } else {
            w.WriteCompactSize(0);
        }
        // Other inputs' sequences are blanked under NONE and SINGLE.
        if (input != n_in && (hash_single || hash_none)) {
            w.WriteU32(0);
        } else {
            w.WriteU32(tx.vin[input].sequence);
        }
    }
    const size_t n_outputs = hash_none ? 0 : hash_single ? n_in + 1 : tx.vout.size();
    w.WriteCompactSize(n_outputs);
    for (size_t k = 0; k < n_outputs; ++k) {
        if (hash_single && k != n_in) {
            // A null output: value -1, empty script.
            w.WriteI64(-1);
            w.WriteCompactSize(0);
        } else {
            WriteTxOut(w, tx.vout[k]);
        }
    }
    w.WriteU32(tx.lock_time);
    w.WriteI32(hash_type);
    return uint256{crypto::Sha256d(buf)};
}

// ---------------------------------------------------------------------------
// BIP143
// ---------------------------------------------------------------------------

uint256 SignatureHashWitnessV0(std::span<const uint8_t> script_code, const Transaction& tx, size_t n_in,
                               int32_t hash_type, Amount amount, const PrecomputedTransactionData* cache)
{
    const bool ready = cache != nullptr && cache->m_bip143_segwit_ready;
    const int base_type = hash_type & 0x1f;
    Hash32 hash_prevouts{};
    Hash32 hash_sequence{};
    Hash32 hash_outputs{};
    if (!(hash_type & SIGHASH_ANYONECANPAY)) {
        hash_prevouts = ready ? cache->m_hash_prevouts : crypto::Sha256(PrevoutsSha256(tx));
    }
    if (!(hash_type & SIGHASH_ANYONECANPAY) && base_type != SIGHASH_SINGLE && base_type != SIGHASH_NONE) {
        hash_sequence = ready ? cache->m_hash_sequence : crypto::Sha256(SequencesSha256(tx));
    }
    if (base_type != SIGHASH_SINGLE && base_type != SIGHASH_NONE) {
        hash_outputs = ready ? cache->m_hash_outputs : crypto::Sha256(OutputsSha256(tx));
    } else if (base_type == SIGHASH_SINGLE && n_in < tx.vout.size()) {
        std::vector<uint8_t> out;
        Writer ow{out};
        WriteTxOut(ow, tx.vout[n_in]);
        hash_outputs = crypto::Sha256d(out);
    }

    std::vector<uint8_t> buf;
    buf.reserve(160 + script_code.size());
    Writer w{buf};
    w.WriteI32(tx.version);
    w.WriteBytes(hash_prevouts);
    w.WriteBytes(hash_sequence);
    WriteOutPoint(w, tx.vin[n_in].prevout);
    w.WriteByteVector(script_code);
    w.WriteI64(amount);
    w.WriteU32(tx.vin[n_in].sequence);
    w.WriteBytes(hash_outputs);
    w.WriteU32(tx.lock_time);
    w.WriteI32(hash_type);
    return uint256{crypto::Sha256d(buf)};
}

uint256 SignatureHash(std::span<const uint8_t> script_code, const Transaction& tx, size_t n_in, int32_t hash_type,
                      Amount amount, SigVersion sigversion, const PrecomputedTransactionData* cache)
{
    if (sigversion == SigVersion::WITNESS_V0) {
        return SignatureHashWitnessV0(script_code, tx, n_in, hash_type, amount, cache);
    }
    return SignatureHashLegacy(script_code, tx, n_in, hash_type);
}

// ---------------------------------------------------------------------------
// BIP341 / BIP342
// ---------------------------------------------------------------------------

std::optional<std::vector<uint8_t>> SignatureMessageSchnorr(ScriptExecutionData& execdata, const Transaction& tx,
                                                            size_t in_pos, uint8_t hash_type, SigVersion sigversion,
                                                            const PrecomputedTransactionData& cache)
{
    uint8_t ext_flag = 0;
    if (sigversion == SigVersion::TAPSCRIPT) {
        ext_flag = 1;
    } else if (sigversion != SigVersion::TAPROOT) {
        return std::nullopt;
    }
    if (in_pos >= tx.vin.size()) return std::nullopt;
    if (!(cache.m_bip341_taproot_ready && cache.m_spent_outputs_ready)) return std::nullopt;
    if (!(hash_type <= 0x03 || (hash_type >= 0x81 && hash_type <= 0x83))) return std::nullopt;

    const uint8_t output_type = hash_type == SIGHASH_DEFAULT ? SIGHASH_ALL : (hash_type & 0x03);
    const bool anyone_can_pay = (hash_type & SIGHASH_ANYONECANPAY) != 0;

    std::vector<uint8_t> msg;
    msg.reserve(256);
    Writer w{msg};
    w.WriteU8(0); // epoch
    w.WriteU8(hash_type);
    w.WriteI32(tx.version);
    w.WriteU32(tx.lock_time);
    if (!anyone_can_pay) {
        w.WriteBytes(cache.m_prevouts_single_hash);
        w.WriteBytes(cache.m_spent_amounts_single_hash);
        w.WriteBytes(cache.m_spent_scripts_single_hash);
        w.WriteBytes(cache.m_sequences_single_hash);
    }
    if (output_type == SIGHASH_ALL) w.WriteBytes(cache.m_outputs_single_hash);

    const bool have_annex = execdata.m_annex_init && execdata.m_annex_present;
    w.WriteU8(static_cast<uint8_t>((ext_flag << 1) + (have_annex ? 1 : 0)));
    if (anyone_can_pay) {
        WriteOutPoint(w, tx.vin[in_pos].prevout);
        WriteTxOut(w, cache.m_spent_outputs[in_pos]);
        w.WriteU32(tx.vin[in_pos].sequence);
    } else {
        w.WriteU32(static_cast<uint32_t>(in_pos));
    }
    if (have_annex) w.WriteBytes(execdata.m_annex_hash);
    if (output_type == SIGHASH_SINGLE) {
        if (in_pos >= tx.vout.size()) return std::nullopt;
        if (!execdata.m_output_hash) {
            std::vector<uint8_t> out;
            Writer ow{out};
            WriteTxOut(ow, tx.vout[in_pos]);
            execdata.m_output_hash = crypto::Sha256(out);
        }
        w.WriteBytes(*execdata.m_output_hash);
    }
    if (sigversion == SigVersion::TAPSCRIPT) {
        if (!execdata.m_tapleaf_hash_init || !execdata.m_codeseparator_pos_init) return std::nullopt;
        w.WriteBytes(execdata.m_tapleaf_hash);
        w.WriteU8(0); // key_version
        w.WriteU32(execdata.m_codeseparator_pos);
    }
    return msg;
}

std::optional<std::array<uint8_t, 32>> SignatureHashSchnorr(ScriptExecutionData& execdata, const Transaction& tx,
                                                            size_t in_pos, uint8_t hash_type, SigVersion sigversion,
                                                            const PrecomputedTransactionData& cache)
{
    const auto msg = SignatureMessageSchnorr(execdata, tx, in_pos, hash_type, sigversion, cache);
    if (!msg) return std::nullopt;
    return crypto::TaggedHash("TapSighash", *msg);
}

} // namespace orrery
