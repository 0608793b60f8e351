// The node's methods that offer transactions to the mempool:
// sendrawtransaction, testmempoolaccept and submitpackage, with bitcoind's
// arguments (maxfeerate, maxburnamount), results and errors (-25 for missing
// inputs and fee caps, -26 for a rejection, -27 for outputs already in the
// UTXO set).
#include <services/node/rpc/mempool_rpc.h>

#include <common/consensus/script.h>
#include <services/node/node.h>
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/rpc.h>

#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

//! Core's ParseFeeRate: BTC/kvB, below 1 BTC/kvB.
FeeRate ParseFeeRateArg(const Json& value, FeeRate fallback)
{
    if (value.is_null()) return fallback;
    const Amount amount = AmountFromValue(value);
    if (amount >= COIN) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                "Fee rates larger than or equal to 1BTC/kvB are not accepted");
    }
    return FeeRate(amount);
}

Transaction DecodeTxArg(const Json& value)
{
    if (!value.is_string()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR, fmt::format("JSON value of type {} is not of expected type string",
                                                                 rpc::JsonTypeName(value)));
    }
    auto tx = DecodeHexTx(value.get<std::string>());
    if (!tx) {
        throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR,
                                "TX decode failed. Make sure the tx has at least one input.");
    }
    return *tx;
}

//! maxburnamount: no unspendable output may carry more.
void CheckBurn(const Transaction& tx, Amount max_burn)
{
    for (const TxOut& out : tx.vout) {
        if (IsUnspendable(out.script_pubkey) && out.value > max_burn) {
            throw rpc::RpcException(rpc::RPC_VERIFY_ERROR,
                                    "Unspendable output exceeds maximum configured by user (maxburnamount)");
        }
    }
}

Json FeesToJson(const AcceptResult& result, bool with_effective)
{
    Json fees = Json::object();
    fees["base"] = ValueFromAmount(result.fee);
    if (with_effective) {
        fees["effective-feerate"] = FeeRateToJson(result.effective_feerate);
        Json includes = Json::array();
        for (const uint256& wtxid : result.effective_includes) includes.push_back(wtxid.GetHex());
        fees["effective-includes"] = std::move(includes);
    }
    return fees;
}

} // namespace

