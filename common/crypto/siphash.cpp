// SipHash-2-4 (Aumasson, Bernstein 2012), written out from the paper. Keyed
// hashing for in-memory tables that an attacker may fill (addrman, compact
// block short ids in BIP152).
#include <common/crypto/hash.h>

namespace orrery::crypto {

namespace {

constexpr uint64_t Rol(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

struct SipState {
    uint64_t v0, v1, v2, v3;

    void Round()
    {
        v0 += v1; v1 = Rol(v1, 13); v1 ^= v0; v0 = Rol(v0, 32);
        v2 += v3; v3 = Rol(v3, 16); v3 ^= v2;
        v0 += v3; v3 = Rol(v3, 21); v3 ^= v0;
        v2 += v1; v1 = Rol(v1, 17); v1 ^= v2; v2 = Rol(v2, 32);
    }

    void Absorb(uint64_t m)
    {
        v3 ^= m;
        Round();
        Round();
        v0 ^= m;
    }
};

} // namespace

uint64_t SipHash24(uint64_t k0, uint64_t k1, std::span<const uint8_t> data)
{
    SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
               k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    const size_t full = data.size() / 8;
    for (size_t i = 0; i < full; ++i) {
        uint64_t m = 0;
        for (int b = 7; b >= 0; --b) m = (m << 8) | data[8 * i + b];
        s.Absorb(m);
    }
    // Last word: remaining bytes little-endian, length mod 256 in the top byte.
    uint64_t last = uint64_t(data.size() & 0xff) << 56;
    const size_t rest = data.size() - 8 * full;
    for (size_t b = 0; b < rest; ++b) last |= uint64_t{data[8 * full + b]} << (8 * b);
    s.Absorb(last);
    s.v2 ^= 0xff;
    s.Round();
    s.Round();
    s.Round();
    s.Round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

} // namespace orrery::crypto
