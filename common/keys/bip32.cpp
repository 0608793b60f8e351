// See bip32.h.
#include "common/keys/bip32.h"

#include "common/crypto/hash.h"
#include "common/keys/base58.h"
#include "common/keys/cleanse.h"
#include "common/keys/secp_context.h"

#include <secp256k1.h>

#include <algorithm>
#include <string_view>

namespace orrery {

namespace {

constexpr size_t EXTKEY_SIZE = 78;
constexpr size_t CHECKSUM_SIZE = 4;
constexpr std::string_view SEED_KEY = "Bitcoin seed";

void WriteBE32(uint8_t* out, uint32_t v)
{
    out[0] = static_cast<uint8_t>(v >> 24);
    out[1] = static_cast<uint8_t>(v >> 16);
    out[2] = static_cast<uint8_t>(v >> 8);
    out[3] = static_cast<uint8_t>(v);
}

uint32_t ReadBE32(const uint8_t* in)
{
    return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

Fingerprint FingerprintOf(const PubKey& pubkey)
{
    const crypto::Hash20 id = pubkey.GetId();
    Fingerprint fp;
    std::copy(id.begin(), id.begin() + fp.size(), fp.begin());
    return fp;
}

//! HMAC-SHA512 output, wiped on scope exit (its left half becomes a secret).
struct ScopedHmac {
    std::array<uint8_t, 64> bytes;
    ~ScopedHmac() { MemoryCleanse(bytes.data(), bytes.size()); }
};

//! The 78-byte serialization shared by xprv and xpub: key_data is 33 bytes.
std::array<uint8_t, EXTKEY_SIZE> Serialize(uint32_t version, uint8_t depth, const Fingerprint& parent,
                                           uint32_t child, const ChainCode& chain_code,
                                           std::span<const uint8_t> key_data)
{
    std::array<uint8_t, EXTKEY_SIZE> out{};
    WriteBE32(out.data(), version);
    out[4] = depth;
    std::copy(parent.begin(), parent.end(), out.begin() + 5);
    WriteBE32(out.data() + 9, child);
    std::copy(chain_code.begin(), chain_code.end(), out.begin() + 13);
    std::copy(key_data.begin(), key_data.end(), out.begin() + 45);
    return out;
}

} // namespace

// ---------------------------------------------------------------- derivation

Fingerprint ExtPubKey::GetFingerprint() const
{
    return FingerprintOf(pubkey);
}

std::optional<ExtPubKey> ExtPubKey::Derive(uint32_t index) const
{
    if ((index & BIP32_HARDENED) != 0 || depth == 255 || !pubkey.IsValid()) return std::nullopt;
    const secp256k1_context* ctx = detail::Secp256k1Context();

    std::array<uint8_t, PubKey::COMPRESSED_SIZE + 4> data;
    const std::span<const uint8_t> ser = pubkey.bytes();
    std::copy(ser.begin(), ser.end(), data.begin());
    WriteBE32(data.data() + PubKey::COMPRESSED_SIZE, index);
    const ScopedHmac hmac{crypto::HmacSha512(chain_code, data)};

    secp256k1_pubkey point;
    if (!secp256k1_ec_pubkey_parse(ctx, &point, ser.data(), ser.size())) return std::nullopt;
    // Fails if IL >= n or the sum is the point at infinity.
    if (!secp256k1_ec_pubkey_tweak_add(ctx, &point, hmac.bytes.data())) return std::nullopt;
    std::array<uint8_t, PubKey::COMPRESSED_SIZE> child_ser;
    size_t len = child_ser.size();
    secp256k1_ec_pubkey_serialize(ctx, child_ser.data(), &len, &point, SECP256K1_EC_COMPRESSED);

    ExtPubKey child;
    child.depth = static_cast<uint8_t>(depth + 1);
    child.parent_fingerprint = GetFingerprint();
    child.child_number = index;
    std::copy(hmac.bytes.begin() + 32, hmac.bytes.end(), child.chain_code.begin());
    child.pubkey = *PubKey::Parse(child_ser);
    return child;
}

ExtKey::~ExtKey()
{
    MemoryCleanse(chain_code.data(), chain_code.size());
}

std::optional<ExtKey> ExtKey::FromSeed(std::span<const uint8_t> seed)
{
    if (seed.size() < 16 || seed.size() > 64) return std::nullopt;
    const auto* key_bytes = reinterpret_cast<const uint8_t*>(SEED_KEY.data());
    const ScopedHmac hmac{crypto::HmacSha512(std::span<const uint8_t>(key_bytes, SEED_KEY.size()), seed)};
    std::optional<Key> key = Key::FromSecret(std::span<const uint8_t>(hmac.bytes.data(), 32), true);
    if (!key) return std::nullopt;
    ExtKey master;
    master.key = *key;
    std::copy(hmac.bytes.begin() + 32, hmac.bytes.end(), master.chain_code.begin());
    return master;
}

std::optional<ExtKey> ExtKey::Derive(uint32_t index) const
{
    if (depth == 255 || !key.IsValid()) return std::nullopt;
    const secp256k1_context* ctx = detail::Secp256k1Context();

    std::array<uint8_t, PubKey::COMPRESSED_SIZE + 4> data{};
    if ((index & BIP32_HARDENED) != 0) {
        data[0] = 0;
        std::copy(key.Secret().begin(), key.Secret().end(), data.begin() + 1);
    } else {
        const PubKey pub = key.GetPubKey();
        std::copy(pub.bytes().begin(), pub.bytes().end(), data.begin());
    }
    WriteBE32(data.data() + PubKey::COMPRESSED_SIZE, index);
    const ScopedHmac hmac{crypto::HmacSha512(chain_code, data)};
    MemoryCleanse(data.data(), data.size());

    std::array<uint8_t, Key::SIZE> secret = key.Secret();
    // Fails if IL >= n or the sum is zero: BIP32's invalid-child case.
    const bool ok = secp256k1_ec_seckey_tweak_add(ctx, secret.data(), hmac.bytes.data()) == 1;
    std::optional<Key> child_key = ok ? Key::FromSecret(secret, true) : std::nullopt;
    MemoryCleanse(secret.data(), secret.size());
    if (!child_key) return std::nullopt;

    ExtKey child;
    child.depth = static_cast<uint8_t>(depth + 1);
    child.parent_fingerprint = GetFingerprint();
    child.child_number = index;
    std::copy(hmac.bytes.begin() + 32, hmac.bytes.end(), child.chain_code.begin());
    child.key = *child_key;
    return child;
}

std::optional<ExtKey> ExtKey::DerivePath(std::span<const uint32_t> path) const
{
    std::optional<ExtKey> current = *this;
    for (const uint32_t index : path) {
        current = current->Derive(index);
        if (!current) return std::nullopt;
    }
    return current;
}

ExtPubKey ExtKey::Neuter() const
{
    ExtPubKey pub;
    pub.depth = depth;
    pub.parent_fingerprint = parent_fingerprint;
    pub.child_number = child_number;
    pub.chain_code = chain_code;
    pub.pubkey = key.GetPubKey().Compressed();
    return pub;
}

Fingerprint ExtKey::GetFingerprint() const
{
    return FingerprintOf(key.GetPubKey().Compressed());
}

// ---------------------------------------------------------------- serialization

std::string_view ExtKeyErrorString(ExtKeyError error) noexcept
{
    switch (error) {
    case ExtKeyError::NONE: return "ok";
    case ExtKeyError::BAD_BASE58: return "not base58 or too long";
    case ExtKeyError::BAD_CHECKSUM: return "invalid checksum";
    case ExtKeyError::BAD_LENGTH: return "payload is not 78 bytes";
    case ExtKeyError::UNKNOWN_VERSION: return "unknown extended key version";
    case ExtKeyError::VERSION_MISMATCH: return "version does not match key type";
    case ExtKeyError::ZERO_DEPTH_PARENT: return "zero depth with non-zero parent fingerprint";
    case ExtKeyError::ZERO_DEPTH_INDEX: return "zero depth with non-zero index";
    case ExtKeyError::BAD_PUBKEY_PREFIX: return "invalid public key prefix";
    case ExtKeyError::BAD_PRIVKEY_PREFIX: return "invalid private key prefix";
    case ExtKeyError::PUBKEY_NOT_ON_CURVE: return "public key not on the curve";
    case ExtKeyError::PRIVKEY_OUT_OF_RANGE: return "private key not in 1..n-1";
    }
    return "unknown error";
}

std::string EncodeExtKey(const ExtKey& key, Network network)
{
    std::array<uint8_t, 33> key_data{};
    std::copy(key.key.Secret().begin(), key.key.Secret().end(), key_data.begin() + 1);
    std::array<uint8_t, EXTKEY_SIZE> ser = Serialize(GetAddressParams(network).ext_secret_version, key.depth,
                                                     key.parent_fingerprint, key.child_number, key.chain_code,
                                                     key_data);
    std::string out = EncodeBase58Check(ser);
    MemoryCleanse(key_data.data(), key_data.size());
    MemoryCleanse(ser.data(), ser.size());
    return out;
}

std::string EncodeExtPubKey(const ExtPubKey& key, Network network)
{
    const std::array<uint8_t, EXTKEY_SIZE> ser =
        Serialize(GetAddressParams(network).ext_public_version, key.depth, key.parent_fingerprint,
                  key.child_number, key.chain_code, key.pubkey.bytes());
    return EncodeBase58Check(ser);
}

DecodedExtKey DecodeExtendedKey(std::string_view str)
{
    DecodedExtKey out;
    auto fail = [&out](ExtKeyError e) {
        out.error = e;
        return std::move(out);
    };

    std::optional<std::vector<uint8_t>> raw_opt = DecodeBase58(str, EXTKEY_SIZE + CHECKSUM_SIZE);
    if (!raw_opt) return fail(ExtKeyError::BAD_BASE58);
    const SecureBytes raw(std::move(*raw_opt));
    const std::vector<uint8_t>& data = raw.get();
    if (data.size() < CHECKSUM_SIZE) return fail(ExtKeyError::BAD_LENGTH);
    const size_t payload_size = data.size() - CHECKSUM_SIZE;
    const crypto::Hash32 check = crypto::Sha256d(std::span<const uint8_t>(data.data(), payload_size));
    if (!std::equal(check.begin(), check.begin() + CHECKSUM_SIZE, data.begin() + static_cast<std::ptrdiff_t>(payload_size))) {
        return fail(ExtKeyError::BAD_CHECKSUM);
    }
    if (payload_size != EXTKEY_SIZE) return fail(ExtKeyError::BAD_LENGTH);

    const uint32_t version = ReadBE32(data.data());
    const AddressParams& main = GetAddressParams(Network::MAIN);
    const AddressParams& test = GetAddressParams(Network::TESTNET3);
    if (version == main.ext_secret_version || version == main.ext_public_version) {
        out.network = Network::MAIN;
    } else if (version == test.ext_secret_version || version == test.ext_public_version) {
        out.network = Network::TESTNET3;
    } else {
        return fail(ExtKeyError::UNKNOWN_VERSION);
    }
    out.is_private = version == main.ext_secret_version || version == test.ext_secret_version;

    const uint8_t depth = data[4];
    Fingerprint parent;
    std::copy(data.begin() + 5, data.begin() + 9, parent.begin());
    const uint32_t child = ReadBE32(data.data() + 9);
    if (depth == 0 && parent != Fingerprint{}) return fail(ExtKeyError::ZERO_DEPTH_PARENT);
    if (depth == 0 && child != 0) return fail(ExtKeyError::ZERO_DEPTH_INDEX);

    const uint8_t prefix = data[45];
    const std::span<const uint8_t> key_data(data.data() + 45, 33);
    if (out.is_private) {
        if (prefix == 0x02 || prefix == 0x03) return fail(ExtKeyError::VERSION_MISMATCH);
        if (prefix != 0x00) return fail(ExtKeyError::BAD_PRIVKEY_PREFIX);
        std::optional<Key> key = Key::FromSecret(key_data.subspan(1), true);
        if (!key) return fail(ExtKeyError::PRIVKEY_OUT_OF_RANGE);
        out.priv.depth = depth;
        out.priv.parent_fingerprint = parent;
        out.priv.child_number = child;
        std::copy(data.begin() + 13, data.begin() + 45, out.priv.chain_code.begin());
        out.priv.key = *key;
        out.pub = out.priv.Neuter();
    } else {
        if (prefix == 0x00) return fail(ExtKeyError::VERSION_MISMATCH);
        if (prefix != 0x02 && prefix != 0x03) return fail(ExtKeyError::BAD_PUBKEY_PREFIX);
        std::optional<PubKey> pubkey = PubKey::Parse(key_data);
        if (!pubkey) return fail(ExtKeyError::PUBKEY_NOT_ON_CURVE);
        out.pub.depth = depth;
        out.pub.parent_fingerprint = parent;
        out.pub.child_number = child;
        std::copy(data.begin() + 13, data.begin() + 45, out.pub.chain_code.begin());
        out.pub.pubkey = *pubkey;
    }
    return out;
}

namespace {
//! Whether a decoded key's network family matches `network`'s.
bool SameVersionFamily(Network decoded, Network network)
{
    return GetAddressParams(decoded).ext_public_version == GetAddressParams(network).ext_public_version;
}
} // namespace

std::optional<ExtKey> DecodeExtKey(std::string_view str, Network network)
{
    DecodedExtKey dec = DecodeExtendedKey(str);
    if (dec.error != ExtKeyError::NONE || !dec.is_private || !SameVersionFamily(dec.network, network)) {
        return std::nullopt;
    }
    return dec.priv;
}

std::optional<ExtPubKey> DecodeExtPubKey(std::string_view str, Network network)
{
    DecodedExtKey dec = DecodeExtendedKey(str);
    if (dec.error != ExtKeyError::NONE || dec.is_private || !SameVersionFamily(dec.network, network)) {
        return std::nullopt;
    }
    return dec.pub;
}

// ---------------------------------------------------------------- paths

std::optional<std::vector<uint32_t>> ParseDerivationPath(std::string_view path)
{
    if (path.empty() || path[0] != 'm') return std::nullopt;
    std::vector<uint32_t> out;
    size_t pos = 1;
    while (pos < path.size()) {
        if (path[pos] != '/') return std::nullopt;
        ++pos;
        uint64_t value = 0;
        size_t digits = 0;
        while (pos < path.size() && path[pos] >= '0' && path[pos] <= '9') {
            value = value * 10 + static_cast<uint64_t>(path[pos] - '0');
            if (value >= BIP32_HARDENED) return std::nullopt;
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        uint32_t index = static_cast<uint32_t>(value);
        if (pos < path.size() && (path[pos] == 'h' || path[pos] == 'H' || path[pos] == '\'')) {
            index |= BIP32_HARDENED;
            ++pos;
        }
        out.push_back(index);
    }
    return out;
}

std::string FormatDerivationPath(std::span<const uint32_t> path)
{
    std::string out = "m";
    for (const uint32_t index : path) {
        out += '/';
        out += std::to_string(index & ~BIP32_HARDENED);
        if ((index & BIP32_HARDENED) != 0) out += 'h';
    }
    return out;
}

} // namespace orrery
