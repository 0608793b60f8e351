// The node's chain RPC methods over the chainstate: getblock, getblockheader,
// getchaintips, getblockstats, getchaintxstats, getdeploymentinfo,
// invalidateblock, reconsiderblock, preciousblock, the waitfor* methods,
// verifychain, pruneblockchain and syncwithvalidationinterfacequeue.
// Arguments, results and errors are bitcoind's; the JSON is built in
// blockchain_json.cpp.
#include <services/node/rpc/rpc.h>

#include <common/consensus/hex.h>
#include <common/util/logging.h>
#include <services/node/rpc/core_json.h>
#include <services/node/storage/block_files.h>
#include <services/node/validation/chainstate.h>

#include <atomic>
#include <chrono>
#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

//! Blocks pruneblockchain always keeps below the tip (Core's MIN_BLOCKS_TO_KEEP).
constexpr int MIN_BLOCKS_TO_KEEP = 288;
//! Slack for blocks with old timestamps when pruneblockchain is given a time (Core's TIMESTAMP_WINDOW).
constexpr int64_t TIMESTAMP_WINDOW = 2 * 60 * 60;

//! Core's nPruneAfterHeight: no pruning below this height.
int PruneAfterHeight(ChainType chain)
{
    return chain == ChainType::MAIN ? 100000 : 1000;
}

//! A block hash in the active chain, or a height, as getblockstats takes it (Core's ParseHashOrHeight).
const BlockIndex* ParseHashOrHeight(const Json& param, const ChainstateManager& chainstate)
{
    auto lock = chainstate.Lock();
    const ActiveChain& chain = chainstate.Chain();
    if (param.is_number()) {
        int64_t height = rpc::IntegerArg(param);
        if (height < 0) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    fmt::format("Target block height {} is negative", height));
        }
        if (height > chain.Height()) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    fmt::format("Target block height {} after current tip {}", height, chain.Height()));
        }
        return chain[static_cast<int>(height)];
    }
    const BlockIndex* index = chainstate.LookupBlockIndex(ParseHashArg(param, "hash_or_height"));
    if (!index) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
    return index;
}

//! Looks a block up by the hash argument: RPC_INVALID_ADDRESS_OR_KEY "Block not found" when unknown.
const BlockIndex* LookupOrThrow(const ChainstateManager& chainstate, const uint256& hash)
{
    auto lock = chainstate.Lock();
    const BlockIndex* index = chainstate.LookupBlockIndex(hash);
    if (!index) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
    return index;
}

//! Core's CheckBlockDataAvailability: the block's data (or undo data) must be stored.
void CheckDataAvailable(const ChainstateManager& chainstate, const BlockIndex& index, bool undo)
{
    auto lock = chainstate.Lock();
    uint32_t flag = undo ? BLOCK_HAVE_UNDO : BLOCK_HAVE_DATA;
    if (index.status & flag) return;
    // A block whose transactions were counted was stored once: it is gone because it was pruned.
    if (chainstate.IsPruned() && index.n_tx > 0) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR,
                                fmt::format("{} not available (pruned data)", undo ? "Undo data" : "Block"));
    }
    if (undo) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Undo data not available");
    throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available (not fully downloaded)");
}

std::vector<uint8_t> ReadRawBlockChecked(const ChainstateManager& chainstate, const BlockIndex& index)
{
    CheckDataAvailable(chainstate, index, /*undo=*/false);
    try {
        return chainstate.ReadRawBlock(&index);
    } catch (const BlockPrunedError&) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available (pruned data)");
    } catch (const std::exception& e) {
        // Pruned between the check and the read, or unreadable: bitcoind says the same.
        LogPrintf("getblock: reading block {}: {}", index.hash.GetHex(), e.what());
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not found on disk");
    }
}

Block ReadBlockChecked(const ChainstateManager& chainstate, const BlockIndex& index)
{
    std::vector<uint8_t> raw = ReadRawBlockChecked(chainstate, index);
    try {
        return DeserializeBlock(raw);
    } catch (const std::exception&) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not found on disk");
    }
}

