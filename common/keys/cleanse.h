// Wiping of secret material. Secrets (private keys, chain codes, WIF and
// xprv payloads) are overwritten before their memory is released, so that a
// later heap or stack disclosure does not reveal them.
#ifndef ORRERY_COMMON_KEYS_CLEANSE_H
#define ORRERY_COMMON_KEYS_CLEANSE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace orrery {

//! Overwrite `len` bytes at `ptr` with zeros. Unlike a plain memset this is
//! not removed by the optimizer when the buffer is dead afterwards: an empty
//! asm statement that claims to read the buffer and clobber memory acts as a
//! compiler barrier.
void MemoryCleanse(void* ptr, size_t len) noexcept;

//! A byte vector that wipes its contents on destruction. Used for decoded
//! payloads that held a secret (WIF, xprv) on their way into a Key.
class SecureBytes
{
public:
    SecureBytes() = default;
    explicit SecureBytes(std::vector<uint8_t> bytes) : m_bytes(std::move(bytes)) {}
    SecureBytes(const SecureBytes&) = delete;
    SecureBytes& operator=(const SecureBytes&) = delete;
    ~SecureBytes() { MemoryCleanse(m_bytes.data(), m_bytes.size()); }

    std::vector<uint8_t>& get() noexcept { return m_bytes; }
    const std::vector<uint8_t>& get() const noexcept { return m_bytes; }

private:
    std::vector<uint8_t> m_bytes;
};

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_CLEANSE_H
