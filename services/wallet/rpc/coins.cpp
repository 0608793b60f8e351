// The wallet's coin and balance RPC methods: getbalances, getbalance,
// listunspent, lockunspent, listlockunspent, getreceivedbyaddress,
// listreceivedbyaddress — bitcoind's names, fields and errors.
#include <services/wallet/rpc/util.h>
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/wallet_service.h>

#include <common/consensus/hex.h>
#include <common/keys/key_io.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

namespace {

Json LastBlockJson(const WalletInfo& info)
{
    if (!info.last_processed_block) return Json();
    return {{"hash", info.last_processed_block->hash}, {"height", info.last_processed_block->height}};
}

//! bitcoind's GetReceived filter: coinbase outputs count only while immature, and only when asked.
bool CountsAsReceived(HdWallet& wallet, const WalletTx& wtx, int64_t min_depth, bool include_immature_coinbase)
{
    const int64_t depth = wallet.Depth(wtx);
    if (wtx.tx.IsCoinbase() && (!include_immature_coinbase || COINBASE_MATURITY + 1 - depth <= 0)) return false;
    return depth >= min_depth;
}

Json LockedCoinsJson(HdWallet& wallet)
{
    Json out = Json::array();
    for (const auto& outpoint : wallet.LockedCoins()) {
        out.push_back({{"txid", outpoint.hash.GetHex()}, {"vout", outpoint.n}});
    }
    return out;
}

void RegisterBalanceRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"getbalances",
               "Wallet",
               {},
               "The wallet's balances: trusted, pending from others, immature coinbase; the block they are as of.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const WalletInfo info = wallet->GetInfo();
                   const Balances balances = wallet->GetBalances(0, /*avoid_reuse=*/true);
                   Json mine = Json::object();
                   mine["trusted"] = AmountToJson(balances.trusted);
                   mine["untrusted_pending"] = AmountToJson(balances.untrusted_pending);
                   mine["immature"] = AmountToJson(balances.immature);
                   if (info.flags & WALLET_FLAG_AVOID_REUSE) mine["used"] = AmountToJson(balances.used);
                   Json out = {{"mine", mine}};
                   if (info.last_processed_block) out["lastprocessedblock"] = LastBlockJson(info);
                   return out;
               }});
    table.Add(
        {"getbalance",
         "Wallet",
         {rpc::Optional("dummy", ParamType::STRING, "Only \"*\", for compatibility"),
          rpc::Optional("minconf", ParamType::NUMBER, "Count only coins with this many confirmations (default 0)"),
          rpc::Optional("include_watchonly", ParamType::BOOL, "Descriptor wallets: no effect"),
          rpc::Optional("avoid_reuse", ParamType::BOOL,
                        "With the avoid_reuse flag: leave out coins on addresses spent from (default true)")},
         "The trusted balance of the wallet.",
         [&service](const rpc::CallRequest& call) {
             auto wallet = CallWallet(service, call);
             if (!call.Arg(0).is_null() && call.Arg(0).get<std::string>() != "*") {
                 throw RpcException(rpc::RPC_METHOD_DEPRECATED,
                                    "dummy first argument must be excluded or set to \"*\".");
             }
             const int64_t min_depth = IntArg(call.Arg(1), 0);
             const bool reuse_flag = (wallet->GetInfo().flags & WALLET_FLAG_AVOID_REUSE) != 0;
             if (!call.Arg(3).is_null() && !reuse_flag) {
                 throw RpcException(rpc::RPC_WALLET_ERROR, "wallet does not have the \"avoid reuse\" feature enabled");
             }
             const bool avoid_reuse = BoolArg(call.Arg(3), reuse_flag);
             return AmountToJson(wallet->GetBalances(min_depth, avoid_reuse).trusted);
         }});
}

void RegisterUnspentRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"listunspent",
               "Wallet",
               {rpc::Optional("minconf", ParamType::NUMBER, "Fewest confirmations (default 1)"),
                rpc::Optional("maxconf", ParamType::NUMBER, "Most confirmations (default 9999999)"),
                rpc::Optional("addresses", ParamType::ARRAY, "Only coins on these addresses"),
                rpc::Optional("include_unsafe", ParamType::BOOL,
                              "Also unconfirmed coins from others, or replaceable ones (default true)"),
                rpc::Optional("query_options", ParamType::OBJECT,
                              "minimumAmount, maximumAmount, maximumCount, minimumSumAmount, "
                              "include_immature_coinbase")},
               "Lists the wallet's unspent coins that are not locked.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const int64_t min_depth = IntArg(call.Arg(0), 1);
                   const int64_t max_depth = IntArg(call.Arg(1), 9999999);
                   std::optional<std::set<std::vector<uint8_t>>> only;
                   if (!call.Arg(2).is_null()) {
                       only.emplace();
                       std::set<std::string> seen;
                       for (const auto& item : call.Arg(2)) {
                           const std::string address = item.get<std::string>();
                           auto script = DecodeAddress(address, wallet->GetNetwork());
                           if (!script) {
                               throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                                  "Invalid Bitcoin address: " + address);
                           }
                           if (!seen.insert(address).second) {
                               throw RpcException(rpc::RPC_INVALID_PARAMETER,
                                                  "Invalid parameter, duplicated address: " + address);
                           }
                           only->insert(*script);
                       }
                   }
                   const bool include_unsafe = BoolArg(call.Arg(3), true);
                   Amount minimum = 0, maximum = MAX_MONEY, minimum_sum = MAX_MONEY;
                   int64_t maximum_count = 0;
                   bool include_immature = false;
                   if (const Json& options = call.Arg(4); options.is_object()) {
                       for (const auto& [key, value] : options.items()) {
                           if (key == "minimumAmount") {
                               minimum = AmountFromJson(value);
                           } else if (key == "maximumAmount") {
                               maximum = AmountFromJson(value);
                           } else if (key == "minimumSumAmount") {
                               minimum_sum = AmountFromJson(value);
                           } else if (key == "maximumCount") {
                               maximum_count = rpc::IntegerArg(value);
                           } else if (key == "include_immature_coinbase") {
                               include_immature = value.get<bool>();
                           } else {
                               throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, unknown key: " + key);
                           }
                       }
                   }
                   const WalletInfo info = wallet->GetInfo();
                   const bool spendable = (info.flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS) == 0;
                   const auto labels = wallet->GetLabels();
                   std::vector<WalletCoin> coins = wallet->ListCoins(min_depth, max_depth, include_unsafe);
                   if (include_immature) {
                       // Immature coinbase coins are not in ListCoins' set; add them back.
                       for (const auto& wtx : wallet->Transactions()) {
                           const int64_t depth = wallet->Depth(wtx);
                           if (!wtx.tx.IsCoinbase() || depth < 1 || COINBASE_MATURITY + 1 - depth <= 0) continue;
                           if (depth < min_depth || depth > max_depth) continue;
                           for (uint32_t n = 0; n < wtx.tx.vout.size(); ++n) {
                               auto origin = wallet->FindScript(wtx.tx.vout[n].script_pubkey);
                               if (!origin || wallet->IsSpent({wtx.txid, n}) || wallet->IsLocked({wtx.txid, n}))
                                   continue;
                               coins.push_back({{wtx.txid, n}, wtx.tx.vout[n], depth, true, true, *origin, false});
                           }
                       }
                   }
                   Json out = Json::array();
                   Amount sum = 0;
                   for (const auto& coin : coins) {
                       if (only && !only->empty() && !only->count(coin.output.script_pubkey)) continue;
                       if (coin.output.value < minimum || coin.output.value > maximum) continue;
                       const AddressDetails details = wallet->DescribeScript(coin.output.script_pubkey);
                       Json entry = Json::object();
                       entry["txid"] = coin.outpoint.hash.GetHex();
                       entry["vout"] = coin.outpoint.n;
                       const std::string address = EncodeAddress(coin.output.script_pubkey, wallet->GetNetwork());
                       if (!address.empty()) {
                           entry["address"] = address;
                           if (auto label = labels.find(address); label != labels.end()) entry["label"] = label->second;
                       }
                       entry["scriptPubKey"] = HexStr(coin.output.script_pubkey);
                       entry["amount"] = AmountToJson(coin.output.value);
                       entry["confirmations"] = coin.depth;
                       entry["spendable"] = spendable;
                       entry["solvable"] = details.solvable;
                       if (info.flags & WALLET_FLAG_AVOID_REUSE) entry["reused"] = coin.reused;
                       if (details.solvable) entry["desc"] = details.descriptor;
                       entry["parent_descs"] = Json::array({details.parent_descriptor});
                       entry["safe"] = coin.safe;
                       out.push_back(std::move(entry));
                       sum += coin.output.value;
                       if (maximum_count > 0 && static_cast<int64_t>(out.size()) >= maximum_count) break;
                       if (sum >= minimum_sum) break;
                   }
                   return out;
               }});
    table.Add({"lockunspent",
               "Wallet",
               {rpc::Required("unlock", ParamType::BOOL, "true unlocks, false locks"),
                rpc::Optional("transactions", ParamType::ARRAY,
                              "The coins, as {\"txid\", \"vout\"}; unlocking with none unlocks every coin"),
                rpc::Optional("persistent", ParamType::BOOL, "Keep the lock in the wallet file across restarts")},
               "Locks coins so that spending leaves them alone, or unlocks them.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const bool unlock = call.Arg(0).get<bool>();
                   const bool persistent = BoolArg(call.Arg(2), false);
                   if (call.Arg(1).is_null()) {
                       if (unlock) wallet->UnlockAll();
                       return Json(true);
                   }
                   std::vector<OutPoint> outpoints;
                   for (const auto& item : call.Arg(1)) {
                       if (!item.is_object() || !item.contains("txid") || !item.contains("vout")) {
                           throw RpcException(rpc::RPC_INVALID_PARAMETER,
                                              "Invalid parameter, expected object with txid and vout");
                       }
                       const uint256 txid = ParseTxid(item["txid"], "txid");
                       const int64_t vout = rpc::IntegerArg(item["vout"]);
                       if (vout < 0)
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, vout cannot be negative");
                       const OutPoint outpoint{txid, static_cast<uint32_t>(vout)};
                       auto wtx = wallet->GetTransaction(txid);
                       if (!wtx)
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, unknown transaction");
                       if (outpoint.n >= wtx->tx.vout.size()) {
                           throw RpcException(rpc::RPC_INVALID_PARAMETER,
                                              "Invalid parameter, vout index out of bounds");
                       }
                       if (wallet->IsSpent(outpoint)) {
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, expected unspent output");
                       }
                       const bool locked = wallet->IsLocked(outpoint);
                       if (unlock && !locked) {
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, expected locked output");
                       }
                       if (!unlock && locked && !persistent) {
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, output already locked");
                       }
                       outpoints.push_back(outpoint);
                   }
                   for (const auto& outpoint : outpoints) {
                       if (unlock) {
                           wallet->UnlockCoin(outpoint);
                       } else {
                           wallet->LockCoin(outpoint, persistent);
                       }
                   }
                   return Json(true);
               }});
    table.Add({"listlockunspent", "Wallet", {}, "Lists the locked coins.", [&service](const rpc::CallRequest& call) {
                   return LockedCoinsJson(*CallWallet(service, call));
               }});
}

