// The node's mining RPC methods (generatetoaddress, generatetodescriptor,
// generateblock, generate's error, getblocktemplate, submitblock,
// submitheader, getmininginfo, getdifficulty, getnetworkhashps) and their
// pure helpers, apart so that unit tests reach them without a process.
#ifndef ORRERY_SERVICES_NODE_RPC_MINING_H
#define ORRERY_SERVICES_NODE_RPC_MINING_H

#include <common/keys/network.h>
#include <common/rpc/json_rpc.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace orrery::node {

class ChainstateManager;
class ActiveChain;
class Mempool;

//! What the mining methods need besides the chainstate.
struct MiningContext {
    //! Peers connected now: getblocktemplate refuses to work without any on main.
    std::function<int64_t()> connection_count;
    //! The node's mempool (null: blocks hold only what the caller gives): getblocktemplate and generate* fill
    //! blocks from it, generateblock takes txids from it.
    Mempool* mempool{nullptr};
};

void RegisterMiningRpc(rpc::Table& table, ChainstateManager& chainstate, MiningContext context);

//! Core's getScriptFromDescriptor for generatetodescriptor and generateblock: the script of a non-ranged
//! descriptor (combo: its P2WPKH script, or P2PKH for an uncompressed key). Throws rpc::RpcException with
//! Core's codes and messages; `parse_error`, when given, receives a parse error instead of a throw.
std::vector<uint8_t> ScriptFromDescriptor(const std::string& descriptor, Network network,
                                          std::string* parse_error = nullptr);

//! Core's GetNetworkHashPS over the active chain: work over time of the last `lookup` blocks up to `height`.
//! Call with the chainstate's lock held.
rpc::Json NetworkHashPerSecond(int lookup, int height, const ActiveChain& chain, int64_t interval);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_MINING_H
