// What the wallet's RPC handlers share; see util.h.
#include <services/wallet/rpc/util.h>

#include <services/wallet/wallet_service.h>

#include <common/consensus/hex.h>
#include <common/keys/key_io.h>

#include <fmt/format.h>

#include <algorithm>

namespace orrery::wallet {

using rpc::Json;
using rpc::RpcException;

Json AmountToJson(Amount amount)
{
    return rpc::ValueFromAmount(amount);
}

Amount AmountFromJson(const Json& value)
{
    if (!value.is_number() && !value.is_string())
        throw RpcException(rpc::RPC_TYPE_ERROR, "Amount is not a number or string");
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    // digits[.digits], at most 8 after the point; a JSON number's shortest form of such an amount has no exponent
    // unless it is tiny (1e-05), which is read as its mantissa and exponent.
    std::string mantissa = text;
    int exponent = 0;
    if (auto e = text.find_first_of("eE"); e != std::string::npos) {
        mantissa = text.substr(0, e);
        const std::string exp_text = text.substr(e + 1);
        if (exp_text.empty() || exp_text.size() > 3 ||
            !std::all_of(exp_text.begin() + (exp_text[0] == '-' || exp_text[0] == '+'), exp_text.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            throw RpcException(rpc::RPC_TYPE_ERROR, "Invalid amount");
        }
        exponent = std::stoi(exp_text);
    }
    const auto point = mantissa.find('.');
    std::string whole = mantissa.substr(0, point);
    std::string fraction = point == std::string::npos ? "" : mantissa.substr(point + 1);
    auto digits = [](const std::string& s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || !digits(whole) || !digits(fraction) || (point != std::string::npos && fraction.empty()) ||
        whole.size() > 11) {
        throw RpcException(rpc::RPC_TYPE_ERROR, "Invalid amount");
    }
    // Shift the decimal point by the exponent, then require at most 8 decimals.
    std::string all = whole + fraction;
    int64_t scale = static_cast<int64_t>(fraction.size()) - exponent; // decimals of `all`
    while (scale > 8 && !all.empty() && all.back() == '0') {
        all.pop_back();
        --scale;
    }
    if (scale > 8 || scale < -8) throw RpcException(rpc::RPC_TYPE_ERROR, "Invalid amount");
    while (scale < 8) {
        all.push_back('0');
        ++scale;
    }
    all.erase(0, std::min(all.find_first_not_of('0'), all.size()));
    if (all.size() > 17) throw RpcException(rpc::RPC_TYPE_ERROR, "Amount out of range");
    const Amount amount = all.empty() ? 0 : std::stoll(all);
    if (!MoneyRange(amount)) throw RpcException(rpc::RPC_TYPE_ERROR, "Amount out of range");
    return amount;
}

std::shared_ptr<HdWallet> CallWallet(WalletService& service, const rpc::CallRequest& call)
{
    return service.FindWallet(call.wallet.value_or(""));
}

uint256 ParseTxid(const Json& value, const std::string& name)
{
    if (!value.is_string()) {
        throw RpcException(rpc::RPC_TYPE_ERROR, fmt::format("JSON value of type {} is not of expected type string",
                                                            rpc::JsonTypeName(value)));
    }
    const std::string hex = value.get<std::string>();
    if (hex.size() != 64) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER,
                           fmt::format("{} must be of length 64 (not {}, for '{}')", name, hex.size(), hex));
    }
    auto parsed = uint256::FromHex(hex);
    if (!parsed) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER,
                           fmt::format("{} must be hexadecimal string (not '{}')", name, hex));
    }
    return *parsed;
}

std::vector<uint8_t> ScriptFromAddress(HdWallet& wallet, const std::string& address, const std::string& message)
{
    auto script = DecodeAddress(address, wallet.GetNetwork());
    if (!script) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, message);
    return *script;
}

int64_t IntArg(const Json& value, int64_t fallback)
{
    return value.is_null() ? fallback : rpc::IntegerArg(value);
}

bool BoolArg(const Json& value, bool fallback)
{
    return value.is_null() ? fallback : value.get<bool>();
}

