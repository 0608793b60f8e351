// BIP152 compact blocks (common/p2p/compact_blocks.h): the wire format with
// its differential indexes and bounds, the short ids, and reconstruction from
// known transactions with Core's outcomes (complete, missing, collision,
// mismatching blocktxn).
#include <common/consensus/check.h>
#include <common/consensus/consensus.h>
#include <common/consensus/merkle.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>
#include <common/crypto/hash.h>
#include <common/p2p/compact_blocks.h>
#include <common/p2p/messages.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::p2p;

namespace {

const ConsensusParams& Regtest()
{
    return GetChainParams(ChainType::REGTEST).consensus;
}

Transaction Spend(uint8_t prev_fill, Amount value = 1000)
{
    std::array<uint8_t, 32> bytes;
    bytes.fill(prev_fill);
    Transaction tx;
    tx.vin.push_back(TxIn{OutPoint{uint256{bytes}, 0}, {OP_TRUE}, SEQUENCE_FINAL, {}});
    tx.vout.push_back(TxOut{value, {OP_TRUE}});
    return tx;
}

Transaction Coinbase()
{
    Transaction tx;
    tx.version = 1;
    tx.vin.push_back(TxIn{OutPoint{}, CoinbaseHeightPrefix(7), SEQUENCE_FINAL, {}});
    tx.vin[0].script_sig.push_back(0x00);
    tx.vout.push_back(TxOut{50 * COIN, {OP_TRUE}});
    return tx;
}

//! A regtest block of a coinbase and `count` spends, valid for CheckBlock.
Block MakeBlock(size_t count)
{
    Block block;
    block.version = 4;
    block.bits = 0x207fffff;
    block.time = 1700000000;
    block.txs.push_back(Coinbase());
    for (size_t i = 0; i < count; ++i) block.txs.push_back(Spend(uint8_t(i + 1)));
    block.merkle_root = BlockMerkleRoot(block);
    while (!CheckProofOfWork(block.GetHash(), block.bits, Regtest())) ++block.nonce;
    return block;
}

std::vector<KnownTransaction> Known(const Block& block, std::initializer_list<size_t> positions)
{
    std::vector<KnownTransaction> known;
    for (size_t i : positions) {
        known.push_back({block.txs[i].GetWtxid(), std::make_shared<const Transaction>(block.txs[i])});
    }
    return known;
}

} // namespace

TEST_CASE("a compact block carries the coinbase in full and every other transaction as a short id")
{
    const Block block = MakeBlock(3);
    const CmpctBlockMessage compact = MakeCompactBlock(block, 0x0102030405060708ULL);
    REQUIRE(compact.prefilled.size() == 1);
    CHECK(compact.prefilled[0].index == 0);
    CHECK(compact.prefilled[0].tx == block.txs[0]);
    REQUIRE(compact.short_ids.size() == 3);
    // The key is SHA256(header || nonce) read as two little-endian words; the id the low 48 bits of SipHash.
    std::vector<uint8_t> preimage = SerializeBlockHeader(block);
    for (int i = 0; i < 8; ++i) preimage.push_back(uint8_t(0x0102030405060708ULL >> (8 * i)));
    const crypto::Hash32 sha = crypto::Sha256(preimage);
    uint64_t k0 = 0, k1 = 0;
    for (int i = 7; i >= 0; --i) k0 = k0 << 8 | sha[size_t(i)];
    for (int i = 15; i >= 8; --i) k1 = k1 << 8 | sha[size_t(i)];
    const uint256 wtxid = block.txs[2].GetWtxid();
    CHECK(compact.short_ids[1] == (crypto::SipHash24(k0, k1, std::span(wtxid.data(), 32)) & 0xffffffffffffULL));
    CHECK((compact.short_ids[1] >> 48) == 0);
}

TEST_CASE("compact block messages round-trip with prefilled positions written as differences")
{
    const Block block = MakeBlock(4);
    CmpctBlockMessage compact = MakeCompactBlock(block, 42);
    // Prefill position 2 too: it is written as 1 (one past position 0, then a gap of one).
    compact.prefilled.push_back({2, block.txs[2]});
    compact.short_ids.erase(compact.short_ids.begin() + 1);
    const std::vector<uint8_t> bytes = EncodeCmpctBlock(compact);
    CHECK(DecodeCmpctBlock(bytes) == compact);
    const size_t prefilled_start = 80 + 8 + 1 + 6 * compact.short_ids.size();
    CHECK(bytes[prefilled_start] == 2);     // two prefilled entries
    CHECK(bytes[prefilled_start + 1] == 0); // the coinbase at 0
    CHECK(DecodeMessage(command::CMPCTBLOCK, bytes) == Message{compact});

    const GetBlockTxnMessage request{block.GetHash(), {1, 2, 7, 300}};
    const std::vector<uint8_t> request_bytes = EncodeGetBlockTxn(request);
    CHECK(DecodeGetBlockTxn(request_bytes) == request);
    CHECK(request_bytes[32] == 4); // count, then 1, 0, 4, 292
    CHECK(request_bytes[33] == 1);
    CHECK(request_bytes[34] == 0);
    CHECK(request_bytes[35] == 4);

    const BlockTxnMessage answer{block.GetHash(), {block.txs[1], block.txs[3]}};
    CHECK(DecodeBlockTxn(EncodeBlockTxn(answer)) == answer);
    CHECK(DecodeMessage(command::SENDCMPCT, std::vector<uint8_t>{1, 2, 0, 0, 0, 0, 0, 0, 0}) ==
          Message{SendCmpctMessage{true, 2}});
}

