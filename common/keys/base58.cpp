// See base58.h. Both directions are schoolbook base conversions on a
// little-endian digit vector; inputs are short (addresses, keys), so the
// quadratic cost does not matter, and decoding is bounded by max_len.
#include "common/keys/base58.h"

#include "common/crypto/hash.h"
#include "common/keys/cleanse.h"

#include <algorithm>
#include <array>
#include <limits>

namespace orrery {

namespace {

constexpr std::string_view ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

//! Digit value of each byte, or -1 for bytes outside the alphabet.
constexpr std::array<int8_t, 256> MakeDigitTable()
{
    std::array<int8_t, 256> table{};
    table.fill(-1);
    for (size_t i = 0; i < ALPHABET.size(); ++i) {
        table[static_cast<uint8_t>(ALPHABET[i])] = static_cast<int8_t>(i);
    }
    return table;
}
constexpr std::array<int8_t, 256> DIGITS = MakeDigitTable();

//! The whitespace set of C's isspace() in the "C" locale, as Core uses.
constexpr bool IsSpace(char c) noexcept
{
    return c == ' ' || c == '\f' || c == '\n' || c == '\r' || c == '\t' || c == '\v';
}

constexpr size_t CHECKSUM_SIZE = 4;

} // namespace

std::string EncodeBase58(std::span<const uint8_t> data)
{
    size_t zeroes = 0;
    while (zeroes < data.size() && data[zeroes] == 0) ++zeroes;

    // Base-58 digits of the remaining big-endian number, least significant first.
    std::vector<uint8_t> digits;
    digits.reserve((data.size() - zeroes) * 138 / 100 + 1); // log(256)/log(58)
    for (size_t i = zeroes; i < data.size(); ++i) {
        unsigned carry = data[i];
        for (uint8_t& digit : digits) {
            carry += static_cast<unsigned>(digit) << 8;
            digit = static_cast<uint8_t>(carry % 58);
            carry /= 58;
        }
        while (carry != 0) {
            digits.push_back(static_cast<uint8_t>(carry % 58));
            carry /= 58;
        }
    }

    std::string out(zeroes, '1');
    out.reserve(zeroes + digits.size());
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(ALPHABET[*it]);
    // The payload may be a secret (WIF, xprv): leave no copy behind.
    MemoryCleanse(digits.data(), digits.size());
    return out;
}

std::optional<std::vector<uint8_t>> DecodeBase58(std::string_view str, size_t max_len)
{
    size_t pos = 0;
    while (pos < str.size() && IsSpace(str[pos])) ++pos;

    size_t zeroes = 0;
    while (pos < str.size() && str[pos] == '1') {
        if (++zeroes > max_len) return std::nullopt;
        ++pos;
    }

    // The number after the leading '1's, as little-endian base-256 bytes.
    // Reserved up front (each character yields less than a byte) so that no
    // reallocation leaves an unwiped copy of a secret on the heap.
    std::vector<uint8_t> bytes;
    bytes.reserve(std::min(max_len, str.size()));
    struct Wipe {
        std::vector<uint8_t>& v;
        ~Wipe() { MemoryCleanse(v.data(), v.size()); }
    } wipe{bytes};
    while (pos < str.size() && !IsSpace(str[pos])) {
        int digit = DIGITS[static_cast<uint8_t>(str[pos])];
        if (digit < 0) return std::nullopt;
        unsigned carry = static_cast<unsigned>(digit);
        for (uint8_t& byte : bytes) {
            carry += 58U * byte;
            byte = static_cast<uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        while (carry != 0) {
            bytes.push_back(static_cast<uint8_t>(carry & 0xff));
            carry >>= 8;
        }
        if (zeroes + bytes.size() > max_len) return std::nullopt;
        ++pos;
    }

    while (pos < str.size() && IsSpace(str[pos])) ++pos;
    if (pos != str.size()) return std::nullopt;

    std::vector<uint8_t> out;
    out.reserve(zeroes + bytes.size());
    out.resize(zeroes, 0);
    out.insert(out.end(), bytes.rbegin(), bytes.rend());
    return out;
}

std::string EncodeBase58Check(std::span<const uint8_t> payload)
{
    std::vector<uint8_t> data;
    data.reserve(payload.size() + CHECKSUM_SIZE);
    data.assign(payload.begin(), payload.end());
    const crypto::Hash32 hash = crypto::Sha256d(payload);
    data.insert(data.end(), hash.begin(), hash.begin() + CHECKSUM_SIZE);
    std::string out = EncodeBase58(data);
    MemoryCleanse(data.data(), data.size());
    return out;
}

std::optional<std::vector<uint8_t>> DecodeBase58Check(std::string_view str, size_t max_payload_len)
{
    const size_t max_len = max_payload_len > std::numeric_limits<size_t>::max() - CHECKSUM_SIZE
                               ? std::numeric_limits<size_t>::max()
                               : max_payload_len + CHECKSUM_SIZE;
    std::optional<std::vector<uint8_t>> data = DecodeBase58(str, max_len);
    if (!data || data->size() < CHECKSUM_SIZE) return std::nullopt;

    const size_t payload_len = data->size() - CHECKSUM_SIZE;
    const std::span<const uint8_t> payload(data->data(), payload_len);
    const crypto::Hash32 hash = crypto::Sha256d(payload);
    if (!std::equal(hash.begin(), hash.begin() + CHECKSUM_SIZE, data->begin() + static_cast<std::ptrdiff_t>(payload_len))) {
        MemoryCleanse(data->data(), data->size());
        return std::nullopt;
    }
    data->resize(payload_len);
    return data;
}

} // namespace orrery
