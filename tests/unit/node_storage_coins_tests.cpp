// The UTXO set's storage: Core's VARINT and compression on known values, coin
// records, the LevelDB store (with an interrupted flush) and the write-back
// cache's DIRTY/FRESH rules, on real LevelDB folders.
#include <services/node/storage/coins.h>

#include <common/consensus/hex.h>

#include <doctest/doctest.h>

#include <tests/unit/test_util.h>

#include <map>
#include <memory>
#include <random>
#include <stdexcept>

using namespace orrery;
using namespace orrery::node;

namespace {

std::vector<uint8_t> Hex(std::string_view hex)
{
    auto bytes = TryParseHex(hex);
    REQUIRE(bytes.has_value());
    return *bytes;
}

std::vector<uint8_t> VarIntBytes(uint64_t n)
{
    std::vector<uint8_t> out;
    Writer writer(out);
    WriteVarInt(writer, n);
    return out;
}

Script P2pkh(uint8_t fill)
{
    Script s{OP_DUP, OP_HASH160, 20};
    s.insert(s.end(), 20, fill);
    s.push_back(OP_EQUALVERIFY);
    s.push_back(OP_CHECKSIG);
    return s;
}

Coin MakeCoin(Amount value, uint32_t height, uint8_t fill = 0x11, bool coinbase = false)
{
    return Coin{TxOut{value, P2pkh(fill)}, height, coinbase};
}

OutPoint Out(uint8_t id, uint32_t n = 0)
{
    OutPoint o;
    o.hash.data()[0] = id;
    o.n = n;
    return o;
}

std::vector<uint8_t> CompressedScript(const Script& script)
{
    std::vector<uint8_t> out;
    Writer writer(out);
    WriteCompressedScript(writer, script);
    return out;
}

Script RoundTripScript(const Script& script)
{
    const auto bytes = CompressedScript(script);
    SpanReader reader(bytes);
    Script back = ReadCompressedScript(reader);
    CHECK(reader.Empty());
    return back;
}

//! The secp256k1 generator point, uncompressed (a valid public key).
const char* G_UNCOMPRESSED = "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                             "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

} // namespace

TEST_CASE("VARINT encodes Core's reference values byte for byte and reads them back")
{
    const std::vector<std::pair<uint64_t, const char*>> cases = {
        {0, "00"},
        {0x7f, "7f"},
        {0x80, "8000"},
        {0x1234, "a334"},
        {0xffff, "82fe7f"},
        {0x123456, "c7e756"},
        {0x80123456, "86ffc7e756"},
        {0xffffffff, "8efefefe7f"},
        {0x7fffffffffffffff, "fefefefefefefefe7f"},
        {0xffffffffffffffff, "80fefefefefefefefe7f"},
    };
    for (const auto& entry : cases) {
        const uint64_t value = entry.first;
        const char* hex = entry.second;
        CAPTURE(value);
        CHECK(VarIntBytes(value) == Hex(hex));
        const auto bytes = Hex(hex);
        SpanReader reader(bytes);
        CHECK(ReadVarInt(reader) == value);
        CHECK(reader.Empty());
    }
}

TEST_CASE("a VARINT that overflows its range or stops early is rejected")
{
    const auto too_big = Hex("80fefefefefefefefeff7f");
    SpanReader big(too_big);
    CHECK_THROWS_AS(ReadVarInt(big), DeserializeError);
    const auto above_u32 = VarIntBytes(0x100000000);
    SpanReader u32(above_u32);
    CHECK_THROWS_AS(ReadVarInt(u32, 0xffffffff), DeserializeError);
    const auto torn = Hex("8e");
    SpanReader short_reader(torn);
    CHECK_THROWS_AS(ReadVarInt(short_reader), DeserializeError);
}

