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

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

using namespace orrery;

namespace {

nlohmann::json ReadVectors(const std::string& name)
{
    const char* dir = std::getenv("ORRERY_VECTORS");
    REQUIRE_MESSAGE(dir != nullptr, "ORRERY_VECTORS is not set");
    std::ifstream in(std::string(dir) + "/" + name);
    REQUIRE_MESSAGE(in.good(), "cannot open " << name);
    return nlohmann::json::parse(in);
}

std::vector<uint8_t> Hex(const std::string& text)
{
    auto bytes = TryParseHex(text);
    REQUIRE_MESSAGE(bytes.has_value(), "bad hex " << text);
    return *bytes;
}

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
        const auto hash = ComputeTapleafHash(version, Hex(node["script"].get<std::string>()));
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

TEST_CASE("the 7 BIP341 scriptPubKey cases give the expected keys, hashes and control blocks")
{
    const auto vectors = ReadVectors("bip341_wallet_vectors.json");
    size_t cases = 0;
    size_t control_blocks = 0;
    for (const auto& test : vectors["scriptPubKey"]) {
        ++cases;
        const auto internal = Hex(test["given"]["internalPubkey"].get<std::string>());
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

TEST_CASE("the BIP341 key-path spending vectors match message, hash, signature and full verification")
{
    const auto vectors = ReadVectors("bip341_wallet_vectors.json");
    REQUIRE(vectors["keyPathSpending"].size() == 1);
    const auto& test = vectors["keyPathSpending"][0];
    const Transaction unsigned_tx = DeserializeTransaction(Hex(test["given"]["rawUnsignedTx"].get<std::string>()));
    std::vector<TxOut> spent;
    for (const auto& utxo : test["given"]["utxosSpent"]) {
        spent.push_back(TxOut{utxo["amountSats"].get<int64_t>(), Hex(utxo["scriptPubKey"].get<std::string>())});
    }
    REQUIRE(spent.size() == unsigned_tx.vin.size());
    const PrecomputedTransactionData txdata(unsigned_tx, spent, true);
    const auto& hashes = test["intermediary"];
    CHECK(ToHex(txdata.m_spent_amounts_single_hash) == hashes["hashAmounts"].get<std::string>());
    CHECK(ToHex(txdata.m_outputs_single_hash) == hashes["hashOutputs"].get<std::string>());
    CHECK(ToHex(txdata.m_prevouts_single_hash) == hashes["hashPrevouts"].get<std::string>());
    CHECK(ToHex(txdata.m_spent_scripts_single_hash) == hashes["hashScriptPubkeys"].get<std::string>());
    CHECK(ToHex(txdata.m_sequences_single_hash) == hashes["hashSequences"].get<std::string>());

    const Transaction signed_tx = DeserializeTransaction(Hex(test["auxiliary"]["fullySignedTx"].get<std::string>()));
    const PrecomputedTransactionData signed_txdata(signed_tx, spent);
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    size_t inputs = 0;
    for (const auto& input : test["inputSpending"]) {
        ++inputs;
        const auto index = input["given"]["txinIndex"].get<size_t>();
        const auto hash_type = static_cast<uint8_t>(input["given"]["hashType"].get<int>());
        std::optional<std::array<uint8_t, 32>> merkle_root;
        if (!input["given"]["merkleRoot"].is_null()) {
            const auto root = Hex(input["given"]["merkleRoot"].get<std::string>());
            REQUIRE(root.size() == 32);
            merkle_root.emplace();
            std::copy(root.begin(), root.end(), merkle_root->begin());
        }
        const auto& inter = input["intermediary"];

        // Keys: internal key from the private key, tweak, and output key in the spent script.
        const auto privkey = Hex(input["given"]["internalPrivkey"].get<std::string>());
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
        const auto witness_sig = Hex(input["expected"]["witness"][0].get<std::string>());
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
