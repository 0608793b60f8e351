// The wallet's RPC methods; see wallet.h. Each handler asks the
// WalletService of this process, which holds the keys.
#include <services/wallet/rpc/wallet.h>

#include <services/wallet/rpc/util.h>
#include <services/wallet/wallet_service.h>

#include <common/keys/bip39.h>
#include <common/keys/cleanse.h>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;

rpc::Json WalletInfoToJson(const WalletInfo& info, bool node_connected, Amount pay_tx_fee)
{
    Json out = Json::object();
    out["walletname"] = info.name;
    out["walletversion"] = 169900; // bitcoind's FEATURE_LATEST, which descriptor wallets report
    out["format"] = "sqlite";
    out["txcount"] = info.tx_count;
    out["keypoolsize"] = info.keypool_size;
    out["keypoolsize_hd_internal"] = info.keypool_size_internal;
    if (info.encrypted) out["unlocked_until"] = info.unlocked_until; // only encrypted wallets have it, as in bitcoind
    out["paytxfee"] = AmountToJson(pay_tx_fee); // -paytxfee, BTC/kvB
    out["private_keys_enabled"] = (info.flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS) == 0;
    out["avoid_reuse"] = (info.flags & WALLET_FLAG_AVOID_REUSE) != 0;
    if (info.scanning) {
        out["scanning"] = {{"duration", info.scan_duration}, {"progress", info.scan_progress}};
    } else {
        out["scanning"] = false;
    }
    out["descriptors"] = true;
    out["external_signer"] = false;
    out["blank"] = (info.flags & WALLET_FLAG_BLANK_WALLET) != 0;
    if (info.birth_time > 0) out["birthtime"] = info.birth_time;
    if (info.last_processed_block) {
        // The last block the wallet applied, kept in its file; absent until it processed one.
        out["lastprocessedblock"] = {{"hash", info.last_processed_block->hash},
                                     {"height", info.last_processed_block->height}};
    }
    out["format_version"] = info.format_version;         // Orrery: the wallet file's format
    out["master_fingerprint"] = info.master_fingerprint; // Orrery: BIP32 fingerprint of the seed ("" without one)
    out["node_connected"] = node_connected;              // Orrery: whether the wallet hears from its node
    if (!node_connected) {
        out["warnings"] = Json::array({"The wallet is not connected to its node: balances and transactions are as of "
                                       "its last processed block."});
    }
    return out;
}

namespace {

//! bitcoind: the URL's wallet and a wallet_name argument must agree.
std::string WalletFromCall(const rpc::CallRequest& call, const Json& argument)
{
    if (call.wallet) {
        if (!argument.is_null() && argument.get<std::string>() != *call.wallet) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    "RPC endpoint wallet and wallet_name parameter specify different wallets");
        }
        return *call.wallet;
    }
    if (argument.is_null()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "JSON value of type null is not of expected type string");
    }
    return argument.get<std::string>();
}

