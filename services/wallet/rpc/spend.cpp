// The wallet's sending RPC methods: sendtoaddress, sendmany,
// fundrawtransaction, signrawtransactionwithwallet — bitcoind's arguments,
// results and errors, over services/wallet/spend.h.
#include <services/wallet/rpc/util.h>
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/spend.h>
#include <services/wallet/wallet_service.h>

#include <common/consensus/hex.h>
#include <common/keys/key_io.h>
#include <common/util/mock_time.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

namespace {

//! A fee rate in sat/vB with at most three decimals (bitcoind's AmountFromValue(value, 3)).
FeeRate FeeRateFromSatPerVb(const Json& value)
{
    const Amount scaled = AmountFromJson(value); // sat/vB × 10^8
    if (scaled % 100'000 != 0) throw RpcException(rpc::RPC_TYPE_ERROR, "Invalid amount");
    return FeeRate{scaled / 100'000};
}

//! bitcoind's SetFeeEstimateMode.
void SetFeeEstimateMode(CoinControl& control, const Json& conf_target, const Json& estimate_mode, const Json& fee_rate)
{
    if (!fee_rate.is_null()) {
        if (!conf_target.is_null()) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Cannot specify both conf_target and fee_rate. Please provide either a confirmation "
                               "target in blocks for automatic fee estimation, or an explicit fee rate.");
        }
        if (!estimate_mode.is_null() && estimate_mode.get<std::string>() != "unset") {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Cannot specify both estimate_mode and fee_rate");
        }
        control.fee_rate = FeeRateFromSatPerVb(fee_rate);
        return;
    }
    if (!estimate_mode.is_null()) {
        std::string mode = estimate_mode.get<std::string>();
        std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return std::tolower(c); });
        if (mode != "unset" && mode != "economical" && mode != "conservative") {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Invalid estimate_mode parameter, must be one of: \"unset\", \"economical\", "
                               "\"conservative\"");
        }
        control.conservative = mode == "conservative";
    }
    if (!conf_target.is_null()) {
        const int64_t target = rpc::IntegerArg(conf_target);
        if (target < 1 || target > MAX_CONF_TARGET) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               fmt::format("Invalid conf_target, must be between 1 and {}", MAX_CONF_TARGET));
        }
        control.conf_target = target;
    }
}

void RequirePrivateKeys(HdWallet& wallet)
{
    if (!wallet.HasPrivateKeys()) {
        throw RpcException(rpc::RPC_WALLET_ERROR, "Error: Private keys are disabled for this wallet");
    }
}

//! Runs `step`, turning the wallet's errors into RPC errors with their codes.
template <typename Step> auto WithWalletErrors(Step step)
{
    try {
        return step();
    } catch (const WalletError& e) {
        throw RpcException(e.code(), e.what());
    }
}

//! bitcoind's ParseRecipients: address → amount, the addresses of `subtract_from` pay the fee.
std::vector<Recipient> ParseRecipients(HdWallet& wallet, const Json& amounts,
                                       const std::set<std::string>& subtract_from)
{
    std::vector<Recipient> out;
    std::set<std::string> seen;
    for (const auto& [address, amount] : amounts.items()) {
        auto script = DecodeAddress(address, wallet.GetNetwork());
        if (!script) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid Bitcoin address: " + address);
        if (!seen.insert(address).second) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, duplicated address: " + address);
        }
        Recipient recipient;
        recipient.script = *script;
        recipient.amount = AmountFromJson(amount);
        if (recipient.amount <= 0) throw RpcException(rpc::RPC_TYPE_ERROR, "Invalid amount for send");
        recipient.subtract_fee = subtract_from.count(address) != 0;
        out.push_back(std::move(recipient));
    }
    return out;
}

