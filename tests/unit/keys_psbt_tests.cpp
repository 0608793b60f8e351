// PSBT (common/keys/psbt.h): BIP174's test vectors, transcribed from the BIP
// (../shared/vectors has none): invalid PSBTs are refused with Core's reason,
// the creator's and updater's PSBTs parse and serialize back byte for byte,
// combining merges; taproot fields round-trip; finalizing turns partial
// signatures into final scripts the interpreter accepts.
#include <common/consensus/hex.h>
#include <common/keys/key_io.h>
#include <common/keys/psbt.h>
#include <common/script/interpreter.h>
#include <common/script/sighash.h>
#include <common/script/tx_checker.h>

#include <doctest/doctest.h>

using namespace orrery;

namespace {

Bytes Hex(std::string_view hex)
{
    auto bytes = TryParseHex(hex);
    REQUIRE(bytes);
    return *bytes;
}

Bytes PubKeyBytes(const Key& key)
{
    const PubKey pubkey = key.GetPubKey();
    return {pubkey.bytes().begin(), pubkey.bytes().end()};
}

std::string DecodeError(std::string_view hex)
{
    try {
        DecodePsbt(Hex(hex));
    } catch (const PsbtError& e) {
        return e.what();
    }
    return "";
}

// BIP174 "Test Vectors", invalid cases (hex forms).
constexpr std::string_view NETWORK_TX =
    "0200000001268171371edff285e937adeea4b37b78000c0566cbb3ad64641713ca42171bf6000000006a473044022070b2245123e6bf474d60"
    "c5b50c043d4c691a5d2435f09a34a7662a9dc251790a022001329ca9dacf280bdf30740ec0390422422c81cb45839457aeb76fc12edd95b301"
    "2102657d118d3357b8e0f4c2cd46db7b39f6d9c38d9a70abcb9b2de5dc8dbfe4ce31feffffff02d3dff505000000001976a914d0c59903c5ba"
    "c2868760e90fd521a4665aa7652088ac00e1f5050000000017a9143545e6e33b832c47050f24d3eeb93c9c03948bc787b32e1300";
constexpr std::string_view MISSING_OUTPUTS =
    "70736274ff0100750200000001268171371edff285e937adeea4b37b78000c0566cbb3ad64641713ca42171bf60000000000feffffff02d3df"
    "f505000000001976a914d0c59903c5bac2868760e90fd521a4665aa7652088ac00e1f5050000000017a9143545e6e33b832c47050f24d3eeb9"
    "3c9c03948bc787b32e1300000100fda5010100000000010289a3c71eab4d20e0371bbba4cc698fa295c9463afa2e397f8533ccb62f9567e501"
    "00000017160014be18d152a9b012039daf3da7de4f53349eecb985ffffffff86f8aa43a71dff1448893a530a7237ef6b4608bbb2dd2d0171e6"
    "3aec6a4890b40100000017160014fe3e9ef1a745e974d902c4355943abcb34bd5353ffffffff0200c2eb0b000000001976a91485cff1097fd9"
    "e008bb34af709c62197b38978a4888ac72fef84e2c00000017a914339725ba21efd62ac753a9bcd067d6c7a6a39d05870247304402202712be"
    "22e0270f394f568311dc7ca9a68970b8025fdd3b240229f07f8a5f3a240220018b38d7dcd314e734c9276bd6fb40f673325bc4baa144c800d2"
    "f2f02db2765c012103d2e15674941bad4a996372cb87e1856d3652606d98562fe39c5e9e7e413f210502483045022100d12b852d85dcd961d2"
    "f5f4ab660654df6eedcc794c0c33ce5cc309ffb5fce58d022067338a8e0e1725c197fb1a88af59f51e44e4255b20167c8684031c05d1f2592a"
    "01210223b72beef0965d10be0778efecd61fcac6f79a4ea169393380734464f84f2ab30000000000";
constexpr std::string_view FILLED_SCRIPTSIG =
    "70736274ff0100fd0a010200000002ab0949a08c5af7c49b8212f417e2f15ab3f5c33dcf153821a8139f877a5b7be4000000006a4730440220"
    "4759661797c01b036b25928948686218347d89864b719e1f7fcf57d1e511658702205309eabf56aa4d8891ffd111fdf1336f3a29da866d7f84"
    "86d75546ceedaf93190121035cdc61fc7ba971c0b501a646a2a83b102cb43881217ca682dc86e2d73fa88292feffffffab0949a08c5af7c49b"
    "8212f417e2f15ab3f5c33dcf153821a8139f877a5b7be40100000000feffffff02603bea0b000000001976a914768a40bbd740cbe81d988e71"
    "de2a4d5c71396b1d88ac8e240000000000001976a9146f4620b553fa095e721b9ee0efe9fa039cca459788ac00000000000001012000e1f505"
    "0000000017a9143545e6e33b832c47050f24d3eeb93c9c03948bc787010416001485d13537f2e265405a34dbafa9e3dda01fb82308000000";
constexpr std::string_view NO_UNSIGNED_TX =
    "70736274ff000100fda5010100000000010289a3c71eab4d20e0371bbba4cc698fa295c9463afa2e397f8533ccb62f9567e501000000171600"
    "14"
    "be18d152a9b012039daf3da7de4f53349eecb985ffffffff86f8aa43a71dff1448893a530a7237ef6b4608bbb2dd2d0171e63aec6a4890b401"
    "00000017160014fe3e9ef1a745e974d902c4355943abcb34bd5353ffffffff0200c2eb0b000000001976a91485cff1097fd9e008bb34af709c"
    "62197b38978a4888ac72fef84e2c00000017a914339725ba21efd62ac753a9bcd067d6c7a6a39d05870247304402202712be22e0270f394f56"
    "8311dc7ca9a68970b8025fdd3b240229f07f8a5f3a240220018b38d7dcd314e734c9276bd6fb40f673325bc4baa144c800d2f2f02db2765c01"
    "2103d2e15674941bad4a996372cb87e1856d3652606d98562fe39c5e9e7e413f210502483045022100d12b852d85dcd961d2f5f4ab660654df"
    "6eedcc794c0c33ce5cc309ffb5fce58d022067338a8e0e1725c197fb1a88af59f51e44e4255b20167c8684031c05d1f2592a01210223b72bee"
    "f0965d10be0778efecd61fcac6f79a4ea169393380734464f84f2ab30000000000";
// The updater-step PSBT below with one byte changed per case: the key type or length the case names.
constexpr std::string_view TX_BODY = "0100550200000001279a2323a5dfb51fc45f220fa58b0fc13e1e3342792a85d7e36cd6333b5cbc390"
                                     "000000000ffffffff01a05aea0b00000000"
                                     "1976a914ffe9c0061097cc3b636f2cb0460fa4fc427d2b4588ac00000000";
constexpr std::string_view INPUT_REST =
    "0120955eea0b0000000017a9146345200f68d189e1adc0df1c4d16ea8f14c0dbeb87220203b1341ccba7683b6af4f1238cd6e97e7167d569fa"
    "c47f1e48d47541844355bd4646304302200424b58effaaa694e1559ea5c93bbfd4a89064224055cdf070b6771469442d07021f5c8eb0fea651"
    "6d60b8acb33ad64ede60e8785bfb3aa94b99bdf86151db9a9a010104220020771fd18ad459666dd49f3d564e3dbc42f4c84774e360ada16816"
    "a8ed488d5681010547522103b1341ccba7683b6af4f1238cd6e97e7167d569fac47f1e48d47541844355bd462103de55d1e1dac805e3f8a58c"
    "1fbf9b94c02f3dbaafe127fefca4995f26f82083bd52ae220603b1341ccba7683b6af4f1238cd6e97e7167d569fac47f1e48d47541844355bd"
    "4610b4a6ba67000000800000008004000080220603de55d1e1dac805e3f8a58c1fbf9b94c02f3dbaafe127fefca4995f26f82083bd10b4a6ba"
    "670000008000000080050000800000";

// BIP174's creator and updater examples (valid; what Core writes).
constexpr std::string_view CREATOR =
    "70736274ff01009a020000000258e87a21b56daf0c23be8e7070456c336f7cbaa5c8757924f545887bb2abdd750000000000ffffffff838d04"
    "27d0ec650a68aa46bb0b098aea4422c071b2ca78352a077959d07cea1d0100000000ffffffff0270aaf00800000000160014d85c2b71d0060b"
    "09c9886aeb815e50991dda124d00e1f5050000000016001400aea9a2e5f0f876a588df5546e8742d1d87008f000000000000000000";
constexpr std::string_view UPDATER =
    "70736274ff01009a020000000258e87a21b56daf0c23be8e7070456c336f7cbaa5c8757924f545887bb2abdd750000000000ffffffff838d04"
    "27d0ec650a68aa46bb0b098aea4422c071b2ca78352a077959d07cea1d0100000000ffffffff0270aaf00800000000160014d85c2b71d0060b"
    "09c9886aeb815e50991dda124d00e1f5050000000016001400aea9a2e5f0f876a588df5546e8742d1d87008f00000000000100bb0200000001"
    "aad73931018bd25f84ae400b68848be09db706eac2ac18298babee71ab656f8b0000000048473044022058f6fc7c6a33e1b31548d481c826c0"
    "15bd30135aad42cd67790dab66d2ad243b02204a1ced2604c6735b6393e5b41691dd78b00f0c5942fb9f751856faa938157dba01feffffff02"
    "80f0fa020000000017a9140fb9463421696b82c833af241c78c17ddbde493487d0f20a270100000017a91429ca74f8a08f81999428185c97b5"
    "d852e4063f6187650000000104475221029583bf39ae0a609747ad199addd634fa6108559d6c5cd39b4c2183f1ab96e07f2102dab61ff49a14"
    "db6a7d02b0cd1fbb78fc4b18312b5b4e54dae4dba2fbfef536d752ae2206029583bf39ae0a609747ad199addd634fa6108559d6c5cd39b4c21"
    "83f1ab96e07f10d90c6a4f000000800000008000000080220602dab61ff49a14db6a7d02b0cd1fbb78fc4b18312b5b4e54dae4dba2fbfef536"
    "d710d90c6a4f0000008000000080010000800001012000c2eb0b0000000017a914b7f5faf40e3d40a5a459b1db3535f2b72fa921e887010422"
    "00208c2353173743b595dfb4a07b72ba8e42e3797da74e87fe7d9d7497e3b2028903010547522103089dc10c7ac6db54f91329af617333db38"
    "8cead0c231f723379d1b99030b02dc21023add904f3d6dcf59ddb906b0dee23529b7ffb9ed50e5e86151926860221f0e7352ae2206023add90"
    "4f3d6dcf59ddb906b0dee23529b7ffb9ed50e5e86151926860221f0e7310d90c6a4f000000800000008003000080220603089dc10c7ac6db54"
    "f91329af617333db388cead0c231f723379d1b99030b02dc10d90c6a4f00000080000000800200008000220203a9a4c37f5996d3aa25dbac6b"
    "570af0650394492942460b354753ed9eeca5877110d90c6a4f000000800000008004000080002202027f6399757d2eff55a136ad02c684b183"
    "8b6556e5f1b6b34282a94b6b5005109610d90c6a4f00000080000000800500008000";

std::string Updater(std::string_view global_key, std::string_view input_key)
{
    return "70736274ff" + std::string(global_key) + std::string(TX_BODY.substr(4)) + "00" + std::string(input_key) +
           std::string(INPUT_REST);
}

} // namespace

