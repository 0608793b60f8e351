// orrery-wallet's start-up: its options, where its wallets live, the lock
// that keeps a second orrery-wallet away from the same wallets, and Run().
#ifndef ORRERY_SERVICES_WALLET_INIT_H
#define ORRERY_SERVICES_WALLET_INIT_H

#include <common/ipc/options.h>
#include <common/keys/network.h>
#include <common/util/args.h>
#include <services/wallet/spend_rules.h>

#include <filesystem>
#include <optional>
#include <string>

namespace orrery::wallet {

//! The common options plus -wallet, -walletdir, -disablewallet.
void AddArgs(ArgsManager& args);
//! bitcoind's sending options (-fallbackfee, -paytxfee, -mintxfee, -maxtxfee, -discardfee, -consolidatefeerate,
//! -txconfirmtarget, -walletrbf, -spendzeroconfchange, -avoidpartialspends). Throws std::runtime_error with
//! bitcoind's "Invalid amount for -<name>=<amount>: '...'".
SpendOptions GetSpendOptions(const ArgsManager& args);
//! -walletdir, or <net>/wallets.
std::filesystem::path GetWalletDir(const ArgsManager& args);
//! The key library's network for the chain the options chose.
Network GetNetwork(const ArgsManager& args);
//! -ipcconnect: where the node serves Chain (default <net>/run/node.sock).
std::string GetNodeEndpoint(const ArgsManager& args);
//! IPC settings of the wallet's client of the node's Chain.
ipc::Options NodeClientOptions(const ArgsManager& args);
//! -rpcrouterconnect: where the gui-bridge serves RpcRouter (default <net>/run/rpc-router.sock).
std::string GetRpcRouterEndpoint(const ArgsManager& args);
//! IPC settings of the wallet's client of the bridge's RpcRouter.
ipc::Options RpcRouterClientOptions(const ArgsManager& args);

//! Runs orrery-wallet until SIGTERM or SIGINT: loads its wallets, serves WalletLoader and
//! Wallet on -ipcbind (default <net>/run/wallet.sock) to the roles allowed to ask, follows the
//! node's Chain on -ipcconnect (default <net>/run/node.sock). Returns the exit code (1 when it
//! cannot start, or when the node serves another network).
int Run(const ArgsManager& args);

//! Holds <walletdir>/.walletlock (flock) for the process's life.
class WalletDirLock
{
public:
    //! Creates the folder (0700) if needed and takes the lock; Error() says why not.
    explicit WalletDirLock(const std::filesystem::path& wallet_dir);
    ~WalletDirLock();
    WalletDirLock(const WalletDirLock&) = delete;
    WalletDirLock& operator=(const WalletDirLock&) = delete;
    //! Empty when the lock is held.
    const std::string& Error() const { return m_error; }

private:
    int m_fd{-1};
    std::string m_error;
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_INIT_H
