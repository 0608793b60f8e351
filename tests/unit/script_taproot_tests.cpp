// BIP341 wallet vectors (bip341_wallet_vectors.json): output keys, leaf
// hashes, merkle roots and control blocks for the 7 scriptPubKey cases, and
// for the key-path spending transaction the precomputed hashes, the
// signature message and hash of each of the 7 inputs, the expected
// signatures, and full script verification of the signed transaction.
#include <common/consensus/hex.h>
#include <common/consensus/transaction.h>
#include <common/crypto/hash.h>
#include <common/script/interpreter.h>
#include <common/script/sighash.h>
#include <common/script/signature.h>
#include <common/script/tx_checker.h>

#include "test_vectors.h"
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

using namespace orrery;
using orrery::test::ParseHex;
using orrery::test::ReadVectorJson;

namespace {

template <typename Bytes>
std::string ToHex(const Bytes& bytes)
{
    return HexStr(std::span<const uint8_t>(bytes.data(), bytes.size()));
}

// A leaf of the script tree, with the sibling hashes from leaf to root.
struct LeafInfo {
    std::array<uint8_t, 32> hash;
    uint8_t version;
    std::vector<std::array<uint8_t, 32>> path;
};

// Walks the vector's tree notation: null, a leaf object, or a two-element array.
std::array<uint8_t, 32> WalkTree(const nlohmann::json& node, std::map<int, LeafInfo>& leaves, std::vector<int>& ids)
{
    if (node.is_object()) {
        const int id = node["id"].get<int>();
        const auto version = static_cast<uint8_t>(node["leafVersion"].get<int>());
        const auto hash = ComputeTapleafHash(version, ParseHex(node["script"].get<std::string>()));
        leaves[id] = LeafInfo{hash, version, {}};
        ids.push_back(id);
        return hash;
    }
    REQUIRE(node.is_array());
    REQUIRE(node.size() == 2);
    std::vector<int> left_ids;
    std::vector<int> right_ids;
    const auto left = WalkTree(node[0], leaves, left_ids);
    const auto right = WalkTree(node[1], leaves, right_ids);
    for (int id : left_ids) leaves[id].path.push_back(right);
    for (int id : right_ids) leaves[id].path.push_back(left);
    ids.insert(ids.end(), left_ids.begin(), left_ids.end());
    ids.insert(ids.end(), right_ids.begin(), right_ids.end());
    return ComputeTapbranchHash(left, right);
}

} // namespace

TEST_CASE("the 7 BIP341 scriptPubKey cases give the expected keys, hashes and control blocks" *
          orrery::test::NeedsVectors())
{
    const auto vectors = ReadVectorJson("bip341_wallet_vectors.json");
    size_t cases = 0;
    size_t control_blocks = 0;
    for (const auto& test : vectors["scriptPubKey"]) {
        ++cases;
        const auto internal = ParseHex(test["given"]["internalPubkey"].get<std::string>());
        std::map<int, LeafInfo> leaves;
        std::optional<std::array<uint8_t, 32>> merkle_root;
        if (!test["given"]["scriptTree"].is_null()) {
            std::vector<int> ids;
            merkle_root = WalkTree(test["given"]["scriptTree"], leaves, ids);
        }
        const auto& inter = test["intermediary"];
        if (merkle_root) {
            CHECK(ToHex(*merkle_root) == inter["merkleRoot"].get<std::string>());
            REQUIRE(inter["leafHashes"].size() == leaves.size());
            for (size_t i = 0; i < leaves.size(); ++i) {
                CHECK(ToHex(leaves.at(static_cast<int>(i)).hash) == inter["leafHashes"][i].get<std::string>());
            }
        } else {
            CHECK(inter["merkleRoot"].is_null());
        }
        CHECK(ToHex(ComputeTapTweakHash(internal, merkle_root)) == inter["tweak"].get<std::string>());
        const auto tweaked = TweakInternalKey(internal, merkle_root);
        REQUIRE(tweaked.has_value());
        CHECK(ToHex(tweaked->xonly) == inter["tweakedPubkey"].get<std::string>());
        CHECK("5120" + ToHex(tweaked->xonly) == test["expected"]["scriptPubKey"].get<std::string>());
        CHECK(CheckTapTweak(tweaked->xonly, internal, merkle_root, tweaked->parity));
        CHECK_FALSE(CheckTapTweak(tweaked->xonly, internal, merkle_root, !tweaked->parity));

        if (!merkle_root) continue;
        const auto& expected_blocks = test["expected"]["scriptPathControlBlocks"];
        REQUIRE(expected_blocks.size() == leaves.size());
        for (size_t i = 0; i < leaves.size(); ++i) {
            const LeafInfo& leaf = leaves.at(static_cast<int>(i));
            std::vector<uint8_t> control{static_cast<uint8_t>(leaf.version | (tweaked->parity ? 1 : 0))};
            control.insert(control.end(), internal.begin(), internal.end());
            for (const auto& node : leaf.path) control.insert(control.end(), node.begin(), node.end());
            CHECK(HexStr(control) == expected_blocks[i].get<std::string>());
            // The interpreter's merkle walk reaches the same root from the control block.
            CHECK(ComputeTaprootMerkleRoot(control, leaf.hash) == *merkle_root);
            ++control_blocks;
        }
    }
    std::printf("bip341 scriptPubKey: %zu cases, %zu control blocks\n", cases, control_blocks);
    CHECK(cases == 7);
}