TEST_CASE("BIP174's invalid PSBTs are refused for Core's reasons")
{
    CHECK(DecodeError(NETWORK_TX) == "Invalid PSBT magic bytes");
    CHECK(DecodeError(MISSING_OUTPUTS) == "Outputs provided does not match the number of outputs in transaction.");
    CHECK(DecodeError(FILLED_SCRIPTSIG) == "Unsigned tx does not have empty scriptSigs and scriptWitnesses.");
    CHECK(DecodeError(NO_UNSIGNED_TX) == "No unsigned transaction was provided");
    // The well-formed base of the typed-key cases parses.
    CHECK(DecodeError(Updater("0100", "01")) == "");
    CHECK(DecodeError(Updater("020001", "01")) == "Global unsigned tx key is more than one byte type");
    CHECK(DecodeError(Updater("0100", "0201")) == "Witness utxo key is more than one byte type");
}

TEST_CASE("BIP174's typed-key cases: a key longer or shorter than its type allows is refused")
{
    const std::string base = Updater("0100", "01");
    // The partial signature's key: 0x22 bytes announced → one less makes the pubkey 32 bytes.
    std::string bad_pubkey = base;
    const size_t sig_key = bad_pubkey.find("220203b1341c");
    REQUIRE(sig_key != std::string::npos);
    bad_pubkey.replace(sig_key, 6, "2102");
    bad_pubkey.erase(sig_key + 4 + 64, 2); // drop the pubkey's last byte
    CHECK(DecodeError(bad_pubkey) == "Size of key was not the expected size for the type partial signature pubkey");
    // The redeem script key and the witness script key with a second byte.
    std::string bad_redeem = base;
    const size_t redeem = bad_redeem.find("010422002077");
    REQUIRE(redeem != std::string::npos);
    bad_redeem.replace(redeem, 4, "020400");
    CHECK(DecodeError(bad_redeem) == "Input redeemScript key is more than one byte type");
    std::string bad_witness = base;
    const size_t witness = bad_witness.find("01054752");
    REQUIRE(witness != std::string::npos);
    bad_witness.replace(witness, 4, "020500");
    CHECK(DecodeError(bad_witness) == "Input witnessScript key is more than one byte type");
    // The witness UTXO pair (key 01 01, a 32-byte value) twice in the input map.
    const size_t pair_at = base.find("01012095");
    REQUIRE(pair_at != std::string::npos);
    std::string twice = base;
    twice.insert(pair_at, base.substr(pair_at, 2 + 2 + 2 + 64));
    CHECK(DecodeError(twice).starts_with("Duplicate Key, input witness utxo already provided"));
}

