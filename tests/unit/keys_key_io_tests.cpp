// Addresses and WIF keys: every entry of Bitcoin Core's key_io_valid.json
// and key_io_invalid.json, with Core's semantics, plus the script templates.
#include "test_vectors.h"
#include "common/keys/base58.h"
#include "common/keys/key_io.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace orrery;
using orrery::test::ParseHex;
using orrery::test::ReadVectorFile;

namespace {

std::string FlipCase(std::string s)
{
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        } else if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

} // namespace

TEST_CASE("every key_io_valid entry decodes on its chain to its payload and re-encodes to the same string" *
          orrery::test::NeedsVectors())
{
    const auto vectors = nlohmann::json::parse(ReadVectorFile("key_io_valid.json"));
    size_t addresses = 0;
    size_t secrets = 0;
    for (const auto& v : vectors) {
        const std::string str = v[0].get<std::string>();
        const std::vector<uint8_t> payload = ParseHex(v[1].get<std::string>());
        const auto& meta = v[2];
        const std::optional<Network> network = ParseNetworkName(meta["chain"].get<std::string>());
        CAPTURE(str);
        REQUIRE(network.has_value());

        if (meta["isPrivkey"].get<bool>()) {
            const std::optional<Key> key = DecodeWif(str, *network);
            REQUIRE(key.has_value());
            CHECK(std::vector<uint8_t>(key->Secret().begin(), key->Secret().end()) == payload);
            CHECK(key->IsCompressed() == meta["isCompressed"].get<bool>());
            CHECK_FALSE(DecodeAddress(str, *network)); // a private key is not an address
            const std::optional<Key> rebuilt = Key::FromSecret(payload, meta["isCompressed"].get<bool>());
            REQUIRE(rebuilt.has_value());
            CHECK(EncodeWif(*rebuilt, *network) == str);
            ++secrets;
        } else {
            const auto script = DecodeAddress(str, *network);
            REQUIRE(script.has_value());
            CHECK(*script == payload);
            CHECK_FALSE(DecodeWif(str, *network)); // an address is not a private key
            CHECK(EncodeAddress(payload, *network) == str);
            // Bech32 is case-insensitive (all upper or all lower); Base58 is not.
            const bool try_case_flip = meta.value("tryCaseFlip", false);
            const auto flipped = DecodeAddress(FlipCase(str), *network);
            CHECK(flipped.has_value() == try_case_flip);
            if (flipped) CHECK(*flipped == payload);
            ++addresses;
        }
    }
    MESSAGE("key_io_valid.json: " << vectors.size() << " entries (" << addresses << " addresses, " << secrets << " WIF keys)");
    CHECK(vectors.size() == 70);
    CHECK(addresses + secrets == 70);
}

TEST_CASE("testnet4 entries of key_io_valid are equally valid on testnet3, which shares every prefix" *
          orrery::test::NeedsVectors())
{
    const auto vectors = nlohmann::json::parse(ReadVectorFile("key_io_valid.json"));
    size_t count = 0;
    for (const auto& v : vectors) {
        if (v[2]["chain"] != "testnet4") continue;
        const std::string str = v[0].get<std::string>();
        CAPTURE(str);
        if (v[2]["isPrivkey"].get<bool>()) {
            CHECK(DecodeWif(str, Network::TESTNET3).has_value());
        } else {
            CHECK(DecodeAddress(str, Network::TESTNET3).has_value());
        }
        ++count;
    }
    CHECK(count > 0);
}

TEST_CASE("no key_io_invalid entry is an address or a WIF key on any network" * orrery::test::NeedsVectors())
{
    const auto vectors = nlohmann::json::parse(ReadVectorFile("key_io_invalid.json"));
    for (const auto& v : vectors) {
        const std::string str = v[0].get<std::string>();
        CAPTURE(str);
        for (const Network network : ALL_NETWORKS) {
            CAPTURE(NetworkName(network));
            CHECK_FALSE(DecodeAddress(str, network));
            CHECK_FALSE(DecodeWif(str, network));
        }
    }
    MESSAGE("key_io_invalid.json: " << vectors.size() << " entries, each tried on " << ALL_NETWORKS.size() << " networks");
    CHECK(vectors.size() == 70);
}

