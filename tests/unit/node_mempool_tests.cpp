// The mempool against a real regtest chainstate in a temporary folder: policy
// functions, acceptance and Core's reject reasons, ancestor limits,
// replacement, eviction with the rolling minimum fee, blocks removing and a
// reorganization returning transactions, and mempool.dat written and read.
#include <doctest/doctest.h>

#include <services/node/mempool/mempool.h>
#include <services/node/mempool/persist.h>
#include <tests/unit/node_validation_util.h>
#include <tests/unit/test_util.h>

using namespace orrery;
using namespace orrery::node;

namespace {

//! A chain of 110 blocks whose coinbases pay OP_TRUE, and a mempool on it (standardness off: OP_TRUE outputs are
//! not standard).
struct Fixture {
    test::TempDir dir{"orrery_mempool"};
    test::TestChain chain{dir.path};
    std::unique_ptr<Mempool> pool;
    std::vector<std::shared_ptr<Block>> blocks;

    explicit Fixture(MempoolOptions options = {})
    {
        chain.Open();
        blocks = chain.Extend(110);
        options.require_standard = false;
        options.data_dir = dir.path;
        options.now = [] { return int64_t{2000000000}; };
        pool = std::make_unique<Mempool>(*chain.chainman, options);
        pool->Attach();
        pool->Load();
    }
    ~Fixture()
    {
        pool->Detach();
        chain.Close();
    }
    //! Output 0 of the coinbase at `height`.
    OutPoint Coinbase(int height) const { return OutPoint{blocks.at(height - 1)->txs[0].GetTxid(), 0}; }
};

//! Spends `inputs` (OP_TRUE outputs worth `value` in all) into two OP_TRUE outputs, leaving `fee`.
Transaction Spend(const std::vector<OutPoint>& inputs, Amount value, Amount fee)
{
    Transaction tx;
    tx.version = 2;
    for (const OutPoint& out : inputs) {
        TxIn in;
        in.prevout = out;
        in.sequence = 0xfffffffd;
        tx.vin.push_back(in);
    }
    const Amount half = (value - fee) / 2;
    tx.vout.push_back(TxOut{half, test::kAnyoneCanSpend});
    tx.vout.push_back(TxOut{value - fee - half, test::kAnyoneCanSpend});
    return tx;
}

const Amount SUBSIDY = 50 * COIN;

} // namespace

TEST_CASE("dust thresholds and output standardness follow Core")
{
    const std::vector<uint8_t> p2wpkh = [] {
        std::vector<uint8_t> s{0x00, 0x14};
        s.resize(22, 0x11);
        return s;
    }();
    std::vector<uint8_t> p2pkh{0x76, 0xa9, 0x14};
    p2pkh.resize(23, 0x22);
    p2pkh.push_back(0x88);
    p2pkh.push_back(0xac);
    CHECK(GetDustThreshold(TxOut{0, p2wpkh}, FeeRate(DUST_RELAY_TX_FEE)) == 294);
    CHECK(GetDustThreshold(TxOut{0, p2pkh}, FeeRate(DUST_RELAY_TX_FEE)) == 546);
    StandardnessOptions options;
    std::vector<uint8_t> data{0x6a, 0x4c, 81};
    data.resize(84, 0);
    CHECK_FALSE(IsStandardOutputScript(data, options)); // 84 bytes > 83
    data.resize(83);
    data[2] = 80;
    CHECK(IsStandardOutputScript(data, options));
    options.datacarrier = false;
    CHECK_FALSE(IsStandardOutputScript(data, options));
    Transaction tx;
    tx.version = 4;
    tx.vout.push_back(TxOut{1000, p2wpkh});
    std::string reason;
    CHECK_FALSE(IsStandardTx(tx, StandardnessOptions{}, reason));
    CHECK(reason == "version");
    tx.version = 2;
    tx.vout[0].value = 293;
    CHECK_FALSE(IsStandardTx(tx, StandardnessOptions{}, reason));
    CHECK(reason == "dust");
    CHECK(FeeRate(1000).GetFee(141) == 141);
    CHECK(FeeRate(1).GetFee(10) == 1);
    CHECK(ParseMoney("0.00001") == 1000);
    CHECK_FALSE(ParseMoney("0.000000001"));
    CHECK_FALSE(ParseMoney("abc"));
}

