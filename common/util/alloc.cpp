// The allocator policy; see alloc.h.
#include <common/util/alloc.h>

#include <malloc.h>

namespace orrery {

void KeepLargeBlocksOnHeap()
{
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
}

} // namespace orrery
