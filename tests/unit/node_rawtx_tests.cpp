// services/node/rpc/core_json and common/keys/descriptor: bitcoind's JSON of
// scripts and transactions, checked field by field against answers Bitcoin
// Core gave (decoderawtransaction, decodescript, bitcoin-tx), and descriptor
// checksums against Core's and BIP380's vectors.
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/rawtransaction.h>

#include <common/consensus/hex.h>
#include <common/keys/descriptor.h>
#include <common/rpc/json_rpc.h>
#include <common/script/solver.h>

#include <doctest/doctest.h>

using namespace orrery;
using orrery::rpc::Json;

namespace {

std::vector<uint8_t> Hex(std::string_view hex)
{
    return *TryParseHex(hex);
}

Transaction Tx(std::string_view hex)
{
    return DeserializeTransaction(Hex(hex));
}

} // namespace

TEST_CASE("descriptor checksums match the ones Bitcoin Core printed")
{
    CHECK(AddDescriptorChecksum("raw(6a0970696e686561646d7a)") == "raw(6a0970696e686561646d7a)#jfe73c25");
    CHECK(AddDescriptorChecksum("raw(6351670068)") == "raw(6351670068)#fhsnu8qg");
    CHECK(AddDescriptorChecksum("raw(03e09304b17551)") == "raw(03e09304b17551)#pll48me7");
    CHECK(AddDescriptorChecksum("addr(bcrt1q7e4uc7mz8rhl0e2g25a3jcguydxale9yrnl4cz)") ==
          "addr(bcrt1q7e4uc7mz8rhl0e2g25a3jcguydxale9yrnl4cz)#xps6m4ne");
    // BIP380's example.
    CHECK(DescriptorChecksum("raw(deadbeef)") == "89f8spxm");
    CHECK(DescriptorChecksum("raw(\xc3\xa9)").empty());
}

TEST_CASE("a descriptor with a wrong or malformed checksum is refused with Core's message")
{
    CHECK_THROWS_WITH_AS(ParseDescriptor("raw(deadbeef)#89f8spxn", Network::REGTEST, false),
                         "Provided checksum '89f8spxn' does not match computed checksum '89f8spxm'", DescriptorError);
    CHECK_THROWS_WITH_AS(ParseDescriptor("raw(deadbeef)#89f8", Network::REGTEST, false),
                         "Expected 8 character checksum, not 4 characters", DescriptorError);
    CHECK_THROWS_WITH_AS(ParseDescriptor("raw(deadbeef)#a#b", Network::REGTEST, false), "Multiple '#' symbols",
                         DescriptorError);
    CHECK_THROWS_WITH_AS(ParseDescriptor("raw(deadbeef)", Network::REGTEST, true), "Missing checksum", DescriptorError);
    CHECK(ParseDescriptor("raw(deadbeef)#89f8spxm", Network::REGTEST, true).scripts.at(0) == Hex("deadbeef"));
}

TEST_CASE("descriptors expand to the scripts Core derives")
{
    const std::string key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    auto one = [&](const std::string& desc) {
        return HexStr(ParseDescriptor(desc, Network::REGTEST, false).scripts.at(0));
    };
    CHECK(one("pk(" + key + ")") == "21" + key + "ac");
    CHECK(one("pkh(" + key + ")") == "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac");
    CHECK(one("wpkh(" + key + ")") == "0014751e76e8199196d454941c45d1b3a323f1433bd6");
    CHECK(one("sh(wpkh(" + key + "))") == "a914bcfeb728b584253d5f3f70bcb780e9ef218a68f487");
    // BIP86's first receive key of the test mnemonic's account, as BIP86 lists it.
    CHECK(one("tr(cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115)") ==
          "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c");
    CHECK(one("addr(bcrt1q7e4uc7mz8rhl0e2g25a3jcguydxale9yrnl4cz)") == "0014f66bcc7b6238eff7e548553b19611c234ddfe4a4");
    CHECK(one("raw(51)") == "51");
    const auto combo = ParseDescriptor("combo(" + key + ")", Network::REGTEST, false).scripts;
    CHECK(combo.size() == 4);
    CHECK(ParseDescriptor("wpkh("
                          "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZ"
                          "PStJRJCTKvosUCJZL5B/0/*)",
                          Network::REGTEST, false)
              .ranged);
    CHECK_THROWS_WITH_AS(ParseDescriptor("wpkh(04" + key.substr(2) + key.substr(2) + ")", Network::REGTEST, false),
                         doctest::Contains("is invalid"), DescriptorError);
    CHECK_THROWS_WITH_AS(ParseDescriptor("foo(51)", Network::REGTEST, false), "foo is not a valid descriptor function",
                         DescriptorError);
    CHECK_THROWS_WITH_AS(ParseDescriptor("addr(1BoatSLRHtKNngkdXEeobR76b53LETtpyT)", Network::REGTEST, false),
                         "Address is not valid", DescriptorError);
}

