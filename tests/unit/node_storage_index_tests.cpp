// The block index and -txindex databases on real LevelDB folders: Core's
// record forms, round trips across a reopening, flags, and corrupt records.
#include <services/node/storage/block_tree_db.h>
#include <services/node/storage/tx_index.h>

#include <common/consensus/params.h>

#include <doctest/doctest.h>

#include <tests/unit/test_util.h>

#include <fstream>

using namespace orrery;
using namespace orrery::node;

namespace {

constexpr uint32_t HAVE_DATA = 8;
constexpr uint32_t HAVE_UNDO = 16;

DiskBlockIndex MakeIndex(uint32_t nonce, int height, uint32_t status)
{
    DiskBlockIndex index;
    index.header = GetChainParams(ChainType::REGTEST).genesis.Header();
    index.header.nonce = nonce;
    index.height = height;
    index.status = status;
    index.n_tx = 3;
    if (status & HAVE_DATA) index.data_pos = FilePos{2, 1234};
    if (status & HAVE_UNDO) index.undo_pos = FilePos{2, 99};
    return index;
}

} // namespace

TEST_CASE("a block index record round-trips with only the positions its status names")
{
    for (uint32_t status : {0u, 1u | HAVE_DATA, 1u | HAVE_DATA | HAVE_UNDO, 5u}) {
        CAPTURE(status);
        const DiskBlockIndex index = MakeIndex(1, 500, status);
        std::vector<uint8_t> bytes;
        Writer writer(bytes);
        WriteDiskBlockIndex(writer, index);
        SpanReader reader(bytes);
        CHECK(ReadDiskBlockIndex(reader) == index);
        CHECK(reader.Empty());
        for (size_t cut = 0; cut < bytes.size(); ++cut) {
            SpanReader torn{std::span<const uint8_t>(bytes).first(cut)};
            CHECK_THROWS_AS(ReadDiskBlockIndex(torn), DeserializeError);
        }
    }
    // Core's layout: version, height 500 = VARINT 0x8274, status, tx count, file, data position, the header.
    std::vector<uint8_t> bytes;
    Writer writer(bytes);
    WriteDiskBlockIndex(writer, MakeIndex(1, 500, HAVE_DATA));
    CHECK(bytes.size() == 3 + 2 + 1 + 1 + 1 + 2 + 80);
    CHECK(bytes[3] == 0x82);
    CHECK(bytes[4] == 0x74);
}

TEST_CASE("the block tree database keeps index entries, file infos and flags across a reopening")
{
    test::TempDir dir;
    const DiskBlockIndex a = MakeIndex(1, 1, 1 | HAVE_DATA | HAVE_UNDO);
    const DiskBlockIndex b = MakeIndex(2, 2, 1);
    BlockFileInfo info0, info3;
    info0.AddBlock(1, 1000);
    info0.size = 500;
    info3.AddBlock(9, 9000);
    {
        BlockTreeDB db(dir / "index", 1 << 20, false);
        CHECK(db.ReadFileInfos().empty());
        CHECK(db.ReadLastFile() == 0);
        CHECK_FALSE(db.ReadReindexing());
        CHECK_FALSE(db.ReadFlag("txindex").has_value());
        db.WriteBatchSync({{0, info0}, {3, info3}}, 3, {a, b});
        db.WriteReindexing(true);
        db.WriteFlag("txindex", true);
        db.WriteFlag("prunedblockfiles", false);
    }
    BlockTreeDB db(dir / "index", 1 << 20, false);
    const auto infos = db.ReadFileInfos();
    REQUIRE(infos.size() == 4);
    CHECK(infos[0] == info0);
    CHECK(infos[1] == BlockFileInfo{});
    CHECK(infos[3] == info3);
    CHECK(db.ReadLastFile() == 3);
    CHECK(db.ReadReindexing());
    CHECK(db.ReadFlag("txindex") == true);
    CHECK(db.ReadFlag("prunedblockfiles") == false);
    std::map<uint256, DiskBlockIndex> seen;
    db.ForEachIndex([&](const uint256& hash, const DiskBlockIndex& index) { seen[hash] = index; });
    CHECK(seen.size() == 2);
    CHECK(seen.at(a.header.GetHash()) == a);
    CHECK(seen.at(b.header.GetHash()) == b);

    db.WriteReindexing(false);
    CHECK_FALSE(db.ReadReindexing());
    db.EraseIndex({a.header.GetHash()});
    seen.clear();
    db.ForEachIndex([&](const uint256& hash, const DiskBlockIndex& index) { seen[hash] = index; });
    CHECK(seen.size() == 1);
}

TEST_CASE("the transaction index finds every transaction of a written block at its offset")
{
    test::TempDir dir;
    Block block = GetChainParams(ChainType::REGTEST).genesis;
    Transaction second;
    second.vin.resize(1);
    second.vin[0].prevout.hash.data()[0] = 1;
    second.vin[0].prevout.n = 0;
    second.vout.push_back(TxOut{1000, Script{0x51}});
    block.txs.push_back(second);
    const FilePos pos{4, 800};
    uint256 prev;
    prev.data()[0] = 3;
    {
        TxIndexDB index(dir / "txindex", 1 << 20, false);
        CHECK(index.BestBlock().IsNull());
        index.WriteBlock(block, pos);
        CHECK(index.BestBlock() == block.GetHash());
    }
    TxIndexDB index(dir / "txindex", 1 << 20, false);
    CHECK(index.BestBlock() == block.GetHash());
    const auto raw = SerializeBlock(block);
    for (const Transaction& tx : block.txs) {
        const auto location = index.Find(tx.GetTxid());
        REQUIRE(location.has_value());
        CHECK(location->block_pos == pos);
        // The offset counts from the end of the header: the transaction is there in the block's bytes.
        const auto at = std::span(raw).subspan(BlockHeader::kSize + location->tx_offset, GetSerializeSize(tx));
        CHECK(DeserializeTransaction(at) == tx);
    }
    uint256 unknown;
    unknown.data()[1] = 1;
    CHECK_FALSE(index.Find(unknown).has_value());
    index.RewindBlock(block, prev);
    CHECK(index.BestBlock() == prev);
    CHECK(index.Find(second.GetTxid()).has_value());
}

TEST_CASE("a block index database with a corrupt CURRENT file fails to open, naming the folder and -reindex")
{
    test::TempDir dir;
    {
        BlockTreeDB db(dir / "index", 1 << 20, false);
        db.WriteReindexing(true);
    }
    {
        std::ofstream current(dir / "index" / "CURRENT", std::ios::trunc);
        current << "garbage";
    }
    std::string message;
    try {
        BlockTreeDB db(dir / "index", 1 << 20, false);
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    CHECK(message.find((dir / "index").string()) != std::string::npos);
    CHECK(message.find("-reindex") != std::string::npos);
    // wipe recovers from it.
    BlockTreeDB wiped(dir / "index", 1 << 20, true);
    CHECK_FALSE(wiped.ReadReindexing());
}
