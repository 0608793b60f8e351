// Focused checks of the interpreter's building blocks: script numbers, the
// operation reader, lax DER parsing, FindAndDelete, sigop counting, the test
// notation, the condition stack and the witness/taproot edge cases that the
// vector files only touch lightly.
#include <common/consensus/hex.h>
#include <common/script/interpreter.h>
#include <common/script/opcodes.h>
#include <common/script/script_notation.h>
#include <common/script/signature.h>
#include <common/script/sigops.h>

#include <doctest/doctest.h>

#include <string>

using namespace orrery;

namespace {

std::vector<uint8_t> H(const std::string& hex)
{
    auto bytes = TryParseHex(hex);
    REQUIRE(bytes.has_value());
    return *bytes;
}

std::vector<uint8_t> S(const std::string& notation)
{
    return ParseScriptNotation(notation);
}

ScriptError Run(const std::string& sig, const std::string& pubkey, uint32_t flags = SCRIPT_VERIFY_P2SH)
{
    const SignatureChecker checker;
    ScriptError error = ScriptError::UNKNOWN_ERROR;
    VerifyScript(S(sig), S(pubkey), nullptr, flags, checker, &error);
    return error;
}

} // namespace

TEST_CASE("script numbers round-trip and reject non-minimal or oversized encodings")
{
    for (int64_t v : {0LL, 1LL, -1LL, 127LL, 128LL, -128LL, 255LL, 256LL, 0x7fffffffLL, -0x7fffffffLL}) {
        const auto bytes = ScriptNum::Encode(v);
        const auto back = ScriptNum::Decode(bytes, true);
        REQUIRE(back.has_value());
        CHECK(back->Value() == v);
    }
    CHECK(ScriptNum::Encode(128) == std::vector<uint8_t>{0x80, 0x00});
    CHECK(ScriptNum::Encode(-128) == std::vector<uint8_t>{0x80, 0x80});
    CHECK_FALSE(ScriptNum::Decode(H("00"), true).has_value());
    CHECK_FALSE(ScriptNum::Decode(H("0100"), true).has_value());
    CHECK(ScriptNum::Decode(H("0100"), false)->Value() == 1);
    CHECK(ScriptNum::Decode(H("80"), false)->Value() == 0); // negative zero
    CHECK_FALSE(ScriptNum::Decode(H("0000000001"), false).has_value());
    CHECK(ScriptNum::Decode(H("ffffffff7f"), false, 5)->Value() == 0x7fffffffffLL);
    CHECK(ScriptNum{int64_t{1} << 40}.GetInt() == 0x7fffffff);
}

TEST_CASE("the operation reader stops on truncated pushes where Core does")
{
    size_t pos = 0;
    ScriptOp op;
    const auto script = H("4c05aabb");
    CHECK_FALSE(ReadScriptOp(script, pos, op));
    CHECK(pos == 2); // past the opcode and the length byte
    CHECK(op.opcode == OP_INVALIDOPCODE);
    pos = 0;
    const auto pushdata2 = H("4d01");
    CHECK_FALSE(ReadScriptOp(pushdata2, pos, op));
    CHECK(pos == 1);
    pos = 0;
    const auto good = H("02aabb76");
    REQUIRE(ReadScriptOp(good, pos, op));
    CHECK(op.push.size() == 2);
    REQUIRE(ReadScriptOp(good, pos, op));
    CHECK(op.opcode == OP_DUP);
    CHECK_FALSE(ReadScriptOp(good, pos, op));
}

TEST_CASE("the test notation parses numbers, hex, strings and opcode names")
{
    CHECK(S("0") == H("00"));
    CHECK(S("-1 16 17") == H("4f600111"));
    CHECK(S("1000") == H("02e803"));
    CHECK(S("0x4c 0x01 0x07") == H("4c0107"));
    CHECK(S("'abc'") == H("03616263"));
    CHECK(S("DUP OP_HASH160 CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY NOP10") == H("76a9b1b2b9"));
    // As in Core, NOP2/NOP3 are only known by their BIP65/BIP112 names.
    CHECK_THROWS_AS(S("NOP2"), ScriptParseError);
    CHECK_THROWS_AS(S("NOT_AN_OPCODE"), ScriptParseError);
    CHECK_THROWS_AS(S("4294967296"), ScriptParseError);
}

TEST_CASE("FindAndDelete removes only pushes that start on an opcode boundary")
{
    auto script = H("0302ff030302ff03");
    CHECK(FindAndDelete(script, H("0302ff03")) == 2);
    CHECK(script.empty());
    script = H("0003feed");
    // 03feed is inside the push data of OP_0? No: OP_0 then a 3-byte push of "feed.." truncated.
    CHECK(FindAndDelete(script, H("feed")) == 0);
    script = H("02feed5102feed");
    CHECK(FindAndDelete(script, H("02feed")) == 2);
    CHECK(script == H("51"));
    script = H("51");
    CHECK(FindAndDelete(script, {}) == 0);
}

