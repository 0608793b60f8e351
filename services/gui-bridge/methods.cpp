// The gui-bridge's RPC methods; see methods.h. Field names, their order and
// the error codes follow bitcoind so that its clients work unchanged.
#include <services/gui-bridge/methods.h>

#include <services/gui-bridge/http.h>

#include <common/interfaces/node_ipc.h>
#include <common/interfaces/supervisor_ipc.h>
#include <common/interfaces/wallet_ipc.h>

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>

namespace orrery::rpc {

// --- bitcoind's JSON fields ------------------------------------------------

std::string ServicesHex(uint64_t services)
{
    return fmt::format("{:016x}", services);
}

Json ServiceNames(uint64_t services)
{
    static constexpr std::array<std::pair<int, std::string_view>, 7> NAMES{{{0, "NETWORK"},
                                                                            {1, "GETUTXO"},
                                                                            {2, "BLOOM"},
                                                                            {3, "WITNESS"},
                                                                            {6, "COMPACT_FILTERS"},
                                                                            {10, "NETWORK_LIMITED"},
                                                                            {11, "P2P_V2"}}};
    Json names = Json::array();
    for (int bit = 0; bit < 64; ++bit) {
        if (!(services & (uint64_t{1} << bit))) continue;
        std::string name = fmt::format("UNKNOWN[2^{}]", bit);
        for (const auto& [known, text] : NAMES) {
            if (known == bit) name = std::string(text);
        }
        names.push_back(name);
    }
    return names;
}

std::string NetworkOf(const std::string& address)
{
    std::string host = address;
    uint16_t port = 0;
    if (!http::SplitHostPort(address, host, port)) host = address;
    if (host.ends_with(".onion")) return "onion";
    if (host.ends_with(".i2p")) return "i2p";
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        uint32_t a = ntohl(v4.s_addr);
        auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
        bool unroutable = in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) ||  // RFC1918
                          in(0x7f000000, 8) || in(0x00000000, 8) ||                         // local, "this network"
                          in(0xa9fe0000, 16) ||                                             // RFC3927 link-local
                          in(0x64400000, 10) ||                                             // RFC6598 shared
                          in(0xc6120000, 15) ||                                             // RFC2544 benchmarks
                          in(0xc0000200, 24) || in(0xc6336400, 24) || in(0xcb007100, 24) || // RFC5737 docs
                          a >= 0xe0000000;                                                  // multicast, reserved
        return unroutable ? "not_publicly_routable" : "ipv4";
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        const uint8_t* b = v6.s6_addr;
        static constexpr uint8_t LOOPBACK[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        bool unroutable = std::memcmp(b, LOOPBACK, 16) == 0 || (b[0] & 0xfe) == 0xfc ||     // ULA (RFC4193)
                          (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||                        // link-local
                          (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || // RFC3849 docs
                          b[0] == 0xff;                                                     // multicast
        return unroutable ? "not_publicly_routable" : "ipv6";
    }
    return "not_publicly_routable";
}

namespace {

Json Warnings(const std::string& warnings)
{
    // bitcoind 28+ answers a list of warnings.
    Json list = Json::array();
    if (!warnings.empty()) list.push_back(warnings);
    return list;
}

Json Network(std::string_view name, bool reachable)
{
    Json network = Json::object();
    network["name"] = name;
    network["limited"] = !reachable;
    network["reachable"] = reachable;
    network["proxy"] = "";
    network["proxy_randomize_credentials"] = false;
    return network;
}

//! bitcoind's amounts print with 8 decimals; as a JSON number 0.00001 is the same value.
constexpr double DEFAULT_MIN_RELAY_FEE = 0.00001000;

} // namespace

Json BlockchainInfoToJson(const interfaces::BlockchainInfo& info)
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
    out["warnings"] = Warnings(info.warnings);
    return out;
}

Json NetworkInfoToJson(const interfaces::NetworkInfo& info)
{
    Json out = Json::object();
    out["version"] = info.version;
    out["subversion"] = info.subversion;
    out["protocolversion"] = info.protocol_version;
    out["localservices"] = ServicesHex(info.local_services);
    out["localservicesnames"] = ServiceNames(info.local_services);
    out["localrelay"] = info.local_relay;
    out["timeoffset"] = 0;
    out["networkactive"] = info.network_active;
    out["connections"] = info.connections;
    out["connections_in"] = info.connections_in;
    out["connections_out"] = info.connections_out;
    Json networks = Json::array();
    networks.push_back(Network("ipv4", true));
    networks.push_back(Network("ipv6", true));
    networks.push_back(Network("onion", false));
    networks.push_back(Network("i2p", false));
    networks.push_back(Network("cjdns", false));
    out["networks"] = networks;
    out["relayfee"] = DEFAULT_MIN_RELAY_FEE;
    out["incrementalfee"] = DEFAULT_MIN_RELAY_FEE;
    Json local = Json::array();
    for (const auto& address : info.local_addresses) {
        std::string host = address;
        uint16_t port = 0;
        if (!http::SplitHostPort(address, host, port)) host = address;
        local.push_back(Json{{"address", host}, {"port", port}, {"score", 0}});
    }
    out["localaddresses"] = local;
    out["warnings"] = Warnings(info.warnings);
    return out;
}

Json PeerToJson(const interfaces::PeerDetails& peer)
{
    Json out = Json::object();
    out["id"] = peer.id;
    out["addr"] = peer.address;
    if (!peer.address_bind.empty()) out["addrbind"] = peer.address_bind;
    out["network"] = NetworkOf(peer.address);
    out["services"] = ServicesHex(peer.services);
    out["servicesnames"] = ServiceNames(peer.services);
    out["relaytxes"] = peer.relay_txes;
    out["lastsend"] = peer.last_send;
    out["lastrecv"] = peer.last_recv;
    out["bytessent"] = peer.bytes_sent;
    out["bytesrecv"] = peer.bytes_recv;
    out["conntime"] = peer.conn_time;
    out["timeoffset"] = 0;
    if (peer.ping_time) out["pingtime"] = *peer.ping_time;
    if (peer.min_ping) out["minping"] = *peer.min_ping;
    out["version"] = peer.version;
    out["subver"] = peer.subversion;
    out["inbound"] = peer.inbound;
    out["startingheight"] = peer.starting_height;
    out["permissions"] = peer.permissions;
    out["connection_type"] = peer.connection_type;
    out["transport_protocol_type"] = peer.handshake_done ? "v1" : "detecting";
    // Counted by the peer's agent, per message type, header included (bitcoind's layout).
    Json sent = Json::object();
    for (const auto& [type, bytes] : peer.bytes_sent_per_msg) sent[type] = bytes;
    Json received = Json::object();
    for (const auto& [type, bytes] : peer.bytes_recv_per_msg) received[type] = bytes;
    out["bytessent_per_msg"] = sent;
    out["bytesrecv_per_msg"] = received;
    out["agent_pid"] = peer.agent_pid; // Orrery: the p2p-agent process serving this peer
    return out;
}

Json WalletInfoToJson(const interfaces::WalletInfo& info)
{
    Json out = Json::object();
    out["walletname"] = info.name;
    out["walletversion"] = info.format_version;
    out["format"] = "sqlite";
    // What createwallet lets a wallet be: descriptors, private keys, no reuse avoidance, no external signer.
    out["private_keys_enabled"] = true;
    out["avoid_reuse"] = false;
    out["scanning"] = false;
    out["descriptors"] = true;
    out["external_signer"] = false;
    out["blank"] = false;
    if (info.last_processed_block) {
        // The node's tip as the wallet last saw it; absent until the wallet has reached the node.
        out["lastprocessedblock"] = {{"hash", info.last_processed_block->hash},
                                     {"height", info.last_processed_block->height}};
    }
    out["address_count"] = info.address_count;           // Orrery: receive addresses handed out
    out["master_fingerprint"] = info.master_fingerprint; // Orrery: BIP32 fingerprint of the seed
    return out;
}

// --- the table -------------------------------------------------------------

namespace {

Param Required(std::string name, ParamType type, std::string help)
{
    return {std::move(name), type, true, std::move(help)};
}
Param Optional(std::string name, ParamType type, std::string help)
{
    return {std::move(name), type, false, std::move(help)};
}

//! A NUMBER parameter that must be an integer (UniValue's getInt: no fractions, no overflow).
int64_t IntegerArg(const Json& value)
{
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)) {
        throw RpcException(RPC_TYPE_ERROR, "JSON integer out of range");
    }
    if (!value.is_number_integer()) throw RpcException(RPC_TYPE_ERROR, "JSON value is not an integer as expected");
    return value.get<int64_t>();
}