TEST_CASE("the BIP341 key-path spending vectors match message, hash, signature and full verification" *
          orrery::test::NeedsVectors())
{
    const auto vectors = ReadVectorJson("bip341_wallet_vectors.json");
    REQUIRE(vectors["keyPathSpending"].size() == 1);
    const auto& test = vectors["keyPathSpending"][0];
    const Transaction unsigned_tx = DeserializeTransaction(ParseHex(test["given"]["rawUnsignedTx"].get<std::string>()));
    std::vector<TxOut> spent;
    for (const auto& utxo : test["given"]["utxosSpent"]) {
        spent.push_back(TxOut{utxo["amountSats"].get<int64_t>(), ParseHex(utxo["scriptPubKey"].get<std::string>())});
    }
    REQUIRE(spent.size() == unsigned_tx.vin.size());
    const PrecomputedTransactionData txdata(unsigned_tx, spent, true);
    const auto& hashes = test["intermediary"];
    CHECK(ToHex(txdata.m_spent_amounts_single_hash) == hashes["hashAmounts"].get<std::string>());
    CHECK(ToHex(txdata.m_outputs_single_hash) == hashes["hashOutputs"].get<std::string>());
    CHECK(ToHex(txdata.m_prevouts_single_hash) == hashes["hashPrevouts"].get<std::string>());
    CHECK(ToHex(txdata.m_spent_scripts_single_hash) == hashes["hashScriptPubkeys"].get<std::string>());
    CHECK(ToHex(txdata.m_sequences_single_hash) == hashes["hashSequences"].get<std::string>());

    const Transaction signed_tx = DeserializeTransaction(ParseHex(test["auxiliary"]["fullySignedTx"].get<std::string>()));
    const PrecomputedTransactionData signed_txdata(signed_tx, spent);
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    size_t inputs = 0;
    for (const auto& input : test["inputSpending"]) {
        ++inputs;
        const auto index = input["given"]["txinIndex"].get<size_t>();
        const auto hash_type = static_cast<uint8_t>(input["given"]["hashType"].get<int>());
        std::optional<std::array<uint8_t, 32>> merkle_root;
        if (!input["given"]["merkleRoot"].is_null()) {
            const auto root = ParseHex(input["given"]["merkleRoot"].get<std::string>());
            REQUIRE(root.size() == 32);
            merkle_root.emplace();
            std::copy(root.begin(), root.end(), merkle_root->begin());
        }
        const auto& inter = input["intermediary"];

        // Keys: internal key from the private key, tweak, and output key in the spent script.
        const auto privkey = ParseHex(input["given"]["internalPrivkey"].get<std::string>());
        secp256k1_keypair keypair;
        REQUIRE(secp256k1_keypair_create(ctx, &keypair, privkey.data()));
        secp256k1_xonly_pubkey internal_key;
        REQUIRE(secp256k1_keypair_xonly_pub(ctx, &internal_key, nullptr, &keypair));
        std::array<uint8_t, 32> internal{};
        REQUIRE(secp256k1_xonly_pubkey_serialize(ctx, internal.data(), &internal_key));
        CHECK(ToHex(internal) == inter["internalPubkey"].get<std::string>());
        CHECK(ToHex(ComputeTapTweakHash(internal, merkle_root)) == inter["tweak"].get<std::string>());
        const auto tweaked = TweakInternalKey(internal, merkle_root);
        REQUIRE(tweaked.has_value());
        const Script& spk = spent[index].script_pubkey;
        CHECK(std::vector<uint8_t>(spk.begin() + 2, spk.end()) ==
              std::vector<uint8_t>(tweaked->xonly.begin(), tweaked->xonly.end()));

        // Message and hash.
        ScriptExecutionData execdata;
        execdata.m_annex_init = true;
        execdata.m_annex_present = false;
        const auto msg = SignatureMessageSchnorr(execdata, unsigned_tx, index, hash_type, SigVersion::TAPROOT, txdata);
        REQUIRE(msg.has_value());
        CHECK(HexStr(*msg) == inter["sigMsg"].get<std::string>());
        const auto sighash = SignatureHashSchnorr(execdata, unsigned_tx, index, hash_type, SigVersion::TAPROOT, txdata);
        REQUIRE(sighash.has_value());
        CHECK(ToHex(*sighash) == inter["sigHash"].get<std::string>());

        // The expected signature verifies against the output key; a flipped bit does not.
        const auto witness_sig = ParseHex(input["expected"]["witness"][0].get<std::string>());
        REQUIRE((witness_sig.size() == 64 || witness_sig.size() == 65));
        const std::span<const uint8_t> sig64(witness_sig.data(), 64);
        CHECK(VerifySchnorr(tweaked->xonly, sig64, *sighash));
        auto broken = witness_sig;
        broken[10] ^= 1;
        CHECK_FALSE(VerifySchnorr(tweaked->xonly, std::span<const uint8_t>(broken.data(), 64), *sighash));

        // The fully signed transaction's input passes the interpreter.
        CHECK(signed_tx.vin[index].witness.size() == input["expected"]["witness"].size());
        const TransactionSignatureChecker checker(signed_tx, index, spent[index].value, signed_txdata);
        ScriptError error = ScriptError::UNKNOWN_ERROR;
        const uint32_t flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT;
        CHECK_MESSAGE(VerifyScript(signed_tx.vin[index].script_sig, spk, &signed_tx.vin[index].witness, flags, checker,
                                   &error),
                      "input " << index << ": " << ScriptErrorName(error));
        // And fails once the signature is damaged.
        Transaction tampered = signed_tx;
        tampered.vin[index].witness[0][5] ^= 0x40;
        const PrecomputedTransactionData tampered_txdata(tampered, spent);
        const TransactionSignatureChecker tampered_checker(tampered, index, spent[index].value, tampered_txdata);
        CHECK_FALSE(VerifyScript(tampered.vin[index].script_sig, spk, &tampered.vin[index].witness, flags,
                                 tampered_checker, &error));
        CHECK(error == ScriptError::SCHNORR_SIG);
    }
    secp256k1_context_destroy(ctx);
    std::printf("bip341 keyPathSpending: %zu inputs\n", inputs);
    CHECK(inputs == 7);
}

