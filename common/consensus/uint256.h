// uint256: an opaque 32-byte value (txid, block hash, merkle node) stored in
// the byte order it is hashed and serialized in. Like Bitcoin Core, its
// display form (GetHex/FromHex) is the bytes reversed, so that block hashes
// print with their leading zeros first. Arithmetic on hashes as numbers lives
// in arith_uint256.h.
#ifndef ORRERY_COMMON_CONSENSUS_UINT256_H
#define ORRERY_COMMON_CONSENSUS_UINT256_H

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace orrery {

class uint256
{
public:
    static constexpr size_t kSize = 32;

    constexpr uint256() : m_data{} {}
    constexpr explicit uint256(const std::array<uint8_t, kSize>& bytes) : m_data{bytes} {}

    //! Parses the display form (64 hex digits, most significant byte first,
    //! i.e. reversed relative to storage). nullopt on bad length or digit.
    static std::optional<uint256> FromHex(std::string_view hex);
    //! Copies exactly 32 bytes in storage order; nullopt if the size differs.
    static std::optional<uint256> FromBytes(std::span<const uint8_t> bytes);

    //! Display form: bytes reversed, lower-case hex (Core's GetHex/ToString).
    std::string GetHex() const;
    std::string ToString() const { return GetHex(); }

    bool IsNull() const
    {
        for (uint8_t b : m_data) {
            if (b != 0) return false;
        }
        return true;
    }
    void SetNull() { m_data.fill(0); }

    uint8_t* data() { return m_data.data(); }
    const uint8_t* data() const { return m_data.data(); }
    static constexpr size_t size() { return kSize; }
    auto begin() { return m_data.begin(); }
    auto end() { return m_data.end(); }
    auto begin() const { return m_data.begin(); }
    auto end() const { return m_data.end(); }
    const std::array<uint8_t, kSize>& bytes() const { return m_data; }
    operator std::span<const uint8_t>() const { return m_data; }

    //! Byte-wise (storage order) comparison, as Core's memcmp-based operator<;
    //! gives a total order for maps and sets, not numeric order.
    friend bool operator==(const uint256&, const uint256&) = default;
    friend std::strong_ordering operator<=>(const uint256& a, const uint256& b)
    {
        const int c = std::memcmp(a.m_data.data(), b.m_data.data(), kSize);
        return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
    }

private:
    std::array<uint8_t, kSize> m_data;
};

//! Hash functor for unordered containers keyed by txid/block hash. The values
//! are already uniformly distributed, so a slice of the bytes suffices; do not
//! use it where an attacker chooses the keys (use a salted SipHash there).
struct Uint256Hasher {
    size_t operator()(const uint256& v) const
    {
        size_t out;
        std::memcpy(&out, v.data() + 8, sizeof(out));
        return out;
    }
};

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_UINT256_H
