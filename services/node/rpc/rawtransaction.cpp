// The node's raw transaction methods that need no chain: decoderawtransaction,
// decodescript and createrawtransaction. getrawtransaction, which reads blocks,
// is in rawtransaction_chain.cpp. Arguments, results and errors are bitcoind's.
#include <services/node/rpc/rawtransaction.h>

#include <common/consensus/hex.h>
#include <common/keys/descriptor.h>
#include <common/keys/key_io.h>
#include <common/script/opcodes.h>
#include <common/script/solver.h>
#include <services/node/rpc/core_json.h>

#include <fmt/format.h>

#include <set>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

namespace {

//! BIP125's highest sequence that still signals replaceability (Core's MAX_BIP125_RBF_SEQUENCE).
constexpr uint32_t MAX_BIP125_RBF_SEQUENCE = 0xfffffffd;
constexpr uint32_t SEQUENCE_FINAL = 0xffffffff;
constexpr uint32_t MAX_SEQUENCE_NONFINAL = 0xfffffffe;
constexpr int64_t LOCKTIME_MAX = 0xffffffff;

const std::string& StrArg(const Json& value, std::string_view what)
{
    if (!value.is_string()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                fmt::format("JSON value of type {} for field {} is not of expected type string",
                                            rpc::JsonTypeName(value), what));
    }
    return value.get_ref<const std::string&>();
}

} // namespace

std::vector<uint8_t> ParseHexValue(const Json& value, std::string_view name)
{
    const std::string hex = value.is_string() ? value.get<std::string>() : std::string();
    auto bytes = hex.empty() ? std::nullopt : TryParseHex(hex);
    if (!bytes) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                fmt::format("{} must be hexadecimal string (not '{}')", name, hex));
    }
    return *bytes;
}

Transaction ConstructTransaction(const Json& inputs_in, const Json& outputs_in, const Json& locktime,
                                 std::optional<bool> rbf, Network network)
{
    Transaction tx;
    tx.version = 2;
    if (!locktime.is_null()) {
        const int64_t value = rpc::IntegerArg(locktime);
        if (value < 0 || value > LOCKTIME_MAX) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, locktime out of range");
        }
        tx.lock_time = static_cast<uint32_t>(value);
    }

    // Inputs.
    const Json inputs = inputs_in.is_null() ? Json::array() : inputs_in;
    if (!inputs.is_array())
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                "Expected type array, got " + std::string(rpc::JsonTypeName(inputs)));
    for (const Json& input : inputs) {
        if (!input.is_object()) {
            throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                    "Expected type object, got " + std::string(rpc::JsonTypeName(input)));
        }
        TxIn in;
        in.prevout.hash = ParseHashArg(input.contains("txid") ? input["txid"] : Json(), "txid");
        const Json vout = input.contains("vout") ? input["vout"] : Json();
        if (!vout.is_number())
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, missing vout key");
        const int64_t n = rpc::IntegerArg(vout);
        if (n < 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, vout cannot be negative");
        if (n > INT32_MAX) throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "JSON integer out of range");
        in.prevout.n = static_cast<uint32_t>(n);
        if (rbf.value_or(true)) {
            in.sequence = MAX_BIP125_RBF_SEQUENCE;
        } else if (tx.lock_time) {
            in.sequence = MAX_SEQUENCE_NONFINAL;
        } else {
            in.sequence = SEQUENCE_FINAL;
        }
        if (input.contains("sequence") && input["sequence"].is_number()) {
            const int64_t sequence = rpc::IntegerArg(input["sequence"]);
            if (sequence < 0 || sequence > SEQUENCE_FINAL) {
                throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                        "Invalid parameter, sequence number is out of range");
            }
            in.sequence = static_cast<uint32_t>(sequence);
        }
        tx.vin.push_back(std::move(in));
    }

    // Outputs: an object, or an array of one-key objects (which may repeat a key, to be refused below).
    if (outputs_in.is_null()) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, output argument must be non-null");
    }
    std::vector<std::pair<std::string, Json>> outputs;
    if (outputs_in.is_object()) {
        for (const auto& [key, value] : outputs_in.items()) outputs.emplace_back(key, value);
    } else if (outputs_in.is_array()) {
        for (const Json& output : outputs_in) {
            if (!output.is_object()) {
                throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                        "Invalid parameter, key-value pair not an object as expected");
            }
            if (output.size() != 1) {
                throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                        "Invalid parameter, key-value pair must contain exactly one key");
            }
            outputs.emplace_back(output.begin().key(), output.begin().value());
        }
    } else {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR,
                                "Expected type object or array, got " + std::string(rpc::JsonTypeName(outputs_in)));
    }
    std::set<std::vector<uint8_t>> destinations;
    bool has_data = false;
    for (const auto& [name, value] : outputs) {
        TxOut out;
        if (name == "data") {
            if (has_data) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, duplicate key: data");
            has_data = true;
            // Core reads the value's text, whatever its JSON type.
            const Json text = value.is_string() ? value : Json(value.is_null() ? std::string() : value.dump());
            const auto data = ParseHexValue(text, "Data");
            out.value = 0;
            out.script_pubkey.push_back(OP_RETURN);
            AppendPushData(out.script_pubkey, data);
        } else {
            const auto script = DecodeAddress(name, network);
            out.value = AmountFromValue(value);
            if (!script) throw rpc::RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid Bitcoin address: " + name);
            if (!destinations.insert(*script).second) {
                throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, duplicated address: " + name);
            }
            out.script_pubkey = *script;
        }
        tx.vout.push_back(std::move(out));
    }

    if (rbf.value_or(false) && !tx.vin.empty()) {
        bool signals = false;
        for (const TxIn& in : tx.vin) signals |= in.sequence <= MAX_BIP125_RBF_SEQUENCE;
        if (!signals) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                    "Invalid parameter combination: Sequence number(s) contradict replaceable option");
        }
    }
    return tx;
}