namespace {

// A one-leaf taproot output under internal key G, spent by a version-2
// transaction; signs tapscript messages with libsecp256k1 directly.
class TapscriptSpend
{
public:
    explicit TapscriptSpend(std::vector<uint8_t> leaf_script) : m_script{std::move(leaf_script)}
    {
        m_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        m_leaf = ComputeTapleafHash(TAPROOT_LEAF_TAPSCRIPT, m_script);
        const auto internal = ParseHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        const auto tweaked = TweakInternalKey(internal, m_leaf);
        REQUIRE(tweaked.has_value());
        m_control = {static_cast<uint8_t>(TAPROOT_LEAF_TAPSCRIPT | (tweaked->parity ? 1 : 0))};
        m_control.insert(m_control.end(), internal.begin(), internal.end());
        m_spk = {OP_1, 32};
        m_spk.insert(m_spk.end(), tweaked->xonly.begin(), tweaked->xonly.end());
        m_tx.version = 2;
        TxIn in;
        in.prevout = OutPoint{uint256{crypto::Sha256(m_spk)}, 1};
        in.sequence = 0xfffffffd;
        m_tx.vin.push_back(in);
        m_tx.vout.push_back(TxOut{40000, Script{OP_1}});
        m_tx.vout.push_back(TxOut{9000, Script{OP_2}});
    }
    ~TapscriptSpend() { secp256k1_context_destroy(m_ctx); }
    TapscriptSpend(const TapscriptSpend&) = delete;
    TapscriptSpend& operator=(const TapscriptSpend&) = delete;

