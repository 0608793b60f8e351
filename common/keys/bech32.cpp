// See bech32.h. The checksum is the BCH code of BIP173; BIP350 changes only
// the constant the final polymod is compared against.
#include "common/keys/bech32.h"

#include <array>

namespace orrery::bech32 {

namespace {

constexpr std::string_view CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr uint32_t BECH32_CONST = 1;
constexpr uint32_t BECH32M_CONST = 0x2bc830a3;
constexpr size_t CHECKSUM_LENGTH = 6;
constexpr size_t MAX_HRP_LENGTH = 83;

constexpr std::array<int8_t, 128> MakeCharsetRev()
{
    std::array<int8_t, 128> rev{};
    rev.fill(-1);
    for (size_t i = 0; i < CHARSET.size(); ++i) {
        const char c = CHARSET[i];
        rev[static_cast<size_t>(c)] = static_cast<int8_t>(i);
        if (c >= 'a' && c <= 'z') rev[static_cast<size_t>(c - 'a' + 'A')] = static_cast<int8_t>(i);
    }
    return rev;
}
constexpr std::array<int8_t, 128> CHARSET_REV = MakeCharsetRev();

constexpr char ToLower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

uint32_t PolyMod(std::span<const uint8_t> values) noexcept
{
    constexpr std::array<uint32_t, 5> GEN{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t chk = 1;
    for (const uint8_t v : values) {
        const uint32_t top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (size_t i = 0; i < GEN.size(); ++i) {
            if ((top >> i) & 1) chk ^= GEN[i];
        }
    }
    return chk;
}

//! HRP expansion of BIP173: high bits of each character, a zero, low bits.
std::vector<uint8_t> ExpandHrp(std::string_view hrp)
{
    std::vector<uint8_t> out;
    out.reserve(hrp.size() * 2 + 1);
    for (const char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(c) >> 5));
    out.push_back(0);
    for (const char c : hrp) out.push_back(static_cast<uint8_t>(c & 31));
    return out;
}

uint32_t EncodingConstant(Encoding encoding) noexcept
{
    return encoding == Encoding::BECH32M ? BECH32M_CONST : BECH32_CONST;
}

} // namespace

std::string Encode(Encoding encoding, std::string_view hrp, std::span<const uint8_t> values, size_t limit)
{
    if (encoding == Encoding::INVALID || hrp.empty() || hrp.size() > MAX_HRP_LENGTH) return {};
    std::string lower_hrp;
    lower_hrp.reserve(hrp.size());
    for (const char c : hrp) {
        if (c < 33 || c > 126) return {};
        lower_hrp.push_back(ToLower(c));
    }
    for (const uint8_t v : values) {
        if (v >= 32) return {};
    }
    if (lower_hrp.size() + 1 + values.size() + CHECKSUM_LENGTH > limit) return {};

    std::vector<uint8_t> check = ExpandHrp(lower_hrp);
    check.insert(check.end(), values.begin(), values.end());
    check.insert(check.end(), CHECKSUM_LENGTH, 0);
    const uint32_t mod = PolyMod(check) ^ EncodingConstant(encoding);

    std::string out = std::move(lower_hrp);
    out.push_back('1');
    for (const uint8_t v : values) out.push_back(CHARSET[v]);
    for (size_t i = 0; i < CHECKSUM_LENGTH; ++i) out.push_back(CHARSET[(mod >> (5 * (5 - i))) & 31]);
    return out;
}

DecodeResult Decode(std::string_view str, size_t limit)
{
    bool has_lower = false;
    bool has_upper = false;
    for (const char c : str) {
        if (c < 33 || c > 126) return {};
        if (c >= 'a' && c <= 'z') has_lower = true;
        if (c >= 'A' && c <= 'Z') has_upper = true;
    }
    if (has_lower && has_upper) return {};
    if (str.size() > limit) return {};

    const size_t sep = str.rfind('1');
    if (sep == std::string_view::npos || sep == 0 || sep + 1 + CHECKSUM_LENGTH > str.size()) return {};

    std::string hrp;
    hrp.reserve(sep);
    for (size_t i = 0; i < sep; ++i) hrp.push_back(ToLower(str[i]));

    std::vector<uint8_t> values;
    values.reserve(str.size() - sep - 1);
    for (size_t i = sep + 1; i < str.size(); ++i) {
        // Every character is in 33..126 here, so the index is in range.
        const int8_t v = CHARSET_REV[static_cast<size_t>(str[i])];
        if (v < 0) return {};
        values.push_back(static_cast<uint8_t>(v));
    }

    std::vector<uint8_t> check = ExpandHrp(hrp);
    check.insert(check.end(), values.begin(), values.end());
    const uint32_t mod = PolyMod(check);
    Encoding encoding;
    if (mod == BECH32_CONST) {
        encoding = Encoding::BECH32;
    } else if (mod == BECH32M_CONST) {
        encoding = Encoding::BECH32M;
    } else {
        return {};
    }

    values.resize(values.size() - CHECKSUM_LENGTH);
    return DecodeResult{encoding, std::move(hrp), std::move(values)};
}

std::optional<std::vector<uint8_t>> ConvertBits(unsigned from_bits, unsigned to_bits, bool pad,
                                                std::span<const uint8_t> in)
{
    if (from_bits == 0 || from_bits > 8 || to_bits == 0 || to_bits > 8) return std::nullopt;
    const uint32_t max_out = (1U << to_bits) - 1;
    const uint32_t max_acc = (1U << (from_bits + to_bits - 1)) - 1;
    uint32_t acc = 0;
    unsigned bits = 0;
    std::vector<uint8_t> out;
    out.reserve(in.size() * from_bits / to_bits + 1);
    for (const uint8_t value : in) {
        if ((value >> from_bits) != 0) return std::nullopt;
        acc = ((acc << from_bits) | value) & max_acc;
        bits += from_bits;
        while (bits >= to_bits) {
            bits -= to_bits;
            out.push_back(static_cast<uint8_t>((acc >> bits) & max_out));
        }
    }
    if (pad) {
        if (bits > 0) out.push_back(static_cast<uint8_t>((acc << (to_bits - bits)) & max_out));
    } else if (bits >= from_bits || ((acc << (to_bits - bits)) & max_out) != 0) {
        return std::nullopt;
    }
    return out;
}

bool IsValidWitnessProgram(const WitnessProgram& wp) noexcept
{
    if (wp.version > 16) return false;
    if (wp.program.size() < 2 || wp.program.size() > 40) return false;
    if (wp.version == 0 && wp.program.size() != 20 && wp.program.size() != 32) return false;
    return true;
}

std::string EncodeSegwitAddress(std::string_view hrp, const WitnessProgram& wp)
{
    if (!IsValidWitnessProgram(wp)) return {};
    std::optional<std::vector<uint8_t>> values = ConvertBits(8, 5, true, wp.program);
    if (!values) return {};
    values->insert(values->begin(), static_cast<uint8_t>(wp.version));
    return Encode(wp.version == 0 ? Encoding::BECH32 : Encoding::BECH32M, hrp, *values);
}

std::optional<WitnessProgram> DecodeSegwitAddress(std::string_view hrp, std::string_view addr)
{
    DecodeResult dec = Decode(addr);
    if (dec.encoding == Encoding::INVALID || dec.data.empty() || dec.hrp != hrp) return std::nullopt;
    const unsigned version = dec.data[0];
    if (version > 16) return std::nullopt;
    if ((version == 0) != (dec.encoding == Encoding::BECH32)) return std::nullopt;
    std::optional<std::vector<uint8_t>> program =
        ConvertBits(5, 8, false, std::span<const uint8_t>(dec.data).subspan(1));
    if (!program) return std::nullopt;
    WitnessProgram wp{version, std::move(*program)};
    if (!IsValidWitnessProgram(wp)) return std::nullopt;
    return wp;
}

} // namespace orrery::bech32
