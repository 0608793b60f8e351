// WalletLoader and Wallet as orrery-wallet serves them, called in-process: the
// first start, bitcoind's errors (codes and messages), the start-up list kept
// across restarts, and addresses that never repeat.
#include "test_util.h"
#include <services/wallet/wallet_service.h>

#include <common/rpc/protocol.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sys/stat.h>

using namespace orrery;
using namespace orrery::wallet;

namespace {

using orrery::test::FileMode;
using orrery::test::TempDir;

//! Receive addresses handed out: the next indexes of the external descriptors.
int64_t HandedOut(WalletService& service, const std::string& wallet)
{
    int64_t count = 0;
    for (const auto& d : service.FindWallet(wallet)->GetDescriptors()) {
        if (!d.internal) count += d.next_index;
    }
    return count;
}

std::unique_ptr<WalletService> Start(const std::filesystem::path& dir, const std::vector<std::string>& names = {})
{
    auto service = std::make_unique<WalletService>(dir, Network::REGTEST, /*keypool_size=*/10);
    service->LoadStartupWallets(names);
    return service;
}

//! Runs `call` and returns the RPC error it throws.
template <typename F> std::pair<int32_t, std::string> ErrorOf(F call)
{
    try {
        call();
    } catch (const ipc::Error& e) {
        return {static_cast<int32_t>(e.code()), e.what()};
    }
    FAIL("no error was thrown");
    return {};
}

} // namespace

TEST_CASE("a first start creates and loads the wallet named default, privately")
{
    TempDir dir;
    auto service = Start(dir.path);
    CHECK(service->listWallets() == std::vector<std::string>{"default"});
    CHECK(FileMode(dir.path / "default") == 0700);
    CHECK(FileMode(dir.path / "default" / "wallet.sqlite") == 0600);
    auto info = service->GetWalletInfo("");
    CHECK(info.name == "default");
    CHECK(HandedOut(*service, "") == 0);
    CHECK(info.keypool_size == 40);
    CHECK(info.keypool_size_internal == 40);
    CHECK(info.master_fingerprint.size() == 8);
}

TEST_CASE("addresses are bech32 on regtest by default, never repeat, and continue after a restart")
{
    TempDir dir;
    std::set<std::string> seen;
    {
        auto service = Start(dir.path);
        for (int i = 0; i < 5; ++i) {
            std::string address = service->GetNewAddress("", "", "");
            CHECK(address.starts_with("bcrt1q"));
            CHECK(seen.insert(address).second);
        }
        CHECK(service->GetNewAddress("default", "", "legacy").find_first_of("mn") == 0);
        CHECK(service->GetNewAddress("default", "", "p2sh-segwit").starts_with("2"));
        CHECK(service->GetNewAddress("default", "", "bech32m").starts_with("bcrt1p"));
        CHECK(HandedOut(*service, "default") == 8);
    }
    auto service = Start(dir.path);
    CHECK(service->listWallets() == std::vector<std::string>{"default"});
    for (int i = 0; i < 5; ++i) CHECK(seen.insert(service->GetNewAddress("", "label", "bech32")).second);
    CHECK(HandedOut(*service, "") == 13);
}

TEST_CASE("two wallets have different seeds")
{
    TempDir dir;
    auto service = Start(dir.path);
    CHECK(service->createWallet("second") == "second");
    CHECK(service->GetWalletInfo("default").master_fingerprint != service->GetWalletInfo("second").master_fingerprint);
    CHECK(service->GetNewAddress("default", "", "") != service->GetNewAddress("second", "", ""));
}

TEST_CASE("createwallet of an existing wallet fails as in bitcoind")
{
    TempDir dir;
    auto service = Start(dir.path);
    auto [code, message] = ErrorOf([&] { service->createWallet("default"); });
    CHECK(code == rpc::RPC_WALLET_ALREADY_EXISTS);
    CHECK(message == "Wallet file verification failed. Failed to create database path '" +
                         (dir.path / "default").string() + "'. Database already exists.");
    service->unloadWallet("default");
    CHECK(ErrorOf([&] { service->createWallet("default"); }).first == rpc::RPC_WALLET_ALREADY_EXISTS);
}

TEST_CASE("loadwallet of an unknown or loaded wallet fails as in bitcoind")
{
    TempDir dir;
    auto service = Start(dir.path);
    auto [code, message] = ErrorOf([&] { service->loadWallet("nope"); });
    CHECK(code == rpc::RPC_WALLET_NOT_FOUND);
    CHECK(message == "Wallet file verification failed. Failed to load database path '" + (dir.path / "nope").string() +
                         "'. Path does not exist.");
    auto loaded = ErrorOf([&] { service->loadWallet("default"); });
    CHECK(loaded.first == rpc::RPC_WALLET_ALREADY_LOADED);
    CHECK(loaded.second == "Wallet \"default\" is already loaded.");
    std::filesystem::create_directory(dir.path / "empty");
    auto empty = ErrorOf([&] { service->loadWallet("empty"); });
    CHECK(empty.first == rpc::RPC_WALLET_NOT_FOUND);
    CHECK(empty.second.ends_with("Data is not in recognized format."));
}

