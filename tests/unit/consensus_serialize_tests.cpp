// Wire-format edge cases: CompactSize canonicity and limits, truncated and
// trailing input, allocation caps, the BIP144 marker ambiguity, and the
// hex/uint256/script helpers the formats are built from.
#include <common/consensus/block.h>
#include <common/consensus/hex.h>
#include <common/consensus/script.h>
#include <common/consensus/serialize.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace orrery;

namespace {

std::vector<uint8_t> Hex(std::string_view hex)
{
    auto bytes = TryParseHex(hex);
    REQUIRE(bytes.has_value());
    return *bytes;
}

std::vector<uint8_t> Encode(uint64_t n)
{
    std::vector<uint8_t> out;
    Writer(out).WriteCompactSize(n);
    return out;
}

//! The message of the DeserializeError that decoding throws, or "" if none.
template <typename F>
std::string ErrorOf(F&& decode)
{
    try {
        decode();
    } catch (const DeserializeError& e) {
        return e.what();
    }
    return "";
}

Transaction MakeWitnessTx()
{
    Transaction tx;
    tx.version = 2;
    TxIn in;
    in.prevout.hash = *uint256::FromHex("8a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809");
    in.prevout.n = 1;
    in.sequence = 0xfffffffd;
    in.witness = {Hex("3044022011"), Hex("02aabbccdd")};
    tx.vin.push_back(in);
    tx.vout.push_back(TxOut{12345, Hex("0014000102030405060708090a0b0c0d0e0f10111213")});
    tx.lock_time = 800000;
    return tx;
}

// A real legacy transaction (first tx_valid row).
constexpr std::string_view kLegacyTx =
    "0100000001b14bdcbc3e01bdaad36cc08e81e69c82e1060bc14e518db2b49aa43ad90ba26000000000490047304402203f16c6f40162ab686621ef"
    "3000b04e75418a0c0cb2d8aebeac894ae360ac1e780220ddc15ecdfc3507ac48e1681a33eb60996631bf6bf5bc0a0682c4db743ce7ca2b01ffffff"
    "ff0140420f00000000001976a914660d4ef3a743e3e696ad990364e555c271ad504b88ac00000000";

} // namespace

TEST_CASE("compact sizes round-trip at every encoding boundary")
{
    for (uint64_t n : {0ULL, 1ULL, 252ULL, 253ULL, 254ULL, 0xffffULL, 0x10000ULL, 0x2000000ULL, 0xffffffffULL,
                       0x100000000ULL, 0xffffffffffffffffULL}) {
        CAPTURE(n);
        const auto bytes = Encode(n);
        CHECK(bytes.size() == CompactSizeLength(n));
        SpanReader reader(bytes);
        CHECK(reader.ReadCompactSize(/*range_check=*/false) == n);
        CHECK(reader.Empty());
    }
    CHECK(Encode(252) == Hex("fc"));
    CHECK(Encode(253) == Hex("fdfd00"));
    CHECK(Encode(0x10000) == Hex("fe00000100"));
    CHECK(Encode(0x100000000ULL) == Hex("ff0000000001000000"));
}

TEST_CASE("a non-canonical compact size is rejected")
{
    for (const char* hex : {"fdfc00", "fd0000", "feffff0000", "ffffffffff00000000"}) {
        CAPTURE(hex);
        const auto bytes = Hex(hex);
        SpanReader reader(bytes);
        CHECK(ErrorOf([&] { reader.ReadCompactSize(false); }).find("non-canonical CompactSize") != std::string::npos);
    }
}

TEST_CASE("a compact size above 32 MiB is rejected when range-checked")
{
    const auto ok = Encode(MAX_COMPACT_SIZE);
    CHECK(SpanReader(ok).ReadCompactSize() == MAX_COMPACT_SIZE);
    const auto big = Encode(MAX_COMPACT_SIZE + 1);
    SpanReader reader(big);
    CHECK(ErrorOf([&] { reader.ReadCompactSize(); }).find("exceeds the limit") != std::string::npos);
}

TEST_CASE("reading past the end reports truncation with the offset")
{
    const auto bytes = Hex("010203");
    SpanReader reader(bytes);
    CHECK(reader.ReadU16() == 0x0201);
    const std::string error = ErrorOf([&] { reader.ReadU32(); });
    CHECK(error.find("truncated data") != std::string::npos);
    CHECK(error.find("offset 2") != std::string::npos);
}

