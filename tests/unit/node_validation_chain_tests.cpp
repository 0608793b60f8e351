// The chainstate on real regtest chains in a temporary folder: connecting
// blocks, spending, reorganizations both ways, invalidate/reconsider/precious,
// Core's reject reasons, and the notification order.
#include <tests/unit/node_validation_util.h>

#include <common/script/sigops.h>

#include <doctest/doctest.h>

#include <mutex>
#include <thread>

using namespace orrery;
using namespace orrery::test;

namespace {

//! Records notifications as text, in delivery order.
struct Recorder final : node::ValidationListener {
    std::mutex mutex;
    std::vector<std::string> events;
    void BlockConnected(const std::shared_ptr<const Block>& block, const node::BlockIndex* index) override
    {
        std::lock_guard lock(mutex);
        CHECK(block->GetHash() == index->hash);
        events.push_back("connect " + std::to_string(index->height));
    }
    void BlockDisconnected(const std::shared_ptr<const Block>&, const node::BlockIndex* index) override
    {
        std::lock_guard lock(mutex);
        events.push_back("disconnect " + std::to_string(index->height));
    }
    void UpdatedBlockTip(const node::BlockIndex* tip, const node::BlockIndex*, bool) override
    {
        std::lock_guard lock(mutex);
        events.push_back("tip " + std::to_string(tip->height));
    }
};

OutPoint CoinbaseOut(const Block& block)
{
    return OutPoint{block.txs[0].GetTxid(), 0};
}

} // namespace

TEST_CASE("A new chainstate starts at genesis and connects mined blocks in order")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    CHECK(chain.Tip()->hash == chain.params.GenesisHash());
    const auto blocks = chain.Extend(5);
    CHECK(chain.Tip()->height == 5);
    CHECK(chain.Tip()->hash == blocks.back()->GetHash());
    auto lock = chainman.Lock();
    CHECK(chainman.BestHeader() == chainman.Tip());
    CHECK(chainman.GetCoin(CoinbaseOut(*blocks[2])).has_value());
    CHECK(chainman.Tip()->IsValid(node::BLOCK_VALID_SCRIPTS));
    CHECK(chainman.ReadBlock(chainman.Tip()) == *blocks.back());
}

TEST_CASE("A mature coinbase is spent, its coin leaves the set and the new output enters it")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    const auto blocks = chain.Extend(101);
    const Transaction spend = MakeSpend({CoinbaseOut(*blocks[0])}, 49 * COIN);
    auto block = BuildBlock(chainman, chain.Tip(), {spend}, 1 * COIN);
    const auto result = chain.Submit(block);
    REQUIRE_MESSAGE(result.accepted, result.reject_reason);
    CHECK(result.reject_reason.empty());
    CHECK(!chainman.GetCoin(CoinbaseOut(*blocks[0])).has_value());
    CHECK(chainman.GetCoin(OutPoint{spend.GetTxid(), 0})->out.value == 49 * COIN);
    auto lock = chainman.Lock();
    const node::BlockUndo undo = chainman.ReadUndo(chainman.Tip());
    REQUIRE(undo.txs.size() == 1);
    CHECK(undo.txs[0].prevouts[0].coinbase);
    CHECK(undo.txs[0].prevouts[0].height == 1);
}

