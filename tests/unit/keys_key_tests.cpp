// secp256k1 keys: BIP340 vectors (sign and verify), ECDSA properties and
// RFC6979 known answers, the BIP341 taproot tweak, and secret wiping.
#include "test_vectors.h"
#include "common/crypto/hash.h"
#include "common/keys/cleanse.h"
#include "common/keys/key.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

using namespace orrery;
using orrery::test::ParseHex;
using orrery::test::ReadVectorFile;

namespace {

template <size_t N>
std::array<uint8_t, N> ParseHexArray(std::string_view hex)
{
    const std::vector<uint8_t> v = ParseHex(hex);
    REQUIRE(v.size() == N);
    std::array<uint8_t, N> out;
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

std::vector<std::string> SplitCsvLine(const std::string& line)
{
    std::vector<std::string> fields;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    return fields;
}

crypto::Hash32 Sha256Of(std::string_view text)
{
    return crypto::Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

//! (r, s) of a strict DER signature as 64 bytes; a test-side parser so the
//! library's encoder is checked against an independent reading.
std::array<uint8_t, 64> CompactFromDer(const std::vector<uint8_t>& der)
{
    REQUIRE(der.size() >= 8);
    REQUIRE(der[0] == 0x30);
    REQUIRE(der[1] == der.size() - 2);
    std::array<uint8_t, 64> out{};
    size_t pos = 2;
    for (size_t part = 0; part < 2; ++part) {
        REQUIRE(der.at(pos) == 0x02);
        size_t len = der.at(pos + 1);
        pos += 2;
        REQUIRE(len >= 1);
        REQUIRE(pos + len <= der.size());
        REQUIRE((der[pos] & 0x80) == 0); // positive
        if (len > 1) REQUIRE((der[pos] != 0 || (der[pos + 1] & 0x80) != 0)); // minimal
        size_t skip = der[pos] == 0 ? 1 : 0;
        REQUIRE(len - skip <= 32);
        std::copy(der.begin() + static_cast<std::ptrdiff_t>(pos + skip), der.begin() + static_cast<std::ptrdiff_t>(pos + len),
                  out.begin() + static_cast<std::ptrdiff_t>(part * 32 + 32 - (len - skip)));
        pos += len;
    }
    REQUIRE(pos == der.size());
    return out;
}

//! Half the group order: s must not exceed it (big-endian compare).
bool IsLowS(const std::array<uint8_t, 64>& rs)
{
    const auto half = ParseHexArray<32>("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0");
    return !std::lexicographical_compare(half.begin(), half.end(), rs.begin() + 32, rs.end());
}

} // namespace

TEST_CASE("every BIP340 vector verifies as labelled and signing reproduces the signature where a secret is given" *
          orrery::test::NeedsVectors())
{
    const std::string csv = ReadVectorFile("bip340_test_vectors.csv");
    std::istringstream in(csv);
    std::string line;
    std::getline(in, line); // header
    size_t rows = 0;
    size_t signed_rows = 0;
    size_t true_rows = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const std::vector<std::string> f = SplitCsvLine(line);
        REQUIRE(f.size() >= 7);
        CAPTURE(f[0]);
        const std::vector<uint8_t> msg = ParseHex(f[4]);
        const std::vector<uint8_t> sig = ParseHex(f[5]);
        const bool expected = f[6] == "TRUE";

        if (!f[1].empty()) {
            const std::optional<Key> key = Key::FromSecret(ParseHex(f[1]));
            REQUIRE(key.has_value());
            const XOnlyPubKey xonly = key->GetXOnlyPubKey();
            CHECK(std::vector<uint8_t>(xonly.bytes().begin(), xonly.bytes().end()) == ParseHex(f[2]));
            const std::optional<SchnorrSig> made = key->SignSchnorr(msg, ParseHexArray<32>(f[3]));
            REQUIRE(made.has_value());
            CHECK(std::vector<uint8_t>(made->begin(), made->end()) == sig);
            ++signed_rows;
        }

        const std::optional<XOnlyPubKey> pubkey = XOnlyPubKey::Parse(ParseHex(f[2]));
        const bool verified = pubkey.has_value() && pubkey->VerifySchnorr(msg, sig);
        CHECK(verified == expected);
        true_rows += expected ? 1 : 0;
        ++rows;
    }
    MESSAGE("bip340_test_vectors.csv: " << rows << " rows (" << signed_rows << " signed, " << true_rows << " TRUE)");
    CHECK(rows == 19);
    CHECK(true_rows == 9);
}

TEST_CASE("ECDSA signatures are strict DER, low-S, deterministic and verify only for their key and message")
{
    for (uint8_t fill = 1; fill < 40; ++fill) {
        const std::optional<Key> key = Key::FromSecret(std::vector<uint8_t>(32, fill));
        REQUIRE(key.has_value());
        const crypto::Hash32 hash = Sha256Of(std::string(fill, 'm'));
        const std::vector<uint8_t> sig = key->SignEcdsa(hash);
        CAPTURE(int{fill});
        REQUIRE_FALSE(sig.empty());
        CHECK(IsLowS(CompactFromDer(sig)));
        CHECK(key->SignEcdsa(hash) == sig);
        CHECK(key->GetPubKey().VerifyEcdsa(hash, sig));

        crypto::Hash32 other = hash;
        other[0] ^= 1;
        CHECK_FALSE(key->GetPubKey().VerifyEcdsa(other, sig));
        const std::optional<Key> other_key = Key::FromSecret(std::vector<uint8_t>(32, static_cast<uint8_t>(fill + 1)));
        CHECK_FALSE(other_key->GetPubKey().VerifyEcdsa(hash, sig));
        std::vector<uint8_t> trailing = sig;
        trailing.push_back(0);
        CHECK_FALSE(key->GetPubKey().VerifyEcdsa(hash, trailing));
    }
}

TEST_CASE("ECDSA nonces follow RFC6979 with SHA-256: known secp256k1 answers are reproduced")
{
    // (secret, message, r || s): widely published secp256k1/SHA-256 RFC6979
    // vectors; the message is signed as SHA256(message).
    struct Vector {
        const char* secret;
        const char* message;
        const char* rs;
    };
    const Vector vectors[] = {
        {"0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
         "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d82442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"},
        {"0000000000000000000000000000000000000000000000000000000000000001",
         "All those moments will be lost in time, like tears in rain. Time to die...",
         "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21"},
        {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
         "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d06b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5"},
        {"f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
         "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea"},
    };
    for (const Vector& v : vectors) {
        CAPTURE(v.message);
        const std::optional<Key> key = Key::FromSecret(ParseHex(v.secret));
        REQUIRE(key.has_value());
        const std::vector<uint8_t> der = key->SignEcdsa(Sha256Of(v.message));
        CHECK(CompactFromDer(der) == ParseHexArray<64>(v.rs));
    }
    MESSAGE("RFC6979 known answers: " << std::size(vectors));
}

TEST_CASE("secrets of zero and of the group order or above are not keys")
{
    CHECK_FALSE(Key::FromSecret(std::vector<uint8_t>(32, 0)));
    CHECK_FALSE(Key::FromSecret(ParseHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")));
    CHECK_FALSE(Key::FromSecret(std::vector<uint8_t>(32, 0xff)));
    CHECK_FALSE(Key::FromSecret(std::vector<uint8_t>(31, 1)));
    CHECK(Key::FromSecret(ParseHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")).has_value());
    const Key invalid;
    CHECK_FALSE(invalid.IsValid());
    CHECK(invalid.SignEcdsa(crypto::Hash32{}).empty());
    CHECK_FALSE(invalid.SignSchnorr({}, crypto::Hash32{}));
}

TEST_CASE("public keys serialize compressed or uncompressed by the key's flag and parse back")
{
    const std::optional<Key> compressed = Key::FromSecret(ParseHex("0000000000000000000000000000000000000000000000000000000000000001"), true);
    const std::optional<Key> uncompressed = Key::FromSecret(compressed->Secret(), false);
    const PubKey c = compressed->GetPubKey();
    const PubKey u = uncompressed->GetPubKey();
    CHECK(c.bytes().size() == 33);
    CHECK(u.bytes().size() == 65);
    CHECK(std::vector<uint8_t>(c.bytes().begin(), c.bytes().end()) ==
          ParseHex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"));
    CHECK(u.Compressed() == c);
    CHECK(PubKey::Parse(u.bytes()) == u);
    std::vector<uint8_t> hybrid(u.bytes().begin(), u.bytes().end());
    hybrid[0] = 0x06; // hybrid encodings are not accepted
    CHECK_FALSE(PubKey::Parse(hybrid));
    CHECK_FALSE(PubKey::Parse(ParseHex("020000000000000000000000000000000000000000000000000000000000000007")));
    CHECK(c.GetXOnly() == compressed->GetXOnlyPubKey());
}

TEST_CASE("the taproot tweak reproduces every BIP341 output key and tweaked secret" * orrery::test::NeedsVectors())
{
    const auto vectors = nlohmann::json::parse(ReadVectorFile("bip341_wallet_vectors.json"));
    auto root_of = [](const nlohmann::json& j) -> std::optional<crypto::Hash32> {
        if (j.is_null()) return std::nullopt;
        return ParseHexArray<32>(j.get<std::string>());
    };
    size_t outputs = 0;
    for (const auto& v : vectors["scriptPubKey"]) {
        const std::optional<XOnlyPubKey> internal = XOnlyPubKey::Parse(ParseHex(v["given"]["internalPubkey"].get<std::string>()));
        REQUIRE(internal.has_value());
        const std::optional<crypto::Hash32> root = root_of(v["intermediary"]["merkleRoot"]);
        CHECK(internal->ComputeTapTweakHash(root) == ParseHexArray<32>(v["intermediary"]["tweak"].get<std::string>()));
        const auto tweaked = internal->CreateTapTweak(root);
        REQUIRE(tweaked.has_value());
        CHECK(tweaked->first.bytes() == ParseHexArray<32>(v["intermediary"]["tweakedPubkey"].get<std::string>()));
        ++outputs;
    }
    size_t inputs = 0;
    for (const auto& in : vectors["keyPathSpending"][0]["inputSpending"]) {
        const std::optional<Key> key = Key::FromSecret(ParseHex(in["given"]["internalPrivkey"].get<std::string>()));
        REQUIRE(key.has_value());
        const std::optional<crypto::Hash32> root = root_of(in["given"]["merkleRoot"]);
        const std::optional<Key> tweaked = key->TapTweaked(root);
        REQUIRE(tweaked.has_value());
        CHECK(tweaked->Secret() == ParseHexArray<32>(in["intermediary"]["tweakedPrivkey"].get<std::string>()));
        // Key-path signature over the given sighash: it verifies under the
        // output key, and with all-zero aux_rand it is the one in the witness.
        const crypto::Hash32 sighash = ParseHexArray<32>(in["intermediary"]["sigHash"].get<std::string>());
        const std::optional<SchnorrSig> sig = key->SignTaprootKeyPath(sighash, root, crypto::Hash32{});
        REQUIRE(sig.has_value());
        const auto output = key->GetXOnlyPubKey().CreateTapTweak(root);
        REQUIRE(output.has_value());
        CHECK(output->first.VerifySchnorr(sighash, *sig));
        const std::vector<uint8_t> witness_sig = ParseHex(in["expected"]["witness"][0].get<std::string>());
        CHECK(std::vector<uint8_t>(witness_sig.begin(), witness_sig.begin() + 64) == std::vector<uint8_t>(sig->begin(), sig->end()));
        ++inputs;
    }
    MESSAGE("bip341_wallet_vectors.json: " << outputs << " output keys, " << inputs << " key-path inputs");
    CHECK(outputs == 7);
    CHECK(inputs == 7);
}

TEST_CASE("wiping overwrites a buffer even when it is about to die")
{
    std::array<uint8_t, 48> buf;
    buf.fill(0xa5);
    MemoryCleanse(buf.data(), buf.size());
    CHECK(std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; }));
    MemoryCleanse(nullptr, 0); // harmless
    SecureBytes bytes(std::vector<uint8_t>{1, 2, 3});
    CHECK(bytes.get().size() == 3);
}
