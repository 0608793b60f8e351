// Transaction relay's bookkeeping (services/node/tx_relay.h) on its own: the orphanage's bounds, expiry
// and parent lookups, the trickle timers' Poisson delays and the shared inbound timer, the download
// tracker's choice of peer, the feefilter rounding and the rolling sets.
#include <services/node/tx_relay.h>

#include <doctest/doctest.h>

#include <cmath>

using namespace orrery;
using namespace orrery::node;

namespace {

uint256 Hash(uint32_t n, uint8_t tag = 0x11)
{
    std::array<uint8_t, 32> bytes{};
    for (int i = 0; i < 4; ++i) bytes[size_t(i)] = uint8_t(n >> (8 * i));
    bytes[31] = tag;
    return uint256(bytes);
}

//! A transaction spending `prevouts`, made unique by `n` in its lock time.
std::shared_ptr<const Transaction> Spend(std::vector<OutPoint> prevouts, uint32_t n, size_t outputs = 1)
{
    Transaction tx;
    for (const auto& prevout : prevouts) tx.vin.push_back(TxIn{prevout, Script{}, 0xffffffff, {}});
    for (size_t i = 0; i < outputs; ++i) tx.vout.push_back(TxOut{1000, Script{}});
    tx.lock_time = n;
    return std::make_shared<const Transaction>(tx);
}

} // namespace

