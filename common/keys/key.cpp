// See key.h.
#include "common/keys/key.h"

#include "common/keys/cleanse.h"
#include "common/keys/secp_context.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <cstdlib>
#include <random>

namespace orrery {

// ---------------------------------------------------------------- context

namespace detail {

namespace {
secp256k1_context* MakeContext()
{
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == nullptr) std::abort();
    // Blinding only protects against side channels; any seed is correct.
    std::array<uint8_t, 32> seed{};
    std::random_device rd;
    for (size_t i = 0; i < seed.size(); i += 4) {
        const uint32_t r = rd();
        for (size_t j = 0; j < 4; ++j) seed[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
    if (!secp256k1_context_randomize(ctx, seed.data())) std::abort();
    MemoryCleanse(seed.data(), seed.size());
    return ctx;
}
} // namespace

const secp256k1_context* Secp256k1Context()
{
    static secp256k1_context* const ctx = MakeContext();
    return ctx;
}

} // namespace detail

namespace {

using detail::Secp256k1Context;

//! A keypair whose secret half is wiped on scope exit.
struct ScopedKeypair {
    secp256k1_keypair kp;
    ~ScopedKeypair() { MemoryCleanse(&kp, sizeof(kp)); }
};

constexpr std::string_view TAPTWEAK_TAG = "TapTweak";

} // namespace

// ---------------------------------------------------------------- XOnlyPubKey

std::optional<XOnlyPubKey> XOnlyPubKey::Parse(std::span<const uint8_t> bytes)
{
    if (bytes.size() != SIZE) return std::nullopt;
    secp256k1_xonly_pubkey pk;
    if (!secp256k1_xonly_pubkey_parse(Secp256k1Context(), &pk, bytes.data())) return std::nullopt;
    std::array<uint8_t, SIZE> data;
    std::copy(bytes.begin(), bytes.end(), data.begin());
    return XOnlyPubKey(data);
}

bool XOnlyPubKey::VerifySchnorr(std::span<const uint8_t> msg, std::span<const uint8_t> sig) const
{
    if (sig.size() != 64) return false;
    secp256k1_xonly_pubkey pk;
    if (!secp256k1_xonly_pubkey_parse(Secp256k1Context(), &pk, m_data.data())) return false;
    return secp256k1_schnorrsig_verify(Secp256k1Context(), sig.data(), msg.data(), msg.size(), &pk) == 1;
}

crypto::Hash32 XOnlyPubKey::ComputeTapTweakHash(const std::optional<crypto::Hash32>& merkle_root) const
{
    crypto::Sha256Hasher hasher = crypto::TaggedHasher(TAPTWEAK_TAG);
    hasher.Write(m_data);
    if (merkle_root) hasher.Write(*merkle_root);
    return hasher.Finalize();
}

std::optional<std::pair<XOnlyPubKey, bool>> XOnlyPubKey::CreateTapTweak(
    const std::optional<crypto::Hash32>& merkle_root) const
{
    const secp256k1_context* ctx = Secp256k1Context();
    secp256k1_xonly_pubkey internal;
    if (!secp256k1_xonly_pubkey_parse(ctx, &internal, m_data.data())) return std::nullopt;
    const crypto::Hash32 tweak = ComputeTapTweakHash(merkle_root);
    secp256k1_pubkey output;
    if (!secp256k1_xonly_pubkey_tweak_add(ctx, &output, &internal, tweak.data())) return std::nullopt;
    secp256k1_xonly_pubkey output_xonly;
    int parity = 0;
    if (!secp256k1_xonly_pubkey_from_pubkey(ctx, &output_xonly, &parity, &output)) return std::nullopt;
    std::array<uint8_t, SIZE> data;
    secp256k1_xonly_pubkey_serialize(ctx, data.data(), &output_xonly);
    return std::make_pair(XOnlyPubKey(data), parity != 0);
}

// ---------------------------------------------------------------- PubKey

std::optional<PubKey> PubKey::Parse(std::span<const uint8_t> bytes)
{
    if (bytes.size() == COMPRESSED_SIZE) {
        if (bytes[0] != 0x02 && bytes[0] != 0x03) return std::nullopt;
    } else if (bytes.size() == UNCOMPRESSED_SIZE) {
        if (bytes[0] != 0x04) return std::nullopt;
    } else {
        return std::nullopt;
    }
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, bytes.data(), bytes.size())) return std::nullopt;
    PubKey out;
    std::copy(bytes.begin(), bytes.end(), out.m_data.begin());
    out.m_size = bytes.size();
    return out;
}

crypto::Hash20 PubKey::GetId() const
{
    return crypto::Hash160(bytes());
}

PubKey PubKey::Compressed() const
{
    secp256k1_pubkey pk;
    // A PubKey only exists if it parsed, so this cannot fail.
    if (!secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, m_data.data(), m_size)) std::abort();
    PubKey out;
    size_t len = COMPRESSED_SIZE;
    secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.m_data.data(), &len, &pk, SECP256K1_EC_COMPRESSED);
    out.m_size = len;
    return out;
}

XOnlyPubKey PubKey::GetXOnly() const
{
    std::array<uint8_t, XOnlyPubKey::SIZE> x;
    std::copy(m_data.begin() + 1, m_data.begin() + 1 + XOnlyPubKey::SIZE, x.begin());
    return *XOnlyPubKey::Parse(x); // the x of a valid point always parses
}

