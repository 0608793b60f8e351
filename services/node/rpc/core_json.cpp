// bitcoind's JSON forms of scripts, transactions and headers (Core's
// core_write.cpp), and amounts in and out.
#include <services/node/rpc/core_json.h>

#include <common/consensus/hex.h>
#include <common/consensus/script.h>
#include <common/keys/descriptor.h>
#include <common/keys/key.h>
#include <common/keys/key_io.h>
#include <common/script/signature.h>
#include <common/script/solver.h>

#include <fmt/format.h>

namespace orrery::node {

using rpc::Json;

Network AddressNetwork(ChainType chain)
{
    switch (chain) {
    case ChainType::MAIN:
        return Network::MAIN;
    case ChainType::TESTNET:
        return Network::TESTNET3;
    case ChainType::TESTNET4:
        return Network::TESTNET4;
    case ChainType::SIGNET:
        return Network::SIGNET;
    case ChainType::REGTEST:
        return Network::REGTEST;
    }
    return Network::MAIN;
}

// ---- arguments

uint256 ParseHashArg(const Json& value, std::string_view name)
{
    if (!value.is_string()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR, fmt::format("JSON value of type {} is not of expected type string",
                                                                 rpc::JsonTypeName(value)));
    }
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() != 64) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                fmt::format("{} must be of length 64 (not {}, for '{}')", name, text.size(), text));
    }
    auto hash = uint256::FromHex(text);
    if (!IsHex(text) || !hash) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER,
                                fmt::format("{} must be hexadecimal string (not '{}')", name, text));
    }
    return *hash;
}

// ---- amounts

namespace {

constexpr int64_t UPPER_BOUND = 1000000000000000000LL - 1LL;

bool ProcessMantissaDigit(char ch, int64_t& mantissa, int& mantissa_tzeros)
{
    if (ch == '0') {
        ++mantissa_tzeros;
        return true;
    }
    for (int i = 0; i <= mantissa_tzeros; ++i) {
        if (mantissa > UPPER_BOUND / 10) return false;
        mantissa *= 10;
    }
    mantissa += ch - '0';
    mantissa_tzeros = 0;
    return true;
}

bool IsDigit(char c)
{
    return c >= '0' && c <= '9';
}

//! Core's ParseFixedPoint: a JSON number's text to an integer scaled by 10^decimals, without rounding.
bool ParseFixedPoint(std::string_view val, int decimals, int64_t& amount_out)
{
    int64_t mantissa = 0, exponent = 0;
    int mantissa_tzeros = 0, point_ofs = 0;
    bool mantissa_sign = false, exponent_sign = false;
    size_t ptr = 0;
    const size_t end = val.size();
    if (ptr < end && val[ptr] == '-') {
        mantissa_sign = true;
        ++ptr;
    }
    if (ptr >= end) return false;
    if (val[ptr] == '0') {
        ++ptr;
    } else if (val[ptr] >= '1' && val[ptr] <= '9') {
        while (ptr < end && IsDigit(val[ptr])) {
            if (!ProcessMantissaDigit(val[ptr], mantissa, mantissa_tzeros)) return false;
            ++ptr;
        }
    } else {
        return false;
    }
    if (ptr < end && val[ptr] == '.') {
        ++ptr;
        if (ptr >= end || !IsDigit(val[ptr])) return false;
        while (ptr < end && IsDigit(val[ptr])) {
            if (!ProcessMantissaDigit(val[ptr], mantissa, mantissa_tzeros)) return false;
            ++ptr;
            ++point_ofs;
        }
    }
    if (ptr < end && (val[ptr] == 'e' || val[ptr] == 'E')) {
        ++ptr;
        if (ptr < end && val[ptr] == '+') {
            ++ptr;
        } else if (ptr < end && val[ptr] == '-') {
            exponent_sign = true;
            ++ptr;
        }
        if (ptr >= end || !IsDigit(val[ptr])) return false;
        while (ptr < end && IsDigit(val[ptr])) {
            if (exponent > UPPER_BOUND / 10) return false;
            exponent = exponent * 10 + val[ptr] - '0';
            ++ptr;
        }
    }
    if (ptr != end) return false;
    if (exponent_sign) exponent = -exponent;
    exponent = exponent - point_ofs + mantissa_tzeros;
    if (mantissa_sign) mantissa = -mantissa;
    exponent += decimals;
    if (exponent < 0 || exponent >= 18) return false;
    for (int i = 0; i < exponent; ++i) {
        if (mantissa > UPPER_BOUND / 10 || mantissa < -(UPPER_BOUND / 10)) return false;
        mantissa *= 10;
    }
    if (mantissa > UPPER_BOUND || mantissa < -UPPER_BOUND) return false;
    amount_out = mantissa;
    return true;
}

} // namespace

