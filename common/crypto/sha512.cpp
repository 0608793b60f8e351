// HMAC-SHA512 (BIP32 key derivation) over OpenSSL's low-level SHA-512, for
// the same reason sha256.cpp uses the low-level SHA-256 calls.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <common/crypto/hash.h>

#include <openssl/sha.h>

#include <cstring>

namespace orrery::crypto {

std::array<uint8_t, 64> HmacSha512(std::span<const uint8_t> key, std::span<const uint8_t> data)
{
    // RFC 2104 with SHA-512's 128-byte block.
    std::array<uint8_t, 128> block{};
    if (key.size() > block.size()) {
        SHA512_CTX ctx;
        SHA512_Init(&ctx);
        SHA512_Update(&ctx, key.data(), key.size());
        SHA512_Final(block.data(), &ctx);
    } else if (!key.empty()) {
        std::memcpy(block.data(), key.data(), key.size());
    }
    std::array<uint8_t, 128> pad;
    std::array<uint8_t, 64> inner;
    SHA512_CTX ctx;
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x36;
    SHA512_Init(&ctx);
    SHA512_Update(&ctx, pad.data(), pad.size());
    SHA512_Update(&ctx, data.data(), data.size());
    SHA512_Final(inner.data(), &ctx);
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x5c;
    std::array<uint8_t, 64> out;
    SHA512_Init(&ctx);
    SHA512_Update(&ctx, pad.data(), pad.size());
    SHA512_Update(&ctx, inner.data(), inner.size());
    SHA512_Final(out.data(), &ctx);
    return out;
}

} // namespace orrery::crypto
