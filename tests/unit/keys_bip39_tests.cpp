// BIP39 (common/keys/bip39.h): the reference vectors of BIP39 (trezor's
// vectors.json, English, passphrase "TREZOR"; printed here by Debian's
// python3-mnemonic from the same entropies), the checksum and word checks of a
// phrase read back, and the word list's shape.
#include "test_vectors.h"
#include <common/keys/bip39.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace orrery;
using orrery::test::ParseHex;

namespace {

struct Vector {
    const char* entropy;
    const char* words;
    const char* seed;
};

const Vector VECTORS[] = {
    {"00000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
     "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e5349553"
     "1f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"},
    {"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "legal winner thank year wave sausage worth useful legal winner thank yellow",
     "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6f"
     "a457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607"},
    {"80808080808080808080808080808080",
     "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
     "d71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30"
     "fa280f12eb2e47ed2ac03b5c462a0358d18d69fe4f985ec81778c1b370b652a8"},
    {"ffffffffffffffffffffffffffffffff", "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
     "ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13"
     "332572917f0f8e5a589620c6f15b11c61dee327651a14c34e18231052e48c069"},
    {"000000000000000000000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
     "abandon abandon abandon agent",
     "035895f2f481b1b0f01fcf8c289c794660b289981a78f8106447707fdd9666ca"
     "06da5a9a565181599b79f53b844d8a71dd9f439c52a3d7b3e8a79c906ac845fa"},
    {"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
     "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal will",
     "f2b94508732bcbacbcc020faefecfc89feafa6649a5491b8c952cede496c214a"
     "0c7b3c392d168748f2d4a612bada0753b52a1c7ac53c1e93abd5c6320b9e95dd"},
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
     "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd30971"
     "70af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8"},
    {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
     "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e16"
     "13912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad"},
    {"9e885d952ad362caeb4efe34a8e91bd2", "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
     "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e547"
     "6c91689f9c8a54fd55bd38606aa6a8595ad213d4c9c9f9aca3fb217069a41028"},
    {"6610b25967cdcca9d59875f5cb50b0ea75433311869e930b",
     "gravity machine north sort system female filter attitude volume fold club stay feature office ecology stable "
     "narrow fog",
     "628c3827a8823298ee685db84f55caa34b5cc195a778e52d45f59bcf75aba68e"
     "4d7590e101dc414bc1bbd5737666fbbef35d1f1903953b66624f910feef245ac"},
    {"68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
     "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple "
     "dilemma loan word shrug inflict delay length",
     "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d2"
     "0b385bc1588d9c7b38f1b39d415665b8a9030c9ec653d75e65f847d8fc1fc440"},
};

std::string Hex(const std::vector<uint8_t>& bytes)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

} // namespace

TEST_CASE("the BIP39 reference vectors: entropy to words, words back to entropy, and the seed with TREZOR")
{
    for (const auto& v : VECTORS) {
        CAPTURE(v.words);
        const std::vector<uint8_t> entropy = ParseHex(v.entropy);
        CHECK(MnemonicFromEntropy(entropy) == v.words);
        auto back = MnemonicToEntropy(v.words);
        REQUIRE(back);
        CHECK(back->get() == entropy);
        auto seed = MnemonicToSeed(v.words, "TREZOR");
        REQUIRE(seed);
        CHECK(Hex(seed->get()) == v.seed);
    }
}

TEST_CASE("a phrase with a wrong checksum, an unknown word or a wrong count is refused")
{
    CHECK_FALSE(MnemonicToEntropy("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                  "abandon abandon")
                    .has_value());
    CHECK_FALSE(MnemonicToEntropy("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                  "abandon bitcoin")
                    .has_value());
    CHECK_FALSE(MnemonicToEntropy("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                  "about")
                    .has_value());
    CHECK_FALSE(MnemonicToEntropy("Abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                  "abandon about")
                    .has_value());
    CHECK(MnemonicToEntropy("  abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon   "
                            "abandon about ")
              .has_value());
    CHECK(MnemonicFromEntropy(std::vector<uint8_t>(15, 0)).empty());
    CHECK(MnemonicFromEntropy(std::vector<uint8_t>(36, 0)).empty());
}

TEST_CASE("extra spaces do not change the seed, and a non-ASCII passphrase is refused")
{
    const std::string words = VECTORS[0].words;
    auto spaced = MnemonicToSeed("  " + words + "  ", "TREZOR");
    REQUIRE(spaced);
    CHECK(Hex(spaced->get()) == VECTORS[0].seed);
    CHECK_FALSE(MnemonicToSeed(words, "caf\xc3\xa9").has_value());
    auto empty = MnemonicToSeed(words);
    REQUIRE(empty);
    CHECK(empty->get().size() == 64);
}