Amount AmountFromValue(const Json& value, int decimals)
{
    if (!rpc::IsNumber(value) && !value.is_string()) {
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Amount is not a number or string");
    }
    // A raw number keeps its text; a double's shortest round-trip form is the same decimal.
    const std::string text = value.is_string()         ? value.get<std::string>()
                             : rpc::IsRawNumber(value) ? rpc::RawNumberText(value)
                                                       : value.dump();
    int64_t amount = 0;
    if (!ParseFixedPoint(text, decimals, amount)) throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Invalid amount");
    if (!MoneyRange(amount)) throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Amount out of range");
    return amount;
}

// ---- scripts

std::string ScriptToAsmStr(std::span<const uint8_t> script, bool attempt_sighash_decode)
{
    std::string str;
    size_t pos = 0;
    while (pos < script.size()) {
        if (!str.empty()) str += ' ';
        Opcode opcode;
        std::vector<uint8_t> data;
        if (!GetScriptOp(script, pos, opcode, data)) {
            str += "[error]";
            return str;
        }
        if (opcode > OP_PUSHDATA4) {
            str += GetOpName(opcode);
            continue;
        }
        if (data.size() <= 4) {
            // CScriptNum without the minimal-encoding rule, as a signed little-endian number.
            int64_t value = 0;
            for (size_t i = 0; i < data.size(); ++i) value |= int64_t{data[i]} << (8 * i);
            if (!data.empty() && (data.back() & 0x80)) value = -(value & ~(int64_t{0x80} << (8 * (data.size() - 1))));
            str += std::to_string(value);
            continue;
        }
        std::string sighash;
        // An OP_RETURN script's data may look like a signature; it is never decoded.
        if (attempt_sighash_decode && !IsUnspendable(script) && IsValidSignatureEncoding(data) &&
            IsDefinedHashtypeSignature(data)) {
            static const char* const NAMES[] = {"", "ALL", "NONE", "SINGLE"};
            const uint8_t type = data.back();
            sighash = std::string("[") + NAMES[type & 0x1f] + ((type & 0x80) ? "|ANYONECANPAY" : "") + "]";
            data.pop_back();
        }
        str += HexStr(data) + sighash;
    }
    return str;
}

namespace {

//! Core's CPubKey::IsValidNonHybrid, which checks the size for the header byte only (no curve check).
bool IsValidNonHybrid(std::span<const uint8_t> key)
{
    return PubKeyHasValidSize(key) && key[0] != 6 && key[0] != 7;
}

} // namespace

