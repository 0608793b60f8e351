// See cleanse.h.
#include "common/keys/cleanse.h"

#include <cstring>

namespace orrery {

void MemoryCleanse(void* ptr, size_t len) noexcept
{
    if (ptr == nullptr || len == 0) return;
    std::memset(ptr, 0, len);
    // The barrier makes the compiler assume the zeroed bytes are observed, so
    // the memset above cannot be elided as a dead store.
    __asm__ __volatile__("" : : "r"(ptr) : "memory");
}

} // namespace orrery