TEST_CASE("a spend enters, a double spend replaces it only by paying more, and a block removes it")
{
    Fixture f;
    const Transaction first = Spend({f.Coinbase(1)}, SUBSIDY, 1000);
    AcceptResult result = f.pool->AcceptTransaction(first);
    REQUIRE_MESSAGE(result.accepted, result.ToString());
    CHECK(f.pool->Size() == 1);
    CHECK(f.pool->AcceptTransaction(first).reject_reason == "txn-already-in-mempool");

    const Transaction missing = Spend({OutPoint{uint256::FromHex(std::string(64, 'a')).value(), 0}}, COIN, 1000);
    CHECK(f.pool->AcceptTransaction(missing).reject_reason == "bad-txns-inputs-missingorspent");
    const Transaction immature = Spend({f.Coinbase(100)}, SUBSIDY, 1000);
    CHECK(f.pool->AcceptTransaction(immature).reject_reason == "bad-txns-premature-spend-of-coinbase");
    const Transaction free = Spend({f.Coinbase(2)}, SUBSIDY, 0);
    CHECK(f.pool->AcceptTransaction(free).reject_reason == "min relay fee not met");

    const Transaction cheaper = Spend({f.Coinbase(1)}, SUBSIDY, 900);
    CHECK(f.pool->AcceptTransaction(cheaper).reject_reason == "insufficient fee");
    // Paying exactly the old fee plus less than the incremental relay fee for its size is not enough either.
    const Transaction barely = Spend({f.Coinbase(1)}, SUBSIDY, 1001);
    CHECK(f.pool->AcceptTransaction(barely).reject_reason == "insufficient fee");
    const Transaction better = Spend({f.Coinbase(1)}, SUBSIDY, 5000);
    result = f.pool->AcceptTransaction(better);
    REQUIRE_MESSAGE(result.accepted, result.ToString());
    CHECK(result.replaced == std::vector<uint256>{first.GetTxid()});
    CHECK_FALSE(f.pool->Exists(first.GetTxid()));

    // A child, then the block confirming the parent: the child stays, now without in-mempool parents.
    const Transaction child = Spend({OutPoint{better.GetTxid(), 0}}, better.vout[0].value, 1000);
    REQUIRE(f.pool->AcceptTransaction(child).accepted);
    CHECK(f.pool->Ancestors(child.GetTxid()) == std::vector<uint256>{better.GetTxid()});
    auto block = test::BuildBlock(*f.chain.chainman, f.chain.Tip(), {better}, 5000);
    REQUIRE(f.chain.Submit(block).accepted);
    f.chain.chainman->SyncWithListeners();
    CHECK_FALSE(f.pool->Exists(better.GetTxid()));
    REQUIRE(f.pool->Exists(child.GetTxid()));
    CHECK(f.pool->GetEntry(child.GetTxid())->parents.empty());

    // The block leaves again (invalidated): its transaction comes back as the child's parent.
    ValidationState state;
    REQUIRE(f.chain.chainman->InvalidateBlock(block->GetHash(), state));
    f.chain.chainman->SyncWithListeners();
    REQUIRE(f.pool->Exists(better.GetTxid()));
    CHECK(f.pool->GetEntry(child.GetTxid())->parents == std::set<uint256>{better.GetTxid()});
}

TEST_CASE("with -mempoolfullrbf=0 a transaction that does not signal is not replaced")
{
    MempoolOptions options;
    options.full_rbf = false;
    Fixture f(options);
    Transaction first = Spend({f.Coinbase(1)}, SUBSIDY, 1000);
    first.vin[0].sequence = 0xfffffffe;
    REQUIRE(f.pool->AcceptTransaction(first).accepted);
    CHECK(f.pool->AcceptTransaction(Spend({f.Coinbase(1)}, SUBSIDY, 50000)).reject_reason == "txn-mempool-conflict");
}

TEST_CASE("a chain past -limitancestorcount is refused as too-long-mempool-chain")
{
    MempoolOptions options;
    options.ancestor_count = 3;
    Fixture f(options);
    Transaction tx = Spend({f.Coinbase(1)}, SUBSIDY, 1000);
    Amount value = tx.vout[0].value;
    REQUIRE(f.pool->AcceptTransaction(tx).accepted);
    for (int i = 0; i < 2; ++i) {
        tx = Spend({OutPoint{tx.GetTxid(), 0}}, value, 1000);
        value = tx.vout[0].value;
        REQUIRE(f.pool->AcceptTransaction(tx).accepted);
    }
    const AcceptResult result = f.pool->AcceptTransaction(Spend({OutPoint{tx.GetTxid(), 0}}, value, 1000));
    CHECK(result.reject_reason == "too-long-mempool-chain");
    CHECK(result.debug_message == "too many unconfirmed ancestors [limit: 3]");
}

