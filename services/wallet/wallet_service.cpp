// The wallets of one folder; see wallet_service.h.
#include <services/wallet/wallet_service.h>

#include <common/rpc/protocol.h>
#include <common/util/fs.h>
#include <common/util/logging.h>

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

WalletService::WalletService(std::filesystem::path wallets_dir, Network network)
    : m_wallets_dir(std::move(wallets_dir)), m_network(network)
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
        m_wallets.push_back(HdWallet::Create(DatabaseFile(dir), name, m_network));
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
        return HdWallet::Load(DatabaseFile(dir), name, m_network);
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
        wallet = HdWallet::Create(DatabaseFile(dir), name, m_network);
    } catch (const DatabaseError& e) {
        throw RpcException(rpc::RPC_WALLET_ERROR, e.what());
    }
    SyncDir(dir);
    SyncDir(m_wallets_dir);
    m_wallets.push_back(wallet);
    SetLoadOnStartupLocked(name, true);
    LogPrintf("Created wallet \"{}\" (fingerprint {})", name, wallet->GetInfo().master_fingerprint);
    return name;
}

std::string WalletService::loadWallet(std::string name)
{
    if (std::string invalid = CheckWalletName(name); !invalid.empty()) {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, invalid);
    }
    std::lock_guard lock(m_mutex);
    if (std::any_of(m_wallets.begin(), m_wallets.end(), [&](const auto& w) { return w->Name() == name; })) {
        throw RpcException(rpc::RPC_WALLET_ALREADY_LOADED, fmt::format("Wallet \"{}\" is already loaded.", name));
    }
    m_wallets.push_back(LoadLocked(name));
    SetLoadOnStartupLocked(name, true);
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
                                         const std::string& address_type)
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
    try {
        std::string address = wallet->GetNewAddress(type, label);
        LogDebug(LogCategory::WALLET, "Wallet \"{}\" handed out {} address {}", wallet->Name(), OutputTypeName(type),
                 address);
        return address;
    } catch (const DatabaseError& e) {
        throw RpcException(rpc::RPC_WALLET_ERROR, e.what());
    }
}

void WalletService::SetLastProcessedBlock(BlockRef block)
{
    std::lock_guard lock(m_tip_mutex);
    m_last_processed_block = std::move(block);
}

WalletInfo WalletService::GetWalletInfo(const std::string& wallet_name)
{
    WalletInfo info = FindWallet(wallet_name)->GetInfo();
    std::lock_guard lock(m_tip_mutex);
    info.last_processed_block = m_last_processed_block;
    return info;
}

} // namespace orrery::wallet