bool PubKey::VerifyEcdsa(const crypto::Hash32& hash, std::span<const uint8_t> der_sig) const
{
    const secp256k1_context* ctx = Secp256k1Context();
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_parse(ctx, &pk, m_data.data(), m_size)) return false;
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ecdsa_signature_parse_der(ctx, &sig, der_sig.data(), der_sig.size())) return false;
    return secp256k1_ecdsa_verify(ctx, &sig, hash.data(), &pk) == 1;
}

// ---------------------------------------------------------------- Key

Key::~Key()
{
    MemoryCleanse(m_secret.data(), m_secret.size());
}

std::optional<Key> Key::FromSecret(std::span<const uint8_t> secret, bool compressed)
{
    if (secret.size() != SIZE) return std::nullopt;
    if (!secp256k1_ec_seckey_verify(Secp256k1Context(), secret.data())) return std::nullopt;
    Key key;
    std::copy(secret.begin(), secret.end(), key.m_secret.begin());
    key.m_valid = true;
    key.m_compressed = compressed;
    return key;
}

PubKey Key::GetPubKey() const
{
    const secp256k1_context* ctx = Secp256k1Context();
    secp256k1_pubkey pk;
    if (!m_valid || !secp256k1_ec_pubkey_create(ctx, &pk, m_secret.data())) std::abort();
    std::array<uint8_t, PubKey::UNCOMPRESSED_SIZE> buf;
    size_t len = buf.size();
    secp256k1_ec_pubkey_serialize(ctx, buf.data(), &len, &pk,
                                  m_compressed ? SECP256K1_EC_COMPRESSED : SECP256K1_EC_UNCOMPRESSED);
    return *PubKey::Parse(std::span<const uint8_t>(buf.data(), len));
}

XOnlyPubKey Key::GetXOnlyPubKey() const
{
    return GetPubKey().GetXOnly();
}

std::vector<uint8_t> Key::SignEcdsa(const crypto::Hash32& hash) const
{
    if (!m_valid) return {};
    const secp256k1_context* ctx = Secp256k1Context();
    secp256k1_ecdsa_signature sig;
    // A null nonce function selects RFC6979 (HMAC-SHA256 DRBG); libsecp256k1
    // always emits the low-S form.
    if (!secp256k1_ecdsa_sign(ctx, &sig, hash.data(), m_secret.data(), nullptr, nullptr)) return {};
    std::vector<uint8_t> der(72);
    size_t len = der.size();
    if (!secp256k1_ecdsa_signature_serialize_der(ctx, der.data(), &len, &sig)) return {};
    der.resize(len);
    return der;
}

std::optional<SchnorrSig> Key::SignSchnorr(std::span<const uint8_t> msg, const crypto::Hash32& aux_rand) const
{
    if (!m_valid) return std::nullopt;
    const secp256k1_context* ctx = Secp256k1Context();
    ScopedKeypair keypair;
    if (!secp256k1_keypair_create(ctx, &keypair.kp, m_secret.data())) return std::nullopt;
    crypto::Hash32 aux = aux_rand; // the library takes a non-const pointer
    secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    params.ndata = aux.data();
    SchnorrSig sig;
    if (!secp256k1_schnorrsig_sign_custom(ctx, sig.data(), msg.data(), msg.size(), &keypair.kp, &params)) {
        return std::nullopt;
    }
    // BIP340 recommends verifying: it catches faults that could leak the key.
    secp256k1_xonly_pubkey pk;
    if (!secp256k1_keypair_xonly_pub(ctx, &pk, nullptr, &keypair.kp)) return std::nullopt;
    if (!secp256k1_schnorrsig_verify(ctx, sig.data(), msg.data(), msg.size(), &pk)) return std::nullopt;
    return sig;
}

std::optional<Key> Key::TapTweaked(const std::optional<crypto::Hash32>& merkle_root) const
{
    if (!m_valid) return std::nullopt;
    const secp256k1_context* ctx = Secp256k1Context();
    ScopedKeypair keypair;
    if (!secp256k1_keypair_create(ctx, &keypair.kp, m_secret.data())) return std::nullopt;
    const crypto::Hash32 tweak = GetXOnlyPubKey().ComputeTapTweakHash(merkle_root);
    // keypair_xonly_tweak_add negates the secret first when P has odd y, as BIP341 requires.
    if (!secp256k1_keypair_xonly_tweak_add(ctx, &keypair.kp, tweak.data())) return std::nullopt;
    std::array<uint8_t, SIZE> secret;
    if (!secp256k1_keypair_sec(ctx, secret.data(), &keypair.kp)) return std::nullopt;
    std::optional<Key> out = FromSecret(secret, true);
    MemoryCleanse(secret.data(), secret.size());
    return out;
}

std::optional<SchnorrSig> Key::SignTaprootKeyPath(const crypto::Hash32& sighash,
                                                  const std::optional<crypto::Hash32>& merkle_root,
                                                  const crypto::Hash32& aux_rand) const
{
    const std::optional<Key> tweaked = TapTweaked(merkle_root);
    if (!tweaked) return std::nullopt;
    return tweaked->SignSchnorr(sighash, aux_rand);
}

bool Key::operator==(const Key& other) const noexcept
{
    uint8_t diff = 0;
    for (size_t i = 0; i < SIZE; ++i) diff |= static_cast<uint8_t>(m_secret[i] ^ other.m_secret[i]);
    return diff == 0 && m_valid == other.m_valid && m_compressed == other.m_compressed;
}

} // namespace orrery
