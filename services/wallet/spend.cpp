// Building and sending the wallet's transactions; see spend.h. The steps follow
// Core 28's CreateTransactionInternal.
#include <services/wallet/spend.h>

#include <common/keys/key_io.h>
#include <common/rpc/protocol.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace orrery::wallet {
namespace {

//! Core's wallet limits on unconfirmed chains (-limitancestorcount / -limitdescendantcount defaults).
constexpr size_t MAX_ANCESTORS{25};
constexpr size_t MAX_DESCENDANTS{25};

[[noreturn]] void Fail(int code, const std::string& message)
{
    throw WalletError(code, message);
}

//! A script of `type` with a zero hash, for size estimates before the change address is taken.
Script DummyScript(OutputType type)
{
    switch (type) {
    case OutputType::LEGACY: {
        Script s{0x76, 0xa9, 20};
        s.resize(23, 0);
        s.push_back(0x88);
        s.push_back(0xac);
        return s;
    }
    case OutputType::P2SH_SEGWIT: {
        Script s{0xa9, 20};
        s.resize(22, 0);
        s.push_back(0x87);
        return s;
    }
    case OutputType::BECH32: {
        Script s{0x00, 20};
        s.resize(22, 0);
        return s;
    }
    case OutputType::BECH32M: {
        Script s{0x51, 32};
        s.resize(34, 0);
        return s;
    }
    }
    return {};
}

bool IsTaprootScript(const Script& s)
{
    return s.size() == 34 && s[0] == 0x51 && s[1] == 32;
}

//! The output type of a script the wallet spends, as coin selection groups them (-1: other).
int ScriptKind(const Script& s)
{
    if (s.size() == 25 && s[0] == 0x76) return static_cast<int>(OutputType::LEGACY);
    if (s.size() == 23 && s[0] == 0xa9) return static_cast<int>(OutputType::P2SH_SEGWIT);
    if (s.size() == 22 && s[0] == 0x00) return static_cast<int>(OutputType::BECH32);
    if (IsTaprootScript(s)) return static_cast<int>(OutputType::BECH32M);
    return -1;
}

//! Core's GetDiscardRate: the long-horizon estimate capped by -discardfee, at least the dust relay fee.
FeeRate DiscardRate(interfaces::Chain& chain, const SpendOptions& options, FeeRate dust_relay)
{
    const Amount estimate = chain.estimateSmartFee(MAX_CONF_TARGET, false).fee_rate;
    Amount rate = estimate == 0 ? options.discard_fee.per_kvb : std::min(estimate, options.discard_fee.per_kvb);
    return FeeRate{std::max(rate, dust_relay.per_kvb)};
}

//! The wallet's coins that selection may use, with what it needs to know of them.
std::vector<SelectableCoin> AvailableCoins(HdWallet& wallet, interfaces::Chain& chain, const CoinControl& control,
                                           const std::set<OutPoint>& exclude)
{
    std::vector<SelectableCoin> out;
    for (const WalletCoin& coin : wallet.ListCoins(control.min_depth, control.max_depth, control.include_unsafe)) {
        if (exclude.count(coin.outpoint)) continue;
        auto dummy = DummySignedInput(coin.outpoint, coin.output.script_pubkey);
        if (!dummy) continue; // the wallet cannot estimate, hence not sign, this kind alone
        SelectableCoin selectable;
        selectable.outpoint = coin.outpoint;
        selectable.txout = coin.output;
        selectable.depth = static_cast<int>(coin.depth);
        selectable.input_bytes = InputVirtualSize(*dummy);
        selectable.from_me = wallet.IsFromMe(coin.outpoint.hash);
        selectable.safe = coin.safe;
        selectable.output_type = ScriptKind(coin.output.script_pubkey);
        if (coin.depth == 0) {
            const interfaces::MempoolAncestry family = chain.getTransactionAncestry(coin.outpoint.hash.GetHex());
            selectable.ancestors = static_cast<size_t>(family.ancestors);
            selectable.descendants = static_cast<size_t>(family.descendants);
        }
        out.push_back(std::move(selectable));
    }
    return out;
}

} // namespace

int64_t SignedVirtualSize(const Transaction& tx, const std::vector<TxOut>& spent)
{
    Transaction dummy = tx;
    for (size_t i = 0; i < dummy.vin.size(); ++i) {
        auto filled = DummySignedInput(dummy.vin[i].prevout, spent[i].script_pubkey);
        if (!filled) continue; // the caller made sure each input is solvable
        filled->sequence = dummy.vin[i].sequence;
        dummy.vin[i] = std::move(*filled);
    }
    return GetVirtualSize(dummy);
}

