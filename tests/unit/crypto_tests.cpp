// Known-answer tests for common/crypto: NIST SHA-256 examples, the RIPEMD-160
// authors' vectors, RFC 4231 HMAC cases, the SipHash paper's vectors and a
// BIP340 tagged hash.
#include <common/crypto/hash.h>
#include <tests/unit/test_util.h>

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace orrery::crypto;

namespace {

std::span<const uint8_t> Bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

} // namespace

TEST_CASE("sha256 matches the NIST examples")
{
    CHECK(orrery::test::ToHex(Sha256(Bytes(""))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(orrery::test::ToHex(Sha256(Bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(orrery::test::ToHex(Sha256(Bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1000000, 'a');
    CHECK(orrery::test::ToHex(Sha256(Bytes(million))) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("double sha256 is sha256 applied twice")
{
    CHECK(Sha256d(Bytes("abc")) == Sha256(Sha256(Bytes("abc"))));
    // Bitcoin's well-known "hello" double hash.
    CHECK(orrery::test::ToHex(Sha256d(Bytes("hello"))) ==
          "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
}

TEST_CASE("an incremental hasher fed in pieces agrees with the one-shot hash")
{
    const std::string msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq and then some more bytes";
    for (size_t split = 0; split <= msg.size(); ++split) {
        Sha256Hasher hasher;
        hasher.Write(Bytes(std::string_view(msg).substr(0, split)));
        hasher.Write(Bytes(std::string_view(msg).substr(split)));
        REQUIRE(hasher.Finalize() == Sha256(Bytes(msg)));
        REQUIRE(hasher.FinalizeDouble() == Sha256d(Bytes(msg)));
    }
}

TEST_CASE("a copied hasher carries the midstate and finalizing leaves it intact")
{
    Sha256Hasher prefix;
    prefix.Write(Bytes("common prefix that is longer than one sixty-four byte block of input......"));
    const Hash32 before = prefix.Finalize();
    Sha256Hasher a = prefix;
    Sha256Hasher b = prefix;
    a.Write(Bytes("A"));
    b.Write(Bytes("B"));
    CHECK(prefix.Finalize() == before);
    CHECK(a.Finalize() == Sha256(Bytes("common prefix that is longer than one sixty-four byte block of input......A")));
    CHECK(b.Finalize() == Sha256(Bytes("common prefix that is longer than one sixty-four byte block of input......B")));
}

TEST_CASE("ripemd160 matches the authors' test vectors")
{
    CHECK(orrery::test::ToHex(Ripemd160(Bytes(""))) == "9c1185a5c5e9fc54612808977ee8f548b2258d31");
    CHECK(orrery::test::ToHex(Ripemd160(Bytes("a"))) == "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe");
    CHECK(orrery::test::ToHex(Ripemd160(Bytes("abc"))) == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
    CHECK(orrery::test::ToHex(Ripemd160(Bytes("message digest"))) == "5d0689ef49d2fae572b881b123a85ffa21595f36");
    CHECK(orrery::test::ToHex(Ripemd160(Bytes("abcdefghijklmnopqrstuvwxyz"))) ==
          "f71c27109c692c1b56bbdceb5b9d2865b3708dbc");
    CHECK(orrery::test::ToHex(Ripemd160(Bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
          "12a053384a9c0c88e405a06c27dcf49ada62eb2b");
    CHECK(orrery::test::ToHex(Ripemd160(Bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))) ==
          "b0e20b6e3116640286ed3a87a5713079b21f5189");
    std::string eighty;
    for (int i = 0; i < 8; ++i) eighty += "1234567890";
    CHECK(orrery::test::ToHex(Ripemd160(Bytes(eighty))) == "9b752e45573d4b39f4dbd3323cab82bf63326bfb");
    const std::string million(1000000, 'a');
    CHECK(orrery::test::ToHex(Ripemd160(Bytes(million))) == "52783243c1697bdbe16d37f97f68f08325dc1528");
}

TEST_CASE("ripemd160 pads correctly at every length around the block boundaries")
{
    // Digest of the concatenated RIPEMD-160s of "x" * n for n = 0..130,
    // computed with Python's hashlib.
    std::vector<uint8_t> all;
    for (size_t n = 0; n <= 130; ++n) {
        const Hash20 h = Ripemd160(Bytes(std::string(n, 'x')));
        all.insert(all.end(), h.begin(), h.end());
    }
    CHECK(orrery::test::ToHex(Sha256(all)) == "4513a4031c06e6fb2676d64b7efaa4fb36ccb199056164ae18c19c43bcfb18e9");
}

TEST_CASE("hash160 is ripemd160 of sha256")
{
    CHECK(orrery::test::ToHex(Hash160(Bytes("abc"))) == "bb1be98c142444d7a56aa3981c3942a978e4dc33");
}

TEST_CASE("hmac matches RFC 4231 test cases 1, 2 and 6")
{
    const std::vector<uint8_t> key1(20, 0x0b);
    CHECK(orrery::test::ToHex(HmacSha256(key1, Bytes("Hi There"))) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(orrery::test::ToHex(HmacSha512(key1, Bytes("Hi There"))) ==
          "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
          "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    CHECK(orrery::test::ToHex(HmacSha256(Bytes("Jefe"), Bytes("what do ya want for nothing?"))) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(orrery::test::ToHex(HmacSha512(Bytes("Jefe"), Bytes("what do ya want for nothing?"))) ==
          "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
          "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    // Key longer than the block size is hashed first.
    const std::vector<uint8_t> key6(131, 0xaa);
    const auto msg6 = Bytes("Test Using Larger Than Block-Size Key - Hash Key First");
    CHECK(orrery::test::ToHex(HmacSha256(key6, msg6)) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(orrery::test::ToHex(HmacSha512(key6, msg6)) ==
          "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
          "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
}

TEST_CASE("tagged hash prefixes the data with the tag's hash twice")
{
    CHECK(orrery::test::ToHex(TaggedHash("BIP0340/challenge", Bytes("abc"))) ==
          "770a5b7e7c304bbcc3ea107343ff951dd404312ef418db0c3b94e2ebfbb50087");
    CHECK(orrery::test::ToHex(TaggedHash("TapLeaf", {})) ==
          "5212c288a377d1f8164962a5a13429f9ba6a7b84e59776a52c6637df2106facb");
    CHECK(TaggedHasher("TapLeaf").Write(Bytes("xyz")).Finalize() == TaggedHash("TapLeaf", Bytes("xyz")));
}

TEST_CASE("siphash-2-4 matches the reference vectors for key 00..0f")
{
    const uint64_t k0 = 0x0706050403020100ULL;
    const uint64_t k1 = 0x0F0E0D0C0B0A0908ULL;
    std::vector<uint8_t> msg;
    CHECK(SipHash24(k0, k1, msg) == 0x726fdb47dd0e0e31ULL);
    msg.push_back(0);
    CHECK(SipHash24(k0, k1, msg) == 0x74f839c593dc67fdULL);
    for (uint8_t i = 1; i < 8; ++i) msg.push_back(i);
    CHECK(SipHash24(k0, k1, msg) == 0x93f5f5799a932462ULL);
    for (uint8_t i = 8; i < 15; ++i) msg.push_back(i);
    CHECK(SipHash24(k0, k1, msg) == 0xa129ca6149be45e5ULL);
}