TEST_CASE("Bad blocks are refused with Bitcoin Core's reject reasons")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    const auto blocks = chain.Extend(101);
    const node::BlockIndex* tip = chain.Tip();

    SUBCASE("bad-cb-amount")
    {
        auto block = BuildBlock(chainman, tip);
        block->txs[0].vout[0].value += 1;
        Mine(*block, chain.params.consensus);
        CHECK(chain.Submit(block).reject_reason == "bad-cb-amount");
        CHECK(chain.Tip() == tip);
    }
    SUBCASE("bad-txnmrklroot")
    {
        auto block = BuildBlock(chainman, tip);
        block->txs[0].vout[0].value -= 1;
        while (!CheckProofOfWork(block->GetHash(), block->bits, chain.params.consensus)) ++block->nonce;
        CHECK(chain.Submit(block).reject_reason == "bad-txnmrklroot");
    }
    SUBCASE("high-hash")
    {
        auto block = BuildBlock(chainman, tip);
        while (CheckProofOfWork(block->GetHash(), block->bits, chain.params.consensus)) ++block->nonce;
        CHECK(chain.Submit(block).reject_reason == "high-hash");
    }
    SUBCASE("bad-txns-inputs-missingorspent")
    {
        const Transaction spend = MakeSpend({OutPoint{uint256{}, 7}}, 1 * COIN);
        auto block = BuildBlock(chainman, tip, {spend});
        CHECK(chain.Submit(block).reject_reason == "bad-txns-inputs-missingorspent");
    }
    SUBCASE("a double spend inside one block is bad-txns-inputs-missingorspent")
    {
        const Transaction a = MakeSpend({CoinbaseOut(*blocks[0])}, 10 * COIN);
        Transaction b = MakeSpend({CoinbaseOut(*blocks[0])}, 20 * COIN);
        auto block = BuildBlock(chainman, tip, {a, b});
        CHECK(chain.Submit(block).reject_reason == "bad-txns-inputs-missingorspent");
    }
    SUBCASE("bad-txns-premature-spend-of-coinbase")
    {
        const Transaction spend = MakeSpend({CoinbaseOut(*blocks[5])}, 1 * COIN);
        auto block = BuildBlock(chainman, tip, {spend});
        const auto result = chain.Submit(block);
        CHECK(result.reject_reason == "bad-txns-premature-spend-of-coinbase");
        CHECK(result.debug_message == "tried to spend coinbase at depth 96");
    }
    SUBCASE("bad-txns-in-belowout")
    {
        const Transaction spend = MakeSpend({CoinbaseOut(*blocks[0])}, 51 * COIN);
        auto block = BuildBlock(chainman, tip, {spend});
        CHECK(chain.Submit(block).reject_reason == "bad-txns-in-belowout");
    }
    SUBCASE("time-too-new")
    {
        auto block = BuildBlock(chainman, tip);
        block->time = static_cast<uint32_t>(chain.options.now() + 2 * 60 * 60 + 1);
        Mine(*block, chain.params.consensus);
        CHECK(chain.Submit(block).reject_reason == "time-too-new");
        // Not marked invalid: the same block is judged again later.
        auto lock = chainman.Lock();
        CHECK(chainman.LookupBlockIndex(block->GetHash()) == nullptr);
    }
    SUBCASE("bad-cb-height")
    {
        auto block = BuildBlock(chainman, tip);
        block->txs[0] = MakeCoinbase(tip->height + 7, GetBlockSubsidy(tip->height + 1, chain.params.consensus));
        Mine(*block, chain.params.consensus);
        CHECK(chain.Submit(block).reject_reason == "bad-cb-height");
    }
    SUBCASE("bad-blk-sigops")
    {
        // 20001 OP_CHECKSIG in an output: 80004 legacy sigop cost.
        Transaction spend = MakeSpend({CoinbaseOut(*blocks[0])}, 1 * COIN);
        spend.vout[0].script_pubkey = Script(20001, 0xac);
        auto block = BuildBlock(chainman, tip, {spend}, 49 * COIN);
        CHECK(chain.Submit(block).reject_reason == "bad-blk-sigops");
    }
    SUBCASE("a script that fails is mandatory-script-verify-flag-failed")
    {
        Transaction spend = MakeSpend({CoinbaseOut(*blocks[0])}, 1 * COIN);
        spend.vin[0].script_sig = Script{0x00}; // OP_0 under OP_TRUE leaves a true top, then CLEANSTACK is not
                                                // consensus: use OP_RETURN to fail instead
        spend.vin[0].script_sig = Script{0x6a};
        auto block = BuildBlock(chainman, tip, {spend}, 49 * COIN);
        const auto result = chain.Submit(block);
        CHECK(result.reject_reason.rfind("mandatory-script-verify-flag-failed (", 0) == 0);
        auto lock = chainman.Lock();
        CHECK((chainman.LookupBlockIndex(block->GetHash())->status & node::BLOCK_FAILED_VALID) != 0);
    }
    SUBCASE("duplicate and duplicate-invalid")
    {
        auto good = BuildBlock(chainman, tip);
        REQUIRE(chain.Submit(good).accepted);
        const auto again = chain.Submit(good);
        CHECK(again.reject_reason == "duplicate");
        CHECK(!again.new_block);
        auto bad = BuildBlock(chainman, chain.Tip());
        bad->txs[0].vout[0].value += 1;
        Mine(*bad, chain.params.consensus);
        CHECK(chain.Submit(bad).reject_reason == "bad-cb-amount");
        CHECK(chain.Submit(bad).reject_reason == "duplicate-invalid");
    }
    SUBCASE("a child of an invalid block is bad-prevblk")
    {
        auto bad = BuildBlock(chainman, tip);
        bad->txs[0].vout[0].value += 1;
        Mine(*bad, chain.params.consensus);
        CHECK(chain.Submit(bad).reject_reason == "bad-cb-amount");
        const node::BlockIndex* bad_index;
        {
            auto lock = chainman.Lock();
            bad_index = chainman.LookupBlockIndex(bad->GetHash());
        }
        auto child = BuildBlock(chainman, bad_index);
        CHECK(chain.Submit(child).reject_reason == "bad-prevblk");
    }
    SUBCASE("prev-blk-not-found")
    {
        auto block = BuildBlock(chainman, tip);
        block->prev_block = uint256{};
        block->prev_block.data()[0] = 1;
        Mine(*block, chain.params.consensus);
        CHECK(chain.Submit(block).reject_reason == "prev-blk-not-found");
    }
}

