// MuHash3072 against Bitcoin Core's known answers (crypto_tests' muhash_tests
// and the empty-set digest gettxoutsetinfo reports on a fresh regtest node),
// plus the set properties the UTXO digest relies on.
#include <common/crypto/muhash.h>
#include <tests/unit/test_util.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using orrery::crypto::Hash32;
using orrery::crypto::MuHash3072;

namespace {

//! What Core's uint256::GetHex prints: the bytes reversed.
std::string ReversedHex(const Hash32& hash)
{
    Hash32 copy = hash;
    std::reverse(copy.begin(), copy.end());
    return orrery::test::ToHex(copy);
}

//! Core's test helper: the set holding the 32-byte element {i, 0, ..., 0}.
MuHash3072 FromInt(uint8_t i)
{
    std::array<uint8_t, 32> element{};
    element[0] = i;
    return MuHash3072(element);
}

} // namespace

TEST_CASE("muhash of {0, 1} without {2} gives Core's known digest")
{
    MuHash3072 acc = FromInt(0);
    acc *= FromInt(1);
    acc /= FromInt(2);
    CHECK(ReversedHex(acc.Finalize()) == "10d312b100cbd32ada024a6646e40d3482fcff103668d2625f10002a607d5863");

    MuHash3072 acc2 = FromInt(0);
    std::array<uint8_t, 32> one{1};
    std::array<uint8_t, 32> two{2};
    acc2.Insert(one);
    acc2.Remove(two);
    CHECK(ReversedHex(acc2.Finalize()) == "10d312b100cbd32ada024a6646e40d3482fcff103668d2625f10002a607d5863");
}

TEST_CASE("the empty muhash is the digest gettxoutsetinfo reports for regtest's genesis")
{
    MuHash3072 empty;
    CHECK(ReversedHex(empty.Finalize()) == "dd5ad2a105c2d29495f577245c357409002329b9f4d6182c0af3dc2f462555c8");
}

TEST_CASE("a serialized value at or above the modulus is reduced before hashing, as in Core")
{
    std::array<uint8_t, 2 * MuHash3072::BYTE_SIZE> bytes{};
    std::fill(bytes.begin(), bytes.begin() + MuHash3072::BYTE_SIZE, 0xff);
    bytes[MuHash3072::BYTE_SIZE] = 1;
    MuHash3072 overflow = MuHash3072::Deserialize(bytes);
    CHECK(orrery::test::ToHex(overflow.Finalize()) ==
          "3a31e6903aff0de9f62f9a9f7f8b861de76ce2cda09822b90014319ae5dc2271");
}

TEST_CASE("muhash serializes as Core does and reads back to the same digest")
{
    MuHash3072 ser = FromInt(1);
    ser *= FromInt(2);
    const auto bytes = ser.Serialize();
    // The start of Core's expected serialization of FromInt(1) * FromInt(2) (numerator first).
    CHECK(orrery::test::ToHex(bytes).rfind("1fa093295ea30a6a3acdc7b3f770fa538eff537528e990e2910e40bbcfd7f6696b1256901",
                                           0) == 0);
    CHECK(bytes[MuHash3072::BYTE_SIZE] == 1); // the denominator is one
    MuHash3072 back = MuHash3072::Deserialize(bytes);
    CHECK(back.Finalize() == ser.Finalize());
}

TEST_CASE("muhash does not depend on the order of insertions and removals")
{
    const std::vector<std::pair<bool, uint8_t>> ops{{true, 3}, {true, 5}, {false, 3}, {true, 7}, {false, 1}};
    std::optional<Hash32> first;
    for (size_t rotation = 0; rotation < ops.size(); ++rotation) {
        MuHash3072 acc;
        for (size_t i = 0; i < ops.size(); ++i) {
            const auto& [insert, value] = ops[(i + rotation) % ops.size()];
            std::array<uint8_t, 32> element{value};
            if (insert) {
                acc.Insert(element);
            } else {
                acc.Remove(element);
            }
        }
        const Hash32 digest = acc.Finalize();
        if (!first) first = digest;
        CHECK(digest == *first);
    }
    // {5, 7} / {1}: the same as inserting 5 and 7 and removing 1 in one order.
    MuHash3072 direct = FromInt(5);
    direct *= FromInt(7);
    direct /= FromInt(1);
    CHECK(direct.Finalize() == *first);
}

TEST_CASE("x times y divided by y times x is the empty set, and copies are independent")
{
    MuHash3072 x = FromInt(11);
    MuHash3072 y = FromInt(12);
    MuHash3072 z;
    z *= x;
    z *= y;
    MuHash3072 y_copy = y;
    y *= x;
    z /= y;
    CHECK(z.Finalize() == MuHash3072().Finalize());
    CHECK(y_copy.Finalize() == FromInt(12).Finalize());
    CHECK(y.Finalize() != y_copy.Finalize());
}
