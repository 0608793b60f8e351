// The node's blockchain RPC methods: getblockchaininfo, getblockcount,
// getbestblockhash, getblockhash. They read the node's chainstate.
#include <services/node/rpc/mempool_rpc.h>
#include <services/node/rpc/rpc.h>

#include <services/node/node.h>
#include <services/node/rpc/mining.h>
#include <services/node/rpc/psbt_rpc.h>
#include <services/node/rpc/rawtransaction.h>
#include <services/node/rpc/rawtransaction_sign.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

rpc::Json BlockchainInfoToJson(const BlockchainInfo& info)
{
    Json out = Json::object();
    out["chain"] = info.chain;
    out["blocks"] = info.blocks;
    out["headers"] = info.headers;
    out["bestblockhash"] = info.best_block_hash;
    out["difficulty"] = info.difficulty;
    out["time"] = info.time;
    out["mediantime"] = info.median_time;
    out["verificationprogress"] = info.verification_progress;
    out["initialblockdownload"] = info.initial_block_download;
    out["chainwork"] = info.chain_work;
    out["size_on_disk"] = info.size_on_disk;
    out["pruned"] = info.pruned;
    if (info.pruned) {
        out["pruneheight"] = info.prune_height;
        out["automatic_pruning"] = info.automatic_pruning;
        if (info.automatic_pruning) out["prune_target_size"] = info.prune_target_size;
    }
    // bitcoind 28+ answers a list of warnings.
    out["warnings"] = info.warnings.empty() ? Json::array() : Json::array({info.warnings});
    return out;
}

void RegisterBlockchainRpc(rpc::Table& table, NodeService& node)
{
    table.Add({"getblockchaininfo",
               "Blockchain",
               {},
               "Describes the node's view of the block chain: network, tip, difficulty, work and disk use.",
               [&node](const rpc::CallRequest&) { return BlockchainInfoToJson(node.GetBlockchainInfo()); }});
    table.Add({"getblockcount",
               "Blockchain",
               {},
               "Gives the height of the tip of the most-work chain (0 for the genesis block alone).",
               [&node](const rpc::CallRequest&) {
                   auto lock = node.Chainstate().Lock();
                   return Json(node.Chainstate().Height());
               }});
    table.Add({"getbestblockhash",
               "Blockchain",
               {},
               "Gives the hash of the tip of the most-work chain, in hex.",
               [&node](const rpc::CallRequest&) {
                   auto lock = node.Chainstate().Lock();
                   return Json(node.Chainstate().Tip()->hash.GetHex());
               }});
    table.Add({"getblockhash",
               "Blockchain",
               {rpc::Required("height", ParamType::NUMBER, "The height of the block in the most-work chain")},
               "Gives the hash of the block at a height of the most-work chain.",
               [&node](const rpc::CallRequest& call) {
                   const int64_t height = rpc::IntegerArg(call.Arg(0));
                   auto lock = node.Chainstate().Lock();
                   if (height < 0 || height > node.Chainstate().Height()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
                   }
                   return Json(node.Chainstate().Chain()[static_cast<int>(height)]->hash.GetHex());
               }});
}

std::shared_ptr<const rpc::Table> MakeRpcTable(NodeService& node)
{
    auto table = std::make_shared<rpc::Table>();
    RegisterBlockchainRpc(*table, node);
    RegisterNetRpc(*table, node);
    RegisterMempoolRpc(*table, node);
    RegisterMempoolSubmitRpc(*table, node);
    RegisterFeeRpc(*table, node);
    RegisterRawTransactionRpc(*table, node.Chainstate().Params().type);
    RegisterSignRpc(*table, node);
    RegisterPsbtRpc(*table, node);
    RegisterChainRpc(*table, node.Chainstate());
    RegisterUtxoRpc(*table, node.Chainstate(), node.HasMempool() ? &node.GetMempool() : nullptr);
    RegisterChainRawTransactionRpc(*table, node.Chainstate());
    RegisterNodeMiscRpc(*table, node);
    RegisterMessageRpc(*table, node.Chainstate().Params().type);
    RegisterMiningRpc(*table, node.Chainstate(),
                      MiningContext{[&node] {
                                        const auto counts = node.CountConnections();
                                        return counts.inbound + counts.outbound;
                                    },
                                    node.HasMempool() ? &node.GetMempool() : nullptr});
    return table;
}

} // namespace orrery::node
