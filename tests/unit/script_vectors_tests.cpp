// Bitcoin Core's script and transaction vectors, run through the interpreter
// exactly as Core's script_tests.cpp and transaction_tests.cpp run them:
// script_tests.json (including the tapscript rows with placeholders),
// tx_valid.json and tx_invalid.json with their flag-monotonicity checks, and
// the 500 legacy signature hashes of sighash.json.
#include <common/consensus/check.h>
#include <common/consensus/hex.h>
#include <common/consensus/transaction.h>
#include <common/script/interpreter.h>
#include <common/script/script_notation.h>
#include <common/script/sighash.h>
#include <common/script/signature.h>
#include <common/script/tx_checker.h>

#include "test_vectors.h"
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>

using namespace orrery;
using orrery::test::ParseHex;
using orrery::test::ReadVectorJson;

namespace {

uint32_t Flags(const std::string& names)
{
    const auto flags = ParseScriptFlags(names);
    REQUIRE_MESSAGE(flags.has_value(), "bad flags " << names);
    return *flags;
}

// Deterministic stand-in for Core's random extra flags.
uint32_t NextRandom(uint64_t& state)
{
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
}

// ---------------------------------------------------------------------------
// script_tests.json
// ---------------------------------------------------------------------------

struct ScriptCase {
    ScriptWitness witness;
    Amount amount{0};
    std::vector<uint8_t> script_sig;
    std::vector<uint8_t> script_pubkey;
    uint32_t flags{0};
    ScriptError expected{ScriptError::OK};
    std::string label;
};

// Core's BuildCreditingTransaction / BuildSpendingTransaction.
Transaction MakeCredit(const std::vector<uint8_t>& script_pubkey, Amount amount)
{
    Transaction tx;
    tx.version = 1;
    tx.lock_time = 0;
    TxIn in;
    in.prevout = OutPoint{};
    in.script_sig = {OP_0, OP_0};
    in.sequence = SEQUENCE_FINAL;
    tx.vin.push_back(in);
    tx.vout.push_back(TxOut{amount, script_pubkey});
    return tx;
}

Transaction MakeSpend(const std::vector<uint8_t>& script_sig, const ScriptWitness& witness, const Transaction& credit)
{
    Transaction tx;
    tx.version = 1;
    tx.lock_time = 0;
    TxIn in;
    in.prevout = OutPoint{credit.GetTxid(), 0};
    in.script_sig = script_sig;
    in.witness = witness;
    in.sequence = SEQUENCE_FINAL;
    tx.vin.push_back(in);
    tx.vout.push_back(TxOut{credit.vout[0].value, {}});
    return tx;
}

// The x-only key of secret key 1, i.e. the generator G.
const char* const TAPSCRIPT_INTERNAL_KEY = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

ScriptCase ParseScriptCase(const nlohmann::json& row)
{
    ScriptCase c;
    size_t pos = 0;
    std::optional<std::vector<uint8_t>> taproot_output;
    if (row[0].is_array()) {
        const auto& wit = row[0];
        std::vector<uint8_t> leaf_script;
        for (size_t i = 0; i + 1 < wit.size(); ++i) {
            const std::string item = wit[i].get<std::string>();
            if (item.rfind("#SCRIPT#", 0) == 0) {
                leaf_script = ParseScriptNotation(item.substr(8));
                c.witness.push_back(leaf_script);
            } else if (item == "#CONTROLBLOCK#") {
                // One-leaf tree: the control block is the leaf version with
                // the output key's parity, then the internal key.
                const auto internal = ParseHex(TAPSCRIPT_INTERNAL_KEY);
                const auto leaf = ComputeTapleafHash(TAPROOT_LEAF_TAPSCRIPT, leaf_script);
                const auto tweaked = TweakInternalKey(internal, leaf);
                REQUIRE(tweaked.has_value());
                std::vector<uint8_t> control{static_cast<uint8_t>(TAPROOT_LEAF_TAPSCRIPT | (tweaked->parity ? 1 : 0))};
                control.insert(control.end(), internal.begin(), internal.end());
                c.witness.push_back(control);
                taproot_output = std::vector<uint8_t>(tweaked->xonly.begin(), tweaked->xonly.end());
            } else {
                c.witness.push_back(ParseHex(item));
            }
        }
        c.amount = static_cast<Amount>(std::llround(wit.back().get<double>() * 1e8));
        pos = 1;
    }
    c.script_sig = ParseScriptNotation(row[pos].get<std::string>());
    std::string spk = row[pos + 1].get<std::string>();
    const std::string placeholder = "#TAPROOTOUTPUT#";
    if (const size_t at = spk.find(placeholder); at != std::string::npos) {
        REQUIRE(taproot_output.has_value());
        spk.replace(at, placeholder.size(), "0x" + HexStr(*taproot_output));
    }
    c.script_pubkey = ParseScriptNotation(spk);
    c.flags = Flags(row[pos + 2].get<std::string>());
    const auto expected = ParseScriptErrorName(row[pos + 3].get<std::string>());
    REQUIRE_MESSAGE(expected.has_value(), "unknown error name " << row[pos + 3]);
    c.expected = *expected;
    c.label = row.dump();
    return c;
}

bool RunScriptCase(const ScriptCase& c, uint32_t flags, ScriptError& error)
{
    const Transaction credit = MakeCredit(c.script_pubkey, c.amount);
    const Transaction spend = MakeSpend(c.script_sig, c.witness, credit);
    const PrecomputedTransactionData txdata(spend, {credit.vout[0]});
    const TransactionSignatureChecker checker(spend, 0, credit.vout[0].value, txdata);
    return VerifyScript(c.script_sig, c.script_pubkey, &c.witness, flags, checker, &error);
}

// ---------------------------------------------------------------------------
// tx_valid.json / tx_invalid.json
// ---------------------------------------------------------------------------

struct TxCase {
    Transaction tx;
    std::map<OutPoint, TxOut> prevouts;
    std::string flags_text;
    std::string label;
};

TxCase ParseTxCase(const nlohmann::json& row)
{
    TxCase c;
    for (const auto& input : row[0]) {
        const auto hash = uint256::FromHex(input[0].get<std::string>());
        REQUIRE(hash.has_value());
        const int64_t n = input[1].get<int64_t>();
        OutPoint prevout{*hash, n == -1 ? 0xffffffffU : static_cast<uint32_t>(n)};
        TxOut out;
        out.script_pubkey = ParseScriptNotation(input[2].get<std::string>());
        out.value = input.size() >= 4 ? input[3].get<int64_t>() : 0;
        c.prevouts[prevout] = out;
    }
    c.tx = DeserializeTransaction(ParseHex(row[1].get<std::string>()));
    c.flags_text = row[2].get<std::string>();
    c.label = row.dump();
    return c;
}

// Core's CheckTxScripts: true when every input verifies.
bool CheckTxScripts(const TxCase& c, uint32_t flags)
{
    std::vector<TxOut> spent;
    for (const auto& in : c.tx.vin) {
        const auto it = c.prevouts.find(in.prevout);
        REQUIRE_MESSAGE(it != c.prevouts.end(), "missing prevout in " << c.label);
        spent.push_back(it->second);
    }
    const PrecomputedTransactionData txdata(c.tx, spent);
    for (size_t i = 0; i < c.tx.vin.size(); ++i) {
        const TransactionSignatureChecker checker(c.tx, i, spent[i].value, txdata);
        ScriptError error;
        if (!VerifyScript(c.tx.vin[i].script_sig, spent[i].script_pubkey, &c.tx.vin[i].witness, flags, checker,
                          &error)) {
            return false;
        }
    }
    return true;
}

uint32_t TrimFlags(uint32_t flags)
{
    if (!(flags & SCRIPT_VERIFY_P2SH)) flags &= ~SCRIPT_VERIFY_WITNESS;
    if (!(flags & SCRIPT_VERIFY_WITNESS)) flags &= ~SCRIPT_VERIFY_CLEANSTACK;
    return flags;
}

uint32_t FillFlags(uint32_t flags)
{
    if (flags & SCRIPT_VERIFY_CLEANSTACK) flags |= SCRIPT_VERIFY_WITNESS;
    if (flags & SCRIPT_VERIFY_WITNESS) flags |= SCRIPT_VERIFY_P2SH;
    return flags;
}

// Core's ExcludeIndividualFlags: the valid combinations of `flags` with one flag removed.
std::set<uint32_t> ExcludeIndividualFlags(uint32_t flags)
{
    std::set<uint32_t> out;
    for (uint32_t bit = 1; bit & SCRIPT_VERIFY_ALL; bit <<= 1) {
        const uint32_t excluding_one = TrimFlags(flags & ~bit);
        if (flags != excluding_one) out.insert(excluding_one);
    }
    return out;
}

} // namespace