void RegisterLoaderRpc(rpc::Table& table, WalletService& service)
{
    table.Add(
        {"createwallet",
         "Wallet",
         {rpc::Required("wallet_name", ParamType::STRING, "The new wallet's name (its folder in the wallets folder)"),
          rpc::Optional("disable_private_keys", ParamType::BOOL, "A watch-only wallet: no seed, no private keys"),
          rpc::Optional("blank", ParamType::BOOL, "No seed and no descriptors until importdescriptors"),
          rpc::Optional("passphrase", ParamType::STRING,
                        "Encrypt the new wallet with this passphrase (it starts locked); empty: not encrypted"),
          rpc::Optional("avoid_reuse", ParamType::BOOL,
                        "Keep coins on addresses already spent from apart in balances and spending"),
          rpc::Optional("descriptors", ParamType::BOOL, "Orrery wallets are descriptor wallets: must be true"),
          rpc::Optional("load_on_startup", ParamType::BOOL,
                        "Add to (true) or leave out of (false) the wallets "
                        "loaded at start; default: add"),
          rpc::Optional("external_signer", ParamType::BOOL, "Not supported: must be false"),
          rpc::Optional("mnemonic", ParamType::ANY,
                        "Orrery's own: true makes the seed from a new 24-word BIP39 mnemonic, returned once in the "
                        "answer; a phrase (12 to 24 English words) restores that mnemonic's wallet and reads the whole "
                        "chain for its coins")},
         "Makes a new wallet with a fresh seed and bitcoind's default descriptors, and loads it.",
         [&service](const rpc::CallRequest& call) {
             if (call.Arg(5).is_boolean() && !call.Arg(5).get<bool>()) {
                 throw rpc::RpcException(rpc::RPC_WALLET_ERROR,
                                         "Compiled without bdb support (required for legacy wallets)");
             }
             if (call.Arg(7).is_boolean() && call.Arg(7).get<bool>()) {
                 throw rpc::RpcException(rpc::RPC_WALLET_ERROR,
                                         "Compiled without external signing support (required for external "
                                         "signing)");
             }
             WalletOptions options;
             options.disable_private_keys = call.Arg(1).is_boolean() && call.Arg(1).get<bool>();
             options.blank = call.Arg(2).is_boolean() && call.Arg(2).get<bool>();
             options.avoid_reuse = call.Arg(4).is_boolean() && call.Arg(4).get<bool>();
             Json warnings = Json::array();
             if (call.Arg(3).is_string()) options.passphrase = call.Arg(3).get<std::string>();
             if (call.Arg(3).is_string() && options.passphrase.empty()) {
                 warnings.push_back("Empty string given as passphrase, wallet will not be encrypted.");
             }
             if (!options.passphrase.empty() && options.disable_private_keys) {
                 throw rpc::RpcException(rpc::RPC_WALLET_ERROR,
                                         "Passphrase provided but private keys are disabled. A passphrase is only "
                                         "used to encrypt private keys, so cannot be used for wallets with private "
                                         "keys disabled.");
             }
             std::optional<bool> load_on_startup;
             if (call.Arg(6).is_boolean()) load_on_startup = call.Arg(6).get<bool>();
             std::string name = call.Arg(0).get<std::string>();
             std::string phrase;
             std::optional<SecureBytes> seed;
             const Json& mnemonic = call.Arg(8);
             if (mnemonic.is_string() || (mnemonic.is_boolean() && mnemonic.get<bool>())) {
                 if (options.blank || options.disable_private_keys) {
                     throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                             "A mnemonic gives a wallet its seed: not with blank or "
                                             "disable_private_keys");
                 }
                 if (mnemonic.is_string()) {
                     phrase = mnemonic.get<std::string>();
                     if (!MnemonicToEntropy(phrase)) {
                         throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                                 "Invalid BIP39 mnemonic: 12, 15, 18, 21 or 24 words of the English "
                                                 "list with a matching checksum are needed");
                     }
                     options.birth_time = 0; // its coins may be anywhere in the chain
                 } else {
                     SecureBytes entropy;
                     entropy.get().resize(32);
                     GetStrongRandBytes(entropy.get());
                     phrase = MnemonicFromEntropy(entropy.get());
                 }
                 if (auto bip39_seed = MnemonicToSeed(phrase)) seed.emplace(std::move(bip39_seed->get()));
             } else if (!mnemonic.is_null() && !mnemonic.is_boolean()) {
                 throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "mnemonic must be true, false or a phrase");
             }
             std::string created =
                 service.CreateWallet(name, options, load_on_startup,
                                      seed ? std::optional<std::span<const uint8_t>>(seed->get()) : std::nullopt);
             MemoryCleanse(options.passphrase.data(), options.passphrase.size());
             Json result{{"name", created.empty() ? name : created}};
             if (mnemonic.is_boolean() && seed) result["mnemonic"] = phrase; // shown once: the user writes it down
             MemoryCleanse(phrase.data(), phrase.size());
             if (!warnings.empty()) result["warnings"] = warnings;
             return result;
         }});
    table.Add({"loadwallet",
               "Wallet",
               {rpc::Required("filename", ParamType::STRING, "The wallet's name (its folder in the wallets folder)"),
                rpc::Optional("load_on_startup", ParamType::BOOL,
                              "Add to (true) or leave out of (false) the wallets "
                              "loaded at start; default: add")},
               "Loads a wallet that is on disk but not loaded; it catches up with the chain from its last block.",
               [&service](const rpc::CallRequest& call) {
                   std::string name = call.Arg(0).get<std::string>();
                   std::optional<bool> load_on_startup;
                   if (call.Arg(1).is_boolean()) load_on_startup = call.Arg(1).get<bool>();
                   std::string loaded = service.LoadWallet(name, load_on_startup);
                   return Json{{"name", loaded.empty() ? name : loaded}};
               }});
    table.Add({"unloadwallet",
               "Wallet",
               {rpc::Optional("wallet_name", ParamType::STRING,
                              "The wallet to unload; with a /wallet/<name> URL too, both must name the same"),
                rpc::Optional("load_on_startup", ParamType::BOOL, "Ignored")},
               "Closes a loaded wallet, named by the URL or the argument; it stays on disk.",
               [&service](const rpc::CallRequest& call) {
                   service.unloadWallet(WalletFromCall(call, call.Arg(0)));
                   return Json::object();
               }});
    table.Add({"listwallets",
               "Wallet",
               {},
               "Lists the loaded wallets, in the order they were loaded.",
               [&service](const rpc::CallRequest&) { return Json(service.listWallets()); }});
    table.Add({"listwalletdir",
               "Wallet",
               {},
               "Lists the wallets in the wallets folder, loaded or not.",
               [&service](const rpc::CallRequest&) {
                   Json wallets = Json::array();
                   for (const auto& name : service.listWalletDir()) wallets.push_back(Json{{"name", name}});
                   return Json{{"wallets", wallets}};
               }});
}

void RegisterInfoRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"getwalletinfo",
               "Wallet",
               {},
               "Describes the wallet: name, format, what it can do, its transactions, keypool, scan, and the last "
               "block it processed.",
               [&service](const rpc::CallRequest& call) {
                   return WalletInfoToJson(service.GetWalletInfo(call.wallet.value_or("")), service.NodeConnected(),
                                           service.GetSpendOptions().pay_tx_fee.per_kvb);
               }});
}

} // namespace

std::shared_ptr<const rpc::Table> MakeRpcTable(WalletService& service)
{
    auto table = std::make_shared<rpc::Table>();
    RegisterLoaderRpc(*table, service);
    RegisterInfoRpc(*table, service);
    RegisterAddressRpc(*table, service);
    RegisterCoinRpc(*table, service);
    RegisterTransactionRpc(*table, service);
    RegisterSpendRpc(*table, service);
    RegisterEncryptionRpc(*table, service);
    RegisterMessageRpc(*table, service);
    return table;
}

} // namespace orrery::wallet
