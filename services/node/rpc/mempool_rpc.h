// The mempool's RPC methods (mempool.cpp: reading and tuning; mempool_submit.cpp:
// sendrawtransaction, testmempoolaccept, submitpackage; fees.cpp:
// estimatesmartfee) and the JSON they share.
#ifndef ORRERY_SERVICES_NODE_RPC_MEMPOOL_RPC_H
#define ORRERY_SERVICES_NODE_RPC_MEMPOOL_RPC_H

#include <common/rpc/json_rpc.h>
#include <services/node/mempool/mempool.h>

namespace orrery::node {

class NodeService;

void RegisterMempoolRpc(rpc::Table& table, NodeService& node);
void RegisterMempoolSubmitRpc(rpc::Table& table, NodeService& node);
void RegisterFeeRpc(rpc::Table& table, NodeService& node);

//! The node's mempool, or RPC_IN_WARMUP before the chainstate (and so the mempool) is there.
Mempool& RequireMempool(NodeService& node);
//! A fee rate as bitcoind prints one: BTC per kvB.
rpc::Json FeeRateToJson(FeeRate rate);
//! getmempoolentry's object (also getrawmempool's verbose entries).
rpc::Json MempoolEntryToJson(const Mempool& pool, const MempoolEntry& entry);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_MEMPOOL_RPC_H