TEST_CASE("lax DER accepts what OpenSSL accepted and strict DER does not")
{
    // Strict: minimal 1-byte R and S, plus a hash-type byte.
    CHECK(IsValidSignatureEncoding(H("300602010102010101")));
    // Zero-padded R, and a long-form sequence length: strict no, lax yes
    // (IsLowS parses laxly and fails only on a parse error or a high S).
    CHECK_FALSE(IsValidSignatureEncoding(H("30080202000102020001" "01")));
    CHECK(IsLowS(H("30080202000102020001")));
    CHECK_FALSE(IsValidSignatureEncoding(H("3081060201010201010" "1")));
    CHECK(IsLowS(H("308106020101020101")));
    // Not a sequence, or a truncated integer: even lax parsing fails.
    CHECK_FALSE(IsLowS(H("31060201010201")));
    CHECK_FALSE(IsLowS(H("3006020101020201")));
    // High S (n - 1) is detected; an S above the order parses as an invalid,
    // zero signature, which is not "high".
    CHECK_FALSE(IsLowS(H("3026020101022100fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")));
    CHECK(IsLowS(H("3026020101022100ffffffffffffffffffffffffffffffffbaaedce6af48a03bbfd25e8cd0364140")));
}

TEST_CASE("sigops are counted as Core counts them")
{
    CHECK(CountScriptSigOps(S("DUP HASH160 0x14 0x0000000000000000000000000000000000000000 EQUALVERIFY CHECKSIG"),
                            false) == 1);
    const auto multisig = S("2 0x21 0x020000000000000000000000000000000000000000000000000000000000000000 "
                            "0x21 0x020000000000000000000000000000000000000000000000000000000000000000 "
                            "0x21 0x020000000000000000000000000000000000000000000000000000000000000000 3 CHECKMULTISIG");
    CHECK(CountScriptSigOps(multisig, false) == 20);
    CHECK(CountScriptSigOps(multisig, true) == 3);
    // P2SH: the redeem script is the last push of the scriptSig.
    std::vector<uint8_t> script_sig{OP_0};
    AppendPushData(script_sig, multisig);
    const auto p2sh = S("HASH160 0x14 0x0000000000000000000000000000000000000000 EQUAL");
    CHECK(CountP2SHSigOps(p2sh, script_sig) == 3);
    CHECK(CountP2SHSigOps(p2sh, S("NOP")) == 0);
    // Witness: P2WPKH is 1, P2WSH counts its script, without WITNESS nothing.
    const auto p2wpkh = S("0 0x14 0x0000000000000000000000000000000000000000");
    CHECK(CountWitnessSigOps({}, p2wpkh, nullptr, SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS) == 1);
    CHECK(CountWitnessSigOps({}, p2wpkh, nullptr, SCRIPT_VERIFY_P2SH) == 0);
    const ScriptWitness wsh_witness{{}, multisig};
    const auto p2wsh = S("0 0x20 0x0000000000000000000000000000000000000000000000000000000000000000");
    CHECK(CountWitnessSigOps({}, p2wsh, &wsh_witness, SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS) == 3);
    // Nested P2WPKH inside P2SH.
    std::vector<uint8_t> nested_sig;
    AppendPushData(nested_sig, p2wpkh);
    CHECK(CountWitnessSigOps(nested_sig, p2sh, nullptr, SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS) == 1);
}

TEST_CASE("conditionals nest, and an unexecuted branch still rejects disabled opcodes")
{
    CHECK(Run("1", "IF 0 IF RETURN ELSE 1 ENDIF ELSE RETURN ENDIF") == ScriptError::OK);
    CHECK(Run("0", "IF RETURN ELSE 1 ENDIF") == ScriptError::OK);
    CHECK(Run("0", "IF CAT ENDIF 1") == ScriptError::DISABLED_OPCODE);
    CHECK(Run("0", "IF VERIF ENDIF 1") == ScriptError::BAD_OPCODE);
    CHECK(Run("0", "IF VER ENDIF 1") == ScriptError::OK);
    CHECK(Run("1", "IF 1") == ScriptError::UNBALANCED_CONDITIONAL);
    CHECK(Run("1", "ELSE 1") == ScriptError::UNBALANCED_CONDITIONAL);
}

TEST_CASE("stack limits: 1000 elements, 520-byte pushes, 201 operations")
{
    std::string many;
    for (int i = 0; i < 1000; ++i) many += "1 ";
    CHECK(Run("", many) == ScriptError::OK);
    CHECK(Run("", many + "1") == ScriptError::STACK_SIZE);
    std::string ops = "1";
    for (int i = 0; i < 201; ++i) ops += " NOP";
    CHECK(Run("", ops) == ScriptError::OK);
    CHECK(Run("", ops + " NOP") == ScriptError::OP_COUNT);
    std::vector<uint8_t> big_push;
    AppendPushData(big_push, std::vector<uint8_t>(521, 1));
    const SignatureChecker checker;
    ScriptError error;
    CHECK_FALSE(VerifyScript(big_push, S("1"), nullptr, 0, checker, &error));
    CHECK(error == ScriptError::PUSH_SIZE);
}

