// Core's Solver: matching a scriptPubKey against the standard templates.
#include <common/script/solver.h>

#include <common/consensus/script.h>
#include <common/script/opcodes.h>

#include <optional>

namespace orrery {

std::string_view TxoutTypeName(TxoutType type)
{
    switch (type) {
    case TxoutType::NONSTANDARD:
        return "nonstandard";
    case TxoutType::PUBKEY:
        return "pubkey";
    case TxoutType::PUBKEYHASH:
        return "pubkeyhash";
    case TxoutType::SCRIPTHASH:
        return "scripthash";
    case TxoutType::MULTISIG:
        return "multisig";
    case TxoutType::NULL_DATA:
        return "nulldata";
    case TxoutType::ANCHOR:
        return "anchor";
    case TxoutType::WITNESS_V0_KEYHASH:
        return "witness_v0_keyhash";
    case TxoutType::WITNESS_V0_SCRIPTHASH:
        return "witness_v0_scripthash";
    case TxoutType::WITNESS_V1_TAPROOT:
        return "witness_v1_taproot";
    case TxoutType::WITNESS_UNKNOWN:
        return "witness_unknown";
    }
    return "nonstandard";
}

bool PubKeyHasValidSize(std::span<const uint8_t> key)
{
    if (key.empty()) return false;
    const uint8_t header = key[0];
    if (header == 2 || header == 3) return key.size() == 33;
    if (header == 4 || header == 6 || header == 7) return key.size() == 65;
    return false;
}

bool HasValidOps(std::span<const uint8_t> script)
{
    size_t pos = 0;
    while (pos < script.size()) {
        Opcode opcode;
        std::span<const uint8_t> data;
        if (!GetScriptOp(script, pos, opcode, data) || opcode > MAX_OPCODE || data.size() > 520) return false;
    }
    return true;
}

namespace {

bool IsSmallInteger(Opcode opcode)
{
    return opcode >= OP_1 && opcode <= OP_16;
}

//! Core's CheckMinimalPush.
bool IsMinimalPush(std::span<const uint8_t> data, Opcode opcode)
{
    if (data.empty()) return opcode == OP_0;
    if (data.size() == 1 && data[0] >= 1 && data[0] <= 16) return false;
    if (data.size() == 1 && data[0] == 0x81) return false;
    if (data.size() <= 75) return opcode == data.size();
    if (data.size() <= 255) return opcode == OP_PUSHDATA1;
    if (data.size() <= 65535) return opcode == OP_PUSHDATA2;
    return true;
}

//! Core's GetScriptNumber for multisig counts: OP_1..OP_16, or a minimal push of a minimally encoded number.
std::optional<int> ScriptNumber(Opcode opcode, std::span<const uint8_t> data, int min, int max)
{
    int count;
    if (IsSmallInteger(opcode)) {
        count = DecodeOpN(opcode);
    } else if (opcode <= OP_PUSHDATA4) {
        if (!IsMinimalPush(data, opcode)) return std::nullopt;
        // CScriptNum with minimal encoding, at most 4 bytes.
        if (data.size() > 4) return std::nullopt;
        if (!data.empty() && (data.back() & 0x7f) == 0 && (data.size() <= 1 || (data[data.size() - 2] & 0x80) == 0)) {
            return std::nullopt;
        }
        int64_t value = 0;
        for (size_t i = 0; i < data.size(); ++i) value |= int64_t{data[i]} << (8 * i);
        if (!data.empty() && (data.back() & 0x80)) value = -(value & ~(int64_t{0x80} << (8 * (data.size() - 1))));
        if (value < min || value > max) return std::nullopt;
        return static_cast<int>(value);
    } else {
        return std::nullopt;
    }
    if (count < min || count > max) return std::nullopt;
    return count;
}

bool MatchPayToPubkey(std::span<const uint8_t> script, std::vector<uint8_t>& key)
{
    for (size_t size : {size_t{65}, size_t{33}}) {
        if (script.size() == size + 2 && script[0] == size && script.back() == OP_CHECKSIG) {
            key.assign(script.begin() + 1, script.begin() + 1 + size);
            return PubKeyHasValidSize(key);
        }
    }
    return false;
}

bool MatchPayToPubkeyHash(std::span<const uint8_t> script, std::vector<uint8_t>& hash)
{
    if (script.size() == 25 && script[0] == OP_DUP && script[1] == OP_HASH160 && script[2] == 20 &&
        script[23] == OP_EQUALVERIFY && script[24] == OP_CHECKSIG) {
        hash.assign(script.begin() + 3, script.begin() + 23);
        return true;
    }
    return false;
}

bool MatchMultisig(std::span<const uint8_t> script, int& required, std::vector<std::vector<uint8_t>>& keys)
{
    if (script.empty() || script.back() != OP_CHECKMULTISIG) return false;
    size_t pos = 0;
    Opcode opcode;
    std::vector<uint8_t> data;
    if (!GetScriptOp(script, pos, opcode, data)) return false;
    auto req = ScriptNumber(opcode, data, 1, MAX_PUBKEYS_PER_MULTISIG);
    if (!req) return false;
    required = *req;
    while (GetScriptOp(script, pos, opcode, data) && PubKeyHasValidSize(data)) keys.push_back(data);
    auto count = ScriptNumber(opcode, data, required, MAX_PUBKEYS_PER_MULTISIG);
    if (!count) return false;
    if (keys.size() != static_cast<size_t>(*count)) return false;
    return pos + 1 == script.size();
}

} // namespace

TxoutType Solver(std::span<const uint8_t> script, std::vector<std::vector<uint8_t>>& solutions)
{
    solutions.clear();
    if (script.size() == 23 && script[0] == OP_HASH160 && script[1] == 20 && script[22] == OP_EQUAL) {
        solutions.emplace_back(script.begin() + 2, script.begin() + 22);
        return TxoutType::SCRIPTHASH;
    }
    // BIP141 witness program: a version opcode and one push of 2..40 bytes, nothing else.
    if (script.size() >= 4 && script.size() <= 42 && (script[0] == OP_0 || (script[0] >= OP_1 && script[0] <= OP_16)) &&
        static_cast<size_t>(script[1]) + 2 == script.size()) {
        const int version = script[0] == OP_0 ? 0 : script[0] - OP_1 + 1;
        std::vector<uint8_t> program(script.begin() + 2, script.end());
        if (version == 0 && program.size() == 20) {
            solutions.push_back(std::move(program));
            return TxoutType::WITNESS_V0_KEYHASH;
        }
        if (version == 0 && program.size() == 32) {
            solutions.push_back(std::move(program));
            return TxoutType::WITNESS_V0_SCRIPTHASH;
        }
        if (version == 1 && program.size() == 32) {
            solutions.push_back(std::move(program));
            return TxoutType::WITNESS_V1_TAPROOT;
        }
        if (version == 1 && program == std::vector<uint8_t>{0x4e, 0x73}) return TxoutType::ANCHOR;
        if (version != 0) {
            solutions.push_back({static_cast<uint8_t>(version)});
            solutions.push_back(std::move(program));
            return TxoutType::WITNESS_UNKNOWN;
        }
        return TxoutType::NONSTANDARD;
    }
    if (!script.empty() && script[0] == OP_RETURN && IsPushOnly(script.subspan(1))) return TxoutType::NULL_DATA;

    std::vector<uint8_t> data;
    if (MatchPayToPubkey(script, data)) {
        solutions.push_back(std::move(data));
        return TxoutType::PUBKEY;
    }
    if (MatchPayToPubkeyHash(script, data)) {
        solutions.push_back(std::move(data));
        return TxoutType::PUBKEYHASH;
    }
    int required = 0;
    std::vector<std::vector<uint8_t>> keys;
    if (MatchMultisig(script, required, keys)) {
        solutions.push_back({static_cast<uint8_t>(required)});
        solutions.insert(solutions.end(), keys.begin(), keys.end());
        solutions.push_back({static_cast<uint8_t>(keys.size())});
        return TxoutType::MULTISIG;
    }
    solutions.clear();
    return TxoutType::NONSTANDARD;
}

} // namespace orrery
