// The wallet's transaction RPC methods: listtransactions, listsinceblock,
// gettransaction, abandontransaction, rescanblockchain, abortrescan —
// bitcoind's names, fields and errors.
#include <services/wallet/rpc/util.h>
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/sync/chain_sync.h>
#include <services/wallet/wallet_service.h>

#include <common/consensus/hex.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

namespace {

std::optional<std::string> LabelArg(const Json& value)
{
    if (value.is_null()) return std::nullopt;
    std::string label = value.get<std::string>();
    if (label == "*") return std::nullopt;
    return label;
}

Json ListTransactions(HdWallet& wallet, const rpc::CallRequest& call)
{
    std::optional<std::string> label = LabelArg(call.Arg(0));
    if (!call.Arg(0).is_null() && call.Arg(0).get<std::string>().empty()) label = std::string();
    const int64_t count = IntArg(call.Arg(1), 10);
    const int64_t skip = IntArg(call.Arg(2), 0);
    if (count < 0) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Negative count");
    if (skip < 0) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Negative from");
    // As bitcoind: newest transactions first until count + skip entries, then the slice, oldest first.
    Json newest_first = Json::array();
    std::vector<WalletTx> txs = wallet.Transactions();
    for (auto it = txs.rbegin(); it != txs.rend(); ++it) {
        ListTransactionEntries(wallet, *it, 0, /*with_tx_fields=*/true, label, /*include_change=*/false, newest_first);
        if (static_cast<int64_t>(newest_first.size()) >= count + skip) break;
    }
    const int64_t size = static_cast<int64_t>(newest_first.size());
    const int64_t from = std::min(skip, size);
    const int64_t take = std::min(count, size - from);
    Json out = Json::array();
    for (int64_t i = from + take - 1; i >= from; --i) out.push_back(newest_first[static_cast<size_t>(i)]);
    return out;
}

Json GetTransaction(HdWallet& wallet, const rpc::CallRequest& call)
{
    const uint256 txid = ParseTxid(call.Arg(0), "txid");
    auto wtx = wallet.GetTransaction(txid);
    if (!wtx) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id");
    const int64_t depth = wallet.Depth(*wtx);
    // bitcoind's credit leaves out a coinbase until it matures.
    Amount credit = 0;
    if (!(wtx->tx.IsCoinbase() && COINBASE_MATURITY + 1 - depth > 0)) {
        for (const auto& out : wtx->tx.vout) {
            if (wallet.IsMine(out)) credit += out.value;
        }
    }
    const Amount debit = wallet.Debit(wtx->tx);
    const bool from_me = debit > 0;
    const Amount fee = from_me ? GetValueOut(wtx->tx) - debit : 0;
    Json entry = Json::object();
    entry["amount"] = AmountToJson(credit - debit - fee);
    if (from_me) entry["fee"] = AmountToJson(fee);
    AddWalletTxFields(wallet, *wtx, entry);
    Json details = Json::array();
    ListTransactionEntries(wallet, *wtx, 0, /*with_tx_fields=*/false, std::nullopt, /*include_change=*/false, details);
    entry["details"] = details;
    entry["hex"] = HexStr(wtx->record.raw);
    return entry;
}

Json ListSinceBlock(WalletService& service, HdWallet& wallet, const rpc::CallRequest& call)
{
    const int64_t target = IntArg(call.Arg(1), 1);
    if (target < 1) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter");
    const bool include_removed = BoolArg(call.Arg(3), true);
    const bool include_change = BoolArg(call.Arg(4), false);
    const std::optional<std::string> label = LabelArg(call.Arg(5));
    const auto last = wallet.LastBlock();
    const int64_t tip_height = last ? last->height : -1;
    int64_t depth = -1;
    std::vector<interfaces::ChainBlock> removed_blocks;
    std::shared_ptr<interfaces::Chain> chain;
    if (!call.Arg(0).is_null() && !call.Arg(0).get<std::string>().empty()) {
        const uint256 hash = ParseTxid(call.Arg(0), "blockhash");
        chain = service.RequireChain();
        std::optional<interfaces::ChainBlock> block = chain->findBlock(hash.GetHex());
        if (!block) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
        // Back to the active chain: the blocks on the way were reorganized away.
        for (;;) {
            std::string at;
            try {
                at = chain->getBlockHash(block->height);
            } catch (const std::exception&) {
                at.clear();
            }
            if (at == block->hash) break;
            if (include_removed) removed_blocks.push_back(*block);
            block = chain->findBlock(block->prev_hash);
            if (!block) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
        }
        depth = tip_height + 1 - block->height;
    }
    Json transactions = Json::array();
    for (const auto& wtx : wallet.Transactions()) {
        if (depth == -1 || std::abs(wallet.Depth(wtx)) < depth) {
            ListTransactionEntries(wallet, wtx, 0, true, label, include_change, transactions);
        }
    }
    Json removed = Json::array();
    for (const auto& block : removed_blocks) {
        for (const auto& tx : DeserializeBlock(block.data).txs) {
            if (auto wtx = wallet.GetTransaction(tx.GetTxid())) {
                ListTransactionEntries(wallet, *wtx, -100000000, true, label, include_change, removed);
            }
        }
    }
    std::string lastblock(64, '0');
    const int64_t last_height = tip_height + 1 - target;
    if (last && last_height == last->height) {
        lastblock = last->hash;
    } else if (last_height >= 0) {
        if (!chain) chain = service.RequireChain();
        lastblock = chain->getBlockHash(last_height);
    }
    Json out = {{"transactions", transactions}};
    if (include_removed) out["removed"] = removed;
    out["lastblock"] = lastblock;
    return out;
}

} // namespace

