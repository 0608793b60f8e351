// Real blocks with every spent output (bcoin's undo files): each input of
// mainnet block 300025 (P2SH era) and testnet3 block 928816 (segwit era)
// must pass full script verification with the flags in force at its height,
// and a damaged signature must fail.
#include <common/consensus/block.h>
#include <common/consensus/serialize.h>
#include <common/script/interpreter.h>
#include <common/script/sighash.h>
#include <common/script/sigops.h>
#include <common/script/tx_checker.h>

#include "test_vectors.h"
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

using namespace orrery;

namespace {

std::vector<uint8_t> ReadFile(const std::string& name)
{
    std::ifstream in(orrery::test::VectorPath("blocks/" + name), std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << name);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct BlockWithUndo {
    Block block;
    //! spent[t][i]: the output spent by input i of transaction t (empty for the coinbase).
    std::vector<std::vector<TxOut>> spent;
    size_t inputs{0};
};

BlockWithUndo LoadBlock(const std::string& name)
{
    BlockWithUndo out;
    out.block = DeserializeBlock(ReadFile(name + ".raw"));
    const auto undo = ReadFile(name + "-undo.raw");
    SpanReader reader(undo);
    out.spent.resize(out.block.txs.size());
    for (size_t t = 1; t < out.block.txs.size(); ++t) {
        for (size_t i = 0; i < out.block.txs[t].vin.size(); ++i) {
            TxOut coin;
            coin.value = reader.ReadI64();
            const uint64_t length = reader.ReadCompactSize();
            const auto script = reader.ReadSpan(length);
            coin.script_pubkey.assign(script.begin(), script.end());
            out.spent[t].push_back(std::move(coin));
            ++out.inputs;
        }
    }
    CHECK(reader.Empty());
    return out;
}

// Verifies every input; returns the number that failed.
size_t VerifyBlock(const BlockWithUndo& b, uint32_t flags)
{
    size_t failed = 0;
    for (size_t t = 1; t < b.block.txs.size(); ++t) {
        const Transaction& tx = b.block.txs[t];
        const PrecomputedTransactionData txdata(tx, b.spent[t]);
        for (size_t i = 0; i < tx.vin.size(); ++i) {
            const TxOut& coin = b.spent[t][i];
            const TransactionSignatureChecker checker(tx, i, coin.value, txdata);
            ScriptError error = ScriptError::UNKNOWN_ERROR;
            if (!VerifyScript(tx.vin[i].script_sig, coin.script_pubkey, &tx.vin[i].witness, flags, checker, &error)) {
                ++failed;
                MESSAGE("tx " << tx.GetTxid().GetHex() << " input " << i << ": " << ScriptErrorName(error));
            }
        }
    }
    return failed;
}

int64_t BlockSigOpCost(const BlockWithUndo& b, uint32_t flags)
{
    int64_t cost = 0;
    for (size_t t = 0; t < b.block.txs.size(); ++t) cost += GetTransactionSigOpCost(b.block.txs[t], b.spent[t], flags);
    return cost;
}

const uint32_t FLAGS_300025 = SCRIPT_VERIFY_P2SH; // BIP66 only from 363725
const uint32_t FLAGS_928816 = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
                              SCRIPT_VERIFY_CHECKSEQUENCEVERIFY | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_NULLDUMMY;

//! Every input of the block verifies under `flags`, and its sigop cost is within the block limit.
void CheckWholeBlock(const std::string& name, size_t txs, size_t inputs, uint32_t flags)
{
    const BlockWithUndo b = LoadBlock(name);
    CHECK(b.block.txs.size() == txs);
    CHECK(b.inputs == inputs);
    CHECK(VerifyBlock(b, flags) == 0);
    const int64_t cost = BlockSigOpCost(b, flags);
    std::printf("%s: %zu inputs verified, sigop cost %lld\n", name.c_str(), b.inputs, static_cast<long long>(cost));
    CHECK(cost > 0);
    CHECK(cost <= 80000);
}

} // namespace

TEST_CASE("every input of mainnet block 300025 verifies with P2SH rules" * orrery::test::NeedsVectors())
{
    CheckWholeBlock("block300025", 461, 1427, FLAGS_300025);
}

TEST_CASE("every input of testnet3 block 928816 verifies with segwit-era rules" * orrery::test::NeedsVectors())
{
    CheckWholeBlock("block928816", 889, 8692, FLAGS_928816);
}

TEST_CASE("a flipped byte in a block's signature makes that input fail" * orrery::test::NeedsVectors())
{
    SUBCASE("legacy scriptSig signature in block 300025")
    {
        BlockWithUndo b = LoadBlock("block300025");
        Transaction& tx = b.block.txs[1];
        REQUIRE(!tx.vin[0].script_sig.empty());
        // The first push is the DER signature; byte 10 is inside R.
        tx.vin[0].script_sig[10] ^= 0x01;
        const PrecomputedTransactionData txdata(tx, b.spent[1]);
        const TransactionSignatureChecker checker(tx, 0, b.spent[1][0].value, txdata);
        ScriptError error = ScriptError::OK;
        CHECK_FALSE(VerifyScript(tx.vin[0].script_sig, b.spent[1][0].script_pubkey, &tx.vin[0].witness, FLAGS_300025,
                                 checker, &error));
        CHECK(error != ScriptError::OK);
    }
    SUBCASE("P2WPKH witness signature in block 928816")
    {
        BlockWithUndo b = LoadBlock("block928816");
        size_t t = 1;
        while (t < b.block.txs.size() && b.block.txs[t].vin[0].witness.size() != 2) ++t;
        REQUIRE(t < b.block.txs.size());
        Transaction& tx = b.block.txs[t];
        tx.vin[0].witness[0][10] ^= 0x01;
        const PrecomputedTransactionData txdata(tx, b.spent[t]);
        const TransactionSignatureChecker checker(tx, 0, b.spent[t][0].value, txdata);
        ScriptError error = ScriptError::OK;
        CHECK_FALSE(VerifyScript(tx.vin[0].script_sig, b.spent[t][0].script_pubkey, &tx.vin[0].witness, FLAGS_928816,
                                 checker, &error));
        CHECK(error == ScriptError::EVAL_FALSE);
    }
}
