// The node's UTXO set RPC methods: gettxout (one coin), gettxoutsetinfo
// (figures and hashes of the whole set, computed by the chainstate) and
// scantxoutset (the coins paying to given descriptors, one scan at a time,
// with status and abort from other calls).
#include <services/node/rpc/rpc.h>

#include <common/consensus/hex.h>
#include <common/keys/descriptor.h>
#include <services/node/mempool/mempool.h>
#include <services/node/rpc/core_json.h>
#include <services/node/validation/chainstate.h>

#include <atomic>
#include <fmt/format.h>
#include <map>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

// One scantxoutset at a time in the process, as in bitcoind; status and abort come from other IPC threads.
std::atomic<int> g_scan_progress{0};
std::atomic<bool> g_scan_in_progress{false};
std::atomic<bool> g_should_abort_scan{false};

//! Holds the right to scan while it lives (Core's CoinsViewScanReserver).
class ScanReserver
{
public:
    ScanReserver() = default;
    ScanReserver(const ScanReserver&) = delete;
    ScanReserver& operator=(const ScanReserver&) = delete;
    bool Reserve()
    {
        if (g_scan_in_progress.exchange(true)) return false;
        m_reserved = true;
        return true;
    }
    ~ScanReserver()
    {
        if (m_reserved) {
            g_scan_progress = 0;
            g_scan_in_progress = false;
        }
    }

private:
    bool m_reserved{false};
};

//! bitcoind's ParseDescriptorRange: `n` means [0, n], or [begin, end]; both ends included.
std::pair<int64_t, int64_t> ParseDescriptorRange(const Json& value)
{
    std::pair<int64_t, int64_t> range;
    if (value.is_number_integer()) {
        range = {0, value.get<int64_t>()};
    } else if (value.is_array() && value.size() == 2 && value[0].is_number_integer() && value[1].is_number_integer()) {
        range = {value[0].get<int64_t>(), value[1].get<int64_t>()};
        if (range.first > range.second) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    "Range specified as [begin,end] must not have begin after end");
        }
    } else {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                "Range must be specified as either an integer or [begin,end]");
    }
    if (range.first < 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Range should be greater or equal than 0");
    if ((range.second >> 31) != 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "End of range is too high");
    if (range.second >= range.first + 1000000)
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Range is too large");
    return range;
}

ParsedDescriptor ParseScanDescriptor(const std::string& text, Network network, std::optional<uint32_t> position)
{
    try {
        return ParseDescriptor(text, network, /*require_checksum=*/false, position);
    } catch (const DescriptorError& e) {
        throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, e.what());
    }
}

//! The scripts a scan object (a descriptor, or {"desc", "range"}) stands for, each with the descriptor that names
//! it in the answer: the inferred one (addr(), raw(), pk(), multi(), rawtr()), as bitcoind infers it without keys.
//! A ranged descriptor stands for its scripts at every position of the range (default [0, 1000], as bitcoind).
std::vector<std::pair<Script, std::string>> ExpandScanObject(const Json& object, Network network)
{
    std::string text;
    std::optional<Json> range_value;
    if (object.is_string()) {
        text = object.get<std::string>();
    } else if (object.is_object()) {
        auto desc = object.find("desc");
        if (desc == object.end() || !desc->is_string()) {
            throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Missing or invalid desc");
        }
        text = desc->get<std::string>();
        if (auto range = object.find("range"); range != object.end()) range_value = *range;
    } else {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Scan object needs to be either a string or an object");
    }
    const ParsedDescriptor parsed = ParseScanDescriptor(text, network, std::nullopt);
    if (!parsed.ranged && range_value) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                "Range should not be specified for an un-ranged descriptor");
    }
    if (parsed.multipath) {
        throw rpc::RpcException(
            rpc::RPC_INVALID_ADDRESS_OR_KEY,
            "Multipath descriptors are not supported by this scan yet: give each path as its own descriptor");
    }
    std::vector<std::pair<Script, std::string>> scripts;
    auto add = [&](const ParsedDescriptor& expanded) {
        if (expanded.needs_private) {
            throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Cannot derive script without private keys");
        }
        for (const auto& script : expanded.scripts) scripts.emplace_back(script, InferDescriptor(script, network));
    };
    if (!parsed.ranged) {
        add(parsed);
        return scripts;
    }
    const auto [begin, end] = range_value ? ParseDescriptorRange(*range_value) : std::pair<int64_t, int64_t>{0, 1000};
    for (int64_t position = begin; position <= end; ++position) {
        add(ParseScanDescriptor(text, network, static_cast<uint32_t>(position)));
    }
    return scripts;
}

} // namespace