    static std::array<uint8_t, 32> SecretKey(uint8_t n)
    {
        std::array<uint8_t, 32> key{};
        key[31] = n;
        key[0] = 0x11;
        return key;
    }

    std::vector<uint8_t> XOnly(uint8_t n) const
    {
        secp256k1_keypair keypair;
        const auto seckey = SecretKey(n);
        REQUIRE(secp256k1_keypair_create(m_ctx, &keypair, seckey.data()));
        secp256k1_xonly_pubkey pub;
        REQUIRE(secp256k1_keypair_xonly_pub(m_ctx, &pub, nullptr, &keypair));
        std::vector<uint8_t> out(32);
        REQUIRE(secp256k1_xonly_pubkey_serialize(m_ctx, out.data(), &pub));
        return out;
    }

    //! Signs for the leaf with the given code-separator position and annex.
    std::vector<uint8_t> Sign(uint8_t key, uint8_t hash_type, uint32_t codesep_pos = 0xffffffff,
                              const std::vector<uint8_t>& annex = {}) const
    {
        // Forced: the unsigned transaction has no witness to reveal the taproot input.
        const PrecomputedTransactionData txdata(m_tx, {TxOut{50000, m_spk}}, true);
        ScriptExecutionData execdata;
        execdata.m_annex_init = true;
        execdata.m_annex_present = !annex.empty();
        if (!annex.empty()) {
            std::vector<uint8_t> prefixed{static_cast<uint8_t>(annex.size())};
            prefixed.insert(prefixed.end(), annex.begin(), annex.end());
            execdata.m_annex_hash = crypto::Sha256(prefixed);
        }
        execdata.m_tapleaf_hash_init = true;
        execdata.m_tapleaf_hash = m_leaf;
        execdata.m_codeseparator_pos_init = true;
        execdata.m_codeseparator_pos = codesep_pos;
        const auto sighash = SignatureHashSchnorr(execdata, m_tx, 0, hash_type, SigVersion::TAPSCRIPT, txdata);
        REQUIRE(sighash.has_value());
        secp256k1_keypair keypair;
        const auto seckey = SecretKey(key);
        REQUIRE(secp256k1_keypair_create(m_ctx, &keypair, seckey.data()));
        std::vector<uint8_t> sig(64);
        REQUIRE(secp256k1_schnorrsig_sign32(m_ctx, sig.data(), sighash->data(), &keypair, nullptr));
        if (hash_type != SIGHASH_DEFAULT) sig.push_back(hash_type);
        return sig;
    }

    //! Verifies with `stack` (bottom first) below the script and control block.
    ScriptError Verify(ScriptWitness stack, const std::vector<uint8_t>& annex = {}, uint32_t extra_flags = 0)
    {
        stack.push_back(m_script);
        stack.push_back(m_control);
        if (!annex.empty()) stack.push_back(annex);
        Transaction tx = m_tx;
        tx.vin[0].witness = stack;
        const PrecomputedTransactionData txdata(tx, {TxOut{50000, m_spk}});
        const TransactionSignatureChecker checker(tx, 0, 50000, txdata);
        ScriptError error = ScriptError::UNKNOWN_ERROR;
        const uint32_t flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT | extra_flags;
        const bool ok = VerifyScript({}, m_spk, &tx.vin[0].witness, flags, checker, &error);
        CHECK(ok == (error == ScriptError::OK));
        return error;
    }

private:
    secp256k1_context* m_ctx;
    std::vector<uint8_t> m_script;
    std::array<uint8_t, 32> m_leaf{};
    std::vector<uint8_t> m_control;
    Script m_spk;
    Transaction m_tx;
};

std::vector<uint8_t> PushKey(std::vector<uint8_t> script, const std::vector<uint8_t>& key, Opcode op)
{
    script.push_back(32);
    script.insert(script.end(), key.begin(), key.end());
    script.push_back(op);
    return script;
}

} // namespace

