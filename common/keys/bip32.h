// BIP32 hierarchical deterministic keys: master key from a seed, private and
// public child derivation, fingerprints, xprv/xpub (tprv/tpub) serialization
// with every check of BIP32's invalid-key vectors, and derivation paths.
#ifndef ORRERY_COMMON_KEYS_BIP32_H
#define ORRERY_COMMON_KEYS_BIP32_H

#include "common/keys/key.h"
#include "common/keys/network.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

inline constexpr uint32_t BIP32_HARDENED = 0x80000000U;

using Fingerprint = std::array<uint8_t, 4>;
using ChainCode = std::array<uint8_t, 32>;

struct ExtPubKey {
    uint8_t depth{0};
    Fingerprint parent_fingerprint{};
    uint32_t child_number{0};
    ChainCode chain_code{};
    PubKey pubkey; //!< always compressed

    //! First four bytes of Hash160 of the public key.
    Fingerprint GetFingerprint() const;
    //! CKDpub. nullopt for a hardened index, at depth 255, or in the
    //! (probability < 2^-127) case that the child key is invalid.
    std::optional<ExtPubKey> Derive(uint32_t index) const;
    bool operator==(const ExtPubKey&) const = default;
};

//! An extended private key. The chain code is wiped with the key.
struct ExtKey {
    uint8_t depth{0};
    Fingerprint parent_fingerprint{};
    uint32_t child_number{0};
    ChainCode chain_code{};
    Key key; //!< always compressed

    ExtKey() = default;
    ExtKey(const ExtKey&) = default;
    ExtKey& operator=(const ExtKey&) = default;
    ~ExtKey();

    //! Master key: HMAC-SHA512("Bitcoin seed", seed). BIP32 seeds are 16..64
    //! bytes; other lengths and an invalid left half give nullopt.
    static std::optional<ExtKey> FromSeed(std::span<const uint8_t> seed);
    //! CKDpriv, hardened when index >= BIP32_HARDENED. nullopt at depth 255
    //! or when the child is invalid (BIP32 says: skip to the next index).
    std::optional<ExtKey> Derive(uint32_t index) const;
    //! Derive along a whole path from this key.
    std::optional<ExtKey> DerivePath(std::span<const uint32_t> path) const;
    ExtPubKey Neuter() const;
    Fingerprint GetFingerprint() const;
    bool operator==(const ExtKey&) const = default;
};

//! Why an extended-key string was rejected; NONE on success.
enum class ExtKeyError {
    NONE,
    BAD_BASE58, //!< not Base58, or longer than any extended key
    BAD_CHECKSUM,
    BAD_LENGTH, //!< payload is not 78 bytes
    UNKNOWN_VERSION,
    VERSION_MISMATCH, //!< public version with private key data or the reverse
    ZERO_DEPTH_PARENT, //!< depth 0 with a non-zero parent fingerprint
    ZERO_DEPTH_INDEX, //!< depth 0 with a non-zero child number
    BAD_PUBKEY_PREFIX, //!< public key data not starting with 02 or 03
    BAD_PRIVKEY_PREFIX, //!< private key data not starting with 00
    PUBKEY_NOT_ON_CURVE,
    PRIVKEY_OUT_OF_RANGE, //!< secret not in 1..n-1
};
std::string_view ExtKeyErrorString(ExtKeyError error) noexcept;

//! The outcome of parsing any extended key string.
struct DecodedExtKey {
    ExtKeyError error{ExtKeyError::NONE};
    bool is_private{false};
    //! MAIN for xprv/xpub, TESTNET3 for tprv/tpub (shared by every test
    //! network and regtest).
    Network network{Network::MAIN};
    ExtKey priv; //!< set when is_private
    ExtPubKey pub; //!< always set on success (the neutered key when private)
};

DecodedExtKey DecodeExtendedKey(std::string_view str);

std::string EncodeExtKey(const ExtKey& key, Network network);
std::string EncodeExtPubKey(const ExtPubKey& key, Network network);
//! Convenience decoders that also require the version of `network`.
std::optional<ExtKey> DecodeExtKey(std::string_view str, Network network);
std::optional<ExtPubKey> DecodeExtPubKey(std::string_view str, Network network);

//! Parse "m/84h/1h/0h/0/5": a leading "m", then '/'-separated decimal
//! indexes below 2^31, each optionally followed by h, H or ' for hardened.
std::optional<std::vector<uint32_t>> ParseDerivationPath(std::string_view path);
//! Inverse of ParseDerivationPath, writing hardened steps with 'h'.
std::string FormatDerivationPath(std::span<const uint32_t> path);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_BIP32_H
