// The wallet's address and descriptor RPC methods: getnewaddress,
// getrawchangeaddress, setlabel, listlabels, getaddressinfo, importdescriptors,
// listdescriptors, keypoolrefill — bitcoind's names, fields and errors.
#include <services/wallet/rpc/util.h>
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/sync/chain_sync.h>
#include <services/wallet/wallet_service.h>

#include <common/consensus/hex.h>
#include <common/keys/descriptor.h>
#include <common/keys/key_io.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

namespace {

//! bitcoind's ParseDescriptorRange: `n` means [0, n], or [begin, end]; both ends included.
std::pair<int64_t, int64_t> DescriptorRange(const Json& value)
{
    std::pair<int64_t, int64_t> range;
    if (value.is_number_integer()) {
        range = {0, value.get<int64_t>()};
    } else if (value.is_array() && value.size() == 2 && value[0].is_number_integer() && value[1].is_number_integer()) {
        range = {value[0].get<int64_t>(), value[1].get<int64_t>()};
        if (range.first > range.second) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Range specified as [begin,end] must not have begin after end");
        }
    } else {
        throw RpcException(rpc::RPC_INVALID_PARAMETER, "Range must be specified as either an integer or [begin,end]");
    }
    if (range.first < 0) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Range should be greater or equal than 0");
    if ((range.second >> 31) != 0) throw RpcException(rpc::RPC_INVALID_PARAMETER, "End of range is too high");
    if (range.second >= range.first + 1000000) throw RpcException(rpc::RPC_INVALID_PARAMETER, "Range is too large");
    return range;
}

//! The getnewaddress type a descriptor serves, from its top function.
std::string OutputTypeOfDescriptor(const std::string& text)
{
    if (text.rfind("pkh(", 0) == 0) return "legacy";
    if (text.rfind("sh(wpkh(", 0) == 0) return "p2sh-segwit";
    if (text.rfind("wpkh(", 0) == 0) return "bech32";
    if (text.rfind("tr(", 0) == 0) return "bech32m";
    return {};
}

//! One request of importdescriptors; the result object {success, warnings, error}. `timestamp` gets its key birth.
Json ImportOne(WalletService& service, HdWallet& wallet, const Json& data, int64_t now, int64_t& timestamp)
{
    Json warnings = Json::array();
    try {
        if (!data.is_object()) throw RpcException(rpc::RPC_TYPE_ERROR, "Expected object");
        if (!data.contains("desc") || !data["desc"].is_string()) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Descriptor not found.");
        }
        if (!data.contains("timestamp")) {
            throw RpcException(rpc::RPC_TYPE_ERROR, "Missing required timestamp field for key");
        }
        const Json& ts = data["timestamp"];
        if (ts.is_string() && ts.get<std::string>() == "now") {
            timestamp = now;
        } else if (ts.is_number_integer()) {
            timestamp = std::max<int64_t>(ts.get<int64_t>(), 1);
        } else {
            throw RpcException(
                rpc::RPC_TYPE_ERROR,
                fmt::format("Expected number or \"now\" timestamp value for key. got type {}", rpc::JsonTypeName(ts)));
        }
        const std::string text = data["desc"].get<std::string>();
        const bool active = data.value("active", false);
        const bool internal = data.value("internal", false);
        const std::string label =
            data.contains("label") && data["label"].is_string() ? data["label"].get<std::string>() : "";
        ParsedDescriptor parsed;
        std::string public_form;
        try {
            parsed = ParseDescriptor(text, wallet.GetNetwork(), /*require_checksum=*/true, 0);
            public_form = DescriptorPublicForm(text, wallet.GetNetwork());
        } catch (const DescriptorError& e) {
            throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, e.what());
        }
        if (parsed.multipath) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER,
                               "Multipath descriptors are not supported by this wallet yet");
        }
        DescriptorRecord record;
        record.descriptor = public_form;
        record.private_descriptor = parsed.has_private ? AddDescriptorChecksum(text.substr(0, text.find('#'))) : "";
        record.ranged = parsed.ranged;
        record.timestamp = timestamp;
        record.internal = internal;
        if (!parsed.ranged && data.contains("range")) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Range should not be specified for an un-ranged descriptor");
        }
        if (parsed.ranged) {
            if (data.contains("range")) {
                auto [begin, end] = DescriptorRange(data["range"]);
                record.range_start = begin;
                record.range_end = end;
            } else {
                warnings.push_back("Range not given, using default keypool range");
                record.range_start = 0;
                record.range_end = service.KeypoolSize() - 1;
            }
            record.next_index = record.range_start;
            if (data.contains("next_index")) {
                record.next_index = rpc::IntegerArg(data["next_index"]);
                if (record.next_index < record.range_start || record.next_index > record.range_end) {
                    throw RpcException(rpc::RPC_INVALID_PARAMETER, "next_index is out of range");
                }
            }
        } else {
            record.range_end = -1;
        }
        if (active && !parsed.ranged)
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Active descriptors must be ranged");
        if (data.contains("range") && data.contains("label")) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Ranged descriptors should not have a label");
        }
        if (internal && data.contains("label")) {
            throw RpcException(rpc::RPC_INVALID_PARAMETER, "Internal addresses should not have a label");
        }
        if (active && text.rfind("combo(", 0) == 0) {
            throw RpcException(rpc::RPC_WALLET_ERROR, "Combo descriptors cannot be set to active");
        }
        const bool no_private = (wallet.GetInfo().flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS) != 0;
        if (no_private && parsed.has_private) {
            throw RpcException(rpc::RPC_WALLET_ERROR,
                               "Cannot import private keys to a wallet with private keys disabled");
        }
        if (!no_private && !parsed.has_private) {
            warnings.push_back("Not all private keys provided. Some wallet functionality may return unexpected errors");
        }
        if (active) {
            record.output_type = OutputTypeOfDescriptor(public_form);
            if (record.output_type.empty()) {
                warnings.push_back("Unknown output type, cannot set descriptor to active.");
            } else {
                record.active = true;
            }
        }
        wallet.ImportDescriptor(record, label);
        Json result = {{"success", true}};
        if (!warnings.empty()) result["warnings"] = warnings;
        return result;
    } catch (const RpcException& e) {
        Json result = {{"success", false}};
        if (!warnings.empty()) result["warnings"] = warnings;
        result["error"] = {{"code", e.code()}, {"message", e.what()}};
        return result;
    } catch (const std::exception& e) {
        Json result = {{"success", false}};
        result["error"] = {{"code", rpc::RPC_WALLET_ERROR}, {"message", e.what()}};
        return result;
    }
}

