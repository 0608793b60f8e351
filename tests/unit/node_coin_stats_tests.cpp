// gettxoutsetinfo's digests (services/node/storage/coin_stats.h): the empty
// set gives the values Bitcoin Core reports for regtest's genesis, and a
// hand-made set gives what tests/functional/utxo_digest.py (plain Python:
// hashlib, its own ChaCha20, big integers) computes independently.
#include <services/node/storage/coin_stats.h>

#include <tests/unit/test_util.h>

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

using namespace orrery;
using namespace orrery::node;

namespace {

uint256 Txid(uint8_t seed)
{
    std::array<uint8_t, 32> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(seed * 37 + i * 11);
    return uint256(bytes);
}

Coin MakeCoin(Amount value, Script script, uint32_t height, bool coinbase)
{
    Coin coin;
    coin.out.value = value;
    coin.out.script_pubkey = std::move(script);
    coin.height = height;
    coin.coinbase = coinbase;
    return coin;
}

//! A small set covering what the encoding has to get right: coinbase flags, heights above 2^16, output indexes
//! above 127 (multi-byte VARINT keys), empty, short and long (CompactSize 0xfd) scripts, several outputs per txid.
std::map<OutPoint, Coin> HandMadeSet()
{
    std::map<OutPoint, Coin> coins;
    Script p2wpkh{0x00, 0x14};
    for (int i = 0; i < 20; ++i) p2wpkh.push_back(uint8_t(i));
    Script big(300, 0x51);
    coins[{Txid(1), 0}] = MakeCoin(50 * 100'000'000LL, p2wpkh, 1, true);
    coins[{Txid(1), 1}] = MakeCoin(0, Script{0x6a, 0x01, 0x2a}, 1, true);
    coins[{Txid(2), 7}] = MakeCoin(1234, Script{}, 70000, false);
    coins[{Txid(2), 200}] = MakeCoin(99'999, big, 70000, false);
    coins[{Txid(3), 300}] = MakeCoin(2'100'000'000'000'000LL, Script{0x51}, 0, false);
    coins[{Txid(4), 1}] = MakeCoin(546, p2wpkh, 500'000, true);
    return coins;
}

//! Runs the independent Python computation over `coins`; returns its two lines.
std::pair<std::string, std::string> PythonDigests(const std::map<OutPoint, Coin>& coins)
{
    test::TempDir dir{"coin_stats"};
    {
        std::ofstream f(dir / "coins.txt");
        for (const auto& [outpoint, coin] : coins) {
            f << outpoint.hash.GetHex() << ' ' << outpoint.n << ' ' << coin.height << ' ' << (coin.coinbase ? 1 : 0)
              << ' ' << coin.out.value << ' '
              << (coin.out.script_pubkey.empty() ? std::string("-") : orrery::test::ToHex(coin.out.script_pubkey))
              << '\n';
        }
    }
    const std::string cmd = "/usr/bin/python3 " + std::string(ORRERY_SOURCE_DIR) + "/tests/functional/utxo_digest.py " +
                            (dir / "coins.txt").string() + " > " + (dir / "out.txt").string();
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(dir / "out.txt");
    std::string label1, serialized, label2, muhash;
    in >> label1 >> serialized >> label2 >> muhash;
    REQUIRE(label1 == "hash_serialized_3");
    REQUIRE(label2 == "muhash");
    return {serialized, muhash};
}

} // namespace

TEST_CASE("an empty UTXO set hashes to what Core reports for regtest's genesis")
{
    CoinsHasher hasher;
    CHECK(hasher.HashSerialized().GetHex() == "56944c5d3f98413ef45cf54545538103cc9f298e0575820ad3591376e2e0f65d");
    CHECK(hasher.MuHash().GetHex() == "dd5ad2a105c2d29495f577245c357409002329b9f4d6182c0af3dc2f462555c8");
}

TEST_CASE("TxOutSer is the outpoint, height times two plus the coinbase flag, then the output")
{
    const Coin coin = MakeCoin(0x0102030405060708LL, Script{0x51, 0x52}, 3, true);
    const uint256 txid = Txid(9);
    const std::vector<uint8_t> ser = TxOutSer({txid, 0x0a0b0c0d}, coin);
    REQUIRE(ser.size() == 32 + 4 + 4 + 8 + 1 + 2);
    CHECK(std::equal(txid.begin(), txid.end(), ser.begin()));
    CHECK(orrery::test::ToHex(std::span(ser).subspan(32)) == "0d0c0b0a"
                                                             "07000000"
                                                             "0807060504030201"
                                                             "02"
                                                             "5152");
}

TEST_CASE("a hand-made coin set hashes as an independent Python computation of Core's digests says")
{
    const auto coins = HandMadeSet();
    CoinsHasher hasher;
    for (const auto& [outpoint, coin] : coins) hasher.Add(outpoint, coin); // std::map order = key order here
    const auto [serialized, muhash] = PythonDigests(coins);
    CHECK(hasher.HashSerialized().GetHex() == serialized);
    CHECK(hasher.MuHash().GetHex() == muhash);
    // Reading the digests does not disturb the running hasher.
    CHECK(hasher.MuHash().GetHex() == muhash);
}

TEST_CASE("the muhash of a coin set does not depend on the order coins are fed, the serialized hash does")
{
    const auto coins = HandMadeSet();
    CoinsHasher forward;
    CoinsHasher backward;
    for (const auto& [outpoint, coin] : coins) forward.Add(outpoint, coin);
    for (auto it = coins.rbegin(); it != coins.rend(); ++it) backward.Add(it->first, it->second);
    CHECK(forward.MuHash() == backward.MuHash());
    CHECK(forward.HashSerialized() != backward.HashSerialized());
}
