// signrawtransactionwithkey: signs a raw transaction with private keys the
// caller passes, over the outputs it spends (found in the mempool and the UTXO
// set, or given in prevtxs). Arguments, results and errors are bitcoind's;
// the signing itself is common/keys/signer.h.
#include <services/node/rpc/rawtransaction_sign.h>

#include <common/consensus/hex.h>
#include <common/keys/key_io.h>
#include <common/script/interpreter.h>
#include <common/script/opcodes.h>
#include <services/node/mempool/policy.h>
#include <services/node/node.h>
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/mempool_rpc.h>
#include <services/node/rpc/rawtransaction.h>

#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

bool IsP2WSH(std::span<const uint8_t> script)
{
    return script.size() == 34 && script[0] == OP_0 && script[1] == 32;
}

Script P2WSHOf(const Script& script)
{
    const auto hash = crypto::Sha256(script);
    return MakeWitnessScript({0, std::vector<uint8_t>(hash.begin(), hash.end())});
}

//! Core's CTxOut::ToString, which its "Missing amount" message quotes.
std::string TxOutToString(const TxOut& out)
{
    return fmt::format("CTxOut(nValue={}.{:08}, scriptPubKey={})", out.value / COIN, out.value % COIN,
                       HexStr(out.script_pubkey).substr(0, 30));
}

const Json& Field(const Json& object, const char* name)
{
    static const Json null;
    return object.contains(name) ? object[name] : null;
}

void RequireType(const Json& value, const char* name, bool (Json::*is)() const noexcept, const char* type)
{
    if (!(value.*is)()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                fmt::format("JSON value of type {} for field {} is not of expected type {}",
                                            rpc::JsonTypeName(value), name, type));
    }
}

} // namespace

CoinMap FindCoins(NodeService& node, const Transaction& tx)
{
    CoinMap coins;
    for (const TxIn& in : tx.vin) coins[in.prevout];
    Mempool* pool = node.HasMempool() ? &node.GetMempool() : nullptr;
    ChainstateManager& chainstate = node.Chainstate();
    auto lock = chainstate.Lock();
    for (auto& [outpoint, coin] : coins) {
        // As Core's mempool view: a mempool transaction's output first, then the UTXO set.
        if (pool) {
            if (const auto parent = pool->GetTransaction(outpoint.hash)) {
                if (outpoint.n < parent->vout.size()) coin = parent->vout[outpoint.n];
                continue;
            }
        }
        if (const auto utxo = chainstate.GetCoin(outpoint); utxo && !utxo->IsSpent()) coin = utxo->out;
    }
    return coins;
}

void ParsePrevouts(const Json& prevtxs, FlatSigningProvider* provider, CoinMap& coins)
{
    if (prevtxs.is_null()) return;
    if (!prevtxs.is_array()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                fmt::format("Expected type array, got {}", rpc::JsonTypeName(prevtxs)));
    }
    for (const Json& prev : prevtxs) {
        if (!prev.is_object()) {
            throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR,
                                    "expected object with {\"txid'\",\"vout\",\"scriptPubKey\"}");
        }
        RequireType(Field(prev, "txid"), "txid", &Json::is_string, "string");
        RequireType(Field(prev, "vout"), "vout", &Json::is_number, "number");
        RequireType(Field(prev, "scriptPubKey"), "scriptPubKey", &Json::is_string, "string");
        const uint256 txid = ParseHashArg(prev["txid"], "txid");
        const int64_t vout = rpc::IntegerArg(prev["vout"]);
        if (vout < 0) throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "vout cannot be negative");
        const OutPoint outpoint{txid, static_cast<uint32_t>(vout)};
        const Script script_pubkey = ParseHexValue(prev["scriptPubKey"], "scriptPubKey");

        if (const auto it = coins.find(outpoint);
            it != coins.end() && it->second && it->second->script_pubkey != script_pubkey) {
            throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "Previous output scriptPubKey mismatch:\n" +
                                                                        ScriptToAsmStr(it->second->script_pubkey) +
                                                                        "\nvs:\n" + ScriptToAsmStr(script_pubkey));
        }
        TxOut out{MAX_MONEY, script_pubkey};
        if (prev.contains("amount")) out.value = AmountFromValue(prev["amount"]);
        coins[outpoint] = out;

        const bool is_p2sh = IsPayToScriptHash(script_pubkey);
        const bool is_p2wsh = IsP2WSH(script_pubkey);
        if (!provider || !(is_p2sh || is_p2wsh)) continue;
        const Json& rs = Field(prev, "redeemScript");
        const Json& ws = Field(prev, "witnessScript");
        if (!rs.is_null()) RequireType(rs, "redeemScript", &Json::is_string, "string");
        if (!ws.is_null()) RequireType(ws, "witnessScript", &Json::is_string, "string");
        if (rs.is_null() && ws.is_null()) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Missing redeemScript/witnessScript");
        }
        // The witness script when given; a redeem script may also stand for a P2SH-P2WSH witness script.
        const Script script = !ws.is_null() ? ParseHexValue(ws, "witnessScript") : ParseHexValue(rs, "redeemScript");
        provider->AddScript(script);
        const Script witness_output = P2WSHOf(script);
        provider->AddScript(witness_output);
        if (!ws.is_null() && !rs.is_null() && ws.get<std::string>() != rs.get<std::string>()) {
            if (ParseHexValue(rs, "redeemScript") != witness_output) {
                throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                        "redeemScript does not correspond to witnessScript");
            }
        }
        const bool matches = is_p2sh ? (script_pubkey == MakeP2SHScript(crypto::Hash160(script)) ||
                                        script_pubkey == MakeP2SHScript(crypto::Hash160(witness_output)))
                                     : script_pubkey == witness_output;
        if (!matches) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    "redeemScript/witnessScript does not match scriptPubKey");
        }
    }
}

