// The wallet-less PSBT methods of the node: createpsbt, converttopsbt,
// decodepsbt, combinepsbt, finalizepsbt, joinpsbts and utxoupdatepsbt, with
// bitcoind's arguments, fields and errors. The format itself is
// common/keys/psbt.h; the UTXOs come from the mempool and the UTXO set.
#include <services/node/rpc/psbt_rpc.h>

#include <common/consensus/hex.h>
#include <common/http/http.h>
#include <common/keys/psbt.h>
#include <common/script/opcodes.h>
#include <services/node/mempool/policy.h>
#include <services/node/node.h>
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/rawtransaction.h>
#include <services/node/rpc/rawtransaction_sign.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

Psbt DecodePsbtArg(const Json& value)
{
    const std::string text = value.is_string() ? value.get<std::string>() : std::string();
    const auto raw = http::Base64Decode(text);
    if (!raw) throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "TX decode failed invalid base64");
    try {
        return DecodePsbt(std::span(reinterpret_cast<const uint8_t*>(raw->data()), raw->size()));
    } catch (const PsbtError& e) {
        throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, fmt::format("TX decode failed {}", e.what()));
    }
}

std::string EncodePsbtBase64(const Psbt& psbt)
{
    const Bytes bytes = EncodePsbt(psbt);
    return http::Base64Encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

//! "m/0'/1'/2" from a serialized origin's path part.
std::string KeyPath(std::span<const uint8_t> path)
{
    std::string out = "m";
    for (size_t i = 0; i + 4 <= path.size(); i += 4) {
        const uint32_t step =
            uint32_t(path[i]) | uint32_t(path[i + 1]) << 8 | uint32_t(path[i + 2]) << 16 | uint32_t(path[i + 3]) << 24;
        out += fmt::format("/{}{}", step & 0x7fffffff, step & 0x80000000 ? "'" : "");
    }
    return out;
}

Json KeyOriginJson(std::span<const uint8_t> pubkey, std::span<const uint8_t> origin)
{
    Json entry = Json::object();
    entry["pubkey"] = HexStr(pubkey);
    entry["master_fingerprint"] = HexStr(origin.first(4));
    entry["path"] = KeyPath(origin.subspan(4));
    return entry;
}

Json ScriptJson(const Script& script, Network network)
{
    Json out = ScriptToJson(script, network, /*include_hex=*/true, /*include_address=*/false);
    out.erase("desc");
    out.erase("address");
    return out;
}

Json MapJson(const std::map<Bytes, Bytes>& map)
{
    Json out = Json::object();
    for (const auto& [key, value] : map) out[HexStr(key)] = HexStr(value);
    return out;
}

Json ProprietaryJson(const std::map<Bytes, Bytes>& map)
{
    Json out = Json::array();
    for (const auto& [key, value] : map) {
        // Key: 0xFC, then the identifier (compact-size prefixed), a compact-size subtype, and the key data.
        Json entry = Json::object();
        SpanReader reader(std::span<const uint8_t>(key).subspan(1));
        try {
            const Bytes identifier = reader.ReadByteVector("identifier");
            entry["identifier"] = HexStr(identifier);
            entry["subtype"] = reader.ReadCompactSize(false);
            entry["key"] = HexStr(reader.ReadSpan(reader.Remaining()));
        } catch (const DeserializeError&) {
            entry["key"] = HexStr(key);
        }
        entry["value"] = HexStr(value);
        out.push_back(std::move(entry));
    }
    return out;
}

//! Taproot key origins (PSBT_IN/OUT_TAP_BIP32_DERIVATION): each value is the leaf hashes, then the key origin.
Json TapKeyOriginsJson(const std::map<Bytes, Bytes>& paths)
{
    Json out = Json::array();
    for (const auto& [xonly, value] : paths) {
        SpanReader reader(value);
        const uint64_t count = reader.ReadCompactSize();
        Json hashes = Json::array();
        for (uint64_t i = 0; i < count; ++i) hashes.push_back(HexStr(reader.ReadSpan(32)));
        Json entry = KeyOriginJson(xonly, reader.ReadSpan(reader.Remaining()));
        entry["leaf_hashes"] = std::move(hashes);
        out.push_back(std::move(entry));
    }
    return out;
}

Json InputJson(const PsbtInput& in, Network network)
{
    Json out = Json::object();
    if (in.non_witness_utxo) {
        out["non_witness_utxo"] = TxToJson(*in.non_witness_utxo, network, uint256{}, /*include_hex=*/false);
    }
    if (in.witness_utxo) {
        out["witness_utxo"] = {{"amount", ValueFromAmount(in.witness_utxo->value)},
                               {"scriptPubKey", ScriptToJson(in.witness_utxo->script_pubkey, network, true, true)}};
    }
    if (!in.partial_sigs.empty()) {
        Json sigs = Json::object();
        for (const auto& [id, pair] : in.partial_sigs) sigs[HexStr(pair.first)] = HexStr(pair.second);
        out["partial_signatures"] = std::move(sigs);
    }
    if (in.sighash_type) out["sighash"] = SighashToName(static_cast<int>(*in.sighash_type));
    if (!in.redeem_script.empty()) out["redeem_script"] = ScriptJson(in.redeem_script, network);
    if (!in.witness_script.empty()) out["witness_script"] = ScriptJson(in.witness_script, network);
    if (!in.hd_keypaths.empty()) {
        Json paths = Json::array();
        for (const auto& [pubkey, origin] : in.hd_keypaths) paths.push_back(KeyOriginJson(pubkey, origin));
        out["bip32_derivs"] = std::move(paths);
    }
    if (!in.final_script_sig.empty()) {
        out["final_scriptSig"] = {{"asm", ScriptToAsmStr(in.final_script_sig, true)},
                                  {"hex", HexStr(in.final_script_sig)}};
    }
    if (!in.final_script_witness.empty()) {
        Json items = Json::array();
        for (const auto& item : in.final_script_witness) items.push_back(HexStr(item));
        out["final_scriptwitness"] = std::move(items);
    }
    const std::pair<const char*, const std::map<Bytes, Bytes>*> preimages[] = {
        {"ripemd160_preimages", &in.ripemd160_preimages},
        {"sha256_preimages", &in.sha256_preimages},
        {"hash160_preimages", &in.hash160_preimages},
        {"hash256_preimages", &in.hash256_preimages},
    };
    for (const auto& [name, map] : preimages) {
        if (!map->empty()) out[name] = MapJson(*map);
    }
    if (!in.tap_key_sig.empty()) out["taproot_key_path_sig"] = HexStr(in.tap_key_sig);
    if (!in.tap_script_sigs.empty()) {
        Json sigs = Json::array();
        for (const auto& [key, sig] : in.tap_script_sigs) {
            sigs.push_back({{"pubkey", HexStr(std::span(key).first(32))},
                            {"leaf_hash", HexStr(std::span(key).subspan(32))},
                            {"sig", HexStr(sig)}});
        }
        out["taproot_script_path_sigs"] = std::move(sigs);
    }
    if (!in.tap_scripts.empty()) {
        Json scripts = Json::array();
        for (const auto& [leaf, controls] : in.tap_scripts) {
            Json blocks = Json::array();
            for (const auto& control : controls) blocks.push_back(HexStr(control));
            scripts.push_back({{"script", HexStr(leaf.first)}, {"leaf_ver", leaf.second}, {"control_blocks", blocks}});
        }
        out["taproot_scripts"] = std::move(scripts);
    }
    if (!in.tap_bip32_paths.empty()) out["taproot_bip32_derivs"] = TapKeyOriginsJson(in.tap_bip32_paths);
    if (in.tap_internal_key) out["taproot_internal_key"] = HexStr(*in.tap_internal_key);
    if (in.tap_merkle_root) out["taproot_merkle_root"] = HexStr(*in.tap_merkle_root);
    if (!in.proprietary.empty()) out["proprietary"] = ProprietaryJson(in.proprietary);
    if (!in.unknown.empty()) out["unknown"] = MapJson(in.unknown);
    return out;
}

Json OutputJson(const PsbtOutput& o, Network network)
{
    Json out = Json::object();
    if (!o.redeem_script.empty()) out["redeem_script"] = ScriptJson(o.redeem_script, network);
    if (!o.witness_script.empty()) out["witness_script"] = ScriptJson(o.witness_script, network);
    if (!o.hd_keypaths.empty()) {
        Json paths = Json::array();
        for (const auto& [pubkey, origin] : o.hd_keypaths) paths.push_back(KeyOriginJson(pubkey, origin));
        out["bip32_derivs"] = std::move(paths);
    }
    if (o.tap_internal_key) out["taproot_internal_key"] = HexStr(*o.tap_internal_key);
    if (!o.tap_tree.empty()) {
        Json tree = Json::array();
        SpanReader reader(o.tap_tree);
        while (!reader.Empty()) {
            const int depth = reader.ReadU8();
            const int leaf_ver = reader.ReadU8();
            tree.push_back({{"depth", depth}, {"leaf_ver", leaf_ver}, {"script", HexStr(reader.ReadByteVector())}});
        }
        out["taproot_tree"] = std::move(tree);
    }
    if (!o.tap_bip32_paths.empty()) out["taproot_bip32_derivs"] = TapKeyOriginsJson(o.tap_bip32_paths);
    if (!o.proprietary.empty()) out["proprietary"] = ProprietaryJson(o.proprietary);
    if (!o.unknown.empty()) out["unknown"] = MapJson(o.unknown);
    return out;
}

Json DecodePsbtToJson(const Psbt& psbt, Network network)
{
    Json out = Json::object();
    out["tx"] = TxToJson(psbt.tx, network, uint256{}, /*include_hex=*/false);
    Json xpubs = Json::array();
    for (const auto& [xpub, origin] : psbt.xpubs) {
        // The 78-byte BIP32 serialization, shown in Base58Check as Core does.
        Json entry = KeyOriginJson({}, origin);
        entry.erase("pubkey");
        entry["xpub"] = HexStr(xpub);
        xpubs.push_back(std::move(entry));
    }
    out["global_xpubs"] = std::move(xpubs);
    out["psbt_version"] = psbt.version.value_or(0);
    out["proprietary"] = ProprietaryJson(psbt.proprietary);
    out["unknown"] = MapJson(psbt.unknown);
    Json inputs = Json::array();
    for (const auto& in : psbt.inputs) inputs.push_back(InputJson(in, network));
    out["inputs"] = std::move(inputs);
    Json outputs = Json::array();
    for (const auto& o : psbt.outputs) outputs.push_back(OutputJson(o, network));
    out["outputs"] = std::move(outputs);
    if (const auto fee = psbt.Fee(); fee && MoneyRange(*fee)) out["fee"] = ValueFromAmount(*fee);
    return out;
}

bool IsWitnessOutput(std::span<const uint8_t> script)
{
    int version = 0;
    std::span<const uint8_t> program;
    return IsWitnessProgram(script, version, program);
}

} // namespace