//! getaddressinfo's script details (bitcoind's DescribeWalletAddress).
void DescribeScript(const std::vector<uint8_t>& script, const AddressDetails& details, Json& out)
{
    auto witness = MatchWitnessProgram(script);
    const bool p2sh = script.size() == 23 && script[0] == 0xa9 && script[1] == 0x14 && script[22] == 0x87;
    if (witness) {
        out["isscript"] = witness->version == 1 || witness->program.size() == 32;
        out["iswitness"] = true;
        out["witness_version"] = witness->version;
        out["witness_program"] = HexStr(witness->program);
        if (witness->version == 0 && witness->program.size() == 20 && !details.pubkey.empty()) {
            out["pubkey"] = details.pubkey;
            out["iscompressed"] = details.pubkey.size() == 66;
        }
    } else if (p2sh) {
        out["isscript"] = true;
        out["iswitness"] = false;
        if (details.is_mine && details.pubkey.size() == 66) {
            // sh(wpkh()): the embedded P2WPKH script.
            auto pubkey = TryParseHex(details.pubkey);
            auto parsed = pubkey ? PubKey::Parse(*pubkey) : std::nullopt;
            if (parsed) {
                out["script"] = "witness_v0_keyhash";
                out["hex"] = HexStr(MakeP2WPKHScript(*parsed));
                out["pubkey"] = details.pubkey;
                out["iscompressed"] = true;
            }
        }
    } else {
        out["isscript"] = false;
        out["iswitness"] = false;
        if (!details.pubkey.empty()) {
            out["pubkey"] = details.pubkey;
            out["iscompressed"] = details.pubkey.size() == 66;
        }
    }
}

} // namespace

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
    table.Add({"getrawchangeaddress",
               "Wallet",
               {rpc::Optional("address_type", ParamType::STRING,
                              "\"legacy\", \"p2sh-segwit\", \"bech32\" (the default) or \"bech32m\"")},
               "Hands out a change address (the internal chain), for building transactions by hand.",
               [&service](const rpc::CallRequest& call) {
                   return Json(service.GetNewAddress(call.wallet.value_or(""), "", rpc::StringArg(call.Arg(0)),
                                                     /*internal=*/true));
               }});
    table.Add({"setlabel",
               "Wallet",
               {rpc::Required("address", ParamType::STRING, "An address of the wallet or another"),
                rpc::Required("label", ParamType::STRING, "The label (\"\" to clear)")},
               "Gives an address a label.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const std::string address = call.Arg(0).get<std::string>();
                   ScriptFromAddress(*wallet, address, "Invalid Bitcoin address");
                   const std::string label = call.Arg(1).get<std::string>();
                   if (label == "*") throw RpcException(rpc::RPC_WALLET_INVALID_LABEL_NAME, "Invalid label name");
                   wallet->SetLabel(address, label);
                   return Json();
               }});
    table.Add({"listlabels",
               "Wallet",
               {rpc::Optional("purpose", ParamType::STRING, "\"receive\" or \"send\"; every label when omitted")},
               "Lists the labels the wallet knows.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const std::string purpose = rpc::StringArg(call.Arg(0));
                   Json out = Json::array();
                   if (purpose == "send") return out; // every label here is on an address of the wallet
                   for (const auto& label : wallet->ListLabels()) out.push_back(label);
                   return out;
               }});
    table.Add({"getaddressinfo",
               "Wallet",
               {rpc::Required("address", ParamType::STRING, "The address")},
               "Tells what the wallet knows of an address: whether it is the wallet's, its descriptor, key "
               "path, labels.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const std::string address = call.Arg(0).get<std::string>();
                   const auto script = ScriptFromAddress(*wallet, address, "Invalid address");
                   const AddressDetails details = wallet->DescribeScript(script);
                   Json out = Json::object();
                   out["address"] = EncodeAddress(script, wallet->GetNetwork());
                   out["scriptPubKey"] = HexStr(script);
                   out["ismine"] = details.is_mine;
                   out["solvable"] = details.solvable;
                   if (details.solvable) out["desc"] = details.descriptor;
                   if (details.is_mine) out["parent_desc"] = details.parent_descriptor;
                   out["iswatchonly"] = false;
                   DescribeScript(script, details, out);
                   out["ischange"] = details.is_change;
                   if (details.is_mine) {
                       out["timestamp"] = details.timestamp;
                       if (!details.hd_key_path.empty()) {
                           out["hdkeypath"] = details.hd_key_path;
                           out["hdmasterfingerprint"] = details.hd_master_fingerprint;
                       }
                   }
                   Json labels = Json::array();
                   if (details.label) labels.push_back(*details.label);
                   out["labels"] = labels;
                   return out;
               }});
    table.Add({"importdescriptors",
               "Wallet",
               {rpc::Required("requests", ParamType::ARRAY,
                              "Objects: desc (with checksum), active, range, next_index, timestamp (\"now\" or UNIX "
                              "time; required), internal, label")},
               "Adds descriptors to the wallet, then reads the chain from the oldest timestamp given for "
               "transactions paying them.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   // bitcoind: an encrypted wallet imports only while unlocked (a private key is sealed as it
                   // comes in).
                   if (wallet->IsCryptLocked()) {
                       throw RpcException(rpc::RPC_WALLET_UNLOCK_NEEDED, std::string(UNLOCK_NEEDED_MESSAGE));
                   }
                   const int64_t now = GetTime();
                   Json results = Json::array();
                   std::optional<int64_t> lowest;
                   for (const auto& request : call.Arg(0)) {
                       int64_t timestamp = now;
                       Json result = ImportOne(service, *wallet, request, now, timestamp);
                       if (result["success"].get<bool>() && timestamp < now) {
                           lowest = std::min(lowest.value_or(timestamp), timestamp);
                       }
                       results.push_back(std::move(result));
                   }
                   if (lowest) {
                       // Keys born before now may have been paid already: read the chain from their birth.
                       auto chain = service.RequireChain();
                       const int64_t start = FindStartHeight(*chain, *lowest);
                       const RescanResult scan = Rescan(*wallet, *chain, start, std::nullopt);
                       if (scan.aborted) {
                           throw RpcException(rpc::RPC_MISC_ERROR, "Rescan aborted by user.");
                       }
                   }
                   return results;
               }});
    table.Add({"listdescriptors",
               "Wallet",
               {rpc::Optional("private", ParamType::BOOL, "Show the descriptors with their private keys")},
               "Lists the wallet's descriptors.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   const bool priv = BoolArg(call.Arg(0), false);
                   const WalletInfo info = wallet->GetInfo();
                   if (priv && (info.flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS)) {
                       throw RpcException(rpc::RPC_WALLET_ERROR, "Can't get descriptor string for watch-only wallets");
                   }
                   std::vector<DescriptorRecord> descriptors;
                   try {
                       descriptors = wallet->GetDescriptors(priv);
                   } catch (const WalletError& e) {
                       throw RpcException(e.code(), e.what());
                   }
                   Json list = Json::array();
                   std::vector<std::pair<std::string, Json>> sorted;
                   for (const auto& d : descriptors) {
                       Json entry = Json::object();
                       if (priv && d.private_descriptor.empty()) {
                           throw RpcException(rpc::RPC_WALLET_ERROR, "Can't get descriptor string.");
                       }
                       entry["desc"] = priv ? d.private_descriptor : d.descriptor;
                       entry["timestamp"] = d.timestamp;
                       entry["active"] = d.active;
                       if (d.active) entry["internal"] = d.internal;
                       if (d.ranged) {
                           entry["range"] = Json::array({d.range_start, d.range_end});
                           entry["next"] = d.next_index;
                           entry["next_index"] = d.next_index;
                       }
                       sorted.emplace_back(entry["desc"].get<std::string>(), std::move(entry));
                   }
                   std::sort(sorted.begin(), sorted.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
                   for (auto& [key, entry] : sorted) list.push_back(std::move(entry));
                   return Json{{"wallet_name", info.name}, {"descriptors", list}};
               }});
    table.Add({"keypoolrefill",
               "Wallet",
               {rpc::Optional("newsize", ParamType::NUMBER, "Scripts to derive ahead (default: -keypool)")},
               "Derives scripts ahead of the next index of every ranged descriptor.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   std::optional<int64_t> size;
                   if (!call.Arg(0).is_null()) {
                       size = rpc::IntegerArg(call.Arg(0));
                       if (*size < 0)
                           throw RpcException(rpc::RPC_INVALID_PARAMETER, "Invalid parameter, expected valid size.");
                   }
                   wallet->TopUp(size);
                   return Json();
               }});
}

} // namespace orrery::wallet