int ParseSighashArg(const Json& value)
{
    if (value.is_null()) return SIGHASH_DEFAULT;
    const std::string name = rpc::StringArg(value);
    const auto parsed = ParseSighashName(name);
    if (!parsed) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                fmt::format("'{}' is not a valid sighash parameter.", name));
    }
    return *parsed;
}

Json SignTransactionToJson(Transaction& tx, const CoinMap& coins, const SigningProvider& provider, int hash_type)
{
    std::vector<std::optional<TxOut>> spent;
    for (const TxIn& in : tx.vin) {
        const auto it = coins.find(in.prevout);
        spent.push_back(it == coins.end() ? std::nullopt : it->second);
    }
    SignOptions options;
    options.hash_type = hash_type;
    options.verify_flags = STANDARD_SCRIPT_VERIFY_FLAGS;
    const SignResult result = SignTransaction(tx, spent, provider, options);

    Json errors = Json::array();
    for (const auto& [index, message] : result.errors) {
        if (message == "Missing amount") {
            throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Missing amount for " + TxOutToString(*spent[index]));
        }
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
    Json out = Json::object();
    out["hex"] = HexStr(SerializeTransaction(tx));
    out["complete"] = result.complete;
    if (!errors.empty()) out["errors"] = std::move(errors);
    return out;
}

void RegisterSignRpc(rpc::Table& table, NodeService& node)
{
    const Network network = AddressNetwork(node.Params().type);
    table.Add({"signrawtransactionwithkey",
               "Rawtransactions",
               {rpc::Required("hexstring", ParamType::STRING, "The transaction to sign, in hex"),
                rpc::Required("privkeys", ParamType::ARRAY, "Private keys (WIF) that may sign it"),
                rpc::Optional("prevtxs", ParamType::ARRAY,
                              "Outputs it spends that the node does not know, or their scripts: [{\"txid\", "
                              "\"vout\", \"scriptPubKey\", \"redeemScript\", \"witnessScript\", \"amount\"}, ...]"),
                rpc::Optional("sighashtype", ParamType::STRING,
                              "DEFAULT (the default), ALL, NONE, SINGLE, each but DEFAULT optionally "
                              "|ANYONECANPAY")},
               "Signs the inputs of a raw transaction that the given keys can sign: P2PK, P2PKH, P2SH-P2WPKH, "
               "P2WPKH, multisig bare, in P2SH, P2WSH or P2SH-P2WSH, and taproot key paths. Outputs come from the "
               "mempool and the UTXO set unless prevtxs names them. Returns the transaction, whether it is "
               "complete, and what is missing for each input that is not.",
               [&node, network](const rpc::CallRequest& call) {
                   const Json& hex = call.Arg(0);
                   auto tx = hex.is_string() ? DecodeHexTx(hex.get<std::string>()) : std::nullopt;
                   if (!tx) {
                       throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR,
                                               "TX decode failed. Make sure the tx has at least one input.");
                   }
                   FlatSigningProvider provider;
                   for (const Json& wif : call.Arg(1)) {
                       const auto key = wif.is_string() ? DecodeWif(wif.get<std::string>(), network) : std::nullopt;
                       if (!key) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid private key");
                       provider.AddKey(*key);
                   }
                   CoinMap coins = FindCoins(node, *tx);
                   ParsePrevouts(call.Arg(2), &provider, coins);
                   const int hash_type = ParseSighashArg(call.Arg(3));
                   return SignTransactionToJson(*tx, coins, provider, hash_type);
               }});
}

} // namespace orrery::node