Json DecodeScriptToJson(std::span<const uint8_t> script, Network network)
{
    Json out = ScriptToJson(script, network, /*include_hex=*/false, /*include_address=*/true);
    std::vector<std::vector<uint8_t>> solutions;
    const TxoutType type = Solver(script, solutions);

    bool can_wrap = false;
    switch (type) {
    case TxoutType::MULTISIG:
    case TxoutType::NONSTANDARD:
    case TxoutType::PUBKEY:
    case TxoutType::PUBKEYHASH:
    case TxoutType::WITNESS_V0_KEYHASH:
    case TxoutType::WITNESS_V0_SCRIPTHASH:
        can_wrap = HasValidOps(script) && !IsUnspendable(script);
        if (can_wrap) {
            size_t pos = 0;
            Opcode opcode;
            while (pos < script.size() && GetScriptOp(script, pos, opcode)) {
                if (opcode == OP_CHECKSIGADD || IsOpSuccess(opcode)) can_wrap = false;
            }
        }
        break;
    default:
        break;
    }
    if (!can_wrap) return out;

    out["p2sh"] = EncodeAddress(MakeP2SHScript(crypto::Hash160(script)), network);
    bool can_wrap_p2wsh = false;
    switch (type) {
    case TxoutType::MULTISIG:
    case TxoutType::PUBKEY:
        // Segwit checks refuse uncompressed keys.
        can_wrap_p2wsh = true;
        for (const auto& solution : solutions) {
            if (solution.size() != 1 && solution.size() != 33) can_wrap_p2wsh = false;
        }
        break;
    case TxoutType::NONSTANDARD:
    case TxoutType::PUBKEYHASH:
        can_wrap_p2wsh = true;
        break;
    default:
        break;
    }
    if (!can_wrap_p2wsh) return out;

    std::vector<uint8_t> segwit;
    std::optional<std::string> desc;
    if (type == TxoutType::PUBKEY) {
        const auto hash = crypto::Hash160(solutions[0]);
        segwit = MakeWitnessScript({0, std::vector<uint8_t>(hash.begin(), hash.end())});
    } else if (type == TxoutType::PUBKEYHASH) {
        segwit = MakeWitnessScript({0, solutions[0]});
    } else {
        const auto hash = crypto::Sha256(script);
        segwit = MakeWitnessScript({0, std::vector<uint8_t>(hash.begin(), hash.end())});
        // Core knows the witness script here, so it describes the multisig inside; Orrery infers no miniscript, so
        // other scripts keep the addr() form.
        if (type == TxoutType::MULTISIG) {
            std::string inner = InferDescriptor(script, network);
            inner = inner.substr(0, inner.find('#'));
            desc = "wsh(" + inner + ")";
        }
    }
    Json sr = ScriptToJson(segwit, network, /*include_hex=*/true, /*include_address=*/true);
    if (desc) {
        // Keep Core's field order: asm, desc, hex, address, type.
        sr["desc"] = AddDescriptorChecksum(*desc);
    }
    sr["p2sh-segwit"] = EncodeAddress(MakeP2SHScript(crypto::Hash160(segwit)), network);
    out["segwit"] = std::move(sr);
    return out;
}

