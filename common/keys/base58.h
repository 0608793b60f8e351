// Base58 and Base58Check, the text encodings of legacy addresses, WIF keys
// and BIP32 extended keys.
#ifndef ORRERY_COMMON_KEYS_BASE58_H
#define ORRERY_COMMON_KEYS_BASE58_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

std::string EncodeBase58(std::span<const uint8_t> data);

//! Decodes like Bitcoin Core's DecodeBase58: leading and trailing ASCII
//! whitespace (space, \t \n \v \f \r) is skipped, anything else outside the
//! alphabet (including NUL and inner whitespace) fails. Decoding stops with
//! nullopt as soon as the result would exceed `max_len` bytes, so the work
//! on hostile input is bounded by `max_len`, not by the input length.
std::optional<std::vector<uint8_t>> DecodeBase58(std::string_view str, size_t max_len);

//! Base58 of payload || first 4 bytes of SHA256d(payload).
std::string EncodeBase58Check(std::span<const uint8_t> payload);

//! Decodes and verifies the 4-byte checksum; returns the payload without it.
//! `max_payload_len` bounds the payload as `max_len` does above.
std::optional<std::vector<uint8_t>> DecodeBase58Check(std::string_view str, size_t max_payload_len);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_BASE58_H