TEST_CASE("every script_tests.json row gives the expected result and error" * orrery::test::NeedsVectors())
{
    const auto rows = ReadVectorJson("script_tests.json");
    size_t tests = 0;
    size_t comments = 0;
    size_t with_witness = 0;
    size_t tapscript = 0;
    size_t failures = 0;
    uint64_t rng = 0x5eed;
    for (const auto& row : rows) {
        const size_t extra = row[0].is_array() ? 1 : 0;
        if (row.size() < 4 + extra) {
            ++comments;
            continue;
        }
        ++tests;
        if (extra) ++with_witness;
        if (row.dump().find("#SCRIPT#") != std::string::npos) ++tapscript;
        ScriptCase c = ParseScriptCase(row);
        uint32_t flags = c.flags;
        if (flags & SCRIPT_VERIFY_CLEANSTACK) flags |= SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS;
        const bool expect = c.expected == ScriptError::OK;
        ScriptError error = ScriptError::UNKNOWN_ERROR;
        const bool ok = RunScriptCase(c, flags, error);
        if (ok != expect || error != c.expected) {
            ++failures;
            FAIL_CHECK("got " << ScriptErrorName(error) << " expected " << ScriptErrorName(c.expected) << ": "
                              << c.label);
            continue;
        }
        // Removing flags from a passing test, or adding flags to a failing
        // one, must not change the verdict (as Core checks with random sets).
        for (int i = 0; i < 16; ++i) {
            const uint32_t extra_flags = NextRandom(rng) & SCRIPT_VERIFY_ALL;
            const uint32_t combined = expect ? (flags & ~extra_flags) : (flags | extra_flags);
            if (!IsValidFlagCombination(combined)) continue;
            ScriptError ignored;
            if (RunScriptCase(c, combined, ignored) != expect) {
                ++failures;
                FAIL_CHECK("verdict changed with flags " << FormatScriptFlags(combined) << ": " << c.label);
            }
        }
    }
    std::printf("script_tests.json: %zu tests (%zu with witness, %zu tapscript), %zu comments, %zu failures\n", tests,
                with_witness, tapscript, comments, failures);
    CHECK(tests == 1222);
    CHECK(with_witness == 113);
    CHECK(tapscript == 5);
    CHECK(comments == 51);
    CHECK(failures == 0);
}