BlockUndo ReadUndoChecked(const ChainstateManager& chainstate, const BlockIndex& index)
{
    if (index.height == 0) return {}; // the genesis block spends nothing and has no undo record
    CheckDataAvailable(chainstate, index, /*undo=*/true);
    try {
        return chainstate.ReadUndo(&index);
    } catch (const BlockPrunedError&) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Undo data not available (pruned data)");
    } catch (const std::exception&) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Can't read undo data from disk");
    }
}

//! Core's IsBIP30Repeat: the two main-chain blocks whose coinbases repeat earlier ones.
bool IsBip30Repeat(const BlockIndex& index)
{
    static const uint256 FIRST = *uint256::FromHex("00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec");
    static const uint256 SECOND = *uint256::FromHex("00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721");
    return (index.height == 91842 && index.hash == FIRST) || (index.height == 91880 && index.hash == SECOND);
}

Json HashHeightToJson(const BlockIndex& index)
{
    Json out = Json::object();
    out["hash"] = index.hash.GetHex();
    out["height"] = index.height;
    return out;
}

//! A timeout argument in milliseconds; RPC_MISC_ERROR "Negative timeout" below zero. 0: no timeout.
int64_t TimeoutArg(const Json& value)
{
    int64_t timeout = value.is_null() ? 0 : rpc::IntegerArg(value);
    if (timeout < 0) throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Negative timeout");
    return timeout;
}

//! Waits while `keep_waiting(tip)` holds, at most `timeout_ms` (0: until the node stops), and returns the tip then.
//! Each tip change wakes it, and so does the node's stop (ChainstateManager::InterruptWaits): no polling.
const BlockIndex* WaitForTip(ChainstateManager& chainstate, int64_t timeout_ms,
                             const std::function<bool(const BlockIndex&)>& keep_waiting)
{
    using Clock = std::chrono::steady_clock;
    const BlockIndex* tip;
    {
        auto lock = chainstate.Lock();
        tip = chainstate.Tip();
    }
    const auto deadline = timeout_ms ? Clock::now() + std::chrono::milliseconds(timeout_ms) : Clock::time_point::max();
    LogDebug(LogCategory::RPC, "Waiting for the tip to change from {} (timeout {} ms, 0: none)", tip->hash.GetHex(),
             timeout_ms);
    while (keep_waiting(*tip) && !chainstate.WaitsInterrupted()) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        // A day at a time when there is no timeout: wait_for's clock arithmetic must not overflow.
        const auto left = deadline == Clock::time_point::max()
                              ? std::chrono::milliseconds(std::chrono::hours(24))
                              : std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        tip = chainstate.WaitForTipChange(tip->hash, left);
    }
    return tip;
}

//! getblock's transactions at verbosity 2 and 3, in getrawtransaction's form with the hex, and the fee (and at
//! 3 each input's prevout) when the undo data is there.
TxJsonFunction BlockTxJson(Network network)
{
    return [network](const Transaction& tx, const TxUndo* undo, bool with_prevouts) {
        return TxToJson(tx, network, uint256(), /*include_hex=*/true, undo,
                        with_prevouts ? TxVerbosity::SHOW_DETAILS_AND_PREVOUT : TxVerbosity::SHOW_DETAILS);
    };
}

} // namespace

