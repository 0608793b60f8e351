// The node's network RPC methods: getnetworkinfo, getpeerinfo,
// getconnectioncount, addnode, disconnectnode, setban, listbanned,
// clearbanned (the address book's are in net_addresses.cpp). They read and change the peer table the node keeps.
#include <services/node/rpc/rpc.h>

#include <services/node/node.h>

#include <common/util/host_port.h>
#include <common/util/net_permissions.h>

#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

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
    std::string host = HostOf(address);
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

Json PeerToJson(const PeerEntry& peer)
{
    Json out = Json::object();
    out["id"] = peer.id;
    out["addr"] = peer.address;
    if (!peer.local_address.empty()) out["addrbind"] = peer.local_address;
    out["network"] = NetworkOf(peer.address);
    out["services"] = ServicesHex(peer.version.services);
    out["servicesnames"] = ServiceNames(peer.version.services);
    out["relaytxes"] = peer.version.relay;
    out["lastsend"] = peer.stats.last_send;
    out["lastrecv"] = peer.stats.last_recv;
    out["bytessent"] = peer.stats.bytes_sent;
    out["bytesrecv"] = peer.stats.bytes_recv;
    out["conntime"] = peer.conn_time;
    out["timeoffset"] = 0;
    if (peer.stats.ping_time) out["pingtime"] = *peer.stats.ping_time;
    if (peer.stats.min_ping) out["minping"] = *peer.stats.min_ping;
    out["version"] = peer.version.version;
    out["subver"] = peer.version.user_agent;
    out["inbound"] = peer.inbound;
    out["startingheight"] = peer.version.start_height;
    out["permissions"] = PermissionStrings(peer.permissions);
    out["connection_type"] = peer.connection_type;
    out["transport_protocol_type"] = peer.handshake_done ? "v1" : "detecting";
    // Counted by the peer's agent per message type, header included (bitcoind's layout).
    Json sent = Json::object();
    for (const auto& [type, bytes] : peer.stats.bytes_sent_per_msg) sent[type] = bytes;
    Json received = Json::object();
    for (const auto& [type, bytes] : peer.stats.bytes_recv_per_msg) received[type] = bytes;
    out["bytessent_per_msg"] = sent;
    out["bytesrecv_per_msg"] = received;
    out["agent_pid"] = peer.agent_pid; // Orrery: the p2p-agent process serving this peer
    return out;
}

namespace {

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

Json NetworkInfo(NodeService& node)
{
    NodeService::ConnectionCounts counts = node.CountConnections();
    Json out = Json::object();
    out["version"] = ClientVersionNumber(ORRERY_VERSION);
    out["subversion"] = node.UserAgentString(); // with -uacomment
    out["protocolversion"] = PROTOCOL_VERSION;
    out["localservices"] = ServicesHex(LOCAL_SERVICES);
    out["localservicesnames"] = ServiceNames(LOCAL_SERVICES);
    out["localrelay"] = true;
    out["timeoffset"] = 0;
    out["networkactive"] = true;
    out["connections"] = counts.inbound + counts.outbound;
    out["connections_in"] = counts.inbound;
    out["connections_out"] = counts.outbound;
    Json networks = Json::array();
    networks.push_back(Network("ipv4", true));
    networks.push_back(Network("ipv6", true));
    networks.push_back(Network("onion", false));
    networks.push_back(Network("i2p", false));
    networks.push_back(Network("cjdns", false));
    out["networks"] = networks;
    out["relayfee"] = rpc::ValueFromAmount(DEFAULT_MIN_RELAY_TX_FEE);
    out["incrementalfee"] = rpc::ValueFromAmount(DEFAULT_INCREMENTAL_RELAY_FEE);
    out["localaddresses"] = Json::array(); // no address discovery yet
    out["warnings"] = Json::array();
    return out;
}

} // namespace