void RegisterMempoolSubmitRpc(rpc::Table& table, NodeService& node)
{
    table.Add({"sendrawtransaction",
               "Rawtransactions",
               {rpc::Required("hexstring", ParamType::STRING, "The signed transaction in hex"),
                rpc::Optional("maxfeerate", ParamType::ANY,
                              "Refuse a fee rate above this, in BTC/kvB (default 0.10; 0: no limit)"),
                rpc::Optional("maxburnamount", ParamType::ANY,
                              "Refuse an unspendable output worth more than this, in BTC (default 0)")},
               "Submits a signed transaction to the mempool (and, once relay exists, to the network) and "
               "returns its txid. A transaction already in the mempool is not an error.",
               [&node](const rpc::CallRequest& call) {
                   const Transaction tx = DecodeTxArg(call.Arg(0));
                   const FeeRate max_rate = ParseFeeRateArg(call.Arg(1), FeeRate(DEFAULT_MAX_RAW_TX_FEE_RATE));
                   const Amount max_burn = call.Arg(2).is_null() ? 0 : AmountFromValue(call.Arg(2));
                   CheckBurn(tx, max_burn);
                   Mempool& pool = RequireMempool(node);
                   const uint256 txid = tx.GetTxid();
                   if (pool.Exists(txid)) return Json(txid.GetHex());
                   const Amount max_fee = max_rate.GetFee(GetVirtualSize(tx));
                   const AcceptResult result = pool.AcceptTransaction(tx, false, max_rate.PerKvB() > 0 ? max_fee : 0);
                   if (!result.accepted) {
                       using F = AcceptResult::Failure;
                       if (result.reject_reason == "max-fee-exceeded") {
                           throw rpc::RpcException(
                               rpc::RPC_VERIFY_ERROR,
                               "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)");
                       }
                       if (result.failure == F::ALREADY_KNOWN) {
                           throw rpc::RpcException(rpc::RPC_VERIFY_ALREADY_IN_CHAIN,
                                                   "Transaction outputs already in utxo set");
                       }
                       if (result.failure == F::IN_MEMPOOL) return Json(txid.GetHex());
                       if (result.failure == F::MISSING_INPUTS) {
                           throw rpc::RpcException(rpc::RPC_VERIFY_ERROR, result.ToString());
                       }
                       throw rpc::RpcException(rpc::RPC_VERIFY_REJECTED, result.ToString());
                   }
                   pool.AddUnbroadcast(txid);
                   return Json(txid.GetHex());
               }});
    table.Add({"testmempoolaccept",
               "Rawtransactions",
               {rpc::Required("rawtxs", ParamType::ARRAY,
                              "Signed transactions in hex (up to 25; later ones may spend earlier ones)"),
                rpc::Optional("maxfeerate", ParamType::ANY,
                              "Refuse a fee rate above this, in BTC/kvB (default 0.10; 0: no limit)")},
               "Says whether the mempool would take each transaction, without adding any: allowed, vsize and "
               "fees, or the reject reason.",
               [&node](const rpc::CallRequest& call) {
                   const Json& raw = call.Arg(0);
                   if (!raw.is_array() || raw.empty() || raw.size() > 25) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Array must contain between 1 and 25 transactions.");
                   }
                   std::vector<Transaction> txs;
                   for (const Json& item : raw) txs.push_back(DecodeTxArg(item));
                   const FeeRate max_rate = ParseFeeRateArg(call.Arg(1), FeeRate(DEFAULT_MAX_RAW_TX_FEE_RATE));
                   Mempool& pool = RequireMempool(node);
                   const std::vector<AcceptResult> results = pool.TestPackage(txs, max_rate);
                   Json out = Json::array();
                   for (size_t i = 0; i < results.size(); ++i) {
                       const AcceptResult& result = results[i];
                       Json item = Json::object();
                       item["txid"] = result.txid.GetHex();
                       item["wtxid"] = result.wtxid.GetHex();
                       if (result.reject_reason.empty() && !result.accepted) {
                           item["package-error"] = "package-not-validated";
                       } else if (result.accepted) {
                           item["allowed"] = true;
                           item["vsize"] = result.vsize;
                           item["fees"] = FeesToJson(result, true);
                       } else {
                           item["allowed"] = false;
                           if (result.failure == AcceptResult::Failure::MISSING_INPUTS) {
                               item["reject-reason"] = "missing-inputs"; // Core's word here
                           } else {
                               item["reject-reason"] = result.reject_reason;
                               item["reject-details"] = result.ToString();
                           }
                       }
                       out.push_back(std::move(item));
                   }
                   return out;
               }});
    table.Add({"submitpackage",
               "Rawtransactions",
               {rpc::Required("package", ParamType::ARRAY,
                              "Signed transactions in hex: one, or a parent then its child (1-parent-1-child)"),
                rpc::Optional("maxfeerate", ParamType::ANY,
                              "Refuse a fee rate above this, in BTC/kvB (default 0.10; 0: no limit)"),
                rpc::Optional("maxburnamount", ParamType::ANY,
                              "Refuse an unspendable output worth more than this, in BTC (default 0)")},
               "Submits a child with its unconfirmed parent as a package: the parent may pay less than the "
               "mempool's minimum when the two together pay enough.",
               [&node](const rpc::CallRequest& call) {
                   const Json& raw = call.Arg(0);
                   if (!raw.is_array() || raw.empty() || raw.size() > 25) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Array must contain between 1 and 25 transactions.");
                   }
                   const FeeRate max_rate = ParseFeeRateArg(call.Arg(1), FeeRate(DEFAULT_MAX_RAW_TX_FEE_RATE));
                   const Amount max_burn = call.Arg(2).is_null() ? 0 : AmountFromValue(call.Arg(2));
                   std::vector<Transaction> txs;
                   for (const Json& item : raw) {
                       txs.push_back(DecodeTxArg(item));
                       CheckBurn(txs.back(), max_burn);
                   }
                   Mempool& pool = RequireMempool(node);
                   PackageResult package;
                   try {
                       package = pool.SubmitPackage(txs, max_rate);
                   } catch (const std::invalid_argument& e) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, e.what());
                   }
                   Json out = Json::object();
                   out["package_msg"] = package.message;
                   Json results = Json::object();
                   Json replaced = Json::array();
                   for (const AcceptResult& result : package.results) {
                       Json item = Json::object();
                       item["txid"] = result.txid.GetHex();
                       if (result.accepted || result.failure == AcceptResult::Failure::IN_MEMPOOL) {
                           if (result.accepted) {
                               pool.AddUnbroadcast(result.txid);
                           } else if (auto entry = pool.GetEntry(result.txid)) {
                               item["other-wtxid"] =
                                   entry->wtxid == result.wtxid ? Json() : Json(entry->wtxid.GetHex());
                               if (item["other-wtxid"].is_null()) item.erase("other-wtxid");
                           }
                           auto entry = pool.GetEntry(result.txid);
                           item["vsize"] = entry ? entry->vsize : result.vsize;
                           Json fees = Json::object();
                           fees["base"] = ValueFromAmount(entry ? entry->fee : result.fee);
                           if (result.accepted) {
                               fees["effective-feerate"] = FeeRateToJson(result.effective_feerate);
                               Json includes = Json::array();
                               for (const uint256& w : result.effective_includes) includes.push_back(w.GetHex());
                               fees["effective-includes"] = std::move(includes);
                           }
                           item["fees"] = std::move(fees);
                       } else {
                           item["error"] =
                               result.ToString().empty() ? std::string("package-not-validated") : result.ToString();
                       }
                       for (const uint256& txid : result.replaced) replaced.push_back(txid.GetHex());
                       results[result.wtxid.GetHex()] = std::move(item);
                   }
                   out["tx-results"] = std::move(results);
                   out["replaced-transactions"] = std::move(replaced);
                   return out;
               }});
}

} // namespace orrery::node
