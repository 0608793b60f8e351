// The raw transaction RPC methods and their pure parts (argument parsing,
// createrawtransaction's construction, decodescript's JSON), apart so that
// unit tests check them without a process.
#ifndef ORRERY_SERVICES_NODE_RPC_RAWTRANSACTION_H
#define ORRERY_SERVICES_NODE_RPC_RAWTRANSACTION_H

#include <common/consensus/params.h>
#include <common/consensus/transaction.h>
#include <common/keys/network.h>
#include <common/rpc/json_rpc.h>

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace orrery::node {

class ChainstateManager;

//! decoderawtransaction, decodescript, createrawtransaction (no chain needed).
void RegisterRawTransactionRpc(rpc::Table& table, ChainType chain);
//! getrawtransaction, over the chainstate (blocks by hash, -txindex).
void RegisterChainRawTransactionRpc(rpc::Table& table, ChainstateManager& chainstate);

//! Core's ParseHexV: non-empty hex, or RPC_INVALID_PARAMETER "<name> must be hexadecimal string (not '...')".
std::vector<uint8_t> ParseHexValue(const rpc::Json& value, std::string_view name);

//! Core's ConstructTransaction for createrawtransaction: version 2, the inputs with sequences from `rbf`
//! (default: replaceable) and `locktime`, the outputs to addresses and one "data" output; Core's errors.
Transaction ConstructTransaction(const rpc::Json& inputs, const rpc::Json& outputs, const rpc::Json& locktime,
                                 std::optional<bool> rbf, Network network);

//! decodescript's answer: the script's JSON, then "p2sh" and "segwit" (with its "p2sh-segwit") where Core
//! offers them.
rpc::Json DecodeScriptToJson(std::span<const uint8_t> script, Network network);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_RAWTRANSACTION_H
