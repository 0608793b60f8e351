// orrery-node's RPC methods, one file per group as in bitcoind's src/rpc/:
// blockchain.cpp, net.cpp, mempool.cpp. Each handler reads the node's state
// in this process and answers in bitcoind's fields; the table is offered to
// the gui-bridge, which routes calls here (common/rpc/router_link.h).
#ifndef ORRERY_SERVICES_NODE_RPC_RPC_H
#define ORRERY_SERVICES_NODE_RPC_RPC_H

#include <common/rpc/json_rpc.h>

#include <cstdint>
#include <memory>
#include <string>

namespace orrery::node {

class NodeService;
struct BlockchainInfo;
struct PeerEntry;

//! Every method of the node. The handlers hold `node` by reference: it must outlive the table's use.
std::shared_ptr<const rpc::Table> MakeRpcTable(NodeService& node);

void RegisterBlockchainRpc(rpc::Table& table, NodeService& node);
void RegisterNetRpc(rpc::Table& table, NodeService& node);
void RegisterMempoolRpc(rpc::Table& table);
//! setmocktime.
void RegisterNodeMiscRpc(rpc::Table& table, NodeService& node);

// bitcoind's JSON of what the handlers read, apart so that tests check it without a process.

rpc::Json BlockchainInfoToJson(const BlockchainInfo& info);
//! One entry of getpeerinfo. New fields go here, read from the PeerEntry the peer table keeps.
rpc::Json PeerToJson(const PeerEntry& peer);
//! Service flags as bitcoind prints them: 16 hex digits, and the names of known bits.
std::string ServicesHex(uint64_t services);
rpc::Json ServiceNames(uint64_t services);
//! getpeerinfo's "network" of an "ip:port": ipv4, ipv6, onion, i2p, or not_publicly_routable.
std::string NetworkOf(const std::string& address);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_RPC_H