TEST_CASE("A longer fork takes over, coins follow it, and the old branch comes back when it grows longer")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    auto recorder = std::make_shared<Recorder>();
    chainman.RegisterListener(recorder);
    const auto base = chain.Extend(3);
    const node::BlockIndex* fork_point = chain.Tip();
    const auto a = chain.Extend(2, 1);
    const auto b = chain.ExtendFrom(fork_point, 3, 2);
    CHECK(chain.Tip()->hash == b.back()->GetHash());
    CHECK(!chainman.GetCoin(CoinbaseOut(*a[0])).has_value());
    CHECK(chainman.GetCoin(CoinbaseOut(*b[0])).has_value());
    const node::BlockIndex* a_tip;
    {
        auto lock = chainman.Lock();
        a_tip = chainman.LookupBlockIndex(a.back()->GetHash());
    }
    chain.ExtendFrom(a_tip, 2, 1);
    CHECK(chain.Tip()->height == 7);
    CHECK(chainman.GetCoin(CoinbaseOut(*a[0])).has_value());
    CHECK(!chainman.GetCoin(CoinbaseOut(*b[0])).has_value());
    chainman.SyncWithListeners();
    std::lock_guard lock(recorder->mutex);
    const std::vector<std::string> expected_reorg{"disconnect 6", "disconnect 5", "disconnect 4", "connect 4",
                                                  "connect 5",    "connect 6",    "connect 7",    "tip 7"};
    REQUIRE(recorder->events.size() >= expected_reorg.size());
    CHECK(std::vector<std::string>(recorder->events.end() - expected_reorg.size(), recorder->events.end()) ==
          expected_reorg);
}

TEST_CASE("A block that fails when connected is reported to its sender even after the old tip comes back")
{
    // feature_block's invalid branch: the block of more work is tried, fails, and the node returns to its old
    // tip; connecting that tip again must not hide the failure from the one who sent the block.
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    chain.Extend(3);
    const node::BlockIndex* fork_point = chain.Tip();
    const auto old_tip = chain.Extend(1, 1);
    const auto side = chain.ExtendFrom(fork_point, 1, 2);
    const node::BlockIndex* side_entry;
    {
        auto lock = chainman.Lock();
        side_entry = chainman.LookupBlockIndex(side[0]->GetHash());
    }
    // The coinbase claims one satoshi of fees the block does not have.
    const auto bad = BuildBlock(chainman, side_entry, {}, 1, 2);
    const auto result = chain.Submit(bad);
    CHECK_FALSE(result.accepted);
    CHECK(result.reject_reason == "bad-cb-amount");
    CHECK(chain.Tip()->hash == old_tip[0]->GetHash());
}

TEST_CASE("Equal work keeps the first block seen; preciousblock switches to the other")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    chain.Extend(2);
    const node::BlockIndex* fork_point = chain.Tip();
    const auto a = chain.ExtendFrom(fork_point, 1, 1);
    const auto b = chain.ExtendFrom(fork_point, 1, 2);
    CHECK(chain.Tip()->hash == a[0]->GetHash());
    ValidationState state;
    CHECK(chainman.PreciousBlock(b[0]->GetHash(), state));
    CHECK(chain.Tip()->hash == b[0]->GetHash());
    CHECK(chainman.PreciousBlock(a[0]->GetHash(), state));
    CHECK(chain.Tip()->hash == a[0]->GetHash());
}

