// The wallet's secret box; see crypter.h.
#include <services/wallet/crypter.h>

#include <fmt/format.h>
#include <sodium.h>

#include <new>
#include <stdexcept>

namespace orrery::wallet {
namespace {

constexpr std::string_view MASTER_KEY_CONTEXT{"orrery-wallet master key"};

void EnsureSodium()
{
    // sodium_init is idempotent and thread-safe; it picks the fastest implementations once.
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
}

} // namespace

static_assert(SecretKey::SIZE == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

KdfParams NewKdfParams()
{
    EnsureSodium();
    KdfParams params;
    params.salt.resize(crypto_pwhash_SALTBYTES);
    randombytes_buf(params.salt.data(), params.salt.size());
    return params;
}

SecretKey::SecretKey()
{
    EnsureSodium();
    m_key = static_cast<uint8_t*>(sodium_malloc(SIZE));
    if (!m_key) throw std::bad_alloc();
}

SecretKey::~SecretKey()
{
    sodium_free(m_key); // wipes before it frees
}

std::unique_ptr<SecretKey> SecretKey::Random()
{
    auto key = std::make_unique<SecretKey>();
    crypto_aead_xchacha20poly1305_ietf_keygen(key->data());
    return key;
}

std::unique_ptr<SecretKey> DeriveKey(std::string_view passphrase, const KdfParams& params)
{
    EnsureSodium();
    if (params.kdf != KDF_ARGON2ID) throw std::runtime_error(fmt::format("Unknown key derivation '{}'", params.kdf));
    if (params.salt.size() != crypto_pwhash_SALTBYTES || params.opslimit < crypto_pwhash_OPSLIMIT_MIN ||
        params.opslimit > crypto_pwhash_OPSLIMIT_MAX || params.memlimit < crypto_pwhash_MEMLIMIT_MIN ||
        params.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
        throw std::runtime_error("The wallet's key derivation parameters are out of range");
    }
    auto key = std::make_unique<SecretKey>();
    if (crypto_pwhash(key->data(), SecretKey::SIZE, passphrase.data(), passphrase.size(), params.salt.data(),
                      params.opslimit, static_cast<size_t>(params.memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("Not enough memory to derive the wallet's key from its passphrase");
    }
    return key;
}

std::vector<uint8_t> Seal(const SecretKey& key, std::span<const uint8_t> plaintext, std::string_view context)
{
    constexpr size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    std::vector<uint8_t> out(nonce_size + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    // 24-byte random nonces: no counter to keep, and no realistic chance of a repeat under one key.
    randombytes_buf(out.data(), nonce_size);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + nonce_size, &written, plaintext.data(), plaintext.size(),
                                               reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                                               nullptr, out.data(), key.data());
    out.resize(nonce_size + static_cast<size_t>(written));
    return out;
}

std::vector<uint8_t> Seal(const SecretKey& key, std::string_view plaintext, std::string_view context)
{
    return Seal(key, std::span(reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()), context);
}

std::optional<SecureBytes> Open(const SecretKey& key, std::span<const uint8_t> sealed, std::string_view context)
{
    constexpr size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    constexpr size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (sealed.size() < nonce_size + tag_size) return std::nullopt;
    SecureBytes plain;
    plain.get().resize(sealed.size() - nonce_size - tag_size); // sized once: no reallocation leaves a copy
    unsigned long long written = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain.get().data(), &written, nullptr, sealed.data() + nonce_size, sealed.size() - nonce_size,
            reinterpret_cast<const unsigned char*>(context.data()), context.size(), sealed.data(), key.data()) != 0) {
        return std::nullopt;
    }
    return std::optional<SecureBytes>(std::in_place, std::move(plain.get()));
}

std::vector<uint8_t> WrapMasterKey(const SecretKey& master, std::string_view passphrase, const KdfParams& params)
{
    auto wrapping = DeriveKey(passphrase, params);
    return Seal(*wrapping, std::span<const uint8_t>(master.data(), SecretKey::SIZE), MASTER_KEY_CONTEXT);
}

std::unique_ptr<SecretKey> UnwrapMasterKey(std::span<const uint8_t> wrapped, std::string_view passphrase,
                                           const KdfParams& params)
{
    auto wrapping = DeriveKey(passphrase, params);
    std::optional<SecureBytes> plain = Open(*wrapping, wrapped, MASTER_KEY_CONTEXT);
    if (!plain || plain->get().size() != SecretKey::SIZE) return nullptr;
    auto master = std::make_unique<SecretKey>();
    std::copy(plain->get().begin(), plain->get().end(), master->data());
    return master;
}

} // namespace orrery::wallet