TEST_CASE("tapscript CHECKSIG verifies real signatures under every hash type and rejects bad ones")
{
    std::vector<uint8_t> script;
    {
        TapscriptSpend probe({OP_1});
        script = PushKey({}, probe.XOnly(1), OP_CHECKSIG);
    }
    TapscriptSpend spend(script);
    for (uint8_t hash_type : {0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83}) {
        CHECK_MESSAGE(spend.Verify({spend.Sign(1, hash_type)}) == ScriptError::OK, "hash type " << int(hash_type));
    }
    auto bad = spend.Sign(1, SIGHASH_ALL);
    bad[3] ^= 1;
    CHECK(spend.Verify({bad}) == ScriptError::SCHNORR_SIG);
    // A signature by another key fails; an empty one makes CHECKSIG push false.
    CHECK(spend.Verify({spend.Sign(2, SIGHASH_DEFAULT)}) == ScriptError::SCHNORR_SIG);
    CHECK(spend.Verify({{}}) == ScriptError::EVAL_FALSE);
    // An explicit SIGHASH_DEFAULT byte, an undefined type, or a bad size.
    auto explicit_default = spend.Sign(1, SIGHASH_DEFAULT);
    explicit_default.push_back(0x00);
    CHECK(spend.Verify({explicit_default}) == ScriptError::SCHNORR_SIG_HASHTYPE);
    auto undefined = spend.Sign(1, SIGHASH_DEFAULT);
    undefined.push_back(0x84);
    CHECK(spend.Verify({undefined}) == ScriptError::SCHNORR_SIG_HASHTYPE);
    CHECK(spend.Verify({std::vector<uint8_t>(63, 1)}) == ScriptError::SCHNORR_SIG_SIZE);
}

TEST_CASE("tapscript CHECKSIGADD counts valid signatures and skips empty ones")
{
    std::vector<uint8_t> script;
    {
        TapscriptSpend probe({OP_1});
        script = PushKey({}, probe.XOnly(1), OP_CHECKSIG);
        script = PushKey(script, probe.XOnly(2), OP_CHECKSIGADD);
        script = PushKey(script, probe.XOnly(3), OP_CHECKSIGADD);
        script.push_back(OP_2);
        script.push_back(OP_NUMEQUAL);
    }
    TapscriptSpend spend(script);
    // Witness bottom-first: key 3's signature, key 2's, then key 1's on top.
    CHECK(spend.Verify({spend.Sign(3, SIGHASH_DEFAULT), {}, spend.Sign(1, SIGHASH_ALL)}) == ScriptError::OK);
    CHECK(spend.Verify({{}, spend.Sign(2, SIGHASH_DEFAULT), spend.Sign(1, SIGHASH_DEFAULT)}) == ScriptError::OK);
    CHECK(spend.Verify({{}, {}, spend.Sign(1, SIGHASH_DEFAULT)}) == ScriptError::EVAL_FALSE);
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT), {}, spend.Sign(1, SIGHASH_DEFAULT)}) ==
          ScriptError::SCHNORR_SIG);
}

TEST_CASE("tapscript signatures commit to the last code separator and to the annex")
{
    std::vector<uint8_t> script;
    {
        TapscriptSpend probe({OP_1});
        script = PushKey({OP_NOP, OP_CODESEPARATOR}, probe.XOnly(1), OP_CHECKSIG);
    }
    TapscriptSpend spend(script);
    // The separator is the script's second operation: position 1.
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT, 1)}) == ScriptError::OK);
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT)}) == ScriptError::SCHNORR_SIG);
    const std::vector<uint8_t> annex{ANNEX_TAG, 0x01, 0x02};
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT, 1, annex)}, annex) == ScriptError::OK);
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT, 1)}, annex) == ScriptError::SCHNORR_SIG);
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT, 1, annex)}) == ScriptError::SCHNORR_SIG);
}

TEST_CASE("tapscript signature checks are limited by the witness size budget")
{
    // One signature, checked 20 times via DUP: 20 * 50 weight units exceed
    // the budget of witness size + 50 (about 750 here).
    std::vector<uint8_t> script;
    {
        TapscriptSpend probe({OP_1});
        for (int i = 0; i < 20; ++i) {
            if (i < 19) script.push_back(OP_DUP);
        }
        for (int i = 0; i < 20; ++i) script = PushKey(script, probe.XOnly(1), OP_CHECKSIGVERIFY);
        script.push_back(OP_1);
    }
    TapscriptSpend spend(script);
    CHECK(spend.Verify({spend.Sign(1, SIGHASH_DEFAULT)}) == ScriptError::TAPSCRIPT_VALIDATION_WEIGHT);
}