void RegisterReceivedRpc(rpc::Table& table, WalletService& service)
{
    table.Add(
        {"getreceivedbyaddress",
         "Wallet",
         {rpc::Required("address", ParamType::STRING, "An address of the wallet"),
          rpc::Optional("minconf", ParamType::NUMBER, "Count only payments with this many confirmations (default 1)"),
          rpc::Optional("include_immature_coinbase", ParamType::BOOL, "Count immature coinbase outputs too")},
         "The total the wallet received on one address.",
         [&service](const rpc::CallRequest& call) {
             auto wallet = CallWallet(service, call);
             const auto script = ScriptFromAddress(*wallet, call.Arg(0).get<std::string>());
             if (!wallet->FindScript(script)) throw RpcException(rpc::RPC_WALLET_ERROR, "Address not found in wallet");
             const int64_t min_depth = IntArg(call.Arg(1), 1);
             const bool immature = BoolArg(call.Arg(2), false);
             Amount total = 0;
             for (const auto& wtx : wallet->Transactions()) {
                 if (!CountsAsReceived(*wallet, wtx, min_depth, immature)) continue;
                 for (const auto& out : wtx.tx.vout) {
                     if (out.script_pubkey == script) total += out.value;
                 }
             }
             return AmountToJson(total);
         }});
    table.Add(
        {"listreceivedbyaddress",
         "Wallet",
         {rpc::Optional("minconf", ParamType::NUMBER, "Count only payments with this many confirmations (default 1)"),
          rpc::Optional("include_empty", ParamType::BOOL, "List addresses that received nothing too"),
          rpc::Optional("include_watchonly", ParamType::BOOL, "Descriptor wallets: no effect"),
          rpc::Optional("address_filter", ParamType::STRING, "Only this address"),
          rpc::Optional("include_immature_coinbase", ParamType::BOOL, "Count immature coinbase outputs too")},
         "What each receive address of the wallet received.",
         [&service](const rpc::CallRequest& call) {
             auto wallet = CallWallet(service, call);
             const int64_t min_depth = IntArg(call.Arg(0), 1);
             const bool include_empty = BoolArg(call.Arg(1), false);
             std::optional<std::string> filter;
             if (!call.Arg(3).is_null()) {
                 filter = call.Arg(3).get<std::string>();
                 ScriptFromAddress(*wallet, *filter, "address_filter parameter was invalid");
             }
             const bool immature = BoolArg(call.Arg(4), false);
             struct Tally {
                 Amount amount{0};
                 int64_t confirmations{std::numeric_limits<int64_t>::max()};
                 std::vector<std::string> txids;
             };
             std::map<std::string, Tally> tally;
             const Network network = wallet->GetNetwork();
             for (const auto& wtx : wallet->Transactions()) {
                 if (!CountsAsReceived(*wallet, wtx, min_depth, immature)) continue;
                 const int64_t depth = wallet->Depth(wtx);
                 for (const auto& out : wtx.tx.vout) {
                     if (!wallet->IsMine(out)) continue;
                     const std::string address = EncodeAddress(out.script_pubkey, network);
                     if (address.empty()) continue;
                     Tally& t = tally[address];
                     t.amount += out.value;
                     t.confirmations = std::min(t.confirmations, depth);
                     t.txids.push_back(wtx.txid.GetHex());
                 }
             }
             Json out = Json::array();
             for (const auto& [address, label] : wallet->GetLabels()) {
                 if (filter && address != *filter) continue;
                 auto script = DecodeAddress(address, network);
                 if (!script || !wallet->FindScript(*script)) continue;
                 auto it = tally.find(address);
                 if (it == tally.end() && !include_empty) continue;
                 Json entry = Json::object();
                 entry["address"] = address;
                 entry["amount"] = AmountToJson(it == tally.end() ? 0 : it->second.amount);
                 entry["confirmations"] = it == tally.end() ? 0 : it->second.confirmations;
                 entry["label"] = label;
                 Json txids = Json::array();
                 if (it != tally.end()) {
                     for (const auto& txid : it->second.txids) txids.push_back(txid);
                 }
                 entry["txids"] = txids;
                 out.push_back(std::move(entry));
             }
             return out;
         }});
}

} // namespace

void RegisterCoinRpc(rpc::Table& table, WalletService& service)
{
    RegisterBalanceRpc(table, service);
    RegisterUnspentRpc(table, service);
    RegisterReceivedRpc(table, service);
}

} // namespace orrery::wallet
