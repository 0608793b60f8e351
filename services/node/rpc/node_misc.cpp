// The node's control methods that are not about the chain or peers:
// setmocktime, whose time every process of the constellation follows.
#include <services/node/rpc/rpc.h>

#include <common/util/mock_time.h>
#include <services/node/node.h>
#include <services/node/validation/chainstate.h>

#include <fmt/format.h>

#include <stdexcept>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

void RegisterNodeMiscRpc(rpc::Table& table, NodeService& node)
{
    table.Add(
        {"setmocktime",
         "Control",
         {rpc::Required("timestamp", ParamType::NUMBER, "Unix time to pin the clocks to; 0 for the real clock")},
         "Pins the clock of every process of the constellation (node, p2p-agents, wallet, gui-bridge, orreryd) to a "
         "time, for tests. Regtest only.",
         [&node](const rpc::CallRequest& call) -> Json {
             if (node.Chainstate().Params().type != ChainType::REGTEST) {
                 throw std::runtime_error("setmocktime is for regression testing (-regtest mode) only");
             }
             const int64_t time = rpc::IntegerArg(call.Arg(0));
             // Core's bound: the seconds a std::chrono::nanoseconds can hold.
             constexpr int64_t MAX_TIME = 9223372036;
             if (time < 0 || time > MAX_TIME) {
                 throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                         fmt::format("Mocktime must be in the range [0, {}], not {}.", MAX_TIME, time));
             }
             {
                 auto lock = node.Chainstate().Lock(); // not in the middle of validating a block
                 SetMockTime(time);
             }
             // No lock held while orreryd forwards it to the other processes.
             node.SetMockTimeEverywhere(time);
             return Json();
         }});
}

} // namespace orrery::node
