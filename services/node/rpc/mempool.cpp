// The node's mempool RPC methods that read and tune the mempool:
// getmempoolinfo, getrawmempool, getmempoolentry, getmempoolancestors,
// getmempooldescendants, prioritisetransaction, getprioritisedtransactions,
// savemempool. Submitting transactions is in mempool_submit.cpp, fee
// estimation in fees.cpp. Fields and errors are bitcoind's.
#include <services/node/rpc/mempool_rpc.h>

#include <services/node/mempool/mempool.h>
#include <services/node/node.h>
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/rpc.h>

#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

Mempool& RequireMempool(NodeService& node)
{
    if (!node.HasMempool()) throw rpc::RpcException(rpc::RPC_IN_WARMUP, "Loading block index...");
    return node.GetMempool();
}

Json FeeRateToJson(FeeRate rate)
{
    return ValueFromAmount(rate.PerKvB());
}

Json MempoolEntryToJson(const Mempool& pool, const MempoolEntry& entry)
{
    const PackageTotals ancestors = pool.AncestorTotals(entry.txid);
    const PackageTotals descendants = pool.DescendantTotals(entry.txid);
    Json out = Json::object();
    out["vsize"] = entry.vsize;
    out["weight"] = entry.weight;
    out["time"] = entry.time;
    out["height"] = entry.height;
    out["descendantcount"] = descendants.count;
    out["descendantsize"] = descendants.vsize;
    out["ancestorcount"] = ancestors.count;
    out["ancestorsize"] = ancestors.vsize;
    out["wtxid"] = entry.wtxid.GetHex();
    Json fees = Json::object();
    fees["base"] = ValueFromAmount(entry.fee);
    fees["modified"] = ValueFromAmount(entry.ModifiedFee());
    fees["ancestor"] = ValueFromAmount(ancestors.modified_fees);
    fees["descendant"] = ValueFromAmount(descendants.modified_fees);
    out["fees"] = std::move(fees);
    Json depends = Json::array();
    for (const uint256& parent : entry.parents) depends.push_back(parent.GetHex());
    out["depends"] = std::move(depends);
    Json spent_by = Json::array();
    for (const uint256& child : entry.children) spent_by.push_back(child.GetHex());
    out["spentby"] = std::move(spent_by);
    out["bip125-replaceable"] = pool.IsReplaceable(entry.txid);
    out["unbroadcast"] = pool.IsUnbroadcast(entry.txid);
    return out;
}

namespace {

bool BoolArg(const Json& value, bool fallback)
{
    if (value.is_null()) return fallback;
    if (value.is_boolean()) return value.get<bool>();
    if (value.is_number_integer()) return value.get<int64_t>() != 0;
    throw rpc::RpcException(rpc::RPC_TYPE_ERROR, fmt::format("JSON value of type {} is not of expected type bool",
                                                             rpc::JsonTypeName(value)));
}

MempoolEntry RequireEntry(const Mempool& pool, const uint256& txid)
{
    auto entry = pool.GetEntry(txid);
    if (!entry) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool");
    return *entry;
}

//! getmempoolancestors / getmempooldescendants: txids, or txid → entry when verbose.
Json RelativesToJson(const Mempool& pool, const std::vector<uint256>& txids, bool verbose)
{
    if (!verbose) {
        Json out = Json::array();
        for (const uint256& txid : txids) out.push_back(txid.GetHex());
        return out;
    }
    Json out = Json::object();
    for (const uint256& txid : txids) {
        if (auto entry = pool.GetEntry(txid)) out[txid.GetHex()] = MempoolEntryToJson(pool, *entry);
    }
    return out;
}

} // namespace

