// BIP32: every chain of test vectors 1-4 derived from its seed (private and,
// along non-hardened steps, public derivation), every invalid key of vector 5
// rejected for its stated reason, serialization round trips and paths.
#include "test_vectors.h"
#include "common/keys/bip32.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

using namespace orrery;
using orrery::test::ParseHex;
using orrery::test::ReadVectorFile;

namespace {

const nlohmann::json& Vectors()
{
    static const nlohmann::json vectors = nlohmann::json::parse(ReadVectorFile("bip32_vectors.json"));
    return vectors;
}

//! The error each vector-5 reason names. Matching on the reason text keeps
//! the test honest: a key rejected for the wrong reason fails.
ExtKeyError ErrorForReason(const std::string& reason)
{
    if (reason.find("mismatch") != std::string::npos) return ExtKeyError::VERSION_MISMATCH;
    if (reason.starts_with("invalid pubkey prefix")) return ExtKeyError::BAD_PUBKEY_PREFIX;
    if (reason.starts_with("invalid prvkey prefix")) return ExtKeyError::BAD_PRIVKEY_PREFIX;
    if (reason.find("parent fingerprint") != std::string::npos) return ExtKeyError::ZERO_DEPTH_PARENT;
    if (reason.find("non-zero index") != std::string::npos) return ExtKeyError::ZERO_DEPTH_INDEX;
    if (reason.find("unknown extended key version") != std::string::npos) return ExtKeyError::UNKNOWN_VERSION;
    if (reason.starts_with("private key")) return ExtKeyError::PRIVKEY_OUT_OF_RANGE;
    if (reason.starts_with("invalid pubkey ")) return ExtKeyError::PUBKEY_NOT_ON_CURVE;
    if (reason == "invalid checksum") return ExtKeyError::BAD_CHECKSUM;
    FAIL("unmapped reason: " << reason);
    return ExtKeyError::NONE;
}

} // namespace

TEST_CASE("every BIP32 chain derived from its seed matches the xprv and xpub at every path" *
          orrery::test::NeedsVectors())
{
    size_t chains = 0;
    for (const auto& vec : Vectors()) {
        if (vec["seed"].is_null()) continue;
        const std::optional<ExtKey> master = ExtKey::FromSeed(ParseHex(vec["seed"].get<std::string>()));
        REQUIRE(master.has_value());
        for (const auto& chain : vec["chains"]) {
            const std::string path_text = chain["path"].get<std::string>();
            CAPTURE(vec["vector"].get<int>());
            CAPTURE(path_text);
            const auto path = ParseDerivationPath(path_text);
            REQUIRE(path.has_value());
            const std::optional<ExtKey> key = master->DerivePath(*path);
            REQUIRE(key.has_value());
            CHECK(EncodeExtKey(*key, Network::MAIN) == chain["xprv"].get<std::string>());
            CHECK(EncodeExtPubKey(key->Neuter(), Network::MAIN) == chain["xpub"].get<std::string>());

            // Parsing both strings gives back the same key, and re-encoding round-trips.
            const DecodedExtKey xprv = DecodeExtendedKey(chain["xprv"].get<std::string>());
            REQUIRE(xprv.error == ExtKeyError::NONE);
            CHECK(xprv.is_private);
            CHECK(xprv.network == Network::MAIN);
            CHECK(xprv.priv == *key);
            const DecodedExtKey xpub = DecodeExtendedKey(chain["xpub"].get<std::string>());
            REQUIRE(xpub.error == ExtKeyError::NONE);
            CHECK_FALSE(xpub.is_private);
            CHECK(xpub.pub == key->Neuter());
            CHECK(DecodeExtKey(chain["xprv"].get<std::string>(), Network::MAIN).has_value());
            CHECK_FALSE(DecodeExtKey(chain["xprv"].get<std::string>(), Network::TESTNET4));
            CHECK_FALSE(DecodeExtKey(chain["xpub"].get<std::string>(), Network::MAIN));
            CHECK(DecodeExtPubKey(chain["xpub"].get<std::string>(), Network::MAIN) == key->Neuter());
            ++chains;
        }
    }
    MESSAGE("bip32_vectors.json: " << chains << " chains");
    CHECK(chains == 17);
}

TEST_CASE("public derivation from the last hardened ancestor's xpub matches every chain's xpub" *
          orrery::test::NeedsVectors())
{
    size_t checked = 0;
    for (const auto& vec : Vectors()) {
        if (vec["seed"].is_null()) continue;
        const std::optional<ExtKey> master = ExtKey::FromSeed(ParseHex(vec["seed"].get<std::string>()));
        REQUIRE(master.has_value());
        for (const auto& chain : vec["chains"]) {
            const auto path = ParseDerivationPath(chain["path"].get<std::string>());
            REQUIRE(path.has_value());
            // Split the path after its last hardened step.
            size_t split = 0;
            for (size_t i = 0; i < path->size(); ++i) {
                if (((*path)[i] & BIP32_HARDENED) != 0) split = i + 1;
            }
            if (split == path->size()) continue; // nothing to derive publicly
            CAPTURE(chain["path"].get<std::string>());
            const std::optional<ExtKey> ancestor = master->DerivePath(std::span<const uint32_t>(*path).first(split));
            REQUIRE(ancestor.has_value());
            std::optional<ExtPubKey> pub = ancestor->Neuter();
            for (size_t i = split; i < path->size(); ++i) {
                pub = pub->Derive((*path)[i]);
                REQUIRE(pub.has_value());
            }
            CHECK(EncodeExtPubKey(*pub, Network::MAIN) == chain["xpub"].get<std::string>());
            ++checked;
        }
    }
    MESSAGE("chains with a non-hardened tail derived from an xpub: " << checked);
    CHECK(checked == 6);
}