TEST_CASE("amounts compress to Core's values and every small amount round-trips")
{
    constexpr uint64_t COIN = 100000000;
    constexpr uint64_t CENT = 1000000;
    CHECK(CompressAmount(0) == 0x0);
    CHECK(CompressAmount(1) == 0x1);
    CHECK(CompressAmount(CENT) == 0x7);
    CHECK(CompressAmount(COIN) == 0x9);
    CHECK(CompressAmount(50 * COIN) == 0x32);
    CHECK(CompressAmount(21000000 * COIN) == 0x1406f40);
    CHECK(DecompressAmount(0x1406f40) == 21000000 * COIN);
    for (uint64_t i = 1; i <= 100000; ++i) {
        if (DecompressAmount(CompressAmount(i)) != i) FAIL("amount " << i << " does not round-trip");
        if (CompressAmount(DecompressAmount(i)) != i) FAIL("code " << i << " does not round-trip");
    }
    for (uint64_t i = 1; i <= 10000; ++i) REQUIRE(DecompressAmount(CompressAmount(i * CENT)) == i * CENT);
}

TEST_CASE("standard scripts compress to Core's special forms and decompress to the same script")
{
    const Script p2pkh = P2pkh(0xab);
    CHECK(CompressedScript(p2pkh).size() == 21);
    CHECK(CompressedScript(p2pkh)[0] == 0x00);
    CHECK(RoundTripScript(p2pkh) == p2pkh);

    Script p2sh{OP_HASH160, 20};
    p2sh.insert(p2sh.end(), 20, 0xcd);
    p2sh.push_back(OP_EQUAL);
    CHECK(CompressedScript(p2sh).size() == 21);
    CHECK(CompressedScript(p2sh)[0] == 0x01);
    CHECK(RoundTripScript(p2sh) == p2sh);

    const auto full = Hex(G_UNCOMPRESSED);
    Script p2pk_compressed{33, 0x02};
    p2pk_compressed.insert(p2pk_compressed.end(), full.begin() + 1, full.begin() + 33);
    p2pk_compressed.push_back(OP_CHECKSIG);
    CHECK(CompressedScript(p2pk_compressed).size() == 33);
    CHECK(CompressedScript(p2pk_compressed)[0] == 0x02);
    CHECK(RoundTripScript(p2pk_compressed) == p2pk_compressed);

    // An uncompressed key is stored compressed (type 4 or 5 by the parity of y) and decompressed on read.
    Script p2pk_uncompressed{65};
    p2pk_uncompressed.insert(p2pk_uncompressed.end(), full.begin(), full.end());
    p2pk_uncompressed.push_back(OP_CHECKSIG);
    const auto compressed = CompressedScript(p2pk_uncompressed);
    CHECK(compressed.size() == 33);
    CHECK(compressed[0] == (0x04 | (full[64] & 1)));
    CHECK(RoundTripScript(p2pk_uncompressed) == p2pk_uncompressed);
}

TEST_CASE("other scripts are stored whole after their size plus six")
{
    const Script witness_v0 = Hex("0014751e76e8199196d454941c45d1b3a323f1433bd6");
    const auto bytes = CompressedScript(witness_v0);
    CHECK(bytes.size() == 1 + witness_v0.size());
    CHECK(bytes[0] == witness_v0.size() + 6);
    CHECK(RoundTripScript(witness_v0) == witness_v0);

    // An uncompressed key that is not on the curve cannot be compressed: stored as a plain script.
    Script bad_key{65, 0x04};
    bad_key.insert(bad_key.end(), 64, 0x01);
    bad_key.push_back(OP_CHECKSIG);
    CHECK(CompressedScript(bad_key).size() == 1 + 67);
    CHECK(RoundTripScript(bad_key) == bad_key);

    CHECK(RoundTripScript(Script{}) == Script{});
}

TEST_CASE("a compressed uncompressed-key script whose x is not on the curve is a decoding error")
{
    std::vector<uint8_t> bytes{0x04};
    bytes.insert(bytes.end(), 32, 0x00); // x = 0: no point with x = 0 on secp256k1
    SpanReader reader(bytes);
    CHECK_THROWS_AS(ReadCompressedScript(reader), DeserializeError);
}

