// Bitcoin's signed messages (bitcoind's util/message.h): the hash of a message
// behind the "Bitcoin Signed Message:\n" magic, 65-byte recoverable ECDSA
// signatures in the compact form (a header byte with the recovery id and
// compression, then r and s), and the check of a signature against a P2PKH
// address. Base64, the signatures' text form, is the caller's (common/http).
#ifndef ORRERY_COMMON_KEYS_MESSAGE_H
#define ORRERY_COMMON_KEYS_MESSAGE_H

#include <common/crypto/hash.h>
#include <common/keys/key.h>
#include <common/keys/network.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace orrery {

inline constexpr std::string_view MESSAGE_MAGIC{"Bitcoin Signed Message:\n"};
inline constexpr size_t COMPACT_SIGNATURE_SIZE{65};
using CompactSignature = std::array<uint8_t, COMPACT_SIGNATURE_SIZE>;

//! Double SHA-256 of the magic and the message, each with its CompactSize length (bitcoind's MessageHash).
crypto::Hash32 MessageHash(std::string_view message);

//! RFC6979 ECDSA signature of `hash` with its recovery id: header 27 + recid (+ 4 for a compressed key), r, s (low
//! S). nullopt when the key is invalid.
std::optional<CompactSignature> SignCompact(const Key& key, const crypto::Hash32& hash);
//! The public key that made `signature` over `hash`, compressed or not as its header says; nullopt when the bytes
//! are not 65 long or recover no key. Any bytes are accepted as input (fuzzed as message_verify).
std::optional<PubKey> RecoverCompact(const crypto::Hash32& hash, std::span<const uint8_t> signature);

//! bitcoind's MessageVerificationResult.
enum class MessageVerificationResult {
    ERR_INVALID_ADDRESS,      //!< not an address of `network`
    ERR_ADDRESS_NO_KEY,       //!< not a P2PKH address
    ERR_MALFORMED_SIGNATURE,  //!< the signature's text did not decode (the caller's base64)
    ERR_PUBKEY_NOT_RECOVERED, //!< no public key recovers from it
    ERR_NOT_SIGNED,           //!< a key recovers, but not the address's
    OK,
};

//! Checks `signature` (nullopt: its base64 did not decode) of `message` against `address`.
MessageVerificationResult MessageVerify(std::string_view address, std::optional<std::span<const uint8_t>> signature,
                                        std::string_view message, Network network);

//! The key hash of a P2PKH script (OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG), nullopt for any other.
std::optional<std::array<uint8_t, 20>> P2pkhKeyHash(std::span<const uint8_t> script);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_MESSAGE_H