TEST_CASE("invalidateblock moves to the best valid chain and reconsiderblock brings the block back")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    const auto blocks = chain.Extend(5);
    ValidationState state;
    REQUIRE(chainman.InvalidateBlock(blocks[2]->GetHash(), state));
    CHECK(chain.Tip()->height == 2);
    CHECK(!chainman.GetCoin(CoinbaseOut(*blocks[3])).has_value());
    {
        auto lock = chainman.Lock();
        const auto* child = chainman.LookupBlockIndex(blocks[4]->GetHash());
        CHECK((child->status & node::BLOCK_FAILED_CHILD) != 0);
        CHECK(chainman.BestHeader()->height == 2);
    }
    // A sibling branch grows while the block is invalid.
    chain.Extend(1, 9);
    CHECK(chain.Tip()->height == 3);
    REQUIRE(chainman.ReconsiderBlock(blocks[2]->GetHash(), state));
    CHECK(chain.Tip()->hash == blocks[4]->GetHash());
    CHECK(chainman.GetCoin(CoinbaseOut(*blocks[3])).has_value());
}

TEST_CASE("TestBlockValidity judges a block on the tip without storing it")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    chain.Extend(1);
    auto block = BuildBlock(chainman, chain.Tip());
    ValidationState state;
    CHECK(chainman.TestBlockValidity(*block, state, true, true));
    block->txs[0].vout[0].value += 1;
    block->merkle_root = BlockMerkleRoot(*block);
    ValidationState bad;
    CHECK(!chainman.TestBlockValidity(*block, bad, false, true));
    CHECK(bad.GetRejectReason() == "bad-cb-amount");
    auto lock = chainman.Lock();
    CHECK(chainman.LookupBlockIndex(block->GetHash()) == nullptr);
    CHECK(chainman.Height() == 1);
}

TEST_CASE("submitheader-style headers enter the tree without moving the tip")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    auto block = BuildBlock(chainman, chain.Tip());
    ValidationState state;
    REQUIRE(chainman.ProcessNewBlockHeaders({block->Header()}, state));
    auto lock = chainman.Lock();
    CHECK(chainman.Height() == 0);
    CHECK(chainman.BestHeader()->hash == block->GetHash());
    CHECK(chainman.ChainTips().size() == 2);
}

TEST_CASE("With -par threads a block's scripts are checked on the pool and a bad input among many is found")
{
    TempDir dir;
    node::ChainstateOptions options;
    options.script_threads = 3;
    TestChain chain(dir, GetChainParams(ChainType::REGTEST), options);
    auto& chainman = chain.Open();
    const auto blocks = chain.Extend(110);
    std::vector<Transaction> spends;
    for (int i = 0; i < 8; ++i) spends.push_back(MakeSpend({CoinbaseOut(*blocks[i])}, 49 * COIN));
    auto good = BuildBlock(chainman, chain.Tip(), spends, 8 * COIN);
    std::vector<Transaction> bad_spends = spends;
    bad_spends[5].vin[0].script_sig = Script{0x6a};
    auto bad = BuildBlock(chainman, chain.Tip(), bad_spends, 8 * COIN, 3);
    const auto rejected = chain.Submit(bad);
    CHECK(rejected.reject_reason == "mandatory-script-verify-flag-failed (OP_RETURN was encountered)");
    CHECK(rejected.debug_message.find(bad_spends[5].GetTxid().GetHex()) != std::string::npos);
    CHECK(chain.Submit(good).accepted);
    CHECK(chain.Tip()->hash == good->GetHash());
}

TEST_CASE("Lock times: a future nLockTime and an unmet BIP68 relative lock are bad-txns-nonfinal")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    const auto blocks = chain.Extend(101);
    const Transaction parent = MakeSpend({CoinbaseOut(*blocks[0])}, 49 * COIN);
    REQUIRE(chain.Submit(BuildBlock(chainman, chain.Tip(), {parent}, 1 * COIN)).accepted);

    SUBCASE("nLockTime")
    {
        Transaction tx = MakeSpend({CoinbaseOut(*blocks[1])}, 49 * COIN);
        tx.vin[0].sequence = 0;
        tx.lock_time = static_cast<uint32_t>(chain.Tip()->height + 5);
        CHECK(chain.Submit(BuildBlock(chainman, chain.Tip(), {tx}, 1 * COIN)).reject_reason == "bad-txns-nonfinal");
    }
    SUBCASE("BIP68 by height")
    {
        Transaction child = MakeSpend({OutPoint{parent.GetTxid(), 0}}, 48 * COIN);
        child.vin[0].sequence = 3; // three blocks after the parent's block
        const auto early = BuildBlock(chainman, chain.Tip(), {child}, 1 * COIN);
        CHECK(chain.Submit(early).reject_reason == "bad-txns-nonfinal");
        chain.Extend(2);
        const auto late = BuildBlock(chainman, chain.Tip(), {child}, 1 * COIN);
        const auto result = chain.Submit(late);
        CHECK_MESSAGE(result.accepted, result.reject_reason);
        CHECK(result.reject_reason.empty());
    }
}

