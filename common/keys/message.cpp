// Bitcoin's signed messages; see message.h.
#include <common/keys/message.h>

#include <common/keys/key_io.h>
#include <common/keys/secp_context.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <string>

namespace orrery {
namespace {

//! Bitcoin's CompactSize of a length.
void WriteLength(crypto::Sha256Hasher& hasher, uint64_t n)
{
    uint8_t bytes[9];
    size_t size = 0;
    if (n < 253) {
        bytes[size++] = static_cast<uint8_t>(n);
    } else {
        const int width = n <= 0xffff ? 2 : n <= 0xffffffff ? 4 : 8;
        bytes[size++] = width == 2 ? 253 : width == 4 ? 254 : 255;
        for (int i = 0; i < width; ++i) bytes[size++] = static_cast<uint8_t>(n >> (8 * i));
    }
    hasher.Write(std::span<const uint8_t>(bytes, size));
}

} // namespace

crypto::Hash32 MessageHash(std::string_view message)
{
    crypto::Sha256Hasher hasher;
    WriteLength(hasher, MESSAGE_MAGIC.size());
    hasher.Write(MESSAGE_MAGIC);
    WriteLength(hasher, message.size());
    hasher.Write(message);
    return hasher.FinalizeDouble();
}

std::optional<CompactSignature> SignCompact(const Key& key, const crypto::Hash32& hash)
{
    if (!key.IsValid()) return std::nullopt;
    const secp256k1_context* ctx = detail::Secp256k1Context();
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash.data(), key.Secret().data(), secp256k1_nonce_function_rfc6979,
                                          nullptr)) {
        return std::nullopt;
    }
    CompactSignature out;
    int recid = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out.data() + 1, &recid, &sig);
    out[0] = static_cast<uint8_t>(27 + recid + (key.IsCompressed() ? 4 : 0));
    // As bitcoind: the signature must give back the key before it leaves (a fault in signing must not leak it).
    std::optional<PubKey> recovered = RecoverCompact(hash, out);
    if (!recovered || !(*recovered == key.GetPubKey())) return std::nullopt;
    return out;
}

std::optional<PubKey> RecoverCompact(const crypto::Hash32& hash, std::span<const uint8_t> signature)
{
    if (signature.size() != COMPACT_SIGNATURE_SIZE) return std::nullopt;
    const int recid = (signature[0] - 27) & 3;
    const bool compressed = ((signature[0] - 27) & 4) != 0;
    const secp256k1_context* ctx = detail::Secp256k1Context();
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, signature.data() + 1, recid)) {
        return std::nullopt;
    }
    secp256k1_pubkey pubkey;
    if (!secp256k1_ecdsa_recover(ctx, &pubkey, &sig, hash.data())) return std::nullopt;
    uint8_t bytes[PubKey::UNCOMPRESSED_SIZE];
    size_t size = sizeof(bytes);
    secp256k1_ec_pubkey_serialize(ctx, bytes, &size, &pubkey,
                                  compressed ? SECP256K1_EC_COMPRESSED : SECP256K1_EC_UNCOMPRESSED);
    return PubKey::Parse(std::span<const uint8_t>(bytes, size));
}

std::optional<std::array<uint8_t, 20>> P2pkhKeyHash(std::span<const uint8_t> script)
{
    // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
    if (script.size() != 25 || script[0] != 0x76 || script[1] != 0xa9 || script[2] != 0x14 || script[23] != 0x88 ||
        script[24] != 0xac) {
        return std::nullopt;
    }
    std::array<uint8_t, 20> hash;
    std::copy(script.begin() + 3, script.begin() + 23, hash.begin());
    return hash;
}

MessageVerificationResult MessageVerify(std::string_view address, std::optional<std::span<const uint8_t>> signature,
                                        std::string_view message, Network network)
{
    std::optional<std::vector<uint8_t>> script = DecodeAddress(address, network);
    if (!script) return MessageVerificationResult::ERR_INVALID_ADDRESS;
    std::optional<std::array<uint8_t, 20>> key_hash = P2pkhKeyHash(*script);
    if (!key_hash) return MessageVerificationResult::ERR_ADDRESS_NO_KEY;
    if (!signature) return MessageVerificationResult::ERR_MALFORMED_SIGNATURE;
    std::optional<PubKey> pubkey = RecoverCompact(MessageHash(message), *signature);
    if (!pubkey) return MessageVerificationResult::ERR_PUBKEY_NOT_RECOVERED;
    const crypto::Hash20 hash = pubkey->GetId();
    if (!std::equal(hash.begin(), hash.end(), key_hash->begin())) return MessageVerificationResult::ERR_NOT_SIGNED;
    return MessageVerificationResult::OK;
}

} // namespace orrery
