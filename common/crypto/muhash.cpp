// MuHash3072 on OpenSSL: ChaCha20 (EVP) expands an element's SHA256 into a
// 3072-bit number, BIGNUM does the modular products and the one inverse that
// Finalize needs. Multiplications stay in Montgomery form between calls.
#include <common/crypto/muhash.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace orrery::crypto {

namespace {

[[noreturn]] void Fail(const char* what)
{
    throw std::runtime_error(std::string("MuHash3072: OpenSSL failure in ") + what);
}

struct BnDeleter {
    void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;

Bn NewBn()
{
    Bn bn{BN_new()};
    if (!bn) Fail("BN_new");
    return bn;
}

BN_CTX* Ctx()
{
    struct Holder {
        BN_CTX* ctx{BN_CTX_new()};
        ~Holder() { BN_CTX_free(ctx); }
    };
    thread_local Holder holder;
    if (!holder.ctx) Fail("BN_CTX_new");
    return holder.ctx;
}

//! The prime 2^3072 - 1103717 and its Montgomery context, built once.
struct Modulus {
    Bn p;
    BN_MONT_CTX* mont{nullptr};
    Modulus() : p{NewBn()}
    {
        Bn sub = NewBn();
        if (!BN_set_word(p.get(), 1) || !BN_lshift(p.get(), p.get(), 3072) || !BN_set_word(sub.get(), 1103717) ||
            !BN_sub(p.get(), p.get(), sub.get())) {
            Fail("modulus");
        }
        mont = BN_MONT_CTX_new();
        if (!mont || !BN_MONT_CTX_set(mont, p.get(), Ctx())) Fail("BN_MONT_CTX_set");
    }
    ~Modulus() { BN_MONT_CTX_free(mont); }
};

const Modulus& Mod()
{
    static const Modulus modulus;
    return modulus;
}

//! Little-endian bytes to a reduced number in Montgomery form.
Bn FromLe(std::span<const uint8_t> bytes)
{
    Bn bn{BN_lebin2bn(bytes.data(), int(bytes.size()), nullptr)};
    if (!bn) Fail("BN_lebin2bn");
    const Modulus& m = Mod();
    if (!BN_nnmod(bn.get(), bn.get(), m.p.get(), Ctx()) || !BN_to_montgomery(bn.get(), bn.get(), m.mont, Ctx())) {
        Fail("BN_to_montgomery");
    }
    return bn;
}

std::array<uint8_t, MuHash3072::BYTE_SIZE> ToLe(const BIGNUM* mont_value)
{
    Bn plain = NewBn();
    if (!BN_from_montgomery(plain.get(), mont_value, Mod().mont, Ctx())) Fail("BN_from_montgomery");
    std::array<uint8_t, MuHash3072::BYTE_SIZE> out{};
    if (BN_bn2lebinpad(plain.get(), out.data(), int(out.size())) < 0) Fail("BN_bn2lebinpad");
    return out;
}

void MulInto(BIGNUM* acc, const BIGNUM* factor)
{
    if (!BN_mod_mul_montgomery(acc, acc, factor, Mod().mont, Ctx())) Fail("BN_mod_mul_montgomery");
}

Bn One()
{
    std::array<uint8_t, 1> one{1};
    return FromLe(one);
}

Bn Copy(const BIGNUM* bn)
{
    Bn out{BN_dup(bn)};
    if (!out) Fail("BN_dup");
    return out;
}

} // namespace

struct MuHash3072::Impl {
    Bn numerator{One()};
    Bn denominator{One()};
};

std::array<uint8_t, MuHash3072::BYTE_SIZE> MuHash3072::ElementNumber(std::span<const uint8_t> element)
{
    const Hash32 key = Sha256(element);
    std::array<uint8_t, 16> iv{}; // 32-bit block counter 0, then a zero nonce
    std::array<uint8_t, BYTE_SIZE> zeros{};
    std::array<uint8_t, BYTE_SIZE> out{};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (!ctx) Fail("EVP_CIPHER_CTX_new");
    int len = 0;
    const bool ok = EVP_EncryptInit_ex(ctx, EVP_chacha20(), nullptr, key.data(), iv.data()) == 1 &&
                    EVP_EncryptUpdate(ctx, out.data(), &len, zeros.data(), int(zeros.size())) == 1 &&
                    len == int(out.size());
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) Fail("ChaCha20");
    return out;
}