TEST_CASE("a full mempool evicts the lowest fee rate and raises its minimum fee")
{
    MempoolOptions probe_options;
    Fixture probe(probe_options);
    REQUIRE(probe.pool->AcceptTransaction(Spend({probe.Coinbase(1)}, SUBSIDY, 1000)).accepted);
    const int64_t one = probe.pool->Info().usage;

    MempoolOptions options;
    options.max_size_bytes = one * 2 + one / 2; // room for two
    Fixture f(options);
    const Transaction low = Spend({f.Coinbase(1)}, SUBSIDY, 200);
    const Transaction mid = Spend({f.Coinbase(2)}, SUBSIDY, 2000);
    const Transaction high = Spend({f.Coinbase(3)}, SUBSIDY, 3000);
    REQUIRE(f.pool->AcceptTransaction(low).accepted);
    REQUIRE(f.pool->AcceptTransaction(mid).accepted);
    REQUIRE(f.pool->AcceptTransaction(high).accepted);
    CHECK_FALSE(f.pool->Exists(low.GetTxid()));
    CHECK(f.pool->Size() == 2);
    // The new floor is the evicted fee rate plus the incremental relay fee.
    const int64_t vsize = GetVirtualSize(low);
    CHECK(f.pool->GetMinFee().PerKvB() == 200 * 1000 / vsize + 1000);
    const AcceptResult refused = f.pool->AcceptTransaction(Spend({f.Coinbase(4)}, SUBSIDY, 250));
    CHECK(refused.reject_reason == "mempool min fee not met");
}

TEST_CASE("mempool.dat keeps transactions, times and fee deltas across a restart, in version 1 and 2")
{
    MempoolDump dump;
    dump.xor_key = {1, 2, 3, 4, 5, 6, 7, 8};
    Transaction tx = Spend({OutPoint{uint256::FromHex(std::string(64, 'b')).value(), 1}}, COIN, 100);
    dump.txs.push_back({tx, 1234, -5});
    dump.deltas[tx.GetTxid()] = 7;
    dump.unbroadcast.insert(tx.GetTxid());
    for (uint64_t version : {MEMPOOL_DUMP_VERSION, MEMPOOL_DUMP_VERSION_NO_XOR_KEY}) {
        dump.version = version;
        const auto bytes = SerializeMempoolDump(dump);
        const MempoolDump back = ParseMempoolDump(bytes);
        REQUIRE(back.txs.size() == 1);
        CHECK(back.txs[0].tx == tx);
        CHECK(back.txs[0].time == 1234);
        CHECK(back.txs[0].fee_delta == -5);
        CHECK(back.deltas == dump.deltas);
        CHECK(back.unbroadcast == dump.unbroadcast);
    }
    dump.version = MEMPOOL_DUMP_VERSION;
    auto bytes = SerializeMempoolDump(dump);
    bytes.push_back(0);
    CHECK_THROWS(ParseMempoolDump(bytes));

    uint256 txid;
    {
        Fixture f;
        const Transaction spend = Spend({f.Coinbase(1)}, SUBSIDY, 1000);
        txid = spend.GetTxid();
        REQUIRE(f.pool->AcceptTransaction(spend).accepted);
        f.pool->PrioritiseTransaction(txid, 500);
        REQUIRE(f.pool->Dump());
        // Restart the mempool on the same chainstate.
        f.pool->Detach();
        MempoolOptions options;
        options.require_standard = false;
        options.data_dir = f.dir.path;
        options.now = [] { return int64_t{2000000000}; };
        f.pool = std::make_unique<Mempool>(*f.chain.chainman, options);
        f.pool->Attach();
        CHECK_FALSE(f.pool->IsLoaded());
        CHECK(f.pool->Load() == 1);
        CHECK(f.pool->IsLoaded());
        REQUIRE(f.pool->Exists(txid));
        CHECK(f.pool->GetEntry(txid)->fee_delta == 500);
    }
}

TEST_CASE("TRUC transactions spend only from TRUC parents and keep one child")
{
    Fixture f;
    Transaction parent = Spend({f.Coinbase(1)}, SUBSIDY, 1000);
    parent.version = 3;
    REQUIRE(f.pool->AcceptTransaction(parent).accepted);
    Transaction legacy_child = Spend({OutPoint{parent.GetTxid(), 0}}, parent.vout[0].value, 1000);
    const AcceptResult refused = f.pool->AcceptTransaction(legacy_child);
    CHECK(refused.reject_reason == "TRUC-violation");
    CHECK(refused.debug_message.find("non-version=3 tx") == 0);
    Transaction child = legacy_child;
    child.version = 3;
    REQUIRE(f.pool->AcceptTransaction(child).accepted);
    // A second child evicts its sibling only by paying more (sibling eviction).
    Transaction sibling = Spend({OutPoint{parent.GetTxid(), 1}}, parent.vout[1].value, 500);
    sibling.version = 3;
    CHECK(f.pool->AcceptTransaction(sibling).reject_reason == "insufficient fee");
    sibling = Spend({OutPoint{parent.GetTxid(), 1}}, parent.vout[1].value, 5000);
    sibling.version = 3;
    const AcceptResult evicted = f.pool->AcceptTransaction(sibling);
    REQUIRE_MESSAGE(evicted.accepted, evicted.ToString());
    CHECK(evicted.replaced == std::vector<uint256>{child.GetTxid()});
    // A grandchild would be a third generation.
    Transaction grandchild = Spend({OutPoint{sibling.GetTxid(), 0}}, sibling.vout[0].value, 1000);
    grandchild.version = 3;
    CHECK(f.pool->AcceptTransaction(grandchild).reject_reason == "TRUC-violation");
}
