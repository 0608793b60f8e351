// The wallets of one folder; see wallet_service.h.
#include <services/wallet/wallet_service.h>

#include <common/ipc/error.h>
#include <common/rpc/protocol.h>
#include <common/util/fs.h>
#include <common/util/logging.h>
#include <services/wallet/spend.h>
#include <services/wallet/sync/chain_sync.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

namespace orrery::wallet {

using rpc::RpcException;

namespace {

//! Makes a new directory entry durable: fsync of the folder that holds it.
void SyncDir(const std::filesystem::path& dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

std::filesystem::path DatabaseFile(const std::filesystem::path& wallet_dir)
{
    return wallet_dir / DATABASE_FILE_NAME;
}

constexpr const char* VERIFICATION_FAILED = "Wallet file verification failed. ";

//! Creates an empty file with mode 0600 (a copy of a wallet is as secret as the wallet); false if it exists or
//! cannot be made.
bool CreatePrivateFile(const std::filesystem::path& path)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

//! Flushes a file's data to the disk.
bool SyncFile(const std::filesystem::path& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    return synced;
}

} // namespace

std::string CheckWalletName(std::string_view name)
{
    if (name.empty()) return "Wallet name cannot be empty";
    if (name == "." || name == "..") return fmt::format("Invalid wallet name '{}'", name);
    if (name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos) {
        return fmt::format("Invalid wallet name '{}': a wallet name cannot contain a path separator", name);
    }
    return {};
}

WalletService::WalletService(std::filesystem::path wallets_dir, Network network, int64_t keypool_size)
    : m_wallets_dir(std::move(wallets_dir)), m_network(network), m_keypool_size(keypool_size)
{
    m_startup_names = ReadStartupNames();
}

WalletService::~WalletService()
{
    CloseAll();
}

void WalletService::CloseAll()
{
    std::lock_guard lock(m_mutex);
    for (const auto& wallet : m_wallets) LogPrintf("Closing wallet \"{}\"", wallet->Name());
    m_wallets.clear();
}

// ---- start-up list

std::vector<std::string> WalletService::ReadStartupNames() const
{
    std::filesystem::path path = m_wallets_dir / SETTINGS_FILE_NAME;
    std::optional<std::string> text = ReadFileToString(path);
    if (!text) return {};
    nlohmann::json settings = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (settings.is_discarded() || !settings.is_object()) {
        throw std::runtime_error(fmt::format("Settings file {} could not be parsed", path.string()));
    }
    std::vector<std::string> names;
    auto it = settings.find("wallet");
    if (it == settings.end()) return names;
    if (!it->is_array())
        throw std::runtime_error(fmt::format("Settings file {}: \"wallet\" is not a list", path.string()));
    for (const auto& name : *it) {
        if (name.is_string()) names.push_back(name.get<std::string>());
    }
    return names;
}

void WalletService::SetLoadOnStartupLocked(const std::string& name, bool load)
{
    auto it = std::find(m_startup_names.begin(), m_startup_names.end(), name);
    if (load == (it != m_startup_names.end())) return;
    if (load) {
        m_startup_names.push_back(name);
    } else {
        m_startup_names.erase(it);
    }
    nlohmann::json settings = nlohmann::json::object();
    settings["wallet"] = m_startup_names;
    if (auto failure = WritePrivateFile(m_wallets_dir / SETTINGS_FILE_NAME, settings.dump(4) + "\n")) {
        // The wallet itself is fine; only the next start would not reload it.
        LogPrintf("Warning: cannot save the wallets to load on start-up: {}", *failure);
    }
}

void WalletService::LoadStartupWallets(const std::vector<std::string>& names)
{
    std::lock_guard lock(m_mutex);
    std::vector<std::string> wanted = names;
    for (const auto& name : m_startup_names) {
        if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) wanted.push_back(name);
    }
    bool any_on_disk = false;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(m_wallets_dir, ec)) {
        if (std::filesystem::exists(DatabaseFile(entry.path()))) any_on_disk = true;
    }
    if (wanted.empty() && !any_on_disk) {
        std::string name(DEFAULT_WALLET_NAME);
        std::filesystem::path dir = WalletPath(name);
        if (auto failure = EnsurePrivateDir(dir)) throw std::runtime_error(*failure);
        WalletOptions options;
        options.keypool_size = m_keypool_size;
        m_wallets.push_back(HdWallet::Create(DatabaseFile(dir), name, m_network, std::nullopt, options, NodeTip()));
        SyncDir(m_wallets_dir);
        SetLoadOnStartupLocked(name, true);
        LogPrintf("Created wallet \"{}\" on first start (fingerprint {})", name,
                  m_wallets.back()->GetInfo().master_fingerprint);
        return;
    }
    for (const auto& name : wanted) {
        if (std::string invalid = CheckWalletName(name); !invalid.empty()) {
            LogPrintf("Warning: Skipping wallet: {}", invalid);
            continue;
        }
        if (std::any_of(m_wallets.begin(), m_wallets.end(), [&](const auto& w) { return w->Name() == name; })) continue;
        if (!std::filesystem::exists(WalletPath(name))) {
            LogPrintf("Warning: Skipping -wallet path that doesn't exist. Failed to load database path '{}'. Path "
                      "does not exist.",
                      WalletPath(name).string());
            continue;
        }
        try {
            m_wallets.push_back(LoadLocked(name));
        } catch (const ipc::Error& e) {
            throw std::runtime_error(e.what());
        }
        LogPrintf("Loaded wallet \"{}\"", name);
    }
}

