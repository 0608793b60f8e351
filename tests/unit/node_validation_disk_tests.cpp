// The chainstate across restarts: the same tip after a clean stop, an
// interrupted coins flush completed from the undo data, -reindex and
// -reindex-chainstate reaching the same tip and UTXO hash, -loadblock,
// -txindex, pruning, and the clear errors for corrupt or missing files.
#include <tests/unit/node_validation_util.h>

#include <services/node/storage/block_files.h>
#include <services/node/storage/coins.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace orrery;
using namespace orrery::test;

namespace {

node::CoinsStats Stats(TestChain& chain)
{
    return chain.chainman->ComputeCoinsStats();
}

//! A chain of 110 blocks with spends and a reorg in its history.
void BuildHistory(TestChain& chain)
{
    const auto blocks = chain.Extend(101);
    const node::BlockIndex* fork_point = chain.Tip();
    chain.Extend(2, 1);
    chain.ExtendFrom(fork_point, 3, 2); // reorg to the longer branch
    const Transaction spend = MakeSpend({OutPoint{blocks[0]->txs[0].GetTxid(), 0}}, 49 * COIN);
    auto block = BuildBlock(*chain.chainman, chain.Tip(), {spend}, 1 * COIN);
    REQUIRE(chain.Submit(block).accepted);
    chain.Extend(3);
}

std::string LoadError(TestChain& chain)
{
    try {
        chain.Open();
    } catch (const node::ChainstateLoadError& e) {
        chain.chainman.reset();
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("After a clean stop the chainstate starts on the same tip with the same coins")
{
    TempDir dir;
    uint256 tip;
    node::CoinsStats before;
    {
        TestChain chain(dir);
        chain.Open();
        BuildHistory(chain);
        tip = chain.Tip()->hash;
        before = Stats(chain);
        chain.Close();
    }
    TestChain chain(dir);
    chain.Open();
    CHECK(chain.Tip()->hash == tip);
    const auto after = Stats(chain);
    CHECK(after.hash_serialized == before.hash_serialized);
    CHECK(after.muhash == before.muhash);
    CHECK(after.txouts == before.txouts);
    auto lock = chain.chainman->Lock();
    CHECK(chain.chainman->ChainTips().size() == 2);
}

TEST_CASE("A chainstate flushed at shutdown after an earlier flush starts on its last tip")
{
    TempDir dir;
    uint256 tip;
    node::CoinsStats expected;
    {
        TestChain chain(dir);
        chain.Open();
        chain.Extend(10);
        chain.chainman->ForceFlush();
        chain.Extend(5);
        tip = chain.Tip()->hash;
        expected = Stats(chain); // flushes everything
    }
    TestChain chain(dir);
    chain.Open();
    CHECK(chain.Tip()->hash == tip);
    CHECK(Stats(chain).hash_serialized == expected.hash_serialized);
}

TEST_CASE("An interrupted flush (head-blocks marker left) is rolled back and forward from the undo data at start")
{
    // The same blocks on a node that never crashes give the expected state (blocks are deterministic).
    TempDir reference_dir;
    uint256 tip;
    node::CoinsStats expected;
    {
        TestChain reference(reference_dir);
        reference.Open();
        BuildHistory(reference);
        tip = reference.Tip()->hash;
        expected = Stats(reference);
    }
    TempDir dir;
    int batches = 0;
    int fail_at = -1;
    {
        TestChain chain(dir);
        chain.options.db_batch_bytes = 1; // one coin per batch
        chain.options.coins_batch_hook = [&] {
            if (++batches == fail_at) throw std::runtime_error("simulated crash in the middle of a flush");
        };
        chain.Open();
        // Flushed at the tip of the branch the reorg will leave, then the reorg and more blocks unflushed.
        const auto blocks = chain.Extend(101);
        const node::BlockIndex* fork_point = chain.Tip();
        chain.Extend(2, 1);
        chain.chainman->ForceFlush();
        chain.ExtendFrom(fork_point, 3, 2);
        const Transaction spend = MakeSpend({OutPoint{blocks[0]->txs[0].GetTxid(), 0}}, 49 * COIN);
        auto block = BuildBlock(*chain.chainman, chain.Tip(), {spend}, 1 * COIN);
        REQUIRE(chain.Submit(block).accepted);
        chain.Extend(3);
        REQUIRE(chain.Tip()->hash == tip);
        batches = 0;
        fail_at = 4;
        CHECK_THROWS_AS(chain.chainman->ForceFlush(), node::DiskWriteError);
        CHECK(chain.shutdown_reasons.size() == 1);
        chain.Close(); // no second flush after a failed one
    }
    {
        node::CoinsDB db(dir / "chainstate", 1 << 20, false);
        CHECK(db.GetHeadBlocks().size() == 2);
    }
    TestChain chain(dir);
    chain.Open();
    CHECK(chain.Tip()->hash == tip);
    const auto stats = Stats(chain);
    CHECK(stats.hash_serialized == expected.hash_serialized);
    CHECK(stats.muhash == expected.muhash);
}

TEST_CASE("-reindex and -reindex-chainstate rebuild the same tip and UTXO set from the block files")
{
    TempDir dir;
    uint256 tip;
    node::CoinsStats expected;
    {
        TestChain chain(dir);
        chain.Open();
        BuildHistory(chain);
        tip = chain.Tip()->hash;
        expected = Stats(chain);
        chain.Close();
    }
    SUBCASE("-reindex-chainstate")
    {
        TestChain chain(dir);
        chain.options.reindex_chainstate = true;
        chain.Open();
        CHECK(chain.Tip()->hash == tip);
        CHECK(Stats(chain).hash_serialized == expected.hash_serialized);
    }
    SUBCASE("-reindex")
    {
        {
            TestChain chain(dir);
            chain.options.reindex = true;
            chain.Open();
            CHECK(chain.Tip()->hash == tip);
            CHECK(Stats(chain).hash_serialized == expected.hash_serialized);
            // The side branch is known again too.
            auto lock = chain.chainman->Lock();
            CHECK(chain.chainman->ChainTips().size() == 2);
            chain.Close();
        }
        // And a normal start afterwards finds it all, and can extend it.
        TestChain chain(dir);
        chain.Open();
        CHECK(chain.Tip()->hash == tip);
        chain.Extend(1);
        CHECK(Stats(chain).txouts == expected.txouts + 1);
    }
    SUBCASE("-reindex with blocks stored out of order")
    {
        // Small block files and a -loadblock file written child-first.
        TempDir other;
        std::vector<std::vector<uint8_t>> raws;
        {
            TestChain chain(dir);
            chain.Open();
            auto lock = chain.chainman->Lock();
            for (int h = 1; h <= chain.chainman->Height(); ++h) {
                raws.push_back(chain.chainman->ReadRawBlock(chain.chainman->Chain()[h]));
            }
        }
        const auto path = other / "bootstrap.dat";
        {
            std::ofstream out(path, std::ios::binary);
            const auto magic = GetChainParams(ChainType::REGTEST).message_start;
            auto write = [&](const std::vector<uint8_t>& raw) {
                out.write(reinterpret_cast<const char*>(magic.data()), 4);
                const uint32_t size = static_cast<uint32_t>(raw.size());
                const uint8_t size_bytes[4] = {uint8_t(size), uint8_t(size >> 8), uint8_t(size >> 16),
                                               uint8_t(size >> 24)};
                out.write(reinterpret_cast<const char*>(size_bytes), 4);
                out.write(reinterpret_cast<const char*>(raw.data()), raw.size());
            };
            // Swap neighbours: every second block arrives before its parent.
            for (size_t i = 0; i + 1 < raws.size(); i += 2) {
                write(raws[i + 1]);
                write(raws[i]);
            }
            if (raws.size() % 2) write(raws.back());
        }
        TestChain fresh(other / "node");
        fresh.options.load_block_files = {path};
        fresh.Open();
        CHECK(fresh.Tip()->hash == tip);
        CHECK(Stats(fresh).hash_serialized == expected.hash_serialized);
    }
}

TEST_CASE("-txindex finds transactions of the active chain, caught up at start")
{
    TempDir dir;
    Transaction spend;
    uint256 block_hash;
    {
        TestChain chain(dir);
        chain.Open();
        const auto blocks = chain.Extend(101);
        spend = MakeSpend({OutPoint{blocks[0]->txs[0].GetTxid(), 0}}, 49 * COIN);
        auto block = BuildBlock(*chain.chainman, chain.Tip(), {spend}, 1 * COIN);
        REQUIRE(chain.Submit(block).accepted);
        block_hash = block->GetHash();
        chain.Close();
    }
    TestChain chain(dir);
    chain.options.txindex = true;
    chain.Open();
    auto found = chain.chainman->FindTransaction(spend.GetTxid());
    REQUIRE(found.has_value());
    CHECK(found->first == spend);
    CHECK(found->second == block_hash);
    CHECK(!chain.chainman->FindTransaction(uint256{}).has_value());
}

TEST_CASE("Manual pruning deletes old block files; their blocks answer BlockPrunedError")
{
    TempDir dir;
    TestChain chain(dir);
    chain.options.prune_target_bytes = 1;
    chain.options.max_block_file_size = 0x10000;
    chain.Open();
    chain.Extend(900); // about 420 blocks per 64 KiB file
    const node::BlockIndex* old_block;
    {
        auto lock = chain.chainman->Lock();
        old_block = chain.chainman->Chain()[5];
    }
    const int pruned = chain.chainman->PruneBlockchain(500);
    CHECK(pruned > 5);
    CHECK(pruned <= 500);
    CHECK(chain.chainman->PruneHeight() == pruned + 1);
    CHECK_THROWS_AS(chain.chainman->ReadBlock(old_block), node::BlockPrunedError);
    CHECK(!std::filesystem::exists(dir / "blocks" / "blk00000.dat"));
    // Recent blocks are kept and the node restarts pruned.
    chain.Close();
    TestChain again(dir);
    again.options.prune_target_bytes = 1;
    again.options.max_block_file_size = 0x10000;
    again.Open();
    CHECK(again.Tip()->height == 900);
    SUBCASE("an unpruned start refuses a pruned datadir")
    {
        again.Close();
        TestChain unpruned(dir);
        const std::string error = LoadError(unpruned);
        CHECK_MESSAGE(error.find("-reindex") != std::string::npos, error);
    }
}

TEST_CASE("A corrupt block file at the tip and a deleted chainstate are named with the fix")
{
    TempDir dir;
    {
        TestChain chain(dir);
        chain.Open();
        chain.Extend(3);
        chain.Close();
    }
    SUBCASE("a torn write at the tip")
    {
        const auto blk = dir / "blocks" / "blk00000.dat";
        const auto size = std::filesystem::file_size(blk);
        {
            std::fstream file(blk, std::ios::in | std::ios::out | std::ios::binary);
            file.seekp(static_cast<std::streamoff>(size - 40));
            const char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
            file.write(junk, sizeof junk);
        }
        TestChain chain(dir);
        const std::string error = LoadError(chain);
        CHECK(error.find("blk00000.dat") != std::string::npos);
        CHECK(error.find("-reindex") != std::string::npos);
    }
    SUBCASE("a deleted chainstate")
    {
        std::filesystem::remove_all(dir / "chainstate");
        TestChain chain(dir);
        const std::string error = LoadError(chain);
        CHECK(error.find("chainstate") != std::string::npos);
        CHECK(error.find("-reindex-chainstate") != std::string::npos);
        TestChain fixed(dir);
        fixed.options.reindex_chainstate = true;
        fixed.Open();
        CHECK(fixed.Tip()->height == 3);
    }
}

TEST_CASE("-stopatheight asks for shutdown once the tip reaches it")
{
    TempDir dir;
    TestChain chain(dir);
    chain.options.stop_at_height = 3;
    chain.Open();
    chain.Extend(2);
    CHECK(chain.shutdown_reasons.empty());
    chain.Extend(1);
    REQUIRE(chain.shutdown_reasons.size() == 1);
    CHECK(chain.shutdown_reasons[0] == "reached -stopatheight");
}

TEST_CASE("verifychain passes at every level on a chain with a reorg")
{
    TempDir dir;
    TestChain chain(dir);
    chain.Open();
    BuildHistory(chain);
    for (int level = 0; level <= 4; ++level) CHECK(chain.chainman->VerifyChain(level, 20));
    CHECK(chain.chainman->VerifyChain(4, 0));
}

TEST_CASE("Automatic pruning keeps the block files under the target once the chain is past the pruning height")
{
    TempDir dir;
    TestChain chain(dir);
    // Core keeps 17 MiB of headroom for the files being written: a target just above it leaves room for
    // about 150 KiB of old blocks.
    chain.options.prune_target_bytes = (17 << 20) + 150 * 1024;
    chain.options.max_block_file_size = 0x10000;
    chain.Open();
    chain.Extend(1000);
    CHECK(chain.chainman->PruneHeight() == 0); // regtest prunes after height 1000 only
    chain.Extend(300);
    const int prune_height = chain.chainman->PruneHeight();
    CHECK(prune_height > 0);
    CHECK(prune_height <= 1300 - 288);
    CHECK(chain.chainman->SizeOnDisk() <= 150 * 1024 + 2 * 0x10000);
    {
        auto lock = chain.chainman->Lock();
        CHECK_THROWS_AS(chain.chainman->ReadBlock(chain.chainman->Chain()[1]), node::BlockPrunedError);
        CHECK(chain.chainman->ReadBlock(chain.chainman->Tip()).GetHash() == chain.chainman->Tip()->hash);
    }
    CHECK(chain.chainman->VerifyChain(4, 100));
}

TEST_CASE("A write failure while blocks connect stops the chainstate once, and a restart finds a consistent state")
{
    TempDir dir;
    int batches = 0;
    {
        TestChain chain(dir);
        chain.options.dbcache_bytes = 1; // a full flush after every block
        chain.options.db_batch_bytes = 1;
        chain.options.coins_batch_hook = [&] {
            if (++batches == 20) throw std::runtime_error("No space left on device (simulated)");
        };
        chain.Open();
        for (int i = 0; i < 30; ++i) {
            auto block = BuildBlock(*chain.chainman, chain.Tip());
            chain.Submit(block);
        }
        REQUIRE(chain.shutdown_reasons.size() == 1);
        CHECK(chain.shutdown_reasons[0].find("No space left on device") != std::string::npos);
        // As bitcoind: once stopping on a fatal error, nothing more is written, whatever comes in.
        const auto sizes = [&] {
            std::map<std::string, uintmax_t> found;
            for (const auto& file : std::filesystem::directory_iterator(dir.path / "blocks")) {
                if (file.is_regular_file()) found[file.path().filename().string()] = file.file_size();
            }
            return found;
        };
        const auto before = sizes();
        const auto* tip = chain.Tip();
        const auto late = chain.Submit(BuildBlock(*chain.chainman, tip));
        CHECK_FALSE(late.accepted);
        CHECK(late.reject_reason == "disk-write-failed");
        CHECK(chain.Tip() == tip);
        CHECK(sizes() == before);
        chain.Close();
    }
    TestChain chain(dir);
    chain.Open();
    const int height = chain.Tip()->height;
    CHECK(height > 0);
    const auto stats = Stats(chain);
    CHECK(stats.txouts == static_cast<uint64_t>(height)); // one coinbase output per block, genesis excluded
    // The same blocks on a node that never failed, up to that height.
    TempDir reference_dir;
    TestChain reference(reference_dir);
    reference.Open();
    reference.Extend(height);
    CHECK(reference.Tip()->hash == chain.Tip()->hash);
    CHECK(Stats(reference).hash_serialized == stats.hash_serialized);
}
