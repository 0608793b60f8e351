// See key_io.h.
#include "common/keys/key_io.h"

#include "common/keys/base58.h"
#include "common/keys/cleanse.h"

#include <algorithm>

namespace orrery {

namespace {

constexpr uint8_t OP_0 = 0x00;
constexpr uint8_t OP_1 = 0x51;
constexpr uint8_t OP_16 = 0x60;
constexpr uint8_t OP_DUP = 0x76;
constexpr uint8_t OP_HASH160 = 0xa9;
constexpr uint8_t OP_EQUAL = 0x87;
constexpr uint8_t OP_EQUALVERIFY = 0x88;
constexpr uint8_t OP_CHECKSIG = 0xac;
constexpr size_t HASH20_SIZE = 20;

bool IsP2PKH(std::span<const uint8_t> s)
{
    return s.size() == 25 && s[0] == OP_DUP && s[1] == OP_HASH160 && s[2] == HASH20_SIZE &&
           s[23] == OP_EQUALVERIFY && s[24] == OP_CHECKSIG;
}

bool IsP2SH(std::span<const uint8_t> s)
{
    return s.size() == 23 && s[0] == OP_HASH160 && s[1] == HASH20_SIZE && s[22] == OP_EQUAL;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithHrp(std::string_view str, std::string_view hrp)
{
    if (str.size() < hrp.size()) return false;
    for (size_t i = 0; i < hrp.size(); ++i) {
        if (ToLowerAscii(str[i]) != hrp[i]) return false;
    }
    return true;
}

} // namespace

// ---------------------------------------------------------------- scripts

std::vector<uint8_t> MakeP2PKHScript(const crypto::Hash20& key_hash)
{
    std::vector<uint8_t> s{OP_DUP, OP_HASH160, HASH20_SIZE};
    s.insert(s.end(), key_hash.begin(), key_hash.end());
    s.push_back(OP_EQUALVERIFY);
    s.push_back(OP_CHECKSIG);
    return s;
}

std::vector<uint8_t> MakeP2SHScript(const crypto::Hash20& script_hash)
{
    std::vector<uint8_t> s{OP_HASH160, HASH20_SIZE};
    s.insert(s.end(), script_hash.begin(), script_hash.end());
    s.push_back(OP_EQUAL);
    return s;
}

std::vector<uint8_t> MakeWitnessScript(const bech32::WitnessProgram& wp)
{
    std::vector<uint8_t> s;
    s.reserve(2 + wp.program.size());
    s.push_back(wp.version == 0 ? OP_0 : static_cast<uint8_t>(OP_1 + wp.version - 1));
    s.push_back(static_cast<uint8_t>(wp.program.size()));
    s.insert(s.end(), wp.program.begin(), wp.program.end());
    return s;
}

std::vector<uint8_t> MakeP2WPKHScript(const PubKey& pubkey)
{
    const crypto::Hash20 id = pubkey.Compressed().GetId();
    return MakeWitnessScript({0, std::vector<uint8_t>(id.begin(), id.end())});
}

std::vector<uint8_t> MakeP2TRScript(const XOnlyPubKey& output_key)
{
    return MakeWitnessScript({1, std::vector<uint8_t>(output_key.bytes().begin(), output_key.bytes().end())});
}

std::optional<bech32::WitnessProgram> MatchWitnessProgram(std::span<const uint8_t> script)
{
    if (script.size() < 4 || script.size() > 42) return std::nullopt;
    const uint8_t op = script[0];
    if (op != OP_0 && (op < OP_1 || op > OP_16)) return std::nullopt;
    if (static_cast<size_t>(script[1]) + 2 != script.size()) return std::nullopt;
    const unsigned version = op == OP_0 ? 0U : static_cast<unsigned>(op - OP_1 + 1);
    return bech32::WitnessProgram{version, std::vector<uint8_t>(script.begin() + 2, script.end())};
}

// ---------------------------------------------------------------- addresses

std::string EncodeAddress(std::span<const uint8_t> script_pubkey, Network network)
{
    const AddressParams& params = GetAddressParams(network);
    if (IsP2PKH(script_pubkey)) {
        std::vector<uint8_t> payload{params.pubkey_prefix};
        payload.insert(payload.end(), script_pubkey.begin() + 3, script_pubkey.begin() + 23);
        return EncodeBase58Check(payload);
    }
    if (IsP2SH(script_pubkey)) {
        std::vector<uint8_t> payload{params.script_prefix};
        payload.insert(payload.end(), script_pubkey.begin() + 2, script_pubkey.begin() + 22);
        return EncodeBase58Check(payload);
    }
    if (const std::optional<bech32::WitnessProgram> wp = MatchWitnessProgram(script_pubkey)) {
        return bech32::EncodeSegwitAddress(params.hrp, *wp); // empty for invalid v0 lengths
    }
    return {};
}

std::optional<std::vector<uint8_t>> DecodeAddress(std::string_view str, Network network)
{
    const AddressParams& params = GetAddressParams(network);
    if (StartsWithHrp(str, params.hrp)) {
        const std::optional<bech32::WitnessProgram> wp = bech32::DecodeSegwitAddress(params.hrp, str);
        if (!wp) return std::nullopt;
        return MakeWitnessScript(*wp);
    }

    const std::optional<std::vector<uint8_t>> data = DecodeBase58Check(str, 1 + HASH20_SIZE);
    if (!data || data->size() != 1 + HASH20_SIZE) return std::nullopt;
    crypto::Hash20 hash;
    std::copy(data->begin() + 1, data->end(), hash.begin());
    if ((*data)[0] == params.pubkey_prefix) return MakeP2PKHScript(hash);
    if ((*data)[0] == params.script_prefix) return MakeP2SHScript(hash);
    return std::nullopt;
}

// ---------------------------------------------------------------- WIF

std::string EncodeWif(const Key& key, Network network)
{
    if (!key.IsValid()) return {};
    SecureBytes payload;
    payload.get().reserve(1 + Key::SIZE + 1);
    payload.get().push_back(GetAddressParams(network).secret_prefix);
    payload.get().insert(payload.get().end(), key.Secret().begin(), key.Secret().end());
    if (key.IsCompressed()) payload.get().push_back(1);
    return EncodeBase58Check(payload.get());
}

std::optional<Key> DecodeWif(std::string_view str, Network network)
{
    std::optional<std::vector<uint8_t>> decoded = DecodeBase58Check(str, 1 + Key::SIZE + 1);
    if (!decoded) return std::nullopt;
    const SecureBytes data(std::move(*decoded));
    const std::vector<uint8_t>& d = data.get();
    const bool compressed = d.size() == 1 + Key::SIZE + 1 && d.back() == 1;
    if (d.size() != 1 + Key::SIZE && !compressed) return std::nullopt;
    if (d[0] != GetAddressParams(network).secret_prefix) return std::nullopt;
    return Key::FromSecret(std::span<const uint8_t>(d.data() + 1, Key::SIZE), compressed);
}

} // namespace orrery
