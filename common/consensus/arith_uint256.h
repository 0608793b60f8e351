// ArithUint256: unsigned 256-bit integers for proof-of-work targets and chain
// work (Core's arith_uint256). Arithmetic wraps modulo 2^256 like Core's, so
// difficulty retargeting rounds exactly as Core does.
#ifndef ORRERY_COMMON_CONSENSUS_ARITH_UINT256_H
#define ORRERY_COMMON_CONSENSUS_ARITH_UINT256_H

#include <common/consensus/uint256.h>

#include <array>
#include <compare>
#include <cstdint>
#include <string>

namespace orrery {

class ArithUint256
{
public:
    constexpr ArithUint256() : m_limb{} {}
    constexpr ArithUint256(uint64_t v) : m_limb{v, 0, 0, 0} {} // NOLINT: implicit like Core's

    //! Interprets a uint256's bytes as a little-endian number (as Core's
    //! UintToArith256), so a block hash compares numerically with a target.
    static ArithUint256 FromUint256(const uint256& v);
    uint256 ToUint256() const;

    //! Decodes Core's compact "nBits" form. negative/overflow report the
    //! encodings CheckProofOfWork must reject, exactly as Core's SetCompact.
    static ArithUint256 FromCompact(uint32_t compact, bool* negative = nullptr, bool* overflow = nullptr);
    //! Encodes in compact form, rounding down to 23 bits of mantissa.
    uint32_t GetCompact(bool negative = false) const;

    //! Position of the highest set bit plus one (0 for zero).
    unsigned Bits() const;
    uint64_t GetLow64() const { return m_limb[0]; }
    //! Big-endian hex, 64 digits.
    std::string GetHex() const;

    ArithUint256& operator<<=(unsigned shift);
    ArithUint256& operator>>=(unsigned shift);
    ArithUint256& operator+=(const ArithUint256& b);
    ArithUint256& operator-=(const ArithUint256& b);
    ArithUint256& operator*=(uint64_t b);
    //! Long division; dividing by zero yields zero (Core throws; no consensus
    //! path divides by zero).
    ArithUint256& operator/=(const ArithUint256& b);
    ArithUint256 operator~() const;

    friend ArithUint256 operator<<(ArithUint256 a, unsigned s) { return a <<= s; }
    friend ArithUint256 operator>>(ArithUint256 a, unsigned s) { return a >>= s; }
    friend ArithUint256 operator+(ArithUint256 a, const ArithUint256& b) { return a += b; }
    friend ArithUint256 operator-(ArithUint256 a, const ArithUint256& b) { return a -= b; }
    friend ArithUint256 operator*(ArithUint256 a, uint64_t b) { return a *= b; }
    friend ArithUint256 operator/(ArithUint256 a, const ArithUint256& b) { return a /= b; }

    friend bool operator==(const ArithUint256&, const ArithUint256&) = default;
    friend std::strong_ordering operator<=>(const ArithUint256& a, const ArithUint256& b)
    {
        for (int i = 3; i >= 0; --i) {
            if (a.m_limb[i] != b.m_limb[i]) return a.m_limb[i] <=> b.m_limb[i];
        }
        return std::strong_ordering::equal;
    }

private:
    // Little-endian 64-bit limbs: m_limb[0] is the least significant.
    std::array<uint64_t, 4> m_limb;
};

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_ARITH_UINT256_H
