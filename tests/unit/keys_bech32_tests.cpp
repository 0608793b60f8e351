// Bech32 / Bech32m strings and segwit addresses: every section of
// bech32_vectors.json (BIP173 and BIP350 test vectors).
#include "test_vectors.h"
#include "common/keys/bech32.h"
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
using bech32::Encoding;

namespace {

std::string Lower(std::string s)
{
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

const nlohmann::json& Vectors()
{
    static const nlohmann::json vectors = nlohmann::json::parse(ReadVectorFile("bech32_vectors.json"));
    return vectors;
}

//! A valid string decodes with the expected checksum and re-encodes to its
//! lower-case form; changing any one data character breaks it.
size_t CheckValidStrings(const nlohmann::json& list, Encoding expected)
{
    size_t count = 0;
    for (const auto& v : list) {
        const std::string str = v.get<std::string>();
        CAPTURE(str);
        const bech32::DecodeResult dec = bech32::Decode(str);
        REQUIRE(dec.encoding == expected);
        CHECK(bech32::Encode(expected, dec.hrp, dec.data) == Lower(str));
        const size_t sep = str.rfind('1');
        for (size_t i = sep + 1; i < str.size(); ++i) {
            std::string mutated = str;
            mutated[i] = mutated[i] == 'q' || mutated[i] == 'Q' ? 'p' : 'q';
            CHECK(bech32::Decode(mutated).encoding == Encoding::INVALID);
        }
        ++count;
    }
    return count;
}

//! Invalid entries carry their exact bytes in "hex" (some contain bytes that
//! JSON strings cannot hold); they must fail under both checksums.
size_t CheckInvalidStrings(const nlohmann::json& list)
{
    size_t count = 0;
    for (const auto& v : list) {
        const std::vector<uint8_t> bytes = ParseHex(v["hex"].get<std::string>());
        const std::string str(bytes.begin(), bytes.end());
        CAPTURE(v["reason"].get<std::string>());
        CAPTURE(v["hex"].get<std::string>());
        CHECK(bech32::Decode(str).encoding == Encoding::INVALID);
        ++count;
    }
    return count;
}

std::string HrpOf(const std::string& address) { return Lower(address.substr(0, address.rfind('1'))); }

} // namespace

TEST_CASE("every valid bech32 string decodes as bech32 and a one-character change breaks it" *
          orrery::test::NeedsVectors())
{
    const size_t count = CheckValidStrings(Vectors()["bech32_valid"], Encoding::BECH32);
    MESSAGE("bech32_valid: " << count);
    CHECK(count == 7);
}

TEST_CASE("every invalid bech32 string is rejected" * orrery::test::NeedsVectors())
{
    const size_t count = CheckInvalidStrings(Vectors()["bech32_invalid"]);
    MESSAGE("bech32_invalid: " << count);
    CHECK(count == 12);
}

TEST_CASE("every valid bech32m string decodes as bech32m and a one-character change breaks it" *
          orrery::test::NeedsVectors())
{
    const size_t count = CheckValidStrings(Vectors()["bech32m_valid"], Encoding::BECH32M);
    MESSAGE("bech32m_valid: " << count);
    CHECK(count == 7);
}

TEST_CASE("every invalid bech32m string is rejected" * orrery::test::NeedsVectors())
{
    const size_t count = CheckInvalidStrings(Vectors()["bech32m_invalid"]);
    MESSAGE("bech32m_invalid: " << count);
    CHECK(count == 14);
}

TEST_CASE("every valid BIP350 address decodes to its scriptPubKey and re-encodes in lower case" *
          orrery::test::NeedsVectors())
{
    size_t count = 0;
    for (const auto& v : Vectors()["bip350_segwit_addresses"]["valid"]) {
        const std::string address = v["address"].get<std::string>();
        const std::vector<uint8_t> script = ParseHex(v["scriptPubKey"].get<std::string>());
        CAPTURE(address);
        const auto wp = bech32::DecodeSegwitAddress(HrpOf(address), address);
        REQUIRE(wp.has_value());
        CHECK(MakeWitnessScript(*wp) == script);
        CHECK(bech32::EncodeSegwitAddress(HrpOf(address), *wp) == Lower(address));
        ++count;
    }
    MESSAGE("bip350 valid addresses: " << count);
    CHECK(count == 8);
}

TEST_CASE("every invalid BIP350 address is rejected under both the mainnet and testnet prefixes" *
          orrery::test::NeedsVectors())
{
    size_t count = 0;
    for (const auto& v : Vectors()["bip350_segwit_addresses"]["invalid"]) {
        const std::string address = v["address"].get<std::string>();
        CAPTURE(address);
        CAPTURE(v["reason"].get<std::string>());
        CHECK_FALSE(bech32::DecodeSegwitAddress("bc", address));
        CHECK_FALSE(bech32::DecodeSegwitAddress("tb", address));
        ++count;
    }
    MESSAGE("bip350 invalid addresses: " << count);
    CHECK(count == 15);
}

TEST_CASE("BIP173 addresses keep their meaning for version 0 and are invalid under BIP350 for version 1 and up" *
          orrery::test::NeedsVectors())
{
    size_t v0 = 0;
    size_t v1plus = 0;
    for (const auto& v : Vectors()["bip173_segwit_addresses"]["valid"]) {
        const std::string address = v["address"].get<std::string>();
        const std::vector<uint8_t> script = ParseHex(v["scriptPubKey"].get<std::string>());
        CAPTURE(address);
        const auto wp = bech32::DecodeSegwitAddress(HrpOf(address), address);
        if (script.at(0) == 0x00) {
            REQUIRE(wp.has_value());
            CHECK(MakeWitnessScript(*wp) == script);
            ++v0;
        } else {
            // Bech32 checksum on a v1+ program: BIP350 rejects it; the
            // Bech32m re-encoding of the same program is what is valid now.
            CHECK_FALSE(wp.has_value());
            const auto program = MatchWitnessProgram(script);
            REQUIRE(program.has_value());
            const std::string modern = bech32::EncodeSegwitAddress(HrpOf(address), *program);
            CHECK(bech32::Decode(modern).encoding == Encoding::BECH32M);
            ++v1plus;
        }
    }
    size_t invalid = 0;
    for (const auto& v : Vectors()["bip173_segwit_addresses"]["invalid"]) {
        const std::string address = v["address"].get<std::string>();
        CAPTURE(address);
        CHECK_FALSE(bech32::DecodeSegwitAddress("bc", address));
        CHECK_FALSE(bech32::DecodeSegwitAddress("tb", address));
        ++invalid;
    }
    MESSAGE("bip173 valid addresses: " << v0 << " v0 still valid, " << v1plus << " v1+ now invalid; invalid: " << invalid);
    CHECK(v0 + v1plus == 6);
    CHECK(v1plus == 3);
    CHECK(invalid == 10);
}

TEST_CASE("bech32 encoding refuses out-of-range input and strings over 90 characters")
{
    const std::vector<uint8_t> ok(10, 0);
    CHECK_FALSE(bech32::Encode(Encoding::BECH32, "bc", ok).empty());
    CHECK(bech32::Encode(Encoding::BECH32, "", ok).empty());
    CHECK(bech32::Encode(Encoding::INVALID, "bc", ok).empty());
    CHECK(bech32::Encode(Encoding::BECH32, "b c", ok).empty());
    CHECK(bech32::Encode(Encoding::BECH32, "bc", std::vector<uint8_t>{32}).empty());
    CHECK(bech32::Encode(Encoding::BECH32, "bc", std::vector<uint8_t>(82, 0)).empty()); // 2+1+82+6 = 91
    CHECK_FALSE(bech32::Encode(Encoding::BECH32, "bc", std::vector<uint8_t>(81, 0)).empty());
    // Upper-case HRPs are lowered, so the checksum is over the canonical form.
    CHECK(bech32::Encode(Encoding::BECH32M, "BC", ok) == bech32::Encode(Encoding::BECH32M, "bc", ok));
}

TEST_CASE("regrouping bits rejects over-long or non-zero padding and out-of-range values")
{
    const std::vector<uint8_t> bytes{0xff, 0x00, 0x80};
    const auto five = bech32::ConvertBits(8, 5, true, bytes);
    REQUIRE(five.has_value());
    CHECK(five->size() == 5);
    const auto back = bech32::ConvertBits(5, 8, false, *five);
    REQUIRE(back.has_value());
    CHECK(*back == bytes);
    CHECK_FALSE(bech32::ConvertBits(5, 8, false, std::vector<uint8_t>{0, 0, 0, 0, 0, 1})); // 6 values: 30 bits, 6 left over
    CHECK_FALSE(bech32::ConvertBits(5, 8, false, std::vector<uint8_t>{0, 1})); // 2 non-zero padding bits
    CHECK_FALSE(bech32::ConvertBits(5, 8, false, std::vector<uint8_t>{32}));
    CHECK_FALSE(bech32::ConvertBits(0, 8, false, bytes));
}

TEST_CASE("witness programs of invalid length or version have no address")
{
    CHECK(bech32::EncodeSegwitAddress("bc", {0, std::vector<uint8_t>(21, 1)}).empty());
    CHECK(bech32::EncodeSegwitAddress("bc", {1, std::vector<uint8_t>(1, 1)}).empty());
    CHECK(bech32::EncodeSegwitAddress("bc", {1, std::vector<uint8_t>(41, 1)}).empty());
    CHECK(bech32::EncodeSegwitAddress("bc", {17, std::vector<uint8_t>(32, 1)}).empty());
    CHECK_FALSE(bech32::EncodeSegwitAddress("bc", {16, std::vector<uint8_t>(40, 1)}).empty());
    CHECK_FALSE(bech32::EncodeSegwitAddress("bc", {1, std::vector<uint8_t>(2, 1)}).empty());
}