TEST_CASE("an address of one network is not valid on a network with other prefixes")
{
    const std::string main_p2pkh = "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo";
    CHECK(DecodeAddress(main_p2pkh, Network::MAIN).has_value());
    CHECK_FALSE(DecodeAddress(main_p2pkh, Network::TESTNET3));
    CHECK_FALSE(DecodeAddress(main_p2pkh, Network::REGTEST));
    const std::string tb = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7";
    CHECK(DecodeAddress(tb, Network::SIGNET).has_value());
    CHECK_FALSE(DecodeAddress(tb, Network::REGTEST));
    CHECK_FALSE(DecodeAddress(tb, Network::MAIN));
}

TEST_CASE("base58 addresses accept surrounding whitespace like Core's decoder")
{
    const auto plain = DecodeAddress("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", Network::MAIN);
    const auto padded = DecodeAddress("  1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo\n", Network::MAIN);
    REQUIRE(plain.has_value());
    REQUIRE(padded.has_value());
    CHECK(*plain == *padded);
}

TEST_CASE("scripts without an address form encode to an empty string")
{
    CHECK(EncodeAddress(std::vector<uint8_t>{}, Network::MAIN).empty());
    CHECK(EncodeAddress(std::vector<uint8_t>{0x6a, 0x01, 0x00}, Network::MAIN).empty()); // OP_RETURN
    std::vector<uint8_t> v0_21(23, 0x11);
    v0_21[0] = 0x00;
    v0_21[1] = 21;
    CHECK(EncodeAddress(v0_21, Network::MAIN).empty());
    std::vector<uint8_t> p2pkh_bad = MakeP2PKHScript(crypto::Hash20{});
    p2pkh_bad.back() = 0xad; // OP_CHECKSIGVERIFY
    CHECK(EncodeAddress(p2pkh_bad, Network::MAIN).empty());
    // A push length that disagrees with the script size is not a witness program.
    std::vector<uint8_t> wp = MakeWitnessScript({1, std::vector<uint8_t>(32, 7)});
    wp.push_back(0);
    CHECK_FALSE(MatchWitnessProgram(wp));
}

TEST_CASE("WIF decoding rejects wrong prefixes, a bad compression byte and out-of-range secrets")
{
    const std::optional<Key> key = Key::FromSecret(std::vector<uint8_t>(32, 0x01), true);
    REQUIRE(key.has_value());
    const std::string wif = EncodeWif(*key, Network::MAIN);
    CHECK(DecodeWif(wif, Network::MAIN).has_value());
    CHECK_FALSE(DecodeWif(wif, Network::REGTEST));
    CHECK_FALSE(DecodeWif(EncodeWif(Key{}, Network::MAIN), Network::MAIN)); // invalid key encodes to ""

    auto wif_of = [](uint8_t prefix, uint8_t fill, std::optional<uint8_t> suffix) {
        std::vector<uint8_t> payload{prefix};
        payload.insert(payload.end(), 32, fill);
        if (suffix) payload.push_back(*suffix);
        return EncodeBase58Check(payload);
    };
    CHECK(DecodeWif(wif_of(128, 0x01, 1), Network::MAIN).has_value());
    CHECK(DecodeWif(wif_of(128, 0x01, std::nullopt), Network::MAIN).has_value());
    CHECK_FALSE(DecodeWif(wif_of(128, 0x01, 2), Network::MAIN)); // compression flag must be 1
    CHECK_FALSE(DecodeWif(wif_of(128, 0x00, 1), Network::MAIN)); // zero secret
    CHECK_FALSE(DecodeWif(wif_of(128, 0xff, 1), Network::MAIN)); // secret above n
    CHECK_FALSE(DecodeWif(wif_of(0, 0x01, 1), Network::MAIN));
    CHECK(DecodeWif(wif_of(239, 0x01, 1), Network::SIGNET).has_value());
}
