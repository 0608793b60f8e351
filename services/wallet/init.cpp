// orrery-wallet's start-up pieces; see init.h.
#include <services/wallet/init.h>

#include <common/util/fs.h>
#include <common/util/init.h>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace orrery::wallet {

void AddArgs(ArgsManager& args)
{
    AddCommonArgs(args);
    args.AddArg("-wallet=<name>", "Load the wallet <name> at start-up (repeatable); it must exist in -walletdir",
                ARG_NETWORK_ONLY);
    args.AddArg("-walletdir=<dir>", "Folder of the wallets (default: <net>/wallets)", ARG_NETWORK_ONLY);
    args.AddArg("-supervisorconnect=<endpoint>",
                "Where orreryd serves, to check that a process it started calls as what it was started as (given "
                "by orreryd; by hand, callers are checked by uid, see -ipcallow)",
                ARG_NETWORK_ONLY);
    args.AddArg("-disablewallet", "Do not run the wallet (orreryd then does not start orrery-wallet)");
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

} // namespace orrery::wallet