void AddWalletTxFields(HdWallet& wallet, const WalletTx& wtx, Json& entry)
{
    const int64_t depth = wallet.Depth(wtx);
    entry["confirmations"] = depth;
    if (wtx.tx.IsCoinbase()) entry["generated"] = true;
    if (wtx.record.state == TxStateKind::CONFIRMED) {
        entry["blockhash"] = wtx.record.block_hash;
        entry["blockheight"] = wtx.record.block_height;
        entry["blockindex"] = wtx.record.block_pos;
        entry["blocktime"] = wtx.record.block_time;
    } else {
        entry["trusted"] = wallet.IsTrusted(wtx);
    }
    entry["txid"] = wtx.txid.GetHex();
    entry["wtxid"] = wtx.tx.GetWtxid().GetHex();
    Json conflicts = Json::array();
    for (const auto& other : wallet.Conflicts(wtx.txid)) conflicts.push_back(other.GetHex());
    entry["walletconflicts"] = conflicts;
    entry["mempoolconflicts"] = Json::array(); // the node does not tell the wallet which mempool transactions conflict
    entry["time"] = wtx.record.time_received;
    entry["timereceived"] = wtx.record.time_received;
    // BIP125: any input signalling (sequence below 0xfffffffe) makes it replaceable; otherwise bitcoind says "no"
    // for a confirmed transaction and "unknown" when unconfirmed ancestors might signal.
    const bool signals =
        std::any_of(wtx.tx.vin.begin(), wtx.tx.vin.end(), [](const TxIn& in) { return in.sequence < 0xfffffffe; });
    entry["bip125-replaceable"] = depth != 0 ? "no" : signals ? "yes" : "unknown";
}

void ListTransactionEntries(HdWallet& wallet, const WalletTx& wtx, int64_t min_depth, bool with_tx_fields,
                            const std::optional<std::string>& label, bool include_change, Json& out)
{
    const Network network = wallet.GetNetwork();
    const Amount debit = wallet.Debit(wtx.tx);
    const bool from_me = debit > 0;
    const Amount fee = from_me ? debit - GetValueOut(wtx.tx) : 0;
    const int64_t depth = wallet.Depth(wtx);
    const auto labels = wallet.GetLabels();
    auto label_of = [&](const std::string& address) -> std::optional<std::string> {
        auto it = labels.find(address);
        if (it == labels.end()) return std::nullopt;
        return it->second;
    };
    std::vector<std::pair<uint32_t, const TxOut*>> sent, received;
    for (uint32_t n = 0; n < wtx.tx.vout.size(); ++n) {
        const TxOut& txout = wtx.tx.vout[n];
        const bool mine = wallet.IsMine(txout);
        const std::string address = EncodeAddress(txout.script_pubkey, network);
        // bitcoind: an output of ours without an address-book entry, in a transaction of ours, is change.
        const bool change = mine && !label_of(address);
        if (from_me) {
            if (change && !include_change) continue;
        } else if (!mine) {
            continue;
        }
        if (from_me) sent.emplace_back(n, &txout);
        if (mine) received.emplace_back(n, &txout);
    }
    auto add_address = [&](Json& entry, const TxOut& txout) {
        const std::string address = EncodeAddress(txout.script_pubkey, network);
        if (!address.empty()) entry["address"] = address;
        return address;
    };
    if (!label) {
        for (const auto& [n, txout] : sent) {
            Json entry = Json::object();
            const std::string address = add_address(entry, *txout);
            entry["category"] = "send";
            entry["amount"] = AmountToJson(-txout->value);
            if (auto l = label_of(address)) entry["label"] = *l;
            entry["vout"] = n;
            entry["fee"] = AmountToJson(-fee);
            if (with_tx_fields) AddWalletTxFields(wallet, wtx, entry);
            entry["abandoned"] = wtx.record.abandoned;
            out.push_back(std::move(entry));
        }
    }
    if (received.empty() || (min_depth != 0 && depth < min_depth)) return;
    for (const auto& [n, txout] : received) {
        Json entry = Json::object();
        const std::string address = add_address(entry, *txout);
        const auto l = label_of(address);
        if (label && (!l || *l != *label)) continue;
        if (wtx.tx.IsCoinbase()) {
            entry["category"] = depth < 1 ? "orphan" : COINBASE_MATURITY + 1 - depth > 0 ? "immature" : "generate";
        } else {
            entry["category"] = "receive";
        }
        entry["amount"] = AmountToJson(txout->value);
        if (l) entry["label"] = *l;
        entry["vout"] = n;
        entry["abandoned"] = wtx.record.abandoned;
        if (with_tx_fields) AddWalletTxFields(wallet, wtx, entry);
        out.push_back(std::move(entry));
    }
}

} // namespace orrery::wallet
