// The node's mining RPC methods, over the chainstate and the block assembler
// (services/node/miner.h). Names, arguments, results and errors are
// bitcoind's; help texts are ours.
#include <services/node/rpc/mining.h>

#include <common/consensus/consensus.h>
#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/consensus/pow.h>
#include <common/keys/descriptor.h>
#include <common/keys/key_io.h>
#include <common/util/mock_time.h>
#include <services/node/mempool/mempool.h>
#include <services/node/miner.h>
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/rawtransaction.h>
#include <services/node/validation/chainstate.h>

#include <fmt/format.h>

#include <atomic>
#include <set>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

//! Core's DEFAULT_MAX_TRIES for the generate* methods.
constexpr uint64_t DEFAULT_MAX_TRIES = 1000000;
//! Core's reserve for the coinbase in templates filled from the mempool.
constexpr int64_t COINBASE_RESERVED_WEIGHT = 4000;
constexpr int64_t COINBASE_RESERVED_SIGOPS = 400;

const std::string& StrParam(const Json& value, std::string_view name)
{
    if (!value.is_string()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                fmt::format("JSON value of type {} for field {} is not of expected type string",
                                            rpc::JsonTypeName(value), name));
    }
    return value.get_ref<const std::string&>();
}

double WorkToDouble(const ArithUint256& work)
{
    double out = 0;
    double factor = 1;
    ArithUint256 rest = work;
    for (int i = 0; i < 4; ++i) {
        out += factor * static_cast<double>(rest.GetLow64());
        rest >>= 64;
        factor *= 18446744073709551616.0;
    }
    return out;
}

//! Core's BIP22ValidationResult for a reject reason: null when valid, else the reason ("rejected" if none).
Json Bip22Result(const ValidationState& state)
{
    if (state.IsValid()) return Json();
    return state.GetRejectReason().empty() ? Json("rejected") : Json(state.GetRejectReason());
}

//! The state shared by the handlers: what the last template weighed (getmininginfo).
struct MiningState {
    std::atomic<int64_t> last_block_weight{-1};
    std::atomic<int64_t> last_block_txs{-1};
};

} // namespace

std::vector<uint8_t> ScriptFromDescriptor(const std::string& descriptor, Network network, std::string* parse_error)
{
    ParsedDescriptor parsed;
    try {
        parsed = ParseDescriptor(descriptor, network, /*require_checksum=*/false);
    } catch (const DescriptorError& e) {
        if (parse_error) {
            *parse_error = e.what();
            return {};
        }
        throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, e.what());
    }
    if (parsed.multipath) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Multipath descriptor not accepted");
    if (parsed.ranged) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                "Ranged descriptor not accepted. Maybe pass through deriveaddresses first?");
    }
    if (parsed.needs_private) {
        throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Cannot derive script without private keys");
    }
    const auto& scripts = parsed.scripts;
    if (scripts.size() == 1) return scripts[0];
    // combo(): P2WPKH for a compressed key (four scripts), else P2PKH (two).
    return scripts.size() == 4 ? scripts.at(2) : scripts.at(1);
}

Json NetworkHashPerSecond(int lookup, int height, const ActiveChain& chain, int64_t interval)
{
    if (lookup < -1 || lookup == 0) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid nblocks. Must be a positive number or -1.");
    }
    if (height < -1 || height > chain.Height()) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block does not exist at specified height");
    }
    const BlockIndex* pb = height >= 0 ? chain[height] : chain.Tip();
    if (pb == nullptr || pb->height == 0) return Json(0);
    if (lookup == -1) lookup = static_cast<int>(pb->height % interval) + 1;
    if (lookup > pb->height) lookup = pb->height;
    const BlockIndex* pb0 = pb;
    int64_t min_time = pb0->GetBlockTime();
    int64_t max_time = min_time;
    for (int i = 0; i < lookup; ++i) {
        pb0 = pb0->prev;
        min_time = std::min(min_time, pb0->GetBlockTime());
        max_time = std::max(max_time, pb0->GetBlockTime());
    }
    if (min_time == max_time) return Json(0);
    return Json(WorkToDouble(pb->chain_work - pb0->chain_work) / static_cast<double>(max_time - min_time));
}

