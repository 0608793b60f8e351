// The node's address book methods: getnodeaddresses, addpeeraddress (regtest)
// and getaddrmaninfo, over the book doc/addrman.md describes.
#include <services/node/rpc/rpc.h>

#include <common/util/mock_time.h>
#include <services/node/node.h>

#include <limits>
#include <stdexcept>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;

void RegisterNetAddressRpc(rpc::Table& table, NodeService& node)
{
    table.Add({"getnodeaddresses",
               "Network",
               {rpc::Optional("count", ParamType::NUMBER, "How many addresses at most (default 1; 0 for all)"),
                rpc::Optional("network", ParamType::STRING, "Only this network's: ipv4, ipv6, onion, i2p or cjdns")},
               "Gives addresses from the node's address book, in random order, leaving out ones not worth trying.",
               [&node](const rpc::CallRequest& call) {
                   const int64_t count = call.Arg(0).is_null() ? 1 : rpc::IntegerArg(call.Arg(0));
                   if (count < 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Address count out of range");
                   std::optional<p2p::Network> network;
                   if (!call.Arg(1).is_null()) {
                       const std::string name = call.Arg(1).get<std::string>();
                       network = p2p::NetworkFromName(name);
                       if (!network) {
                           throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Network not recognized: " + name);
                       }
                   }
                   Json out = Json::array();
                   for (const auto& address : node.GetNodeAddresses(size_t(count), network)) {
                       out.push_back(Json{{"time", address.time},
                                          {"services", address.services},
                                          {"address", address.HostString()},
                                          {"port", address.port},
                                          {"network", std::string(p2p::NetworkName(address.network))}});
                   }
                   return out;
               }});
    table.Add({"addpeeraddress",
               "Hidden",
               {rpc::Required("address", ParamType::STRING, "An IPv4 or IPv6 address"),
                rpc::Required("port", ParamType::NUMBER, "Its port"),
                rpc::Optional("tried", ParamType::BOOL, "Also move it to the tried table (default false)")},
               "Puts an address into the address book as if it had announced itself, for tests. Regtest only.",
               [&node](const rpc::CallRequest& call) {
                   if (node.Params().type != ChainType::REGTEST) {
                       throw std::runtime_error("addpeeraddress is for regression testing (-regtest mode) only");
                   }
                   const int64_t port = rpc::IntegerArg(call.Arg(1));
                   if (port < 0 || port > std::numeric_limits<uint16_t>::max()) {
                       throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "port out of range");
                   }
                   const bool tried = call.Arg(2).is_boolean() && call.Arg(2).get<bool>();
                   Json out = Json::object();
                   bool success = false;
                   const std::string host = call.Arg(0).get<std::string>();
                   const bool v6 = host.find(':') != std::string::npos;
                   auto address = p2p::ParsePeerAddress((v6 ? "[" + host + "]" : host) + ":" + std::to_string(port));
                   if (address && port != 0) {
                       address->time = uint32_t(GetTime());
                       address->services = 1 | (1 << 3); // NODE_NETWORK | NODE_WITNESS, as bitcoind
                       const std::string error = node.AddPeerAddress(*address, tried);
                       success = error.empty();
                       if (!success) out["error"] = error;
                   }
                   out["success"] = success;
                   return out;
               }});
    table.Add({"getaddrmaninfo",
               "Network",
               {},
               "Counts the addresses of the address book per network, in its new and tried tables.",
               [&node](const rpc::CallRequest&) {
                   Json out = Json::object();
                   for (const auto& [name, counts] : node.AddrManCounts()) {
                       out[name] = Json{
                           {"new", counts.first}, {"tried", counts.second}, {"total", counts.first + counts.second}};
                   }
                   return out;
               }});
}

} // namespace orrery::node