TEST_CASE("a stored script longer than the script limit reads back as OP_RETURN")
{
    const Script huge(10001, OP_NOP);
    CHECK(RoundTripScript(huge) == Script{OP_RETURN});
}

TEST_CASE("a coin round-trips through Core's disk form")
{
    const Coin coin = MakeCoin(5000000000, 123456, 0x22, /*coinbase=*/true);
    std::vector<uint8_t> bytes;
    Writer writer(bytes);
    WriteCoin(writer, coin);
    // VARINT(123456 * 2 + 1), VARINT(CompressAmount(50 BTC) = 0x32), 0x00 and the key hash.
    CHECK(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4) == Hex("8e880132"));
    SpanReader reader(bytes);
    CHECK(ReadCoin(reader) == coin);
    CHECK(reader.Empty());
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
        SpanReader torn{std::span<const uint8_t>(bytes).first(cut)};
        CHECK_THROWS_AS(ReadCoin(torn), DeserializeError);
    }
}

TEST_CASE("a script size larger than the record is rejected before anything is allocated")
{
    std::vector<uint8_t> bytes{0x02, 0x01};
    Writer writer(bytes);
    WriteVarInt(writer, 0xffffffff);
    SpanReader reader(bytes);
    CHECK_THROWS_AS(ReadCoin(reader), DeserializeError);
    // Sizes are 32-bit, as in Core.
    std::vector<uint8_t> wide{0x02, 0x01};
    Writer wide_writer(wide);
    WriteVarInt(wide_writer, 0x100000000);
    SpanReader wide_reader(wide);
    CHECK_THROWS_AS(ReadCoin(wide_reader), DeserializeError);
}

TEST_CASE("the coins database stores coins, the best block and erases spent coins")
{
    test::TempDir dir;
    uint256 best;
    best.data()[0] = 7;
    {
        CoinsDB db(dir / "chainstate", 1 << 20, false);
        CHECK(db.GetBestBlock().IsNull());
        CoinsMap entries;
        entries[Out(1, 0)] = CoinsCacheEntry{MakeCoin(1000, 5), CoinsCacheEntry::DIRTY};
        entries[Out(1, 300)] = CoinsCacheEntry{MakeCoin(2000, 5), CoinsCacheEntry::DIRTY};
        entries[Out(2, 1)] = CoinsCacheEntry{MakeCoin(3000, 6), 0}; // not dirty: not written
        db.BatchWrite(entries, best);
        CHECK(entries.empty());
    }
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CHECK(db.GetBestBlock() == best);
    CHECK(db.GetHeadBlocks().empty());
    CHECK(db.GetCoin(Out(1, 0)) == MakeCoin(1000, 5));
    CHECK(db.HaveCoin(Out(1, 300)));
    CHECK_FALSE(db.HaveCoin(Out(2, 1)));
    std::vector<OutPoint> order;
    db.ForEachCoin([&](const OutPoint& o, const Coin&) {
        order.push_back(o);
        return true;
    });
    CHECK(order == std::vector<OutPoint>{Out(1, 0), Out(1, 300)});

    CoinsMap spend;
    spend[Out(1, 0)] = CoinsCacheEntry{Coin{}, CoinsCacheEntry::DIRTY};
    db.BatchWrite(spend, best);
    CHECK_FALSE(db.GetCoin(Out(1, 0)).has_value());
    CHECK(db.HaveCoin(Out(1, 300)));

    // LevelDB's lock: a second opening fails, naming the folder.
    try {
        CoinsDB second(dir / "chainstate", 1 << 20, false);
        FAIL("opened a locked database");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find((dir / "chainstate").string()) != std::string::npos);
    }
}

TEST_CASE("opening the coins database with wipe starts from an empty set")
{
    test::TempDir dir;
    uint256 best;
    best.data()[0] = 7;
    {
        CoinsDB db(dir / "chainstate", 1 << 20, false);
        CoinsMap entries;
        entries[Out(1)] = CoinsCacheEntry{MakeCoin(1000, 5), CoinsCacheEntry::DIRTY};
        db.BatchWrite(entries, best);
    }
    CoinsDB db(dir / "chainstate", 1 << 20, true);
    CHECK_FALSE(db.HaveCoin(Out(1)));
    CHECK(db.GetBestBlock().IsNull());
}

