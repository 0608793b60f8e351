// Consensus rules as pure functions: compact targets and proof of work,
// retargeting (Core's pow_tests figures), subsidy, CheckTransaction and
// CheckBlock reject reasons, witness commitments, BIP34, and lock times.
#include <common/consensus/arith_uint256.h>
#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/consensus.h>
#include <common/consensus/hex.h>
#include <common/consensus/locktime.h>
#include <common/consensus/merkle.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using namespace orrery;

namespace {

const ConsensusParams& Main() { return GetChainParams(ChainType::MAIN).consensus; }

uint256 Txid(uint8_t fill)
{
    std::array<uint8_t, 32> bytes;
    bytes.fill(fill);
    return uint256{bytes};
}

Transaction Spend(uint8_t prev_fill, uint32_t n = 0)
{
    Transaction tx;
    tx.vin.push_back(TxIn{OutPoint{Txid(prev_fill), n}, {OP_TRUE}, SEQUENCE_FINAL, {}});
    tx.vout.push_back(TxOut{1000, {OP_TRUE}});
    return tx;
}

Transaction Coinbase(int height, Amount value = 50 * COIN)
{
    Transaction tx;
    tx.version = 1;
    tx.vin.push_back(TxIn{OutPoint{}, CoinbaseHeightPrefix(height), SEQUENCE_FINAL, {}});
    tx.vin[0].script_sig.push_back(0x00); // keep it at least 2 bytes for tiny heights
    tx.vout.push_back(TxOut{value, {OP_TRUE}});
    return tx;
}

//! A regtest block (trivial proof of work) with a correct merkle root.
Block MakeBlock(std::vector<Transaction> txs)
{
    Block block;
    block.version = 4;
    block.bits = 0x207fffff;
    block.time = 1700000000;
    block.txs = std::move(txs);
    block.merkle_root = BlockMerkleRoot(block);
    // Grind the nonce so that check_pow also holds (half of all hashes do).
    while (!CheckProofOfWork(block.GetHash(), block.bits, GetChainParams(ChainType::REGTEST).consensus)) ++block.nonce;
    return block;
}

std::string RejectOf(const Transaction& tx)
{
    ValidationState state;
    return CheckTransaction(tx, state) ? "" : state.GetRejectReason();
}

std::string RejectOf(const Block& block, bool check_pow = true)
{
    ValidationState state;
    return CheckBlock(block, state, GetChainParams(ChainType::REGTEST).consensus, check_pow) ? ""
                                                                                             : state.GetRejectReason();
}

} // namespace

// ---------------------------------------------------------------------------
// Targets and proof of work
// ---------------------------------------------------------------------------

TEST_CASE("compact target encoding matches Core's arith_uint256 examples")
{
    struct Case {
        uint32_t compact;
        std::string hex; // big-endian value
        uint32_t reencoded;
        bool negative;
    };
    const std::vector<Case> cases = {
        {0x00000000, "0", 0, false},          {0x00123456, "0", 0, false},
        {0x01003456, "0", 0, false},          {0x02000056, "0", 0, false},
        {0x03000000, "0", 0, false},          {0x04000000, "0", 0, false},
        {0x00923456, "0", 0, false},          {0x01803456, "0", 0, false},
        {0x02800056, "0", 0, false},          {0x03800000, "0", 0, false},
        {0x04800000, "0", 0, false},          {0x01123456, "12", 0x01120000, false},
        {0x01fedcba, "7e", 0x01fe0000, true}, {0x02123456, "1234", 0x02123400, false},
        {0x03123456, "123456", 0x03123456, false}, {0x04123456, "12345600", 0x04123456, false},
        {0x04923456, "12345600", 0x04923456, true}, {0x05009234, "92340000", 0x05009234, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.compact);
        bool negative = false;
        bool overflow = false;
        const ArithUint256 v = ArithUint256::FromCompact(c.compact, &negative, &overflow);
        std::string hex = v.GetHex();
        hex.erase(0, std::min(hex.find_first_not_of('0'), hex.size() - 1));
        CHECK(hex == c.hex);
        CHECK(negative == c.negative);
        CHECK_FALSE(overflow);
        CHECK(v.GetCompact(negative) == c.reencoded);
    }
    bool negative = false;
    bool overflow = false;
    const ArithUint256 big = ArithUint256::FromCompact(0x20123456, &negative, &overflow);
    CHECK(big.GetHex() == "1234560000000000000000000000000000000000000000000000000000000000");
    CHECK(big.GetCompact() == 0x20123456);
    ArithUint256::FromCompact(0xff123456, &negative, &overflow);
    CHECK(overflow);
}

