// Hex encoding and decoding of byte strings (lower-case out, either case in).
#ifndef ORRERY_COMMON_CONSENSUS_HEX_H
#define ORRERY_COMMON_CONSENSUS_HEX_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

std::string HexStr(std::span<const uint8_t> bytes);
//! Decodes an even-length hex string; nullopt on any non-hex character or odd
//! length. No whitespace or "0x" prefix is accepted.
std::optional<std::vector<uint8_t>> TryParseHex(std::string_view hex);
bool IsHex(std::string_view hex);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_HEX_H
