// Standard output templates (Core's Solver in script/solver.cpp): which kind of
// scriptPubKey a script is, with the data that identifies it. Used for the
// "type" of a script in RPC answers, descriptor inference and, later, policy.
#ifndef ORRERY_COMMON_SCRIPT_SOLVER_H
#define ORRERY_COMMON_SCRIPT_SOLVER_H

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace orrery {

//! Core's TxoutType.
enum class TxoutType {
    NONSTANDARD,
    PUBKEY,
    PUBKEYHASH,
    SCRIPTHASH,
    MULTISIG,
    NULL_DATA,
    ANCHOR,
    WITNESS_V0_SCRIPTHASH,
    WITNESS_V0_KEYHASH,
    WITNESS_V1_TAPROOT,
    WITNESS_UNKNOWN,
};

//! The name RPC answers use: "nonstandard", "pubkey", "pubkeyhash", "scripthash", "multisig", "nulldata", "anchor",
//! "witness_v0_keyhash", "witness_v0_scripthash", "witness_v1_taproot", "witness_unknown".
std::string_view TxoutTypeName(TxoutType type);

//! Classifies a scriptPubKey. `solutions` receives what Core's Solver returns: the key or hash for pubkey,
//! pubkeyhash, scripthash and the witness kinds; for multisig the required count (one byte), the keys, then
//! the key count (one byte); for witness_unknown the version (one byte) and the program; nothing otherwise.
TxoutType Solver(std::span<const uint8_t> script, std::vector<std::vector<uint8_t>>& solutions);

//! Core's CPubKey::ValidSize: 33 bytes after 02/03, 65 after 04/06/07.
bool PubKeyHasValidSize(std::span<const uint8_t> key);

//! Every operation parses, is at most OP_NOP10 and pushes at most 520 bytes (Core's HasValidOps).
bool HasValidOps(std::span<const uint8_t> script);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SOLVER_H