TEST_CASE("256-bit arithmetic divides, shifts and wraps like Core")
{
    const ArithUint256 one(1);
    CHECK((one << 255 >> 255) == one);
    CHECK((one << 256) == ArithUint256());
    CHECK((~ArithUint256() + one) == ArithUint256()); // wraps
    CHECK((ArithUint256(1000) / ArithUint256(7)).GetLow64() == 142);
    CHECK(((one << 200) / (one << 100)) == (one << 100));
    CHECK((ArithUint256(5) - ArithUint256(7)) == ~ArithUint256(1));
    CHECK((one << 130).Bits() == 131);
    const auto hash = *uint256::FromHex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    CHECK(ArithUint256::FromUint256(hash).ToUint256() == hash);
}

TEST_CASE("proof of work is checked against the target and the chain's limit")
{
    const Block& genesis = GetChainParams(ChainType::MAIN).genesis;
    CHECK(CheckProofOfWork(genesis.GetHash(), genesis.bits, Main()));
    CHECK_FALSE(CheckProofOfWork(genesis.GetHash(), 0x1b00ffff, Main())); // target 65536x harder
    CHECK_FALSE(CheckProofOfWork(uint256{}, 0x1d01ffff, Main()));         // above the pow limit
    CHECK_FALSE(CheckProofOfWork(uint256{}, 0x1d80ffff, Main()));         // negative
    CHECK_FALSE(CheckProofOfWork(uint256{}, 0x00000000, Main()));         // zero
    CHECK_FALSE(CheckProofOfWork(uint256{}, 0xff123456, Main()));         // overflow
    CHECK(DeriveTarget(0x1d00ffff, Main().pow_limit).has_value());
    CHECK(TargetToBits(ArithUint256::FromUint256(Main().pow_limit)) == 0x1d00ffff);
}

TEST_CASE("block proof of the genesis difficulty is 2^32 + 2^16 + 1 hashes")
{
    CHECK(GetBlockProof(0x1d00ffff) == ArithUint256(0x100010001ULL));
    CHECK(GetBlockProof(0x207fffff) == ArithUint256(2));
    CHECK(GetBlockProof(0) == ArithUint256());
}

TEST_CASE("retargeting reproduces Core's pow_tests figures")
{
    // {last height, last time, last bits, first time, expected}
    struct Case {
        int height;
        int64_t time;
        uint32_t bits;
        int64_t first_time;
        uint32_t expected;
    };
    for (const Case& c : std::vector<Case>{
             {32255, 1262152739, 0x1d00ffff, 1261130161, 0x1d00d86a}, // normal
             {2015, 1233061996, 0x1d00ffff, 1231006505, 0x1d00ffff},  // capped at the pow limit
             {68543, 1279297671, 0x1c05a3f4, 1279008237, 0x1c0168fd}, // clamped to 1/4 of the span
             {46367, 1269211443, 0x1c387f6f, 1263163443, 0x1d00e1fd}, // clamped to 4x the span
         }) {
        CAPTURE(c.height);
        CHECK(CalculateNextWorkRequired({c.height, c.bits, c.time}, c.first_time, c.bits, Main()) == c.expected);
        // Through the full rule, with the period's first block looked up.
        auto lookup = [&](int height) {
            CHECK(height == c.height - 2015);
            return PowBlockInfo{height, c.bits, c.first_time};
        };
        CHECK(GetNextWorkRequired({c.height, c.bits, c.time}, c.time + 600, Main(), lookup) == c.expected);
    }
}

TEST_CASE("off a retarget boundary mainnet keeps the parent's bits")
{
    auto never = [](int) -> PowBlockInfo { FAIL("no ancestor needed"); return {}; };
    CHECK(GetNextWorkRequired({100, 0x1c05a3f4, 1000000}, 1000000 + 100000, Main(), never) == 0x1c05a3f4);
}

