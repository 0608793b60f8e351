// orrery-wallet's wallets in one folder: WalletLoader (create, load, unload,
// list) served over IPC, and what the wallet's RPC methods (services/wallet/rpc/)
// ask of a wallet (addresses, info), with bitcoind's error codes and messages. The set of loaded wallets is remembered
// in <walletdir>/settings.json so that a restarted wallet comes back as it was.
#ifndef ORRERY_SERVICES_WALLET_WALLET_SERVICE_H
#define ORRERY_SERVICES_WALLET_WALLET_SERVICE_H

#include <common/interfaces/roles.h>
#include <common/interfaces/wallet.h>
#include <common/keys/network.h>
#include <services/wallet/hd_wallet.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace orrery::wallet {

//! The roles that may call WalletLoader and the wallet's RPC methods (RpcHost) on its endpoint: the
//! key-holding process answers only the one that relays a user's request (common/interfaces/roles.h).
inline const std::vector<std::string>& WALLET_CALLER_ROLES = interfaces::WALLET_CALLERS;
//! The wallet created on a first start, when the folder holds no wallet at all.
inline constexpr std::string_view DEFAULT_WALLET_NAME{"default"};
//! In the wallets folder: the names to load at start-up, as {"wallet": [...]} (bitcoind's settings key).
inline constexpr std::string_view SETTINGS_FILE_NAME{"settings.json"};

//! Empty when `name` may name a wallet folder, otherwise why not.
std::string CheckWalletName(std::string_view name);

//! Thread-safe: IPC calls arrive on several threads.
class WalletService final : public interfaces::WalletLoader
{
public:
    //! `wallets_dir` must exist (0700); nothing is loaded yet.
    WalletService(std::filesystem::path wallets_dir, Network network);
    ~WalletService() override;

    //! Loads the wallets of -wallet (`names`) and of the settings file; on a
    //! first start (no wallet on disk, none named) creates and loads "default".
    //! A missing wallet is skipped with a warning, as bitcoind does; other
    //! failures throw.
    void LoadStartupWallets(const std::vector<std::string>& names);
    //! Closes every wallet at shutdown; the start-up list keeps them for the next run.
    void CloseAll();
    //! The node's tip as the wallet last heard it; getwalletinfo shows it as lastprocessedblock.
    void SetLastProcessedBlock(BlockRef block);

    // WalletLoader
    std::string createWallet(std::string name) override;
    std::string loadWallet(std::string name) override;
    void unloadWallet(std::string name) override;
    std::vector<std::string> listWallets() override;
    std::vector<std::string> listWalletDir() override;

    // For the RPC methods. `wallet` "" means the only loaded one (no /wallet/<name> in the URL).

    //! A fresh receive address of `wallet`; bech32 (BIP84) when `address_type` is empty.
    std::string GetNewAddress(const std::string& wallet, const std::string& label, const std::string& address_type);
    WalletInfo GetWalletInfo(const std::string& wallet);

private:
    std::shared_ptr<HdWallet> FindWallet(const std::string& name);
    std::shared_ptr<HdWallet> LoadLocked(const std::string& name);
    std::vector<std::string> ReadStartupNames() const;
    void SetLoadOnStartupLocked(const std::string& name, bool load);
    std::filesystem::path WalletPath(const std::string& name) const { return m_wallets_dir / name; }

    const std::filesystem::path m_wallets_dir;
    const Network m_network;
    //! Guards m_wallets and the settings file; held across create/load/unload
    //! so two callers cannot open the same file at once.
    mutable std::mutex m_mutex;
    //! Loaded wallets, in load order (listwallets keeps that order, as bitcoind does).
    std::vector<std::shared_ptr<HdWallet>> m_wallets;
    //! bitcoind's load_on_startup list: createwallet and loadwallet add, unloadwallet removes.
    std::vector<std::string> m_startup_names;

    mutable std::mutex m_tip_mutex; //!< apart from m_mutex: a tip never waits for a wallet to load
    std::optional<BlockRef> m_last_processed_block; // guarded by m_tip_mutex
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_WALLET_SERVICE_H
