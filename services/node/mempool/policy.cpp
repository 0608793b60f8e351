// Relay policy rules; see policy.h. Each function mirrors Core's of the same
// name (policy/policy.cpp), with its reject reasons.
#include <services/node/mempool/policy.h>

#include <common/consensus/script.h>
#include <common/script/interpreter.h>
#include <common/script/opcodes.h>
#include <common/script/solver.h>

#include <fmt/format.h>

#include <cmath>
#include <optional>

namespace orrery::node {

Amount FeeRate::GetFee(int64_t vsize) const
{
    Amount fee = static_cast<Amount>(std::ceil(static_cast<double>(m_per_kvb) * static_cast<double>(vsize) / 1000.0));
    if (fee == 0 && vsize != 0) {
        if (m_per_kvb > 0) fee = 1;
        if (m_per_kvb < 0) fee = -1;
    }
    return fee;
}

std::string FeeRate::ToString() const
{
    const Amount abs = m_per_kvb < 0 ? -m_per_kvb : m_per_kvb;
    return fmt::format("{}{}.{:08} BTC/kvB", m_per_kvb < 0 ? "-" : "", abs / COIN, abs % COIN);
}

Amount GetDustThreshold(const TxOut& out, FeeRate dust_relay_fee)
{
    if (IsUnspendable(out.script_pubkey)) return 0;
    // The output's own size plus what an input spending it costs: a witness input's signature and key count a
    // quarter.
    int64_t size = 8 + static_cast<int64_t>(CompactSizeLength(out.script_pubkey.size()) + out.script_pubkey.size());
    int version = 0;
    std::span<const uint8_t> program;
    if (IsWitnessProgram(out.script_pubkey, version, program)) {
        size += 32 + 4 + 1 + (107 / 4) + 4;
    } else {
        size += 32 + 4 + 1 + 107 + 4;
    }
    return dust_relay_fee.GetFee(size);
}

bool IsDust(const TxOut& out, FeeRate dust_relay_fee)
{
    return out.value < GetDustThreshold(out, dust_relay_fee);
}

namespace {

bool IsStandardOutput(std::span<const uint8_t> script, const StandardnessOptions& options, TxoutType& type)
{
    std::vector<std::vector<uint8_t>> solutions;
    type = Solver(script, solutions);
    if (type == TxoutType::NONSTANDARD) return false;
    if (type == TxoutType::MULTISIG) {
        const unsigned m = solutions.front()[0];
        const unsigned n = solutions.back()[0];
        // Bare multisig relays up to 3 keys.
        if (n < 1 || n > 3 || m < 1 || m > n) return false;
    }
    if (type == TxoutType::NULL_DATA) {
        if (!options.datacarrier || script.size() > options.max_datacarrier_bytes) return false;
    }
    return true;
}

//! The redeem script of a P2SH spend: the last push of its scriptSig, found by running the scriptSig without
//! checks. Nothing when the scriptSig does not run or pushes nothing.
std::optional<Script> RedeemScript(const TxIn& in)
{
    ScriptStack stack;
    ScriptError error = ScriptError::OK;
    if (!EvalScript(stack, in.script_sig, SCRIPT_VERIFY_NONE, SignatureChecker{}, SigVersion::BASE, &error)) {
        return std::nullopt;
    }
    if (stack.empty()) return std::nullopt;
    return Script(stack.back());
}

} // namespace

bool IsStandardOutputScript(std::span<const uint8_t> script, const StandardnessOptions& options)
{
    TxoutType type;
    return IsStandardOutput(script, options, type);
}

bool IsStandardTx(const Transaction& tx, const StandardnessOptions& options, std::string& reason)
{
    if (tx.version > TX_MAX_STANDARD_VERSION || tx.version < 1) {
        reason = "version";
        return false;
    }
    if (GetTransactionWeight(tx) > MAX_STANDARD_TX_WEIGHT) {
        reason = "tx-size";
        return false;
    }
    for (const TxIn& in : tx.vin) {
        if (in.script_sig.size() > MAX_STANDARD_SCRIPTSIG_SIZE) {
            reason = "scriptsig-size";
            return false;
        }
        if (!IsPushOnly(in.script_sig)) {
            reason = "scriptsig-not-pushonly";
            return false;
        }
    }
    unsigned data_outputs = 0;
    for (const TxOut& out : tx.vout) {
        TxoutType type;
        if (!IsStandardOutput(out.script_pubkey, options, type)) {
            reason = "scriptpubkey";
            return false;
        }
        if (type == TxoutType::NULL_DATA) {
            ++data_outputs;
        } else if (type == TxoutType::MULTISIG && !options.permit_bare_multisig) {
            reason = "bare-multisig";
            return false;
        } else if (IsDust(out, options.dust_relay_fee)) {
            reason = "dust";
            return false;
        }
    }
    if (data_outputs > 1) {
        reason = "multi-op-return";
        return false;
    }
    return true;
}

bool AreInputsStandard(const Transaction& tx, std::span<const TxOut> spent)
{
    if (tx.IsCoinbase()) return true;
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        const Script& prev = spent[i].script_pubkey;
        std::vector<std::vector<uint8_t>> solutions;
        const TxoutType type = Solver(prev, solutions);
        if (type == TxoutType::NONSTANDARD || type == TxoutType::WITNESS_UNKNOWN) return false;
        if (type == TxoutType::SCRIPTHASH) {
            const std::optional<Script> redeem = RedeemScript(tx.vin[i]);
            if (!redeem || GetSigOpCount(*redeem, true) > MAX_P2SH_SIGOPS) return false;
        }
    }
    return true;
}