// ---- WalletLoader

std::shared_ptr<HdWallet> WalletService::LoadLocked(const std::string& name)
{
    std::filesystem::path dir = WalletPath(name);
    if (!std::filesystem::exists(dir)) {
        throw RpcException(rpc::RPC_WALLET_NOT_FOUND,
                           fmt::format("{}Failed to load database path '{}'. Path does not exist.", VERIFICATION_FAILED,
                                       dir.string()));
    }
    if (!std::filesystem::exists(DatabaseFile(dir))) {
        throw RpcException(rpc::RPC_WALLET_NOT_FOUND,
                           fmt::format("{}Failed to load database path '{}'. Data is not in recognized format.",
                                       VERIFICATION_FAILED, dir.string()));
    }
    try {
        auto wallet = HdWallet::Load(DatabaseFile(dir), name, m_network, m_keypool_size);
        if (m_request_catch_up) m_request_catch_up(); // it resumes from its own last block
        return wallet;
    } catch (const DatabaseError& e) {
        if (e.kind() == DatabaseError::BAD_FORMAT) {
            throw RpcException(rpc::RPC_WALLET_NOT_FOUND,
                               fmt::format("{}Failed to load database path '{}'. Data is not in recognized format.",
                                           VERIFICATION_FAILED, dir.string()));
        }
        throw RpcException(rpc::RPC_WALLET_ERROR, e.what());
    }
}

std::string WalletService::createWallet(std::string name)
{
    WalletOptions options;
    options.keypool_size = m_keypool_size;
    return CreateWallet(name, options);
}

std::string WalletService::CreateWallet(const std::string& name, const WalletOptions& options,
                                        std::optional<bool> load_on_startup,
                                        std::optional<std::span<const uint8_t>> seed)
{
    if (std::string invalid = CheckWalletName(name); !invalid.empty()) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, invalid);
    }
    std::lock_guard lock(m_mutex);
    std::filesystem::path dir = WalletPath(name);
    if (std::filesystem::exists(DatabaseFile(dir)) ||
        (std::filesystem::exists(dir) && !std::filesystem::is_directory(dir))) {
        throw RpcException(rpc::RPC_WALLET_ALREADY_EXISTS,
                           fmt::format("{}Failed to create database path '{}'. Database already exists.",
                                       VERIFICATION_FAILED, dir.string()));
    }
    if (auto failure = EnsurePrivateDir(dir)) {
        throw RpcException(rpc::RPC_WALLET_ERROR, fmt::format("{}Failed to create database path '{}'. {}",
                                                              VERIFICATION_FAILED, dir.string(), *failure));
    }
    std::shared_ptr<HdWallet> wallet;
    try {
        // A new wallet with keys of its own starts at the node's tip: nothing older can pay it. A blank or
        // watch-only one gets its keys later (importdescriptors rescans for them).
        WalletOptions with_pool = options;
        with_pool.keypool_size = m_keypool_size;
        // Keys born before now (a restored mnemonic) start with no processed block: the wallet reads the chain
        // from their birth.
        wallet = HdWallet::Create(DatabaseFile(dir), name, m_network, seed, with_pool,
                                  options.birth_time ? std::nullopt : NodeTip());
        MemoryCleanse(with_pool.passphrase.data(), with_pool.passphrase.size());
    } catch (const DatabaseError& e) {
        throw RpcException(rpc::RPC_WALLET_ERROR, e.what());
    }
    SyncDir(dir);
    SyncDir(m_wallets_dir);
    m_wallets.push_back(wallet);
    if (load_on_startup.value_or(true)) SetLoadOnStartupLocked(name, true);
    LogPrintf("Created wallet \"{}\" (fingerprint {})", name, wallet->GetInfo().master_fingerprint);
    if (m_request_catch_up) m_request_catch_up();
    return name;
}