TEST_CASE("testnet allows a minimum-difficulty block after 20 minutes and then walks back past such blocks")
{
    const ConsensusParams& testnet = GetChainParams(ChainType::TESTNET).consensus;
    const uint32_t limit = 0x1d00ffff;
    const uint32_t real = 0x1c0fffff;
    // Heights 4032 (period start, real), 4033..4035 (min difficulty).
    std::map<int, PowBlockInfo> chain;
    chain[4032] = {4032, real, 1000};
    for (int h = 4033; h <= 4035; ++h) chain[h] = {h, limit, 1000 + 1300 * (h - 4032)};
    auto lookup = [&](int height) { return chain.at(height); };
    const PowBlockInfo parent = chain[4035];
    CHECK(GetNextWorkRequired(parent, parent.time + 1201, testnet, lookup) == limit);
    CHECK(GetNextWorkRequired(parent, parent.time + 1200, testnet, lookup) == real);
    // Mainnet has no such rule.
    CHECK(GetNextWorkRequired(parent, parent.time + 5000, Main(), lookup) == limit);
}

TEST_CASE("regtest never retargets and testnet4 retargets from the period's first block (BIP94)")
{
    const ConsensusParams& regtest = GetChainParams(ChainType::REGTEST).consensus;
    CHECK(CalculateNextWorkRequired({143, 0x207fffff, 100}, 0, 0x207fffff, regtest) == 0x207fffff);
    const ConsensusParams& testnet4 = GetChainParams(ChainType::TESTNET4).consensus;
    // Parent carries min-difficulty bits; BIP94 uses the first block's bits.
    const uint32_t got = CalculateNextWorkRequired({32255, 0x1d00ffff, 1262152739}, 1261130161, 0x1c05a3f4, testnet4);
    CHECK(got == CalculateNextWorkRequired({32255, 0x1c05a3f4, 1262152739}, 1261130161, 0, Main()));
    CHECK(got != 0x1d00d86a);
}

TEST_CASE("the subsidy halves every 210000 blocks and sums to just under 21 million")
{
    CHECK(GetBlockSubsidy(0, Main()) == 50 * COIN);
    CHECK(GetBlockSubsidy(209999, Main()) == 50 * COIN);
    CHECK(GetBlockSubsidy(210000, Main()) == 25 * COIN);
    CHECK(GetBlockSubsidy(840000, Main()) == 3 * COIN + COIN / 8);
    CHECK(GetBlockSubsidy(64 * 210000, Main()) == 0);
    CHECK(GetBlockSubsidy(150, GetChainParams(ChainType::REGTEST).consensus) == 25 * COIN);
    Amount sum = 0;
    for (int height = 0; height < 14000000; height += 1000) sum += GetBlockSubsidy(height, Main()) * 1000;
    CHECK(sum == Amount{2099999997690000});
}

TEST_CASE("chain parameters carry Core's network constants")
{
    const ChainParams& main = GetChainParams(ChainType::MAIN);
    CHECK(HexStr(main.message_start) == "f9beb4d9");
    CHECK(main.default_port == 8333);
    CHECK(main.rpc_port == 8332);
    CHECK(main.bech32_hrp == "bc");
    CHECK(main.consensus.segwit_height == 481824);
    CHECK(main.consensus.taproot_height == 709632);
    CHECK(main.consensus.DifficultyAdjustmentInterval() == 2016);
    const ChainParams& signet = GetChainParams(ChainType::SIGNET);
    CHECK(HexStr(signet.message_start) == "0a03cf40");
    CHECK(signet.consensus.signet_blocks);
    const ChainParams& regtest = GetChainParams(ChainType::REGTEST);
    CHECK(regtest.bech32_hrp == "bcrt");
    CHECK(regtest.rpc_port == 18443);
    CHECK(regtest.consensus.DifficultyAdjustmentInterval() == 144);
    CHECK(GetChainParams(ChainType::TESTNET4).consensus.enforce_bip94);
    CHECK(GetChainParams(ChainType::TESTNET4).default_port == 48333);
    CHECK(ChainTypeFromString("testnet3") == ChainType::TESTNET);
    CHECK(ChainTypeToString(ChainType::TESTNET) == "test");
    // A custom signet challenge changes the message start but not the genesis.
    const ChainParams custom = MakeSignetParams(Script{OP_TRUE});
    CHECK(custom.message_start != signet.message_start);
    CHECK(custom.GenesisHash() == signet.GenesisHash());
    RegtestOptions options;
    options.segwit_height = 500;
    CHECK(MakeRegtestParams(options).consensus.segwit_height == 500);
}