TEST_CASE("every invalid extended key of BIP32 vector 5 is rejected for its stated reason" *
          orrery::test::NeedsVectors())
{
    size_t count = 0;
    for (const auto& vec : Vectors()) {
        if (!vec.contains("invalid")) continue;
        for (const auto& bad : vec["invalid"]) {
            const std::string key = bad["key"].get<std::string>();
            const std::string reason = bad["reason"].get<std::string>();
            CAPTURE(key);
            CAPTURE(reason);
            const DecodedExtKey dec = DecodeExtendedKey(key);
            CAPTURE(ExtKeyErrorString(dec.error));
            CHECK(dec.error == ErrorForReason(reason));
            for (const Network network : ALL_NETWORKS) {
                CHECK_FALSE(DecodeExtKey(key, network));
                CHECK_FALSE(DecodeExtPubKey(key, network));
            }
            ++count;
        }
    }
    MESSAGE("bip32 vector 5: " << count << " invalid keys");
    CHECK(count == 16);
}

TEST_CASE("extended keys of the test networks use tprv and tpub and round-trip")
{
    const std::optional<ExtKey> master = ExtKey::FromSeed(ParseHex("000102030405060708090a0b0c0d0e0f"));
    REQUIRE(master.has_value());
    const std::optional<ExtKey> child = master->DerivePath(*ParseDerivationPath("m/84h/1h/0h/0/5"));
    REQUIRE(child.has_value());
    for (const Network network : {Network::TESTNET3, Network::TESTNET4, Network::SIGNET, Network::REGTEST}) {
        const std::string tprv = EncodeExtKey(*child, network);
        const std::string tpub = EncodeExtPubKey(child->Neuter(), network);
        CHECK(tprv.starts_with("tprv"));
        CHECK(tpub.starts_with("tpub"));
        CHECK(DecodeExtKey(tprv, network) == *child);
        CHECK(DecodeExtPubKey(tpub, network) == child->Neuter());
        CHECK_FALSE(DecodeExtKey(tprv, Network::MAIN));
    }
    CHECK(child->depth == 5);
    CHECK(child->child_number == 5);
}

TEST_CASE("fingerprints link a child to its parent")
{
    const std::optional<ExtKey> master = ExtKey::FromSeed(ParseHex("000102030405060708090a0b0c0d0e0f"));
    REQUIRE(master.has_value());
    // BIP32 vector 1 master key identifier starts 3442193e.
    CHECK(master->GetFingerprint() == Fingerprint{0x34, 0x42, 0x19, 0x3e});
    const std::optional<ExtKey> child = master->Derive(BIP32_HARDENED);
    REQUIRE(child.has_value());
    CHECK(child->parent_fingerprint == master->GetFingerprint());
    CHECK(master->Neuter().GetFingerprint() == master->GetFingerprint());
    CHECK_FALSE(master->Neuter().Derive(BIP32_HARDENED)); // no hardened step from a public key
}

TEST_CASE("derivation paths accept h, H and apostrophe for hardened steps and reject malformed ones")
{
    const std::vector<uint32_t> expected{84 | BIP32_HARDENED, 1 | BIP32_HARDENED, 0 | BIP32_HARDENED, 0, 5};
    CHECK(ParseDerivationPath("m/84h/1h/0h/0/5") == expected);
    CHECK(ParseDerivationPath("m/84H/1H/0H/0/5") == expected);
    CHECK(ParseDerivationPath("m/84'/1'/0'/0/5") == expected);
    CHECK(ParseDerivationPath("m/84'/1h/0H/0/5") == expected);
    CHECK(FormatDerivationPath(expected) == "m/84h/1h/0h/0/5");
    CHECK(ParseDerivationPath("m") == std::vector<uint32_t>{});
    CHECK(ParseDerivationPath("m/2147483647h") == std::vector<uint32_t>{0xffffffffU});
    CHECK_FALSE(ParseDerivationPath("m/2147483648"));
    CHECK_FALSE(ParseDerivationPath("m/99999999999999999999"));
    CHECK_FALSE(ParseDerivationPath(""));
    CHECK_FALSE(ParseDerivationPath("84h/0"));
    CHECK_FALSE(ParseDerivationPath("m/"));
    CHECK_FALSE(ParseDerivationPath("m//1"));
    CHECK_FALSE(ParseDerivationPath("m/1hh"));
    CHECK_FALSE(ParseDerivationPath("m/-1"));
    CHECK_FALSE(ParseDerivationPath("m/+1"));
    CHECK_FALSE(ParseDerivationPath("m/1 "));
    CHECK_FALSE(ParseDerivationPath("M/1"));
}

TEST_CASE("seeds outside BIP32's 16 to 64 bytes are refused and depth 255 cannot be extended")
{
    CHECK_FALSE(ExtKey::FromSeed(std::vector<uint8_t>(15, 1)));
    CHECK_FALSE(ExtKey::FromSeed(std::vector<uint8_t>(65, 1)));
    std::optional<ExtKey> key = ExtKey::FromSeed(std::vector<uint8_t>(16, 1));
    REQUIRE(key.has_value());
    key->depth = 255;
    CHECK_FALSE(key->Derive(0));
    CHECK_FALSE(key->Neuter().Derive(0));
}