//! bitcoind's SendMoney: builds, signs, commits and broadcasts under the wallet's spending lock.
Json SendMoney(WalletService& service, HdWallet& wallet, const std::vector<Recipient>& recipients,
               const CoinControl& control, bool verbose)
{
    RequirePrivateKeys(wallet);
    auto chain = service.RequireChain();
    auto hold = wallet.LockForSpending();
    CreatedTransaction created = WithWalletErrors([&] {
        return CreateTransaction(wallet, *chain, service.GetSpendOptions(), Transaction{}, recipients, control);
    });
    CommitAndBroadcast(wallet, *chain, created.tx);
    const std::string txid = created.tx.GetTxid().GetHex();
    if (!verbose) return txid;
    return Json{{"txid", txid}, {"fee_reason", FeeReasonName(created.fee_choice.reason)}};
}

//! A hex transaction argument (bitcoind's DecodeHexTx: the extended form first, then the legacy one).
Transaction DecodeTxArg(const Json& value)
{
    const auto bytes = value.is_string() ? TryParseHex(value.get<std::string>()) : std::nullopt;
    if (bytes && !bytes->empty()) {
        for (bool witness : {true, false}) {
            try {
                return DeserializeTransaction(*bytes, witness);
            } catch (const std::exception&) {
            }
        }
    }
    throw RpcException(rpc::RPC_DESERIALIZATION_ERROR, "TX decode failed");
}

Json SendToAddress(WalletService& service, const rpc::CallRequest& call)
{
    auto wallet = CallWallet(service, call);
    Json amounts = Json::object();
    amounts[call.Arg(0).get<std::string>()] = call.Arg(1);
    std::set<std::string> subtract;
    if (BoolArg(call.Arg(4), false)) subtract.insert(call.Arg(0).get<std::string>());
    CoinControl control;
    if (call.Arg(5).is_boolean()) control.signal_rbf = call.Arg(5).get<bool>();
    SetFeeEstimateMode(control, call.Arg(6), call.Arg(7), call.Arg(9));
    return SendMoney(service, *wallet, ParseRecipients(*wallet, amounts, subtract), control,
                     BoolArg(call.Arg(10), false));
}

Json SendMany(WalletService& service, const rpc::CallRequest& call)
{
    auto wallet = CallWallet(service, call);
    if (!call.Arg(0).is_null() && call.Arg(0).get<std::string>() != "") {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, "Dummy value must be set to \"\"");
    }
    if (!call.Arg(1).is_object()) {
        throw RpcException(rpc::RPC_TYPE_ERROR, fmt::format("JSON value of type {} is not of expected type object",
                                                            rpc::JsonTypeName(call.Arg(1))));
    }
    std::set<std::string> subtract;
    if (call.Arg(4).is_array()) {
        for (const auto& address : call.Arg(4)) subtract.insert(address.get<std::string>());
    }
    CoinControl control;
    if (call.Arg(5).is_boolean()) control.signal_rbf = call.Arg(5).get<bool>();
    SetFeeEstimateMode(control, call.Arg(6), call.Arg(7), call.Arg(8));
    return SendMoney(service, *wallet, ParseRecipients(*wallet, call.Arg(1), subtract), control,
                     BoolArg(call.Arg(9), false));
}

