// Consensus code against the public vectors: every block in
// vectors/blocks/ and every transaction in tx_valid.json / tx_invalid.json
// must parse, re-serialize to the same bytes, hash to the recorded ids and
// pass (or, for BADTX rows, fail) the context-free checks as Core says.
#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/consensus.h>
#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>
#include <common/consensus/transaction.h>

#include "test_vectors.h"
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace orrery;

namespace {

std::string VectorsDir()
{
    return orrery::test::VectorsDir().string();
}

std::vector<uint8_t> ReadFileBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

nlohmann::json ReadJson(const std::string& name)
{
    std::ifstream in(VectorsDir() + "/" + name);
    REQUIRE_MESSAGE(in.good(), "cannot open " << name);
    return nlohmann::json::parse(in);
}

//! The raw bytes of a block file: raw files as they are, .hex files decoded.
std::vector<uint8_t> ReadBlockFile(const std::string& file)
{
    std::vector<uint8_t> bytes = ReadFileBytes(VectorsDir() + "/" + file);
    if (file.ends_with(".hex")) {
        std::string text(bytes.begin(), bytes.end());
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        auto decoded = TryParseHex(text);
        REQUIRE_MESSAGE(decoded.has_value(), file << " is not hex");
        return *decoded;
    }
    return bytes;
}

ChainType NetworkOf(const std::string& name)
{
    auto chain = ChainTypeFromString(name);
    REQUIRE_MESSAGE(chain.has_value(), "unknown network " << name);
    return *chain;
}

} // namespace

TEST_CASE("every vector block round-trips, hashes to its recorded id and passes CheckBlock" *
          orrery::test::NeedsVectors())
{
    const auto index = ReadJson("blocks/index.json");
    REQUIRE(index.size() == 8);
    int checked = 0;
    for (const auto& entry : index) {
        const std::string file = entry["file"];
        CAPTURE(file);
        const std::vector<uint8_t> bytes = ReadBlockFile(file);
        CHECK(bytes.size() == entry["size"].get<size_t>());

        const Block block = DeserializeBlock(bytes);
        CHECK(SerializeBlock(block) == bytes);
        CHECK(GetSerializeSize(block) == bytes.size());
        CHECK(block.GetHash().GetHex() == entry["hash"].get<std::string>());
        CHECK(block.prev_block.GetHex() == entry["prev_hash"].get<std::string>());
        CHECK(block.txs.size() == entry["n_tx"].get<size_t>());
        size_t segwit = 0;
        for (const Transaction& tx : block.txs) segwit += tx.HasWitness() ? 1 : 0;
        CHECK(segwit == entry["n_segwit_tx"].get<size_t>());

        bool mutated = true;
        CHECK(BlockMerkleRoot(block, &mutated) == block.merkle_root);
        CHECK_FALSE(mutated);

        const ChainParams& params = GetChainParams(NetworkOf(entry["network"]));
        ValidationState state;
        CHECK_MESSAGE(CheckBlock(block, state, params.consensus), state.ToString());
        CHECK_FALSE(IsBlockMutated(block, /*check_witness_root=*/true));

        // The height-dependent rules that need no chain: BIP34 and BIP141.
        const int height = entry["height"];
        if (params.consensus.DeploymentActiveAt(height, BuriedDeployment::HEIGHTINCB)) {
            CHECK(CheckCoinbaseHeight(block, height));
        }
        ValidationState witness_state;
        CHECK_MESSAGE(CheckWitnessMalleation(block, params.consensus.DeploymentActiveAt(height, BuriedDeployment::SEGWIT),
                                             witness_state),
                      witness_state.ToString());
        CHECK(GetBlockWeight(block) <= int64_t(MAX_BLOCK_WEIGHT));
        ++checked;
    }
    std::printf("blocks/index.json: %d blocks checked\n", checked);
    CHECK(checked == 8);
}

TEST_CASE("the genesis hex files are the genesis blocks built from chain parameters" * orrery::test::NeedsVectors())
{
    const std::map<std::string, ChainType> files = {
        {"blocks/genesis_mainnet.hex", ChainType::MAIN},
        {"blocks/genesis_testnet3.hex", ChainType::TESTNET},
        {"blocks/genesis_regtest.hex", ChainType::REGTEST},
    };
    for (const auto& entry : files) {
        const std::string& file = entry.first;
        CAPTURE(file);
        const ChainParams& params = GetChainParams(entry.second);
        CHECK(SerializeBlock(params.genesis) == ReadBlockFile(file));
        CHECK(DeserializeBlock(ReadBlockFile(file)) == params.genesis);
    }
}

TEST_CASE("segwit vector blocks carry a witness commitment that matches" * orrery::test::NeedsVectors())
{
    for (const char* file : {"blocks/block482683.raw", "blocks/block928816.raw"}) {
        CAPTURE(file);
        const Block block = DeserializeBlock(ReadBlockFile(file));
        const auto index = GetWitnessCommitmentIndex(block);
        REQUIRE(index.has_value());
        const Script& spk = block.txs[0].vout[*index].script_pubkey;
        const uint256 expected = ComputeWitnessCommitment(BlockWitnessMerkleRoot(block), block.txs[0].vin[0].witness[0]);
        CHECK(std::equal(expected.begin(), expected.end(), spk.begin() + 6));
        // Without witness the block has a different size but the same header.
        const Block stripped = DeserializeBlock(SerializeBlock(block, /*with_witness=*/false));
        CHECK(stripped.GetHash() == block.GetHash());
        CHECK(GetBlockWeight(block) > 3 * int64_t(GetSerializeSize(block, false)));
    }
}