void RegisterRawTransactionRpc(rpc::Table& table, ChainType chain)
{
    const Network network = AddressNetwork(chain);
    table.Add({"decoderawtransaction",
               "Raw transactions",
               {rpc::Required("hexstring", ParamType::STRING, "The transaction in hex"),
                rpc::Optional("iswitness", ParamType::BOOL,
                              "Whether to read it as a segwit transaction (true) or a legacy one (false); both "
                              "are tried when left out")},
               "Shows a serialized transaction as JSON: its ids, sizes, inputs and outputs.",
               [network](const rpc::CallRequest& call) {
                   const Json& witness = call.Arg(1);
                   const bool try_witness = witness.is_null() ? true : witness.get<bool>();
                   const bool try_no_witness = witness.is_null() ? true : !witness.get<bool>();
                   const auto tx = DecodeHexTx(StrArg(call.Arg(0), "hexstring"), try_no_witness, try_witness);
                   if (!tx) throw rpc::RpcException(rpc::RPC_DESERIALIZATION_ERROR, "TX decode failed");
                   return TxToJson(*tx, network, uint256{}, /*include_hex=*/false);
               }});
    table.Add({"decodescript",
               "Raw transactions",
               {rpc::Required("hexstring", ParamType::STRING, "The script in hex")},
               "Shows a script as JSON: its opcodes, kind, descriptor and address, and the P2SH and segwit "
               "addresses that would wrap it where that makes sense.",
               [network](const rpc::CallRequest& call) {
                   const std::string& hex = StrArg(call.Arg(0), "hexstring");
                   std::vector<uint8_t> script;
                   if (!hex.empty()) script = ParseHexValue(call.Arg(0), "argument");
                   return DecodeScriptToJson(script, network);
               }});
    table.Add({"createrawtransaction",
               "Raw transactions",
               {rpc::Required("inputs", ParamType::ARRAY,
                              "The outputs to spend: [{\"txid\": hex, \"vout\": n, \"sequence\": n}, ...]"),
                rpc::Required("outputs", ParamType::ANY,
                              "The new outputs: {\"address\": amount, \"data\": hex} or [{\"address\": amount}, "
                              "{\"data\": hex}, ...]"),
                rpc::Optional("locktime", ParamType::NUMBER, "The lock time (default 0)"),
                rpc::Optional("replaceable", ParamType::BOOL,
                              "Whether the inputs signal BIP125 replaceability (default true)")},
               "Builds an unsigned transaction spending the given outputs to the given addresses and data, "
               "and returns it in hex. Nothing is signed, stored or sent.",
               [network](const rpc::CallRequest& call) {
                   std::optional<bool> rbf;
                   if (!call.Arg(3).is_null()) rbf = call.Arg(3).get<bool>();
                   const Transaction tx = ConstructTransaction(call.Arg(0), call.Arg(1), call.Arg(2), rbf, network);
                   return Json(HexStr(SerializeTransaction(tx, true)));
               }});
}

} // namespace orrery::node