TEST_SUITE("node_tx_relay")
{
    TEST_CASE("an orphan is found by the parent it waits for and forgotten when that peer leaves")
    {
        TxOrphanage orphanage;
        auto parent = Spend({OutPoint{Hash(1), 0}}, 1, 2);
        const uint256 parent_txid = parent->GetTxid();
        auto child = Spend({OutPoint{parent_txid, 1}}, 2);
        auto other = Spend({OutPoint{Hash(9), 0}}, 3);
        CHECK(orphanage.AddTx(child, 7, 1000));
        CHECK_FALSE(orphanage.AddTx(child, 8, 1000)); // already there
        CHECK(orphanage.AddTx(other, 8, 1000));
        CHECK(orphanage.HaveTx(child->GetWtxid()));
        CHECK(orphanage.HaveTxid(child->GetTxid()));

        auto children = orphanage.ChildrenOf(*parent, parent_txid);
        REQUIRE(children.size() == 1);
        CHECK(children[0].wtxid == child->GetWtxid());
        CHECK(children[0].from_peer == 7);

        CHECK(orphanage.EraseForPeer(7) == 1);
        CHECK_FALSE(orphanage.HaveTx(child->GetWtxid()));
        CHECK(orphanage.ChildrenOf(*parent, parent_txid).empty());
        CHECK(orphanage.Size() == 1);
    }

    TEST_CASE("the orphanage keeps at most its limit, evicting at random, and expires orphans after 20 minutes")
    {
        TxOrphanage orphanage;
        std::mt19937_64 rng(42);
        for (uint32_t i = 0; i < 150; ++i) CHECK(orphanage.AddTx(Spend({OutPoint{Hash(i), 0}}, i), 1, 1000));
        auto evicted = orphanage.LimitOrphans(DEFAULT_MAX_ORPHAN_TRANSACTIONS, 1000, rng);
        CHECK(evicted.size() == 50);
        CHECK(orphanage.Size() == DEFAULT_MAX_ORPHAN_TRANSACTIONS);
        // Random: not simply the first or the last 50 added.
        size_t early = 0;
        for (uint32_t i = 0; i < 50; ++i) early += orphanage.HaveTxid(Spend({OutPoint{Hash(i), 0}}, i)->GetTxid());
        CHECK(early > 0);
        CHECK(early < 50);

        // Nothing expires before its 20 minutes; the next sweep comes no sooner than 5 minutes later.
        CHECK(orphanage.LimitOrphans(100, 1000 + ORPHAN_TX_EXPIRE_TIME_S - 1, rng).empty());
        auto expired = orphanage.LimitOrphans(100, 1000 + ORPHAN_TX_EXPIRE_TIME_S + ORPHAN_TX_EXPIRE_INTERVAL_S, rng);
        CHECK(expired.size() == 100);
        CHECK(orphanage.Size() == 0);
    }

    TEST_CASE("a block takes out the orphans it confirms and those spending the same coins")
    {
        TxOrphanage orphanage;
        auto confirmed = Spend({OutPoint{Hash(1), 0}}, 1);
        auto conflicting = Spend({OutPoint{Hash(2), 0}}, 2);
        auto unrelated = Spend({OutPoint{Hash(3), 0}}, 3);
        for (const auto& tx : {confirmed, conflicting, unrelated}) CHECK(orphanage.AddTx(tx, 1, 0));
        Block block;
        block.txs.push_back(*confirmed);
        block.txs.push_back(*Spend({OutPoint{Hash(2), 0}}, 99)); // spends what `conflicting` spends
        CHECK(orphanage.EraseForBlock(block) == 2);
        CHECK(orphanage.HaveTx(unrelated->GetWtxid()));
        CHECK(orphanage.Size() == 1);
    }

    TEST_CASE("a transaction heavier than a standard one is not kept as an orphan")
    {
        TxOrphanage orphanage;
        Transaction big;
        big.vin.push_back(TxIn{OutPoint{Hash(1), 0}, Script(std::vector<uint8_t>(100'001, 0x51)), 0, {}});
        big.vout.push_back(TxOut{1, Script{}});
        CHECK_FALSE(orphanage.AddTx(std::make_shared<const Transaction>(big), 1, 0));
        CHECK(orphanage.Size() == 0);
    }

    TEST_CASE("outbound peers trickle on their own timers of 2 s on average, inbound ones share a 5 s timer")
    {
        TrickleScheduler trickle(7);
        int64_t now = 1'000'000'000;
        // The first call is due at once and draws the next time.
        CHECK(trickle.Due(1, false, false, now));
        CHECK(trickle.Due(2, true, false, now));
        CHECK(trickle.Due(3, true, false, now));
        CHECK(trickle.NextFor(2) == trickle.NextFor(3)); // one timer for every inbound peer
        CHECK(trickle.NextFor(1) > now);
        CHECK_FALSE(trickle.Due(2, true, false, now));
        // A noban peer is always due, and keeps its timer.
        const int64_t next = trickle.NextFor(2);
        CHECK(trickle.Due(2, true, true, now));
        CHECK(trickle.NextFor(2) == next);

        // The mean of many draws is the configured mean (exponential delays).
        double outbound = 0, inbound = 0;
        const int rounds = 20000;
        for (int i = 0; i < rounds; ++i) {
            now = trickle.NextFor(1) + 1;
            CHECK(trickle.Due(1, false, false, now));
            outbound += double(trickle.NextFor(1) - now);
            now = std::max(now, trickle.NextFor(2)) + 1;
            CHECK(trickle.Due(2, true, false, now));
            inbound += double(trickle.NextFor(2) - now);
        }
        CHECK(outbound / rounds == doctest::Approx(OUTBOUND_INVENTORY_BROADCAST_INTERVAL_US).epsilon(0.05));
        CHECK(inbound / rounds == doctest::Approx(INBOUND_INVENTORY_BROADCAST_INTERVAL_US).epsilon(0.05));
    }

    TEST_CASE("an exponential delay is never negative and varies")
    {
        std::mt19937_64 rng(1);
        std::set<int64_t> seen;
        for (int i = 0; i < 1000; ++i) {
            const int64_t delay = ExponentialDelay(rng, 5'000'000);
            CHECK(delay >= 0);
            seen.insert(delay);
        }
        CHECK(seen.size() > 990);
    }

    TEST_CASE("an announced transaction is asked from one peer at a time, outbound ones first, the next on failure")
    {
        TxDownload download;
        const uint256 hash = Hash(5);
        const int64_t t = 1'000'000;
        download.ReceivedInv(1, hash, true, false, t + NONPREF_PEER_TX_DELAY_US); // inbound: waits 2 s
        download.ReceivedInv(2, hash, true, true, t);                             // outbound
        download.ReceivedInv(2, hash, true, true, t);                             // repeated: ignored
        CHECK(download.CountAnnouncements(2) == 1);

        auto requests = download.RequestsToSend(t);
        REQUIRE(requests.size() == 1);
        REQUIRE(requests[2].size() == 1);
        CHECK(requests[2][0].hash == hash);
        CHECK(requests[2][0].wtxid);
        CHECK(download.CountInFlight(2) == 1);
        // While that request is out, nobody else is asked.
        CHECK(download.RequestsToSend(t + NONPREF_PEER_TX_DELAY_US).empty());
        // A notfound passes it to the inbound peer.
        download.ReceivedResponse(2, hash);
        requests = download.RequestsToSend(t + NONPREF_PEER_TX_DELAY_US);
        REQUIRE(requests.count(1));
        CHECK(requests[1][0].hash == hash);
        // A timeout ends it; with nobody left the hash is forgotten.
        CHECK(download.RequestsToSend(t + NONPREF_PEER_TX_DELAY_US + GETDATA_TX_INTERVAL_US).empty());
        CHECK(download.Size() == 0);
    }

    TEST_CASE("a peer leaving hands its announcements to the others; a peer may not pile up more than 5000")
    {
        TxDownload download;
        download.ReceivedInv(1, Hash(1), false, true, 0);
        download.ReceivedInv(2, Hash(1), false, true, 0);
        auto requests = download.RequestsToSend(0);
        REQUIRE(requests.count(1));
        download.DisconnectedPeer(1);
        requests = download.RequestsToSend(0);
        REQUIRE(requests.count(2));

        for (uint32_t i = 0; i < MAX_PEER_TX_ANNOUNCEMENTS + 10; ++i)
            download.ReceivedInv(3, Hash(i, 0x33), true, false, 0);
        CHECK(download.CountAnnouncements(3) == MAX_PEER_TX_ANNOUNCEMENTS);
        download.ReceivedInv(4, Hash(1, 0x44), true, false, 0);
        download.ForgetTxHash(Hash(1, 0x44));
        CHECK(download.CountAnnouncements(4) == 0);
    }

    TEST_CASE("feefilter values are rounded to buckets 10% apart, never above the next bucket")
    {
        FeeFilterRounder rounder(1000, 3);
        std::set<Amount> results;
        for (int i = 0; i < 300; ++i) {
            const Amount rounded = rounder.Round(12345);
            CHECK(rounded <= 12345 * 11 / 10 + 1);
            CHECK(rounded >= 12345 * 10 / 11 - 1);
            results.insert(rounded);
        }
        CHECK(results.size() == 2); // the bucket below, two times out of three, or the one above
        CHECK(rounder.Round(0) == 0);
    }

    TEST_CASE("a rolling set forgets its oldest half once full")
    {
        RollingHashSet set(4);
        for (uint32_t i = 0; i < 4; ++i) set.Insert(Hash(i));
        CHECK(set.Contains(Hash(0)));
        CHECK(set.Contains(Hash(3)));
        set.Insert(Hash(4));
        set.Insert(Hash(5));
        CHECK_FALSE(set.Contains(Hash(0)));
        CHECK_FALSE(set.Contains(Hash(1)));
        CHECK(set.Contains(Hash(2)));
        CHECK(set.Contains(Hash(5)));
        set.Clear();
        CHECK_FALSE(set.Contains(Hash(5)));
    }
}
