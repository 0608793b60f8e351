// How a wallet follows the chain (services/wallet/sync/chain_sync.h), against
// the node's real ChainService over a real regtest chainstate in this process:
// catching up from the last processed block, rolling a reorganized branch
// back to the fork point, a spend in a block that left the chain still being
// a spend, a block heard out of order, and the state kept across reopening.
#include "test_util.h"
#include <services/node/chain_service.h>
#include <services/wallet/hd_wallet.h>
#include <services/wallet/sync/chain_sync.h>
#include <tests/unit/node_validation_util.h>

#include <common/keys/descriptor.h>
#include <common/keys/key_io.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::wallet;

namespace {

const std::vector<uint8_t> SEED(32, 0x42);

//! A regtest chain with its Chain service, and a wallet file beside it.
struct Fixture {
    test::TempDir dir{"orrery_wallet_sync"};
    test::TestChain chain{dir.path / "chain"};
    node::ChainstateManager& chainman{chain.Open()};
    std::shared_ptr<node::ChainService> service{std::make_shared<node::ChainService>(chainman)};
    std::filesystem::path file{dir.path / "wallet.sqlite"};

    ~Fixture() { chain.Close(); }

    //! A wallet born at the genesis, with a small keypool.
    std::unique_ptr<HdWallet> MakeWallet()
    {
        WalletOptions options;
        options.keypool_size = 5;
        const auto genesis = service->getTip();
        return HdWallet::Create(file, "w", Network::REGTEST, SEED, options, BlockRef{genesis.hash, genesis.height});
    }
    //! A block on `prev` whose coinbase pays `script`, submitted.
    std::shared_ptr<Block> Pay(const node::BlockIndex* prev, const Script& script, std::vector<Transaction> txs = {},
                               uint8_t extra = 0)
    {
        auto block = test::BuildBlock(chainman, prev, std::move(txs), 0, extra);
        block->txs[0].vout[0].script_pubkey = script;
        test::Mine(*block, chainman.Params().consensus);
        REQUIRE(chain.Submit(block).accepted);
        return block;
    }
    const node::BlockIndex* At(const std::shared_ptr<Block>& block)
    {
        auto lock = chainman.Lock();
        return chainman.LookupBlockIndex(block->GetHash());
    }
};

//! The wallet watches OP_TRUE, which the test chain's coinbases pay and its spends spend without a signature.
void WatchAnyoneCanSpend(HdWallet& wallet)
{
    DescriptorRecord record;
    record.descriptor = AddDescriptorChecksum("raw(51)");
    record.timestamp = 1;
    wallet.ImportDescriptor(record, "");
}

} // namespace

TEST_CASE("a wallet catches up from its last block and rolls a reorganized branch back to the fork point")
{
    Fixture f;
    auto wallet = f.MakeWallet();
    const Script script = *DecodeAddress(*wallet->GetNewAddress(OutputType::BECH32, "mining"), Network::REGTEST);
    auto first = f.Pay(f.chain.Tip(), script);
    f.Pay(f.chain.Tip(), script);
    f.Pay(f.chain.Tip(), script);

    CatchUpResult result = CatchUp(*wallet, *f.service);
    CHECK(result.connected == 3);
    CHECK(result.disconnected == 0);
    CHECK(wallet->LastBlock()->height == 3);
    CHECK(wallet->GetBalances().immature == 150 * COIN);
    CHECK(wallet->GetBalances().trusted == 0);

    // A longer branch from height 1 takes over: blocks 2 and 3 leave the chain, their coinbases with them.
    f.chain.ExtendFrom(f.At(first), 3, /*extra=*/7);
    result = CatchUp(*wallet, *f.service);
    CHECK(result.disconnected == 2);
    CHECK(result.connected == 3);
    CHECK(wallet->LastBlock()->height == 4);
    CHECK(wallet->LastBlock()->hash == f.service->getTip().hash);
    CHECK(wallet->GetBalances().immature == 50 * COIN);
    int abandoned = 0;
    for (const auto& wtx : wallet->Transactions()) abandoned += wtx.record.abandoned;
    CHECK(abandoned == 2); // a coinbase that left the chain can never come back through the mempool

    // Reopened, it is where it was: nothing to catch up.
    const BlockRef last = *wallet->LastBlock();
    wallet.reset();
    wallet = HdWallet::Load(f.file, "w", Network::REGTEST, 5);
    CHECK(*wallet->LastBlock() == last);
    CHECK(wallet->GetBalances().immature == 50 * COIN);
    result = CatchUp(*wallet, *f.service);
    CHECK(result.connected == 0);
    CHECK(result.disconnected == 0);
}

TEST_CASE("a spend in a block that left the chain is still a spend of its coin, until abandoned")
{
    Fixture f;
    auto wallet = f.MakeWallet();
    WatchAnyoneCanSpend(*wallet);
    f.chain.Extend(101); // the first coinbase matures
    CatchUp(*wallet, *f.service);
    CHECK(wallet->GetBalances().trusted == 50 * COIN);
    const auto coins = wallet->ListCoins(1, 9999999, false);
    REQUIRE(coins.size() == 1);
    const OutPoint coin = coins[0].outpoint;

    // The coin is spent in block 102, which a longer branch then replaces.
    const auto* fork = f.chain.Tip();
    auto spending = f.Pay(fork, {0x00, 0x14, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14},
                          {test::MakeSpend({coin}, 49 * COIN)}, 0);
    const uint256 spend_txid = spending->txs[1].GetTxid();
    CatchUp(*wallet, *f.service);
    CHECK(wallet->IsSpent(coin));
    f.chain.ExtendFrom(fork, 2, /*extra=*/9);
    CatchUp(*wallet, *f.service);
    auto spend = wallet->GetTransaction(spend_txid);
    REQUIRE(spend);
    CHECK(spend->record.state == TxStateKind::INACTIVE);
    CHECK(wallet->Depth(*spend) == 0);
    CHECK(wallet->IsSpent(coin)); // the spend is known, so the coin is not offered again
    wallet->AbandonTransaction(spend_txid);
    CHECK_FALSE(wallet->IsSpent(coin));
}

TEST_CASE("a block heard out of order makes the wallet catch up instead of skipping it")
{
    Fixture f;
    auto wallet = f.MakeWallet();
    const Script script = *DecodeAddress(*wallet->GetNewAddress(OutputType::BECH32M, ""), Network::REGTEST);
    f.Pay(f.chain.Tip(), script);
    auto second = f.Pay(f.chain.Tip(), script);
    // The wallet hears of block 2 while it is at the genesis: block 1 is missing, so it reads the chain.
    auto blocks = f.service->getBlocksFrom(2, 1);
    REQUIRE(blocks.size() == 1);
    ApplyBlockConnected(*wallet, *f.service, blocks[0], DeserializeBlock(blocks[0].data));
    CHECK(wallet->LastBlock()->height == 2);
    CHECK(wallet->Transactions().size() == 2);
}

TEST_CASE("a rescan finds coins of an imported descriptor without moving the last processed block")
{
    Fixture f;
    auto wallet = f.MakeWallet();
    f.chain.Extend(5);
    CatchUp(*wallet, *f.service);
    CHECK(wallet->Transactions().empty());
    WatchAnyoneCanSpend(*wallet);
    const RescanResult result = Rescan(*wallet, *f.service, 0, std::nullopt);
    CHECK(result.start_height == 0);
    CHECK(result.stop_height == 5);
    CHECK(wallet->Transactions().size() == 5);
    CHECK(wallet->LastBlock()->height == 5);
    CHECK(wallet->GetBalances().immature == 250 * COIN);
}