TEST_CASE("every strict prefix of a transaction fails to parse and never crashes")
{
    for (const auto& full : {Hex(kLegacyTx), SerializeTransaction(MakeWitnessTx())}) {
        for (size_t len = 0; len < full.size(); ++len) {
            CAPTURE(len);
            const std::string error =
                ErrorOf([&] { DeserializeTransaction(std::span<const uint8_t>(full).first(len)); });
            CHECK(!error.empty());
        }
    }
}

TEST_CASE("a transaction followed by extra bytes is rejected as trailing data")
{
    auto bytes = Hex(kLegacyTx);
    bytes.push_back(0x00);
    CHECK(ErrorOf([&] { DeserializeTransaction(bytes); }).find("1 trailing bytes after transaction") !=
          std::string::npos);
    // The streaming reader, by contrast, stops after the transaction.
    SpanReader reader(bytes);
    ReadTransaction(reader);
    CHECK(reader.Remaining() == 1);
}

TEST_CASE("a huge input count fails at once instead of allocating")
{
    // version, then a CompactSize of 0x01ffffff inputs and a few bytes.
    const auto bytes = Hex("01000000" "feffffff01" "00000000");
    const std::string error = ErrorOf([&] { DeserializeTransaction(bytes); });
    CHECK(error.find("input count 33554431 cannot fit") != std::string::npos);
    // A block claiming 2^25 transactions with an 80-byte header only.
    auto block = SerializeBlockHeader(BlockHeader{});
    Writer(block).WriteCompactSize(MAX_COMPACT_SIZE);
    CHECK(ErrorOf([&] { DeserializeBlock(block); }).find("transaction count") != std::string::npos);
    // A script length larger than what is left.
    auto tx = Hex("0100000001" "0000000000000000000000000000000000000000000000000000000000000000" "00000000" "fdff00" "00000000");
    CHECK(ErrorOf([&] { DeserializeTransaction(tx); }).find("scriptSig length 255 cannot fit") != std::string::npos);
}

TEST_CASE("a witness transaction round-trips and its wtxid differs from its txid")
{
    const Transaction tx = MakeWitnessTx();
    const auto with = SerializeTransaction(tx);
    const auto without = SerializeTransaction(tx, false);
    CHECK(with[4] == 0x00);
    CHECK(with[5] == 0x01);
    CHECK(with.size() == without.size() + 2 + 1 + 1 + 5 + 1 + 5);
    CHECK(DeserializeTransaction(with) == tx);
    Transaction stripped = tx;
    stripped.vin[0].witness.clear();
    CHECK(DeserializeTransaction(without) == stripped);
    CHECK(tx.GetTxid() == stripped.GetTxid());
    CHECK(tx.GetWtxid() != tx.GetTxid());
    CHECK(stripped.GetWtxid() == stripped.GetTxid());
    CHECK(GetTransactionWeight(tx) == int64_t(3 * without.size() + with.size()));
    CHECK(GetVirtualSize(tx) == (GetTransactionWeight(tx) + 3) / 4);
}

TEST_CASE("a legacy transaction's txid is the reversed double sha256 of its bytes")
{
    const Transaction tx = DeserializeTransaction(Hex(kLegacyTx));
    CHECK(tx.vin.size() == 1);
    CHECK(tx.vout.size() == 1);
    CHECK(tx.vout[0].value == 1000000);
    CHECK(tx.vin[0].prevout.hash.GetHex() == "60a20bd93aa49ab4b28d514ec10b06e1829ce6818ec06cd3aabd013ebcdc4bb1");
    CHECK_FALSE(tx.HasWitness());
    CHECK_FALSE(tx.IsCoinbase());
}

TEST_CASE("a witness marker whose stacks are all empty is rejected as superfluous")
{
    Transaction tx = MakeWitnessTx();
    auto bytes = SerializeTransaction(tx);
    // Replace the witness section (two items) with one empty stack.
    const auto without = SerializeTransaction(tx, false);
    std::vector<uint8_t> forged(bytes.begin(), bytes.begin() + 6);
    forged.insert(forged.end(), without.begin() + 4, without.end() - 4);
    forged.push_back(0x00);
    forged.insert(forged.end(), without.end() - 4, without.end());
    CHECK(ErrorOf([&] { DeserializeTransaction(forged); }).find("superfluous witness record") != std::string::npos);
}