TEST_CASE("indexes past 16 bits, truncated short ids and trailing bytes are refused")
{
    std::vector<uint8_t> overflow(32, 0xaa);
    overflow.push_back(2);
    overflow.insert(overflow.end(), {0xfd, 0xff, 0xff}); // 65535
    overflow.push_back(0);                               // 65536: past 16 bits
    CHECK_THROWS_WITH_AS(DecodeGetBlockTxn(overflow), doctest::Contains("differential value overflow"),
                         DeserializeError);
    CHECK_THROWS_AS(DecodeMessage(command::GETBLOCKTXN, overflow), ProtocolError);

    std::vector<uint8_t> compact = EncodeCmpctBlock(MakeCompactBlock(MakeBlock(2), 1));
    std::vector<uint8_t> lying = compact;
    lying[88] = 200; // 200 short ids announced, two present
    CHECK_THROWS_AS(DecodeCmpctBlock(lying), DeserializeError);
    compact.push_back(0);
    CHECK_THROWS_WITH_AS(DecodeCmpctBlock(compact), doctest::Contains("trailing"), DeserializeError);
}

TEST_CASE("a prefilled position beyond the block or an empty block is an invalid compact block")
{
    const Block block = MakeBlock(2);
    CmpctBlockMessage compact = MakeCompactBlock(block, 1);
    CHECK_FALSE(CheckCompactBlock(compact));
    compact.prefilled[0].index = 3; // three transactions: positions 0..2
    CHECK(CheckCompactBlock(compact) == std::string("prefilled transaction out of range"));
    PartialBlock partial;
    CHECK(partial.Init(compact, {}, {}) == ReadStatus::INVALID);
    CHECK(CheckCompactBlock(CmpctBlockMessage{}) == std::string("compact block without transactions"));
}

TEST_CASE("a block whose transactions are all known is rebuilt without asking for any")
{
    const Block block = MakeBlock(3);
    PartialBlock partial;
    // Two from the mempool, one from the orphans (extra), in any order.
    REQUIRE(partial.Init(MakeCompactBlock(block, 9), Known(block, {3, 1}), Known(block, {2})) == ReadStatus::OK);
    CHECK(partial.MissingIndexes().empty());
    CHECK(partial.MempoolCount() == 3);
    CHECK(partial.ExtraCount() == 1);
    Block rebuilt;
    REQUIRE(partial.Fill(rebuilt, {}, Regtest()) == ReadStatus::OK);
    CHECK(rebuilt == block);
}

TEST_CASE("missing transactions are asked for by position and filled in from blocktxn")
{
    const Block block = MakeBlock(4);
    PartialBlock partial;
    REQUIRE(partial.Init(MakeCompactBlock(block, 9), Known(block, {1, 3}), {}) == ReadStatus::OK);
    CHECK(partial.MissingIndexes() == std::vector<uint16_t>{2, 4});
    SUBCASE("the right transactions complete the block")
    {
        Block rebuilt;
        REQUIRE(partial.Fill(rebuilt, {block.txs[2], block.txs[4]}, Regtest()) == ReadStatus::OK);
        CHECK(rebuilt == block);
    }
    SUBCASE("other transactions fail on the merkle root: the full block is fetched")
    {
        Block rebuilt;
        CHECK(partial.Fill(rebuilt, {block.txs[2], Spend(99)}, Regtest()) == ReadStatus::FAILED);
    }
    SUBCASE("too few transactions are invalid")
    {
        Block rebuilt;
        CHECK(partial.Fill(rebuilt, {block.txs[2]}, Regtest()) == ReadStatus::INVALID);
    }
}

TEST_CASE("two equal short ids in one compact block fail reconstruction")
{
    const Block block = MakeBlock(3);
    CmpctBlockMessage compact = MakeCompactBlock(block, 5);
    compact.short_ids[2] = compact.short_ids[0];
    PartialBlock partial;
    CHECK(partial.Init(compact, Known(block, {1, 2, 3}), {}) == ReadStatus::FAILED);
}

TEST_CASE("a known transaction posing under a forged short id fails on the merkle root, not on the peer")
{
    const Block block = MakeBlock(2);
    CmpctBlockMessage compact = MakeCompactBlock(block, 5);
    const Transaction impostor = Spend(77);
    compact.short_ids[0] = ShortTxId(MakeShortIdKey(compact.header, compact.nonce), impostor.GetWtxid());
    std::vector<KnownTransaction> mempool = Known(block, {2});
    mempool.push_back({impostor.GetWtxid(), std::make_shared<const Transaction>(impostor)});
    PartialBlock partial;
    REQUIRE(partial.Init(compact, mempool, {}) == ReadStatus::OK);
    CHECK(partial.MissingIndexes().empty());
    Block rebuilt;
    CHECK(partial.Fill(rebuilt, {}, Regtest()) == ReadStatus::FAILED); // a collision: the full block is fetched
}