TEST_CASE("a flush interrupted between batches leaves the head-blocks marker and a rerun completes it")
{
    test::TempDir dir;
    uint256 old_tip, new_tip, other_tip;
    old_tip.data()[0] = 1;
    new_tip.data()[0] = 2;
    other_tip.data()[0] = 3;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsMap first;
    first[Out(9)] = CoinsCacheEntry{MakeCoin(1, 1), CoinsCacheEntry::DIRTY};
    db.BatchWrite(first, old_tip);

    CoinsMap entries;
    for (uint8_t i = 10; i < 60; ++i) entries[Out(i)] = CoinsCacheEntry{MakeCoin(i, 2), CoinsCacheEntry::DIRTY};
    const CoinsMap saved = entries;
    db.SetBatchSize(64);
    int batches = 0;
    db.SetBatchHook([&] {
        if (++batches == 3) throw std::runtime_error("simulated crash");
    });
    CHECK_THROWS_WITH(db.BatchWrite(entries, new_tip), "simulated crash");
    CHECK(db.GetBestBlock().IsNull());
    CHECK(db.GetHeadBlocks() == std::vector<uint256>{new_tip, old_tip});
    size_t written = 0;
    db.ForEachCoin([&](const OutPoint&, const Coin&) {
        ++written;
        return true;
    });
    CHECK(written > 1);
    CHECK(written < 51);

    // Only the same target may continue an interrupted flush.
    CoinsMap other = saved;
    db.SetBatchHook({});
    CHECK_THROWS_AS(db.BatchWrite(other, other_tip), std::runtime_error);

    CoinsMap again = saved;
    db.BatchWrite(again, new_tip);
    CHECK(db.GetBestBlock() == new_tip);
    CHECK(db.GetHeadBlocks().empty());
    written = 0;
    db.ForEachCoin([&](const OutPoint&, const Coin&) {
        ++written;
        return true;
    });
    CHECK(written == 51);
}

TEST_CASE("a coins database under a file that is not a folder fails naming the path")
{
    test::TempDir dir;
    std::ofstream(dir / "file") << "x";
    const auto path = dir / "file" / "chainstate";
    try {
        CoinsDB db(path, 1 << 20, false);
        FAIL("opened a database under a file");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
    }
}

TEST_CASE("a new coin in a cache is FRESH and DIRTY, and spending it leaves nothing to flush")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsCache cache(db);
    cache.AddCoin(Out(1), MakeCoin(100, 1), false);
    CHECK(cache.HaveCoin(Out(1)));
    CHECK(cache.AccessCoin(Out(1)) == MakeCoin(100, 1));
    CHECK(cache.CacheSize() == 1);
    Coin moved;
    CHECK(cache.SpendCoin(Out(1), &moved));
    CHECK(moved == MakeCoin(100, 1));
    CHECK(cache.CacheSize() == 0);
    CHECK_FALSE(cache.SpendCoin(Out(1)));
    CHECK(cache.AccessCoin(Out(1)).IsSpent());
    uint256 tip;
    tip.data()[0] = 1;
    cache.SetBestBlock(tip);
    cache.Flush();
    CHECK(db.GetBestBlock() == tip);
    CHECK_FALSE(db.HaveCoin(Out(1)));
}