TEST_CASE("decoderawtransaction's JSON of a taproot script-path spend equals Core's answer")
{
    const Transaction tx = Tx(
        "020000000001015e3ce275f299bf374fec2718c5d38846ddd85bfea46219d817e5450a28d28e620000000000ffffffff020000000000"
        "0000000b6a0970696e686561646d7a583e0f00000000002251205b70323aaba93c308dee73e80c0090134d281e20899fecc1fa696e56cc"
        "d8f7470440acfb049cb922ffea30cd2ce17667a1121d4c47c1c95e1eb69d4772ae6e1d0cd33aeefadf73ac62f744c164816ba957d67b97"
        "7978b00b0ba6fae8224c0b8bdd8840d95ca2fd121b9c85e44596b3c880c866b564757d9c9f538628bb44b7b07d98a76ba7ac99fe7d5566"
        "aeb8a55639cdc36e770e6695a9d62434ef190a4951215a15470020e6e1296d0ae3d14050d755b4e07414544e0dd0e290497b48bc0f5fe7"
        "b9193e99ba20d0ac7c722cd2c8ee4ea94ea86e3f67ad59dfaf1b2758bb8826eb8910b82861dbba528721c150929b74c1a04954b78b4b60"
        "35e97a5e078a5a0f28ec96d547bfee9ace803ac000000000");
    // Core's answer with its numbers as Core wrote them ("0.00999000").
    const Json expected = *rpc::ParseJson(R"({
  "txid": "a32c20e0b4be4be951027618058c585d97d3a42a630505a5312ccc9e9950347a",
  "hash": "cac3922186430946f9be02ef869c08a504c88e75e6ac3601fbe60d308623a096",
  "version": 2, "size": 353, "vsize": 174, "weight": 695, "locktime": 0,
  "vin": [{
      "txid": "628ed2280a45e517d81962a4fe5bd8dd4688d3c51827ec4f37bf99f275e23c5e", "vout": 0,
      "scriptSig": {"asm": "", "hex": ""},
      "txinwitness": [
        "acfb049cb922ffea30cd2ce17667a1121d4c47c1c95e1eb69d4772ae6e1d0cd33aeefadf73ac62f744c164816ba957d67b977978b00b0ba6fae8224c0b8bdd88",
        "d95ca2fd121b9c85e44596b3c880c866b564757d9c9f538628bb44b7b07d98a76ba7ac99fe7d5566aeb8a55639cdc36e770e6695a9d62434ef190a4951215a15",
        "0020e6e1296d0ae3d14050d755b4e07414544e0dd0e290497b48bc0f5fe7b9193e99ba20d0ac7c722cd2c8ee4ea94ea86e3f67ad59dfaf1b2758bb8826eb8910b82861dbba5287",
        "c150929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0"],
      "sequence": 4294967295}],
  "vout": [
    {"value": 0.00000000, "n": 0, "scriptPubKey": {
        "asm": "OP_RETURN 70696e686561646d7a", "desc": "raw(6a0970696e686561646d7a)#jfe73c25",
        "hex": "6a0970696e686561646d7a", "type": "nulldata"}},
    {"value": 0.00999000, "n": 1, "scriptPubKey": {
        "asm": "1 5b70323aaba93c308dee73e80c0090134d281e20899fecc1fa696e56ccd8f747",
        "desc": "rawtr(5b70323aaba93c308dee73e80c0090134d281e20899fecc1fa696e56ccd8f747)#v72vqqpf",
        "hex": "51205b70323aaba93c308dee73e80c0090134d281e20899fecc1fa696e56ccd8f747",
        "address": "bcrt1ptdcryw4t4y7rpr0ww05qcqyszdxjs83q3x07es06d9h9dnxc7ars6ry8zd",
        "type": "witness_v1_taproot"}}]
})",
                                          rpc::NumberText::KEEP);
    const Json got = node::TxToJson(tx, Network::REGTEST, uint256{}, false);
    CHECK(rpc::WriteJson(got) == rpc::WriteJson(expected));
}

