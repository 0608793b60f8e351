// The wallet's secret box (services/wallet/crypter.h): a sealed value opens only
// with its key and its context, any altered byte is refused, the master key
// unwraps only with its passphrase, and the key derivation is deterministic
// and refuses parameters it does not know.
#include <services/wallet/crypter.h>

#include <common/consensus/hex.h>

#include <doctest/doctest.h>

#include <string>

using namespace orrery;
using namespace orrery::wallet;

namespace {

//! Cheap parameters: the tests check the plumbing, not the cost.
KdfParams FastParams()
{
    KdfParams params = NewKdfParams();
    params.opslimit = 1;
    params.memlimit = 8192;
    return params;
}

std::string Text(const SecureBytes& bytes)
{
    return {bytes.get().begin(), bytes.get().end()};
}

} // namespace

TEST_CASE("a sealed descriptor opens with its key and context and with nothing else")
{
    auto key = SecretKey::Random();
    auto other = SecretKey::Random();
    const std::string secret = "wpkh(tprv8ZgxMBicQKsPd/84h/1h/0h/0/*)";
    std::vector<uint8_t> sealed = Seal(*key, secret, "descriptor:a");
    CHECK(sealed.size() == 24 + secret.size() + 16);
    CHECK(std::string(sealed.begin(), sealed.end()).find("tprv") == std::string::npos);
    auto plain = Open(*key, sealed, "descriptor:a");
    REQUIRE(plain);
    CHECK(Text(*plain) == secret);
    CHECK_FALSE(Open(*other, sealed, "descriptor:a").has_value());
    CHECK_FALSE(Open(*key, sealed, "descriptor:b").has_value());
    for (size_t i = 0; i < sealed.size(); i += 7) {
        std::vector<uint8_t> altered = sealed;
        altered[i] ^= 0x01;
        CHECK_FALSE(Open(*key, altered, "descriptor:a").has_value());
    }
    CHECK_FALSE(Open(*key, std::span(sealed).first(20), "descriptor:a").has_value());
}

TEST_CASE("two seals of the same secret differ: each has its own random nonce")
{
    auto key = SecretKey::Random();
    CHECK(Seal(*key, std::string("seed"), "seed:00") != Seal(*key, std::string("seed"), "seed:00"));
}

TEST_CASE("the master key unwraps with its passphrase only")
{
    auto master = SecretKey::Random();
    const KdfParams params = FastParams();
    std::vector<uint8_t> wrapped = WrapMasterKey(*master, "correct horse", params);
    auto unwrapped = UnwrapMasterKey(wrapped, "correct horse", params);
    REQUIRE(unwrapped);
    CHECK(std::equal(master->data(), master->data() + SecretKey::SIZE, unwrapped->data()));
    CHECK_FALSE(UnwrapMasterKey(wrapped, "correct horse ", params));
    KdfParams other_salt = params;
    other_salt.salt[0] ^= 1;
    CHECK_FALSE(UnwrapMasterKey(wrapped, "correct horse", other_salt));
}

TEST_CASE("the same passphrase and parameters derive the same key, and unknown or unsafe parameters are refused")
{
    KdfParams params;
    params.opslimit = 2;
    params.memlimit = 65536;
    params.salt = std::vector<uint8_t>(16, 0x02);
    auto key = DeriveKey("password", params);
    auto again = DeriveKey("password", params);
    CHECK(std::equal(key->data(), key->data() + SecretKey::SIZE, again->data()));
    auto other = DeriveKey("passwore", params);
    CHECK_FALSE(std::equal(key->data(), key->data() + SecretKey::SIZE, other->data()));

    KdfParams unknown = params;
    unknown.kdf = "scrypt";
    CHECK_THROWS(DeriveKey("password", unknown));
    KdfParams short_salt = params;
    short_salt.salt.resize(8);
    CHECK_THROWS(DeriveKey("password", short_salt));
    KdfParams no_work = params;
    no_work.opslimit = 0;
    CHECK_THROWS(DeriveKey("password", no_work));
}