TEST_CASE("a coin read from the database is clean, and spending it erases it from the database at flush")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    uint256 tip;
    tip.data()[0] = 1;
    CoinsMap entries;
    entries[Out(1)] = CoinsCacheEntry{MakeCoin(100, 1), CoinsCacheEntry::DIRTY};
    db.BatchWrite(entries, tip);

    CoinsCache cache(db);
    CHECK(cache.GetBestBlock() == tip);
    CHECK(cache.GetCoin(Out(1)) == MakeCoin(100, 1));
    CHECK(cache.CacheSize() == 1);
    cache.Uncache(Out(1)); // clean: dropped
    CHECK(cache.CacheSize() == 0);
    CHECK(cache.HaveCoin(Out(1))); // fetched again
    CHECK_THROWS_AS(cache.AddCoin(Out(1), MakeCoin(5, 2), false), std::logic_error);
    CHECK(cache.SpendCoin(Out(1)));
    CHECK(cache.CacheSize() == 1); // a DIRTY spent entry the database must see
    cache.Uncache(Out(1));         // dirty: kept
    CHECK(cache.CacheSize() == 1);
    CHECK(db.HaveCoin(Out(1)));
    cache.Flush();
    CHECK_FALSE(db.HaveCoin(Out(1)));
    CHECK(cache.CacheSize() == 0);
}

TEST_CASE("a nested cache flushes into its parent, and entries created and spent above the database vanish")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    uint256 tip1, tip2;
    tip1.data()[0] = 1;
    tip2.data()[0] = 2;
    CoinsMap entries;
    entries[Out(1)] = CoinsCacheEntry{MakeCoin(100, 1), CoinsCacheEntry::DIRTY};
    db.BatchWrite(entries, tip1);

    CoinsCache parent(db);
    parent.AddCoin(Out(2), MakeCoin(200, 2), false); // FRESH in the parent
    {
        CoinsCache child(parent);
        CHECK(child.SpendCoin(Out(1))); // from the database
        CHECK(child.SpendCoin(Out(2))); // FRESH only in the parent
        child.AddCoin(Out(3), MakeCoin(300, 2), false);
        // Out(1) and Out(2) were fetched clean into the child, so their spends are DIRTY entries; Out(3) is FRESH.
        CHECK(child.CacheSize() == 3);
        child.SetBestBlock(tip2);
        child.Flush();
        CHECK(child.CacheSize() == 0);
    }
    CHECK(parent.GetBestBlock() == tip2);
    CHECK_FALSE(parent.HaveCoin(Out(1)));
    CHECK_FALSE(parent.HaveCoin(Out(2)));
    CHECK(parent.HaveCoin(Out(3)));
    // Out(2) was FRESH in the parent and spent in the child: the entry is gone, not a spent tombstone.
    CHECK(parent.CacheSize() == 2);
    CHECK(db.HaveCoin(Out(1)));
    parent.Flush();
    CHECK(db.GetBestBlock() == tip2);
    CHECK_FALSE(db.HaveCoin(Out(1)));
    CHECK_FALSE(db.HaveCoin(Out(2)));
    CHECK(db.GetCoin(Out(3)) == MakeCoin(300, 2));
}

TEST_CASE("Sync writes the dirty entries and keeps them cached as clean")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsCache cache(db);
    cache.AddCoin(Out(1), MakeCoin(100, 1), false);
    cache.AddCoin(Out(2), MakeCoin(200, 1), false);
    uint256 tip;
    tip.data()[0] = 4;
    cache.SetBestBlock(tip);
    cache.Sync();
    CHECK(db.HaveCoin(Out(1)));
    CHECK(db.GetBestBlock() == tip);
    CHECK(cache.CacheSize() == 2);
    cache.Uncache(Out(1)); // now clean
    CHECK(cache.CacheSize() == 1);
    // A spend after Sync is not FRESH any more: it must reach the database.
    CHECK(cache.SpendCoin(Out(2)));
    cache.Sync();
    CHECK_FALSE(db.HaveCoin(Out(2)));
    CHECK(cache.CacheSize() == 0);
}

TEST_CASE("a FRESH child entry over an unspent parent coin is a logic error")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsCache parent(db);
    parent.AddCoin(Out(1), MakeCoin(100, 1), false);
    CoinsMap entries;
    entries[Out(1)] = CoinsCacheEntry{MakeCoin(5, 2), CoinsCacheEntry::DIRTY | CoinsCacheEntry::FRESH};
    CHECK_THROWS_AS(parent.BatchWrite(entries, uint256{}), std::logic_error);
}