// ---------------------------------------------------------------------------
// CheckTransaction
// ---------------------------------------------------------------------------

TEST_CASE("CheckTransaction rejects each malformed transaction with Core's reason")
{
    CHECK(RejectOf(Spend(1)) == "");

    Transaction tx = Spend(1);
    tx.vin.clear();
    CHECK(RejectOf(tx) == "bad-txns-vin-empty");

    tx = Spend(1);
    tx.vout.clear();
    CHECK(RejectOf(tx) == "bad-txns-vout-empty");

    tx = Spend(1);
    tx.vout[0].script_pubkey.assign(MAX_BLOCK_WEIGHT / 4, OP_TRUE);
    CHECK(RejectOf(tx) == "bad-txns-oversize");

    tx = Spend(1);
    tx.vout[0].value = -1;
    CHECK(RejectOf(tx) == "bad-txns-vout-negative");

    tx = Spend(1);
    tx.vout[0].value = MAX_MONEY + 1;
    CHECK(RejectOf(tx) == "bad-txns-vout-toolarge");

    tx = Spend(1);
    tx.vout = {TxOut{MAX_MONEY, {}}, TxOut{1, {}}};
    CHECK(RejectOf(tx) == "bad-txns-txouttotal-toolarge");

    tx = Spend(1);
    tx.vin.push_back(Spend(2).vin[0]);
    tx.vin.push_back(Spend(1).vin[0]);
    CHECK(RejectOf(tx) == "bad-txns-inputs-duplicate");

    tx = Coinbase(1);
    tx.vin[0].script_sig = {0x51};
    CHECK(RejectOf(tx) == "bad-cb-length");
    tx.vin[0].script_sig.assign(101, 0x51);
    CHECK(RejectOf(tx) == "bad-cb-length");
    tx.vin[0].script_sig.assign(100, 0x51);
    CHECK(RejectOf(tx) == "");

    tx = Spend(1);
    tx.vin.push_back(TxIn{OutPoint{}, {}, SEQUENCE_FINAL, {}});
    CHECK(RejectOf(tx) == "bad-txns-prevout-null");
}

// ---------------------------------------------------------------------------
// CheckBlock
// ---------------------------------------------------------------------------

TEST_CASE("CheckBlock accepts a well-formed block and every genesis block")
{
    CHECK(RejectOf(MakeBlock({Coinbase(1), Spend(1), Spend(2)})) == "");
    for (auto chain : {ChainType::MAIN, ChainType::TESTNET, ChainType::TESTNET4, ChainType::SIGNET, ChainType::REGTEST}) {
        const ChainParams& params = GetChainParams(chain);
        ValidationState state;
        CHECK_MESSAGE(CheckBlock(params.genesis, state, params.consensus), state.ToString());
    }
}

