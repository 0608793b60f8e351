// Bech32 (BIP173) and Bech32m (BIP350) strings, and the segwit addresses
// built on them: witness version 0 uses Bech32, versions 1..16 Bech32m.
#ifndef ORRERY_COMMON_KEYS_BECH32_H
#define ORRERY_COMMON_KEYS_BECH32_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::bech32 {

enum class Encoding {
    INVALID,
    BECH32, //!< BIP173 checksum constant 1
    BECH32M, //!< BIP350 checksum constant 0x2bc830a3
};

//! Maximum length of a whole Bech32 string per BIP173.
inline constexpr size_t MAX_LENGTH = 90;

struct DecodeResult {
    Encoding encoding{Encoding::INVALID}; //!< INVALID on any failure; then the rest is empty
    std::string hrp; //!< always lower case
    std::vector<uint8_t> data; //!< 5-bit values, checksum removed
};

//! Encode `values` (each < 32) under `hrp` with the given checksum. The HRP
//! must be 1..83 characters in the range 33..126; it is lowered first.
//! Returns an empty string if an argument is out of range or the result
//! would exceed `limit` characters. The result is lower case.
std::string Encode(Encoding encoding, std::string_view hrp, std::span<const uint8_t> values,
                   size_t limit = MAX_LENGTH);

//! Decode a Bech32 or Bech32m string: every character in 33..126, no mixed
//! case, at most `limit` characters, a non-empty HRP before the last '1',
//! at least six checksum characters, all data characters in the charset.
//! The checksum decides which encoding is reported.
DecodeResult Decode(std::string_view str, size_t limit = MAX_LENGTH);

//! Regroup a bit stream from `from_bits`-bit to `to_bits`-bit values (each
//! 1..8). With `pad`, a final partial group is zero-padded; without, a final
//! partial group must be shorter than `from_bits` and all zero, otherwise the
//! conversion fails (BIP173's rule for 5-to-8 decoding).
std::optional<std::vector<uint8_t>> ConvertBits(unsigned from_bits, unsigned to_bits, bool pad,
                                                std::span<const uint8_t> in);

//! A segwit output's witness version and program.
struct WitnessProgram {
    unsigned version{0};
    std::vector<uint8_t> program;
    bool operator==(const WitnessProgram&) const = default;
};

//! Whether version and program length are those of an encodable address:
//! version 0..16, program 2..40 bytes, and 20 or 32 bytes for version 0.
bool IsValidWitnessProgram(const WitnessProgram& wp) noexcept;

//! Segwit address for `hrp`, or an empty string for an invalid program.
std::string EncodeSegwitAddress(std::string_view hrp, const WitnessProgram& wp);

//! Decode a segwit address, requiring its HRP to equal `hrp` (lower case) and
//! the checksum to match the witness version (BIP350).
std::optional<WitnessProgram> DecodeSegwitAddress(std::string_view hrp, std::string_view addr);

} // namespace orrery::bech32

#endif // ORRERY_COMMON_KEYS_BECH32_H