TEST_CASE("truncated and trailing bytes are refused without reading past the input")
{
    const Bytes good = Hex(UPDATER);
    for (size_t len = 0; len < good.size(); len += 7) {
        INFO(len);
        CHECK_THROWS_AS(DecodePsbt(std::span(good).first(len)), PsbtError);
    }
    Bytes trailing = good;
    trailing.push_back(0);
    CHECK_THROWS_WITH_AS(DecodePsbt(trailing), "extra data after PSBT", PsbtError);
}

TEST_CASE("BIP174's creator and updater PSBTs serialize back byte for byte")
{
    for (const std::string_view hex : {CREATOR, UPDATER}) {
        const Psbt psbt = DecodePsbt(Hex(hex));
        CHECK(HexStr(EncodePsbt(psbt)) == hex);
    }
    const Psbt updater = DecodePsbt(Hex(UPDATER));
    REQUIRE(updater.inputs.size() == 2);
    CHECK(updater.inputs[0].non_witness_utxo.has_value());
    CHECK(updater.inputs[0].hd_keypaths.size() == 2);
    CHECK(updater.inputs[1].witness_utxo->value == 200'000'000);
    CHECK_FALSE(updater.inputs[1].witness_script.empty());
    CHECK(updater.outputs[0].hd_keypaths.size() == 1);
    // Input 0's previous output is known from its non-witness UTXO, input 1's from its witness UTXO.
    CHECK(updater.SpentOutput(0)->value == 50'000'000);
    CHECK(*updater.Fee() == 250'000'000 - 149'990'000 - 100'000'000);

    // Combining the creator's PSBT with the updater's gives the updater's.
    Psbt combined = DecodePsbt(Hex(CREATOR));
    combined.Merge(updater);
    CHECK(HexStr(EncodePsbt(combined)) == UPDATER);
    Psbt other = Psbt::FromTransaction(updater.tx);
    other.tx.lock_time = 1;
    CHECK_THROWS_WITH_AS(combined.Merge(other), "PSBTs not compatible (different transactions)", PsbtError);
}

