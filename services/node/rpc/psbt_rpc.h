// The node's wallet-less PSBT methods (psbt.cpp): createpsbt, converttopsbt,
// decodepsbt, combinepsbt, finalizepsbt, joinpsbts, utxoupdatepsbt.
#ifndef ORRERY_SERVICES_NODE_RPC_PSBT_RPC_H
#define ORRERY_SERVICES_NODE_RPC_PSBT_RPC_H

#include <common/rpc/json_rpc.h>

namespace orrery::node {

class NodeService;

void RegisterPsbtRpc(rpc::Table& table, NodeService& node);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_PSBT_RPC_H