void RegisterUtxoRpc(rpc::Table& table, ChainstateManager& chainstate, Mempool* mempool)
{
    ChainstateManager* cs = &chainstate;

    table.Add({"gettxout",
               "Blockchain",
               {rpc::Required("txid", ParamType::STRING, "The id of the transaction"),
                rpc::Required("n", ParamType::NUMBER, "The index of the output"),
                rpc::Optional("include_mempool", ParamType::BOOL,
                              "Whether to count the mempool too: its outputs are shown (0 confirmations) and outputs "
                              "its transactions spend are not (default true)")},
               "Shows an unspent transaction output of the UTXO set at the tip, or null when it is spent or unknown.",
               [cs, mempool](const rpc::CallRequest& call) -> Json {
                   uint256 txid = ParseHashArg(call.Arg(0), "txid");
                   int64_t n = rpc::IntegerArg(call.Arg(1));
                   if (n < 0 || n > UINT32_MAX)
                       throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "JSON integer out of range");
                   const bool include_mempool = call.Arg(2).is_null() ? true : call.Arg(2).get<bool>();
                   OutPoint outpoint{txid, static_cast<uint32_t>(n)};
                   auto lock = cs->Lock(); // before the mempool's lock, as everywhere
                   std::optional<Coin> coin = cs->GetCoin(outpoint);
                   bool in_mempool = false;
                   if (include_mempool && mempool) {
                       // Core's view of the UTXO set with the mempool on top.
                       if (mempool->SpenderOf(outpoint)) return nullptr;
                       if (!coin) {
                           auto tx = mempool->GetTransaction(txid);
                           if (!tx || outpoint.n >= tx->vout.size()) return nullptr;
                           coin = Coin{tx->vout[outpoint.n], 0, false};
                           in_mempool = true;
                       }
                   }
                   if (!coin) return nullptr;
                   const BlockIndex* tip = cs->Tip();
                   Json out = Json::object();
                   out["bestblock"] = tip->hash.GetHex();
                   out["confirmations"] = in_mempool ? 0 : int64_t{tip->height} - int64_t{coin->height} + 1;
                   out["value"] = ValueFromAmount(coin->out.value);
                   out["scriptPubKey"] = ScriptToJson(coin->out.script_pubkey, AddressNetwork(cs->Params().type),
                                                      /*include_hex=*/true, /*include_address=*/true);
                   out["coinbase"] = coin->coinbase;
                   return out;
               }});

    table.Add({"gettxoutsetinfo",
               "Blockchain",
               {rpc::Optional("hash_type", ParamType::STRING,
                              "The hash of the set to compute: hash_serialized_3 (default), muhash, or none"),
                rpc::Optional("hash_or_height", ParamType::ANY,
                              "Only the tip is supported (a coin statistics index "
                              "is needed for other blocks)"),
                rpc::Optional("use_index", ParamType::BOOL, "Use the coin statistics index (there is none)")},
               "Computes figures of the whole UTXO set at the tip: outputs, transactions, total amount, size, and a "
               "hash of the set (hash_serialized_3 or MuHash, as Bitcoin Core computes them, so that two nodes can "
               "compare their sets). Flushes the coins cache first; takes a while on a large set.",
               [cs](const rpc::CallRequest& call) -> Json {
                   CoinsHashType hash_type = CoinsHashType::HASH_SERIALIZED;
                   if (!call.Arg(0).is_null()) {
                       std::string name = call.Arg(0).get<std::string>();
                       auto parsed = ParseCoinsHashType(name);
                       if (!parsed) {
                           throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                                   fmt::format("'{}' is not a valid hash_type", name));
                       }
                       hash_type = *parsed;
                   }
                   if (!call.Arg(1).is_null()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Querying specific block heights requires coinstatsindex");
                   }
                   return CoinsStatsToJson(cs->ComputeCoinsStats(), hash_type);
               }});

    table.Add({"scantxoutset",
               "Blockchain",
               {rpc::Required("action", ParamType::STRING,
                              "start: scan and answer when done; abort: stop the running scan; status: the running "
                              "scan's progress in percent"),
                rpc::Optional("scanobjects", ParamType::ARRAY,
                              "For start: output descriptors (addr(), raw(), and key-based ones), each a string or "
                              "{\"desc\": ..., \"range\": n or [begin, end]} for ranged ones (default range 1000)")},
               "Searches the UTXO set at the tip for the outputs paying to the given descriptors and sums them.",
               [cs](const rpc::CallRequest& call) -> Json {
                   std::string action = call.Arg(0).get<std::string>();
                   if (action == "status") {
                       ScanReserver reserver;
                       if (reserver.Reserve()) return nullptr; // nothing running
                       Json out = Json::object();
                       out["progress"] = g_scan_progress.load();
                       return out;
                   }
                   if (action == "abort") {
                       ScanReserver reserver;
                       if (reserver.Reserve()) return false; // nothing to abort
                       g_should_abort_scan = true;
                       return true;
                   }
                   if (action != "start") {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, fmt::format("Invalid action '{}'", action));
                   }
                   ScanReserver reserver;
                   if (!reserver.Reserve()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Scan already in progress, use action \"abort\" or \"status\"");
                   }
                   if (call.Arg(1).is_null()) {
                       throw rpc::RpcException(rpc::RPC_MISC_ERROR,
                                               "scanobjects argument is required for the start action");
                   }
                   // Every script to look for, with the descriptor that names it in the answer.
                   std::map<Script, std::string> needles;
                   for (const Json& object : call.Arg(1)) {
                       for (auto& [script, desc] : ExpandScanObject(object, AddressNetwork(cs->Params().type))) {
                           needles.emplace(std::move(script), std::move(desc));
                       }
                   }
                   g_should_abort_scan = false;
                   g_scan_progress = 0;
                   std::map<OutPoint, Coin> found;
                   int64_t count = 0;
                   bool complete = true;
                   // ForEachCoin flushes and walks the set at one tip; the tip read after it is that tip, since
                   // the walk holds the chainstate's lock.
                   const BlockIndex* tip = nullptr;
                   {
                       auto lock = cs->Lock();
                       cs->ForEachCoin([&](const OutPoint& outpoint, const Coin& coin) {
                           if (++count % 8192 == 0 && g_should_abort_scan) {
                               complete = false;
                               return false;
                           }
                           if (count % 256 == 0) {
                               // Coins come in key order (txid bytes as stored): the first two bytes tell how far.
                               unsigned high = 0x100u * outpoint.hash.data()[0] + outpoint.hash.data()[1];
                               g_scan_progress = static_cast<int>(high * 100.0 / 65536.0 + 0.5);
                           }
                           if (needles.count(coin.out.script_pubkey)) found.emplace(outpoint, coin);
                           return true;
                       });
                       tip = cs->Tip();
                   }
                   g_scan_progress = 100;
                   Json out = Json::object();
                   out["success"] = complete;
                   out["txouts"] = count;
                   out["height"] = tip->height;
                   out["bestblock"] = tip->hash.GetHex();
                   Json unspents = Json::array();
                   Amount total = 0;
                   for (const auto& [outpoint, coin] : found) {
                       total += coin.out.value;
                       Json unspent = Json::object();
                       unspent["txid"] = outpoint.hash.GetHex();
                       unspent["vout"] = outpoint.n;
                       unspent["scriptPubKey"] = HexStr(coin.out.script_pubkey);
                       unspent["desc"] = needles[coin.out.script_pubkey];
                       unspent["amount"] = ValueFromAmount(coin.out.value);
                       unspent["coinbase"] = coin.coinbase;
                       unspent["height"] = coin.height;
                       const BlockIndex* block = tip->GetAncestor(static_cast<int>(coin.height));
                       unspent["blockhash"] = block ? block->hash.GetHex() : std::string();
                       unspent["confirmations"] = int64_t{tip->height} - int64_t{coin.height} + 1;
                       unspents.push_back(std::move(unspent));
                   }
                   out["unspents"] = std::move(unspents);
                   out["total_amount"] = ValueFromAmount(total);
                   return out;
               }});
}

} // namespace orrery::node