Json FundRawTransaction(WalletService& service, const rpc::CallRequest& call)
{
    auto wallet = CallWallet(service, call);
    Transaction tx = DecodeTxArg(call.Arg(0));
    if (tx.vout.empty()) throw RpcException(rpc::RPC_INVALID_PARAMETER, "TX must have at least one output");
    Json options = call.Arg(1).is_object() ? call.Arg(1) : Json::object();
    auto opt = [&](const char* name) { return options.contains(name) ? options[name] : Json(); };
    CoinControl control;
    control.lock_time = tx.lock_time;
    control.add_inputs = BoolArg(opt("add_inputs"), true);
    control.include_unsafe = BoolArg(opt("include_unsafe"), false);
    control.min_depth = IntArg(opt("minconf"), 0);
    control.max_depth = IntArg(opt("maxconf"), 9'999'999);
    if (!opt("changeAddress").is_null()) {
        if (!opt("change_type").is_null()) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Cannot specify both changeAddress and address_type options");
        }
        auto script = DecodeAddress(opt("changeAddress").get<std::string>(), wallet->GetNetwork());
        if (!script) {
            throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Change address must be a valid bitcoin address");
        }
        control.change_script = *script;
    }
    if (!opt("change_type").is_null()) {
        const std::string name = opt("change_type").get<std::string>();
        control.change_type = ParseOutputType(name);
        if (!control.change_type) {
            throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, fmt::format("Unknown change type '{}'", name));
        }
    }
    if (!opt("changePosition").is_null()) {
        const int64_t position = rpc::IntegerArg(opt("changePosition"));
        if (position < -1 || position > static_cast<int64_t>(tx.vout.size())) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "changePosition out of bounds");
        }
        if (position >= 0) control.change_position = static_cast<size_t>(position);
    }
    if (opt("replaceable").is_boolean()) control.signal_rbf = opt("replaceable").get<bool>();
    if (!opt("feeRate").is_null()) {
        if (!opt("fee_rate").is_null()) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Cannot specify both fee_rate (sat/vB) and feeRate (BTC/kvB)");
        }
        if (!opt("conf_target").is_null()) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Cannot specify both conf_target and feeRate. Please provide either a confirmation "
                               "target in blocks for automatic fee estimation, or an explicit fee rate.");
        }
        control.fee_rate = FeeRate{AmountFromJson(opt("feeRate"))};
    } else {
        SetFeeEstimateMode(control, opt("conf_target"), opt("estimate_mode"), opt("fee_rate"));
    }
    std::set<size_t> subtract;
    if (opt("subtractFeeFromOutputs").is_array()) {
        for (const auto& index : opt("subtractFeeFromOutputs")) {
            const int64_t pos = rpc::IntegerArg(index);
            if (subtract.count(static_cast<size_t>(pos))) {
                throw RpcException(rpc::RPC_INVALID_PARAMETER,
                                   fmt::format("Invalid parameter, duplicated position: {}", pos));
            }
            if (pos < 0 || pos >= static_cast<int64_t>(tx.vout.size())) {
                throw RpcException(rpc::RPC_INVALID_PARAMETER,
                                   fmt::format("Invalid parameter, value out of range: {}", pos));
            }
            subtract.insert(static_cast<size_t>(pos));
        }
    }
    std::vector<Recipient> recipients;
    for (size_t i = 0; i < tx.vout.size(); ++i) {
        recipients.push_back({tx.vout[i].script_pubkey, tx.vout[i].value, subtract.count(i) != 0});
    }
    control.sign = false;
    auto chain = service.RequireChain();
    auto hold = wallet->LockForSpending();
    CreatedTransaction created = WithWalletErrors(
        [&] { return CreateTransaction(*wallet, *chain, service.GetSpendOptions(), tx, recipients, control); });
    // The caller's inputs keep their scripts and witnesses (they may be signed already); new ones follow.
    for (size_t i = 0; i < tx.vin.size(); ++i) created.tx.vin[i] = tx.vin[i];
    if (BoolArg(opt("lockUnspents"), false)) {
        for (size_t i = tx.vin.size(); i < created.tx.vin.size(); ++i) {
            wallet->LockCoin(created.tx.vin[i].prevout, /*persistent=*/false);
        }
    }
    return Json{{"hex", HexStr(SerializeTransaction(created.tx))},
                {"fee", AmountToJson(created.fee)},
                {"changepos", created.change_position}};
}