MuHash3072::MuHash3072() : m_impl{std::make_unique<Impl>()} {}

MuHash3072::MuHash3072(std::span<const uint8_t> element) : MuHash3072()
{
    Insert(element);
}

MuHash3072::MuHash3072(const MuHash3072& other)
    : m_impl{std::make_unique<Impl>(Impl{Copy(other.m_impl->numerator.get()), Copy(other.m_impl->denominator.get())})}
{
}

MuHash3072& MuHash3072::operator=(const MuHash3072& other)
{
    if (this != &other) *this = MuHash3072(other);
    return *this;
}

MuHash3072::MuHash3072(MuHash3072&&) noexcept = default;
MuHash3072& MuHash3072::operator=(MuHash3072&&) noexcept = default;
MuHash3072::~MuHash3072() = default;

MuHash3072& MuHash3072::Insert(std::span<const uint8_t> element)
{
    MulInto(m_impl->numerator.get(), FromLe(ElementNumber(element)).get());
    return *this;
}

MuHash3072& MuHash3072::Remove(std::span<const uint8_t> element)
{
    MulInto(m_impl->denominator.get(), FromLe(ElementNumber(element)).get());
    return *this;
}

MuHash3072& MuHash3072::operator*=(const MuHash3072& other)
{
    MulInto(m_impl->numerator.get(), other.m_impl->numerator.get());
    MulInto(m_impl->denominator.get(), other.m_impl->denominator.get());
    return *this;
}

MuHash3072& MuHash3072::operator/=(const MuHash3072& other)
{
    MulInto(m_impl->numerator.get(), other.m_impl->denominator.get());
    MulInto(m_impl->denominator.get(), other.m_impl->numerator.get());
    return *this;
}

Hash32 MuHash3072::Finalize()
{
    const Modulus& m = Mod();
    // numerator / denominator: invert the denominator outside Montgomery form, then bring it back.
    Bn den = NewBn();
    if (!BN_from_montgomery(den.get(), m_impl->denominator.get(), m.mont, Ctx())) Fail("BN_from_montgomery");
    if (!BN_mod_inverse(den.get(), den.get(), m.p.get(), Ctx())) Fail("BN_mod_inverse");
    if (!BN_to_montgomery(den.get(), den.get(), m.mont, Ctx())) Fail("BN_to_montgomery");
    MulInto(m_impl->numerator.get(), den.get());
    m_impl->denominator = One();
    const auto bytes = ToLe(m_impl->numerator.get());
    return Sha256(bytes);
}

std::array<uint8_t, 2 * MuHash3072::BYTE_SIZE> MuHash3072::Serialize() const
{
    std::array<uint8_t, 2 * BYTE_SIZE> out{};
    const auto num = ToLe(m_impl->numerator.get());
    const auto den = ToLe(m_impl->denominator.get());
    std::copy(num.begin(), num.end(), out.begin());
    std::copy(den.begin(), den.end(), out.begin() + BYTE_SIZE);
    return out;
}

MuHash3072 MuHash3072::Deserialize(std::span<const uint8_t, 2 * BYTE_SIZE> bytes)
{
    MuHash3072 out;
    out.m_impl->numerator = FromLe(bytes.first<BYTE_SIZE>());
    out.m_impl->denominator = FromLe(bytes.last<BYTE_SIZE>());
    return out;
}

} // namespace orrery::crypto