std::string StringOr(const Json& value, std::string fallback)
{
    return value.is_null() ? std::move(fallback) : value.get<std::string>();
}

void RegisterNodeMethods(Table& table, const MethodContext& context)
{
    Backend* node = context.node;
    table.Add({"getblockchaininfo",
               "Blockchain",
               {},
               "Returns an object containing various state info regarding blockchain processing.",
               [node](const CallRequest&) {
                   return BlockchainInfoToJson(
                       node->Use<interfaces::Node>([](interfaces::Node& n) { return n.getBlockchainInfo(); }));
               }});
    table.Add({"getnetworkinfo",
               "Network",
               {},
               "Returns an object containing various state info regarding P2P networking.",
               [node](const CallRequest&) {
                   return NetworkInfoToJson(
                       node->Use<interfaces::Node>([](interfaces::Node& n) { return n.getNetworkInfo(); }));
               }});
    table.Add({"getpeerinfo",
               "Network",
               {},
               "Returns data about each connected network peer as a json array of objects.",
               [node](const CallRequest&) {
                   Json peers = Json::array();
                   for (const auto& peer :
                        node->Use<interfaces::Node>([](interfaces::Node& n) { return n.getPeerInfo(); })) {
                       peers.push_back(PeerToJson(peer));
                   }
                   return peers;
               }});
    table.Add({"getconnectioncount",
               "Network",
               {},
               "Returns the number of connections to other nodes.",
               [node](const CallRequest&) {
                   return Json(node->Use<interfaces::Node>([](interfaces::Node& n) { return n.getConnectionCount(); }));
               }});
    table.Add({"addnode",
               "Network",
               {Required("node", ParamType::STRING, "The address of the peer to connect to"),
                Required("command", ParamType::STRING,
                         "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a "
                         "connection to the node once")},
               "Attempts to add or remove a node from the addnode list.\nOr try a connection to a node once.",
               [node, &table](const CallRequest& call) {
                   std::string command = call.Arg(1).get<std::string>();
                   if (command != "onetry" && command != "add" && command != "remove") {
                       throw RpcException(RPC_MISC_ERROR, table.Help("addnode"));
                   }
                   std::string address = call.Arg(0).get<std::string>();
                   node->Use<interfaces::Node>([&](interfaces::Node& n) { n.addNode(address, command); });
                   return Json(nullptr);
               }});
    table.Add({"disconnectnode",
               "Network",
               {Optional("address", ParamType::STRING, "The IP address/port of the node"),
                Optional("nodeid", ParamType::NUMBER, "The node ID (see getpeerinfo for node IDs)")},
               "Immediately disconnects from the specified peer node.\n\nStrictly one out of 'address' and 'nodeid' "
               "can be provided to identify the node.",
               [node](const CallRequest& call) {
                   const Json& address = call.Arg(0);
                   const Json& id = call.Arg(1);
                   bool by_address = !address.is_null() && !address.get<std::string>().empty();
                   if (by_address == !id.is_null()) {
                       throw RpcException(RPC_INVALID_PARAMETER, "Only one of address and nodeid should be provided.");
                   }
                   std::string target = by_address ? address.get<std::string>() : std::string();
                   int64_t peer_id = by_address ? -1 : IntegerArg(id);
                   node->Use<interfaces::Node>([&](interfaces::Node& n) { n.disconnectNode(target, peer_id); });
                   return Json(nullptr);
               }});
    table.Add({"setban",
               "Network",
               {Required("subnet", ParamType::STRING,
                         "The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = "
                         "single IP)"),
                Required("command", ParamType::STRING,
                         "'add' to add an IP/Subnet to the list, 'remove' to remove an IP/Subnet from the list"),
                Optional("bantime", ParamType::NUMBER,
                         "time in seconds how long (or until when if [absolute] is set) the IP is banned (0 or empty "
                         "means using the default time of 24h)"),
                Optional("absolute", ParamType::BOOL,
                         "If set, the bantime must be an absolute timestamp expressed in UNIX epoch time")},
               "Attempts to add or remove an IP/Subnet from the banned list.",
               [node, &table](const CallRequest& call) {
                   std::string command = call.Arg(1).get<std::string>();
                   if (command != "add" && command != "remove") {
                       throw RpcException(RPC_MISC_ERROR, table.Help("setban"));
                   }
                   std::string subnet = call.Arg(0).get<std::string>();
                   int64_t bantime = call.Arg(2).is_null() ? 0 : IntegerArg(call.Arg(2));
                   bool absolute = call.Arg(3).is_boolean() && call.Arg(3).get<bool>();
                   node->Use<interfaces::Node>(
                       [&](interfaces::Node& n) { n.setBan(subnet, command, bantime, absolute); });
                   return Json(nullptr);
               }});
    table.Add({"listbanned",
               "Network",
               {},
               "List all manually banned IPs/Subnets.",
               [node](const CallRequest&) {
                   Json banned = Json::array();
                   for (const auto& entry :
                        node->Use<interfaces::Node>([](interfaces::Node& n) { return n.listBanned(); })) {
                       banned.push_back(Json{{"address", entry.address},
                                             {"ban_created", entry.ban_created},
                                             {"banned_until", entry.banned_until},
                                             {"ban_duration", entry.ban_duration},
                                             {"time_remaining", entry.time_remaining}});
                   }
                   return banned;
               }});
    table.Add({"clearbanned",
               "Network",
               {},
               "Clear all banned IPs.",
               [node](const CallRequest&) {
                   node->Use<interfaces::Node>([](interfaces::Node& n) { n.clearBanned(); });
                   return Json(nullptr);
               }});
}