TEST_CASE("every tx_valid.json transaction verifies under all flags but the excluded ones, and only then" *
          orrery::test::NeedsVectors())
{
    const auto rows = ReadVectorJson("tx_valid.json");
    uint64_t rng = 0x7a11d;
    size_t tests = 0;
    size_t failures = 0;
    for (const auto& row : rows) {
        if (row.size() == 1) continue;
        REQUIRE(row.size() == 3);
        ++tests;
        const TxCase c = ParseTxCase(row);
        ValidationState check_state;
        CHECK_MESSAGE(CheckTransaction(c.tx, check_state), "fails CheckTransaction: " << c.label);
        const uint32_t excluded = Flags(c.flags_text);
        const uint32_t enabled = SCRIPT_VERIFY_ALL & ~excluded;
        CHECK_MESSAGE(enabled == FillFlags(enabled), "bad test flags: " << c.label);
        if (!CheckTxScripts(c, enabled)) {
            ++failures;
            FAIL_CHECK("fails under all-but-excluded flags: " << c.label);
            continue;
        }
        // Removing any further flag keeps it valid.
        for (uint32_t bit = 1; bit & SCRIPT_VERIFY_ALL; bit <<= 1) {
            const uint32_t flags = TrimFlags(enabled & ~bit);
            if (!CheckTxScripts(c, flags)) {
                ++failures;
                FAIL_CHECK("fails with " << FormatScriptFlags(bit) << " also removed: " << c.label);
            }
        }
        // ... and so does removing random further subsets (Core does the same).
        for (int k = 0; k < 8; ++k) {
            const uint32_t flags = TrimFlags(enabled & ~(NextRandom(rng) & SCRIPT_VERIFY_ALL));
            if (!CheckTxScripts(c, flags)) {
                ++failures;
                FAIL_CHECK("fails with flags " << FormatScriptFlags(flags) << ": " << c.label);
            }
        }
        // The excluded set is minimal: putting back any one flag breaks it.
        for (const uint32_t excluding_one : ExcludeIndividualFlags(excluded)) {
            const uint32_t flags = SCRIPT_VERIFY_ALL & ~excluding_one;
            if (CheckTxScripts(c, flags)) {
                ++failures;
                FAIL_CHECK("still valid with excluded flags " << FormatScriptFlags(excluding_one) << ": " << c.label);
            }
        }
    }
    std::printf("tx_valid.json: %zu tests, %zu failures\n", tests, failures);
    CHECK(tests == 121);
    CHECK(failures == 0);
}