TEST_CASE("taproot, proprietary and unknown fields round-trip; a malformed tap tree is refused")
{
    Psbt psbt = Psbt::FromTransaction(DecodePsbt(Hex(CREATOR)).tx);
    PsbtInput& in = psbt.inputs[0];
    in.tap_key_sig = Bytes(64, 0x11);
    in.tap_script_sigs[Bytes(64, 0x22)] = Bytes(65, 0x33);
    // A leaf script decoded rather than written as a literal: GCC 12 misreads a one-byte literal key's compare.
    in.tap_scripts[{Hex("51"), 0xc0}].insert(Bytes(33, 0x02));
    in.tap_internal_key.emplace();
    in.tap_internal_key->fill(0x44);
    in.tap_merkle_root.emplace();
    in.tap_merkle_root->fill(0x55);
    in.unknown[Bytes{0x99, 0x01}] = Bytes{0x01, 0x02};
    in.proprietary[Bytes{0xfc, 0x00, 0x01}] = Bytes{0x03};
    PsbtOutput& out = psbt.outputs[0];
    out.tap_internal_key.emplace();
    out.tap_internal_key->fill(0x66);
    out.tap_tree = {1, 0xc0, 1, 0x51, 1, 0xc0, 1, 0x52}; // two leaves at depth 1
    psbt.unknown[Bytes{0x42}] = Bytes{0x07};
    const Bytes encoded = EncodePsbt(psbt);
    const Psbt decoded = DecodePsbt(encoded);
    CHECK(EncodePsbt(decoded) == encoded);
    CHECK(decoded.inputs[0].tap_scripts.size() == 1);
    CHECK(decoded.outputs[0].tap_tree == out.tap_tree);

    // One leaf at depth 1 leaves the tree incomplete.
    out.tap_tree = {1, 0xc0, 1, 0x51};
    CHECK_THROWS_WITH_AS(DecodePsbt(EncodePsbt(psbt)), "Output Taproot tree is malformed", PsbtError);
    out.tap_tree = {0, 0xc1, 1, 0x51};
    CHECK_THROWS_WITH_AS(DecodePsbt(EncodePsbt(psbt)), "Output Taproot tree has a leaf with an invalid leaf version",
                         PsbtError);
}