void WalletService::BackupWallet(const std::string& wallet_name, const std::filesystem::path& destination)
{
    std::shared_ptr<HdWallet> wallet = FindWallet(wallet_name);
    std::error_code ec;
    std::filesystem::path target = std::filesystem::absolute(destination, ec);
    if (std::filesystem::is_directory(target, ec)) target /= wallet->Name();
    // Written under another name and renamed: the destination is never a torn copy, even after a crash.
    const std::filesystem::path partial =
        target.parent_path() / fmt::format(".{}.backup-{}.tmp", target.filename().string(), ::getpid());
    bool done = false;
    if (CreatePrivateFile(partial)) {
        try {
            wallet->Backup(partial);
            done = SyncFile(partial) && ::rename(partial.c_str(), target.c_str()) == 0;
        } catch (const DatabaseError& e) {
            LogPrintf("Wallet \"{}\": backup to {} failed: {}", wallet->Name(), target.string(), e.what());
        }
        if (!done) std::filesystem::remove(partial, ec);
    }
    if (!done) throw RpcException(rpc::RPC_WALLET_ERROR, "Error: Wallet backup failed!");
    SyncDir(target.parent_path());
    LogPrintf("Wallet \"{}\" backed up to {}", wallet->Name(), target.string());
}

void WalletService::RestoreWallet(const std::string& name, const std::filesystem::path& backup_file,
                                  std::optional<bool> load_on_startup)
{
    if (std::string invalid = CheckWalletName(name); !invalid.empty()) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, invalid);
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(backup_file, ec)) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, "Backup file does not exist");
    }
    std::lock_guard lock(m_mutex);
    const std::filesystem::path dir = WalletPath(name);
    if (std::filesystem::exists(dir, ec)) {
        throw RpcException(rpc::RPC_WALLET_ALREADY_EXISTS,
                           fmt::format("Failed to create database path '{}'. Database already exists.", dir.string()));
    }
    if (auto failure = EnsurePrivateDir(dir)) {
        throw RpcException(rpc::RPC_WALLET_ERROR,
                           fmt::format("Failed to create database path '{}'. {}", dir.string(), *failure));
    }
    std::shared_ptr<HdWallet> wallet;
    try {
        const std::filesystem::path file = DatabaseFile(dir);
        if (!CreatePrivateFile(file)) throw RpcException(rpc::RPC_WALLET_ERROR, "Cannot create the wallet file");
        std::filesystem::copy_file(backup_file, file, std::filesystem::copy_options::overwrite_existing);
        if (!SyncFile(file)) throw RpcException(rpc::RPC_WALLET_ERROR, "Cannot write the wallet file");
        SyncDir(dir);
        SyncDir(m_wallets_dir);
        wallet = LoadLocked(name);
    } catch (const std::filesystem::filesystem_error& e) {
        std::filesystem::remove_all(dir, ec);
        throw RpcException(rpc::RPC_WALLET_ERROR, fmt::format("Cannot copy the backup: {}", e.what()));
    } catch (...) {
        std::filesystem::remove_all(dir, ec); // bitcoind removes what a failed restore left
        throw;
    }
    m_wallets.push_back(wallet);
    if (load_on_startup.value_or(true)) SetLoadOnStartupLocked(name, true);
    LogPrintf("Restored wallet \"{}\" from {}", name, backup_file.string());
}

std::string WalletService::loadWallet(std::string name)
{
    return LoadWallet(name, std::nullopt);
}