void RegisterMiningRpc(rpc::Table& table, ChainstateManager& chainstate, MiningContext context)
{
    const Network network = AddressNetwork(chainstate.Params().type);
    auto state = std::make_shared<MiningState>();
    auto now = [&chainstate] { return chainstate.Options().now ? chainstate.Options().now() : GetTime(); };

    // Mines `count` blocks to `script`; Core's generateBlocks.
    // The mempool's best transactions for a block (none without a mempool), leaving room for the coinbase.
    auto mempool_txs = [context]() {
        std::vector<Mempool::BlockCandidate> selected;
        if (context.mempool) {
            selected = context.mempool->SelectForBlock(MAX_BLOCK_WEIGHT - COINBASE_RESERVED_WEIGHT,
                                                       MAX_BLOCK_SIGOPS_COST - COINBASE_RESERVED_SIGOPS);
        }
        return selected;
    };
    auto generate_blocks = [&chainstate, now, mempool_txs](const std::vector<uint8_t>& script, int64_t count,
                                                           uint64_t max_tries) {
        Json hashes = Json::array();
        BlockAssembler assembler(chainstate, now);
        while (count > 0 && !chainstate.ShutdownRequested()) {
            std::vector<Transaction> txs;
            for (const auto& candidate : mempool_txs()) txs.push_back(*candidate.tx);
            BlockTemplate tmpl = assembler.CreateNewBlock(script, txs, /*test_validity=*/true, /*include_fees=*/true);
            if (!SolveBlock(tmpl.block, max_tries, chainstate.Params().consensus)) break;
            if (tmpl.block.nonce == std::numeric_limits<uint32_t>::max()) continue;
            auto block = std::make_shared<const Block>(std::move(tmpl.block));
            const BlockSubmitResult result = chainstate.ProcessNewBlock(block, /*force=*/true);
            if (!result.accepted) {
                throw rpc::RpcException(rpc::RPC_INTERNAL_ERROR, "ProcessNewBlock, block not accepted");
            }
            --count;
            hashes.push_back(block->GetHash().GetHex());
        }
        return hashes;
    };
    auto max_tries_arg = [](const Json& value) {
        if (value.is_null()) return DEFAULT_MAX_TRIES;
        const int64_t tries = rpc::IntegerArg(value);
        return tries < 0 ? uint64_t{0} : static_cast<uint64_t>(tries);
    };

    // generatetoaddress and generatetodescriptor differ only in how their second argument names the script.
    using ScriptOf = std::function<std::vector<uint8_t>(const std::string&)>;
    auto generate_to = [generate_blocks, max_tries_arg](std::string output_name, ScriptOf script_of) {
        return [generate_blocks, max_tries_arg, output_name, script_of](const rpc::CallRequest& call) {
            const int64_t count = rpc::IntegerArg(call.Arg(0));
            const std::vector<uint8_t> script = script_of(StrParam(call.Arg(1), output_name));
            return generate_blocks(script, count, max_tries_arg(call.Arg(2)));
        };
    };

    table.Add({"generatetoaddress",
               "Generating",
               {rpc::Required("nblocks", ParamType::NUMBER, "How many blocks to mine"),
                rpc::Required("address", ParamType::STRING, "Where the coinbases pay"),
                rpc::Optional("maxtries", ParamType::NUMBER, "Hashes to try at most (default 1000000)")},
               "Mines blocks right away, each paying its coinbase to the address, and returns their hashes. "
               "Meant for regtest, where proof of work is trivial.",
               generate_to("address", [network](const std::string& address) {
                   auto script = DecodeAddress(address, network);
                   if (!script) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Error: Invalid address");
                   return *script;
               })});
    table.Add({"generatetodescriptor",
               "Generating",
               {rpc::Required("num_blocks", ParamType::NUMBER, "How many blocks to mine"),
                rpc::Required("descriptor", ParamType::STRING, "The output descriptor the coinbases pay to"),
                rpc::Optional("maxtries", ParamType::NUMBER, "Hashes to try at most (default 1000000)")},
               "Mines blocks right away, each paying its coinbase to the script of a non-ranged descriptor, "
               "and returns their hashes.",
               generate_to("descriptor", [network](const std::string& descriptor) {
                   return ScriptFromDescriptor(descriptor, network);
               })});
    table.Add({"generate",
               "Hidden",
               {},
               // bitcoind's own words: its help is the error message clients see.
               "has been replaced by the -generate cli option. Refer to -help for more information.",
               [](const rpc::CallRequest&) -> Json {
                   // bitcoind answers with this method's help as the error message.
                   throw rpc::RpcException(rpc::RPC_METHOD_NOT_FOUND,
                                           "generate\n\nhas been replaced by the -generate cli option. Refer to "
                                           "-help for more information.");
               }});
    table.Add({"generateblock",
               "Generating",
               {rpc::Required("output", ParamType::STRING, "The address or descriptor the coinbase pays to"),
                rpc::Required("transactions", ParamType::ARRAY,
                              "Transactions to include, in order: raw hex, or txids of mempool transactions"),
                rpc::Optional("submit", ParamType::BOOL,
                              "Whether to submit the block (default true) or only return it in hex")},
               "Mines one block holding exactly the given transactions after the coinbase. The coinbase takes "
               "the subsidy only, as in bitcoind.",
               [&chainstate, now, network, context](const rpc::CallRequest& call) {
                   const std::string& output = StrParam(call.Arg(0), "output");
                   std::string parse_error;
                   std::vector<uint8_t> script = ScriptFromDescriptor(output, network, &parse_error);
                   if (!parse_error.empty()) {
                       auto decoded = DecodeAddress(output, network);
                       if (!decoded) {
                           throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                                   "Error: Invalid address or descriptor");
                       }
                       script = *decoded;
                   }
                   std::vector<Transaction> txs;
                   for (const Json& item : call.Arg(1)) {
                       const std::string& str = StrParam(item, "transactions");
                       if (str.size() == 64 && uint256::FromHex(str)) {
                           auto from_pool =
                               context.mempool ? context.mempool->GetTransaction(*uint256::FromHex(str)) : nullptr;
                           if (!from_pool) {
                               throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                                       fmt::format("Transaction {} not in mempool.", str));
                           }
                           txs.push_back(*from_pool);
                           continue;
                       }
                       auto tx = DecodeHexTx(str);
                       if (!tx) {
                           throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR,
                                                   fmt::format("Transaction decode failed for {}. Make sure the tx "
                                                               "has at least one input.",
                                                               str));
                       }
                       txs.push_back(std::move(*tx));
                   }
                   const bool submit = call.Arg(2).is_null() ? true : call.Arg(2).get<bool>();
                   BlockTemplate tmpl;
                   try {
                       tmpl = BlockAssembler(chainstate, now).CreateNewBlock(script, txs);
                   } catch (const std::runtime_error& e) {
                       throw rpc::RpcException(rpc::RPC_VERIFY_ERROR, e.what());
                   }
                   uint64_t max_tries = DEFAULT_MAX_TRIES;
                   if (!SolveBlock(tmpl.block, max_tries, chainstate.Params().consensus) ||
                       tmpl.block.nonce == std::numeric_limits<uint32_t>::max()) {
                       throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Failed to make block.");
                   }
                   auto block = std::make_shared<const Block>(std::move(tmpl.block));
                   Json out = Json::object();
                   out["hash"] = block->GetHash().GetHex();
                   if (submit) {
                       if (!chainstate.ProcessNewBlock(block, /*force=*/true).accepted) {
                           throw rpc::RpcException(rpc::RPC_INTERNAL_ERROR, "ProcessNewBlock, block not accepted");
                       }
                   } else {
                       out["hex"] = HexStr(SerializeBlock(*block, true));
                   }
                   return out;
               }});

    table.Add({"getblocktemplate",
               "Mining",
               {rpc::Optional("template_request", ParamType::OBJECT,
                              "{\"mode\": \"template\"|\"proposal\", \"rules\": [\"segwit\", ...], "
                              "\"capabilities\": [...], \"longpollid\": id, \"data\": hex}")},
               "Gives a block template for external mining software (BIP22, BIP23), or checks a block "
               "proposal. The client must name the segwit rule.",
               [&chainstate, now, state, context, mempool_txs](const rpc::CallRequest& call) -> Json {
                   std::string mode = "template";
                   Json lpval;
                   std::set<std::string> client_rules;
                   const Json& request = call.Arg(0);
                   if (!request.is_null()) {
                       if (request.contains("mode") && request["mode"].is_string()) {
                           mode = request["mode"].get<std::string>();
                       } else if (request.contains("mode") && !request["mode"].is_null()) {
                           throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid mode");
                       }
                       if (request.contains("longpollid")) lpval = request["longpollid"];
                       if (mode == "proposal") {
                           if (!request.contains("data") || !request["data"].is_string()) {
                               throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Missing data String key for proposal");
                           }
                           auto block = DecodeHexBlock(request["data"].get<std::string>());
                           if (!block) throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "Block decode failed");
                           auto lock = chainstate.Lock();
                           if (const BlockIndex* index = chainstate.LookupBlockIndex(block->GetHash())) {
                               if (index->IsValid(BLOCK_VALID_SCRIPTS)) return "duplicate";
                               if (index->status & BLOCK_FAILED_MASK) return "duplicate-invalid";
                               return "duplicate-inconclusive";
                           }
                           if (block->prev_block != chainstate.Tip()->hash) return "inconclusive-not-best-prevblk";
                           ValidationState vstate;
                           chainstate.TestBlockValidity(*block, vstate, /*check_pow=*/false,
                                                        /*check_merkle_root=*/true);
                           return Bip22Result(vstate);
                       }
                       if (request.contains("rules") && request["rules"].is_array()) {
                           for (const Json& rule : request["rules"]) client_rules.insert(StrParam(rule, "rules"));
                       }
                   }
                   if (mode != "template") throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid mode");

                   const ChainParams& params = chainstate.Params();
                   if (params.type == ChainType::MAIN) {
                       if (context.connection_count && context.connection_count() == 0) {
                           throw rpc::RpcException(rpc::RPC_CLIENT_NOT_CONNECTED, "Bitcoin Core is not connected!");
                       }
                       if (chainstate.IsInitialBlockDownload()) {
                           throw rpc::RpcException(rpc::RPC_CLIENT_IN_INITIAL_DOWNLOAD,
                                                   "Bitcoin Core is in initial sync and waiting for blocks...");
                       }
                   }

                   // Long polling: wait until the tip moves from the one the id names (no mempool to watch yet).
                   if (!lpval.is_null()) {
                       uint256 watched;
                       if (lpval.is_string()) {
                           const std::string& id = lpval.get_ref<const std::string&>();
                           watched = ParseHashArg(Json(id.substr(0, 64)), "longpollid");
                       } else {
                           auto lock = chainstate.Lock();
                           watched = chainstate.Tip()->hash;
                       }
                       while (true) {
                           const BlockIndex* tip = chainstate.WaitForTipChange(watched, std::chrono::seconds(10));
                           if (chainstate.WaitsInterrupted()) {
                               throw rpc::RpcException(rpc::RPC_CLIENT_NOT_CONNECTED, "Shutting down");
                           }
                           auto lock = chainstate.Lock();
                           if (tip && tip->hash != watched) break;
                       }
                   }

                   if (params.consensus.signet_blocks && client_rules.count("signet") != 1) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "getblocktemplate must be called with the signet rule set (call with "
                                               "{\"rules\": [\"segwit\", \"signet\"]})");
                   }
                   if (client_rules.count("segwit") != 1) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "getblocktemplate must be called with the segwit rule set (call with "
                                               "{\"rules\": [\"segwit\"]})");
                   }

                   const uint64_t updated = context.mempool ? context.mempool->TransactionsUpdated() : 0;
                   const std::vector<Mempool::BlockCandidate> selected = mempool_txs();
                   std::vector<Transaction> txs;
                   for (const auto& candidate : selected) txs.push_back(*candidate.tx);
                   auto lock = chainstate.Lock();
                   // An empty script: the miner brings its own coinbase output.
                   BlockTemplate tmpl = BlockAssembler(chainstate, now)
                                            .CreateNewBlock({}, txs, /*test_validity=*/false, /*include_fees=*/true);
                   state->last_block_weight = static_cast<int64_t>(tmpl.weight);
                   state->last_block_txs = static_cast<int64_t>(selected.size());
                   const Block& block = tmpl.block;
                   const bool pre_segwit = !tmpl.segwit_active;

                   Json result = Json::object();
                   result["capabilities"] = Json::array({"proposal"});
                   Json rules = Json::array({"csv"});
                   if (!pre_segwit) rules.push_back("!segwit");
                   if (params.consensus.signet_blocks) rules.push_back("!signet");
                   // BIP9: a signalling deployment is offered in vbavailable (its bit already in the version), an
                   // active one becomes a rule. Both of Core's deployments may be mined by any client (gbt_force).
                   Json vbavailable = Json::object();
                   const BlockIndex* prev = chainstate.LookupBlockIndex(block.prev_block);
                   for (DeploymentPos pos : ALL_DEPLOYMENTS) {
                       const std::string name(DeploymentName(pos));
                       switch (chainstate.VersionBits().State(prev, params.consensus, pos)) {
                       case ThresholdState::STARTED:
                       case ThresholdState::LOCKED_IN:
                           vbavailable[name] = DeploymentParams(params.consensus, pos).bit;
                           break;
                       case ThresholdState::ACTIVE:
                           rules.push_back(name);
                           break;
                       case ThresholdState::DEFINED:
                       case ThresholdState::FAILED:
                           break;
                       }
                   }
                   result["version"] = block.version;
                   result["rules"] = std::move(rules);
                   result["vbavailable"] = std::move(vbavailable);
                   result["vbrequired"] = 0;
                   result["previousblockhash"] = block.prev_block.GetHex();
                   Json transactions = Json::array();
                   std::map<uint256, size_t> position; // 1-based, as BIP22's depends
                   for (const auto& candidate : selected) {
                       Json entry = Json::object();
                       entry["data"] = HexStr(SerializeTransaction(*candidate.tx, true));
                       entry["txid"] = candidate.txid.GetHex();
                       entry["hash"] = candidate.wtxid.GetHex();
                       Json depends = Json::array();
                       for (const TxIn& in : candidate.tx->vin) {
                           auto it = position.find(in.prevout.hash);
                           if (it != position.end() &&
                               std::find(depends.begin(), depends.end(), Json(it->second)) == depends.end()) {
                               depends.push_back(it->second);
                           }
                       }
                       entry["depends"] = std::move(depends);
                       entry["fee"] = candidate.fee;
                       entry["sigops"] =
                           pre_segwit ? candidate.sigop_cost / WITNESS_SCALE_FACTOR : candidate.sigop_cost;
                       entry["weight"] = candidate.weight;
                       transactions.push_back(std::move(entry));
                       position[candidate.txid] = transactions.size();
                   }
                   result["transactions"] = std::move(transactions);
                   result["coinbaseaux"] = Json::object();
                   result["coinbasevalue"] = tmpl.coinbase_value;
                   // <tip><the mempool's change counter>.
                   result["longpollid"] = block.prev_block.GetHex() + std::to_string(updated);
                   result["target"] = ArithUint256::FromCompact(block.bits).GetHex();
                   result["mintime"] = tmpl.min_time;
                   result["mutable"] = Json::array({"time", "transactions", "prevblock"});
                   result["noncerange"] = "00000000ffffffff";
                   int64_t sigop_limit = MAX_BLOCK_SIGOPS_COST;
                   int64_t size_limit = MAX_BLOCK_SERIALIZED_SIZE;
                   if (pre_segwit) {
                       sigop_limit /= WITNESS_SCALE_FACTOR;
                       size_limit /= WITNESS_SCALE_FACTOR;
                   }
                   result["sigoplimit"] = sigop_limit;
                   result["sizelimit"] = size_limit;
                   if (!pre_segwit) result["weightlimit"] = MAX_BLOCK_WEIGHT;
                   result["curtime"] = block.time;
                   result["bits"] = fmt::format("{:08x}", block.bits);
                   result["height"] = tmpl.height;
                   if (params.consensus.signet_blocks) {
                       result["signet_challenge"] = HexStr(params.consensus.signet_challenge);
                   }
                   if (!tmpl.witness_commitment.empty()) {
                       result["default_witness_commitment"] = HexStr(tmpl.witness_commitment);
                   }
                   return result;
               }});

    table.Add({"submitblock",
               "Mining",
               {rpc::Required("hexdata", ParamType::STRING, "The block in hex"),
                rpc::Optional("dummy", ParamType::STRING, "Ignored (BIP22's workid)")},
               "Offers a block to the node. Answers null when it was accepted, else why not: \"duplicate\", "
               "\"duplicate-invalid\", \"inconclusive\" or the reject reason (BIP22).",
               [&chainstate](const rpc::CallRequest& call) -> Json {
                   auto decoded = DecodeHexBlock(StrParam(call.Arg(0), "hexdata"));
                   if (!decoded) throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "Block decode failed");
                   if (decoded->txs.empty() || !decoded->txs[0].IsCoinbase()) {
                       throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "Block does not start with a coinbase");
                   }
                   {
                       auto lock = chainstate.Lock();
                       if (const BlockIndex* prev = chainstate.LookupBlockIndex(decoded->prev_block)) {
                           UpdateUncommittedBlockStructures(
                               *decoded, chainstate.DeploymentActiveAfter(prev, BuriedDeployment::SEGWIT));
                       }
                   }
                   auto block = std::make_shared<const Block>(std::move(*decoded));
                   const BlockSubmitResult result = chainstate.ProcessNewBlock(block, /*force=*/true);
                   if (result.reject_reason.empty()) {
                       return result.accepted ? Json() : Json("rejected");
                   }
                   return Json(result.reject_reason);
               }});
    table.Add({"submitheader",
               "Mining",
               {rpc::Required("hexdata", ParamType::STRING, "The 80-byte block header in hex")},
               "Adds a block header to the header tree, for a block whose data may come later. Its parent "
               "must be known.",
               [&chainstate](const rpc::CallRequest& call) -> Json {
                   auto header = DecodeHexBlockHeader(StrParam(call.Arg(0), "hexdata"));
                   if (!header) {
                       throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "Block header decode failed");
                   }
                   {
                       auto lock = chainstate.Lock();
                       if (!chainstate.LookupBlockIndex(header->prev_block)) {
                           throw rpc::RpcException(rpc::RPC_VERIFY_ERROR, "Must submit previous header (" +
                                                                              header->prev_block.GetHex() + ") first");
                       }
                   }
                   ValidationState vstate;
                   if (chainstate.ProcessNewBlockHeaders({*header}, vstate)) return Json();
                   throw rpc::RpcException(rpc::RPC_VERIFY_ERROR, vstate.GetRejectReason());
               }});

    auto hashps = [&chainstate](const Json& nblocks, const Json& height) {
        const int64_t lookup = nblocks.is_null() ? 120 : rpc::IntegerArg(nblocks);
        const int64_t at = height.is_null() ? -1 : rpc::IntegerArg(height);
        auto lock = chainstate.Lock();
        return NetworkHashPerSecond(static_cast<int>(std::clamp<int64_t>(lookup, INT32_MIN, INT32_MAX)),
                                    static_cast<int>(std::clamp<int64_t>(at, INT32_MIN, INT32_MAX)), chainstate.Chain(),
                                    chainstate.Params().consensus.DifficultyAdjustmentInterval());
    };
    table.Add({"getnetworkhashps",
               "Mining",
               {rpc::Optional("nblocks", ParamType::NUMBER,
                              "Blocks to average over (default 120; -1: since the last difficulty change)"),
                rpc::Optional("height", ParamType::NUMBER, "Estimate at this height (default -1: the tip)")},
               "Estimates the network's hashes per second from the work and times of recent blocks.",
               [hashps](const rpc::CallRequest& call) { return hashps(call.Arg(0), call.Arg(1)); }});
    table.Add({"getdifficulty",
               "Blockchain",
               {},
               "Gives the tip's proof-of-work difficulty, as a multiple of the easiest main-network target.",
               [&chainstate](const rpc::CallRequest&) {
                   auto lock = chainstate.Lock();
                   return Json(DifficultyOfBits(chainstate.Tip()->header.bits));
               }});
    table.Add({"getmininginfo",
               "Mining",
               {},
               "Describes the mining state: height, the last template's weight and transactions, difficulty, "
               "estimated network hash rate, mempool size and chain.",
               [&chainstate, state, hashps, context](const rpc::CallRequest&) {
                   Json out = Json::object();
                   {
                       auto lock = chainstate.Lock();
                       out["blocks"] = chainstate.Height();
                       if (state->last_block_weight >= 0) out["currentblockweight"] = state->last_block_weight.load();
                       if (state->last_block_txs >= 0) out["currentblocktx"] = state->last_block_txs.load();
                       out["difficulty"] = DifficultyOfBits(chainstate.Tip()->header.bits);
                   }
                   out["networkhashps"] = hashps(Json(), Json());
                   out["pooledtx"] = context.mempool ? static_cast<int64_t>(context.mempool->Size()) : 0;
                   out["chain"] = ChainTypeToString(chainstate.Params().type);
                   out["warnings"] = Json::array();
                   return out;
               }});
}

} // namespace orrery::node
