// SHA-256 and what is built directly on it (double SHA-256, tagged hashes,
// HMAC-SHA256), all through OpenSSL's low-level SHA256_CTX. The low-level
// calls are deprecated in OpenSSL 3 in favour of EVP, but EVP costs a context
// allocation and a provider lookup per hash, which dominates for the many
// 64-byte hashes consensus code does (merkle trees); the low-level path runs
// the same SHA-NI/AVX assembly.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <common/crypto/hash.h>

#include <openssl/sha.h>

#include <cstring>
#include <new>
#include <type_traits>

namespace orrery::crypto {

static_assert(std::is_trivially_copyable_v<SHA256_CTX>);

namespace {

SHA256_CTX* Ctx(std::array<unsigned char, 112>& storage)
{
    static_assert(sizeof(SHA256_CTX) <= 112, "Sha256Hasher storage too small for SHA256_CTX");
    static_assert(alignof(SHA256_CTX) <= 8);
    return std::launder(reinterpret_cast<SHA256_CTX*>(storage.data()));
}

} // namespace

Sha256Hasher::Sha256Hasher()
{
    m_ctx.fill(0);
    SHA256_Init(new (m_ctx.data()) SHA256_CTX);
}

Sha256Hasher& Sha256Hasher::Write(std::span<const uint8_t> data)
{
    if (!data.empty()) SHA256_Update(Ctx(m_ctx), data.data(), data.size());
    return *this;
}

Sha256Hasher& Sha256Hasher::Write(std::string_view data)
{
    if (!data.empty()) SHA256_Update(Ctx(m_ctx), data.data(), data.size());
    return *this;
}

Hash32 Sha256Hasher::Finalize() const
{
    SHA256_CTX copy;
    std::memcpy(&copy, m_ctx.data(), sizeof(copy));
    Hash32 out;
    SHA256_Final(out.data(), &copy);
    return out;
}

Hash32 Sha256Hasher::FinalizeDouble() const
{
    const Hash32 first = Finalize();
    return Sha256(first);
}

Hash32 Sha256(std::span<const uint8_t> data)
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data.data(), data.size());
    Hash32 out;
    SHA256_Final(out.data(), &ctx);
    return out;
}

Hash32 Sha256d(std::span<const uint8_t> data)
{
    return Sha256(Sha256(data));
}

Hash20 Hash160(std::span<const uint8_t> data)
{
    return Ripemd160(Sha256(data));
}

Sha256Hasher TaggedHasher(std::string_view tag)
{
    const Hash32 tag_hash = Sha256Hasher{}.Write(tag).Finalize();
    Sha256Hasher hasher;
    hasher.Write(tag_hash).Write(tag_hash);
    return hasher;
}

Hash32 TaggedHash(std::string_view tag, std::span<const uint8_t> data)
{
    return TaggedHasher(tag).Write(data).Finalize();
}

std::array<uint8_t, 32> HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data)
{
    // RFC 2104 with a 64-byte block: keys longer than a block are hashed first.
    std::array<uint8_t, 64> block{};
    if (key.size() > block.size()) {
        const Hash32 key_hash = Sha256(key);
        std::memcpy(block.data(), key_hash.data(), key_hash.size());
    } else if (!key.empty()) {
        std::memcpy(block.data(), key.data(), key.size());
    }
    std::array<uint8_t, 64> pad;
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x36;
    const Hash32 inner = Sha256Hasher{}.Write(pad).Write(data).Finalize();
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x5c;
    return Sha256Hasher{}.Write(pad).Write(inner).Finalize();
}

} // namespace orrery::crypto