TEST_CASE("a legacy signature in a scriptSig shows its sighash type as Core's asm does")
{
    const Transaction tx = Tx(
        "01000000018594c5bdcaec8f06b78b596f31cd292a294fd031e24eec716f43dac91ea7494d000000008b48304502210096a75056c9e2cc"
        "62b7214777b3d2a592cfda7092520126d4ebfcd6d590c99bd8022051bb746359cf98c0603f3004477eac68701132380db8facba19c89dc"
        "5ab5c5e201410479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8"
        "fd17b448a68554199c47d08ffb10d4b8ffffffff01a0860100000000001976a9145834479edbbe0539b31ffd3a8f8ebadc2165ed0188ac"
        "00000000");
    const Json got = node::TxToJson(tx, Network::MAIN, uint256{}, true);
    CHECK(got["txid"] == "977e7cd286cb72cd470d539ba6cb48400f8f387d97451d45cdb8819437a303af");
    CHECK(got["size"] == 224);
    CHECK(
        got["vin"][0]["scriptSig"]["asm"] ==
        "304502210096a75056c9e2cc62b7214777b3d2a592cfda7092520126d4ebfcd6d590c99bd8022051bb746359cf98c0603f3004477eac"
        "68701132380db8facba19c89dc5ab5c5e2[ALL] 0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483"
        "ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
    const Json& spk = got["vout"][0]["scriptPubKey"];
    CHECK(spk["asm"] == "OP_DUP OP_HASH160 5834479edbbe0539b31ffd3a8f8ebadc2165ed01 OP_EQUALVERIFY OP_CHECKSIG");
    CHECK(spk["address"] == "193P6LtvS4nCnkDvM9uXn1gsSRqh4aDAz7");
    CHECK(spk["type"] == "pubkeyhash");
    CHECK(spk["desc"].get<std::string>().rfind("addr(193P6LtvS4nCnkDvM9uXn1gsSRqh4aDAz7)#", 0) == 0);
    CHECK(rpc::WriteJson(got["vout"][0]["value"]) == "0.00100000");
    CHECK(got.contains("hex"));
    CHECK(!got.contains("blockhash"));
}

TEST_CASE("scripts get Core's type names and descriptors")
{
    const std::string multisig =
        "52210276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df621321020498177dced0022d4538f0b39a09d315ec94"
        "4c7205307dc126af8f132975cae3210202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe5253ae";
    Json j = node::ScriptToJson(Hex(multisig), Network::TESTNET3, false, true);
    CHECK(
        j["desc"] ==
        "multi(2,0276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df6213,020498177dced0022d4538f0b39a09d31"
        "5ec944c7205307dc126af8f132975cae3,0202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe52)#lugfm7u"
        "3");
    CHECK(j["type"] == "multisig");
    CHECK(!j.contains("address"));
    j = node::ScriptToJson(Hex("03e09304b17551"), Network::TESTNET3, false, true);
    CHECK(j["asm"] == "300000 OP_CHECKLOCKTIMEVERIFY OP_DROP 1");
    CHECK(j["desc"] == "raw(03e09304b17551)#pll48me7");
    CHECK(j["type"] == "nonstandard");
    j = node::ScriptToJson(Hex("00200b86eaa54b486b835452603ece907a856b5770e8dc2df9e189d991ee296b4639"),
                           Network::TESTNET3, true, true);
    CHECK(j["desc"] == "addr(tb1qpwrw4f2tfp4cx4zjvqlvayr6s444wu8gmsklncvfmxg7u2ttgcus2kqnd5)#6q4h0ctd");
    CHECK(j["type"] == "witness_v0_scripthash");
    CHECK(node::ScriptToJson(Hex("51024e73"), Network::REGTEST, true, true)["type"] == "anchor");
    CHECK(node::ScriptToJson(Hex("5202abcd"), Network::REGTEST, true, true)["type"] == "witness_unknown");
    CHECK(node::ScriptToJson(Hex("0003abcdef"), Network::REGTEST, true, true)["type"] == "nonstandard");
    CHECK(node::ScriptToAsmStr(Hex("4c")) == "[error]");
    CHECK(node::ScriptToAsmStr(Hex("0281004f")) == "129 -1");
    CHECK(node::ScriptToAsmStr(Hex("01814f")) == "-1 -1");
}

TEST_CASE("amounts parse as Core's AmountFromValue and print exactly")
{
    CHECK(node::AmountFromValue(Json(0.00001)) == 1000);
    CHECK(node::AmountFromValue(Json("20999999.99999999")) == 2099999999999999);
    CHECK(node::AmountFromValue(Json(50)) == 50 * COIN);
    CHECK_THROWS_WITH(node::AmountFromValue(Json(0.000000001)), "Invalid amount");
    CHECK_THROWS_WITH(node::AmountFromValue(Json(-1)), "Amount out of range");
    CHECK_THROWS_WITH(node::AmountFromValue(Json(true)), "Amount is not a number or string");
    CHECK(rpc::WriteJson(node::ValueFromAmount(2099999999999999)) == "20999999.99999999");
    CHECK(rpc::WriteJson(node::ValueFromAmount(50 * COIN)) == "50.00000000");
    CHECK(rpc::WriteJson(node::ValueFromAmount(1)) == "0.00000001");
    CHECK(rpc::WriteJson(node::ValueFromAmount(-1)) == "-0.00000001");
    CHECK(rpc::WriteJson(node::ValueFromAmount(0)) == "0.00000000");
    CHECK(node::AmountFromValue(node::ValueFromAmount(2099999999999999)) == 2099999999999999);
}

TEST_CASE("decodescript wraps a multisig in P2SH and P2WSH exactly as Core answered")
{
    const std::string multisig =
        "52210276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df621321020498177dced0022d4538f0b39a09d315ec94"
        "4c7205307dc126af8f132975cae3210202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe5253ae";
    const Json expected = Json::parse(R"({
  "asm": "2 0276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df6213 020498177dced0022d4538f0b39a09d315ec944c7205307dc126af8f132975cae3 0202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe52 3 OP_CHECKMULTISIG",
  "desc": "multi(2,0276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df6213,020498177dced0022d4538f0b39a09d315ec944c7205307dc126af8f132975cae3,0202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe52)#lugfm7u3",
  "type": "multisig",
  "p2sh": "2N2iqBAJvyKA2zzhHGUFPwbufqzNs3vGKJo",
  "segwit": {
    "asm": "0 b69f95a35df8ab1b1b924f8e5f7ceecb230d7ee5318c0efd0a2ec2988c2d99f5",
    "desc": "wsh(multi(2,0276d4d259f156bc953231ae2365555c9a445d50f40e0f9d49f43b062a38df6213,020498177dced0022d4538f0b39a09d315ec944c7205307dc126af8f132975cae3,0202835b62db105222c0d5208b31189660bd8a2f636d25d91329f73be56282fe52))#rex36vz8",
    "hex": "0020b69f95a35df8ab1b1b924f8e5f7ceecb230d7ee5318c0efd0a2ec2988c2d99f5",
    "address": "tb1qk60etg6alz43kxujf7897l8wev3s6lh9xxxqalg29mpf3rpdn86stxeawe",
    "type": "witness_v0_scripthash",
    "p2sh-segwit": "2MxnLjcU2FdCiFqur7R7XD4PFDWd4vXcRfB"
  }
})");
    CHECK(node::DecodeScriptToJson(Hex(multisig), Network::TESTNET3).dump() == expected.dump());

    const Json cltv = Json::parse(R"({
  "asm": "300000 OP_CHECKLOCKTIMEVERIFY OP_DROP 1",
  "desc": "raw(03e09304b17551)#pll48me7",
  "type": "nonstandard",
  "p2sh": "2MuHsVSqmSpoddRxrDoAbpP6Jya38pDNFid",
  "segwit": {
    "asm": "0 0b86eaa54b486b835452603ece907a856b5770e8dc2df9e189d991ee296b4639",
    "desc": "addr(tb1qpwrw4f2tfp4cx4zjvqlvayr6s444wu8gmsklncvfmxg7u2ttgcus2kqnd5)#6q4h0ctd",
    "hex": "00200b86eaa54b486b835452603ece907a856b5770e8dc2df9e189d991ee296b4639",
    "address": "tb1qpwrw4f2tfp4cx4zjvqlvayr6s444wu8gmsklncvfmxg7u2ttgcus2kqnd5",
    "type": "witness_v0_scripthash",
    "p2sh-segwit": "2MutdmQihXZr3TXc8bYnc1oVyAeQs1iEyf6"
  }
})");
    CHECK(node::DecodeScriptToJson(Hex("03e09304b17551"), Network::TESTNET3).dump() == cltv.dump());
    // Neither an OP_RETURN script nor a witness program is wrapped again.
    CHECK(!node::DecodeScriptToJson(Hex("6a0401020304"), Network::REGTEST).contains("p2sh"));
    Json wpkh = node::DecodeScriptToJson(Hex("0014f66bcc7b6238eff7e548553b19611c234ddfe4a4"), Network::REGTEST);
    CHECK(wpkh.contains("p2sh"));
    CHECK(!wpkh.contains("segwit"));
}