FeeChoice ChooseTransactionFee(interfaces::Chain& chain, const SpendOptions& options, const CoinControl& control)
{
    FeeInputs inputs;
    inputs.explicit_rate = control.fee_rate;
    inputs.conf_target = control.conf_target;
    inputs.relay_min = chain.relayMinFee();
    if (!control.fee_rate) {
        inputs.estimate =
            chain.estimateSmartFee(control.conf_target.value_or(options.tx_confirm_target), control.conservative)
                .fee_rate;
        inputs.mempool_min = chain.mempoolMinFee();
    }
    FeeChoice choice = ChooseFeeRate(inputs, options);
    if (choice.rate.per_kvb == 0) {
        Fail(rpc::RPC_WALLET_ERROR,
             "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee.");
    }
    const FeeRate required{std::max(options.min_tx_fee.per_kvb, inputs.relay_min)};
    if (control.fee_rate && *control.fee_rate < required) {
        Fail(rpc::RPC_WALLET_ERROR, fmt::format("Fee rate ({}) is lower than the minimum fee rate setting ({})",
                                                FeeRateToString(*control.fee_rate), FeeRateToString(required)));
    }
    return choice;
}

std::optional<OutputType> ChooseChangeType(HdWallet& wallet, const std::vector<Recipient>& recipients,
                                           const std::optional<OutputType>& asked)
{
    std::set<std::string> internal;
    for (const auto& desc : wallet.GetDescriptors()) {
        if (desc.active && desc.internal) internal.insert(desc.output_type);
    }
    auto has = [&](OutputType type) { return internal.count(std::string(OutputTypeName(type))) != 0; };
    if (asked) return has(*asked) ? asked : std::nullopt;
    const bool pays_taproot =
        std::any_of(recipients.begin(), recipients.end(), [](const Recipient& r) { return IsTaprootScript(r.script); });
    if (pays_taproot && has(OutputType::BECH32M)) return OutputType::BECH32M;
    for (OutputType type : {OutputType::BECH32, OutputType::BECH32M, OutputType::P2SH_SEGWIT, OutputType::LEGACY}) {
        if (has(type)) return type;
    }
    return std::nullopt;
}