TEST_CASE("inconsistent flag sets are refused instead of asserting")
{
    const SignatureChecker checker;
    ScriptError error = ScriptError::OK;
    CHECK_FALSE(VerifyScript(S("1"), S("1"), nullptr, SCRIPT_VERIFY_WITNESS, checker, &error));
    CHECK(error == ScriptError::UNKNOWN_ERROR);
    CHECK_FALSE(IsValidFlagCombination(SCRIPT_VERIFY_CLEANSTACK | SCRIPT_VERIFY_P2SH));
    CHECK(IsValidFlagCombination(SCRIPT_VERIFY_ALL));
}

TEST_CASE("flag and error names round-trip")
{
    CHECK(ParseScriptFlags("P2SH,WITNESS,TAPROOT") ==
          (SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT));
    CHECK(ParseScriptFlags("NONE") == 0U);
    CHECK_FALSE(ParseScriptFlags("P2SH,BOGUS").has_value());
    CHECK(FormatScriptFlags(SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_LOW_S) == "DERSIG,LOW_S");
    CHECK(ScriptErrorName(ScriptError::SIG_NULLFAIL) == "NULLFAIL");
    CHECK(ParseScriptErrorName("NULLFAIL") == ScriptError::SIG_NULLFAIL);
    for (int e = 0; e < static_cast<int>(ScriptError::ERROR_COUNT); ++e) {
        const auto error = static_cast<ScriptError>(e);
        CHECK(ParseScriptErrorName(ScriptErrorName(error)) == error);
    }
}

TEST_CASE("taproot: OP_SUCCESS short-circuits and unknown leaf versions pass unless discouraged")
{
    // Build a one-leaf tree under internal key G with the given script and leaf version.
    const auto internal = H("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    auto make = [&](const std::vector<uint8_t>& script, uint8_t leaf_version, ScriptWitness& witness,
                    std::vector<uint8_t>& spk) {
        const auto leaf = ComputeTapleafHash(leaf_version, script);
        const auto tweaked = TweakInternalKey(internal, leaf);
        REQUIRE(tweaked.has_value());
        std::vector<uint8_t> control{static_cast<uint8_t>(leaf_version | (tweaked->parity ? 1 : 0))};
        control.insert(control.end(), internal.begin(), internal.end());
        witness = {script, control};
        spk = {OP_1, 32};
        spk.insert(spk.end(), tweaked->xonly.begin(), tweaked->xonly.end());
    };
    const SignatureChecker checker;
    const uint32_t flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT;
    ScriptWitness witness;
    std::vector<uint8_t> spk;
    ScriptError error;

    make({0x50, OP_RETURN}, TAPROOT_LEAF_TAPSCRIPT, witness, spk); // OP_SUCCESS80 before OP_RETURN
    CHECK(VerifyScript({}, spk, &witness, flags, checker, &error));
    CHECK_FALSE(VerifyScript({}, spk, &witness, flags | SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS, checker, &error));
    CHECK(error == ScriptError::DISCOURAGE_OP_SUCCESS);

    make({OP_RETURN}, 0xc2, witness, spk);
    CHECK(VerifyScript({}, spk, &witness, flags, checker, &error));
    CHECK_FALSE(
        VerifyScript({}, spk, &witness, flags | SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION, checker, &error));
    CHECK(error == ScriptError::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION);

    // A wrong control block fails the commitment; a bad size is its own error.
    make({OP_1}, TAPROOT_LEAF_TAPSCRIPT, witness, spk);
    CHECK(VerifyScript({}, spk, &witness, flags, checker, &error));
    witness[1][5] ^= 1;
    CHECK_FALSE(VerifyScript({}, spk, &witness, flags, checker, &error));
    CHECK(error == ScriptError::WITNESS_PROGRAM_MISMATCH);
    witness[1].push_back(0);
    CHECK_FALSE(VerifyScript({}, spk, &witness, flags, checker, &error));
    CHECK(error == ScriptError::TAPROOT_WRONG_CONTROL_SIZE);

    // Tapscript forbids CHECKMULTISIG and requires minimal IF arguments.
    make(S("0 0 0 CHECKMULTISIG"), TAPROOT_LEAF_TAPSCRIPT, witness, spk);
    CHECK_FALSE(VerifyScript({}, spk, &witness, flags, checker, &error));
    CHECK(error == ScriptError::TAPSCRIPT_CHECKMULTISIG);
    make(S("IF 1 ENDIF 1"), TAPROOT_LEAF_TAPSCRIPT, witness, spk);
    witness.insert(witness.begin(), std::vector<uint8_t>{2});
    CHECK_FALSE(VerifyScript({}, spk, &witness, flags, checker, &error));
    CHECK(error == ScriptError::TAPSCRIPT_MINIMALIF);

    // Pay-to-anchor is spendable even when upgradable programs are discouraged.
    const auto anchor = H("51024e73");
    CHECK(VerifyScript({}, anchor, nullptr, flags | SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM, checker,
                       &error));
}