TEST_CASE("createrawtransaction builds Core's serialization from either form of outputs")
{
    const std::string txid = "4d49a71ec9da436f71ec4ee231d04f292a29cd316f598bb7068feccabdc59485";
    const std::string txid_le = "8594c5bdcaec8f06b78b596f31cd292a294fd031e24eec716f43dac91ea7494d";
    const std::string address = "bcrt1q7e4uc7mz8rhl0e2g25a3jcguydxale9yrnl4cz";
    const std::string spk = "0014f66bcc7b6238eff7e548553b19611c234ddfe4a4";
    const Json inputs = Json::parse(R"([{"txid": ")" + txid + R"(", "vout": 1}])");

    // version 2 | 1 input: outpoint, empty scriptSig, sequence 0xfffffffd | 2 outputs | locktime 0
    const std::string expected = "02000000"
                                 "01" +
                                 txid_le +
                                 "01000000"
                                 "00"
                                 "fdffffff"
                                 "02"
                                 "80f0fa0200000000"
                                 "16" +
                                 spk +
                                 "0000000000000000"
                                 "06"
                                 "6a04deadbeef"
                                 "00000000";
    Json outputs = Json::object();
    outputs[address] = 0.5;
    outputs["data"] = "deadbeef";
    Transaction tx = node::ConstructTransaction(inputs, outputs, Json(), std::nullopt, Network::REGTEST);
    CHECK(HexStr(SerializeTransaction(tx)) == expected);
    Json pairs = Json::array({Json{{address, "0.5"}}, Json{{"data", "deadbeef"}}});
    tx = node::ConstructTransaction(inputs, pairs, Json(0), std::nullopt, Network::REGTEST);
    CHECK(HexStr(SerializeTransaction(tx)) == expected);

    // Not replaceable with a lock time: every input one below final.
    tx = node::ConstructTransaction(inputs, Json{{address, 1}}, Json(500), false, Network::REGTEST);
    CHECK(tx.vin[0].sequence == 0xfffffffe);
    CHECK(tx.lock_time == 500);
    tx = node::ConstructTransaction(inputs, Json{{address, 1}}, Json(), false, Network::REGTEST);
    CHECK(tx.vin[0].sequence == 0xffffffff);
}

