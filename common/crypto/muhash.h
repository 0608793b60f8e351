// MuHash3072, the order-independent set hash Bitcoin Core uses for the UTXO
// set (gettxoutsetinfo "muhash", coinstatsindex): each element maps to a
// number modulo the prime 2^3072 - 1103717, the set's hash is the product of
// its elements, and removing an element divides by it. Computed exactly as
// Core does so that two implementations can compare their sets.
#ifndef ORRERY_COMMON_CRYPTO_MUHASH_H
#define ORRERY_COMMON_CRYPTO_MUHASH_H

#include <common/crypto/hash.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace orrery::crypto {

//! A running MuHash3072: a numerator (the product of inserted elements) and a
//! denominator (the product of removed ones), both modulo 2^3072 - 1103717.
//! A plain value: copies are independent. Not thread-safe per object.
class MuHash3072
{
public:
    static constexpr size_t BYTE_SIZE = 384;

    //! The empty set.
    MuHash3072();
    //! The set holding one element.
    explicit MuHash3072(std::span<const uint8_t> element);
    MuHash3072(const MuHash3072& other);
    MuHash3072& operator=(const MuHash3072& other);
    MuHash3072(MuHash3072&&) noexcept;
    MuHash3072& operator=(MuHash3072&&) noexcept;
    ~MuHash3072();

    MuHash3072& Insert(std::span<const uint8_t> element);
    MuHash3072& Remove(std::span<const uint8_t> element);
    //! Union with another set (Core's operator*=).
    MuHash3072& operator*=(const MuHash3072& other);
    //! Removes every element of another set (Core's operator/=).
    MuHash3072& operator/=(const MuHash3072& other);

    //! SHA256 of numerator / denominator as 384 little-endian bytes, in storage order (Core's uint256 out;
    //! its hex prints reversed). Leaves the value unchanged (the denominator is folded in, as Core does).
    Hash32 Finalize();

    //! Core's serialization: numerator then denominator, 384 little-endian bytes each.
    std::array<uint8_t, 2 * BYTE_SIZE> Serialize() const;
    //! Reads Core's serialization (values at or above the modulus are accepted and reduced).
    static MuHash3072 Deserialize(std::span<const uint8_t, 2 * BYTE_SIZE> bytes);

    //! Core's ToNum3072: the 384-byte ChaCha20 keystream keyed by SHA256(element), zero nonce.
    static std::array<uint8_t, BYTE_SIZE> ElementNumber(std::span<const uint8_t> element);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace orrery::crypto

#endif // ORRERY_COMMON_CRYPTO_MUHASH_H
