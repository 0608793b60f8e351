// wallet_query: a TEST TOOL, built but not installed. It calls one
// WalletLoader method or RPC method (RpcHost) of a running orrery-wallet over IPC and prints
// {"result": ...} or {"error": {"code", "message"}} as one JSON line, so that
// tests/functional/test_wallet.py can drive the wallet without the gui-bridge.
//
//   wallet_query [-datadir=<dir>] [-regtest] [-ipcconnect=<endpoint>] [-role=<role>] <method> [args...]
//
// methods: createwallet <name> | loadwallet <name> | unloadwallet <name> |
// listwallets | listwalletdir (WalletLoader), or any RPC method of the wallet as
// <method> <wallet> [args...] (<wallet> may be "" for "the only loaded one"; each
// argument is JSON when it parses as JSON, else a string). -role (default "gui-bridge") lets a
// test pose as another process to check the wallet's permissions.
#include <common/interfaces/rpc_ipc.h>
#include <common/interfaces/wallet_ipc.h>
#include <common/util/init.h>
#include <tests/tools/ipc_call_tool.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string_view>

using namespace orrery;
using nlohmann::json;

namespace {

json Call(interfaces::WalletLoader& loader, interfaces::RpcHost& rpc, const std::vector<std::string>& command)
{
    auto arg = [&](size_t i) { return i < command.size() ? command[i] : std::string(); };
    const std::string& method = command.at(0);
    if (method == "createwallet") return loader.createWallet(arg(1));
    if (method == "loadwallet") return loader.loadWallet(arg(1));
    if (method == "unloadwallet") {
        loader.unloadWallet(arg(1));
        return nullptr;
    }
    if (method == "listwallets") return loader.listWallets();
    if (method == "listwalletdir") return loader.listWalletDir();
    // The RPC methods themselves, as the gui-bridge routes them: <wallet> is the URL's, the rest positional.
    std::optional<std::string> wallet;
    if (!arg(1).empty()) wallet = arg(1);
    json params = json::array();
    for (size_t i = 2; i < command.size(); ++i) {
        json value = json::parse(command[i], nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded() || value.is_string()) value = command[i];
        // getnewaddress's label "5" stays a string: only the methods' non-string arguments need JSON.
        if (method == "getnewaddress" || method == "setlabel") value = command[i];
        params.push_back(std::move(value));
    }
    return json::parse(rpc.call(method, params.dump(), wallet));
}

} // namespace

int main(int argc, char* argv[])
{
    int first_command = 1;
    while (first_command < argc && std::string_view(argv[first_command]).starts_with("-")) ++first_command;
    ArgsManager args;
    AddCommonArgs(args);
    args.AddArg("-role=<role>", "Role announced to the wallet (default: gui-bridge, the one it serves)");
    if (auto code =
            InitProcess(args, first_command, argv, "wallet_query", "Usage: wallet_query [options] <method> [args]",
                        /*make_dirs=*/false)) {
        return *code;
    }
    std::vector<std::string> command(argv + first_command, argv + argc);
    if (command.empty()) {
        std::fprintf(stderr, "Usage: wallet_query [options] <method> [args]\n");
        return 1;
    }
    return test_tools::RunIpcCall(args, {args.GetArg("role", "gui-bridge"), {}, "wallet"}, [&](const auto& connection) {
        auto loader = ipc::MakeProxy<interfaces::WalletLoader>(connection);
        auto rpc = ipc::MakeProxy<interfaces::RpcHost>(connection);
        return Call(*loader, *rpc, command);
    });
}
