// BIP39 mnemonics with the English word list: entropy (16..32 bytes) to words
// with their SHA-256 checksum, words back to entropy (checked), and the 64-byte
// seed (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" + passphrase) that a
// BIP32 master key is made from. See doc/wallet.md, "Mnemonics".
#ifndef ORRERY_COMMON_KEYS_BIP39_H
#define ORRERY_COMMON_KEYS_BIP39_H

#include <common/keys/cleanse.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! The words of `entropy` (16, 20, 24, 28 or 32 bytes: 12..24 words), separated by one space. Empty for another size.
std::string MnemonicFromEntropy(std::span<const uint8_t> entropy);
//! The entropy of a phrase, or nullopt when a word is not in the list, the count is not 12/15/18/21/24 or the
//! checksum does not match. Words are separated by runs of spaces; lower case only, as the list.
std::optional<SecureBytes> MnemonicToEntropy(std::string_view phrase);
//! BIP39's seed of `phrase` (normalized to single spaces) and `passphrase`. Both are used as UTF-8 bytes: BIP39's
//! NFKD normalization changes nothing for the English words and for ASCII passphrases, the only ones this accepts.
//! nullopt for a passphrase with a non-ASCII byte.
std::optional<SecureBytes> MnemonicToSeed(std::string_view phrase, std::string_view passphrase = {});

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_BIP39_H