TEST_CASE("CheckBlock rejects each malformed block with Core's reason")
{
    Block block = MakeBlock({Coinbase(1), Spend(1)});
    block.nonce ^= 1;
    while (CheckProofOfWork(block.GetHash(), block.bits, GetChainParams(ChainType::REGTEST).consensus)) ++block.nonce;
    CHECK(RejectOf(block) == "high-hash");
    CHECK(RejectOf(block, /*check_pow=*/false) == "");

    block = MakeBlock({Coinbase(1), Spend(1)});
    block.txs[1].vout[0].value = 7;
    CHECK(RejectOf(block, false) == "bad-txnmrklroot");

    // CVE-2012-2459: repeating the last transaction keeps the merkle root.
    block = MakeBlock({Coinbase(1), Spend(1), Spend(2)});
    Block mutated = block;
    mutated.txs.push_back(mutated.txs.back());
    CHECK(BlockMerkleRoot(mutated) == block.merkle_root);
    CHECK(RejectOf(mutated, false) == "bad-txns-duplicate");
    CHECK(IsBlockMutated(mutated, false));
    CHECK_FALSE(IsBlockMutated(block, false));

    block = MakeBlock({});
    CHECK(RejectOf(block, false) == "bad-blk-length");

    block = MakeBlock({Spend(1)});
    CHECK(RejectOf(block, false) == "bad-cb-missing");

    block = MakeBlock({Coinbase(1), Coinbase(2)});
    CHECK(RejectOf(block, false) == "bad-cb-multiple");

    block = MakeBlock({Coinbase(1), Spend(1), Spend(1, 1)});
    block.txs[2].vin.push_back(block.txs[2].vin[0]);
    block.merkle_root = BlockMerkleRoot(block);
    CHECK(RejectOf(block, false) == "bad-txns-inputs-duplicate");

    // 1001 bare CHECKMULTISIGs count 20 each: 20020 * 4 > 80000.
    Transaction heavy = Spend(3);
    heavy.vout[0].script_pubkey.assign(1001, OP_CHECKMULTISIG);
    block = MakeBlock({Coinbase(1), heavy});
    CHECK(RejectOf(block, false) == "bad-blk-sigops");
    heavy.vout[0].script_pubkey.assign(1000, OP_CHECKMULTISIG);
    CHECK(RejectOf(MakeBlock({Coinbase(1), heavy}), false) == "");
    // The counter can be replaced (e.g. by the script library's).
    ValidationState state;
    CHECK_FALSE(CheckBlock(MakeBlock({Coinbase(1)}), state, GetChainParams(ChainType::REGTEST).consensus, true, true,
                           [](const Transaction&) { return 20001u; }));
    CHECK(state.GetRejectReason() == "bad-blk-sigops");

    // Too many bytes without witness.
    Transaction big = Spend(4);
    big.vout[0].script_pubkey.assign(MAX_BLOCK_WEIGHT / 4 - 200, OP_NOP);
    Transaction big2 = Spend(5);
    big2.vout[0].script_pubkey.assign(400, OP_NOP);
    CHECK(RejectOf(MakeBlock({Coinbase(1), big, big2}), false) == "bad-blk-length");
}

// ---------------------------------------------------------------------------
// Witness commitment, BIP34, contextual checks
// ---------------------------------------------------------------------------

namespace {

//! A segwit block: coinbase with reserved value and commitment, one witness tx.
Block MakeSegwitBlock(int height)
{
    Transaction coinbase = Coinbase(height);
    coinbase.vin[0].witness = {std::vector<uint8_t>(32, 0)};
    Transaction spend = Spend(7);
    spend.vin[0].witness = {{0x01, 0x02}};
    Block block;
    block.txs = {coinbase, spend};
    const uint256 commitment = ComputeWitnessCommitment(BlockWitnessMerkleRoot(block), coinbase.vin[0].witness[0]);
    Script spk(std::begin(WITNESS_COMMITMENT_HEADER), std::end(WITNESS_COMMITMENT_HEADER));
    spk.insert(spk.end(), commitment.begin(), commitment.end());
    block.txs[0].vout.push_back(TxOut{0, spk});
    return MakeBlock(block.txs);
}

std::string WitnessRejectOf(const Block& block, bool segwit_active)
{
    ValidationState state;
    return CheckWitnessMalleation(block, segwit_active, state) ? "" : state.GetRejectReason();
}

} // namespace

TEST_CASE("a witness commitment is found, checked, and required for witness data")
{
    Block block = MakeSegwitBlock(10);
    CHECK(GetWitnessCommitmentIndex(block) == 1u);
    CHECK(WitnessRejectOf(block, true) == "");
    CHECK(WitnessRejectOf(block, false) == "unexpected-witness");
    CHECK_FALSE(IsBlockMutated(block, true));

    Block bad_nonce = block;
    bad_nonce.txs[0].vin[0].witness[0].push_back(0);
    CHECK(WitnessRejectOf(bad_nonce, true) == "bad-witness-nonce-size");
    bad_nonce.txs[0].vin[0].witness = {};
    CHECK(WitnessRejectOf(bad_nonce, true) == "bad-witness-nonce-size");

    Block bad_commitment = block;
    bad_commitment.txs[1].vin[0].witness = {{0x03}};
    CHECK(WitnessRejectOf(bad_commitment, true) == "bad-witness-merkle-match");
    CHECK(IsBlockMutated(bad_commitment, true));

    // The last matching output wins.
    Block two = block;
    Script decoy(std::begin(WITNESS_COMMITMENT_HEADER), std::end(WITNESS_COMMITMENT_HEADER));
    decoy.resize(MINIMUM_WITNESS_COMMITMENT, 0xee);
    two.txs[0].vout.push_back(TxOut{0, decoy});
    CHECK(GetWitnessCommitmentIndex(two) == 2u);
    CHECK(WitnessRejectOf(two, true) == "bad-witness-merkle-match");

    // Without a commitment and without witnesses all is well either way.
    Block plain = MakeBlock({Coinbase(1), Spend(1)});
    CHECK(WitnessRejectOf(plain, true) == "");
    CHECK(WitnessRejectOf(plain, false) == "");
}

