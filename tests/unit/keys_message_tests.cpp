// Signed messages (common/keys/message.h): Bitcoin Core's own vector (util_tests'
// message_sign: the key D97F...2866 signs "Trust no one" to exactly this
// string, RFC6979 being deterministic), signatures made by python3-bitcoinlib's
// SignMessage (random nonces; generated once, the keys and messages below) that
// must verify, and each of bitcoind's MessageVerify outcomes.
#include "test_vectors.h"
#include <common/http/http.h>
#include <common/keys/key_io.h>
#include <common/keys/message.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace orrery;

namespace {

std::vector<uint8_t> Bytes(const std::string& base64)
{
    std::optional<std::string> raw = http::Base64Decode(base64);
    REQUIRE(raw);
    return {raw->begin(), raw->end()};
}

MessageVerificationResult Verify(const std::string& address, const std::string& base64, const std::string& message)
{
    std::optional<std::string> raw = http::Base64Decode(base64);
    if (!raw) return MessageVerify(address, std::nullopt, message, Network::MAIN);
    std::vector<uint8_t> bytes(raw->begin(), raw->end());
    return MessageVerify(address, std::span<const uint8_t>(bytes), message, Network::MAIN);
}

const std::string CORE_SIGNATURE =
    "IPojfrX2dfPnH26UegfbGQQLrdK844DlHq5157/P6h57WyuS/Qsl+h/WSVGDF4MUi4rWSswW38oimDYfNNUBUOk=";

} // namespace

TEST_CASE("a key signs Bitcoin Core's message vector to exactly Core's signature")
{
    auto key = Key::FromSecret(test::ParseHex("d97f5108f11cda6eeebaaa420fef0726b1f898060b98489fa3098463c0032866"));
    REQUIRE(key);
    auto signature = SignCompact(*key, MessageHash("Trust no one"));
    REQUIRE(signature);
    CHECK(http::Base64Encode(std::string(signature->begin(), signature->end())) == CORE_SIGNATURE);
    CHECK(Verify("15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs", CORE_SIGNATURE, "Trust no one") ==
          MessageVerificationResult::OK);
}

TEST_CASE("signatures made by python-bitcoinlib verify, compressed and uncompressed, of any length")
{
    CHECK(Verify("15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs",
                 "H3X/r15Shz6xPgca50kB/K9IRCOtyxzwKpfsIZCmtJBaZTzyYPMZl2KRkq4FtZ60vt+Byfidh6xVJ3QOkKofBCw=",
                 "Trust no one") == MessageVerificationResult::OK);
    // 0x11 * 32, uncompressed; the empty message.
    CHECK(Verify("1MsHWS1BnwMc3tLE8G35UXsS58fKipzB7a",
                 "HDEFQ4b8o2DkILAcYKJiOF00YaLfe7EUlwgTUytEEiXRHOoYe/1YfHPU3Vm26U9Vd6pxMZ45QtDgStMvTVUSduQ=", "") ==
          MessageVerificationResult::OK);
    // 0x22 * 32, compressed; a message longer than 252 bytes (a 3-byte CompactSize length).
    CHECK(Verify("18aF6pYXKDSXjXHpidt2G6okdVdBr8zA7z",
                 "IOkBODsGpE47ix123rBm0rL0XPCNx3YXo4Npotxfl/7HPbz4elaHEoeOmQzwXOTzMSsTjanRqdoucHEtSSLp/fA=",
                 std::string(300, 'x')) == MessageVerificationResult::OK);
}

TEST_CASE("each wrong input gives bitcoind's verification outcome")
{
    CHECK(Verify("15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs", CORE_SIGNATURE, "Trust no one.") ==
          MessageVerificationResult::ERR_NOT_SIGNED);
    CHECK(Verify("1MsHWS1BnwMc3tLE8G35UXsS58fKipzB7a", CORE_SIGNATURE, "Trust no one") ==
          MessageVerificationResult::ERR_NOT_SIGNED);
    CHECK(Verify("not an address", CORE_SIGNATURE, "Trust no one") == MessageVerificationResult::ERR_INVALID_ADDRESS);
    CHECK(Verify("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", CORE_SIGNATURE, "Trust no one") ==
          MessageVerificationResult::ERR_ADDRESS_NO_KEY);
    CHECK(Verify("15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs", "not base64!", "Trust no one") ==
          MessageVerificationResult::ERR_MALFORMED_SIGNATURE);
    CHECK(Verify("15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs", "AAAA", "Trust no one") ==
          MessageVerificationResult::ERR_PUBKEY_NOT_RECOVERED);
    std::vector<uint8_t> zero_r = Bytes(CORE_SIGNATURE);
    std::fill(zero_r.begin() + 1, zero_r.begin() + 33, 0);
    CHECK_FALSE(RecoverCompact(MessageHash("Trust no one"), zero_r));
}

TEST_CASE("the header byte carries the recovery id and whether the key is compressed")
{
    auto compressed = Key::FromSecret(std::vector<uint8_t>(32, 0x22), true);
    auto uncompressed = Key::FromSecret(std::vector<uint8_t>(32, 0x22), false);
    REQUIRE(compressed);
    REQUIRE(uncompressed);
    const auto hash = MessageHash("header");
    auto a = SignCompact(*compressed, hash);
    auto b = SignCompact(*uncompressed, hash);
    REQUIRE(a);
    REQUIRE(b);
    CHECK((*a)[0] >= 31);
    CHECK((*a)[0] <= 34);
    CHECK((*b)[0] >= 27);
    CHECK((*b)[0] <= 30);
    CHECK(*RecoverCompact(hash, *a) == compressed->GetPubKey());
    CHECK(*RecoverCompact(hash, *b) == uncompressed->GetPubKey());
    CHECK_FALSE(SignCompact(Key(), hash));
}