std::string WalletService::LoadWallet(const std::string& name, std::optional<bool> load_on_startup)
{
    if (std::string invalid = CheckWalletName(name); !invalid.empty()) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, invalid);
    }
    std::lock_guard lock(m_mutex);
    if (std::any_of(m_wallets.begin(), m_wallets.end(), [&](const auto& w) { return w->Name() == name; })) {
        throw RpcException(rpc::RPC_WALLET_ALREADY_LOADED, fmt::format("Wallet \"{}\" is already loaded.", name));
    }
    m_wallets.push_back(LoadLocked(name));
    if (load_on_startup.value_or(true)) SetLoadOnStartupLocked(name, true);
    LogPrintf("Loaded wallet \"{}\"", name);
    return name;
}

void WalletService::unloadWallet(std::string name)
{
    std::shared_ptr<HdWallet> wallet;
    {
        std::lock_guard lock(m_mutex);
        auto it = std::find_if(m_wallets.begin(), m_wallets.end(), [&](const auto& w) { return w->Name() == name; });
        if (it == m_wallets.end()) {
            throw RpcException(rpc::RPC_WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded");
        }
        wallet = *it;
        m_wallets.erase(it);
        SetLoadOnStartupLocked(name, false);
    }
    // Like bitcoind, return only once the file is closed, so that loading it
    // again right away cannot meet its lock: wait for calls still using it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (wallet.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    wallet.reset();
    LogPrintf("Unloaded wallet \"{}\"", name);
}

std::vector<std::string> WalletService::listWallets()
{
    std::lock_guard lock(m_mutex);
    std::vector<std::string> names;
    for (const auto& wallet : m_wallets) names.push_back(wallet->Name());
    return names;
}

std::vector<std::string> WalletService::listWalletDir()
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(m_wallets_dir, ec)) {
        std::string name = entry.path().filename().string();
        if (entry.is_directory(ec) && CheckWalletName(name).empty() &&
            std::filesystem::exists(DatabaseFile(entry.path()), ec)) {
            names.push_back(std::move(name));
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

// ---- for the RPC methods

std::shared_ptr<HdWallet> WalletService::FindWallet(const std::string& name)
{
    std::lock_guard lock(m_mutex);
    if (!name.empty()) {
        for (const auto& wallet : m_wallets) {
            if (wallet->Name() == name) return wallet;
        }
        throw RpcException(rpc::RPC_WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded");
    }
    if (m_wallets.size() == 1) return m_wallets.front();
    if (m_wallets.empty()) {
        throw RpcException(rpc::RPC_WALLET_NOT_FOUND,
                           "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. "
                           "(Note: A default wallet is no longer automatically created)");
    }
    throw RpcException(rpc::RPC_WALLET_NOT_SPECIFIED,
                       "Multiple wallets are loaded. Please select which wallet to use by requesting the RPC through "
                       "the /wallet/<walletname> URI path.");
}

std::string WalletService::GetNewAddress(const std::string& wallet_name, const std::string& label,
                                         const std::string& address_type, bool internal)
{
    std::shared_ptr<HdWallet> wallet = FindWallet(wallet_name);
    if (label == "*") throw RpcException(rpc::RPC_WALLET_INVALID_LABEL_NAME, "Invalid label name");
    OutputType type = DEFAULT_OUTPUT_TYPE;
    if (!address_type.empty()) {
        std::optional<OutputType> parsed = ParseOutputType(address_type);
        if (!parsed) {
            throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, fmt::format("Unknown address type '{}'", address_type));
        }
        type = *parsed;
    }
    std::optional<std::string> address;
    try {
        address = wallet->GetNewAddress(type, label, internal);
    } catch (const DatabaseError& e) {
        throw RpcException(rpc::RPC_WALLET_ERROR, e.what());
    }
    if (!address) {
        // bitcoind's messages for a wallet without keys of that kind.
        if (wallet->GetInfo().flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS && wallet->GetDescriptors().empty()) {
            throw RpcException(rpc::RPC_WALLET_ERROR, "Error: This wallet has no available keys");
        }
        throw RpcException(rpc::RPC_WALLET_ERROR,
                           internal ? "Error: This wallet has no available keys"
                                    : fmt::format("Error: No {} addresses available.", OutputTypeName(type)));
    }
    LogDebug(LogCategory::WALLET, "Wallet \"{}\" handed out {} {}address {}", wallet->Name(), OutputTypeName(type),
             internal ? "change " : "", *address);
    return *address;
}

WalletInfo WalletService::GetWalletInfo(const std::string& wallet_name)
{
    return FindWallet(wallet_name)->GetInfo();
}

std::optional<BlockRef> WalletService::NodeTip() const
{
    std::lock_guard lock(m_tip_mutex);
    if (!m_node_connected.load()) return std::nullopt;
    return m_node_tip;
}

std::shared_ptr<interfaces::Chain> WalletService::RequireChain()
{
    std::shared_ptr<interfaces::Chain> chain = m_get_chain ? m_get_chain() : nullptr;
    if (!chain) throw RpcException(rpc::RPC_WALLET_ERROR, "The wallet is not connected to its node");
    return chain;
}

void WalletService::SetNode(std::function<std::shared_ptr<interfaces::Chain>()> get_chain,
                            std::function<void()> request_catch_up)
{
    m_get_chain = std::move(get_chain);
    m_request_catch_up = std::move(request_catch_up);
}

// ---- following the chain

std::vector<std::shared_ptr<HdWallet>> WalletService::Wallets()
{
    std::lock_guard lock(m_mutex);
    return m_wallets;
}

void WalletService::ForEachWallet(const char* what, const std::function<void(HdWallet&)>& step)
{
    for (const auto& wallet : Wallets()) {
        try {
            step(*wallet);
        } catch (const ipc::Error& e) {
            const auto code = e.code();
            if (code == ipc::ErrorCode::DISCONNECTED || code == ipc::ErrorCode::TIMEOUT) throw; // the link retries
            LogPrintf("Wallet \"{}\": {} failed: {}", wallet->Name(), what, e.what());
        } catch (const std::exception& e) {
            LogPrintf("Wallet \"{}\": {} failed: {}", wallet->Name(), what, e.what());
        }
    }
}

void WalletService::CatchUp(interfaces::Chain& chain)
{
    m_node_connected = true;
    ForEachWallet("catching up with the node", [&](HdWallet& wallet) {
        orrery::wallet::CatchUp(wallet, chain);
        // Sends that were committed but never reached this node (a crash between the two, a node restart).
        ResubmitTransactions(wallet, chain);
    });
}

void WalletService::BlockConnected(interfaces::Chain& chain, const interfaces::ChainBlock& block)
{
    const Block decoded = DeserializeBlock(block.data);
    ForEachWallet("connecting a block", [&](HdWallet& wallet) { ApplyBlockConnected(wallet, chain, block, decoded); });
}

void WalletService::BlockDisconnected(interfaces::Chain& chain, const interfaces::ChainBlock& block)
{
    const Block decoded = DeserializeBlock(block.data);
    ForEachWallet("disconnecting a block",
                  [&](HdWallet& wallet) { ApplyBlockDisconnected(wallet, chain, block, decoded); });
}

void WalletService::TransactionAdded(const std::vector<uint8_t>& raw)
{
    const Transaction tx = DeserializeTransaction(raw);
    ForEachWallet("adding a mempool transaction", [&](HdWallet& wallet) { wallet.TransactionAddedToMempool(tx); });
}

void WalletService::TransactionRemoved(const std::vector<uint8_t>& raw, const std::string&)
{
    const Transaction tx = DeserializeTransaction(raw);
    ForEachWallet("removing a mempool transaction",
                  [&](HdWallet& wallet) { wallet.TransactionRemovedFromMempool(tx); });
}

void WalletService::Tip(interfaces::Chain& chain, const interfaces::ChainTip& tip)
{
    {
        std::lock_guard lock(m_tip_mutex);
        m_node_tip = BlockRef{tip.hash, tip.height};
    }
    m_node_connected = true;
    // Each step of the node ends with its tip: a wallet not there now missed something and catches up.
    ForEachWallet("following the tip", [&](HdWallet& wallet) {
        auto last = wallet.LastBlock();
        if (!last || last->hash != tip.hash) orrery::wallet::CatchUp(wallet, chain);
    });
}

void WalletService::NodeLost()
{
    m_node_connected = false;
    LogPrintf("Warning: the wallets lost their node; they answer with what they know until it is back");
}

} // namespace orrery::wallet
