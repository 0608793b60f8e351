// estimatesmartfee, over the mempool's fee estimator
// (services/node/mempool/fee_estimator.h; how it estimates: doc/mempool.md).
#include <services/node/rpc/mempool_rpc.h>

#include <services/node/node.h>

#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

void RegisterFeeRpc(rpc::Table& table, NodeService& node)
{
    table.Add({"estimatesmartfee",
               "Util",
               {rpc::Required("conf_target", ParamType::NUMBER,
                              "Blocks within which the transaction should confirm "
                              "(1 - 1008)"),
                rpc::Optional("estimate_mode", ParamType::STRING,
                              "unset, economical or conservative (accepted; the estimator has one mode)")},
               "Estimates the fee rate (BTC/kvB) a transaction needs to confirm within conf_target blocks, from "
               "how long the transactions this node saw took to confirm at each fee rate.",
               [&node](const rpc::CallRequest& call) {
                   const int64_t target = rpc::IntegerArg(call.Arg(0));
                   if (target < 1 || target > FeeEstimator::MAX_TARGET) {
                       throw rpc::RpcException(
                           rpc::RPC_INVALID_PARAMETER,
                           fmt::format("Invalid conf_target, must be between 1 and {}", FeeEstimator::MAX_TARGET));
                   }
                   const std::string mode = rpc::StringArg(call.Arg(1), "unset");
                   std::string upper = mode;
                   for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                   if (upper != "UNSET" && upper != "ECONOMICAL" && upper != "CONSERVATIVE") {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Invalid estimate_mode parameter, must be one of: \"unset\", "
                                               "\"economical\", \"conservative\"");
                   }
                   Mempool& pool = RequireMempool(node);
                   Json out = Json::object();
                   auto estimate = pool.Estimator().EstimateFee(static_cast<int>(target));
                   if (!estimate) {
                       out["errors"] = Json::array({"Insufficient data or no feerate found"});
                       out["blocks"] = 0;
                       return out;
                   }
                   const MempoolInfo info = pool.Info();
                   // Never below what the mempool itself takes now.
                   const FeeRate rate = std::max({FeeRate(estimate->feerate), info.min_fee, info.min_relay_fee});
                   out["feerate"] = FeeRateToJson(rate);
                   out["blocks"] = estimate->blocks;
                   return out;
               }});
}

} // namespace orrery::node
