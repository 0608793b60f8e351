// orrery-node's RPC methods, one file per group as in bitcoind's src/rpc/:
// blockchain.cpp, net.cpp, mempool.cpp. Each handler reads the node's state
// in this process and answers in bitcoind's fields; the table is offered to
// the gui-bridge, which routes calls here (common/rpc/router_link.h).
#ifndef ORRERY_SERVICES_NODE_RPC_RPC_H
#define ORRERY_SERVICES_NODE_RPC_RPC_H

#include <common/consensus/amount.h>
#include <common/consensus/params.h>
#include <common/consensus/uint256.h>
#include <common/rpc/json_rpc.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace orrery {
struct Block;
struct ConsensusParams;
struct Transaction;
} // namespace orrery

namespace orrery::node {

class ActiveChain;
class ChainstateManager;
class Mempool;
class NodeService;
class VersionBitsCache;
struct BlockIndex;
struct BlockUndo;
struct BlockchainInfo;
struct CoinsStats;
struct PeerEntry;
struct TxUndo;

//! Every method of the node. The handlers hold `node` by reference: it must outlive the table's use.
std::shared_ptr<const rpc::Table> MakeRpcTable(NodeService& node);

void RegisterBlockchainRpc(rpc::Table& table, NodeService& node);
void RegisterNetRpc(rpc::Table& table, NodeService& node);
//! getnodeaddresses, addpeeraddress, getaddrmaninfo (net_addresses.cpp); RegisterNetRpc calls it.
void RegisterNetAddressRpc(rpc::Table& table, NodeService& node);
//! The chain methods over the chainstate (blocks, headers, tips, statistics, invalidate/reconsider, waits).
void RegisterChainRpc(rpc::Table& table, ChainstateManager& chainstate);
//! The UTXO set methods: gettxout, gettxoutsetinfo, scantxoutset.
//! gettxout counts `mempool` when given (null: the UTXO set alone).
void RegisterUtxoRpc(rpc::Table& table, ChainstateManager& chainstate, Mempool* mempool = nullptr);
//! setmocktime.
void RegisterNodeMiscRpc(rpc::Table& table, NodeService& node);
//! verifymessage, signmessagewithprivkey (signmessage.cpp): addresses and keys of `chain`'s network.
void RegisterMessageRpc(rpc::Table& table, ChainType chain);

// bitcoind's JSON of what the handlers read, apart so that tests check it without a process.

rpc::Json BlockchainInfoToJson(const BlockchainInfo& info);
//! One entry of getpeerinfo. New fields go here, read from the PeerEntry the peer table keeps.
rpc::Json PeerToJson(const PeerEntry& peer);
//! Service flags as bitcoind prints them: 16 hex digits, and the names of known bits.
std::string ServicesHex(uint64_t services);
rpc::Json ServiceNames(uint64_t services);
//! getpeerinfo's "network" of an "ip:port": ipv4, ipv6, onion, i2p, or not_publicly_routable.
std::string NetworkOf(const std::string& address);

// The chain methods' arguments and JSON (services/node/rpc/blockchain_json.cpp).

//! Core's ParseVerbosity: an integer, or (if `allow_bool`) true = 1, false = 0.
int ParseVerbosity(const rpc::Json& value, int default_verbosity, bool allow_bool);

//! getblockheader's object for `index`, with confirmations and the next block seen from `tip` (the active tip).
rpc::Json BlockHeaderToJson(const BlockIndex& tip, const BlockIndex& index);
//! A transaction of a block as getblock shows it at verbosity 2 and 3: `undo` is what it spent (null for the
//! coinbase or without undo data); `with_prevouts` adds each input's prevout (verbosity 3).
using TxJsonFunction = std::function<rpc::Json(const Transaction& tx, const TxUndo* undo, bool with_prevouts)>;
//! getblock's object at verbosity 1 (txids), 2 and 3 (each transaction through `tx_to_json`).
rpc::Json BlockToJson(const Block& block, const BlockIndex& tip, const BlockIndex& index, int verbosity,
                      const BlockUndo* undo, const TxJsonFunction& tx_to_json);
//! getchaintips' status of a tip: active, invalid, headers-only, valid-fork, valid-headers.
std::string ChainTipStatus(const ActiveChain& chain, const BlockIndex& tip);
//! getchaintips' array: every tip (the active one added if missing), highest first.
rpc::Json ChainTipsToJson(const ActiveChain& chain, std::vector<const BlockIndex*> tips);
//! getblockstats: every statistic, or only those in `stats` (RPC_INVALID_PARAMETER for an unknown one). `undo` is
//! the block's undo data (empty for the genesis block); `bip30_repeat` marks the two duplicated coinbases of main.
rpc::Json BlockStatsToJson(const Block& block, const BlockUndo& undo, const BlockIndex& index, Amount subsidy,
                           const std::set<std::string>& stats, bool bip30_repeat);
enum class CoinsHashType { HASH_SERIALIZED, MUHASH, NONE };
//! gettxoutsetinfo's hash_type names: hash_serialized_3, muhash, none.
std::optional<CoinsHashType> ParseCoinsHashType(const std::string& name);
rpc::Json CoinsStatsToJson(const CoinsStats& stats, CoinsHashType hash_type);
//! getdeploymentinfo's "deployments" at `index` ("active": enforced in the block after it): the buried ones, then
//! the BIP9 ones deployed on this network, their states from `versionbits`.
rpc::Json DeploymentsToJson(const BlockIndex& index, const ConsensusParams& params, VersionBitsCache& versionbits);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_RPC_H
