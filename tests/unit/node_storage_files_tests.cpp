// Block and undo files on a real folder: records written and read back, the
// rollover to a new file, the undo checksum, torn and corrupt files named in
// the error, full disks, and the tolerant scans of -reindex and -loadblock.
#include <services/node/storage/block_files.h>

#include <common/consensus/params.h>

#include <doctest/doctest.h>

#include <tests/unit/test_util.h>

#include <fstream>

using namespace orrery;
using namespace orrery::node;

namespace {

const std::array<uint8_t, 4> MAGIC{0xfa, 0xbf, 0xb5, 0xda};

//! A block of about `padding` bytes more than the genesis, different for each `tag`.
Block MakeBlock(uint32_t tag, size_t padding = 0)
{
    Block block = GetChainParams(ChainType::REGTEST).genesis;
    block.nonce = tag;
    block.txs[0].vout[0].script_pubkey.assign(1, OP_RETURN);
    block.txs[0].vout[0].script_pubkey.insert(block.txs[0].vout[0].script_pubkey.end(), padding, 0x5a);
    return block;
}

BlockUndo MakeUndo()
{
    Script p2pkh{OP_DUP, OP_HASH160, 20};
    p2pkh.insert(p2pkh.end(), 20, 0x33);
    p2pkh.push_back(OP_EQUALVERIFY);
    p2pkh.push_back(OP_CHECKSIG);
    BlockUndo undo;
    undo.txs.push_back(TxUndo{{Coin{TxOut{5000, p2pkh}, 10, true}, Coin{TxOut{7, Script{0x51}}, 0, false}}});
    undo.txs.push_back(TxUndo{{Coin{TxOut{123456789, Script{0x00, 0x14}}, 99, false}}});
    return undo;
}

std::vector<uint8_t> ReadFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void WriteFile(const std::filesystem::path& path, const std::vector<uint8_t>& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::string ErrorOf(const std::function<void()>& fn)
{
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("undo data round-trips through Core's disk form, with the dummy version byte above height 0")
{
    const BlockUndo undo = MakeUndo();
    const auto bytes = SerializeBlockUndo(undo);
    CHECK(DeserializeBlockUndo(bytes) == undo);
    // 2 txs; 2 coins; code 21 (height 10, coinbase), the dummy 0, amount 5000 compressed, P2PKH type 0.
    CHECK(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4) == std::vector<uint8_t>{0x02, 0x02, 21, 0x00});
    CHECK(DeserializeBlockUndo(SerializeBlockUndo(BlockUndo{})) == BlockUndo{});
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
        CHECK_THROWS_AS(DeserializeBlockUndo(std::span(bytes).first(cut)), DeserializeError);
    }
    auto longer = bytes;
    longer.push_back(0);
    CHECK_THROWS_AS(DeserializeBlockUndo(longer), DeserializeError);
}

TEST_CASE("an undo record announcing more coins than its bytes can hold is rejected at once")
{
    // One tx claiming 0x02000000 coins in a 7-byte record.
    const std::vector<uint8_t> bytes{0x01, 0xfe, 0x00, 0x00, 0x00, 0x02, 0x00};
    CHECK_THROWS_AS(DeserializeBlockUndo(bytes), DeserializeError);
}

TEST_CASE("block file infos round-trip and track heights and times")
{
    BlockFileInfo info;
    info.AddBlock(10, 1000);
    info.AddBlock(5, 2000);
    info.AddBlock(7, 500);
    CHECK(info.blocks == 3);
    CHECK(info.height_first == 5);
    CHECK(info.height_last == 10);
    CHECK(info.time_first == 500);
    CHECK(info.time_last == 2000);
    info.size = 123456;
    info.undo_size = 789;
    std::vector<uint8_t> bytes;
    Writer writer(bytes);
    WriteBlockFileInfo(writer, info);
    SpanReader reader(bytes);
    CHECK(ReadBlockFileInfo(reader) == info);
    CHECK(reader.Empty());
}

TEST_CASE("blocks and undo data written to the files read back after a restart")
{
    test::TempDir dir;
    const Block block = MakeBlock(1);
    const BlockUndo undo = MakeUndo();
    uint256 prev;
    prev.data()[5] = 9;
    FilePos block_pos, undo_pos;
    std::vector<BlockFileInfo> infos;
    {
        BlockFiles files(dir / "blocks", MAGIC, {}, 0);
        block_pos = files.WriteBlock(block, 1);
        undo_pos = files.WriteUndo(undo, prev, block_pos.file);
        files.Flush();
        CHECK(block_pos == FilePos{0, 8});
        CHECK(undo_pos == FilePos{0, 8});
        CHECK(files.TakeDirtyFiles() == std::set<int>{0});
        CHECK(files.TakeDirtyFiles().empty());
        infos.push_back(files.Info(0));
        CHECK(infos[0].blocks == 1);
        CHECK(infos[0].size == 8 + SerializeBlock(block).size());
        CHECK(infos[0].undo_size == 8 + SerializeBlockUndo(undo).size() + 32);
        CHECK(files.TotalSize() == infos[0].size + infos[0].undo_size);
    }
    const auto raw = ReadFile(dir / "blocks" / "blk00000.dat");
    CHECK(std::vector<uint8_t>(raw.begin(), raw.begin() + 4) == std::vector<uint8_t>(MAGIC.begin(), MAGIC.end()));
    BlockFiles files(dir / "blocks", MAGIC, infos, 0);
    CHECK(files.ReadBlock(block_pos) == block);
    CHECK(files.ReadRawBlock(block_pos) == SerializeBlock(block));
    CHECK(files.ReadUndo(undo_pos, prev) == undo);
    // The next block is appended after the first.
    const FilePos second = files.WriteBlock(MakeBlock(2), 2);
    CHECK(second.pos == infos[0].size + 8);
    CHECK(files.ReadBlock(second) == MakeBlock(2));
    CHECK(files.ReadBlock(block_pos) == block);
}

TEST_CASE("a block that would pass the size limit starts the next file")
{
    test::TempDir dir;
    const size_t one = 8 + SerializeBlock(MakeBlock(0, 300)).size();
    BlockFiles files(dir / "blocks", MAGIC, {}, 0, /*max_file_size=*/2 * one + 10);
    std::vector<FilePos> positions;
    for (uint32_t i = 0; i < 5; ++i) positions.push_back(files.WriteBlock(MakeBlock(i, 300), int(i)));
    CHECK(positions[0].file == 0);
    CHECK(positions[1].file == 0);
    CHECK(positions[2] == FilePos{1, 8});
    CHECK(positions[4] == FilePos{2, 8});
    CHECK(files.LastFile() == 2);
    CHECK(files.Info(0).blocks == 2);
    CHECK(files.Info(2).blocks == 1);
    CHECK(files.TakeDirtyFiles() == std::set<int>{0, 1, 2});
    CHECK(std::filesystem::file_size(files.BlockFilePath(1)) == 2 * one);
    for (uint32_t i = 0; i < 5; ++i) CHECK(files.ReadBlock(positions[i]) == MakeBlock(i, 300));
    files.Flush();

    files.DeleteFiles({0});
    CHECK_FALSE(std::filesystem::exists(files.BlockFilePath(0)));
    CHECK(files.Info(0) == BlockFileInfo{});
    CHECK(files.TotalSize() == 3 * one);
    CHECK(ErrorOf([&] { files.ReadBlock(positions[0]); }).find("blk00000.dat is missing") != std::string::npos);
}

TEST_CASE("undo data read with another previous block hash, or altered, fails its checksum naming the file")
{
    test::TempDir dir;
    BlockFiles files(dir / "blocks", MAGIC, {}, 0);
    uint256 prev, other;
    prev.data()[0] = 1;
    other.data()[0] = 2;
    const FilePos pos = files.WriteUndo(MakeUndo(), prev, 0);
    const std::string path = files.UndoFilePath(0).string();
    const std::string wrong_prev = ErrorOf([&] { files.ReadUndo(pos, other); });
    CHECK(wrong_prev.find("checksum mismatch") != std::string::npos);
    CHECK(wrong_prev.find(path) != std::string::npos);
    CHECK(wrong_prev.find("-reindex") != std::string::npos);

    auto bytes = ReadFile(path);
    bytes[10] ^= 0x01;
    WriteFile(path, bytes);
    CHECK_THROWS_AS(files.ReadUndo(pos, prev), BlockFileError);
}

TEST_CASE("a truncated block file is reported with its full path and the -reindex fix")
{
    test::TempDir dir;
    BlockFiles files(dir / "blocks", MAGIC, {}, 0);
    const FilePos pos = files.WriteBlock(MakeBlock(1), 1);
    const FilePos undo_pos = files.WriteUndo(MakeUndo(), uint256{}, 0);
    files.Flush();
    std::filesystem::resize_file(files.BlockFilePath(0), 100);
    const std::string message = ErrorOf([&] { files.ReadBlock(pos); });
    CHECK(message.find(files.BlockFilePath(0).string()) != std::string::npos);
    CHECK(message.find("truncated") != std::string::npos);
    CHECK(message.find("-reindex") != std::string::npos);
    CHECK_THROWS_AS(files.ReadBlock(pos), BlockFileError);

    std::filesystem::resize_file(files.UndoFilePath(0), 20);
    const std::string undo_message = ErrorOf([&] { files.ReadUndo(undo_pos, uint256{}); });
    CHECK(undo_message.find(files.UndoFilePath(0).string()) != std::string::npos);
    CHECK(undo_message.find("truncated") != std::string::npos);
}

TEST_CASE("a block record with a wrong magic or corrupt bytes is a BlockFileError naming the file")
{
    test::TempDir dir;
    BlockFiles files(dir / "blocks", MAGIC, {}, 0);
    const FilePos pos = files.WriteBlock(MakeBlock(1), 1);
    auto bytes = ReadFile(files.BlockFilePath(0));
    bytes[8 + 80] = 0xfd; // the tx count becomes a CompactSize that runs off the record
    WriteFile(files.BlockFilePath(0), bytes);
    CHECK(ErrorOf([&] { files.ReadBlock(pos); }).find(files.BlockFilePath(0).string()) != std::string::npos);
    bytes[0] = 0;
    WriteFile(files.BlockFilePath(0), bytes);
    CHECK(ErrorOf([&] { files.ReadBlock(pos); }).find("magic") != std::string::npos);
    // A size field far beyond the file is refused before anything is read.
    bytes[0] = MAGIC[0];
    bytes[4] = 0xff;
    bytes[5] = 0xff;
    bytes[6] = 0x3f;
    WriteFile(files.BlockFilePath(0), bytes);
    CHECK_THROWS_AS(files.ReadRawBlock(pos), BlockFileError);
}

TEST_CASE("a full disk makes the block write fail with one message naming the file")
{
    test::TempDir dir;
    std::filesystem::create_directories(dir / "blocks");
    // /dev/full answers every write with ENOSPC, as a full file system does.
    std::filesystem::create_symlink("/dev/full", dir / "blocks" / "blk00000.dat");
    BlockFiles files(dir / "blocks", MAGIC, {}, 0);
    const std::string message = ErrorOf([&] { files.WriteBlock(MakeBlock(1), 1); });
    CHECK(message.find((dir / "blocks" / "blk00000.dat").string()) != std::string::npos);
    CHECK(message.find("No space left on device") != std::string::npos);
    CHECK_THROWS_AS(files.WriteBlock(MakeBlock(1), 1), DiskWriteError);
    CHECK(files.Info(0) == BlockFileInfo{});
    CHECK(files.TakeDirtyFiles().empty());
}

TEST_CASE("a blocks folder that cannot be created is a DiskWriteError naming it")
{
    test::TempDir dir;
    WriteFile(dir / "file", {1});
    const auto path = dir / "file" / "blocks";
    const std::string message = ErrorOf([&] { BlockFiles files(path, MAGIC, {}, 0); });
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK_THROWS_AS(BlockFiles(path, MAGIC, {}, 0), DiskWriteError);
}

TEST_CASE("scanning a block file finds every block around garbage and skips a torn record at the end")
{
    test::TempDir dir;
    std::vector<uint8_t> file;
    auto append_record = [&](const Block& block) {
        const auto raw = SerializeBlock(block);
        file.insert(file.end(), MAGIC.begin(), MAGIC.end());
        for (int i = 0; i < 4; ++i) file.push_back(uint8_t(raw.size() >> (8 * i)));
        file.insert(file.end(), raw.begin(), raw.end());
    };
    append_record(MakeBlock(1));
    file.insert(file.end(), {0x00, 0xfa, 0xbf, 0x13, 0x37}); // garbage with half a magic
    file.insert(file.end(), MAGIC.begin(), MAGIC.end());     // a magic with an absurd size
    file.insert(file.end(), {0xff, 0xff, 0xff, 0xff});
    append_record(MakeBlock(2));
    // A record whose bytes do not parse as a block, hiding a real one one byte after its magic is skipped.
    file.insert(file.end(), MAGIC.begin(), MAGIC.end());
    file.insert(file.end(), {100, 0, 0, 0});
    file.insert(file.end(), 100, 0xee);
    append_record(MakeBlock(3));
    const size_t torn_start = file.size();
    append_record(MakeBlock(4));
    file.resize(torn_start + 50); // a crash in the middle of the last write

    std::filesystem::create_directories(dir / "blocks");
    WriteFile(dir / "blocks" / "blk00003.dat", file);
    BlockFiles files(dir / "blocks", MAGIC, {}, 0);
    std::vector<Block> found;
    std::vector<FilePos> positions;
    CHECK(files.ScanFile(3, [&](const FilePos& pos, std::span<const uint8_t> raw) {
        found.push_back(DeserializeBlock(raw));
        positions.push_back(pos);
    }));
    REQUIRE(found.size() == 3);
    CHECK(found[0] == MakeBlock(1));
    CHECK(found[1] == MakeBlock(2));
    CHECK(found[2] == MakeBlock(3));
    CHECK(positions[0] == FilePos{3, 8});
    for (size_t i = 0; i < 3; ++i) CHECK(files.ReadBlock(positions[i]) == found[i]);
    CHECK_FALSE(files.ScanFile(4, [](const FilePos&, std::span<const uint8_t>) { FAIL("no such file"); }));

    // After a -reindex scan, new blocks go after the last block found.
    for (size_t i = 0; i < 3; ++i) {
        files.AddScannedBlock(positions[i], uint32_t(SerializeBlock(found[i]).size()), int(i), found[i].time);
    }
    CHECK(files.LastFile() == 3);
    CHECK(files.Info(3).blocks == 3);
    const FilePos next = files.WriteBlock(MakeBlock(5), 3);
    CHECK(next.file == 3);
    CHECK(next.pos == torn_start + 8);
    CHECK(files.ReadBlock(next) == MakeBlock(5));

    std::vector<Block> loaded;
    ScanBlockStream(dir / "blocks" / "blk00003.dat", MAGIC,
                    [&](std::span<const uint8_t> raw) { loaded.push_back(DeserializeBlock(raw)); });
    CHECK(loaded.size() == 4);
    CHECK_THROWS_AS(ScanBlockStream(dir / "missing.dat", MAGIC, [](std::span<const uint8_t>) {}), BlockFileError);
}
