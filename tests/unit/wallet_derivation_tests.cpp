// orrery-wallet's address derivation against the published vectors: the BIP84
// account key and addresses of the "abandon ... about" mnemonic, the first
// addresses of BIP44, BIP49 and BIP86 for the same seed, and the test-network
// coin type (1) with each network's address prefix.
#include <services/wallet/derivation.h>

#include <common/keys/base58.h>
#include <common/keys/key_io.h>

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

using namespace orrery;
using namespace orrery::wallet;

namespace {

constexpr const char* MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                 "abandon about";

//! BIP39: the seed is PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" || passphrase, 2048 rounds).
std::vector<uint8_t> Bip39Seed(const std::string& mnemonic)
{
    std::vector<uint8_t> seed(64);
    const std::string salt = "mnemonic";
    REQUIRE(PKCS5_PBKDF2_HMAC(mnemonic.data(), static_cast<int>(mnemonic.size()),
                              reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), 2048,
                              EVP_sha512(), static_cast<int>(seed.size()), seed.data()) == 1);
    return seed;
}

ExtKey VectorMaster()
{
    std::optional<ExtKey> master = ExtKey::FromSeed(Bip39Seed(MNEMONIC));
    REQUIRE(master);
    return *master;
}

//! SLIP-132 zprv -> xprv: same payload, the BIP32 main-network version bytes.
std::string ZprvToXprv(const std::string& zprv)
{
    auto payload = DecodeBase58Check(zprv, 78);
    REQUIRE(payload);
    REQUIRE(payload->size() == 78);
    uint32_t version = GetAddressParams(Network::MAIN).ext_secret_version;
    for (int i = 0; i < 4; ++i) (*payload)[i] = static_cast<uint8_t>(version >> (24 - 8 * i));
    return EncodeBase58Check(*payload);
}

std::string FirstAddress(OutputType type, Network network, uint32_t index = 0)
{
    auto chain = ReceiveChain::Make(VectorMaster(), type, network);
    REQUIRE(chain);
    auto address = chain->Address(index);
    REQUIRE(address);
    return *address;
}

} // namespace

TEST_CASE("the BIP84 account key of the test mnemonic is the one BIP84 publishes")
{
    ExtKey master = VectorMaster();
    auto account = master.DerivePath(AccountPath(OutputType::BECH32, Network::MAIN));
    REQUIRE(account);
    // BIP84, "Account 0, root = m/84'/0'/0'".
    CHECK(EncodeExtKey(*account, Network::MAIN) ==
          ZprvToXprv("zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZ"
                     "KEm7z6qUWCroSQnE"));
}

TEST_CASE("the first two BIP84 receive addresses match the BIP text")
{
    CHECK(FirstAddress(OutputType::BECH32, Network::MAIN, 0) == "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    CHECK(FirstAddress(OutputType::BECH32, Network::MAIN, 1) == "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g");
}

TEST_CASE("legacy, p2sh-segwit and bech32m use the BIP44, BIP49 and BIP86 accounts")
{
    CHECK(FirstAddress(OutputType::LEGACY, Network::MAIN) == "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA");
    CHECK(FirstAddress(OutputType::P2SH_SEGWIT, Network::MAIN) == "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf");
    CHECK(FirstAddress(OutputType::BECH32M, Network::MAIN) ==
          "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr");
}

TEST_CASE("test networks derive with coin type 1 and use their own prefixes")
{
    CHECK(CoinType(Network::MAIN) == 0);
    for (Network network : {Network::TESTNET3, Network::TESTNET4, Network::SIGNET, Network::REGTEST}) {
        CHECK(CoinType(network) == 1);
    }
    // m/84'/1'/0'/0/0 and m/49'/1'/0'/0/0 of the same mnemonic (BIP49 publishes the second).
    CHECK(FirstAddress(OutputType::BECH32, Network::REGTEST) == "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk");
    CHECK(FirstAddress(OutputType::BECH32, Network::TESTNET3) == "tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl");
    CHECK(FirstAddress(OutputType::P2SH_SEGWIT, Network::REGTEST) == "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2");
    CHECK(FirstAddress(OutputType::BECH32M, Network::REGTEST).starts_with("bcrt1p"));
    CHECK(FirstAddress(OutputType::LEGACY, Network::SIGNET).find_first_of("mn") == 0);
}

TEST_CASE("a regtest bech32 address pays to the key at m/84h/1h/0h/0/i")
{
    ExtKey master = VectorMaster();
    auto path = ParseDerivationPath("m/84h/1h/0h/0/7");
    REQUIRE(path);
    auto key = master.DerivePath(*path);
    REQUIRE(key);
    auto script = DecodeAddress(FirstAddress(OutputType::BECH32, Network::REGTEST, 7), Network::REGTEST);
    REQUIRE(script);
    CHECK(*script == MakeP2WPKHScript(key->key.GetPubKey()));
}

TEST_CASE("address types are parsed with bitcoind's names only")
{
    CHECK(ParseOutputType("legacy") == OutputType::LEGACY);
    CHECK(ParseOutputType("p2sh-segwit") == OutputType::P2SH_SEGWIT);
    CHECK(ParseOutputType("bech32") == OutputType::BECH32);
    CHECK(ParseOutputType("bech32m") == OutputType::BECH32M);
    for (const char* bad : {"", "Bech32", "p2tr", "p2wpkh", "bech32 ", "unknown"}) {
        CHECK_FALSE(ParseOutputType(bad));
    }
    for (OutputType type : ALL_OUTPUT_TYPES) CHECK(ParseOutputType(OutputTypeName(type)) == type);
}

TEST_CASE("an index at or above 2^31 gives no address")
{
    auto chain = ReceiveChain::Make(VectorMaster(), OutputType::BECH32, Network::REGTEST);
    REQUIRE(chain);
    CHECK(chain->Address(0x7fffffff));
    CHECK_FALSE(chain->Address(0x80000000));
}
