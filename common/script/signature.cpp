// libsecp256k1 glue and the signature/public-key encoding rules.
#include <common/script/signature.h>

#include <common/crypto/hash.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <cstring>

namespace orrery {

namespace {

// Verification needs no precomputation or randomisation since libsecp256k1
// 0.2, so the library's static context is enough and is safe to share.
const secp256k1_context* Ctx()
{
    return secp256k1_context_static;
}

// ---------------------------------------------------------------------------
// Lax DER parsing
// ---------------------------------------------------------------------------
// Signatures in the chain before BIP66 only had to satisfy OpenSSL's
// permissive parser. This accepts what that parser accepted: arbitrary
// length-of-length bytes, leading zero padding, trailing garbage after S.
// Values too large for the curve order are turned into an invalid (zero)
// signature rather than a parse failure, as Core does.

bool ReadDerLength(std::span<const uint8_t> in, size_t& pos, size_t& length)
{
    if (pos == in.size()) return false;
    size_t lenbyte = in[pos++];
    if ((lenbyte & 0x80) == 0) {
        length = lenbyte;
        return true;
    }
    lenbyte -= 0x80;
    if (lenbyte > in.size() - pos) return false;
    while (lenbyte > 0 && in[pos] == 0) {
        ++pos;
        --lenbyte;
    }
    if (lenbyte >= sizeof(uint32_t)) return false;
    length = 0;
    while (lenbyte > 0) {
        length = (length << 8) | in[pos];
        ++pos;
        --lenbyte;
    }
    return true;
}

// Reads "02 <len> <bytes>" and returns the integer's bytes.
bool ReadDerInteger(std::span<const uint8_t> in, size_t& pos, std::span<const uint8_t>& value)
{
    if (pos == in.size() || in[pos] != 0x02) return false;
    ++pos;
    size_t length = 0;
    if (!ReadDerLength(in, pos, length)) return false;
    if (length > in.size() - pos) return false;
    value = in.subspan(pos, length);
    pos += length;
    return true;
}

bool ParseDerLax(std::span<const uint8_t> in, secp256k1_ecdsa_signature& sig)
{
    uint8_t compact[64] = {0};
    // Start from a well-formed (but unverifiable) all-zero signature.
    (void)secp256k1_ecdsa_signature_parse_compact(Ctx(), &sig, compact);

    size_t pos = 0;
    if (pos == in.size() || in[pos] != 0x30) return false;
    ++pos;
    // The sequence length is read but not checked against the data.
    if (pos == in.size()) return false;
    size_t lenbyte = in[pos++];
    if (lenbyte & 0x80) {
        lenbyte -= 0x80;
        if (lenbyte > in.size() - pos) return false;
        pos += lenbyte;
    }
    std::span<const uint8_t> r;
    std::span<const uint8_t> s;
    if (!ReadDerInteger(in, pos, r)) return false;
    if (!ReadDerInteger(in, pos, s)) return false;

    bool overflow = false;
    while (!r.empty() && r.front() == 0) r = r.subspan(1);
    while (!s.empty() && s.front() == 0) s = s.subspan(1);
    if (r.size() > 32 || s.size() > 32) {
        overflow = true;
    } else {
        if (!r.empty()) std::memcpy(compact + 32 - r.size(), r.data(), r.size());
        if (!s.empty()) std::memcpy(compact + 64 - s.size(), s.data(), s.size());
        overflow = !secp256k1_ecdsa_signature_parse_compact(Ctx(), &sig, compact);
    }
    if (overflow) {
        std::memset(compact, 0, sizeof(compact));
        (void)secp256k1_ecdsa_signature_parse_compact(Ctx(), &sig, compact);
    }
    return true;
}

// Core's CPubKey::GetLen: the length implied by the header byte.
size_t PubKeyLength(uint8_t header)
{
    if (header == 2 || header == 3) return 33;
    if (header == 4 || header == 6 || header == 7) return 65;
    return 0;
}

} // namespace

// ---------------------------------------------------------------------------
// Encoding rules
// ---------------------------------------------------------------------------

bool IsValidSignatureEncoding(std::span<const uint8_t> sig)
{
    // 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S] [sighash]
    if (sig.size() < 9 || sig.size() > 73) return false;
    if (sig[0] != 0x30) return false;
    if (sig[1] != sig.size() - 3) return false;
    const size_t len_r = sig[3];
    if (5 + len_r >= sig.size()) return false;
    const size_t len_s = sig[5 + len_r];
    if (len_r + len_s + 7 != sig.size()) return false;
    if (sig[2] != 0x02) return false;
    if (len_r == 0) return false;
    if (sig[4] & 0x80) return false;                                   // R negative
    if (len_r > 1 && sig[4] == 0x00 && !(sig[5] & 0x80)) return false; // R padded
    if (sig[len_r + 4] != 0x02) return false;
    if (len_s == 0) return false;
    if (sig[len_r + 6] & 0x80) return false;
    if (len_s > 1 && sig[len_r + 6] == 0x00 && !(sig[len_r + 7] & 0x80)) return false;
    return true;
}

bool IsDefinedHashtypeSignature(std::span<const uint8_t> sig)
{
    if (sig.empty()) return false;
    const uint8_t hash_type = sig.back() & static_cast<uint8_t>(~0x80);
    return hash_type >= 1 && hash_type <= 3;
}

bool IsLowS(std::span<const uint8_t> der)
{
    secp256k1_ecdsa_signature sig;
    if (!ParseDerLax(der, sig)) return false;
    // normalize returns 1 when the input had a high S.
    return !secp256k1_ecdsa_signature_normalize(Ctx(), nullptr, &sig);
}

bool IsCompressedOrUncompressedPubKey(std::span<const uint8_t> pubkey)
{
    if (pubkey.size() < 33) return false;
    if (pubkey[0] == 0x04) return pubkey.size() == 65;
    if (pubkey[0] == 0x02 || pubkey[0] == 0x03) return pubkey.size() == 33;
    return false;
}

bool IsCompressedPubKey(std::span<const uint8_t> pubkey)
{
    return pubkey.size() == 33 && (pubkey[0] == 0x02 || pubkey[0] == 0x03);
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

bool VerifyEcdsa(std::span<const uint8_t> pubkey, std::span<const uint8_t> der, const Hash256Bytes& hash)
{
    if (pubkey.empty() || PubKeyLength(pubkey[0]) != pubkey.size()) return false;
    secp256k1_pubkey key;
    if (!secp256k1_ec_pubkey_parse(Ctx(), &key, pubkey.data(), pubkey.size())) return false;
    secp256k1_ecdsa_signature sig;
    if (!ParseDerLax(der, sig)) return false;
    // libsecp256k1 only accepts low-S signatures; consensus accepts both.
    (void)secp256k1_ecdsa_signature_normalize(Ctx(), &sig, &sig);
    return secp256k1_ecdsa_verify(Ctx(), &sig, hash.data(), &key) == 1;
}

bool VerifySchnorr(std::span<const uint8_t> xonly_pubkey, std::span<const uint8_t> sig64, const Hash256Bytes& msg)
{
    if (xonly_pubkey.size() != 32 || sig64.size() != 64) return false;
    secp256k1_xonly_pubkey key;
    if (!secp256k1_xonly_pubkey_parse(Ctx(), &key, xonly_pubkey.data())) return false;
    return secp256k1_schnorrsig_verify(Ctx(), sig64.data(), msg.data(), msg.size(), &key) == 1;
}

Hash256Bytes ComputeTapTweakHash(std::span<const uint8_t> internal, const std::optional<Hash256Bytes>& merkle_root)
{
    auto hasher = crypto::TaggedHasher("TapTweak");
    hasher.Write(internal);
    if (merkle_root) hasher.Write(*merkle_root);
    return hasher.Finalize();
}

bool CheckTapTweak(std::span<const uint8_t> output, std::span<const uint8_t> internal,
                   const std::optional<Hash256Bytes>& merkle_root, bool parity)
{
    if (output.size() != 32 || internal.size() != 32) return false;
    secp256k1_xonly_pubkey internal_key;
    if (!secp256k1_xonly_pubkey_parse(Ctx(), &internal_key, internal.data())) return false;
    const Hash256Bytes tweak = ComputeTapTweakHash(internal, merkle_root);
    return secp256k1_xonly_pubkey_tweak_add_check(Ctx(), output.data(), parity ? 1 : 0, &internal_key,
                                                  tweak.data()) == 1;
}

std::optional<TweakedKey> TweakInternalKey(std::span<const uint8_t> internal,
                                           const std::optional<Hash256Bytes>& merkle_root)
{
    if (internal.size() != 32) return std::nullopt;
    secp256k1_xonly_pubkey internal_key;
    if (!secp256k1_xonly_pubkey_parse(Ctx(), &internal_key, internal.data())) return std::nullopt;
    const Hash256Bytes tweak = ComputeTapTweakHash(internal, merkle_root);
    secp256k1_pubkey tweaked;
    if (!secp256k1_xonly_pubkey_tweak_add(Ctx(), &tweaked, &internal_key, tweak.data())) return std::nullopt;
    secp256k1_xonly_pubkey tweaked_xonly;
    int parity = 0;
    if (!secp256k1_xonly_pubkey_from_pubkey(Ctx(), &tweaked_xonly, &parity, &tweaked)) return std::nullopt;
    TweakedKey out{};
    if (!secp256k1_xonly_pubkey_serialize(Ctx(), out.xonly.data(), &tweaked_xonly)) return std::nullopt;
    out.parity = parity != 0;
    return out;
}

} // namespace orrery
