// secp256k1 keys: private keys (Key), serialized public keys (PubKey) and
// BIP340 x-only public keys (XOnlyPubKey), with ECDSA and Schnorr signing and
// verification and the BIP341 taproot tweak. All cryptography is delegated
// to libsecp256k1; this layer owns serialization and secret hygiene.
#ifndef ORRERY_COMMON_KEYS_KEY_H
#define ORRERY_COMMON_KEYS_KEY_H

#include "common/crypto/hash.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace orrery {

using SchnorrSig = std::array<uint8_t, 64>;

//! A BIP340 public key: the 32-byte x coordinate of a point with even y.
class XOnlyPubKey
{
public:
    static constexpr size_t SIZE = 32;

    //! nullopt unless `bytes` is 32 bytes encoding an x coordinate on the curve.
    static std::optional<XOnlyPubKey> Parse(std::span<const uint8_t> bytes);

    const std::array<uint8_t, SIZE>& bytes() const noexcept { return m_data; }

    //! BIP340 verification of a signature over a message of any length.
    bool VerifySchnorr(std::span<const uint8_t> msg, std::span<const uint8_t> sig) const;

    //! BIP341 tweak t = TaggedHash("TapTweak", P || merkle_root), the merkle
    //! root being omitted for a key-path-only output.
    crypto::Hash32 ComputeTapTweakHash(const std::optional<crypto::Hash32>& merkle_root) const;

    //! The taproot output key Q = P + t*G and the parity of its y coordinate
    //! (true = odd). nullopt only if the tweak is out of range (negligible).
    std::optional<std::pair<XOnlyPubKey, bool>> CreateTapTweak(const std::optional<crypto::Hash32>& merkle_root) const;

    bool operator==(const XOnlyPubKey&) const = default;

private:
    explicit XOnlyPubKey(const std::array<uint8_t, SIZE>& data) : m_data(data) {}
    std::array<uint8_t, SIZE> m_data{};
};

//! A serialized secp256k1 public key, compressed (33 bytes) or not (65).
class PubKey
{
public:
    static constexpr size_t COMPRESSED_SIZE = 33;
    static constexpr size_t UNCOMPRESSED_SIZE = 65;

    //! nullopt unless `bytes` is a valid compressed or uncompressed encoding
    //! of a point on the curve (hybrid 06/07 encodings are rejected).
    static std::optional<PubKey> Parse(std::span<const uint8_t> bytes);

    //! An empty, invalid key; only Parse and Key::GetPubKey make valid ones.
    PubKey() = default;

    bool IsValid() const noexcept { return m_size != 0; }
    std::span<const uint8_t> bytes() const noexcept { return {m_data.data(), m_size}; }
    bool IsCompressed() const noexcept { return m_size == COMPRESSED_SIZE; }
    //! Hash160 of the serialization: the P2PKH / P2WPKH key hash.
    crypto::Hash20 GetId() const;
    //! The same point, compressed. Requires IsValid().
    PubKey Compressed() const;
    //! Requires IsValid().
    XOnlyPubKey GetXOnly() const;

    //! Verify a strict-DER ECDSA signature of a 32-byte hash. High-S
    //! signatures are rejected (libsecp256k1's rule); script evaluation, which
    //! has to accept lax DER and normalize S, is not this function's job.
    bool VerifyEcdsa(const crypto::Hash32& hash, std::span<const uint8_t> der_sig) const;

    bool operator==(const PubKey& other) const noexcept
    {
        return m_size == other.m_size && std::equal(m_data.begin(), m_data.begin() + m_size, other.m_data.begin());
    }

private:
    std::array<uint8_t, UNCOMPRESSED_SIZE> m_data{};
    size_t m_size{0};
};

//! A private key: a 32-byte secret in 1..n-1 plus whether its public key is
//! used compressed. The secret is wiped when the object dies; copies are
//! independent and wipe themselves too. A default-constructed Key is invalid
//! and every signing call on it fails.
class Key
{
public:
    static constexpr size_t SIZE = 32;

    Key() = default;
    Key(const Key&) = default;
    Key& operator=(const Key&) = default;
    ~Key();

    //! nullopt unless `secret` is 32 bytes in 1..n-1.
    static std::optional<Key> FromSecret(std::span<const uint8_t> secret, bool compressed = true);

    bool IsValid() const noexcept { return m_valid; }
    bool IsCompressed() const noexcept { return m_compressed; }
    const std::array<uint8_t, SIZE>& Secret() const noexcept { return m_secret; }

    //! Requires IsValid(). Compressed or not according to IsCompressed().
    PubKey GetPubKey() const;
    XOnlyPubKey GetXOnlyPubKey() const;

    //! Deterministic (RFC6979 nonce) ECDSA signature of a 32-byte hash, DER
    //! encoded with low S. Empty if the key is invalid.
    std::vector<uint8_t> SignEcdsa(const crypto::Hash32& hash) const;

    //! BIP340 signature of `msg` (any length) with auxiliary randomness
    //! `aux_rand`; the signature is verified before being returned.
    std::optional<SchnorrSig> SignSchnorr(std::span<const uint8_t> msg, const crypto::Hash32& aux_rand) const;

    //! The BIP341 tweaked secret whose x-only key is the output key of
    //! GetXOnlyPubKey().CreateTapTweak(merkle_root).
    std::optional<Key> TapTweaked(const std::optional<crypto::Hash32>& merkle_root) const;

    //! Taproot key-path signature: SignSchnorr with the tweaked secret.
    std::optional<SchnorrSig> SignTaprootKeyPath(const crypto::Hash32& sighash,
                                                 const std::optional<crypto::Hash32>& merkle_root,
                                                 const crypto::Hash32& aux_rand) const;

    //! Compares every secret byte, without an early exit.
    bool operator==(const Key& other) const noexcept;

private:
    std::array<uint8_t, SIZE> m_secret{};
    bool m_valid{false};
    bool m_compressed{true};
};

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_KEY_H