TEST_CASE("-assumevalid skips the scripts of ancestors two weeks of work below the best header, and only those")
{
    // Blocks are built on headers the node accepted; the first run only collects them.
    TempDir dir;
    std::vector<std::shared_ptr<Block>> blocks;
    std::shared_ptr<Block> bad_script_block;
    {
        TestChain chain(dir);
        auto& chainman = chain.Open();
        const node::BlockIndex* prev = chain.Tip();
        auto add = [&](std::vector<Transaction> txs, Amount fees) {
            auto block = BuildBlock(chainman, prev, std::move(txs), fees);
            ValidationState state;
            REQUIRE(chainman.ProcessNewBlockHeaders({block->Header()}, state));
            auto lock = chainman.Lock();
            prev = chainman.LookupBlockIndex(block->GetHash());
            blocks.push_back(block);
        };
        for (int i = 0; i < 101; ++i) add({}, 0);
        Transaction spend = MakeSpend({CoinbaseOut(*blocks[0])}, 49 * COIN);
        spend.vin[0].script_sig = Script{0x6a}; // fails if its script is run
        add({spend}, 1 * COIN);
        bad_script_block = blocks.back();
        // Two weeks of regtest work (2016 blocks at 600 s) above it, and a bit.
        for (int i = 0; i < 2030; ++i) add({}, 0);
        chain.Close();
    }
    SUBCASE("with the last block assumed valid, the bad script is not run")
    {
        node::ChainstateOptions options;
        options.assume_valid = blocks.back()->GetHash();
        TestChain chain(dir, GetChainParams(ChainType::REGTEST), options);
        chain.Open();
        for (const auto& block : blocks) REQUIRE(chain.Submit(block).accepted);
        CHECK(chain.Tip()->hash == blocks.back()->GetHash());
    }
    SUBCASE("without it the block is refused")
    {
        TestChain chain(dir);
        chain.Open();
        for (const auto& block : blocks) {
            const auto result = chain.Submit(block);
            if (block == bad_script_block) {
                CHECK(result.reject_reason.rfind("mandatory-script-verify-flag-failed", 0) == 0);
                break;
            }
            REQUIRE(result.accepted);
        }
        CHECK(chain.Tip()->height == 101);
    }
}

TEST_CASE("Before BIP34 (moved by -testactivationheight) a repeated coinbase is bad-txns-BIP30")
{
    RegtestOptions regtest;
    regtest.bip34_height = 1000;
    const ChainParams params = MakeRegtestParams(regtest);
    TempDir dir;
    TestChain chain(dir, params);
    auto& chainman = chain.Open();
    auto same_coinbase = [&](const node::BlockIndex* prev) {
        auto block = BuildBlock(chainman, prev);
        block->txs[0].vin[0].script_sig = Script{0x51, 0x51}; // no height: allowed before BIP34
        block->txs[0].vout[0].value = 50 * COIN;
        Mine(*block, params.consensus);
        return block;
    };
    const auto first = same_coinbase(chain.Tip());
    REQUIRE(chain.Submit(first).accepted);
    const auto second = same_coinbase(chain.Tip());
    CHECK(second->txs[0].GetTxid() == first->txs[0].GetTxid());
    CHECK(chain.Submit(second).reject_reason == "bad-txns-BIP30");
}

TEST_CASE("WaitForTipChange returns when a block moves the tip, or at its timeout with the same tip")
{
    TempDir dir;
    TestChain chain(dir);
    auto& chainman = chain.Open();
    const uint256 genesis = chain.Tip()->hash;
    CHECK(chainman.WaitForTipChange(genesis, std::chrono::milliseconds(20))->hash == genesis);
    const node::BlockIndex* seen = nullptr;
    std::thread waiter([&] { seen = chainman.WaitForTipChange(genesis, std::chrono::seconds(30)); });
    const auto blocks = chain.Extend(1);
    waiter.join();
    REQUIRE(seen != nullptr);
    CHECK(seen->hash == blocks[0]->GetHash());
}
