// The rules of a wallet transaction; see spend_rules.h. Figures are Core 28's
// (wallet/fees.cpp, wallet/spend.cpp, policy/policy.cpp).
#include <services/wallet/spend_rules.h>

#include <fmt/format.h>

#include <algorithm>

namespace orrery::wallet {
namespace {

//! OP_0 or OP_1..OP_16 followed by one push of the rest (2 to 40 bytes): a witness program (BIP141).
bool IsWitnessProgram(std::span<const uint8_t> script)
{
    if (script.size() < 4 || script.size() > 42) return false;
    if (script[0] != 0x00 && (script[0] < 0x51 || script[0] > 0x60)) return false;
    return static_cast<size_t>(script[1]) + 2 == script.size();
}

size_t CompactSizeLength(uint64_t n)
{
    return n < 253 ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

//! Core's DUMMY_MAXIMUM_SIGNATURE_CREATOR: a DER signature of 72 bytes with its hash type.
constexpr size_t DUMMY_ECDSA_SIG{72};
constexpr size_t DUMMY_SCHNORR_SIG{64};
constexpr size_t COMPRESSED_PUBKEY{33};

} // namespace

std::optional<Amount> ParseMoney(std::string_view text)
{
    const auto point = text.find('.');
    const std::string_view whole = text.substr(0, point);
    const std::string_view fraction = point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
    auto digits = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || whole.size() > 8 || fraction.size() > 8 || !digits(whole) || !digits(fraction))
        return std::nullopt;
    if (point != std::string_view::npos && fraction.empty()) return std::nullopt;
    Amount amount = 0;
    for (char c : whole) amount = amount * 10 + (c - '0');
    amount *= COIN;
    Amount scale = COIN / 10;
    for (char c : fraction) {
        amount += (c - '0') * scale;
        scale /= 10;
    }
    if (!MoneyRange(amount)) return std::nullopt;
    return amount;
}

std::string FeeRateToString(FeeRate rate)
{
    // sat/kvB → sat/vB with three decimals.
    return fmt::format("{}.{:03d} sat/vB", rate.per_kvb / 1000, rate.per_kvb % 1000);
}

std::string FeeReasonName(FeeReason reason)
{
    switch (reason) {
    case FeeReason::EXPLICIT:
    case FeeReason::PAYTXFEE:
        return "PayTxFee set";
    case FeeReason::ESTIMATE:
        return "Smart fee estimate";
    case FeeReason::FALLBACK:
        return "Fallback fee";
    case FeeReason::MEMPOOL_MIN:
        return "Mempool Min Fee";
    case FeeReason::REQUIRED:
        return "Minimum Required Fee";
    }
    return "None";
}

FeeChoice ChooseFeeRate(const FeeInputs& inputs, const SpendOptions& options)
{
    // An explicit rate overrides everything (fOverrideFeeRate): the caller checks it against -mintxfee.
    if (inputs.explicit_rate) return {*inputs.explicit_rate, FeeReason::EXPLICIT};
    FeeChoice choice;
    if (!inputs.conf_target && options.pay_tx_fee.per_kvb != 0) {
        choice = {options.pay_tx_fee, FeeReason::PAYTXFEE};
    } else {
        choice = {FeeRate{inputs.estimate}, FeeReason::ESTIMATE};
        if (inputs.estimate == 0) {
            choice = {options.fallback_fee, FeeReason::FALLBACK};
            if (options.fallback_fee.per_kvb == 0) return choice; // "Fee estimation failed"
        }
        if (choice.rate.per_kvb < inputs.mempool_min) choice = {FeeRate{inputs.mempool_min}, FeeReason::MEMPOOL_MIN};
    }
    const FeeRate required{std::max(options.min_tx_fee.per_kvb, inputs.relay_min)};
    if (required > choice.rate) choice = {required, FeeReason::REQUIRED};
    return choice;
}

std::optional<TxIn> DummySignedInput(const OutPoint& prevout, std::span<const uint8_t> spk)
{
    TxIn in;
    in.prevout = prevout;
    const std::vector<uint8_t> sig(DUMMY_ECDSA_SIG, 0), key(COMPRESSED_PUBKEY, 0);
    if (spk.size() == 25 && spk[0] == 0x76 && spk[1] == 0xa9 && spk[2] == 20 && spk[23] == 0x88 && spk[24] == 0xac) {
        // P2PKH: <sig> <pubkey> in the scriptSig.
        in.script_sig.push_back(static_cast<uint8_t>(sig.size()));
        in.script_sig.insert(in.script_sig.end(), sig.begin(), sig.end());
        in.script_sig.push_back(static_cast<uint8_t>(key.size()));
        in.script_sig.insert(in.script_sig.end(), key.begin(), key.end());
        return in;
    }
    if (spk.size() == 23 && spk[0] == 0xa9 && spk[1] == 20 && spk[22] == 0x87) {
        // P2SH-P2WPKH: the redeem script (OP_0 <20 bytes>) pushed, signature and key in the witness.
        in.script_sig = {22, 0x00, 20};
        in.script_sig.resize(23, 0);
        in.witness = {sig, key};
        return in;
    }
    if (spk.size() == 22 && spk[0] == 0x00 && spk[1] == 20) {
        in.witness = {sig, key};
        return in;
    }
    if (spk.size() == 34 && spk[0] == 0x51 && spk[1] == 32) {
        in.witness = {std::vector<uint8_t>(DUMMY_SCHNORR_SIG, 0)};
        return in;
    }
    return std::nullopt;
}

int InputVirtualSize(const TxIn& in)
{
    const size_t base = 32 + 4 + CompactSizeLength(in.script_sig.size()) + in.script_sig.size() + 4;
    size_t witness = CompactSizeLength(in.witness.size());
    for (const auto& item : in.witness) witness += CompactSizeLength(item.size()) + item.size();
    const size_t weight = base * WITNESS_SCALE_FACTOR + witness;
    return static_cast<int>((weight + WITNESS_SCALE_FACTOR - 1) / WITNESS_SCALE_FACTOR);
}

int OutputSize(const TxOut& out)
{
    return static_cast<int>(8 + CompactSizeLength(out.script_pubkey.size()) + out.script_pubkey.size());
}

Amount DustThreshold(const TxOut& out, FeeRate dust_relay)
{
    // An OP_RETURN output is never spent, so never dust.
    if (!out.script_pubkey.empty() && out.script_pubkey[0] == 0x6a) return 0;
    // The output plus the input that spends it: 107 bytes of scriptSig, a quarter of it in a witness.
    int size = OutputSize(out);
    size += IsWitnessProgram(out.script_pubkey) ? 32 + 4 + 1 + 107 / WITNESS_SCALE_FACTOR + 4 : 32 + 4 + 1 + 107 + 4;
    return dust_relay.GetFee(size);
}

bool IsDust(const TxOut& out, FeeRate dust_relay)
{
    return out.value < DustThreshold(out, dust_relay);
}

uint32_t AntiFeeSnipingLockTime(int64_t tip_height, int64_t tip_time, int64_t now, Rng& rng)
{
    if (tip_height <= 0 || now - tip_time > MAX_ANTI_FEE_SNIPING_TIP_AGE) return 0;
    int64_t lock_time = tip_height;
    // Sometimes further back, so that transactions delayed in their release (for privacy) do not stand out.
    if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
        lock_time = std::max<int64_t>(0, lock_time - std::uniform_int_distribution<int>(0, 99)(rng));
    }
    return static_cast<uint32_t>(lock_time);
}

} // namespace orrery::wallet