TEST_CASE("an unknown witness flag is rejected")
{
    auto bytes = SerializeTransaction(MakeWitnessTx());
    bytes[5] = 0x02;
    CHECK(ErrorOf([&] { DeserializeTransaction(bytes); }).find("unknown transaction optional data") !=
          std::string::npos);
    bytes[5] = 0x03; // flag 1 plus an unknown bit: witness is read, then rejected
    CHECK(ErrorOf([&] { DeserializeTransaction(bytes); }).find("unknown transaction optional data") !=
          std::string::npos);
}

TEST_CASE("an empty transaction reads as Core reads it: no inputs, no outputs")
{
    // version, 0 inputs, flag byte 0 (taken as the output count), lock time.
    const auto bytes = Hex("01000000" "00" "00" "00000000");
    const Transaction tx = DeserializeTransaction(bytes);
    CHECK(tx.vin.empty());
    CHECK(tx.vout.empty());
    CHECK(SerializeTransaction(tx) == bytes);
    // Without witness support the same bytes read identically.
    CHECK(DeserializeTransaction(bytes, false) == tx);
    // With no inputs but outputs, witness-aware parsing takes the output
    // count as a flag, exactly the ambiguity BIP144 accepts.
    Transaction no_inputs;
    no_inputs.vout.push_back(TxOut{1, {OP_TRUE}});
    const auto legacy = SerializeTransaction(no_inputs);
    CHECK(DeserializeTransaction(legacy, /*allow_witness=*/false) == no_inputs);
    CHECK(!ErrorOf([&] { DeserializeTransaction(legacy); }).empty());
}

TEST_CASE("a block header is exactly 80 bytes and round-trips")
{
    BlockHeader header;
    header.version = 0x20000000;
    header.prev_block = *uint256::FromHex("000000000000000000c238240ef6dcb26c37e75e16514e6ffc0aef7eee73e747");
    header.time = 1500000000;
    header.bits = 0x18014735;
    header.nonce = 0xdeadbeef;
    const auto bytes = SerializeBlockHeader(header);
    CHECK(bytes.size() == 80);
    CHECK(DeserializeBlockHeader(bytes) == header);
    CHECK(ErrorOf([&] { DeserializeBlockHeader(std::span<const uint8_t>(bytes).first(79)); }).find("truncated") !=
          std::string::npos);
}