TEST_CASE("transaction outputs are added with their height, OP_RETURN outputs are not")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsCache cache(db);
    Transaction tx;
    tx.vin.resize(1);
    tx.vout.push_back(TxOut{1000, P2pkh(1)});
    tx.vout.push_back(TxOut{0, Script{OP_RETURN, 1, 0x42}});
    cache.AddTransactionCoins(tx, 77, /*check_for_overwrite=*/false);
    const uint256 txid = tx.GetTxid();
    CHECK(cache.AccessCoin(OutPoint{txid, 0}).height == 77);
    CHECK_FALSE(cache.HaveCoin(OutPoint{txid, 1}));
    CHECK(cache.CacheSize() == 1);
}

TEST_CASE("the cache's memory estimate grows with its entries and their scripts and drops after a flush")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsCache cache(db);
    const size_t empty = cache.DynamicMemoryUsage();
    for (uint8_t i = 0; i < 100; ++i) cache.AddCoin(Out(i), MakeCoin(1000, 1), false);
    const size_t full = cache.DynamicMemoryUsage();
    CHECK(full >= empty + 100 * (sizeof(CoinsMap::value_type) + 25));
    cache.Flush();
    CHECK(cache.DynamicMemoryUsage() < full / 4);
}

TEST_CASE("a child cache synced into its parent keeps its entries, clean")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    CoinsCache parent(db);
    CoinsCache child(parent);
    child.AddCoin(Out(1), MakeCoin(100, 1), false);
    child.Sync();
    CHECK(parent.HaveCoin(Out(1)));
    CHECK(child.CacheSize() == 1);
    child.Uncache(Out(1));
    CHECK(child.CacheSize() == 0);
    CHECK_FALSE(db.HaveCoin(Out(1)));
    parent.Flush();
    CHECK(db.HaveCoin(Out(1)));
}

TEST_CASE("a flush that fails half way keeps every entry in the cache, and the next flush writes them")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    db.SetBatchSize(64);
    db.SetBatchHook([] { throw std::runtime_error("disk gone"); });
    CoinsCache cache(db);
    for (uint8_t i = 0; i < 20; ++i) cache.AddCoin(Out(i), MakeCoin(1000 + i, 1), false);
    uint256 tip;
    tip.data()[0] = 5;
    cache.SetBestBlock(tip);
    CHECK_THROWS_WITH(cache.Flush(), "disk gone");
    CHECK(cache.CacheSize() == 20);
    CHECK(db.GetHeadBlocks() == std::vector<uint256>{tip, uint256{}});
    db.SetBatchHook({});
    cache.Flush();
    CHECK(db.GetBestBlock() == tip);
    for (uint8_t i = 0; i < 20; ++i) CHECK(db.GetCoin(Out(i)) == MakeCoin(1000 + i, 1));
}

TEST_CASE("Core's coin serialization vectors decode, re-encode byte for byte, and their broken forms fail")
{
    const auto p2pkh_of = [](std::string_view hash) {
        Script s{OP_DUP, OP_HASH160, 20};
        const auto bytes = Hex(hash);
        s.insert(s.end(), bytes.begin(), bytes.end());
        s.push_back(OP_EQUALVERIFY);
        s.push_back(OP_CHECKSIG);
        return s;
    };
    const std::vector<std::pair<const char*, Coin>> good = {
        {"97f23c835800816115944e077fe7c803cfa57f29b36bf87c1d35",
         Coin{TxOut{60000000000, p2pkh_of("816115944e077fe7c803cfa57f29b36bf87c1d35")}, 203998, false}},
        {"8ddf77bbd123008c988f1a4a4de2161e0f50aac7f17e7f9555caa4",
         Coin{TxOut{110397, p2pkh_of("8c988f1a4a4de2161e0f50aac7f17e7f9555caa4")}, 120891, true}},
        {"000006", Coin{TxOut{0, Script{}}, 0, false}},
    };
    for (const auto& entry : good) {
        const char* hex = entry.first;
        CAPTURE(hex);
        const auto bytes = Hex(hex);
        SpanReader reader(bytes);
        CHECK(ReadCoin(reader) == entry.second);
        CHECK(reader.Empty());
        std::vector<uint8_t> again;
        Writer writer(again);
        WriteCoin(writer, entry.second);
        CHECK(again == bytes);
    }
    // A script that runs past the end, and one of 3,000,000,000 bytes.
    CHECK(VarIntBytes(3000000000ULL) == Hex("8a95c0bb00"));
    for (const char* hex : {"000007", "00008a95c0bb00"}) {
        const auto bytes = Hex(hex);
        SpanReader reader(bytes);
        CHECK_THROWS_AS(ReadCoin(reader), DeserializeError);
    }
}