void RegisterNetRpc(rpc::Table& table, NodeService& node)
{
    table.Add({"getnetworkinfo",
               "Network",
               {},
               "Describes the node's peer-to-peer side: version, services, connection counts, networks, fees.",
               [&node](const rpc::CallRequest&) { return NetworkInfo(node); }});
    table.Add({"getpeerinfo",
               "Network",
               {},
               "Lists every connected peer with what the node knows of it, one object per peer.",
               [&node](const rpc::CallRequest&) {
                   Json peers = Json::array();
                   for (const auto& peer : node.ConnectedPeers()) {
                       Json json = PeerToJson(peer);
                       // Block sync's view of the peer (bitcoind: -1 and [] before it takes part).
                       auto sync = node.SyncStats(peer.id).value_or(BlockSync::PeerStats{});
                       json["synced_headers"] = sync.synced_headers;
                       json["synced_blocks"] = sync.synced_blocks;
                       Json inflight = Json::array();
                       for (int height : sync.inflight) inflight.push_back(height);
                       json["inflight"] = inflight;
                       // Transaction relay's view (doc/relay.md): whether we announce transactions to it, and
                       // its BIP133 filter.
                       if (auto relay = node.RelayStats(peer.id)) {
                           json["relaytxes"] = relay->first;
                           json["minfeefilter"] = rpc::ValueFromAmount(relay->second);
                       } else {
                           json["minfeefilter"] = rpc::ValueFromAmount(0);
                       }
                       // BIP152: whether we asked it, and it asked us, for high-bandwidth compact blocks.
                       const auto compact = node.CompactStats(peer.id).value_or(std::make_pair(false, false));
                       json["bip152_hb_to"] = compact.first;
                       json["bip152_hb_from"] = compact.second;
                       const auto addr = node.AddrStats(peer.id);
                       json["addr_relay_enabled"] = addr.relay_enabled;
                       json["addr_processed"] = addr.processed;
                       json["addr_rate_limited"] = addr.rate_limited;
                       peers.push_back(json);
                   }
                   return peers;
               }});
    table.Add({"getconnectioncount",
               "Network",
               {},
               "Gives the number of connected peers, inbound and outbound together.",
               [&node](const rpc::CallRequest&) {
                   NodeService::ConnectionCounts counts = node.CountConnections();
                   return Json(counts.inbound + counts.outbound);
               }});
    table.Add({"addnode",
               "Network",
               {rpc::Required("node", ParamType::STRING, "The peer's address, host:port"),
                rpc::Required("command", ParamType::STRING,
                              "'add' keeps the peer in the added list and connected, 'remove' takes it out of the "
                              "list, 'onetry' connects once")},
               "Adds a peer to the list the node keeps connected, removes one, or connects to one once.",
               [&node, &table](const rpc::CallRequest& call) {
                   std::string command = call.Arg(1).get<std::string>();
                   if (command != "onetry" && command != "add" && command != "remove") {
                       throw rpc::RpcException(rpc::RPC_MISC_ERROR, table.Help("addnode"));
                   }
                   node.AddNode(call.Arg(0).get<std::string>(), command);
                   return Json(nullptr);
               }});
    table.Add({"disconnectnode",
               "Network",
               {rpc::Optional("address", ParamType::STRING, "The peer's address, as getpeerinfo shows it"),
                rpc::Optional("nodeid", ParamType::NUMBER, "The peer's id, as getpeerinfo shows it")},
               "Disconnects one peer at once, named by exactly one of its address and its id.",
               [&node](const rpc::CallRequest& call) {
                   const Json& address = call.Arg(0);
                   const Json& id = call.Arg(1);
                   bool by_address = !address.is_null() && !address.get<std::string>().empty();
                   if (by_address == !id.is_null()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                               "Only one of address and nodeid should be provided.");
                   }
                   node.DisconnectNode(by_address ? address.get<std::string>() : std::string(),
                                       by_address ? -1 : rpc::IntegerArg(id));
                   return Json(nullptr);
               }});
    table.Add({"setban",
               "Network",
               {rpc::Required("subnet", ParamType::STRING, "An address, or a subnet with its netmask (default /32)"),
                rpc::Required("command", ParamType::STRING, "'add' bans the subnet, 'remove' lifts its ban"),
                rpc::Optional("bantime", ParamType::NUMBER,
                              "Seconds the ban lasts, or with 'absolute' the unix time it ends (0 or none: -bantime)"),
                rpc::Optional("absolute", ParamType::BOOL, "Read bantime as a unix time")},
               "Bans an address or subnet (its connected peers are dropped), or lifts a ban.",
               [&node, &table](const rpc::CallRequest& call) {
                   std::string command = call.Arg(1).get<std::string>();
                   if (command != "add" && command != "remove") {
                       throw rpc::RpcException(rpc::RPC_MISC_ERROR, table.Help("setban"));
                   }
                   int64_t bantime = call.Arg(2).is_null() ? 0 : rpc::IntegerArg(call.Arg(2));
                   bool absolute = call.Arg(3).is_boolean() && call.Arg(3).get<bool>();
                   node.SetBan(call.Arg(0).get<std::string>(), command, bantime, absolute);
                   return Json(nullptr);
               }});
    table.Add({"listbanned",
               "Network",
               {},
               "Lists the bans in force, each with when it was made and when it ends.",
               [&node](const rpc::CallRequest&) {
                   const int64_t now = static_cast<int64_t>(std::time(nullptr));
                   Json banned = Json::array();
                   for (const auto& entry : node.ListBanned()) {
                       banned.push_back(Json{{"address", entry.subnet.ToString()},
                                             {"ban_created", entry.created},
                                             {"banned_until", entry.until},
                                             {"ban_duration", entry.until - entry.created},
                                             {"time_remaining", entry.until - now}});
                   }
                   return banned;
               }});
    table.Add({"clearbanned", "Network", {}, "Lifts every ban.", [&node](const rpc::CallRequest&) {
                   node.ClearBanned();
                   return Json(nullptr);
               }});
    RegisterNetAddressRpc(table, node);
}

} // namespace orrery::node
