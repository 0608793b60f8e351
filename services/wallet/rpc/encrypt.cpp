// The wallet's encryption and backup methods (bitcoind's wallet/rpc/encrypt.cpp
// and backup.cpp): encryptwallet, walletpassphrase, walletlock,
// walletpassphrasechange, backupwallet and restorewallet, with bitcoind's
// limits, codes and messages. The work is HdWallet's and WalletService's.
#include <services/wallet/rpc/wallet.h>

#include <services/wallet/rpc/util.h>
#include <services/wallet/wallet_service.h>

#include <common/keys/cleanse.h>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

namespace {

//! bitcoind's MAX_SLEEP_TIME: a longer walletpassphrase timeout is cut to this (about 3 years).
constexpr int64_t MAX_UNLOCK_SECONDS{100000000};

//! A passphrase argument; bitcoind refuses an empty one.
std::string PassphraseArg(const Json& value)
{
    std::string passphrase = value.is_string() ? value.get<std::string>() : std::string();
    if (passphrase.empty()) throw RpcException(rpc::RPC_INVALID_PARAMETER, "passphrase can not be empty");
    return passphrase;
}

//! Runs a wallet step, its WalletError becoming the RPC error of its code and a wipe of the passphrases after.
template <typename Step> void WithPassphrases(std::initializer_list<std::string*> passphrases, Step step)
{
    auto wipe = [&] {
        for (std::string* passphrase : passphrases) MemoryCleanse(passphrase->data(), passphrase->size());
    };
    try {
        step();
    } catch (const WalletError& e) {
        wipe();
        throw RpcException(e.code(), e.what());
    } catch (const DatabaseError& e) {
        wipe();
        throw RpcException(rpc::RPC_WALLET_ERROR, e.what());
    } catch (...) {
        wipe();
        throw;
    }
    wipe();
}

void RegisterPassphraseRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"encryptwallet",
               "Wallet",
               {rpc::Required("passphrase", ParamType::STRING, "The passphrase that will guard the wallet's keys")},
               "Encrypts the wallet's private keys and seed with a passphrase; the wallet is locked afterwards. "
               "Make a new backup: older ones still hold the keys in the clear.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   std::string passphrase = PassphraseArg(call.Arg(0));
                   WithPassphrases({&passphrase}, [&] { wallet->EncryptWallet(passphrase); });
                   return Json("wallet encrypted; its keys are unchanged, so make a new backup with backupwallet and "
                               "destroy the unencrypted ones.");
               }});
    table.Add({"walletpassphrase",
               "Wallet",
               {rpc::Required("passphrase", ParamType::STRING, "The wallet's passphrase"),
                rpc::Required("timeout", ParamType::NUMBER,
                              "Seconds the keys stay unlocked (at most 100000000; 0 locks again at once)")},
               "Unlocks an encrypted wallet's keys for a while.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   int64_t timeout = rpc::IntegerArg(call.Arg(1));
                   if (timeout < 0) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Timeout cannot be negative.");
                   timeout = std::min(timeout, MAX_UNLOCK_SECONDS);
                   if (!wallet->IsCrypted()) {
                       throw RpcException(rpc::RPC_WALLET_WRONG_ENC_STATE,
                                          "Error: running with an unencrypted wallet, but walletpassphrase was "
                                          "called.");
                   }
                   std::string passphrase = PassphraseArg(call.Arg(0));
                   WithPassphrases({&passphrase}, [&] { wallet->Unlock(passphrase, timeout); });
                   return Json();
               }});
    table.Add({"walletlock",
               "Wallet",
               {},
               "Locks an encrypted wallet's keys now: the master key is wiped from memory.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   WithPassphrases({}, [&] { wallet->Lock(); });
                   return Json();
               }});
    table.Add({"walletpassphrasechange",
               "Wallet",
               {rpc::Required("oldpassphrase", ParamType::STRING, "The current passphrase"),
                rpc::Required("newpassphrase", ParamType::STRING, "The passphrase from now on")},
               "Changes an encrypted wallet's passphrase; the keys stay as they are, locked or not.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   if (!wallet->IsCrypted()) {
                       throw RpcException(rpc::RPC_WALLET_WRONG_ENC_STATE,
                                          "Error: running with an unencrypted wallet, but walletpassphrasechange was "
                                          "called.");
                   }
                   std::string old_passphrase = PassphraseArg(call.Arg(0));
                   std::string new_passphrase = PassphraseArg(call.Arg(1));
                   WithPassphrases({&old_passphrase, &new_passphrase},
                                   [&] { wallet->ChangePassphrase(old_passphrase, new_passphrase); });
                   return Json();
               }});
}

void RegisterBackupRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"backupwallet",
               "Wallet",
               {rpc::Required("destination", ParamType::STRING,
                              "The file to write (replaced if it exists), or a folder to write it in under the "
                              "wallet's name")},
               "Writes a consistent copy of the wallet's file (taken in one read transaction; the destination is "
               "replaced only once the copy is complete).",
               [&service](const rpc::CallRequest& call) {
                   service.BackupWallet(call.wallet.value_or(""), call.Arg(0).get<std::string>());
                   return Json();
               }});
    table.Add({"restorewallet",
               "Wallet",
               {rpc::Required("wallet_name", ParamType::STRING, "The name the restored wallet gets"),
                rpc::Required("backup_file", ParamType::STRING, "A file backupwallet wrote"),
                rpc::Optional("load_on_startup", ParamType::BOOL,
                              "Add to (true) or leave out of (false) the wallets loaded at start; default: add")},
               "Copies a backup into a new wallet folder and loads it; it catches up with the chain from the last "
               "block it had processed.",
               [&service](const rpc::CallRequest& call) {
                   std::optional<bool> load_on_startup;
                   if (call.Arg(2).is_boolean()) load_on_startup = call.Arg(2).get<bool>();
                   std::string name = call.Arg(0).get<std::string>();
                   service.RestoreWallet(name, call.Arg(1).get<std::string>(), load_on_startup);
                   return Json{{"name", name}};
               }});
}

} // namespace

void RegisterEncryptionRpc(rpc::Table& table, WalletService& service)
{
    RegisterPassphraseRpc(table, service);
    RegisterBackupRpc(table, service);
}

} // namespace orrery::wallet