TEST_CASE("every tx_invalid.json transaction fails under its flags and every superset, and only then" *
          orrery::test::NeedsVectors())
{
    const auto rows = ReadVectorJson("tx_invalid.json");
    size_t tests = 0;
    size_t badtx = 0;
    size_t failures = 0;
    for (const auto& row : rows) {
        if (row.size() == 1) continue;
        REQUIRE(row.size() == 3);
        ++tests;
        if (row[2].get<std::string>() == "BADTX") {
            // These fail CheckTransaction (common/consensus), not scripts;
            // checked here as a cross-check, scripts are not run.
            ++badtx;
            const TxCase bad = ParseTxCase(row);
            ValidationState state;
            CHECK_MESSAGE(!CheckTransaction(bad.tx, state), "BADTX passes CheckTransaction: " << bad.label);
            continue;
        }
        const TxCase c = ParseTxCase(row);
        ValidationState check_state;
        CHECK_MESSAGE(CheckTransaction(c.tx, check_state), "fails CheckTransaction: " << c.label);
        const uint32_t flags = Flags(c.flags_text);
        if (CheckTxScripts(c, flags)) {
            ++failures;
            FAIL_CHECK("verifies under its flags: " << c.label);
            continue;
        }
        for (uint32_t bit = 1; bit & SCRIPT_VERIFY_ALL; bit <<= 1) {
            const uint32_t more = FillFlags(flags | bit);
            if (CheckTxScripts(c, more)) {
                ++failures;
                FAIL_CHECK("verifies with " << FormatScriptFlags(bit) << " added: " << c.label);
            }
        }
        for (const uint32_t fewer : ExcludeIndividualFlags(flags)) {
            if (!CheckTxScripts(c, fewer)) {
                ++failures;
                FAIL_CHECK("still fails with only " << FormatScriptFlags(fewer) << ": " << c.label);
            }
        }
    }
    std::printf("tx_invalid.json: %zu tests (%zu BADTX: CheckTransaction only), %zu failures\n", tests, badtx,
                failures);
    CHECK(tests == 93);
    CHECK(badtx == 9);
    CHECK(failures == 0);
}

TEST_CASE("all 500 sighash.json legacy signature hashes match" * orrery::test::NeedsVectors())
{
    const auto rows = ReadVectorJson("sighash.json");
    size_t tests = 0;
    size_t failures = 0;
    for (const auto& row : rows) {
        if (row.size() == 1) continue;
        REQUIRE(row.size() == 5);
        ++tests;
        const Transaction tx = DeserializeTransaction(ParseHex(row[0].get<std::string>()));
        const auto script_code = ParseHex(row[1].get<std::string>());
        const auto n_in = row[2].get<size_t>();
        const auto hash_type = row[3].get<int32_t>();
        const uint256 hash = SignatureHashLegacy(script_code, tx, n_in, hash_type);
        if (hash.GetHex() != row[4].get<std::string>()) {
            ++failures;
            FAIL_CHECK("sighash mismatch: " << row.dump());
        }
        // The general entry point agrees for SigVersion::BASE.
        CHECK(SignatureHash(script_code, tx, n_in, hash_type, 0, SigVersion::BASE, nullptr) == hash);
    }
    std::printf("sighash.json: %zu tests, %zu failures\n", tests, failures);
    CHECK(tests == 500);
    CHECK(failures == 0);
}