TEST_CASE("partial signatures are finalized into scripts the interpreter accepts, and extracted")
{
    // A P2WPKH input and a 2-of-2 P2WSH input, signed by the signer, their signatures moved into the PSBT.
    std::array<uint8_t, 32> s1{}, s2{}, s3{};
    s1.fill(1);
    s2.fill(2);
    s3.fill(3);
    const Key k1 = *Key::FromSecret(s1), k2 = *Key::FromSecret(s2), k3 = *Key::FromSecret(s3);
    Script multi;
    AppendPushInt64(multi, 2);
    AppendPushData(multi, k2.GetPubKey().bytes());
    AppendPushData(multi, k3.GetPubKey().bytes());
    AppendPushInt64(multi, 2);
    multi.push_back(OP_CHECKMULTISIG);
    const auto multi_hash = crypto::Sha256(multi);
    const TxOut prev0{100'000, MakeP2WPKHScript(k1.GetPubKey())};
    const TxOut prev1{200'000, MakeWitnessScript({0, Bytes(multi_hash.begin(), multi_hash.end())})};

    Transaction tx;
    tx.vin.resize(2);
    tx.vin[0].prevout = {*uint256::FromHex(std::string(64, 'a')), 0};
    tx.vin[1].prevout = {*uint256::FromHex(std::string(64, 'b')), 1};
    tx.vout.push_back({290'000, prev0.script_pubkey});
    Psbt psbt = Psbt::FromTransaction(tx);
    psbt.inputs[0].witness_utxo = prev0;
    psbt.inputs[1].witness_utxo = prev1;
    psbt.inputs[1].witness_script = multi;
    constexpr uint32_t FLAGS = SCRIPT_VERIFY_ALL & ~SCRIPT_VERIFY_SIGPUSHONLY;
    CHECK_FALSE(FinalizePsbt(psbt, FLAGS)); // nothing signed yet
    CHECK_FALSE(ExtractTransaction(psbt));

    // Sign with the signer, then keep only its signatures, as partial signatures.
    FlatSigningProvider keys;
    keys.AddKey(k1);
    keys.AddKey(k2);
    keys.AddKey(k3);
    keys.AddScript(multi);
    Transaction signed_tx = tx;
    SignOptions options;
    options.verify_flags = FLAGS;
    REQUIRE(SignTransaction(signed_tx, {prev0, prev1}, keys, options).complete);
    psbt.inputs[0].partial_sigs[k1.GetPubKey().GetId()] = {PubKeyBytes(k1), signed_tx.vin[0].witness[0]};
    psbt.inputs[1].partial_sigs[k2.GetPubKey().GetId()] = {PubKeyBytes(k2), signed_tx.vin[1].witness[1]};
    CHECK_FALSE(FinalizePsbt(psbt, FLAGS)); // the multisig lacks its second signature
    CHECK(psbt.inputs[0].IsFinalized());
    CHECK(psbt.inputs[0].partial_sigs.empty());
    psbt.inputs[1].partial_sigs[k3.GetPubKey().GetId()] = {PubKeyBytes(k3), signed_tx.vin[1].witness[2]};
    CHECK(FinalizePsbt(psbt, FLAGS));
    const auto extracted = ExtractTransaction(psbt);
    REQUIRE(extracted);
    CHECK(*extracted == signed_tx);
    // A finalized PSBT serializes without its signing fields and parses back.
    CHECK(EncodePsbt(DecodePsbt(EncodePsbt(psbt))) == EncodePsbt(psbt));
}
