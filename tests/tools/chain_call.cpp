// chain_call: a TEST TOOL, built but not installed. It connects to a node's Chain
// interface as a wallet does (role "wallet") and makes one call, printing
// {"result": ...} or {"error": {"code", "message"}} as one JSON line, so that
// tests/functional/test_chain_wallet_calls.py checks the calls a wallet makes
// to send (broadcast, fee estimates, relay fees, mempool ancestry) against a
// real node process.
//
//   chain_call [-datadir=<dir>] [-regtest] [-ipcconnect=<endpoint>] <method> [args...]
//
// methods: broadcastTransaction <hex> <max_fee_rate sat/kvB> | estimateSmartFee <target> <0|1> |
// relayMinFee | relayIncrementalFee | relayDustFee | mempoolMinFee | getTransactionAncestry <txid>
#include <common/consensus/hex.h>
#include <common/interfaces/chain_ipc.h>
#include <common/util/init.h>
#include <tests/tools/ipc_call_tool.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string_view>

using namespace orrery;
using nlohmann::json;

namespace {

json Call(interfaces::Chain& chain, const std::vector<std::string>& command)
{
    auto arg = [&](size_t i) { return i < command.size() ? command[i] : std::string(); };
    const std::string& method = command.at(0);
    if (method == "broadcastTransaction") {
        const auto tx = TryParseHex(arg(1));
        if (!tx) throw std::invalid_argument("not hex: " + arg(1));
        return chain.broadcastTransaction(*tx, std::stoll(arg(2)));
    }
    if (method == "estimateSmartFee") {
        const auto estimate = chain.estimateSmartFee(std::stoll(arg(1)), arg(2) == "1");
        return {{"fee_rate", estimate.fee_rate}, {"blocks", estimate.blocks}};
    }
    if (method == "relayMinFee") return chain.relayMinFee();
    if (method == "relayIncrementalFee") return chain.relayIncrementalFee();
    if (method == "relayDustFee") return chain.relayDustFee();
    if (method == "mempoolMinFee") return chain.mempoolMinFee();
    if (method == "getTransactionAncestry") {
        const auto family = chain.getTransactionAncestry(arg(1));
        return {{"ancestors", family.ancestors},
                {"descendants", family.descendants},
                {"ancestor_vsize", family.ancestor_vsize},
                {"ancestor_fees", family.ancestor_fees}};
    }
    throw std::invalid_argument("unknown method " + method);
}

} // namespace

int main(int argc, char* argv[])
{
    int first_command = 1;
    while (first_command < argc && std::string_view(argv[first_command]).starts_with("-")) ++first_command;
    ArgsManager args;
    AddCommonArgs(args);
    if (auto code = InitProcess(args, first_command, argv, "chain_call", "Usage: chain_call [options] <method> [args]",
                                /*make_dirs=*/false)) {
        return *code;
    }
    std::vector<std::string> command(argv + first_command, argv + argc);
    if (command.empty()) {
        std::fprintf(stderr, "Usage: chain_call [options] <method> [args]\n");
        return 1;
    }
    return test_tools::RunIpcCall(args, {"wallet", {"chain"}, "node"}, [&](const auto& connection) {
        return Call(*ipc::MakeProxy<interfaces::Chain>(connection), command);
    });
}