void RegisterMempoolRpc(rpc::Table& table, NodeService& node)
{
    table.Add({"getmempoolinfo",
               "Blockchain",
               {},
               "Describes the mempool: whether mempool.dat is loaded, its transactions, their virtual size, memory "
               "and fees, its limit and the fee rates it works with.",
               [&node](const rpc::CallRequest&) {
                   const MempoolInfo info = RequireMempool(node).Info();
                   Json out = Json::object();
                   out["loaded"] = info.loaded;
                   out["size"] = info.size;
                   out["bytes"] = info.bytes;
                   out["usage"] = info.usage;
                   out["total_fee"] = ValueFromAmount(info.total_fee);
                   out["maxmempool"] = info.max_size_bytes;
                   out["mempoolminfee"] = FeeRateToJson(info.min_fee);
                   out["minrelaytxfee"] = FeeRateToJson(info.min_relay_fee);
                   out["incrementalrelayfee"] = FeeRateToJson(info.incremental_relay_fee);
                   out["unbroadcastcount"] = info.unbroadcast;
                   out["fullrbf"] = info.full_rbf;
                   return out;
               }});
    table.Add({"getrawmempool",
               "Blockchain",
               {rpc::Optional("verbose", ParamType::BOOL, "true: an object of entries; false: txids (default)"),
                rpc::Optional("mempool_sequence", ParamType::BOOL,
                              "With verbose false: also the mempool sequence the list was read at")},
               "Lists the transactions in the mempool, by txid or with each one's entry.",
               [&node](const rpc::CallRequest& call) -> Json {
                   Mempool& pool = RequireMempool(node);
                   const bool verbose = BoolArg(call.Arg(0), false);
                   const bool with_sequence = BoolArg(call.Arg(1), false);
                   if (verbose && with_sequence) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Verbose results cannot contain mempool sequence values.");
                   }
                   if (verbose) {
                       Json out = Json::object();
                       for (const MempoolEntry& entry : pool.Entries()) {
                           out[entry.txid.GetHex()] = MempoolEntryToJson(pool, entry);
                       }
                       return out;
                   }
                   auto [txids, sequence] = pool.TxidsAndSequence();
                   Json list = Json::array();
                   for (const uint256& txid : txids) list.push_back(txid.GetHex());
                   if (!with_sequence) return list;
                   Json out = Json::object();
                   out["txids"] = std::move(list);
                   out["mempool_sequence"] = sequence;
                   return out;
               }});
    table.Add({"getmempoolentry",
               "Blockchain",
               {rpc::Required("txid", ParamType::STRING, "The transaction id (must be in the mempool)")},
               "Gives the mempool entry of one transaction: sizes, fees, time, ancestors and descendants.",
               [&node](const rpc::CallRequest& call) {
                   Mempool& pool = RequireMempool(node);
                   return MempoolEntryToJson(pool, RequireEntry(pool, ParseHashArg(call.Arg(0), "txid")));
               }});
    table.Add({"getmempoolancestors",
               "Blockchain",
               {rpc::Required("txid", ParamType::STRING, "The transaction id (must be in the mempool)"),
                rpc::Optional("verbose", ParamType::BOOL, "true: entries; false: txids (default)")},
               "Lists the in-mempool transactions that the given one spends from, directly or not.",
               [&node](const rpc::CallRequest& call) {
                   Mempool& pool = RequireMempool(node);
                   const uint256 txid = ParseHashArg(call.Arg(0), "txid");
                   auto ancestors = pool.Ancestors(txid);
                   if (!ancestors)
                       throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool");
                   return RelativesToJson(pool, *ancestors, BoolArg(call.Arg(1), false));
               }});
    table.Add({"getmempooldescendants",
               "Blockchain",
               {rpc::Required("txid", ParamType::STRING, "The transaction id (must be in the mempool)"),
                rpc::Optional("verbose", ParamType::BOOL, "true: entries; false: txids (default)")},
               "Lists the in-mempool transactions that spend from the given one, directly or not.",
               [&node](const rpc::CallRequest& call) {
                   Mempool& pool = RequireMempool(node);
                   const uint256 txid = ParseHashArg(call.Arg(0), "txid");
                   auto descendants = pool.Descendants(txid);
                   if (!descendants) {
                       throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool");
                   }
                   return RelativesToJson(pool, *descendants, BoolArg(call.Arg(1), false));
               }});
    table.Add({"prioritisetransaction",
               "Mining",
               {rpc::Required("txid", ParamType::STRING, "The transaction id"),
                rpc::Optional("dummy", ParamType::NUMBER, "Must be 0 or null (the old priority)"),
                rpc::Required("fee_delta", ParamType::NUMBER,
                              "Satoshis added to (or, negative, taken from) the fee the mempool and mining count")},
               "Makes the mempool and block templates treat a transaction as if it paid more (or less). The "
               "transaction need not be in the mempool yet.",
               [&node](const rpc::CallRequest& call) {
                   Mempool& pool = RequireMempool(node);
                   const uint256 txid = ParseHashArg(call.Arg(0), "txid");
                   if (!call.Arg(1).is_null() && !(call.Arg(1).is_number() && call.Arg(1).get<double>() == 0)) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Priority is no longer supported, dummy "
                                               "argument to prioritisetransaction must be 0.");
                   }
                   const int64_t delta = rpc::IntegerArg(call.Arg(2));
                   pool.PrioritiseTransaction(txid, delta);
                   return Json(true);
               }});
    table.Add({"getprioritisedtransactions",
               "Mining",
               {},
               "Lists the fee adjustments prioritisetransaction made: for each txid the delta, whether it is in "
               "the mempool, and then its modified fee.",
               [&node](const rpc::CallRequest&) {
                   Json out = Json::object();
                   for (const auto& [txid, p] : RequireMempool(node).Prioritisations()) {
                       Json item = Json::object();
                       item["fee_delta"] = p.delta;
                       item["in_mempool"] = p.in_mempool;
                       if (p.in_mempool) item["modified_fee"] = p.modified_fee;
                       out[txid.GetHex()] = std::move(item);
                   }
                   return out;
               }});
    table.Add({"savemempool",
               "Blockchain",
               {},
               "Writes the mempool to mempool.dat now (it is also written at shutdown).",
               [&node](const rpc::CallRequest&) {
                   Mempool& pool = RequireMempool(node);
                   if (!pool.IsLoaded()) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "The mempool was not loaded yet");
                   if (!pool.Dump()) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Unable to dump mempool to disk");
                   Json out = Json::object();
                   out["filename"] = pool.DumpPath().string();
                   return out;
               }});
}

} // namespace orrery::node