Json SignRawTransactionWithWallet(HdWallet& wallet, const rpc::CallRequest& call)
{
    Transaction tx = DecodeTxArg(call.Arg(0));
    std::map<OutPoint, TxOut> given;
    if (call.Arg(1).is_array()) {
        for (const auto& prev : call.Arg(1)) {
            if (!prev.is_object() || !prev.contains("txid") || !prev.contains("vout") ||
                !prev.contains("scriptPubKey")) {
                throw RpcException(rpc::RPC_INVALID_PARAMETER, "Missing txid, vout or scriptPubKey in prevtxs entry");
            }
            const uint256 txid = ParseTxid(prev["txid"], "txid");
            const int64_t vout = rpc::IntegerArg(prev["vout"]);
            if (vout < 0) throw RpcException(rpc::RPC_DESERIALIZATION_ERROR, "vout cannot be negative");
            auto script = TryParseHex(prev["scriptPubKey"].get<std::string>());
            if (!script) throw RpcException(rpc::RPC_DESERIALIZATION_ERROR, "scriptPubKey must be hexadecimal");
            TxOut out;
            out.script_pubkey = *script;
            out.value = prev.contains("amount") ? AmountFromJson(prev["amount"]) : MAX_MONEY;
            given[OutPoint{txid, static_cast<uint32_t>(vout)}] = out;
        }
    }
    SignOptions options;
    if (!call.Arg(2).is_null()) {
        auto hash_type = ParseSighashName(call.Arg(2).get<std::string>());
        if (!hash_type) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               fmt::format("'{}' is not a valid sighash parameter.", call.Arg(2).get<std::string>()));
        }
        options.hash_type = *hash_type;
    }
    options.verify_flags = WALLET_VERIFY_FLAGS;
    std::vector<std::optional<TxOut>> spent;
    for (const auto& in : tx.vin) {
        auto it = given.find(in.prevout);
        spent.push_back(it != given.end() ? std::optional<TxOut>(it->second) : wallet.FindOutput(in.prevout));
    }
    const SignResult result = WithWalletErrors([&] { return wallet.SignTransaction(tx, spent, options); });
    Json errors = Json::array();
    for (const auto& [index, message] : result.errors) {
        const TxIn& in = tx.vin[index];
        Json entry = Json::object();
        entry["txid"] = in.prevout.hash.GetHex();
        entry["vout"] = in.prevout.n;
        Json witness = Json::array();
        for (const auto& item : in.witness) witness.push_back(HexStr(item));
        entry["witness"] = std::move(witness);
        entry["scriptSig"] = HexStr(in.script_sig);
        entry["sequence"] = in.sequence;
        entry["error"] = message;
        errors.push_back(std::move(entry));
    }
    Json out = {{"hex", HexStr(SerializeTransaction(tx))}, {"complete", result.complete}};
    if (!errors.empty()) out["errors"] = std::move(errors);
    return out;
}