void RegisterPsbtRpc(rpc::Table& table, NodeService& node)
{
    const Network network = AddressNetwork(node.Params().type);
    table.Add({"createpsbt",
               "Rawtransactions",
               {rpc::Required("inputs", ParamType::ARRAY, "The outputs to spend: [{\"txid\", \"vout\", \"sequence\"}]"),
                rpc::Required("outputs", ParamType::ANY, "The new outputs, as createrawtransaction takes them"),
                rpc::Optional("locktime", ParamType::NUMBER, "The lock time (default 0)"),
                rpc::Optional("replaceable", ParamType::BOOL, "Whether the inputs signal BIP125 (default true)")},
               "Builds an unsigned transaction as createrawtransaction does and returns it as a base64 PSBT with "
               "empty input and output maps, for updaters and signers to fill.",
               [network](const rpc::CallRequest& call) {
                   std::optional<bool> rbf;
                   if (!call.Arg(3).is_null()) rbf = call.Arg(3).get<bool>();
                   Transaction tx = ConstructTransaction(call.Arg(0), call.Arg(1), call.Arg(2), rbf, network);
                   return Json(EncodePsbtBase64(Psbt::FromTransaction(std::move(tx))));
               }});
    table.Add({"converttopsbt",
               "Rawtransactions",
               {rpc::Required("hexstring", ParamType::STRING, "A raw transaction in hex"),
                rpc::Optional("permitsigdata", ParamType::BOOL,
                              "Drop scriptSigs and witnesses instead of refusing them (default false)"),
                rpc::Optional("iswitness", ParamType::BOOL, "Read the hex as segwit (true) or legacy (false)")},
               "Turns a raw transaction (as createrawtransaction or fundrawtransaction return it) into a base64 "
               "PSBT.",
               [](const rpc::CallRequest& call) {
                   const bool permit = !call.Arg(1).is_null() && call.Arg(1).get<bool>();
                   const Json& witness = call.Arg(2);
                   const bool try_witness = witness.is_null() ? true : witness.get<bool>();
                   const bool try_no_witness = witness.is_null() ? true : !witness.get<bool>();
                   const auto tx = call.Arg(0).is_string()
                                       ? DecodeHexTx(call.Arg(0).get<std::string>(), try_no_witness, try_witness)
                                       : std::nullopt;
                   if (!tx) throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "TX decode failed");
                   for (const TxIn& in : tx->vin) {
                       if ((!in.script_sig.empty() || !in.witness.empty()) && !permit) {
                           throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR,
                                                   "Inputs must not have scriptSigs and scriptWitnesses");
                       }
                   }
                   return Json(EncodePsbtBase64(Psbt::FromTransaction(*tx)));
               }});
    table.Add(
        {"decodepsbt",
         "Rawtransactions",
         {rpc::Required("psbt", ParamType::STRING, "The PSBT in base64")},
         "Shows every field of a PSBT as JSON: the unsigned transaction, global, input and output maps "
         "(including taproot, proprietary and unknown fields) and the fee when the inputs' amounts are known.",
         [network](const rpc::CallRequest& call) { return DecodePsbtToJson(DecodePsbtArg(call.Arg(0)), network); }});
    table.Add({"combinepsbt",
               "Rawtransactions",
               {rpc::Required("txs", ParamType::ARRAY, "PSBTs (base64) of one transaction")},
               "Merges the fields of several PSBTs of the same transaction into one (for example signatures from "
               "different signers) and returns it in base64.",
               [](const rpc::CallRequest& call) {
                   const Json& txs = call.Arg(0);
                   if (txs.empty()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Parameter 'txs' cannot be empty");
                   }
                   Psbt merged = DecodePsbtArg(txs[0]);
                   for (size_t i = 1; i < txs.size(); ++i) {
                       try {
                           merged.Merge(DecodePsbtArg(txs[i]));
                       } catch (const PsbtError& e) {
                           throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, e.what());
                       }
                   }
                   return Json(EncodePsbtBase64(merged));
               }});
    table.Add(
        {"finalizepsbt",
         "Rawtransactions",
         {rpc::Required("psbt", ParamType::STRING, "The PSBT in base64"),
          rpc::Optional("extract", ParamType::BOOL, "Return the network transaction when complete (default true)")},
         "Builds the final scriptSig and witness of every input whose signatures suffice. When all do and "
         "extract is true, returns the transaction in hex, ready for sendrawtransaction; otherwise the "
         "updated PSBT.",
         [](const rpc::CallRequest& call) {
             Psbt psbt = DecodePsbtArg(call.Arg(0));
             const bool extract = call.Arg(1).is_null() || call.Arg(1).get<bool>();
             const bool complete = FinalizePsbt(psbt, STANDARD_SCRIPT_VERIFY_FLAGS);
             Json out = Json::object();
             const auto tx = complete && extract ? ExtractTransaction(psbt) : std::nullopt;
             if (tx) {
                 out["hex"] = HexStr(SerializeTransaction(*tx));
             } else {
                 out["psbt"] = EncodePsbtBase64(psbt);
             }
             out["complete"] = complete;
             return out;
         }});
    table.Add({"joinpsbts",
               "Rawtransactions",
               {rpc::Required("txs", ParamType::ARRAY, "PSBTs (base64) of different transactions")},
               "Joins the inputs and outputs of several PSBTs into one transaction (highest version, lowest lock "
               "time), in a random order, and returns its PSBT in base64.",
               [](const rpc::CallRequest& call) {
                   const Json& txs = call.Arg(0);
                   if (txs.size() <= 1) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "At least two PSBTs are required to join PSBTs.");
                   }
                   std::vector<Psbt> psbts;
                   int32_t best_version = 1;
                   uint32_t best_locktime = 0xffffffff;
                   for (const Json& text : txs) {
                       psbts.push_back(DecodePsbtArg(text));
                       best_version = std::max(best_version, psbts.back().tx.version);
                       best_locktime = std::min(best_locktime, psbts.back().tx.lock_time);
                   }
                   Psbt joined;
                   joined.tx.version = best_version;
                   joined.tx.lock_time = best_locktime;
                   std::set<OutPoint> seen;
                   for (const Psbt& psbt : psbts) {
                       for (size_t i = 0; i < psbt.tx.vin.size(); ++i) {
                           const OutPoint& prevout = psbt.tx.vin[i].prevout;
                           if (!seen.insert(prevout).second) {
                               throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                                       fmt::format("Input {}:{} exists in multiple PSBTs",
                                                                   prevout.hash.GetHex(), prevout.n));
                           }
                           joined.tx.vin.push_back(psbt.tx.vin[i]);
                           joined.inputs.push_back(psbt.inputs[i]);
                       }
                       for (size_t i = 0; i < psbt.tx.vout.size(); ++i) {
                           joined.tx.vout.push_back(psbt.tx.vout[i]);
                           joined.outputs.push_back(psbt.outputs[i]);
                       }
                       joined.xpubs.insert(psbt.xpubs.begin(), psbt.xpubs.end());
                       joined.unknown.insert(psbt.unknown.begin(), psbt.unknown.end());
                   }
                   // Shuffled, so that the joined transaction does not tell which inputs paid which outputs.
                   std::vector<size_t> in_order(joined.inputs.size());
                   std::vector<size_t> out_order(joined.outputs.size());
                   std::iota(in_order.begin(), in_order.end(), 0);
                   std::iota(out_order.begin(), out_order.end(), 0);
                   std::mt19937_64 rng(std::random_device{}());
                   std::shuffle(in_order.begin(), in_order.end(), rng);
                   std::shuffle(out_order.begin(), out_order.end(), rng);
                   Psbt shuffled;
                   shuffled.tx.version = joined.tx.version;
                   shuffled.tx.lock_time = joined.tx.lock_time;
                   shuffled.xpubs = joined.xpubs;
                   shuffled.unknown = joined.unknown;
                   for (const size_t i : in_order) {
                       shuffled.tx.vin.push_back(joined.tx.vin[i]);
                       shuffled.inputs.push_back(joined.inputs[i]);
                   }
                   for (const size_t i : out_order) {
                       shuffled.tx.vout.push_back(joined.tx.vout[i]);
                       shuffled.outputs.push_back(joined.outputs[i]);
                   }
                   return Json(EncodePsbtBase64(shuffled));
               }});
    table.Add({"analyzepsbt",
               "Rawtransactions",
               {rpc::Required("psbt", ParamType::STRING, "The PSBT in base64")},
               "Says what each input of a PSBT still needs (its UTXO, public keys, scripts, signatures) and who "
               "acts next, and, once every input can be finalized, the transaction's estimated size and fee rate.",
               [](const rpc::CallRequest& call) {
                   const PsbtAnalysis analysis = AnalyzePsbt(DecodePsbtArg(call.Arg(0)), STANDARD_SCRIPT_VERIFY_FLAGS);
                   Json out = Json::object();
                   Json inputs = Json::array();
                   for (const auto& input : analysis.inputs) {
                       Json entry = {{"has_utxo", input.has_utxo},
                                     {"is_final", input.is_final},
                                     {"next", PsbtRoleName(input.next)}};
                       Json missing = Json::object();
                       const auto hex_list = [](const std::vector<crypto::Hash20>& ids) {
                           Json list = Json::array();
                           for (const auto& id : ids) list.push_back(HexStr(id));
                           return list;
                       };
                       if (!input.missing.pubkeys.empty()) missing["pubkeys"] = hex_list(input.missing.pubkeys);
                       if (input.missing.redeem_script) missing["redeemscript"] = HexStr(*input.missing.redeem_script);
                       if (input.missing.witness_script) {
                           missing["witnessscript"] = HexStr(*input.missing.witness_script);
                       }
                       if (!input.missing.sigs.empty()) missing["signatures"] = hex_list(input.missing.sigs);
                       if (!missing.empty()) entry["missing"] = std::move(missing);
                       inputs.push_back(std::move(entry));
                   }
                   if (!inputs.empty()) out["inputs"] = std::move(inputs);
                   if (analysis.estimated_vsize) out["estimated_vsize"] = *analysis.estimated_vsize;
                   if (analysis.estimated_feerate)
                       out["estimated_feerate"] = ValueFromAmount(*analysis.estimated_feerate);
                   if (analysis.fee) out["fee"] = ValueFromAmount(*analysis.fee);
                   out["next"] = PsbtRoleName(analysis.next);
                   if (!analysis.error.empty()) out["error"] = analysis.error;
                   return out;
               }});
    table.Add({"utxoupdatepsbt",
               "Rawtransactions",
               {rpc::Required("psbt", ParamType::STRING, "The PSBT in base64"),
                rpc::Optional("descriptors", ParamType::ARRAY,
                              "Descriptors that would add scripts and key paths (not supported yet: must be "
                              "left out or empty)")},
               "Adds to each segwit input that lacks it the output it spends (witness_utxo), from the mempool and "
               "the UTXO set, and returns the PSBT in base64.",
               [&node](const rpc::CallRequest& call) {
                   Psbt psbt = DecodePsbtArg(call.Arg(0));
                   if (call.Arg(1).is_array() && !call.Arg(1).empty()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "descriptors are not supported by utxoupdatepsbt yet");
                   }
                   const CoinMap coins = FindCoins(node, psbt.tx);
                   for (size_t i = 0; i < psbt.inputs.size(); ++i) {
                       PsbtInput& in = psbt.inputs[i];
                       if (in.non_witness_utxo || in.witness_utxo) continue;
                       const auto it = coins.find(psbt.tx.vin[i].prevout);
                       if (it == coins.end() || !it->second) continue;
                       // Core adds the output for segwit spends only: a legacy input needs the whole previous
                       // transaction, which the UTXO set does not keep.
                       if (IsWitnessOutput(it->second->script_pubkey)) in.witness_utxo = it->second;
                   }
                   return Json(EncodePsbtBase64(psbt));
               }});
}

} // namespace orrery::node