TEST_CASE("undo data of the vector blocks balances each coinbase against subsidy plus fees" *
          orrery::test::NeedsVectors())
{
    const auto index = ReadJson("blocks/index.json");
    int balanced = 0;
    for (const auto& entry : index) {
        if (entry["undo"].is_null()) continue;
        const std::string file = entry["file"];
        CAPTURE(file);
        const Block block = DeserializeBlock(ReadBlockFile(file));
        const std::vector<uint8_t> undo = ReadBlockFile(entry["undo"]);
        SpanReader reader(undo);
        Amount fees = 0;
        size_t inputs = 0;
        for (size_t i = 1; i < block.txs.size(); ++i) {
            Amount in_value = 0;
            for (size_t j = 0; j < block.txs[i].vin.size(); ++j) {
                in_value += reader.ReadI64();
                reader.ReadByteVector("undo script");
                ++inputs;
            }
            fees += in_value - GetValueOut(block.txs[i]);
        }
        reader.ExpectEnd("undo data");
        const ChainParams& params = GetChainParams(NetworkOf(entry["network"]));
        CHECK(GetValueOut(block.txs[0]) == GetBlockSubsidy(entry["height"], params.consensus) + fees);
        std::printf("%s: %zu prevouts, fees %lld sat\n", file.c_str(), inputs, (long long)fees);
        ++balanced;
    }
    CHECK(balanced == 2);
}

namespace {

struct TxFileCounts {
    int tests = 0;
    int comments = 0;
    int badtx = 0;
    int witness = 0;
};

TxFileCounts CheckTxFile(const std::string& name, bool invalid_file)
{
    TxFileCounts counts;
    for (const auto& row : ReadJson(name)) {
        if (row.size() == 1 || !row[0].is_array()) {
            ++counts.comments;
            continue;
        }
        REQUIRE(row.size() == 3);
        const std::string hex = row[1];
        const std::string flags = row[2];
        CAPTURE(hex);
        const auto bytes = TryParseHex(hex);
        REQUIRE(bytes.has_value());
        const Transaction tx = DeserializeTransaction(*bytes);
        CHECK(SerializeTransaction(tx) == *bytes);
        CHECK(GetSerializeSize(tx) == bytes->size());
        if (tx.HasWitness()) {
            ++counts.witness;
            CHECK(tx.GetWtxid() != tx.GetTxid());
        } else {
            CHECK(tx.GetWtxid() == tx.GetTxid());
        }
        // Every input spends one of the listed prevouts (txid in display
        // order, index -1 meaning 0xffffffff); duplicates are listed once.
        std::set<std::pair<std::string, uint32_t>> listed;
        for (const auto& prevout : row[0]) listed.emplace(prevout[0].get<std::string>(), uint32_t(prevout[1].get<int64_t>()));
        for (const TxIn& in : tx.vin) CHECK(listed.count({in.prevout.hash.GetHex(), in.prevout.n}) == 1);

        ValidationState state;
        const bool ok = CheckTransaction(tx, state);
        const bool badtx = flags == "BADTX";
        if (badtx) ++counts.badtx;
        if (invalid_file && badtx) {
            CHECK_MESSAGE(!ok, "BADTX row passed CheckTransaction");
        } else {
            CHECK_MESSAGE(ok, state.ToString());
        }
        ++counts.tests;
    }
    return counts;
}

} // namespace

TEST_CASE("every tx_valid transaction parses, round-trips and passes CheckTransaction" * orrery::test::NeedsVectors())
{
    const TxFileCounts counts = CheckTxFile("tx_valid.json", false);
    std::printf("tx_valid.json: %d tests (%d with witness), %d comment rows\n", counts.tests, counts.witness,
                counts.comments);
    CHECK(counts.tests == 121);
    CHECK(counts.badtx == 0);
}

TEST_CASE("every tx_invalid transaction parses and round-trips; exactly the BADTX rows fail CheckTransaction" *
          orrery::test::NeedsVectors())
{
    const TxFileCounts counts = CheckTxFile("tx_invalid.json", true);
    std::printf("tx_invalid.json: %d tests (%d BADTX, %d with witness), %d comment rows\n", counts.tests, counts.badtx,
                counts.witness, counts.comments);
    CHECK(counts.tests == 93);
    CHECK(counts.badtx == 9);
}

TEST_CASE("the transactions of sighash.json parse, round-trip and pass CheckTransaction" * orrery::test::NeedsVectors())
{
    // Their version and lock time fields are random; Core parses them with
    // witness allowed and requires CheckTransaction to pass.
    int parsed = 0;
    int failed = 0;
    for (const auto& row : ReadJson("sighash.json")) {
        if (row.size() != 5) continue;
        const auto bytes = TryParseHex(row[0].get<std::string>());
        REQUIRE(bytes.has_value());
        try {
            const Transaction tx = DeserializeTransaction(*bytes);
            CHECK(SerializeTransaction(tx) == *bytes);
            ValidationState state;
            CHECK_MESSAGE(CheckTransaction(tx, state), state.ToString());
            ++parsed;
        } catch (const DeserializeError&) {
            ++failed;
        }
    }
    std::printf("sighash.json: %d transactions parsed, %d rejected\n", parsed, failed);
    CHECK(parsed == 500);
    CHECK(failed == 0);
}