bool IsWitnessStandard(const Transaction& tx, std::span<const TxOut> spent)
{
    if (tx.IsCoinbase()) return true;
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        const ScriptWitness& witness = tx.vin[i].witness;
        if (witness.empty()) continue;
        std::span<const uint8_t> prev = spent[i].script_pubkey;
        std::optional<Script> redeem;
        if (IsPayToScriptHash(prev)) {
            redeem = RedeemScript(tx.vin[i]);
            if (!redeem) return false;
            prev = *redeem;
        }
        int version = 0;
        std::span<const uint8_t> program;
        // A witness on something that is not a witness program, or on a pay-to-anchor output.
        if (!IsWitnessProgram(prev, version, program)) return false;
        if (version == 1 && program.size() == 2 && program[0] == 0x4e && program[1] == 0x73) return false;
        if (version == 0 && program.size() == 32) {
            if (witness.back().size() > MAX_STANDARD_P2WSH_SCRIPT_SIZE) return false;
            if (witness.size() - 1 > MAX_STANDARD_P2WSH_STACK_ITEMS) return false;
            for (size_t j = 0; j + 1 < witness.size(); ++j) {
                if (witness[j].size() > MAX_STANDARD_P2WSH_STACK_ITEM_SIZE) return false;
            }
        }
        if (version == 1 && program.size() == 32 && !IsPayToScriptHash(spent[i].script_pubkey)) {
            std::span<const std::vector<uint8_t>> stack(witness);
            if (stack.size() >= 2 && !stack.back().empty() && stack.back()[0] == ANNEX_TAG) return false; // annex
            if (stack.size() >= 2) {
                // Script path: the control block and the script, then the arguments.
                const auto& control = stack[stack.size() - 1];
                if (control.empty()) return false;
                if ((control[0] & TAPROOT_LEAF_MASK) == TAPROOT_LEAF_TAPSCRIPT) {
                    for (size_t j = 0; j + 2 < stack.size(); ++j) {
                        if (stack[j].size() > MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE) return false;
                    }
                }
            }
        }
    }
    return true;
}

int64_t GetSigOpAdjustedVsize(int64_t weight, int64_t sigop_cost, int64_t bytes_per_sigop)
{
    return (std::max(weight, sigop_cost * bytes_per_sigop) + 3) / 4;
}

std::optional<Amount> ParseMoney(std::string_view text)
{
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    int64_t whole = 0;
    int64_t fraction = 0;
    size_t i = 0;
    size_t digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
        if (digits >= 10) return std::nullopt;
        whole = whole * 10 + (text[i] - '0');
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        int64_t scale = COIN / 10;
        size_t decimals = 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++decimals) {
            if (decimals >= 8) return std::nullopt;
            fraction += (text[i] - '0') * scale;
            scale /= 10;
        }
        if (digits == 0 && decimals == 0) return std::nullopt;
    } else if (digits == 0) {
        return std::nullopt;
    }
    if (i != text.size()) return std::nullopt;
    const Amount value = whole * COIN + fraction;
    if (!MoneyRange(value)) return std::nullopt;
    return value;
}

bool SignalsOptInRbf(const Transaction& tx)
{
    for (const TxIn& in : tx.vin) {
        if (in.sequence <= MAX_BIP125_RBF_SEQUENCE) return true;
    }
    return false;
}

} // namespace orrery::node