void RegisterChainRpc(rpc::Table& table, ChainstateManager& chainstate)
{
    ChainstateManager* cs = &chainstate;

    table.Add({"getblock",
               "Blockchain",
               {rpc::Required("blockhash", ParamType::STRING, "The hash of the block"),
                rpc::Optional("verbosity", ParamType::ANY,
                              "0: the serialized block in hex; 1 (default): an object with the transaction ids; 2: "
                              "each transaction decoded, with its fee when undo data is kept; 3: also each input's "
                              "prevout. true and false stand for 1 and 0.")},
               "Shows a stored block, whether or not it is in the active chain.",
               [cs](const rpc::CallRequest& call) -> Json {
                   uint256 hash = ParseHashArg(call.Arg(0), "blockhash");
                   int verbosity = ParseVerbosity(call.Arg(1), 1, /*allow_bool=*/true);
                   const BlockIndex* index = LookupOrThrow(*cs, hash);
                   std::vector<uint8_t> raw = ReadRawBlockChecked(*cs, *index);
                   if (verbosity <= 0) return HexStr(raw);
                   Block block = DeserializeBlock(raw);
                   std::optional<BlockUndo> undo;
                   if (verbosity >= 2 && index->height > 0) {
                       bool have_undo;
                       {
                           auto lock = cs->Lock();
                           have_undo = index->status & BLOCK_HAVE_UNDO;
                       }
                       if (have_undo) {
                           try {
                               undo = cs->ReadUndo(index);
                           } catch (const BlockPrunedError&) {
                               // Pruned after the block was read: the answer goes without fees and prevouts.
                           } catch (const std::exception&) {
                               throw rpc::RpcException(rpc::RPC_INTERNAL_ERROR,
                                                       "Undo data expected but can't be read. This could be due to "
                                                       "disk corruption or a conflict with a pruning event.");
                           }
                       }
                   }
                   auto lock = cs->Lock();
                   return BlockToJson(block, *cs->Tip(), *index, verbosity, undo ? &*undo : nullptr,
                                      BlockTxJson(AddressNetwork(cs->Params().type)));
               }});

    table.Add({"getblockheader",
               "Blockchain",
               {rpc::Required("blockhash", ParamType::STRING, "The hash of the block"),
                rpc::Optional("verbose", ParamType::BOOL, "true (default): an object; false: the 80 bytes in hex")},
               "Shows a known block header, stored or not, in the active chain or not.",
               [cs](const rpc::CallRequest& call) -> Json {
                   uint256 hash = ParseHashArg(call.Arg(0), "blockhash");
                   bool verbose = call.Arg(1).is_null() ? true : call.Arg(1).get<bool>();
                   const BlockIndex* index = LookupOrThrow(*cs, hash);
                   auto lock = cs->Lock();
                   if (!verbose) return HexStr(SerializeBlockHeader(index->header));
                   return BlockHeaderToJson(*cs->Tip(), *index);
               }});

    table.Add({"getchaintips",
               "Blockchain",
               {},
               "Lists the tips of every branch of the block tree: the active chain's tip and the forks, with the "
               "length of each fork and its status (active, valid-fork, valid-headers, headers-only, invalid).",
               [cs](const rpc::CallRequest&) -> Json {
                   auto lock = cs->Lock();
                   return ChainTipsToJson(cs->Chain(), cs->ChainTips());
               }});

    table.Add({"getblockstats",
               "Blockchain",
               {rpc::Required("hash_or_height", ParamType::ANY, "The block's hash, or its height in the active chain"),
                rpc::Optional("stats", ParamType::ARRAY, "The names of the statistics wanted (default: all)")},
               "Computes statistics of one block: sizes, fees and fee rates (in satoshis), inputs, outputs and the "
               "change of the UTXO set. Needs the block's undo data, so it fails for pruned blocks.",
               [cs](const rpc::CallRequest& call) -> Json {
                   const BlockIndex* index = ParseHashOrHeight(call.Arg(0), *cs);
                   std::set<std::string> stats;
                   if (!call.Arg(1).is_null()) {
                       for (const Json& stat : call.Arg(1)) {
                           if (!stat.is_string()) {
                               throw rpc::RpcException(
                                   rpc::RPC_TYPE_ERROR,
                                   fmt::format("JSON value of type {} is not of expected type string",
                                               rpc::JsonTypeName(stat)));
                           }
                           stats.insert(stat.get<std::string>());
                       }
                   }
                   Block block = ReadBlockChecked(*cs, *index);
                   BlockUndo undo = ReadUndoChecked(*cs, *index);
                   Amount subsidy = GetBlockSubsidy(index->height, cs->Params().consensus);
                   return BlockStatsToJson(block, undo, *index, subsidy, stats, IsBip30Repeat(*index));
               }});

    table.Add({"getchaintxstats",
               "Blockchain",
               {rpc::Optional("nblocks", ParamType::NUMBER, "The size of the window in blocks (default: one month)"),
                rpc::Optional("blockhash", ParamType::STRING, "The last block of the window (default: the tip)")},
               "Counts the transactions of the chain up to a block, and their rate over a window of blocks before it.",
               [cs](const rpc::CallRequest& call) -> Json {
                   const ChainParams& params = cs->Params();
                   int64_t blockcount = 30 * 24 * 60 * 60 / params.consensus.pow_target_spacing;
                   auto lock = cs->Lock();
                   const BlockIndex* index;
                   if (call.Arg(1).is_null()) {
                       index = cs->Tip();
                   } else {
                       index = cs->LookupBlockIndex(ParseHashArg(call.Arg(1), "blockhash"));
                       if (!index) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
                       if (!cs->Chain().Contains(index)) {
                           throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block is not in main chain");
                       }
                   }
                   if (call.Arg(0).is_null()) {
                       blockcount = std::max<int64_t>(0, std::min<int64_t>(blockcount, index->height - 1));
                   } else {
                       blockcount = rpc::IntegerArg(call.Arg(0));
                       if (blockcount < 0 || (blockcount > 0 && blockcount >= index->height)) {
                           throw rpc::RpcException(
                               rpc::RPC_INVALID_PARAMETER,
                               "Invalid block count: should be between 0 and the block's height - 1");
                       }
                   }
                   const BlockIndex* past = index->GetAncestor(index->height - static_cast<int>(blockcount));
                   int64_t time_diff = index->GetMedianTimePast() - past->GetMedianTimePast();
                   Json out = Json::object();
                   out["time"] = index->GetBlockTime();
                   if (index->chain_tx) out["txcount"] = index->chain_tx;
                   out["window_final_block_hash"] = index->hash.GetHex();
                   out["window_final_block_height"] = index->height;
                   out["window_block_count"] = blockcount;
                   if (blockcount > 0) {
                       out["window_interval"] = time_diff;
                       if (index->chain_tx && past->chain_tx) {
                           uint64_t window_tx_count = index->chain_tx - past->chain_tx;
                           out["window_tx_count"] = window_tx_count;
                           if (time_diff > 0) {
                               out["txrate"] = static_cast<double>(window_tx_count) / static_cast<double>(time_diff);
                           }
                       }
                   }
                   return out;
               }});

    table.Add(
        {"getdeploymentinfo",
         "Blockchain",
         {rpc::Optional("blockhash", ParamType::STRING, "The block at which to describe them (default: the tip)")},
         "Describes the consensus rule changes (soft forks) the network knows and whether each is enforced "
         "after the given block.",
         [cs](const rpc::CallRequest& call) -> Json {
             auto lock = cs->Lock();
             const BlockIndex* index = cs->Tip();
             if (!call.Arg(0).is_null()) {
                 index = cs->LookupBlockIndex(ParseHashArg(call.Arg(0), "blockhash"));
                 if (!index) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
             }
             Json out = Json::object();
             out["hash"] = index->hash.GetHex();
             out["height"] = index->height;
             out["deployments"] = DeploymentsToJson(*index, cs->Params().consensus, cs->VersionBits());
             return out;
         }});

    table.Add({"invalidateblock",
               "Blockchain",
               {rpc::Required("blockhash", ParamType::STRING, "The hash of the block to treat as invalid")},
               "Marks a block, and so every block built on it, invalid as if it broke a consensus rule; the node "
               "moves to the best chain without it. reconsiderblock undoes it.",
               [cs](const rpc::CallRequest& call) -> Json {
                   uint256 hash = ParseHashArg(call.Arg(0), "blockhash");
                   LookupOrThrow(*cs, hash);
                   ValidationState state;
                   if (!cs->InvalidateBlock(hash, state) || !state.IsValid()) {
                       throw rpc::RpcException(rpc::RPC_DATABASE_ERROR, state.ToString());
                   }
                   return nullptr;
               }});

    table.Add({"reconsiderblock",
               "Blockchain",
               {rpc::Required("blockhash", ParamType::STRING, "The hash of the block to reconsider")},
               "Clears the invalid mark of a block, its ancestors and its descendants (set by invalidateblock or "
               "by a failed validation), and moves to the best chain again.",
               [cs](const rpc::CallRequest& call) -> Json {
                   uint256 hash = ParseHashArg(call.Arg(0), "blockhash");
                   LookupOrThrow(*cs, hash);
                   ValidationState state;
                   if (!cs->ReconsiderBlock(hash, state) || !state.IsValid()) {
                       throw rpc::RpcException(rpc::RPC_DATABASE_ERROR, state.ToString());
                   }
                   return nullptr;
               }});

    table.Add({"preciousblock",
               "Blockchain",
               {rpc::Required("blockhash", ParamType::STRING, "The hash of the block to prefer")},
               "Prefers a block over others of the same chain work, as if it had arrived first; a later call may "
               "prefer another. Not kept across restarts.",
               [cs](const rpc::CallRequest& call) -> Json {
                   uint256 hash = ParseHashArg(call.Arg(0), "blockhash");
                   LookupOrThrow(*cs, hash);
                   ValidationState state;
                   if (!cs->PreciousBlock(hash, state) || !state.IsValid()) {
                       throw rpc::RpcException(rpc::RPC_DATABASE_ERROR, state.ToString());
                   }
                   return nullptr;
               }});

    table.Add({"waitfornewblock",
               "Blockchain",
               {rpc::Optional("timeout", ParamType::NUMBER, "Milliseconds to wait at most (default: 0, no limit)"),
                rpc::Optional("current_tip", ParamType::STRING,
                              "Wait for a tip other than this hash (default: the tip when the call arrives), so that a "
                              "block mined just before the call is not missed")},
               "Waits until the tip changes and gives the new tip's hash and height (the current tip on timeout or "
               "when the node stops). Call it with no client-side RPC timeout.",
               [cs](const rpc::CallRequest& call) -> Json {
                   int64_t timeout = TimeoutArg(call.Arg(0));
                   uint256 start;
                   if (!call.Arg(1).is_null()) {
                       start = ParseHashArg(call.Arg(1), "current_tip");
                   } else {
                       auto lock = cs->Lock();
                       start = cs->Tip()->hash;
                   }
                   const BlockIndex* tip =
                       WaitForTip(*cs, timeout, [&start](const BlockIndex& tip) { return tip.hash == start; });
                   return HashHeightToJson(*tip);
               }});

    table.Add({"waitforblock",
               "Blockchain",
               {rpc::Required("blockhash", ParamType::STRING, "The block to wait for"),
                rpc::Optional("timeout", ParamType::NUMBER, "Milliseconds to wait at most (default: 0, no limit)")},
               "Waits until the given block is the tip and gives the tip's hash and height (the current tip on "
               "timeout or when the node stops). Call it with no client-side RPC timeout.",
               [cs](const rpc::CallRequest& call) -> Json {
                   uint256 hash = ParseHashArg(call.Arg(0), "blockhash");
                   int64_t timeout = TimeoutArg(call.Arg(1));
                   const BlockIndex* tip =
                       WaitForTip(*cs, timeout, [&hash](const BlockIndex& tip) { return tip.hash != hash; });
                   return HashHeightToJson(*tip);
               }});

    table.Add({"waitforblockheight",
               "Blockchain",
               {rpc::Required("height", ParamType::NUMBER, "The height to wait for"),
                rpc::Optional("timeout", ParamType::NUMBER, "Milliseconds to wait at most (default: 0, no limit)")},
               "Waits until the tip is at least at the given height and gives the tip's hash and height (the current "
               "tip on timeout or when the node stops). Call it with no client-side RPC timeout.",
               [cs](const rpc::CallRequest& call) -> Json {
                   int64_t height = rpc::IntegerArg(call.Arg(0));
                   int64_t timeout = TimeoutArg(call.Arg(1));
                   const BlockIndex* tip =
                       WaitForTip(*cs, timeout, [height](const BlockIndex& tip) { return tip.height < height; });
                   return HashHeightToJson(*tip);
               }});

    table.Add({"syncwithvalidationinterfacequeue",
               "Blockchain",
               {},
               "Returns once every chain notification queued before the call (to wallets and other listeners) has "
               "been delivered.",
               [cs](const rpc::CallRequest&) -> Json {
                   cs->SyncWithListeners();
                   return nullptr;
               }});

    table.Add({"verifychain",
               "Blockchain",
               {rpc::Optional("checklevel", ParamType::NUMBER,
                              "How thorough (0-4, default 3): 0 reads the blocks, 1 checks them, 2 checks the undo "
                              "data, 3 disconnects the blocks in memory, 4 connects them again"),
                rpc::Optional("nblocks", ParamType::NUMBER, "How many blocks back from the tip (default 6, 0 = all)")},
               "Checks the last blocks of the active chain and their undo data against the UTXO set. false means a "
               "check failed; debug.log says which.",
               [cs](const rpc::CallRequest& call) -> Json {
                   int64_t level = call.Arg(0).is_null() ? DEFAULT_CHECKLEVEL : rpc::IntegerArg(call.Arg(0));
                   int64_t depth = call.Arg(1).is_null() ? DEFAULT_CHECKBLOCKS : rpc::IntegerArg(call.Arg(1));
                   level = std::clamp<int64_t>(level, 0, 4);
                   if (depth < 0 || depth > INT32_MAX) depth = 0;
                   return cs->VerifyChain(static_cast<int>(level), static_cast<int>(depth));
               }});

    table.Add({"pruneblockchain",
               "Blockchain",
               {rpc::Required("height", ParamType::NUMBER,
                              "Prune the blocks up to this height, or, given a unix time, the blocks at least two "
                              "hours older than it")},
               "Deletes the block and undo files that hold only blocks up to the given height (the last 288 blocks "
               "are always kept). Needs -prune. Gives the height of the last block pruned.",
               [cs](const rpc::CallRequest& call) -> Json {
                   if (!cs->IsPruned()) {
                       throw rpc::RpcException(rpc::RPC_MISC_ERROR,
                                               "Cannot prune blocks because node is not in prune mode.");
                   }
                   int64_t height_param = rpc::IntegerArg(call.Arg(0));
                   if (height_param < 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Negative block height.");
                   int height;
                   int chain_height;
                   {
                       auto lock = cs->Lock();
                       const ActiveChain& chain = cs->Chain();
                       chain_height = chain.Height();
                       if (height_param > 1'000'000'000) {
                           // Too high for a height, so a time: the first block whose time (and every later one's)
                           // may be that recent.
                           const BlockIndex* found = nullptr;
                           for (int h = 0; h <= chain_height; ++h) {
                               if (int64_t{chain[h]->time_max} >= height_param - TIMESTAMP_WINDOW) {
                                   found = chain[h];
                                   break;
                               }
                           }
                           if (!found) {
                               throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                                       "Could not find block with at least the specified timestamp.");
                           }
                           height_param = found->height;
                       }
                   }
                   height = static_cast<int>(height_param);
                   if (chain_height < PruneAfterHeight(cs->Params().type)) {
                       throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Blockchain is too short for pruning.");
                   }
                   if (height > chain_height) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Blockchain is shorter than the attempted prune height.");
                   }
                   if (height > chain_height - MIN_BLOCKS_TO_KEEP) {
                       LogDebug(LogCategory::RPC, "Attempt to prune blocks close to the tip. Retaining the minimum "
                                                  "number of blocks.");
                       height = chain_height - MIN_BLOCKS_TO_KEEP;
                   }
                   return cs->PruneBlockchain(height);
               }});
}

} // namespace orrery::node