//! bitcoind: the URL's wallet and a wallet_name argument must agree.
std::string WalletFromCall(const CallRequest& call, const Json& argument)
{
    if (call.wallet) {
        if (!argument.is_null() && argument.get<std::string>() != *call.wallet) {
            throw RpcException(RPC_INVALID_PARAMETER,
                               "RPC endpoint wallet and wallet_name parameter specify different wallets");
        }
        return *call.wallet;
    }
    if (argument.is_null()) {
        throw RpcException(RPC_TYPE_ERROR, "JSON value of type null is not of expected type string");
    }
    return argument.get<std::string>();
}

void RegisterWalletMethods(Table& table, const MethodContext& context)
{
    Backend* wallet = context.wallet;
    table.Add({"createwallet",
               "Wallet",
               {Required("wallet_name", ParamType::STRING, "The name for the new wallet."),
                Optional("disable_private_keys", ParamType::BOOL, "Not supported: must be false"),
                Optional("blank", ParamType::BOOL, "Not supported: must be false"),
                Optional("passphrase", ParamType::STRING, "Not supported yet: must be empty"),
                Optional("avoid_reuse", ParamType::BOOL, "Not supported: must be false"),
                Optional("descriptors", ParamType::BOOL, "Orrery wallets are descriptor wallets: must be true"),
                Optional("load_on_startup", ParamType::BOOL, "Ignored")},
               "Creates and loads a new wallet.",
               [wallet](const CallRequest& call) {
                   // Options Orrery's wallet does not have are refused rather than silently dropped.
                   for (size_t i : {1, 2, 4}) {
                       if (call.Arg(i).is_boolean() && call.Arg(i).get<bool>()) {
                           throw RpcException(-4, "Orrery wallets do not support this createwallet option yet");
                       }
                   }
                   if (call.Arg(3).is_string() && !call.Arg(3).get<std::string>().empty()) {
                       throw RpcException(-4, "Orrery wallets do not support encryption yet");
                   }
                   if (call.Arg(5).is_boolean() && !call.Arg(5).get<bool>()) {
                       throw RpcException(-4, "Only descriptor wallets are supported");
                   }
                   std::string name = call.Arg(0).get<std::string>();
                   std::string created = wallet->Use<interfaces::WalletLoader>(
                       [&](interfaces::WalletLoader& w) { return w.createWallet(name); });
                   return Json{{"name", created.empty() ? name : created}};
               }});
    table.Add({"loadwallet",
               "Wallet",
               {Required("filename", ParamType::STRING, "The wallet directory or .dat file."),
                Optional("load_on_startup", ParamType::BOOL, "Ignored")},
               "Loads a wallet from a wallet file or directory.",
               [wallet](const CallRequest& call) {
                   std::string name = call.Arg(0).get<std::string>();
                   std::string loaded = wallet->Use<interfaces::WalletLoader>(
                       [&](interfaces::WalletLoader& w) { return w.loadWallet(name); });
                   return Json{{"name", loaded.empty() ? name : loaded}};
               }});
    table.Add({"unloadwallet",
               "Wallet",
               {Optional("wallet_name", ParamType::STRING,
                         "The name of the wallet to unload. If provided both here and in the RPC endpoint, the two "
                         "must be identical."),
                Optional("load_on_startup", ParamType::BOOL, "Ignored")},
               "Unloads the wallet referenced by the request endpoint or the wallet_name argument.",
               [wallet](const CallRequest& call) {
                   std::string name = WalletFromCall(call, call.Arg(0));
                   wallet->Use<interfaces::WalletLoader>([&](interfaces::WalletLoader& w) { w.unloadWallet(name); });
                   return Json::object();
               }});
    table.Add(
        {"listwallets", "Wallet", {}, "Returns a list of currently loaded wallets.", [wallet](const CallRequest&) {
             return Json(
                 wallet->Use<interfaces::WalletLoader>([](interfaces::WalletLoader& w) { return w.listWallets(); }));
         }});
    table.Add({"listwalletdir",
               "Wallet",
               {},
               "Returns a list of wallets in the wallet directory.",
               [wallet](const CallRequest&) {
                   Json wallets = Json::array();
                   for (const auto& name : wallet->Use<interfaces::WalletLoader>(
                            [](interfaces::WalletLoader& w) { return w.listWalletDir(); })) {
                       wallets.push_back(Json{{"name", name}});
                   }
                   return Json{{"wallets", wallets}};
               }});
    table.Add(
        {"getnewaddress",
         "Wallet",
         {Optional("label", ParamType::STRING,
                   "The label name for the address to be linked to. It can also be set to the empty string \"\" to "
                   "represent the default label."),
          Optional("address_type", ParamType::STRING,
                   "The address type to use. Options are \"legacy\", \"p2sh-segwit\", \"bech32\", and \"bech32m\".")},
         "Returns a new Bitcoin address for receiving payments.",
         [wallet](const CallRequest& call) {
             std::string label = StringOr(call.Arg(0), "");
             if (label == "*") throw RpcException(-11, "Invalid label name");
             std::string type = StringOr(call.Arg(1), "");
             std::string name = call.wallet.value_or("");
             return Json(wallet->Use<interfaces::Wallet>(
                 [&](interfaces::Wallet& w) { return w.getNewAddress(name, label, type); }));
         }});
    table.Add({"getwalletinfo",
               "Wallet",
               {},
               "Returns an object containing various wallet state info.",
               [wallet](const CallRequest& call) {
                   std::string name = call.wallet.value_or("");
                   return WalletInfoToJson(
                       wallet->Use<interfaces::Wallet>([&](interfaces::Wallet& w) { return w.getWalletInfo(name); }));
               }});
}

