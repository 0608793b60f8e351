// Signature and public-key checks: the encoding rules of BIP62/BIP66 that the
// interpreter enforces under flags, and the cryptographic verification itself
// through libsecp256k1 (ECDSA with Bitcoin's lax DER parsing, BIP340 Schnorr,
// BIP341 output-key tweaks). libsecp256k1 types stay inside signature.cpp.
// All functions are thread-safe: they share one read-only context.
#ifndef ORRERY_COMMON_SCRIPT_SIGNATURE_H
#define ORRERY_COMMON_SCRIPT_SIGNATURE_H

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace orrery {

using Hash256Bytes = std::array<uint8_t, 32>;

//! BIP66 strict DER, on a signature that still carries its hash-type byte.
bool IsValidSignatureEncoding(std::span<const uint8_t> sig);
//! Hash type (without ANYONECANPAY) is ALL, NONE or SINGLE.
bool IsDefinedHashtypeSignature(std::span<const uint8_t> sig);
//! Whether a DER signature (no hash-type byte) parses laxly and has S <= n/2.
bool IsLowS(std::span<const uint8_t> der);
bool IsCompressedOrUncompressedPubKey(std::span<const uint8_t> pubkey);
bool IsCompressedPubKey(std::span<const uint8_t> pubkey);

//! Core's CPubKey::Verify: the key must have a valid length for its header
//! byte (33 for 02/03, 65 for 04/06/07) and parse; the signature (no
//! hash-type byte) is parsed with Bitcoin's lax DER rules and normalised to
//! low S before verification.
bool VerifyEcdsa(std::span<const uint8_t> pubkey, std::span<const uint8_t> der, const Hash256Bytes& hash);

//! BIP340 verification of a 64-byte signature over a 32-byte message.
bool VerifySchnorr(std::span<const uint8_t> xonly_pubkey, std::span<const uint8_t> sig64, const Hash256Bytes& msg);

//! Whether `output` (x-only, 32 bytes) equals internal + H_TapTweak(internal ||
//! merkle_root)·G with the given Y parity (BIP341). An absent merkle root
//! means a key-path-only output.
bool CheckTapTweak(std::span<const uint8_t> output, std::span<const uint8_t> internal,
                   const std::optional<Hash256Bytes>& merkle_root, bool parity);

//! H_TapTweak(internal || merkle_root), the merkle root omitted when absent.
Hash256Bytes ComputeTapTweakHash(std::span<const uint8_t> internal, const std::optional<Hash256Bytes>& merkle_root);

struct TweakedKey {
    Hash256Bytes xonly;
    bool parity;
};
//! Computes the BIP341 output key; nullopt if the internal key is not a valid
//! x coordinate or the tweak overflows.
std::optional<TweakedKey> TweakInternalKey(std::span<const uint8_t> internal,
                                           const std::optional<Hash256Bytes>& merkle_root);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SIGNATURE_H