std::string InferDescriptor(std::span<const uint8_t> script, Network network)
{
    std::vector<std::vector<uint8_t>> solutions;
    const TxoutType type = Solver(script, solutions);
    std::string desc;
    if (type == TxoutType::PUBKEY && IsValidNonHybrid(solutions[0])) {
        desc = "pk(" + HexStr(solutions[0]) + ")";
    } else if (type == TxoutType::MULTISIG) {
        bool ok = true;
        std::string keys;
        for (size_t i = 1; i + 1 < solutions.size(); ++i) {
            if (!IsValidNonHybrid(solutions[i])) {
                ok = false;
                break;
            }
            keys += "," + HexStr(solutions[i]);
        }
        if (ok) desc = "multi(" + std::to_string(solutions[0][0]) + keys + ")";
    } else if (type == TxoutType::WITNESS_V1_TAPROOT && XOnlyPubKey::Parse(solutions[0])) {
        desc = "rawtr(" + HexStr(solutions[0]) + ")";
    }
    if (desc.empty()) {
        // Core's addr() needs the address to map back to this very script.
        const std::string address = EncodeAddress(script, network);
        if (!address.empty() && type != TxoutType::PUBKEY) {
            const auto back = DecodeAddress(address, network);
            if (back && std::equal(back->begin(), back->end(), script.begin(), script.end()))
                desc = "addr(" + address + ")";
        }
    }
    if (desc.empty()) desc = "raw(" + HexStr(script) + ")";
    return AddDescriptorChecksum(desc);
}

Json ScriptToJson(std::span<const uint8_t> script, Network network, bool include_hex, bool include_address)
{
    Json out = Json::object();
    out["asm"] = ScriptToAsmStr(script);
    if (include_address) out["desc"] = InferDescriptor(script, network);
    if (include_hex) out["hex"] = HexStr(script);
    std::vector<std::vector<uint8_t>> solutions;
    const TxoutType type = Solver(script, solutions);
    if (include_address && type != TxoutType::PUBKEY) {
        const std::string address = EncodeAddress(script, network);
        if (!address.empty()) out["address"] = address;
    }
    out["type"] = std::string(TxoutTypeName(type));
    return out;
}

// ---- transactions

Json TxToJson(const Transaction& tx, Network network, const uint256& block_hash, bool include_hex, const TxUndo* undo,
              TxVerbosity verbosity)
{
    Json entry = Json::object();
    entry["txid"] = tx.GetTxid().GetHex();
    entry["hash"] = tx.GetWtxid().GetHex();
    // Core 28 keeps the version unsigned.
    entry["version"] = static_cast<uint32_t>(tx.version);
    entry["size"] = GetSerializeSize(tx, true);
    entry["vsize"] = GetVirtualSize(tx);
    entry["weight"] = GetTransactionWeight(tx);
    entry["locktime"] = tx.lock_time;

    const bool have_undo = undo != nullptr && !tx.IsCoinbase() && undo->prevouts.size() == tx.vin.size();
    Amount total_in = 0, total_out = 0;
    Json vin = Json::array();
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        const TxIn& txin = tx.vin[i];
        Json in = Json::object();
        if (tx.IsCoinbase()) {
            in["coinbase"] = HexStr(txin.script_sig);
        } else {
            in["txid"] = txin.prevout.hash.GetHex();
            in["vout"] = txin.prevout.n;
            Json sig = Json::object();
            sig["asm"] = ScriptToAsmStr(txin.script_sig, true);
            sig["hex"] = HexStr(txin.script_sig);
            in["scriptSig"] = std::move(sig);
        }
        if (!txin.witness.empty()) {
            Json witness = Json::array();
            for (const auto& item : txin.witness) witness.push_back(HexStr(item));
            in["txinwitness"] = std::move(witness);
        }
        if (have_undo) {
            const Coin& coin = undo->prevouts[i];
            total_in += coin.out.value;
            if (verbosity == TxVerbosity::SHOW_DETAILS_AND_PREVOUT) {
                Json prevout = Json::object();
                prevout["generated"] = coin.coinbase;
                prevout["height"] = coin.height;
                prevout["value"] = ValueFromAmount(coin.out.value);
                prevout["scriptPubKey"] = ScriptToJson(coin.out.script_pubkey, network, true, true);
                in["prevout"] = std::move(prevout);
            }
        }
        in["sequence"] = txin.sequence;
        vin.push_back(std::move(in));
    }
    entry["vin"] = std::move(vin);

    Json vout = Json::array();
    for (size_t i = 0; i < tx.vout.size(); ++i) {
        const TxOut& txout = tx.vout[i];
        Json out = Json::object();
        out["value"] = ValueFromAmount(txout.value);
        out["n"] = i;
        out["scriptPubKey"] = ScriptToJson(txout.script_pubkey, network, true, true);
        vout.push_back(std::move(out));
        total_out += txout.value;
    }
    entry["vout"] = std::move(vout);
    if (have_undo) entry["fee"] = ValueFromAmount(total_in - total_out);
    if (!block_hash.IsNull()) entry["blockhash"] = block_hash.GetHex();
    if (include_hex) entry["hex"] = HexStr(SerializeTransaction(tx, true));
    return entry;
}