TEST_CASE("createrawtransaction refuses bad arguments with Core's errors")
{
    const std::string address = "bcrt1q7e4uc7mz8rhl0e2g25a3jcguydxale9yrnl4cz";
    auto error = [](const Json& inputs, const Json& outputs, const Json& locktime = Json(),
                    std::optional<bool> rbf = std::nullopt) -> std::pair<int, std::string> {
        try {
            node::ConstructTransaction(inputs, outputs, locktime, rbf, Network::REGTEST);
        } catch (const rpc::RpcException& e) {
            return {e.code(), e.what()};
        }
        return {0, ""};
    };
    const std::string txid = std::string(64, 'a');
    CHECK(error(Json::parse(R"([{"txid": "ab", "vout": 0}])"), Json::object()) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_PARAMETER, "txid must be of length 64 (not 2, for 'ab')"});
    CHECK(error(Json::parse(R"([{"txid": ")" + std::string(64, 'g') + R"(", "vout": 0}])"), Json::object()).second ==
          "txid must be hexadecimal string (not '" + std::string(64, 'g') + "')");
    CHECK(error(Json::parse(R"([{"txid": ")" + txid + R"("}])"), Json::object()).second ==
          "Invalid parameter, missing vout key");
    CHECK(error(Json::parse(R"([{"txid": ")" + txid + R"(", "vout": -1}])"), Json::object()).second ==
          "Invalid parameter, vout cannot be negative");
    CHECK(error(Json::parse(R"([{"txid": ")" + txid + R"(", "vout": 0, "sequence": 4294967296}])"), Json::object())
              .second == "Invalid parameter, sequence number is out of range");
    CHECK(error(Json::array(), Json{{"bcrt1qinvalid", 1}}) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid Bitcoin address: bcrt1qinvalid"});
    CHECK(error(Json::array(), Json::array({Json{{address, 1}}, Json{{address, 2}}})).second ==
          "Invalid parameter, duplicated address: " + address);
    CHECK(error(Json::array(), Json::array({Json{{"data", "00"}}, Json{{"data", "01"}}})).second ==
          "Invalid parameter, duplicate key: data");
    CHECK(error(Json::array(), Json{{"data", "zz"}}).second == "Data must be hexadecimal string (not 'zz')");
    CHECK(error(Json::array(), Json::array({Json{{address, 1}, {"data", "00"}}})).second ==
          "Invalid parameter, key-value pair must contain exactly one key");
    CHECK(error(Json::array(), Json::array({Json(1)})).second ==
          "Invalid parameter, key-value pair not an object as expected");
    CHECK(error(Json::array(), Json()).second == "Invalid parameter, output argument must be non-null");
    CHECK(error(Json::array(), Json::object(), Json(-1)).second == "Invalid parameter, locktime out of range");
    CHECK(error(Json::parse(R"([{"txid": ")" + txid + R"(", "vout": 0, "sequence": 4294967295}])"), Json::object(),
                Json(), true)
              .second == "Invalid parameter combination: Sequence number(s) contradict replaceable option");
}

TEST_CASE("transactions decode as Core's DecodeHexTx reads them")
{
    // A legacy transaction with no inputs reads only in the legacy form.
    const std::string zero_inputs = "02000000000100e1f50500000000016a00000000";
    auto tx = node::DecodeHexTx(zero_inputs);
    REQUIRE(tx);
    CHECK(tx->vin.empty());
    CHECK(tx->vout.size() == 1);
    CHECK(!node::DecodeHexTx(zero_inputs, true, false) == false);
    CHECK(!node::DecodeHexTx(zero_inputs, false, true));
    CHECK(!node::DecodeHexTx("zz"));
    CHECK(!node::DecodeHexTx(""));
    CHECK(!node::DecodeHexTx(zero_inputs + "00"));
}
