// Base58 and Base58Check: Bitcoin Core's base58_encode_decode.json vectors,
// Core's whitespace and length-bound rules, and checksum handling.
#include "test_vectors.h"
#include "common/keys/base58.h"

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

TEST_CASE("every base58_encode_decode vector encodes to its string and decodes back to its bytes" *
          orrery::test::NeedsVectors())
{
    const auto vectors = nlohmann::json::parse(ReadVectorFile("base58_encode_decode.json"));
    size_t count = 0;
    for (const auto& v : vectors) {
        const std::vector<uint8_t> bytes = ParseHex(v[0].get<std::string>());
        const std::string text = v[1].get<std::string>();
        CAPTURE(text);
        CHECK(EncodeBase58(bytes) == text);
        const auto decoded = DecodeBase58(text, 256);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == bytes);
        ++count;
    }
    MESSAGE("base58_encode_decode.json: " << count << " vectors");
    CHECK(count == 21);
}

TEST_CASE("base58 decoding skips surrounding whitespace but rejects anything else outside the alphabet")
{
    const auto skip = DecodeBase58(" \t\n\v\f\r skip \r\f\v\n\t ", 3);
    REQUIRE(skip.has_value());
    CHECK(*skip == std::vector<uint8_t>{0x97, 0x1a, 0x55});
    CHECK(DecodeBase58("good", 16).has_value());
    CHECK_FALSE(DecodeBase58("invalid", 16)); // 'l' is not in the alphabet
    CHECK_FALSE(DecodeBase58("bad0IOl", 16));
    CHECK_FALSE(DecodeBase58("goodbad0IOl", 16));
    CHECK_FALSE(DecodeBase58("go od", 16));
    CHECK_FALSE(DecodeBase58(std::string_view("good\0bad", 8), 16));
    CHECK_FALSE(DecodeBase58(std::string_view("good\0", 5), 16));
    CHECK_FALSE(DecodeBase58(std::string_view("\0good", 5), 16));
    CHECK_FALSE(DecodeBase58("\xff\x80", 16));
    const auto blank = DecodeBase58("   ", 16);
    REQUIRE(blank.has_value());
    CHECK(blank->empty());
}

TEST_CASE("base58 decoding fails as soon as the result would exceed the length bound")
{
    CHECK(DecodeBase58("1111", 4).has_value());
    CHECK_FALSE(DecodeBase58("11111", 4));
    const std::vector<uint8_t> five{1, 2, 3, 4, 5};
    const std::string text = EncodeBase58(five);
    CHECK(DecodeBase58(text, 5).has_value());
    CHECK_FALSE(DecodeBase58(text, 4));
    // A megabyte of input is rejected after a few characters, not after a megabyte of work.
    CHECK_FALSE(DecodeBase58(std::string(1 << 20, 'z'), 64));
}

TEST_CASE("base58check round-trips and rejects a corrupted or truncated checksum")
{
    const std::vector<uint8_t> payload{0x00, 0xde, 0xad, 0xbe, 0xef};
    const std::string text = EncodeBase58Check(payload);
    const auto back = DecodeBase58Check(text, payload.size());
    REQUIRE(back.has_value());
    CHECK(*back == payload);
    CHECK_FALSE(DecodeBase58Check(text, payload.size() - 1));

    std::string corrupted = text;
    corrupted.back() = corrupted.back() == 'z' ? 'y' : 'z';
    CHECK_FALSE(DecodeBase58Check(corrupted, 64));
    CHECK_FALSE(DecodeBase58Check(EncodeBase58(std::vector<uint8_t>{1, 2, 3}), 64)); // shorter than a checksum
    // A P2PKH address from Core's key_io vectors: version 0 plus a 20-byte hash.
    const auto addr = DecodeBase58Check("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", 21);
    REQUIRE(addr.has_value());
    CHECK(addr->size() == 21);
    CHECK((*addr)[0] == 0);
    CHECK_FALSE(DecodeBase58Check("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", 20));
}
