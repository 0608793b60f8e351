// Transaction signing (common/keys/signer.h): every script type the wallet
// spends is signed and then verified by the interpreter under the standard
// flags; partial multisig signing in turns; Core's per-input errors; sighash
// types; low-S deterministic ECDSA and BIP340 Schnorr.
#include <common/keys/key_io.h>
#include <common/keys/signer.h>
#include <common/script/interpreter.h>
#include <common/script/sighash.h>
#include <common/script/tx_checker.h>

#include <doctest/doctest.h>

#include <algorithm>

using namespace orrery;

namespace {

//! The node's standard flags: every flag but SIGPUSHONLY.
constexpr uint32_t STANDARD_FLAGS = SCRIPT_VERIFY_ALL & ~SCRIPT_VERIFY_SIGPUSHONLY;

Key MakeKey(uint8_t seed, bool compressed = true)
{
    std::array<uint8_t, 32> secret{};
    secret.fill(seed);
    secret[0] = 0x11;
    auto key = Key::FromSecret(secret, compressed);
    REQUIRE(key);
    return *key;
}

Script MultisigScript(int required, const std::vector<Key>& keys)
{
    Script script;
    AppendPushInt64(script, required);
    for (const Key& key : keys) AppendPushData(script, key.GetPubKey().bytes());
    AppendPushInt64(script, static_cast<int64_t>(keys.size()));
    script.push_back(OP_CHECKMULTISIG);
    return script;
}

Script P2WSH(const Script& witness_script)
{
    const auto hash = crypto::Sha256(witness_script);
    return MakeWitnessScript({0, std::vector<uint8_t>(hash.begin(), hash.end())});
}

Script P2SH(const Script& redeem)
{
    return MakeP2SHScript(crypto::Hash160(redeem));
}

//! A transaction spending `prevs.size()` outputs (of a made-up parent) to one output.
Transaction Spending(size_t inputs, size_t outputs = 1)
{
    Transaction tx;
    for (size_t i = 0; i < inputs; ++i) {
        TxIn in;
        in.prevout.hash = *uint256::FromHex(std::string(63, '0') + std::to_string(i + 1));
        in.prevout.n = static_cast<uint32_t>(i);
        in.sequence = 0xfffffffd;
        tx.vin.push_back(in);
    }
    for (size_t i = 0; i < outputs; ++i) {
        tx.vout.push_back(TxOut{10'000, MakeP2WPKHScript(MakeKey(0x77).GetPubKey())});
    }
    return tx;
}

//! Independent of the signer's own check: every input verifies under the standard flags.
void RequireAllVerify(const Transaction& tx, const std::vector<std::optional<TxOut>>& spent)
{
    std::vector<TxOut> outs;
    for (const auto& out : spent) outs.push_back(*out);
    const PrecomputedTransactionData txdata(tx, outs, true);
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        ScriptError error = ScriptError::OK;
        const TransactionSignatureChecker checker(tx, i, outs[i].value, txdata);
        INFO("input " << i);
        CHECK(VerifyScript(tx.vin[i].script_sig, outs[i].script_pubkey, &tx.vin[i].witness, STANDARD_FLAGS, checker,
                           &error));
        CHECK(error == ScriptError::OK);
    }
}

SignOptions Options(int hash_type = SIGHASH_DEFAULT)
{
    SignOptions options;
    options.hash_type = hash_type;
    options.verify_flags = STANDARD_FLAGS;
    return options;
}

} // namespace

TEST_CASE("every single-key and multisig script type the wallet spends is signed and verifies")
{
    const Key k1 = MakeKey(1), k2 = MakeKey(2), k3 = MakeKey(3), legacy = MakeKey(4, false);
    FlatSigningProvider provider;
    for (const Key& key : {k1, k2, k3, legacy}) provider.AddKey(key);
    const Script multi = MultisigScript(2, {k1, k2, k3});
    provider.AddScript(multi);
    provider.AddScript(P2WSH(multi));
    const Script wpkh = MakeP2WPKHScript(k1.GetPubKey());
    const Script pk = [&] {
        Script s;
        AppendPushData(s, k2.GetPubKey().bytes());
        s.push_back(OP_CHECKSIG);
        return s;
    }();

    const std::vector<Script> scripts = {
        MakeP2PKHScript(k1.GetPubKey().GetId()),                                 // pkh
        MakeP2PKHScript(legacy.GetPubKey().GetId()),                             // pkh, uncompressed key
        pk,                                                                      // bare pk
        wpkh,                                                                    // wpkh
        P2SH(wpkh),                                                              // sh(wpkh)
        P2WSH(multi),                                                            // wsh(multi(2,...))
        P2SH(P2WSH(multi)),                                                      // sh(wsh(multi(2,...)))
        P2SH(multi),                                                             // sh(multi(2,...))
        MakeP2TRScript(k3.GetXOnlyPubKey().CreateTapTweak(std::nullopt)->first), // tr(k3)
    };
    Transaction tx = Spending(scripts.size());
    std::vector<std::optional<TxOut>> spent;
    for (size_t i = 0; i < scripts.size(); ++i) spent.push_back(TxOut{Amount(50'000 + i), scripts[i]});

    const SignResult result = SignTransaction(tx, spent, provider, Options());
    for (const auto& entry : result.errors) CHECK_MESSAGE(entry.second.empty(), "input ", entry.first);
    CHECK(result.complete);
    CHECK(result.errors.empty());
    RequireAllVerify(tx, spent);

    // Shapes: legacy inputs carry no witness, segwit ones no scriptSig beyond the redeem script push.
    CHECK(tx.vin[0].witness.empty());
    CHECK(tx.vin[3].script_sig.empty());
    CHECK(tx.vin[3].witness.size() == 2);
    CHECK(tx.vin[5].witness.size() == 4); // dummy, two signatures, the witness script
    CHECK(tx.vin[8].witness.size() == 1);
    CHECK(tx.vin[8].witness[0].size() == 64); // SIGHASH_DEFAULT: no hash-type byte
}

TEST_CASE("ECDSA signatures are deterministic and low-S; Schnorr ones take the given aux randomness")
{
    const Key key = MakeKey(9);
    FlatSigningProvider provider;
    provider.AddKey(key);
    const std::vector<std::optional<TxOut>> spent = {TxOut{70'000, MakeP2WPKHScript(key.GetPubKey())}};
    Transaction a = Spending(1), b = Spending(1);
    REQUIRE(SignTransaction(a, spent, provider, Options()).complete);
    REQUIRE(SignTransaction(b, spent, provider, Options()).complete);
    CHECK(a.vin[0].witness == b.vin[0].witness);
    const auto& der = a.vin[0].witness[0];
    // S is the second integer; low S means its first byte is below 0x80 after any zero padding.
    const size_t r_len = der[3];
    const size_t s_len = der[4 + r_len + 1];
    CHECK(s_len <= 32);
    CHECK(der[4 + r_len + 2] < 0x80);
    CHECK(der.back() == SIGHASH_ALL);

    const Key tr_key = MakeKey(10);
    provider.AddKey(tr_key);
    const auto output = tr_key.GetXOnlyPubKey().CreateTapTweak(std::nullopt)->first;
    const std::vector<std::optional<TxOut>> tr_spent = {TxOut{70'000, MakeP2TRScript(output)}};
    SignOptions fixed = Options();
    fixed.aux_rand = crypto::Hash32{};
    Transaction c = Spending(1), d = Spending(1), e = Spending(1);
    REQUIRE(SignTransaction(c, tr_spent, provider, fixed).complete);
    REQUIRE(SignTransaction(d, tr_spent, provider, fixed).complete);
    CHECK(c.vin[0].witness == d.vin[0].witness);
    fixed.aux_rand->fill(0x5a);
    REQUIRE(SignTransaction(e, tr_spent, provider, fixed).complete);
    CHECK(e.vin[0].witness != c.vin[0].witness);
}

TEST_CASE("a taproot output with a script tree is signed on its key path with the internal key")
{
    const Key internal = MakeKey(12);
    crypto::Hash32 root{};
    root.fill(0x42);
    FlatSigningProvider provider;
    provider.AddKey(internal);
    const auto output = internal.GetXOnlyPubKey().CreateTapTweak(root)->first;
    const std::vector<std::optional<TxOut>> spent = {TxOut{90'000, MakeP2TRScript(output)}};
    Transaction tx = Spending(1);
    CHECK_FALSE(SignTransaction(tx, spent, provider, Options()).complete); // the root is not known yet
    provider.AddTaproot(internal.GetXOnlyPubKey(), root);
    tx = Spending(1);
    CHECK(SignTransaction(tx, spent, provider, Options()).complete);
    RequireAllVerify(tx, spent);
}

TEST_CASE("a 2-of-3 multisig is signed by two parties in turn")
{
    const Key k1 = MakeKey(21), k2 = MakeKey(22), k3 = MakeKey(23);
    const Script multi = MultisigScript(2, {k1, k2, k3});
    for (const bool nested : {false, true}) {
        const Script spk = nested ? P2SH(P2WSH(multi)) : P2WSH(multi);
        const std::vector<std::optional<TxOut>> spent = {TxOut{80'000, spk}};
        Transaction tx = Spending(1);

        FlatSigningProvider first;
        first.AddKey(k3);
        first.AddScript(multi);
        first.AddScript(P2WSH(multi));
        const SignResult partial = SignTransaction(tx, spent, first, Options());
        CHECK_FALSE(partial.complete);
        REQUIRE(partial.errors.count(0));
        CHECK(partial.errors.at(0) ==
              "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)");

        FlatSigningProvider second;
        second.AddKey(k1);
        second.AddScript(multi);
        second.AddScript(P2WSH(multi));
        const SignResult full = SignTransaction(tx, spent, second, Options());
        CHECK(full.complete);
        RequireAllVerify(tx, spent);
    }
}

TEST_CASE("inputs that cannot be signed get Core's errors and the others are still signed")
{
    const Key mine = MakeKey(31), theirs = MakeKey(32);
    FlatSigningProvider provider;
    provider.AddKey(mine);
    Transaction tx = Spending(4);
    const std::vector<std::optional<TxOut>> spent = {
        TxOut{10'000, MakeP2PKHScript(mine.GetPubKey().GetId())},
        std::nullopt,
        TxOut{10'000, MakeP2PKHScript(theirs.GetPubKey().GetId())},
        TxOut{10'000, MakeP2WPKHScript(theirs.GetPubKey())},
    };
    const SignResult result = SignTransaction(tx, spent, provider, Options());
    CHECK_FALSE(result.complete);
    CHECK(result.errors.count(0) == 0);
    CHECK(result.errors.at(1) == "Input not found or already spent");
    CHECK(result.errors.at(2) == "Unable to sign input, invalid stack size (possibly missing key)");
    // As bitcoind: an unsigned P2WPKH input has no 2-item witness.
    CHECK(result.errors.at(3) == "Witness program hash mismatch");
    CHECK_FALSE(tx.vin[0].script_sig.empty());
}

TEST_CASE("a segwit input whose amount was not given reports Missing amount")
{
    const Key key = MakeKey(41);
    FlatSigningProvider provider;
    provider.AddKey(key);
    Transaction tx = Spending(1);
    const std::vector<std::optional<TxOut>> spent = {TxOut{MAX_MONEY, MakeP2WPKHScript(key.GetPubKey())}};
    const SignResult result = SignTransaction(tx, spent, provider, Options());
    CHECK(result.errors.at(0) == "Missing amount");
}

TEST_CASE("each sighash type ends the signature and commits to what it says")
{
    const Key key = MakeKey(51);
    const Key tr_key = MakeKey(52);
    FlatSigningProvider provider;
    provider.AddKey(key);
    provider.AddKey(tr_key);
    const auto tr_output = tr_key.GetXOnlyPubKey().CreateTapTweak(std::nullopt)->first;
    for (const char* name : {"ALL", "NONE", "SINGLE", "ALL|ANYONECANPAY", "NONE|ANYONECANPAY", "SINGLE|ANYONECANPAY"}) {
        INFO(name);
        const int hash_type = *ParseSighashName(name);
        const std::vector<std::optional<TxOut>> spent = {TxOut{60'000, MakeP2WPKHScript(key.GetPubKey())},
                                                         TxOut{60'000, MakeP2TRScript(tr_output)}};
        Transaction tx = Spending(2, 2);
        REQUIRE(SignTransaction(tx, spent, provider, Options(hash_type)).complete);
        CHECK(tx.vin[0].witness[0].back() == hash_type);
        CHECK(tx.vin[1].witness[0].size() == 65);
        CHECK(tx.vin[1].witness[0].back() == hash_type);
        RequireAllVerify(tx, spent);

        // NONE leaves the outputs free: changing one keeps input 0 valid only under NONE.
        Transaction changed = tx;
        changed.vout[1].value += 1;
        const PrecomputedTransactionData txdata(changed, {*spent[0], *spent[1]}, true);
        const TransactionSignatureChecker checker(changed, 0, spent[0]->value, txdata);
        const bool still_valid = VerifyScript(changed.vin[0].script_sig, spent[0]->script_pubkey,
                                              &changed.vin[0].witness, STANDARD_FLAGS, checker, nullptr);
        const int base = hash_type & ~SIGHASH_ANYONECANPAY;
        CHECK(still_valid == (base == SIGHASH_NONE || base == SIGHASH_SINGLE));
    }
    CHECK(ParseSighashName("DEFAULT") == SIGHASH_DEFAULT);
    CHECK_FALSE(ParseSighashName("DEFAULT|ANYONECANPAY"));
    CHECK_FALSE(ParseSighashName("all"));
}

TEST_CASE("SIGHASH_SINGLE leaves an input without a matching output unsigned")
{
    const Key key = MakeKey(61);
    FlatSigningProvider provider;
    provider.AddKey(key);
    Transaction tx = Spending(2, 1);
    const std::vector<std::optional<TxOut>> spent = {TxOut{60'000, MakeP2WPKHScript(key.GetPubKey())},
                                                     TxOut{60'000, MakeP2WPKHScript(key.GetPubKey())}};
    const SignResult result = SignTransaction(tx, spent, provider, Options(SIGHASH_SINGLE));
    CHECK_FALSE(result.complete);
    CHECK(result.errors.count(0) == 0);
    CHECK(result.errors.count(1) == 1);
    CHECK(tx.vin[1].witness.empty());
}

TEST_CASE("an ANYONECANPAY signature stays valid when someone adds an input")
{
    const Key key = MakeKey(71);
    FlatSigningProvider provider;
    provider.AddKey(key);
    Transaction tx = Spending(1);
    const TxOut prev{60'000, MakeP2WPKHScript(key.GetPubKey())};
    REQUIRE(SignTransaction(tx, {prev}, provider, Options(SIGHASH_ALL | SIGHASH_ANYONECANPAY)).complete);
    Transaction grown = tx;
    grown.vin.push_back(Spending(2).vin[1]);
    const TxOut other{60'000, MakeP2WPKHScript(MakeKey(72).GetPubKey())};
    const PrecomputedTransactionData txdata(grown, {prev, other}, true);
    const TransactionSignatureChecker checker(grown, 0, prev.value, txdata);
    CHECK(VerifyScript(grown.vin[0].script_sig, prev.script_pubkey, &grown.vin[0].witness, STANDARD_FLAGS, checker,
                       nullptr));
}
