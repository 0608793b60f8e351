// Text forms of destinations and private keys: addresses <-> scriptPubKey
// (P2PKH, P2SH, and segwit v0..v16 including P2WPKH, P2WSH and P2TR) and WIF.
// Semantics follow Bitcoin Core's key_io (DecodeDestination/DecodeSecret).
#ifndef ORRERY_COMMON_KEYS_KEY_IO_H
#define ORRERY_COMMON_KEYS_KEY_IO_H

#include "common/crypto/hash.h"
#include "common/keys/bech32.h"
#include "common/keys/key.h"
#include "common/keys/network.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

// ---- scriptPubKey templates (raw bytes; no dependency on common/consensus)

std::vector<uint8_t> MakeP2PKHScript(const crypto::Hash20& key_hash);
std::vector<uint8_t> MakeP2SHScript(const crypto::Hash20& script_hash);
//! OP_n <program>. Requires IsValidWitnessProgram(wp).
std::vector<uint8_t> MakeWitnessScript(const bech32::WitnessProgram& wp);
std::vector<uint8_t> MakeP2WPKHScript(const PubKey& pubkey);
std::vector<uint8_t> MakeP2TRScript(const XOnlyPubKey& output_key);
//! The witness program of a BIP141 witness output script (any 2..40-byte
//! program, any version), or nullopt.
std::optional<bech32::WitnessProgram> MatchWitnessProgram(std::span<const uint8_t> script);

// ---- addresses

//! The address paying to `script_pubkey` on `network`, or an empty string if
//! the script has no address form (bare multisig, OP_RETURN, v0 programs that
//! are neither 20 nor 32 bytes, ...). Segwit addresses are lower case.
std::string EncodeAddress(std::span<const uint8_t> script_pubkey, Network network);

//! The scriptPubKey an address pays to, or nullopt if it is not a valid
//! address of `network`. A string starting with the network's HRP (in either
//! case) is only tried as Bech32/Bech32m, anything else only as Base58Check.
//! Base58 accepts surrounding whitespace, as Core does.
std::optional<std::vector<uint8_t>> DecodeAddress(std::string_view str, Network network);

// ---- WIF private keys

//! Base58Check(secret_prefix || secret || 0x01 if compressed). Requires a valid key.
std::string EncodeWif(const Key& key, Network network);
//! nullopt unless `str` is a WIF key of `network` holding a valid secret.
std::optional<Key> DecodeWif(std::string_view str, Network network);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_KEY_IO_H