void RegisterControlMethods(Table& table, const MethodContext& context)
{
    table.Add({"help",
               "Control",
               {Optional("command", ParamType::STRING, "The command to get help on")},
               "List all commands, or get help for a specified command.",
               [&table](const CallRequest& call) { return Json(table.Help(StringOr(call.Arg(0), ""))); }});
    auto started = context.started;
    table.Add(
        {"uptime", "Control", {}, "Returns the total uptime of the server.", [started](const CallRequest&) {
             return Json(
                 std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
         }});
    Backend* supervisor = context.supervisor;
    auto stop_self = context.stop_self;
    table.Add(
        {"stop", "Control", {}, "Request a graceful shutdown of Orrery.", [supervisor, stop_self](const CallRequest&) {
             // orreryd stops every process in order, the bridge among them; without it, the bridge stops alone.
             bool asked = false;
             if (supervisor && supervisor->Connection() && supervisor->Connection()->IsConnected()) {
                 try {
                     supervisor->Use<interfaces::Supervisor>([](interfaces::Supervisor& s) { s.stop(); });
                     asked = true;
                 } catch (const RpcException&) {
                 }
             }
             if (!asked && stop_self) stop_self();
             return Json("Orrery stopping");
         }});
}

} // namespace

void RegisterMethods(Table& table, const MethodContext& context)
{
    RegisterNodeMethods(table, context);
    if (context.wallet) RegisterWalletMethods(table, context);
    RegisterControlMethods(table, context);
}

} // namespace orrery::rpc