TEST_CASE("uint256 displays and parses byte-reversed like Core")
{
    const auto v = uint256::FromHex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    REQUIRE(v.has_value());
    CHECK(v->data()[0] == 0x6f);
    CHECK(v->data()[31] == 0x00);
    CHECK(v->GetHex() == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    CHECK_FALSE(uint256::FromHex("00").has_value());
    CHECK_FALSE(uint256::FromHex(std::string(63, '0') + "g").has_value());
    CHECK(uint256{}.IsNull());
    CHECK(uint256::FromBytes(std::vector<uint8_t>(32, 1)).has_value());
    CHECK_FALSE(uint256::FromBytes(std::vector<uint8_t>(31, 1)).has_value());
}

TEST_CASE("hex helpers accept both cases and reject odd lengths and non-digits")
{
    CHECK(HexStr(std::vector<uint8_t>{0x00, 0xab, 0xff}) == "00abff");
    CHECK(TryParseHex("00ABff") == std::vector<uint8_t>{0x00, 0xab, 0xff});
    CHECK(TryParseHex("") == std::vector<uint8_t>{});
    CHECK_FALSE(TryParseHex("abc").has_value());
    CHECK_FALSE(TryParseHex("zz").has_value());
    CHECK_FALSE(TryParseHex("0x00").has_value());
    CHECK(IsHex("00ff"));
    CHECK_FALSE(IsHex(""));
}

TEST_CASE("the script iterator walks pushes of every size and stops at a truncated push")
{
    Script script;
    script.push_back(OP_DUP);
    AppendPushData(script, std::vector<uint8_t>(3, 0xaa));
    AppendPushData(script, std::vector<uint8_t>(80, 0xbb));  // PUSHDATA1
    AppendPushData(script, std::vector<uint8_t>(300, 0xcc)); // PUSHDATA2
    script.push_back(OP_CHECKSIG);
    size_t pos = 0;
    Opcode op;
    std::span<const uint8_t> data;
    REQUIRE(GetScriptOp(script, pos, op, data));
    CHECK(op == OP_DUP);
    REQUIRE(GetScriptOp(script, pos, op, data));
    CHECK(op == 3);
    CHECK(data.size() == 3);
    REQUIRE(GetScriptOp(script, pos, op, data));
    CHECK(op == OP_PUSHDATA1);
    CHECK(data.size() == 80);
    std::vector<uint8_t> copy;
    REQUIRE(GetScriptOp(script, pos, op, copy));
    CHECK(op == OP_PUSHDATA2);
    CHECK(copy == std::vector<uint8_t>(300, 0xcc));
    REQUIRE(GetScriptOp(script, pos, op));
    CHECK(op == OP_CHECKSIG);
    CHECK_FALSE(GetScriptOp(script, pos, op));
    CHECK(op == OP_INVALIDOPCODE);

    for (const char* hex : {"05aabb", "4c", "4c05aa", "4d0100", "4e01000000", "4effffffff00"}) {
        CAPTURE(hex);
        const auto truncated = Hex(hex);
        size_t p = 0;
        CHECK_FALSE(GetScriptOp(truncated, p, op, data));
        CHECK(op == OP_INVALIDOPCODE);
    }
}

TEST_CASE("opcode names match Core's GetOpName and ParseScript")
{
    CHECK(GetOpName(OP_0) == "0");
    CHECK(GetOpName(OP_1NEGATE) == "-1");
    CHECK(GetOpName(OP_16) == "16");
    CHECK(GetOpName(OP_CHECKLOCKTIMEVERIFY) == "OP_CHECKLOCKTIMEVERIFY");
    CHECK(GetOpName(OP_CHECKSIGADD) == "OP_CHECKSIGADD");
    CHECK(GetOpName(static_cast<Opcode>(0xbb)) == "OP_UNKNOWN");
    CHECK(GetOpName(OP_INVALIDOPCODE) == "OP_INVALIDOPCODE");
    CHECK(OpcodeFromName("DUP") == OP_DUP);
    CHECK(OpcodeFromName("OP_HASH160") == OP_HASH160);
    CHECK(OpcodeFromName("NOP10") == OP_NOP10);
    CHECK(OpcodeFromName("RESERVED") == OP_RESERVED);
    CHECK_FALSE(OpcodeFromName("CHECKSIGADD").has_value());
    CHECK_FALSE(OpcodeFromName("NOP2").has_value());
    CHECK_FALSE(OpcodeFromName("1").has_value());
    for (int n = 0; n <= 16; ++n) CHECK(DecodeOpN(EncodeOpN(n)) == n);
}

TEST_CASE("script numbers and integer pushes encode minimally")
{
    CHECK(EncodeScriptNum(0).empty());
    CHECK(EncodeScriptNum(1) == Hex("01"));
    CHECK(EncodeScriptNum(-1) == Hex("81"));
    CHECK(EncodeScriptNum(127) == Hex("7f"));
    CHECK(EncodeScriptNum(128) == Hex("8000"));
    CHECK(EncodeScriptNum(-128) == Hex("8080"));
    CHECK(EncodeScriptNum(255) == Hex("ff00"));
    CHECK(EncodeScriptNum(256) == Hex("0001"));
    CHECK(EncodeScriptNum(-256) == Hex("0081"));
    CHECK(EncodeScriptNum(486604799) == Hex("ffff001d"));
    CHECK(EncodeScriptNum(INT64_MIN) == Hex("000000000000008080"));
    Script s;
    AppendPushInt64(s, 0);
    AppendPushInt64(s, -1);
    AppendPushInt64(s, 16);
    AppendPushInt64(s, 17);
    AppendPushInt64(s, 300025);
    CHECK(s == Hex("00" "4f" "60" "0111" "03f99304"));
}

TEST_CASE("legacy sigop counting charges 20 per bare multisig unless accurate")
{
    const auto p2pkh = Hex("76a914660d4ef3a743e3e696ad990364e555c271ad504b88ac");
    CHECK(GetSigOpCount(p2pkh, false) == 1);
    Script multisig = {OP_2};
    for (int i = 0; i < 3; ++i) AppendPushData(multisig, std::vector<uint8_t>(33, 2));
    multisig.push_back(OP_3);
    multisig.push_back(OP_CHECKMULTISIG);
    CHECK(GetSigOpCount(multisig, false) == 20);
    CHECK(GetSigOpCount(multisig, true) == 3);
    // Counting stops at a truncated push, as in Core.
    CHECK(GetSigOpCount(Hex("ac" "4c05" "ac"), false) == 1);
    CHECK(IsUnspendable(Hex("6a0401020304")));
    CHECK_FALSE(IsUnspendable(p2pkh));
}