//! bitcoind's sendall: every spendable coin (or the given inputs) to the recipients; those given without an amount
//! share what is left after the fee in equal parts, the first taking the remainder.
Json SendAll(WalletService& service, const rpc::CallRequest& call)
{
    auto wallet = CallWallet(service, call);
    RequirePrivateKeys(*wallet);
    if (!call.Arg(0).is_array() || call.Arg(0).empty()) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, "Must provide at least one recipient.");
    }
    const Json options = call.Arg(4).is_object() ? call.Arg(4) : Json::object();
    auto opt = [&](const char* name) { return options.contains(name) ? options[name] : Json(); };
    CoinControl control;
    if (opt("replaceable").is_boolean()) control.signal_rbf = opt("replaceable").get<bool>();
    SetFeeEstimateMode(control, call.Arg(1), call.Arg(2), call.Arg(3).is_null() ? opt("fee_rate") : call.Arg(3));
    Transaction tx;
    std::vector<size_t> shares; // outputs that take the rest
    Amount assigned = 0;
    std::set<std::string> seen;
    for (const auto& entry : call.Arg(0)) {
        std::string address;
        std::optional<Amount> amount;
        if (entry.is_string()) {
            address = entry.get<std::string>();
        } else if (entry.is_object() && entry.size() == 1) {
            address = entry.begin().key();
            amount = AmountFromJson(entry.begin().value());
        } else {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid recipient: an address or {\"address\": amount}");
        }
        auto script = DecodeAddress(address, wallet->GetNetwork());
        if (!script) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid Bitcoin address: " + address);
        if (!seen.insert(address).second) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, duplicated address: " + address);
        }
        if (!amount) shares.push_back(tx.vout.size());
        assigned += amount.value_or(0);
        tx.vout.push_back(TxOut{amount.value_or(0), *script});
    }
    if (shares.empty()) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, "Must provide at least one address without a specified amount");
    }
    auto chain = service.RequireChain();
    auto hold = wallet->LockForSpending();
    const SpendOptions& spend = service.GetSpendOptions();
    const FeeChoice fee_choice = WithWalletErrors([&] { return ChooseTransactionFee(*chain, spend, control); });
    const uint32_t sequence =
        control.signal_rbf.value_or(spend.signal_rbf) ? MAX_BIP125_RBF_SEQUENCE : MAX_SEQUENCE_NONFINAL;
    std::vector<TxOut> spent;
    Amount total = 0;
    for (const WalletCoin& coin :
         wallet->ListCoins(IntArg(opt("minconf"), 0), IntArg(opt("maxconf"), 9'999'999), false)) {
        if (!DummySignedInput(coin.outpoint, coin.output.script_pubkey)) continue;
        TxIn in;
        in.prevout = coin.outpoint;
        in.sequence = sequence;
        tx.vin.push_back(in);
        spent.push_back(coin.output);
        total += coin.output.value;
    }
    if (tx.vin.empty()) throw RpcException(rpc::RPC_WALLET_INSUFFICIENT_FUNDS, "Insufficient funds");
    const interfaces::ChainTip tip = chain->getTip();
    Rng rng{std::random_device{}()};
    tx.lock_time = AntiFeeSnipingLockTime(tip.height, tip.time, GetTime(), rng);
    const Amount fee = fee_choice.rate.GetFee(SignedVirtualSize(tx, spent));
    if (assigned > total) {
        throw RpcException(rpc::RPC_WALLET_INSUFFICIENT_FUNDS, "Assigned more value to outputs than available funds.");
    }
    const Amount rest = total - fee - assigned;
    if (rest < 0) {
        throw RpcException(rpc::RPC_WALLET_INSUFFICIENT_FUNDS,
                           "Total value of UTXO pool too low to pay for transaction. Try using lower feerate.");
    }
    for (size_t i = 0; i < shares.size(); ++i) {
        tx.vout[shares[i]].value =
            rest / static_cast<Amount>(shares.size()) + (i == 0 ? rest % static_cast<Amount>(shares.size()) : 0);
    }
    const FeeRate dust_relay{chain->relayDustFee()};
    for (const auto& out : tx.vout) {
        if (IsDust(out, dust_relay)) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Dust amount in recipient.");
    }
    if (fee > spend.max_tx_fee) {
        throw RpcException(rpc::RPC_WALLET_ERROR,
                           "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)");
    }
    std::vector<std::optional<TxOut>> spent_opt(spent.begin(), spent.end());
    SignOptions sign_options;
    sign_options.verify_flags = WALLET_VERIFY_FLAGS;
    const bool complete =
        WithWalletErrors([&] { return wallet->SignTransaction(tx, spent_opt, sign_options); }).complete;
    if (!complete) throw RpcException(rpc::RPC_WALLET_ERROR, "Signing transaction failed");
    CommitAndBroadcast(*wallet, *chain, tx);
    return Json{{"txid", tx.GetTxid().GetHex()}, {"complete", true}};
}

} // namespace