void RegisterTransactionRpc(rpc::Table& table, WalletService& service)
{
    table.Add(
        {"listtransactions",
         "Wallet",
         {rpc::Optional("label", ParamType::STRING, "Only entries of addresses with this label (\"*\": all)"),
          rpc::Optional("count", ParamType::NUMBER, "How many entries (default 10)"),
          rpc::Optional("skip", ParamType::NUMBER, "How many of the newest to skip (default 0)"),
          rpc::Optional("include_watchonly", ParamType::BOOL, "Descriptor wallets: no effect")},
         "The wallet's most recent transaction entries, oldest first.",
         [&service](const rpc::CallRequest& call) { return ListTransactions(*CallWallet(service, call), call); }});
    table.Add({"gettransaction",
               "Wallet",
               {rpc::Required("txid", ParamType::STRING, "The transaction id"),
                rpc::Optional("include_watchonly", ParamType::BOOL, "Descriptor wallets: no effect"),
                rpc::Optional("verbose", ParamType::BOOL, "Not supported yet: no \"decoded\" field")},
               "A transaction of the wallet: amount, fee, confirmations, entries, raw hex.",
               [&service](const rpc::CallRequest& call) { return GetTransaction(*CallWallet(service, call), call); }});
    table.Add({"listsinceblock",
               "Wallet",
               {rpc::Optional("blockhash", ParamType::STRING, "List what changed after this block (all when omitted)"),
                rpc::Optional("target_confirmations", ParamType::NUMBER,
                              "lastblock is the block with this many confirmations (default 1)"),
                rpc::Optional("include_watchonly", ParamType::BOOL, "Descriptor wallets: no effect"),
                rpc::Optional("include_removed", ParamType::BOOL,
                              "Also the transactions of blocks reorganized away since (default true)"),
                rpc::Optional("include_change", ParamType::BOOL, "Also change outputs (default false)"),
                rpc::Optional("label", ParamType::STRING, "Only entries of addresses with this label")},
               "The wallet's transactions since a block, those reorganized away, and the block to ask from next.",
               [&service](const rpc::CallRequest& call) {
                   return ListSinceBlock(service, *CallWallet(service, call), call);
               }});
    table.Add({"abandontransaction",
               "Wallet",
               {rpc::Required("txid", ParamType::STRING, "The transaction id")},
               "Marks an unconfirmed transaction that is not in the mempool, and its descendants, as abandoned: "
               "their inputs count as unspent again.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   try {
                       wallet->AbandonTransaction(ParseTxid(call.Arg(0), "txid"));
                   } catch (const WalletError& e) {
                       throw RpcException(e.code(), e.what());
                   }
                   return Json();
               }});
    table.Add({"rescanblockchain",
               "Wallet",
               {rpc::Optional("start_height", ParamType::NUMBER, "First block to read (default 0)"),
                rpc::Optional("stop_height", ParamType::NUMBER,
                              "Last block to read (default: the last block the wallet processed)")},
               "Reads blocks of the active chain again for the wallet's transactions.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   auto chain = service.RequireChain();
                   const auto last = wallet->LastBlock();
                   const int64_t tip = last ? last->height : chain->getTip().height;
                   const int64_t start = IntArg(call.Arg(0), 0);
                   if (start < 0 || start > tip) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid start_height");
                   std::optional<int64_t> stop;
                   if (!call.Arg(1).is_null()) {
                       stop = rpc::IntegerArg(call.Arg(1));
                       if (*stop < start || *stop > tip) {
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid stop_height");
                       }
                   }
                   RescanResult result;
                   try {
                       result = Rescan(*wallet, *chain, start, stop);
                   } catch (const WalletError& e) {
                       throw RpcException(e.code(), e.what());
                   }
                   if (result.aborted) throw RpcException(rpc::RPC_MISC_ERROR, "Rescan aborted by user.");
                   return Json{{"start_height", result.start_height}, {"stop_height", result.stop_height}};
               }});
    table.Add({"abortrescan",
               "Wallet",
               {},
               "Stops a rescan of the wallet that is running; false when none runs.",
               [&service](const rpc::CallRequest& call) { return Json(CallWallet(service, call)->AbortScan()); }});
}

} // namespace orrery::wallet