TEST_CASE("calls naming no loaded wallet fail as in bitcoind")
{
    TempDir dir;
    auto service = Start(dir.path);
    const std::string not_loaded = "Requested wallet does not exist or is not loaded";
    CHECK(ErrorOf([&] { service->unloadWallet("nope"); }) ==
          std::pair<int32_t, std::string>{rpc::RPC_WALLET_NOT_FOUND, not_loaded});
    CHECK(ErrorOf([&] { service->GetNewAddress("nope", "", ""); }) ==
          std::pair<int32_t, std::string>{rpc::RPC_WALLET_NOT_FOUND, not_loaded});
    CHECK(ErrorOf([&] { service->GetWalletInfo("nope"); }).first == rpc::RPC_WALLET_NOT_FOUND);

    service->createWallet("second");
    auto several = ErrorOf([&] { service->GetNewAddress("", "", ""); });
    CHECK(several.first == rpc::RPC_WALLET_NOT_SPECIFIED);
    CHECK(several.second == "Multiple wallets are loaded. Please select which wallet to use by requesting the RPC "
                            "through the /wallet/<walletname> URI path.");

    service->unloadWallet("second");
    service->unloadWallet("default");
    CHECK(service->listWallets().empty());
    auto none = ErrorOf([&] { service->GetNewAddress("", "", ""); });
    CHECK(none.first == rpc::RPC_WALLET_NOT_FOUND);
    CHECK(none.second == "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. "
                         "(Note: A default wallet is no longer automatically created)");
}

TEST_CASE("bad wallet names, labels and address types are refused")
{
    TempDir dir;
    auto service = Start(dir.path);
    for (const char* name : {"", ".", "..", "a/b", "../escape", "/abs", "back\\slash"}) {
        CAPTURE(name);
        CHECK(ErrorOf([&] { service->createWallet(name); }).first == rpc::RPC_INVALID_PARAMETER);
        CHECK(ErrorOf([&] { service->loadWallet(name); }).first == rpc::RPC_INVALID_PARAMETER);
    }
    CHECK_FALSE(std::filesystem::exists(dir.path.parent_path() / "escape"));
    auto type = ErrorOf([&] { service->GetNewAddress("", "", "p2tr"); });
    CHECK(type.first == rpc::RPC_INVALID_ADDRESS_OR_KEY);
    CHECK(type.second == "Unknown address type 'p2tr'");
    auto label = ErrorOf([&] { service->GetNewAddress("", "*", ""); });
    CHECK(label.first == rpc::RPC_WALLET_INVALID_LABEL_NAME);
    CHECK(HandedOut(*service, "") == 0); // no failed call used an index
}

TEST_CASE("the loaded wallets come back after a restart, unloaded ones stay on disk only")
{
    TempDir dir;
    {
        auto service = Start(dir.path);
        service->createWallet("savings");
        service->createWallet("spare");
        service->unloadWallet("spare");
        CHECK(service->listWallets() == std::vector<std::string>{"default", "savings"});
    }
    {
        auto service = Start(dir.path);
        CHECK(service->listWallets() == std::vector<std::string>{"default", "savings"});
        CHECK(service->listWalletDir() == std::vector<std::string>{"default", "savings", "spare"});
        service->unloadWallet("default");
        service->unloadWallet("savings");
    }
    {
        // Wallets exist but none is to be loaded: no new default appears.
        auto service = Start(dir.path);
        CHECK(service->listWallets().empty());
        CHECK(service->loadWallet("spare") == "spare");
    }
    auto service = Start(dir.path);
    CHECK(service->listWallets() == std::vector<std::string>{"spare"});
}

TEST_CASE("-wallet names are loaded at start and missing ones are skipped")
{
    TempDir dir;
    {
        auto service = Start(dir.path);
        service->createWallet("cold");
        service->unloadWallet("cold");
        service->unloadWallet("default");
    }
    auto service = Start(dir.path, {"cold", "missing"});
    CHECK(service->listWallets() == std::vector<std::string>{"cold"});
}

TEST_CASE("a settings file that cannot be parsed stops the start instead of forgetting wallets")
{
    TempDir dir;
    std::ofstream(dir.path / "settings.json") << "{\"wallet\": [\"default\"";
    CHECK_THROWS_WITH(WalletService(dir.path, Network::REGTEST), doctest::Contains("could not be parsed"));
}
