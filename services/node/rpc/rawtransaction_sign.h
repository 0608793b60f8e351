// Signing raw transactions in the node, without a wallet: signrawtransactionwithkey
// (rawtransaction_sign.cpp), and the pieces the PSBT methods share with it
// (the previous outputs a transaction spends, from the mempool and the UTXO
// set, and bitcoind's JSON of a signing result).
#ifndef ORRERY_SERVICES_NODE_RPC_RAWTRANSACTION_SIGN_H
#define ORRERY_SERVICES_NODE_RPC_RAWTRANSACTION_SIGN_H

#include <common/consensus/transaction.h>
#include <common/keys/signer.h>
#include <common/rpc/json_rpc.h>

#include <map>
#include <optional>

namespace orrery::node {

class NodeService;

//! signrawtransactionwithkey.
void RegisterSignRpc(rpc::Table& table, NodeService& node);

//! What each outpoint pays: an output of a mempool transaction, else the UTXO set's coin, else nullopt (Core's
//! FindCoins over its mempool view).
using CoinMap = std::map<OutPoint, std::optional<TxOut>>;
CoinMap FindCoins(NodeService& node, const Transaction& tx);

//! Core's ParsePrevouts: adds each prevtxs entry {txid, vout, scriptPubKey, redeemScript, witnessScript, amount}
//! to `coins` (amount MAX_MONEY when left out) and, when `provider` is given, its scripts; Core's errors.
void ParsePrevouts(const rpc::Json& prevtxs, FlatSigningProvider* provider, CoinMap& coins);

//! Signs `tx` in place with `provider` over `coins` and returns bitcoind's {hex, complete, errors[...]}. Throws
//! RPC_TYPE_ERROR "Missing amount for ..." as Core does for a segwit input whose amount is unknown.
rpc::Json SignTransactionToJson(Transaction& tx, const CoinMap& coins, const SigningProvider& provider, int hash_type);

//! Core's ParseSighashString: null is DEFAULT; RPC_INVALID_PARAMETER for an unknown name.
int ParseSighashArg(const rpc::Json& value);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_RAWTRANSACTION_SIGN_H