// ---- decoding

namespace {

//! Core's CheckTxScriptsSanity: scripts that parse, with known opcodes, within MAX_SCRIPT_SIZE.
bool ScriptsLookSane(const Transaction& tx)
{
    constexpr size_t MAX_SCRIPT_SIZE = 10000;
    if (!tx.IsCoinbase()) {
        for (const TxIn& in : tx.vin) {
            if (!HasValidOps(in.script_sig) || in.script_sig.size() > MAX_SCRIPT_SIZE) return false;
        }
    }
    for (const TxOut& out : tx.vout) {
        if (!HasValidOps(out.script_pubkey) || out.script_pubkey.size() > MAX_SCRIPT_SIZE) return false;
    }
    return true;
}

std::optional<Transaction> TryDecode(std::span<const uint8_t> data, bool allow_witness)
{
    try {
        return DeserializeTransaction(data, allow_witness);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

} // namespace

std::optional<Transaction> DecodeHexTx(std::string_view hex, bool try_no_witness, bool try_witness)
{
    if (hex.empty()) return std::nullopt;
    const auto data = TryParseHex(hex);
    if (!data) return std::nullopt;
    std::optional<Transaction> extended;
    if (try_witness) extended = TryDecode(*data, true);
    if (extended && ScriptsLookSane(*extended)) return extended;
    std::optional<Transaction> legacy;
    if (try_no_witness) legacy = TryDecode(*data, false);
    if (legacy && ScriptsLookSane(*legacy)) return legacy;
    if (extended) return extended;
    return legacy;
}

std::optional<Block> DecodeHexBlock(std::string_view hex)
{
    if (hex.empty()) return std::nullopt;
    const auto data = TryParseHex(hex);
    if (!data) return std::nullopt;
    try {
        SpanReader reader(*data);
        return ReadBlock(reader, true);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<BlockHeader> DecodeHexBlockHeader(std::string_view hex)
{
    if (hex.empty()) return std::nullopt;
    const auto data = TryParseHex(hex);
    if (!data || data->size() < BlockHeader::kSize) return std::nullopt;
    return DeserializeBlockHeader(std::span(*data).first(BlockHeader::kSize));
}

// ---- headers

double DifficultyOfBits(uint32_t bits)
{
    int shift = (bits >> 24) & 0xff;
    double difficulty = static_cast<double>(0x0000ffff) / static_cast<double>(bits & 0x00ffffff);
    for (; shift < 29; ++shift) difficulty *= 256.0;
    for (; shift > 29; --shift) difficulty /= 256.0;
    return difficulty;
}

Json HeaderToJson(const BlockHeader& header, const HeaderContext& context)
{
    Json out = Json::object();
    out["hash"] = header.GetHash().GetHex();
    out["confirmations"] = context.confirmations;
    out["height"] = context.height;
    out["version"] = header.version;
    out["versionHex"] = fmt::format("{:08x}", static_cast<uint32_t>(header.version));
    out["merkleroot"] = header.merkle_root.GetHex();
    out["time"] = header.time;
    out["mediantime"] = context.median_time;
    out["nonce"] = header.nonce;
    out["bits"] = fmt::format("{:08x}", header.bits);
    out["difficulty"] = DifficultyOfBits(header.bits);
    out["chainwork"] = context.chain_work;
    out["nTx"] = context.n_tx;
    if (!context.prev.IsNull()) out["previousblockhash"] = context.prev.GetHex();
    if (context.next) out["nextblockhash"] = context.next->GetHex();
    return out;
}

} // namespace orrery::node
