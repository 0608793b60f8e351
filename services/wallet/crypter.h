// The wallet's secret box: Argon2id turns a passphrase into a key that wraps
// the wallet's random master key, and the master key seals each private
// descriptor and the seed with XChaCha20-Poly1305 (libsodium). Keys live in
// sodium_malloc'd memory (guard pages, locked, wiped when freed). See
// doc/wallet.md, "Encryption", for the design and the choice of primitives.
#ifndef ORRERY_SERVICES_WALLET_CRYPTER_H
#define ORRERY_SERVICES_WALLET_CRYPTER_H

#include <common/keys/cleanse.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::wallet {

//! The key derivation function's name as stored; another name (a future KDF) is refused on load.
inline constexpr std::string_view KDF_ARGON2ID{"argon2id13"};
//! Argon2id work for a new passphrase: 3 passes over 64 MiB (about 0.2 s here). Stored with the wallet, so a later
//! version can raise them at the next walletpassphrasechange without breaking older files.
inline constexpr uint64_t DEFAULT_KDF_OPSLIMIT{3};
inline constexpr uint64_t DEFAULT_KDF_MEMLIMIT{64ULL << 20};

//! How a passphrase becomes the key-encryption key.
struct KdfParams {
    std::string kdf{KDF_ARGON2ID};
    uint64_t opslimit{DEFAULT_KDF_OPSLIMIT};
    uint64_t memlimit{DEFAULT_KDF_MEMLIMIT};
    std::vector<uint8_t> salt; //!< crypto_pwhash_SALTBYTES
};

//! Fresh parameters: the defaults with a random salt.
KdfParams NewKdfParams();

//! A 32-byte symmetric key in sodium_malloc'd memory, wiped when it goes. Not copyable.
class SecretKey
{
public:
    static constexpr size_t SIZE{32};
    //! Throws std::bad_alloc when sodium_malloc fails.
    SecretKey();
    ~SecretKey();
    SecretKey(const SecretKey&) = delete;
    SecretKey& operator=(const SecretKey&) = delete;

    //! A key from the kernel's random source (the wallet's master key).
    static std::unique_ptr<SecretKey> Random();
    uint8_t* data() { return m_key; }
    const uint8_t* data() const { return m_key; }

private:
    uint8_t* m_key;
};

//! Argon2id of `passphrase` with `params`. Throws std::runtime_error on an unknown KDF, bad parameters or when the
//! memory is not available.
std::unique_ptr<SecretKey> DeriveKey(std::string_view passphrase, const KdfParams& params);

//! nonce (24 bytes) || XChaCha20-Poly1305(`plaintext`) with `context` as associated data: a sealed value only opens
//! under the same key for the same context (a descriptor's ciphertext cannot be moved to another row).
std::vector<uint8_t> Seal(const SecretKey& key, std::span<const uint8_t> plaintext, std::string_view context);
std::vector<uint8_t> Seal(const SecretKey& key, std::string_view plaintext, std::string_view context);
//! The plaintext of Seal, or nullopt when the key or context is wrong or the bytes were altered.
std::optional<SecureBytes> Open(const SecretKey& key, std::span<const uint8_t> sealed, std::string_view context);

//! The master key sealed under the key of `passphrase`.
std::vector<uint8_t> WrapMasterKey(const SecretKey& master, std::string_view passphrase, const KdfParams& params);
//! The master key of WrapMasterKey's bytes, or nullptr when `passphrase` is not the one it was wrapped with.
std::unique_ptr<SecretKey> UnwrapMasterKey(std::span<const uint8_t> wrapped, std::string_view passphrase,
                                           const KdfParams& params);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_CRYPTER_H