TEST_CASE("BIP34 expects the height pushed exactly as Core's CScript << height")
{
    CHECK(CoinbaseHeightPrefix(0) == Script{OP_0});
    CHECK(CoinbaseHeightPrefix(1) == Script{OP_1});
    CHECK(CoinbaseHeightPrefix(16) == Script{OP_16});
    CHECK(CoinbaseHeightPrefix(17) == Script{0x01, 0x11});
    CHECK(CoinbaseHeightPrefix(227931) == Script{0x03, 0x5b, 0x7a, 0x03});
    Block block = MakeBlock({Coinbase(500)});
    CHECK(CheckCoinbaseHeight(block, 500));
    CHECK_FALSE(CheckCoinbaseHeight(block, 501));
}

TEST_CASE("ContextualCheckBlock enforces finality, BIP34, witness rules and weight")
{
    const ConsensusParams& regtest = GetChainParams(ChainType::REGTEST).consensus;
    auto reject = [&](const Block& block, int height, int64_t mtp) {
        ValidationState state;
        return ContextualCheckBlock(block, state, regtest, height, mtp) ? std::string() : state.GetRejectReason();
    };
    CHECK(reject(MakeSegwitBlock(10), 10, 1699999000) == "");
    CHECK(reject(MakeSegwitBlock(10), 11, 1699999000) == "bad-cb-height");

    Transaction locked = Spend(9);
    locked.lock_time = 20;
    locked.vin[0].sequence = 0;
    CHECK(reject(MakeBlock({Coinbase(20), locked}), 20, 0) == "bad-txns-nonfinal");
    CHECK(reject(MakeBlock({Coinbase(21), locked}), 21, 0) == "");
    // Time locks are judged by the parent's median time past (BIP113).
    locked.lock_time = 1699990000;
    CHECK(reject(MakeBlock({Coinbase(21), locked}), 21, 1699990000) == "bad-txns-nonfinal");
    CHECK(reject(MakeBlock({Coinbase(21), locked}), 21, 1699990001) == "");

    // Witness bytes push the weight over the limit; the commitment covers them.
    Block heavy = MakeSegwitBlock(30);
    heavy.txs[1].vin[0].witness = {std::vector<uint8_t>(MAX_BLOCK_WEIGHT, 0)};
    const uint256 commitment = ComputeWitnessCommitment(BlockWitnessMerkleRoot(heavy), heavy.txs[0].vin[0].witness[0]);
    std::copy(commitment.begin(), commitment.end(), heavy.txs[0].vout[1].script_pubkey.begin() + 6);
    heavy.merkle_root = BlockMerkleRoot(heavy);
    CHECK(RejectOf(heavy, false) == ""); // context-free checks ignore witness size
    CHECK(reject(heavy, 30, 0) == "bad-blk-weight");
}

TEST_CASE("ContextualCheckBlockHeader rejects bad bits, times and outdated versions")
{
    const ConsensusParams& main = Main();
    BlockHeader header;
    header.version = 4;
    header.bits = 0x1d00ffff;
    header.time = 1000000;
    HeaderContext context{.height = 400000, .expected_bits = 0x1d00ffff, .prev_median_time_past = 999000,
                          .prev_time = 999500, .adjusted_time = 1000000};
    auto reject = [&](const BlockHeader& h, const ConsensusParams& p, const HeaderContext& c) {
        ValidationState state;
        return ContextualCheckBlockHeader(h, state, p, c) ? std::string() : state.GetRejectReason();
    };
    CHECK(reject(header, main, context) == "");
    CHECK(reject(header, main, {.height = 400000, .expected_bits = 0x1c00ffff, .prev_median_time_past = 999000,
                                .prev_time = 999500, .adjusted_time = 1000000}) == "bad-diffbits");
    BlockHeader old = header;
    old.time = 999000;
    CHECK(reject(old, main, context) == "time-too-old");
    BlockHeader future = header;
    future.time = 1000000 + 7201;
    CHECK(reject(future, main, context) == "time-too-new");
    BlockHeader v3 = header;
    v3.version = 3;
    CHECK(reject(v3, main, context) == "bad-version(0x00000003)");
    CHECK(reject(v3, main, {.height = 388380, .expected_bits = 0x1d00ffff, .prev_median_time_past = 999000,
                            .prev_time = 999500, .adjusted_time = 1000000}) == "");
    // BIP94: the first block of a period may not be more than 600 s before
    // its parent.
    const ConsensusParams& testnet4 = GetChainParams(ChainType::TESTNET4).consensus;
    HeaderContext boundary{.height = 4032, .expected_bits = 0x1d00ffff, .prev_median_time_past = 990000,
                           .prev_time = 1000601, .adjusted_time = 1000000};
    CHECK(reject(header, testnet4, boundary) == "time-timewarp-attack");
    boundary.prev_time = 1000600;
    CHECK(reject(header, testnet4, boundary) == "");
    CHECK(reject(header, main, {.height = 4032, .expected_bits = 0x1d00ffff, .prev_median_time_past = 990000,
                                .prev_time = 1000601, .adjusted_time = 1000000}) == "");
}

