// BIP39 mnemonics; see bip39.h.
#include <common/keys/bip39.h>

#include <common/crypto/hash.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace orrery {
namespace {

constexpr std::array<std::string_view, 2048> WORDS{
#include <common/keys/bip39_english.inc>
};

std::vector<std::string_view> SplitWords(std::string_view phrase)
{
    std::vector<std::string_view> words;
    size_t pos = 0;
    while (pos < phrase.size()) {
        while (pos < phrase.size() && phrase[pos] == ' ') ++pos;
        size_t end = phrase.find(' ', pos);
        if (end == std::string_view::npos) end = phrase.size();
        if (end > pos) words.push_back(phrase.substr(pos, end - pos));
        pos = end;
    }
    return words;
}

std::optional<size_t> WordIndex(std::string_view word)
{
    // The list is sorted: a binary search.
    auto it = std::lower_bound(WORDS.begin(), WORDS.end(), word);
    if (it == WORDS.end() || *it != word) return std::nullopt;
    return static_cast<size_t>(it - WORDS.begin());
}

bool Bit(std::span<const uint8_t> bytes, size_t i)
{
    return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

} // namespace

std::string MnemonicFromEntropy(std::span<const uint8_t> entropy)
{
    if (entropy.size() < 16 || entropy.size() > 32 || entropy.size() % 4 != 0) return {};
    const crypto::Hash32 checksum = crypto::Sha256(entropy);
    const size_t total_bits = entropy.size() * 8 + entropy.size() / 4;
    std::string out;
    for (size_t word = 0; word < total_bits / 11; ++word) {
        size_t index = 0;
        for (size_t bit = word * 11; bit < word * 11 + 11; ++bit) {
            const bool set = bit < entropy.size() * 8 ? Bit(entropy, bit) : Bit(checksum, bit - entropy.size() * 8);
            index = index << 1 | (set ? 1 : 0);
        }
        if (!out.empty()) out += ' ';
        out += WORDS[index];
    }
    return out;
}

std::optional<SecureBytes> MnemonicToEntropy(std::string_view phrase)
{
    const std::vector<std::string_view> words = SplitWords(phrase);
    if (words.size() < 12 || words.size() > 24 || words.size() % 3 != 0) return std::nullopt;
    const size_t total_bits = words.size() * 11;
    const size_t entropy_bits = total_bits * 32 / 33;
    SecureBytes bits;
    bits.get().assign((total_bits + 7) / 8, 0);
    for (size_t w = 0; w < words.size(); ++w) {
        std::optional<size_t> index = WordIndex(words[w]);
        if (!index) return std::nullopt;
        for (size_t b = 0; b < 11; ++b) {
            if ((*index >> (10 - b)) & 1)
                bits.get()[(w * 11 + b) / 8] |= static_cast<uint8_t>(0x80 >> ((w * 11 + b) % 8));
        }
    }
    SecureBytes entropy;
    entropy.get().assign(bits.get().begin(), bits.get().begin() + static_cast<std::ptrdiff_t>(entropy_bits / 8));
    const crypto::Hash32 checksum = crypto::Sha256(entropy.get());
    for (size_t i = 0; i < total_bits - entropy_bits; ++i) {
        if (Bit(bits.get(), entropy_bits + i) != Bit(checksum, i)) return std::nullopt;
    }
    return std::optional<SecureBytes>(std::in_place, std::move(entropy.get()));
}

std::optional<SecureBytes> MnemonicToSeed(std::string_view phrase, std::string_view passphrase)
{
    if (std::any_of(passphrase.begin(), passphrase.end(), [](char c) { return static_cast<uint8_t>(c) >= 0x80; })) {
        return std::nullopt;
    }
    std::string normalized;
    for (std::string_view word : SplitWords(phrase)) {
        if (!normalized.empty()) normalized += ' ';
        normalized += word;
    }
    std::string salt = "mnemonic";
    salt += passphrase;
    const std::span<const uint8_t> password(reinterpret_cast<const uint8_t*>(normalized.data()), normalized.size());
    // PBKDF2-HMAC-SHA512 with one 64-byte block: U1 = HMAC(P, S || INT(1)), Ui = HMAC(P, Ui-1), T = xor of all.
    std::vector<uint8_t> first(salt.begin(), salt.end());
    first.insert(first.end(), {0, 0, 0, 1});
    std::array<uint8_t, 64> u = crypto::HmacSha512(password, first);
    SecureBytes seed(std::vector<uint8_t>(u.begin(), u.end()));
    for (int round = 1; round < 2048; ++round) {
        u = crypto::HmacSha512(password, u);
        for (size_t i = 0; i < u.size(); ++i) seed.get()[i] ^= u[i];
    }
    MemoryCleanse(u.data(), u.size());
    MemoryCleanse(first.data(), first.size());
    MemoryCleanse(normalized.data(), normalized.size());
    MemoryCleanse(salt.data(), salt.size());
    return std::optional<SecureBytes>(std::in_place, std::move(seed.get()));
}

} // namespace orrery
