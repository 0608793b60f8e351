// orrery-wallet: the process that holds the keys. Loads its wallets, serves
// WalletLoader and its RPC methods on -ipcbind (default <net>/run/wallet.sock)
// to the roles allowed to ask, offers its RPC methods to the gui-bridge at
// -rpcrouterconnect, follows the node's Chain on -ipcconnect (default
// <net>/run/node.sock), and runs until SIGTERM or SIGINT.
#include <services/wallet/init.h>
#include <services/wallet/node_link.h>
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/wallet_service.h>

#include <common/interfaces/roles.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/interfaces/wallet_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/router_link.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/text.h>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace {
int Fail(const std::string& message)
{
    orrery::LogPrintf("Error: {}", message);
    std::fprintf(stderr, "Error: %s\n", message.c_str());
    return 1;
}
} // namespace

int main(int argc, char* argv[])
{
    using namespace orrery;
    ArgsManager args;
    wallet::AddArgs(args);
    if (auto code = InitProcess(args, argc, argv, "wallet", "Usage: orrery-wallet [options]")) return *code;
    if (args.GetBoolArg("disablewallet", false)) return Fail("-disablewallet is set: orrery-wallet does not run");

    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr); // the IPC threads inherit the mask

    wallet::WalletDirLock lock(wallet::GetWalletDir(args));
    if (!lock.Error().empty()) return Fail(lock.Error());
    std::shared_ptr<wallet::WalletService> service;
    try {
        service = std::make_shared<wallet::WalletService>(wallet::GetWalletDir(args), wallet::GetNetwork(args));
        service->LoadStartupWallets(args.GetArgs("wallet"));
    } catch (const std::exception& e) {
        return Fail(e.what());
    }

    ipc::Options options;
    options.role = "wallet";
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.max_message_size = static_cast<size_t>(args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
    if (std::string error; !ipc::AddIpcAllow(options.roles, args.GetArgs("ipcallow"), error)) return Fail(error);
    ipc::Server server(options);
    server.Serve<interfaces::WalletLoader>(service, wallet::WALLET_CALLER_ROLES);
    auto table = wallet::MakeRpcTable(*service);
    server.Serve<interfaces::RpcHost>(std::make_shared<rpc::TableHost>(table), interfaces::RPC_HOST_CALLERS);
    std::string endpoint = args.GetArg("ipcbind", DefaultEndpoint(args, "wallet"));
    if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6)); // stale socket of a dead run
    try {
        server.Bind(endpoint);
    } catch (const std::exception& e) {
        return Fail(e.what());
    }
    LogPrintf("Wallet interfaces on {} (wallets in {}, loaded: {})", server.Endpoint(),
              wallet::GetWalletDir(args).string(), Join(service->listWallets(), ", "));

    // The node may come later or go and come back: the wallet serves on meanwhile.
    wallet::NodeLink node(
        wallet::GetNodeEndpoint(args), wallet::NodeClientOptions(args), args.GetChain(),
        [service](const interfaces::ChainTip& tip) {
            service->SetLastProcessedBlock({tip.hash, tip.height});
        },
        [](const std::string&) { ::kill(::getpid(), SIGTERM); }); // a node of another network: stop, exit 1
    node.Start();
    rpc::RouterLink router("wallet", table, wallet::GetRpcRouterEndpoint(args), wallet::RpcRouterClientOptions(args));
    router.Start();

    WaitForShutdown(signals);
    router.Stop();
    node.Stop();
    server.Stop();
    if (endpoint.starts_with("ipc://")) std::filesystem::remove(endpoint.substr(6));
    service->CloseAll();
    LogPrintf("Shutdown done");
    if (!node.Refusal().empty()) {
        std::fprintf(stderr, "Error: %s\n", node.Refusal().c_str());
        return 1;
    }
    return 0;
}