// ---------------------------------------------------------------------------
// Lock times
// ---------------------------------------------------------------------------

TEST_CASE("a lock time is final once the height or time passes, or when every input is final")
{
    Transaction tx = Spend(1);
    tx.vin[0].sequence = 0;
    CHECK(IsFinalTx(tx, 1, 0)); // lock time 0
    tx.lock_time = 100;
    CHECK_FALSE(IsFinalTx(tx, 100, 0));
    CHECK(IsFinalTx(tx, 101, 0));
    tx.lock_time = LOCKTIME_THRESHOLD;
    CHECK_FALSE(IsFinalTx(tx, 1000000, LOCKTIME_THRESHOLD));
    CHECK(IsFinalTx(tx, 1, LOCKTIME_THRESHOLD + 1));
    tx.vin[0].sequence = SEQUENCE_FINAL;
    CHECK(IsFinalTx(tx, 1, 0));
}

TEST_CASE("median time past is the middle of the sorted times")
{
    const std::vector<int64_t> times = {5, 1, 9, 3, 7, 11, 2, 8, 4, 10, 6};
    CHECK(MedianTimePast(times) == 6);
    CHECK(MedianTimePast(std::vector<int64_t>{3, 1}) == 3);
    CHECK(MedianTimePast({}) == 0);
}

TEST_CASE("BIP68 sequence locks by height and by time")
{
    Transaction tx = Spend(1);
    tx.version = 2;
    tx.vin.push_back(Spend(2).vin[0]);
    tx.vin[0].sequence = 10;                                        // 10 blocks
    tx.vin[1].sequence = SEQUENCE_LOCKTIME_TYPE_FLAG | 3;           // 3 * 512 s
    const std::vector<int> heights = {100, 50};
    const std::vector<int64_t> mtps = {0, 1000000};
    const auto lock = CalculateSequenceLocks(tx, true, heights, mtps);
    CHECK(lock.first == 109);
    CHECK(lock.second == 1000000 + 3 * 512 - 1);
    CHECK_FALSE(EvaluateSequenceLocks(109, 2000000, lock));
    CHECK_FALSE(EvaluateSequenceLocks(110, 1000000 + 3 * 512 - 1, lock));
    CHECK(EvaluateSequenceLocks(110, 1000000 + 3 * 512, lock));
    CHECK(SequenceLocks(tx, true, heights, mtps, 110, 1000000 + 3 * 512));

    // Disabled per input, by version 1, or before CSV activation.
    Transaction disabled = tx;
    disabled.vin[0].sequence |= SEQUENCE_LOCKTIME_DISABLE_FLAG;
    CHECK(CalculateSequenceLocks(disabled, true, heights, mtps).first == -1);
    Transaction v1 = tx;
    v1.version = 1;
    CHECK(CalculateSequenceLocks(v1, true, heights, mtps) == std::pair<int, int64_t>{-1, -1});
    CHECK(CalculateSequenceLocks(tx, false, heights, mtps) == std::pair<int, int64_t>{-1, -1});
    // The version is compared unsigned: -1 counts as 0xffffffff >= 2.
    Transaction negative = tx;
    negative.version = -1;
    CHECK(CalculateSequenceLocks(negative, true, heights, mtps).first == 109);
}
