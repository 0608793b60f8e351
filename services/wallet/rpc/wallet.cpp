// The wallet's RPC methods; see wallet.h. Each handler asks the
// WalletService of this process, which holds the keys.
#include <services/wallet/rpc/wallet.h>

#include <services/wallet/wallet_service.h>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;

rpc::Json WalletInfoToJson(const WalletInfo& info)
{
    Json out = Json::object();
    out["walletname"] = info.name;
    out["walletversion"] = info.format_version;
    out["format"] = "sqlite";
    // What createwallet lets a wallet be: descriptors, private keys, no reuse avoidance, no external signer.
    out["private_keys_enabled"] = true;
    out["avoid_reuse"] = false;
    out["scanning"] = false;
    out["descriptors"] = true;
    out["external_signer"] = false;
    out["blank"] = false;
    if (info.last_processed_block) {
        // The node's tip as the wallet last saw it; absent until the wallet has reached the node.
        out["lastprocessedblock"] = {{"hash", info.last_processed_block->hash},
                                     {"height", info.last_processed_block->height}};
    }
    out["address_count"] = info.address_count;           // Orrery: receive addresses handed out
    out["master_fingerprint"] = info.master_fingerprint; // Orrery: BIP32 fingerprint of the seed
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
    table.Add({"createwallet",
               "Wallet",
               {rpc::Required("wallet_name", ParamType::STRING,
                              "The new wallet's name (its folder in the wallets "
                              "folder)"),
                rpc::Optional("disable_private_keys", ParamType::BOOL, "Not supported: must be false"),
                rpc::Optional("blank", ParamType::BOOL, "Not supported: must be false"),
                rpc::Optional("passphrase", ParamType::STRING, "Not supported yet: must be empty"),
                rpc::Optional("avoid_reuse", ParamType::BOOL, "Not supported: must be false"),
                rpc::Optional("descriptors", ParamType::BOOL, "Orrery wallets are descriptor wallets: must be true"),
                rpc::Optional("load_on_startup", ParamType::BOOL, "Ignored")},
               "Makes a new wallet with a fresh seed and loads it.",
               [&service](const rpc::CallRequest& call) {
                   // Options Orrery's wallet does not have are refused rather than silently dropped.
                   for (size_t i : {1, 2, 4}) {
                       if (call.Arg(i).is_boolean() && call.Arg(i).get<bool>()) {
                           throw rpc::RpcException(rpc::RPC_WALLET_ERROR,
                                                   "Orrery wallets do not support this createwallet option yet");
                       }
                   }
                   if (call.Arg(3).is_string() && !call.Arg(3).get<std::string>().empty()) {
                       throw rpc::RpcException(rpc::RPC_WALLET_ERROR, "Orrery wallets do not support encryption yet");
                   }
                   if (call.Arg(5).is_boolean() && !call.Arg(5).get<bool>()) {
                       throw rpc::RpcException(rpc::RPC_WALLET_ERROR, "Only descriptor wallets are supported");
                   }
                   std::string name = call.Arg(0).get<std::string>();
                   std::string created = service.createWallet(name);
                   return Json{{"name", created.empty() ? name : created}};
               }});
    table.Add({"loadwallet",
               "Wallet",
               {rpc::Required("filename", ParamType::STRING, "The wallet's name (its folder in the wallets folder)"),
                rpc::Optional("load_on_startup", ParamType::BOOL, "Ignored")},
               "Loads a wallet that is on disk but not loaded.",
               [&service](const rpc::CallRequest& call) {
                   std::string name = call.Arg(0).get<std::string>();
                   std::string loaded = service.loadWallet(name);
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

void RegisterAddressRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"getnewaddress",
               "Wallet",
               {rpc::Optional("label", ParamType::STRING, "A label kept with the address (\"\" for none)"),
                rpc::Optional("address_type", ParamType::STRING,
                              "\"legacy\", \"p2sh-segwit\", \"bech32\" (the default) or \"bech32m\"")},
               "Hands out a receive address of the wallet that was never handed out before.",
               [&service](const rpc::CallRequest& call) {
                   return Json(service.GetNewAddress(call.wallet.value_or(""), rpc::StringArg(call.Arg(0)),
                                                     rpc::StringArg(call.Arg(1))));
               }});
    table.Add({"getwalletinfo",
               "Wallet",
               {},
               "Describes the wallet: name, format, what it can do, and the node's tip it last processed.",
               [&service](const rpc::CallRequest& call) {
                   return WalletInfoToJson(service.GetWalletInfo(call.wallet.value_or("")));
               }});
}

} // namespace

std::shared_ptr<const rpc::Table> MakeRpcTable(WalletService& service)
{
    auto table = std::make_shared<rpc::Table>();
    RegisterLoaderRpc(*table, service);
    RegisterAddressRpc(*table, service);
    return table;
}

} // namespace orrery::wallet
