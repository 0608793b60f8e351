// Hash functions used by consensus, keys and the P2P layer: SHA-256 (through
// OpenSSL, which picks SHA-NI/AVX code paths at run time), RIPEMD-160 and
// SipHash-2-4 (native, so no OpenSSL legacy provider is needed), HMAC and the
// BIP340 tagged hash. All functions are pure and thread-safe.
#ifndef ORRERY_COMMON_CRYPTO_HASH_H
#define ORRERY_COMMON_CRYPTO_HASH_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace orrery::crypto {

using Hash32 = std::array<uint8_t, 32>;
using Hash20 = std::array<uint8_t, 20>;

Hash32 Sha256(std::span<const uint8_t> data);
//! SHA256(SHA256(data)): txids, block hashes, merkle nodes, checksums.
Hash32 Sha256d(std::span<const uint8_t> data);
Hash20 Ripemd160(std::span<const uint8_t> data);
//! RIPEMD160(SHA256(data)): P2PKH/P2WPKH key hashes, P2SH script hashes.
Hash20 Hash160(std::span<const uint8_t> data);
std::array<uint8_t, 64> HmacSha512(std::span<const uint8_t> key, std::span<const uint8_t> data);
std::array<uint8_t, 32> HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);
//! BIP340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data).
Hash32 TaggedHash(std::string_view tag, std::span<const uint8_t> data);
//! SipHash-2-4 with the 128-bit key (k0, k1), k0 holding key bytes 0..7 little-endian.
uint64_t SipHash24(uint64_t k0, uint64_t k1, std::span<const uint8_t> data);

//! Incremental SHA-256. The object is a plain value: copying it copies the
//! midstate, which is how BIP143/BIP341 signature hashes and tagged hashes
//! reuse a common prefix. Finalize does not disturb the state, so one prefix
//! can be finalized, copied and extended any number of times.
class Sha256Hasher
{
public:
    Sha256Hasher();
    Sha256Hasher& Write(std::span<const uint8_t> data);
    Sha256Hasher& Write(std::string_view data);
    //! SHA256 of everything written so far.
    Hash32 Finalize() const;
    //! SHA256(SHA256(...)) of everything written so far.
    Hash32 FinalizeDouble() const;

private:
    // Storage for OpenSSL's SHA256_CTX, kept opaque so that users of this
    // header do not see OpenSSL (its size is checked in sha256.cpp).
    alignas(8) std::array<unsigned char, 112> m_ctx;
};

//! A hasher already fed with SHA256(tag) || SHA256(tag) (BIP340), to be
//! copied and extended by callers that hash many messages under one tag.
Sha256Hasher TaggedHasher(std::string_view tag);

} // namespace orrery::crypto

#endif // ORRERY_COMMON_CRYPTO_HASH_H
