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
#include <services/wallet/node_link.h>
#include <services/wallet/spend_rules.h>

#include <atomic>
#include <functional>

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

//! Thread-safe: IPC calls arrive on several threads; the chain's news come from the NodeLink's thread.
class WalletService final : public interfaces::WalletLoader, public ChainHandler
{
public:
    //! `wallets_dir` must exist (0700); nothing is loaded yet. `keypool_size`: -keypool.
    WalletService(std::filesystem::path wallets_dir, Network network, int64_t keypool_size = DEFAULT_KEYPOOL_SIZE);
    ~WalletService() override;

    //! Loads the wallets of -wallet (`names`) and of the settings file; on a
    //! first start (no wallet on disk, none named) creates and loads "default".
    //! A missing wallet is skipped with a warning, as bitcoind does; other
    //! failures throw.
    void LoadStartupWallets(const std::vector<std::string>& names);
    //! Closes every wallet at shutdown; the start-up list keeps them for the next run.
    void CloseAll();
    //! How the service reaches the node: the Chain while connected (nullptr otherwise), and a way to ask the link to
    //! catch up (after a wallet is loaded). Set once before serving.
    void SetNode(std::function<std::shared_ptr<interfaces::Chain>()> get_chain, std::function<void()> request_catch_up);
    //! Connected to a node of the wallet's network.
    bool NodeConnected() const { return m_node_connected.load(); }

    // ChainHandler: every loaded wallet follows the node (services/wallet/sync/chain_sync.h).
    void CatchUp(interfaces::Chain& chain) override;
    void BlockConnected(interfaces::Chain& chain, const interfaces::ChainBlock& block) override;
    void BlockDisconnected(interfaces::Chain& chain, const interfaces::ChainBlock& block) override;
    void TransactionAdded(const std::vector<uint8_t>& tx) override;
    void TransactionRemoved(const std::vector<uint8_t>& tx, const std::string& reason) override;
    void Tip(interfaces::Chain& chain, const interfaces::ChainTip& tip) override;
    void NodeLost() override;

    //! createwallet with its options; `load_on_startup` nullopt leaves the start-up list as createwallet does. `seed`:
    //! the BIP32 seed to use (a BIP39 mnemonic's) instead of a random one; with options.birth_time the wallet then
    //! reads the chain from that time instead of starting at the tip.
    std::string CreateWallet(const std::string& name, const WalletOptions& options,
                             std::optional<bool> load_on_startup = std::nullopt,
                             std::optional<std::span<const uint8_t>> seed = std::nullopt);
    std::string LoadWallet(const std::string& name, std::optional<bool> load_on_startup);
    //! backupwallet: a consistent copy of `wallet`'s file written beside `destination` and renamed onto it (a folder:
    //! the file <destination>/<wallet name>). RPC_WALLET_ERROR "Error: Wallet backup failed!" when it cannot be made.
    void BackupWallet(const std::string& wallet, const std::filesystem::path& destination);
    //! restorewallet: `backup_file` copied into a new wallet folder `name` and loaded; the folder is removed again if
    //! the copy does not load. bitcoind's errors for a missing backup and an existing wallet.
    void RestoreWallet(const std::string& name, const std::filesystem::path& backup_file,
                       std::optional<bool> load_on_startup);

    // WalletLoader
    std::string createWallet(std::string name) override;
    std::string loadWallet(std::string name) override;
    void unloadWallet(std::string name) override;
    std::vector<std::string> listWallets() override;
    std::vector<std::string> listWalletDir() override;

    // For the RPC methods. `wallet` "" means the only loaded one (no /wallet/<name> in the URL).

    //! A fresh receive address of `wallet`; bech32 (BIP84) when `address_type` is empty. `internal`: a change address.
    std::string GetNewAddress(const std::string& wallet, const std::string& label, const std::string& address_type,
                              bool internal = false);
    WalletInfo GetWalletInfo(const std::string& wallet);
    //! The wallet an RPC call names (bitcoind's GetWalletForJSONRPCRequest errors).
    std::shared_ptr<HdWallet> FindWallet(const std::string& name);
    //! The node's Chain; RPC_CLIENT_NOT_CONNECTED... bitcoind has none: RPC_WALLET_ERROR when the node is away.
    std::shared_ptr<interfaces::Chain> RequireChain();
    Network GetNetwork() const { return m_network; }
    int64_t KeypoolSize() const { return m_keypool_size; }
    //! bitcoind's wallet options for sending (-fallbackfee, -paytxfee, ...); set once before serving.
    void SetSpendOptions(const SpendOptions& options) { m_spend_options = options; }
    const SpendOptions& GetSpendOptions() const { return m_spend_options; }

private:
    std::vector<std::shared_ptr<HdWallet>> Wallets();
    //! The node's tip while connected: where a new wallet starts.
    std::optional<BlockRef> NodeTip() const;
    //! Runs `step` on every loaded wallet; a failure of one wallet is logged and the others go on.
    void ForEachWallet(const char* what, const std::function<void(HdWallet&)>& step);
    std::shared_ptr<HdWallet> LoadLocked(const std::string& name);
    std::vector<std::string> ReadStartupNames() const;
    void SetLoadOnStartupLocked(const std::string& name, bool load);
    std::filesystem::path WalletPath(const std::string& name) const { return m_wallets_dir / name; }

    const std::filesystem::path m_wallets_dir;
    const Network m_network;
    const int64_t m_keypool_size;
    SpendOptions m_spend_options;
    std::function<std::shared_ptr<interfaces::Chain>()> m_get_chain;
    std::function<void()> m_request_catch_up;
    std::atomic<bool> m_node_connected{false};
    //! Guards m_wallets and the settings file; held across create/load/unload
    //! so two callers cannot open the same file at once.
    mutable std::mutex m_mutex;
    //! Loaded wallets, in load order (listwallets keeps that order, as bitcoind does).
    std::vector<std::shared_ptr<HdWallet>> m_wallets;
    //! bitcoind's load_on_startup list: createwallet and loadwallet add, unloadwallet removes.
    std::vector<std::string> m_startup_names;

    mutable std::mutex m_tip_mutex;     //!< apart from m_mutex: a tip never waits for a wallet to load
    std::optional<BlockRef> m_node_tip; // guarded by m_tip_mutex: the node's tip as last heard (a new wallet's start)
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_WALLET_SERVICE_H
