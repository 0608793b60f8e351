// orrery-wallet's start-up pieces; see init.h.
#include <services/wallet/init.h>

#include <services/wallet/node_link.h>
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/wallet_service.h>

#include <common/interfaces/process_lookup.h>
#include <common/interfaces/roles.h>
#include <common/interfaces/rpc_ipc.h>
#include <common/interfaces/wallet_ipc.h>
#include <common/rpc/router_link.h>
#include <common/service/service.h>
#include <common/util/fs.h>
#include <common/util/init.h>
#include <common/util/logging.h>
#include <common/util/options.h>
#include <common/util/text.h>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace orrery::wallet {

void AddArgs(ArgsManager& args)
{
    AddOptions(args, PROCESS_WALLET);
    args.AddArg("-supervisorconnect=<endpoint>",
                "Where orreryd serves, to check that a process it started calls as what it was started as (given "
                "by orreryd; by hand, callers are checked by uid, see -ipcallow)",
                ARG_NETWORK_ONLY);
    args.AddArg("-rpcrouterconnect=<endpoint>",
                "Where orrery-gui-bridge serves RpcRouter, to offer the wallet's RPC methods (default: "
                "ipc://<net>/run/rpc-router.sock)",
                ARG_NETWORK_ONLY);
}

std::filesystem::path GetWalletDir(const ArgsManager& args)
{
    std::filesystem::path dir = args.GetArg("walletdir", "");
    if (dir.empty()) return args.GetDataDirNet() / "wallets";
    if (dir.is_relative()) dir = args.GetDataDirNet() / dir;
    return dir;
}

Network GetNetwork(const ArgsManager& args)
{
    return ParseNetworkName(args.GetChain()).value_or(Network::MAIN);
}

std::string GetNodeEndpoint(const ArgsManager& args)
{
    return args.GetArg("ipcconnect", DefaultEndpoint(args, "node"));
}

ipc::Options NodeClientOptions(const ArgsManager& args)
{
    ipc::Options options;
    options.role = "wallet";
    options.interfaces = {"chain"};
    options.server_role = "node";
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.connect_timeout = std::chrono::milliseconds(1000);
    options.max_message_size = static_cast<size_t>(args.GetIntArg("ipcmaxmessagesize", ipc::DEFAULT_MAX_MESSAGE_SIZE));
    return options;
}

WalletDirLock::WalletDirLock(const std::filesystem::path& wallet_dir)
{
    if (auto failure = EnsurePrivateDir(wallet_dir)) {
        m_error = *failure;
        return;
    }
    std::string path = (wallet_dir / ".walletlock").string();
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0 || ::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
        m_error = fmt::format("Cannot obtain a lock on wallet directory {}. Another orrery-wallet is probably "
                              "already using it.",
                              wallet_dir.string());
    }
}

WalletDirLock::~WalletDirLock()
{
    if (m_fd >= 0) ::close(m_fd);
}

SpendOptions GetSpendOptions(const ArgsManager& args)
{
    SpendOptions options;
    auto amount = [&](const char* name, Amount& out) {
        if (!args.IsArgSet(name)) return;
        const std::string text = args.GetArg(name, "");
        auto parsed = ParseMoney(text);
        if (!parsed) throw std::runtime_error(fmt::format("Invalid amount for -{}=<amount>: '{}'", name, text));
        out = *parsed;
    };
    amount("fallbackfee", options.fallback_fee.per_kvb);
    amount("paytxfee", options.pay_tx_fee.per_kvb);
    amount("mintxfee", options.min_tx_fee.per_kvb);
    amount("maxtxfee", options.max_tx_fee);
    amount("discardfee", options.discard_fee.per_kvb);
    amount("consolidatefeerate", options.consolidate_fee.per_kvb);
    options.tx_confirm_target = args.GetIntArg("txconfirmtarget", options.tx_confirm_target);
    if (options.tx_confirm_target < 1) throw std::runtime_error("-txconfirmtarget must be at least 1");
    options.signal_rbf = args.GetBoolArg("walletrbf", options.signal_rbf);
    options.spend_zero_conf_change = args.GetBoolArg("spendzeroconfchange", options.spend_zero_conf_change);
    options.avoid_partial_spends = args.GetBoolArg("avoidpartialspends", options.avoid_partial_spends);
    return options;
}

std::string GetRpcRouterEndpoint(const ArgsManager& args)
{
    return args.GetArg("rpcrouterconnect", DefaultEndpoint(args, "rpc-router"));
}

ipc::Options RpcRouterClientOptions(const ArgsManager& args)
{
    ipc::Options options = NodeClientOptions(args);
    options.interfaces = {"rpcRouter"};
    options.server_role = "gui-bridge";
    return options;
}

int Run(const ArgsManager& args)
{
    ServiceProcess process(args, "wallet"); // before the IPC threads start: they inherit its signal mask
    if (args.GetBoolArg("disablewallet", false))
        return process.Fail("-disablewallet is set: orrery-wallet does not run");
    WalletDirLock lock(GetWalletDir(args));
    if (!lock.Error().empty()) return process.Fail(lock.Error());
    std::shared_ptr<WalletService> service;
    try {
        const int64_t keypool = args.GetIntArg("keypool", DEFAULT_KEYPOOL_SIZE);
        if (keypool < 1) return process.Fail("-keypool must be at least 1");
        service = std::make_shared<WalletService>(GetWalletDir(args), GetNetwork(args), keypool);
        service->SetSpendOptions(GetSpendOptions(args));
        service->LoadStartupWallets(args.GetArgs("wallet"));
    } catch (const std::exception& e) {
        return process.Fail(e.what());
    }
    // The node may come later or go and come back: the wallet serves on meanwhile.
    NodeLink node(GetNodeEndpoint(args), NodeClientOptions(args), args.GetChain(), service,
                  [](const std::string&) { ::kill(::getpid(), SIGTERM); }); // a node of another network: stop, exit 1
    service->SetNode([&node] { return node.GetChain(); }, [&node] { node.RequestCatchUp(); });
    auto table = MakeRpcTable(*service);
    std::shared_ptr<interfaces::OrrerydProcesses> processes; // under orreryd: its callers are who it started
    try {
        ipc::Options options = process.IpcOptions();
        if (args.IsArgSet("supervisorconnect")) {
            processes = std::make_shared<interfaces::OrrerydProcesses>(args.GetArg("supervisorconnect", ""), options);
            options.roles.SetProcessLookup(processes->Lookup());
        }
        ipc::Server& server = process.MakeServer(std::move(options));
        server.Serve<interfaces::WalletLoader>(service, WALLET_CALLER_ROLES);
        server.Serve<interfaces::RpcHost>(std::make_shared<rpc::TableHost>(table), interfaces::RPC_HOST_CALLERS);
        process.Bind();
    } catch (const std::exception& e) {
        return process.Fail(e.what());
    }
    LogPrintf("Wallet interfaces on {} (wallets in {}, loaded: {})", process.Endpoint(), GetWalletDir(args).string(),
              Join(service->listWallets(), ", "));

    node.Start();
    rpc::RouterLink router("wallet", table, GetRpcRouterEndpoint(args), RpcRouterClientOptions(args));
    router.Start();

    process.WaitForShutdown();
    router.Stop();
    node.Stop();
    process.Stop();
    if (processes) processes->Stop();
    service->CloseAll();
    LogPrintf("Shutdown done");
    if (!node.Refusal().empty()) {
        std::fprintf(stderr, "Error: %s\n", node.Refusal().c_str());
        return 1;
    }
    return 0;
}

} // namespace orrery::wallet