void RegisterSpendRpc(rpc::Table& table, WalletService& service)
{
    table.Add(
        {"sendtoaddress",
         "Wallet",
         {rpc::Required("address", ParamType::STRING, "Where to send"),
          rpc::Required("amount", ParamType::ANY, "How much, in BTC"),
          rpc::Optional("comment", ParamType::STRING, "Not kept by Orrery's wallet"),
          rpc::Optional("comment_to", ParamType::STRING, "Not kept by Orrery's wallet"),
          rpc::Optional("subtractfeefromamount", ParamType::BOOL, "The recipient pays the fee out of the amount"),
          rpc::Optional("replaceable", ParamType::BOOL, "Signal BIP125 replaceability (default: -walletrbf)"),
          rpc::Optional("conf_target", ParamType::NUMBER, "Confirmation target in blocks for the fee estimate"),
          rpc::Optional("estimate_mode", ParamType::STRING, "unset, economical or conservative"),
          rpc::Optional("avoid_reuse", ParamType::BOOL, "avoid_reuse wallets: leave coins of used addresses alone"),
          rpc::Optional("fee_rate", ParamType::ANY, "Fee rate in sat/vB; overrides conf_target and estimate_mode"),
          rpc::Optional("verbose", ParamType::BOOL, "Also say how the fee rate was chosen")},
         "Pays an amount to an address from the wallet's coins; returns the transaction id once the transaction is "
         "on disk and offered to the node.",
         [&service](const rpc::CallRequest& call) { return SendToAddress(service, call); }});
    table.Add({"sendmany",
               "Wallet",
               {rpc::Required("dummy", ParamType::STRING, "Must be \"\" (bitcoind's old account)"),
                rpc::Required("amounts", ParamType::OBJECT, "{\"address\": amount in BTC, ...}"),
                rpc::Optional("minconf", ParamType::NUMBER, "Ignored, as in bitcoind"),
                rpc::Optional("comment", ParamType::STRING, "Not kept by Orrery's wallet"),
                rpc::Optional("subtractfeefrom", ParamType::ARRAY, "Addresses that pay the fee in equal shares"),
                rpc::Optional("replaceable", ParamType::BOOL, "Signal BIP125 replaceability (default: -walletrbf)"),
                rpc::Optional("conf_target", ParamType::NUMBER, "Confirmation target in blocks for the fee estimate"),
                rpc::Optional("estimate_mode", ParamType::STRING, "unset, economical or conservative"),
                rpc::Optional("fee_rate", ParamType::ANY, "Fee rate in sat/vB"),
                rpc::Optional("verbose", ParamType::BOOL, "Also say how the fee rate was chosen")},
               "Pays several addresses in one transaction.",
               [&service](const rpc::CallRequest& call) { return SendMany(service, call); }});
    table.Add({"sendall",
               "Wallet",
               {rpc::Required("recipients", ParamType::ARRAY,
                              "Addresses that share what is left after the fee, and {\"address\": amount} entries "
                              "paid exactly"),
                rpc::Optional("conf_target", ParamType::NUMBER, "Confirmation target in blocks for the fee estimate"),
                rpc::Optional("estimate_mode", ParamType::STRING, "unset, economical or conservative"),
                rpc::Optional("fee_rate", ParamType::ANY, "Fee rate in sat/vB"),
                rpc::Optional("options", ParamType::OBJECT, "{fee_rate, minconf, maxconf, replaceable}")},
               "Spends every spendable coin of the wallet to the recipients, without change.",
               [&service](const rpc::CallRequest& call) { return SendAll(service, call); }});
    table.Add({"fundrawtransaction",
               "Wallet",
               {rpc::Required("hexstring", ParamType::STRING, "The transaction to fund"),
                rpc::Optional("options", ParamType::ANY,
                              "{add_inputs, include_unsafe, minconf, maxconf, changeAddress, changePosition, "
                              "change_type, includeWatching, lockUnspents, fee_rate, feeRate, "
                              "subtractFeeFromOutputs, replaceable, conf_target, estimate_mode}"),
                rpc::Optional("iswitness", ParamType::BOOL, "Decode the hex as a witness transaction only")},
               "Adds inputs from the wallet and a change output so that the transaction pays its outputs and the "
               "fee; returns it unsigned with its fee and change position.",
               [&service](const rpc::CallRequest& call) { return FundRawTransaction(service, call); }});
    table.Add({"signrawtransactionwithwallet",
               "Wallet",
               {rpc::Required("hexstring", ParamType::STRING, "The transaction to sign"),
                rpc::Optional("prevtxs", ParamType::ARRAY,
                              "Outputs it spends that the wallet does not hold: [{txid, vout, scriptPubKey, amount}]"),
                rpc::Optional("sighashtype", ParamType::STRING, "DEFAULT, ALL, NONE, SINGLE (|ANYONECANPAY)")},
               "Signs the inputs of a transaction that spend scripts of the wallet.",
               [&service](const rpc::CallRequest& call) {
                   return SignRawTransactionWithWallet(*CallWallet(service, call), call);
               }});
}

} // namespace orrery::wallet
