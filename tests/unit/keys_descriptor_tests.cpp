// What wallets ask of common/keys/descriptor.h beyond the scripts: the keys of
// an expanded descriptor with their origins and private keys, and the public
// form of a descriptor with private keys (listdescriptors).
#include <common/keys/bip32.h>
#include <common/keys/descriptor.h>
#include <common/keys/key_io.h>

#include <doctest/doctest.h>

using namespace orrery;

namespace {

//! BIP32 test vector 1's master key, as tprv/tpub (the regtest/testnet prefixes).
ExtKey Master()
{
    const std::vector<uint8_t> seed{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    return *ExtKey::FromSeed(seed);
}

} // namespace

TEST_CASE("an expanded ranged descriptor names its key with origin, path and private key")
{
    const ExtKey master = Master();
    const ExtKey account =
        *master.DerivePath(std::vector<uint32_t>{84 | BIP32_HARDENED, 1 | BIP32_HARDENED, 0 | BIP32_HARDENED});
    const std::string xprv = EncodeExtKey(account, Network::REGTEST);
    const std::string text = "wpkh([3442193e/84h/1h/0h]" + xprv + "/0/*)";
    const ParsedDescriptor parsed = ParseDescriptor(text, Network::REGTEST, false, 5);
    REQUIRE(parsed.keys.size() == 1);
    const DescriptorKey& key = parsed.keys[0];
    CHECK(key.fingerprint == "3442193e");
    CHECK(FormatDerivationPath(key.path) == "m/84h/1h/0h/0/5");
    CHECK(key.has_private);
    CHECK(parsed.has_private);
    const ExtKey child = *account.DerivePath(std::vector<uint32_t>{0, 5});
    CHECK(key.secret == child.key);
    const PubKey pub = child.key.GetPubKey();
    CHECK(key.pubkey == std::vector<uint8_t>(pub.bytes().begin(), pub.bytes().end()));
    CHECK(parsed.scripts.at(0) == MakeP2WPKHScript(pub));
}

TEST_CASE("the public form of a descriptor replaces each private key and carries a fresh checksum")
{
    const ExtKey master = Master();
    const std::string xprv = EncodeExtKey(master, Network::REGTEST);
    const std::string xpub = EncodeExtPubKey(master.Neuter(), Network::REGTEST);
    const std::string wif = EncodeWif(master.key, Network::REGTEST);
    const auto pubkey = master.key.GetPubKey(); // bytes() refers into it: keep it alive through the loop
    const std::string hex = [&] {
        std::string out;
        for (uint8_t b : pubkey.bytes())
            out += "0123456789abcdef"[b >> 4], out += "0123456789abcdef"[b & 15];
        return out;
    }();
    CHECK(DescriptorPublicForm("tr(" + xprv + "/86h/1h/0h/0/*)", Network::REGTEST) ==
          AddDescriptorChecksum("tr(" + xpub + "/86h/1h/0h/0/*)"));
    CHECK(DescriptorPublicForm(AddDescriptorChecksum("pkh(" + wif + ")"), Network::REGTEST) ==
          AddDescriptorChecksum("pkh(" + hex + ")"));
    CHECK(DescriptorPublicForm("wpkh(" + hex + ")", Network::REGTEST) == AddDescriptorChecksum("wpkh(" + hex + ")"));
    CHECK_FALSE(ParseDescriptor("wpkh(" + hex + ")", Network::REGTEST, false).has_private);
    CHECK_THROWS_AS(DescriptorPublicForm("wpkh(nonsense)", Network::REGTEST), DescriptorError);
}
