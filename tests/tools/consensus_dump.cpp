// consensus_dump: prints what Orrery's consensus code makes of a transaction
// or block, as JSON, so that Python tests can cross-check it against an
// independent implementation (tests/functional/test_consensus_crosscheck.py).
//
//   consensus_dump tx <hex>          ids, sizes and re-serialized hex of one tx
//   consensus_dump block <file>      the same for a block (hex text or raw bytes)
//   consensus_dump make-tx           transactions built in C++, with ids
//
// Decoding failures print {"error": ...} and exit with status 2.
#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/consensus/transaction.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

using namespace orrery;
using nlohmann::json;

namespace {

json DescribeTx(const Transaction& tx)
{
    return {
        {"txid", tx.GetTxid().GetHex()},
        {"wtxid", tx.GetWtxid().GetHex()},
        {"hash", tx.GetWtxid().GetHex()}, // Core's decoderawtransaction name
        {"version", tx.version},
        {"locktime", tx.lock_time},
        {"vin", tx.vin.size()},
        {"vout", tx.vout.size()},
        {"has_witness", tx.HasWitness()},
        {"size", GetSerializeSize(tx)},
        {"weight", GetTransactionWeight(tx)},
        {"hex", HexStr(SerializeTransaction(tx))},
        {"hex_no_witness", HexStr(SerializeTransaction(tx, false))},
    };
}

json DescribeBlock(const Block& block)
{
    json txids = json::array();
    json wtxids = json::array();
    for (const Transaction& tx : block.txs) {
        txids.push_back(tx.GetTxid().GetHex());
        wtxids.push_back(tx.GetWtxid().GetHex());
    }
    bool mutated = false;
    const uint256 root = BlockMerkleRoot(block, &mutated);
    return {
        {"hash", block.GetHash().GetHex()},
        {"prev_block", block.prev_block.GetHex()},
        {"merkle_root", block.merkle_root.GetHex()},
        {"merkle_ok", root == block.merkle_root && !mutated},
        {"n_tx", block.txs.size()},
        {"txids", txids},
        {"wtxids", wtxids},
        {"size", GetSerializeSize(block)},
        {"weight", GetBlockWeight(block)},
        {"hex", HexStr(SerializeBlock(block))},
    };
}

std::vector<uint8_t> Bytes(std::string_view hex) { return TryParseHex(hex).value(); }

//! A few transactions built from code: legacy, segwit, mixed, coinbase.
json MakeTransactions()
{
    json out = json::array();
    auto add = [&](const char* name, const Transaction& tx) {
        json entry = DescribeTx(tx);
        entry["name"] = name;
        out.push_back(entry);
    };
    const uint256 prev = uint256::FromHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").value();

    Transaction legacy;
    legacy.version = 1;
    legacy.vin.push_back(TxIn{OutPoint{prev, 0}, Bytes("47304402200102030405060708090a0b0c0d0e0f101112131415161718191a1b"
                                                       "1c1d1e1f2002200102030405060708090a0b0c0d0e0f1011121314151617"
                                                       "18191a1b1c1d1e1f20012102aabbccddeeff00112233445566778899aabb"
                                                       "ccddeeff00112233445566778899"),
                              0xffffffff, {}});
    legacy.vout.push_back(TxOut{50000, Bytes("76a914000102030405060708090a0b0c0d0e0f1011121388ac")});
    legacy.vout.push_back(TxOut{4930000, Bytes("a914ffeeddccbbaa99887766554433221100ffeeddcc87")});
    add("legacy_p2pkh", legacy);

    Transaction segwit;
    segwit.version = 2;
    segwit.lock_time = 840000;
    segwit.vin.push_back(TxIn{OutPoint{prev, 1}, {}, 0xfffffffd,
                              {Bytes("3044022001020304050607080910111213141516171819202122232425262728293031320220"
                                     "0102030405060708091011121314151617181920212223242526272829303132" "01"),
                               Bytes("02aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899")}});
    segwit.vout.push_back(TxOut{90000, Bytes("0014000102030405060708090a0b0c0d0e0f10111213")});
    segwit.vout.push_back(TxOut{330, Bytes("5120" "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")});
    add("segwit_p2wpkh", segwit);

    Transaction mixed = segwit;
    mixed.vin.push_back(TxIn{OutPoint{legacy.GetTxid(), 0}, Bytes("00"), 0, {}}); // second input has no witness
    mixed.vin.push_back(TxIn{OutPoint{legacy.GetTxid(), 1}, {}, 7, {{}, Bytes("51")}});
    add("mixed_witness", mixed);

    Transaction coinbase;
    coinbase.version = 2;
    coinbase.vin.push_back(TxIn{OutPoint{}, CoinbaseHeightPrefix(840000), 0xffffffff, {std::vector<uint8_t>(32, 0)}});
    coinbase.vin[0].script_sig.push_back(0x00);
    coinbase.vout.push_back(TxOut{312500000, Bytes("0014000102030405060708090a0b0c0d0e0f10111213")});
    coinbase.vout.push_back(TxOut{0, Bytes("6a24aa21a9ed" "0000000000000000000000000000000000000000000000000000000000000000")});
    add("coinbase", coinbase);

    Transaction empty_vin; // decodes only without witness support (BIP144 ambiguity)
    empty_vin.version = 1;
    empty_vin.vout.push_back(TxOut{1, Bytes("51")});
    json entry = DescribeTx(empty_vin);
    entry["name"] = "no_inputs";
    out.push_back(entry);
    return out;
}

int Fail(const std::string& message)
{
    std::cout << json{{"error", message}}.dump() << "\n";
    return 2;
}

std::vector<uint8_t> ReadBlockFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string text(bytes.begin(), bytes.end());
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (auto decoded = TryParseHex(text); decoded && !text.empty()) return *decoded;
    return bytes;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string command = argc > 1 ? argv[1] : "";
    try {
        if (command == "tx" && argc == 3) {
            const auto bytes = TryParseHex(argv[2]);
            if (!bytes) return Fail("argument is not hex");
            std::cout << DescribeTx(DeserializeTransaction(*bytes)).dump() << "\n";
        } else if (command == "block" && argc == 3) {
            std::cout << DescribeBlock(DeserializeBlock(ReadBlockFile(argv[2]))).dump() << "\n";
        } else if (command == "make-tx" && argc == 2) {
            std::cout << MakeTransactions().dump() << "\n";
        } else {
            std::cerr << "usage: consensus_dump tx <hex> | block <file> | make-tx\n";
            return 1;
        }
    } catch (const DeserializeError& e) {
        return Fail(e.what());
    } catch (const std::exception& e) {
        return Fail(e.what());
    }
    return 0;
}