CreatedTransaction CreateTransaction(HdWallet& wallet, interfaces::Chain& chain, const SpendOptions& options,
                                     const Transaction& base, const std::vector<Recipient>& recipients,
                                     const CoinControl& control)
{
    Rng rng{std::random_device{}()};
    if (recipients.empty()) Fail(rpc::RPC_WALLET_ERROR, "Transaction must have at least one recipient");
    Amount recipients_sum = 0;
    size_t subtract_count = 0;
    for (const auto& r : recipients) {
        if (r.amount < 0) Fail(rpc::RPC_WALLET_ERROR, "Transaction amounts must not be negative");
        recipients_sum += r.amount;
        if (r.subtract_fee) ++subtract_count;
    }
    CreatedTransaction created;
    created.fee_choice = ChooseTransactionFee(chain, options, control);
    const FeeRate rate = created.fee_choice.rate;
    const FeeRate dust_relay{chain.relayDustFee()};
    for (const auto& r : recipients) {
        if (!r.subtract_fee && IsDust(TxOut{r.amount, r.script}, dust_relay)) {
            Fail(rpc::RPC_WALLET_ERROR, "Transaction amount too small");
        }
    }

    // The change's kind decides its size, known before its address is taken.
    std::optional<OutputType> change_type;
    if (!control.change_script) {
        change_type = ChooseChangeType(wallet, recipients, control.change_type);
        if (!change_type && control.change_type) {
            Fail(rpc::RPC_WALLET_ERROR, "Transaction needs a change address, but we can't generate it.");
        }
    }
    const Script change_prototype = control.change_script ? *control.change_script
                                    : change_type         ? DummyScript(*change_type)
                                                          : DummyScript(OutputType::BECH32);

    SelectionParams params;
    params.effective_feerate = rate;
    params.long_term_feerate = options.consolidate_fee;
    params.discard_feerate = DiscardRate(chain, options, dust_relay);
    params.change_output_size = OutputSize(TxOut{0, change_prototype});
    // A change address given by the caller that the wallet cannot size is costed as P2WPKH.
    std::optional<TxIn> change_spend = DummySignedInput(OutPoint{}, change_prototype);
    if (!change_spend) change_spend = DummySignedInput(OutPoint{}, DummyScript(OutputType::BECH32));
    params.change_spend_size = InputVirtualSize(*change_spend);
    params.tx_noinputs_size = 10 + 1;
    for (const auto& r : recipients) params.tx_noinputs_size += OutputSize(TxOut{r.amount, r.script});
    params.subtract_fee_outputs = subtract_count > 0;
    params.Finish(recipients_sum, recipients.size(), DustThreshold(TxOut{0, change_prototype}, params.discard_feerate),
                  rng);

    // The inputs the transaction already has (fundrawtransaction), then selected coins for the rest.
    Transaction tx;
    tx.version = base.version;
    std::vector<TxOut> spent;
    Amount preset_amount = 0;
    std::set<OutPoint> preset;
    for (const TxIn& in : base.vin) {
        auto out = wallet.FindOutput(in.prevout);
        if (!out) {
            Fail(rpc::RPC_WALLET_ERROR,
                 fmt::format("Not found pre-selected input {}:{}", in.prevout.hash.GetHex(), in.prevout.n));
        }
        auto dummy = DummySignedInput(in.prevout, out->script_pubkey);
        if (!dummy) {
            Fail(rpc::RPC_WALLET_ERROR,
                 fmt::format("Not solvable pre-selected input {}:{}", in.prevout.hash.GetHex(), in.prevout.n));
        }
        preset_amount += params.subtract_fee_outputs ? out->value : out->value - rate.GetFee(InputVirtualSize(*dummy));
        preset.insert(in.prevout);
        TxIn kept;
        kept.prevout = in.prevout;
        kept.sequence = in.sequence;
        tx.vin.push_back(kept);
        spent.push_back(*out);
    }
    const Amount target = recipients_sum + (params.subtract_fee_outputs ? 0 : rate.GetFee(params.tx_noinputs_size));
    const bool rbf = control.signal_rbf.value_or(options.signal_rbf);
    const uint32_t sequence = rbf ? MAX_BIP125_RBF_SEQUENCE : MAX_SEQUENCE_NONFINAL;
    if (target - preset_amount > 0 || base.vin.empty()) {
        if (!control.add_inputs && !base.vin.empty()) {
            Fail(rpc::RPC_WALLET_INSUFFICIENT_FUNDS,
                 "The preselected coins total amount does not cover the transaction target. Please allow other "
                 "inputs to be automatically selected or include more coins manually");
        }
        SelectionOutcome outcome = SelectCoins(AvailableCoins(wallet, chain, control, preset), target - preset_amount,
                                               params, options.avoid_partial_spends, options.spend_zero_conf_change,
                                               control.include_unsafe, MAX_ANCESTORS, MAX_DESCENDANTS, rng);
        if (!outcome) {
            Fail(outcome.error.max_weight_exceeded ? rpc::RPC_WALLET_ERROR : rpc::RPC_WALLET_INSUFFICIENT_FUNDS,
                 outcome.error.message.empty() ? "Insufficient funds" : outcome.error.message);
        }
        std::vector<SelectableCoin> inputs = outcome.result->Inputs();
        std::shuffle(inputs.begin(), inputs.end(), rng);
        for (const auto& coin : inputs) {
            TxIn in;
            in.prevout = coin.outpoint;
            in.sequence = sequence;
            tx.vin.push_back(in);
            spent.push_back(coin.txout);
        }
    }
    const Amount selected = std::accumulate(spent.begin(), spent.end(), Amount{0},
                                            [](Amount sum, const TxOut& out) { return sum + out.value; });

    // Anti-fee-sniping: the tip's height as lock time, unless the caller fixed one.
    if (control.lock_time) {
        tx.lock_time = *control.lock_time;
    } else {
        const interfaces::ChainTip tip = chain.getTip();
        tx.lock_time = AntiFeeSnipingLockTime(tip.height, tip.time, GetTime(), rng);
    }
    for (const auto& r : recipients) tx.vout.push_back(TxOut{r.amount, r.script});

    // Change when what is left is worth keeping; below min_viable_change it goes to the miners.
    Transaction with_change = tx;
    with_change.vout.push_back(TxOut{0, change_prototype});
    const Amount fee_with_change = rate.GetFee(SignedVirtualSize(with_change, spent));
    const Amount change =
        params.subtract_fee_outputs ? selected - recipients_sum : selected - recipients_sum - fee_with_change;
    if (change >= params.min_viable_change) {
        Script change_script = change_prototype;
        if (!control.change_script) {
            std::optional<std::string> address =
                change_type ? wallet.GetNewAddress(*change_type, "", /*internal=*/true) : std::nullopt;
            if (!address) Fail(rpc::RPC_WALLET_ERROR, "Transaction needs a change address, but we can't generate it.");
            change_script = *DecodeAddress(*address, wallet.GetNetwork());
        }
        size_t position = 0;
        if (control.change_position) {
            if (*control.change_position > tx.vout.size()) {
                Fail(rpc::RPC_WALLET_ERROR, "Transaction change output index out of range");
            }
            position = *control.change_position;
        } else {
            position = std::uniform_int_distribution<size_t>(0, tx.vout.size())(rng);
        }
        tx.vout.insert(tx.vout.begin() + static_cast<std::ptrdiff_t>(position), TxOut{change, change_script});
        created.change_position = static_cast<int>(position);
    }

    const Amount fee_needed = rate.GetFee(SignedVirtualSize(tx, spent));
    const Amount change_value = created.change_position >= 0 ? tx.vout[created.change_position].value : 0;
    const Amount current_fee = selected - recipients_sum - change_value;
    if (!params.subtract_fee_outputs) {
        if (fee_needed > current_fee) Fail(rpc::RPC_WALLET_ERROR, "Fee needed > fee paid");
        // Change pays back what the fee does not need.
        if (created.change_position >= 0) tx.vout[created.change_position].value += current_fee - fee_needed;
    } else {
        // The recipients who asked for it pay the fee, in equal shares; the first one also pays the remainder.
        const Amount to_reduce = fee_needed - current_fee;
        bool first = true;
        size_t recipient = 0;
        for (size_t i = 0; i < tx.vout.size(); ++i) {
            if (static_cast<int>(i) == created.change_position) continue;
            const Recipient& r = recipients[recipient++];
            if (!r.subtract_fee) continue;
            TxOut& out = tx.vout[i];
            out.value -= to_reduce / static_cast<Amount>(subtract_count);
            if (first) out.value -= to_reduce % static_cast<Amount>(subtract_count);
            first = false;
            if (IsDust(out, dust_relay)) {
                Fail(rpc::RPC_WALLET_ERROR, out.value < 0 ? "The transaction amount is too small to pay the fee"
                                                          : "The transaction amount is too small to send after the "
                                                            "fee has been deducted");
            }
        }
    }
    created.fee = selected - GetValueOut(tx);
    if (created.fee > options.max_tx_fee) {
        Fail(rpc::RPC_WALLET_ERROR, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)");
    }
    if (SignedVirtualSize(tx, spent) * WITNESS_SCALE_FACTOR > MAX_STANDARD_TX_WEIGHT) {
        Fail(rpc::RPC_WALLET_ERROR, "Transaction too large");
    }
    if (control.sign) {
        std::vector<std::optional<TxOut>> spent_opt(spent.begin(), spent.end());
        SignOptions sign_options;
        sign_options.verify_flags = WALLET_VERIFY_FLAGS;
        created.complete = wallet.SignTransaction(tx, spent_opt, sign_options).complete;
        if (!created.complete) Fail(rpc::RPC_WALLET_ERROR, "Signing transaction failed");
    }
    created.tx = std::move(tx);
    return created;
}

std::string CommitAndBroadcast(HdWallet& wallet, interfaces::Chain& chain, const Transaction& tx)
{
    wallet.CommitTransaction(tx);
    const std::string refusal = chain.broadcastTransaction(SerializeTransaction(tx), 0);
    if (refusal.empty()) {
        wallet.TransactionAddedToMempool(tx);
    } else {
        LogPrintf("Wallet \"{}\": transaction {} cannot be broadcast now: {}", wallet.Name(), tx.GetTxid().GetHex(),
                  refusal);
    }
    return refusal;
}

void ResubmitTransactions(HdWallet& wallet, interfaces::Chain& chain)
{
    for (const WalletTx& wtx : wallet.Transactions()) {
        if (wtx.record.state != TxStateKind::INACTIVE || wtx.record.abandoned || wtx.tx.IsCoinbase()) continue;
        if (!wallet.IsFromMe(wtx.txid)) continue;
        const std::string refusal = chain.broadcastTransaction(wtx.record.raw, 0);
        if (refusal.empty()) {
            wallet.TransactionAddedToMempool(wtx.tx);
            LogPrintf("Wallet \"{}\": resubmitted transaction {}", wallet.Name(), wtx.txid.GetHex());
        }
    }
}

} // namespace orrery::wallet