TEST_CASE("random adds, spends, syncs and flushes through a stack of caches agree with a plain map at every step")
{
    test::TempDir dir;
    CoinsDB db(dir / "chainstate", 1 << 20, false);
    db.SetBatchSize(512); // many intermediate batches per flush
    std::vector<std::unique_ptr<CoinsCache>> stack;
    stack.push_back(std::make_unique<CoinsCache>(db));
    std::map<OutPoint, Coin> reference;
    std::mt19937 rng(20261205);
    auto pick = [&](uint32_t n) { return uint32_t(rng() % n); };
    uint256 tip;
    uint32_t height = 1;
    auto check_database = [&] {
        std::map<OutPoint, Coin> stored;
        db.ForEachCoin([&](const OutPoint& o, const Coin& c) {
            stored.emplace(o, c);
            return true;
        });
        CHECK(stored == reference);
    };
    for (int step = 0; step < 40000; ++step) {
        CoinsCache& top = *stack.back();
        const OutPoint outpoint = Out(uint8_t(pick(200)), pick(3));
        const auto known = reference.find(outpoint);
        const uint32_t op = pick(100);
        if (op < 40) {
            if (known != reference.end()) {
                Coin moved;
                REQUIRE(top.SpendCoin(outpoint, &moved));
                REQUIRE(moved == known->second);
                reference.erase(known);
            } else {
                const Coin coin = MakeCoin(Amount(1 + pick(100000)), height, uint8_t(pick(256)), pick(2) == 0);
                top.AddCoin(outpoint, coin, /*possible_overwrite=*/pick(4) == 0);
                reference[outpoint] = coin;
            }
        } else if (op < 45 && known != reference.end()) {
            const Coin coin = MakeCoin(Amount(1 + pick(100000)), height, uint8_t(pick(256)));
            top.AddCoin(outpoint, coin, /*possible_overwrite=*/true);
            reference[outpoint] = coin;
        } else if (op < 80) {
            const std::optional<Coin> got = top.GetCoin(outpoint);
            if (known == reference.end()) {
                REQUIRE_FALSE(got.has_value());
            } else {
                REQUIRE(got == known->second);
            }
        } else if (op < 90) {
            top.Uncache(outpoint);
        } else if (op < 93) {
            tip.data()[0] = uint8_t(++height);
            top.SetBestBlock(tip);
            if (pick(2) == 0) {
                top.Sync();
            } else if (stack.size() > 1) {
                top.Flush();
                stack.pop_back();
            } else {
                top.Flush();
            }
        } else if (op < 95 && stack.size() < 4) {
            stack.push_back(std::make_unique<CoinsCache>(top));
        }
        REQUIRE(stack.back()->DynamicMemoryUsage() < (size_t{1} << 30));
        if (step % 5000 == 4999) {
            tip.data()[0] = uint8_t(++height);
            while (!stack.empty()) {
                stack.back()->SetBestBlock(tip);
                stack.back()->Flush();
                if (stack.size() == 1) break;
                stack.pop_back();
            }
            CHECK(db.GetBestBlock() == tip);
            check_database();
        }
    }
}
