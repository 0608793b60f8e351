// getrawtransaction: a transaction from a given block, or through -txindex,
// with the chain's context (confirmations, block time) and, at verbosity 2,
// what each input spent from the block's undo data. bitcoind's fields and
// errors.
#include <services/node/rpc/rawtransaction.h>

#include <common/consensus/hex.h>
#include <services/node/rpc/core_json.h>
#include <services/node/validation/chainstate.h>

#include <algorithm>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

//! Core's TxToJSON: the transaction with its hex, then blockhash, confirmations, time and blocktime.
Json TxWithContext(const Transaction& tx, const uint256& block_hash, ChainstateManager& chainstate, Network network,
                   Json entry, const TxUndo* undo, TxVerbosity verbosity)
{
    Json body = TxToJson(tx, network, uint256{}, /*include_hex=*/true, undo, verbosity);
    for (auto& [key, value] : body.items()) entry[key] = value;
    if (!block_hash.IsNull()) {
        auto lock = chainstate.Lock();
        entry["blockhash"] = block_hash.GetHex();
        if (const BlockIndex* index = chainstate.LookupBlockIndex(block_hash)) {
            if (chainstate.Chain().Contains(index)) {
                entry["confirmations"] = 1 + chainstate.Height() - index->height;
                entry["time"] = index->GetBlockTime();
                entry["blocktime"] = index->GetBlockTime();
            } else {
                entry["confirmations"] = 0;
            }
        }
    }
    return entry;
}

int VerbosityArg(const Json& value)
{
    if (value.is_null()) return 0;
    if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
    const int64_t verbosity = rpc::IntegerArg(value);
    return static_cast<int>(std::clamp<int64_t>(verbosity, INT32_MIN, INT32_MAX));
}

} // namespace

void RegisterChainRawTransactionRpc(rpc::Table& table, ChainstateManager& chainstate)
{
    const Network network = AddressNetwork(chainstate.Params().type);
    table.Add({"getrawtransaction",
               "Raw transactions",
               {rpc::Required("txid", ParamType::STRING, "The transaction id"),
                rpc::Optional("verbosity", ParamType::ANY,
                              "0 (or false): the hex; 1 (or true): JSON; 2: JSON with fee and each input's prevout"),
                rpc::Optional("blockhash", ParamType::STRING, "The block to look in")},
               "Gives a transaction of a block: the given block, or any block with -txindex (the mempool "
               "comes later). Wallet transactions are gettransaction's.",
               [&chainstate, network](const rpc::CallRequest& call) -> Json {
                   const uint256 hash = ParseHashArg(call.Arg(0), "parameter 1");
                   if (hash == chainstate.Params().genesis.merkle_root) {
                       throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                               "The genesis block coinbase is not considered an ordinary "
                                               "transaction and cannot be retrieved");
                   }
                   const int verbosity = VerbosityArg(call.Arg(1));
                   const BlockIndex* index = nullptr;
                   if (!call.Arg(2).is_null()) {
                       const uint256 block_hash = ParseHashArg(call.Arg(2), "parameter 3");
                       auto lock = chainstate.Lock();
                       index = chainstate.LookupBlockIndex(block_hash);
                       if (!index) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block hash not found");
                   }

                   std::optional<Transaction> tx;
                   uint256 block_hash;
                   std::optional<Block> block;
                   if (index) {
                       bool have_data = false;
                       {
                           auto lock = chainstate.Lock();
                           have_data = index->HaveData();
                       }
                       if (have_data) {
                           try {
                               block = chainstate.ReadBlock(index);
                           } catch (const BlockPrunedError&) {
                               have_data = false;
                           }
                       }
                       if (!have_data) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available");
                       for (const Transaction& candidate : block->txs) {
                           if (candidate.GetTxid() == hash) {
                               tx = candidate;
                               block_hash = index->hash;
                               break;
                           }
                       }
                   } else if (chainstate.HasTxIndex()) {
                       if (auto found = chainstate.FindTransaction(hash)) {
                           tx = std::move(found->first);
                           block_hash = found->second;
                       }
                   }
                   if (!tx) {
                       std::string message;
                       if (index) {
                           message = "No such transaction found in the provided block";
                       } else if (!chainstate.HasTxIndex()) {
                           message = "No such mempool transaction. Use -txindex or provide a block hash to enable "
                                     "blockchain transaction queries";
                       } else {
                           message = "No such mempool or blockchain transaction";
                       }
                       throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                               message + ". Use gettransaction for wallet transactions.");
                   }
                   if (verbosity <= 0) return Json(HexStr(SerializeTransaction(*tx, true)));

                   Json result = Json::object();
                   if (index) {
                       auto lock = chainstate.Lock();
                       result["in_active_chain"] = chainstate.Chain().Contains(index);
                   } else {
                       auto lock = chainstate.Lock();
                       index = chainstate.LookupBlockIndex(block_hash);
                   }
                   bool have_undo = false;
                   if (index) {
                       auto lock = chainstate.Lock();
                       have_undo = index->HaveData() && (index->status & BLOCK_HAVE_UNDO);
                   }
                   if (verbosity == 1 || tx->IsCoinbase() || !index || !have_undo) {
                       return TxWithContext(*tx, block_hash, chainstate, network, std::move(result), nullptr,
                                            TxVerbosity::SHOW_DETAILS);
                   }
                   BlockUndo undo;
                   try {
                       undo = chainstate.ReadUndo(index);
                       if (!block) block = chainstate.ReadBlock(index);
                   } catch (const std::exception&) {
                       throw rpc::RpcException(rpc::RPC_INTERNAL_ERROR,
                                               "Undo data expected but can't be read. This could be due to disk "
                                               "corruption or a conflict with a pruning event.");
                   }
                   const TxUndo* tx_undo = nullptr;
                   for (size_t i = 1; i < block->txs.size(); ++i) {
                       if (block->txs[i] == *tx && i - 1 < undo.txs.size()) tx_undo = &undo.txs[i - 1];
                   }
                   return TxWithContext(*tx, block_hash, chainstate, network, std::move(result), tx_undo,
                                        TxVerbosity::SHOW_DETAILS_AND_PREVOUT);
               }});
}

} // namespace orrery::node
