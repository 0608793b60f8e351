// RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996), written out from the
// specification. OpenSSL 3 moved it to the legacy provider, which a node
// cannot count on being loadable, and Hash160 needs it for every P2PKH check.
#include <common/crypto/hash.h>

#include <cstring>

namespace orrery::crypto {

namespace {

constexpr uint32_t Rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

uint32_t ReadLe32(const uint8_t* p)
{
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

void WriteLe32(uint8_t* p, uint32_t v)
{
    p[0] = uint8_t(v);
    p[1] = uint8_t(v >> 8);
    p[2] = uint8_t(v >> 16);
    p[3] = uint8_t(v >> 24);
}

// Message word used at each of the 80 steps, left and right line.
constexpr uint8_t kWordL[80] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
    3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
    1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
    4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13};
constexpr uint8_t kWordR[80] = {
    5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
    6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
    15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
    8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
    12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11};
// Left-rotation amounts.
constexpr uint8_t kRotL[80] = {
    11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
    7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
    11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
    11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
    9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6};
constexpr uint8_t kRotR[80] = {
    8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
    9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
    9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
    15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
    8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11};
constexpr uint32_t kConstL[5] = {0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E};
constexpr uint32_t kConstR[5] = {0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000};

// The five boolean functions; the right line applies them in reverse order.
inline uint32_t F(int round, uint32_t x, uint32_t y, uint32_t z)
{
    switch (round) {
    case 0: return x ^ y ^ z;
    case 1: return (x & y) | (~x & z);
    case 2: return (x | ~y) ^ z;
    case 3: return (x & z) | (y & ~z);
    default: return x ^ (y | ~z);
    }
}

void Compress(uint32_t state[5], const uint8_t* chunk)
{
    uint32_t w[16];
    for (int i = 0; i < 16; ++i) w[i] = ReadLe32(chunk + 4 * i);
    uint32_t al = state[0], bl = state[1], cl = state[2], dl = state[3], el = state[4];
    uint32_t ar = al, br = bl, cr = cl, dr = dl, er = el;
    for (int j = 0; j < 80; ++j) {
        const int round = j / 16;
        uint32_t t = Rol(al + F(round, bl, cl, dl) + w[kWordL[j]] + kConstL[round], kRotL[j]) + el;
        al = el;
        el = dl;
        dl = Rol(cl, 10);
        cl = bl;
        bl = t;
        t = Rol(ar + F(4 - round, br, cr, dr) + w[kWordR[j]] + kConstR[round], kRotR[j]) + er;
        ar = er;
        er = dr;
        dr = Rol(cr, 10);
        cr = br;
        br = t;
    }
    const uint32_t t = state[1] + cl + dr;
    state[1] = state[2] + dl + er;
    state[2] = state[3] + el + ar;
    state[3] = state[4] + al + br;
    state[4] = state[0] + bl + cr;
    state[0] = t;
}

} // namespace

Hash20 Ripemd160(std::span<const uint8_t> data)
{
    uint32_t state[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const size_t full = data.size() / 64;
    for (size_t i = 0; i < full; ++i) Compress(state, data.data() + 64 * i);

    // Padding: 0x80, zeros, then the bit length as 64-bit little-endian.
    uint8_t tail[128] = {};
    const size_t rest = data.size() - 64 * full;
    if (rest > 0) std::memcpy(tail, data.data() + 64 * full, rest);
    tail[rest] = 0x80;
    const size_t tail_len = rest < 56 ? 64 : 128;
    const uint64_t bits = uint64_t(data.size()) * 8;
    WriteLe32(tail + tail_len - 8, uint32_t(bits));
    WriteLe32(tail + tail_len - 4, uint32_t(bits >> 32));
    Compress(state, tail);
    if (tail_len == 128) Compress(state, tail + 64);

    Hash20 out;
    for (int i = 0; i < 5; ++i) WriteLe32(out.data() + 4 * i, state[i]);
    return out;
}

} // namespace orrery::crypto
