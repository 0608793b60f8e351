// bitcoind's JSON of scripts, transactions and block headers (Core's
// core_write.cpp and blockheaderToJSON), shared by the raw transaction,
// blockchain and mining RPC methods. Pure functions: no chainstate, so unit
// tests check them against Core's documented answers.
#ifndef ORRERY_SERVICES_NODE_RPC_CORE_JSON_H
#define ORRERY_SERVICES_NODE_RPC_CORE_JSON_H

#include <common/consensus/amount.h>
#include <common/consensus/block.h>
#include <common/consensus/params.h>
#include <common/consensus/transaction.h>
#include <common/keys/network.h>
#include <common/rpc/json_rpc.h>
#include <services/node/storage/undo.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace orrery::node {

//! The address network of a chain (for EncodeAddress/DecodeAddress).
Network AddressNetwork(ChainType chain);

//! An amount in BTC with eight decimals (Core's ValueFromAmount; common/rpc/json_number.h).
using rpc::ValueFromAmount;
//! Core's ParseHashV: 64 hex digits, else RPC_TYPE_ERROR for a non-string, RPC_INVALID_PARAMETER "<name> must be of
//! length 64 (not n, for '...')" or "<name> must be hexadecimal string (not '...')".
uint256 ParseHashArg(const rpc::Json& value, std::string_view name);
//! Core's AmountFromValue: a number or numeric string in BTC, at most 8 decimals, within MAX_MONEY (or any
//! non-negative value when `allow_zero_max` is unset... see rawtransaction.cpp). Throws RPC_TYPE_ERROR
//! "Amount is not a number or string", RPC_TYPE_ERROR "Invalid amount", RPC_TYPE_ERROR "Amount out of range".
Amount AmountFromValue(const rpc::Json& value, int decimals = 8);

//! Core's ScriptToAsmStr: pushes of up to four bytes as decimal numbers, longer ones as hex; with
//! `attempt_sighash_decode`, a push that is a strictly encoded signature of a defined hash type ends with
//! "[ALL]", "[NONE|ANYONECANPAY]"... instead of its last byte (never in an OP_RETURN script).
std::string ScriptToAsmStr(std::span<const uint8_t> script, bool attempt_sighash_decode = false);

//! Core's InferDescriptor without a signing provider, with its checksum: pk(), multi(), rawtr(), addr() or
//! raw().
std::string InferDescriptor(std::span<const uint8_t> script, Network network);

//! Core's ScriptToUniv: asm, desc (with address), hex (with hex), address (with address, when the script has
//! one and is not a bare public key), type.
rpc::Json ScriptToJson(std::span<const uint8_t> script, Network network, bool include_hex, bool include_address);

//! What TxToJson shows of a transaction.
enum class TxVerbosity {
    SHOW_DETAILS,             //!< fields, vin, vout; fee when undo data is given
    SHOW_DETAILS_AND_PREVOUT, //!< also each input's prevout (getblock 3, getrawtransaction 2)
};

//! Core's TxToUniv: txid, hash, version, size, vsize, weight, locktime, vin, vout, then fee (with `undo`),
//! blockhash (when not null), hex (with `include_hex`). `undo` holds the spent coins of a non-coinbase
//! transaction, in input order.
rpc::Json TxToJson(const Transaction& tx, Network network, const uint256& block_hash, bool include_hex,
                   const TxUndo* undo = nullptr, TxVerbosity verbosity = TxVerbosity::SHOW_DETAILS);

//! Core's DecodeHexTx: hex to a transaction, trying the extended (witness) form unless `try_witness` is false
//! and the legacy form unless `try_no_witness` is false; when both read the whole input, the one whose scripts
//! look sane wins, the extended one on a tie. nullopt when neither reads it all (or the text is not hex).
std::optional<Transaction> DecodeHexTx(std::string_view hex, bool try_no_witness = true, bool try_witness = true);
//! Core's DecodeHexBlk: hex to a block (with witnesses); bytes after the block are ignored, as in Core.
std::optional<Block> DecodeHexBlock(std::string_view hex);
//! Core's DecodeHexBlockHeader: 80 bytes of hex or more (the rest ignored).
std::optional<BlockHeader> DecodeHexBlockHeader(std::string_view hex);

//! Where a header sits, for HeaderToJson.
struct HeaderContext {
    int height{0};
    int confirmations{-1}; //!< -1 off the active chain
    int64_t median_time{0};
    std::string chain_work; //!< 64 hex digits
    uint32_t n_tx{0};
    uint256 prev; //!< null for genesis
    std::optional<uint256> next;
};

//! Core's blockheaderToJSON: hash, confirmations, height, version, versionHex, merkleroot, time, mediantime,
//! nonce, bits, difficulty, chainwork, nTx, previousblockhash, nextblockhash.
rpc::Json HeaderToJson(const BlockHeader& header, const HeaderContext& context);

//! Core's GetDifficulty: how much harder than bits 0x1d00ffff the target of `bits` is.
double DifficultyOfBits(uint32_t bits);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_RPC_CORE_JSON_H
