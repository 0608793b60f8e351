// 256-bit arithmetic for targets and chain work.
#include <common/consensus/arith_uint256.h>

#include <common/consensus/hex.h>

namespace orrery {

ArithUint256 ArithUint256::FromUint256(const uint256& v)
{
    ArithUint256 out;
    for (int limb = 0; limb < 4; ++limb) {
        uint64_t x = 0;
        for (int b = 7; b >= 0; --b) x = (x << 8) | v.data()[8 * limb + b];
        out.m_limb[limb] = x;
    }
    return out;
}

uint256 ArithUint256::ToUint256() const
{
    uint256 out;
    for (int limb = 0; limb < 4; ++limb) {
        for (int b = 0; b < 8; ++b) out.data()[8 * limb + b] = uint8_t(m_limb[limb] >> (8 * b));
    }
    return out;
}

ArithUint256 ArithUint256::FromCompact(uint32_t compact, bool* negative, bool* overflow)
{
    const int size = int(compact >> 24);
    uint32_t word = compact & 0x007fffff;
    ArithUint256 out;
    if (size <= 3) {
        word >>= 8 * (3 - size);
        out = ArithUint256(word);
    } else {
        out = ArithUint256(word);
        out <<= unsigned(8 * (size - 3));
    }
    if (negative) *negative = word != 0 && (compact & 0x00800000) != 0;
    if (overflow) {
        *overflow = word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
    }
    return out;
}

uint32_t ArithUint256::GetCompact(bool negative) const
{
    int size = int((Bits() + 7) / 8);
    uint32_t compact;
    if (size <= 3) {
        compact = uint32_t(GetLow64() << (8 * (3 - size)));
    } else {
        compact = uint32_t((*this >> unsigned(8 * (size - 3))).GetLow64());
    }
    // 0x00800000 is the sign bit: move a mantissa that would set it down a byte.
    if (compact & 0x00800000) {
        compact >>= 8;
        ++size;
    }
    compact |= uint32_t(size) << 24;
    if (negative && (compact & 0x007fffff)) compact |= 0x00800000;
    return compact;
}

unsigned ArithUint256::Bits() const
{
    for (int i = 3; i >= 0; --i) {
        if (m_limb[i] != 0) {
            unsigned bits = 64;
            while (!(m_limb[i] >> (bits - 1))) --bits;
            return 64 * unsigned(i) + bits;
        }
    }
    return 0;
}

std::string ArithUint256::GetHex() const
{
    return ToUint256().GetHex();
}

ArithUint256& ArithUint256::operator<<=(unsigned shift)
{
    if (shift >= 256) return *this = ArithUint256();
    const unsigned limbs = shift / 64;
    const unsigned bits = shift % 64;
    std::array<uint64_t, 4> out{};
    for (int i = 3; i >= int(limbs); --i) {
        out[i] = m_limb[i - limbs] << bits;
        if (bits != 0 && i - int(limbs) - 1 >= 0) out[i] |= m_limb[i - limbs - 1] >> (64 - bits);
    }
    m_limb = out;
    return *this;
}

ArithUint256& ArithUint256::operator>>=(unsigned shift)
{
    if (shift >= 256) return *this = ArithUint256();
    const unsigned limbs = shift / 64;
    const unsigned bits = shift % 64;
    std::array<uint64_t, 4> out{};
    for (unsigned i = 0; i + limbs < 4; ++i) {
        out[i] = m_limb[i + limbs] >> bits;
        if (bits != 0 && i + limbs + 1 < 4) out[i] |= m_limb[i + limbs + 1] << (64 - bits);
    }
    m_limb = out;
    return *this;
}

ArithUint256& ArithUint256::operator+=(const ArithUint256& b)
{
    unsigned __int128 carry = 0;
    for (int i = 0; i < 4; ++i) {
        carry += (unsigned __int128)m_limb[i] + b.m_limb[i];
        m_limb[i] = uint64_t(carry);
        carry >>= 64;
    }
    return *this;
}

ArithUint256& ArithUint256::operator-=(const ArithUint256& b)
{
    return *this += ~b + ArithUint256(1);
}

ArithUint256& ArithUint256::operator*=(uint64_t b)
{
    unsigned __int128 carry = 0;
    for (int i = 0; i < 4; ++i) {
        carry += (unsigned __int128)m_limb[i] * b;
        m_limb[i] = uint64_t(carry);
        carry >>= 64;
    }
    return *this;
}

ArithUint256& ArithUint256::operator/=(const ArithUint256& b)
{
    if (b == ArithUint256()) return *this = ArithUint256();
    ArithUint256 num = *this;
    ArithUint256 div = b;
    ArithUint256 quotient;
    const unsigned num_bits = num.Bits();
    const unsigned div_bits = div.Bits();
    if (div_bits > num_bits) return *this = ArithUint256();
    unsigned shift = num_bits - div_bits;
    div <<= shift;
    while (true) {
        if (num >= div) {
            num -= div;
            quotient.m_limb[shift / 64] |= uint64_t{1} << (shift % 64);
        }
        if (shift == 0) break;
        div >>= 1;
        --shift;
    }
    return *this = quotient;
}

ArithUint256 ArithUint256::operator~() const
{
    ArithUint256 out;
    for (int i = 0; i < 4; ++i) out.m_limb[i] = ~m_limb[i];
    return out;
}

} // namespace orrery
