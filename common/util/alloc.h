// The allocator policy of a process. A library never sets it: each process
// chooses in its main (every service through InitProcess in init.h).
#ifndef ORRERY_COMMON_UTIL_ALLOC_H
#define ORRERY_COMMON_UTIL_ALLOC_H

namespace orrery {

//! Keeps blocks of up to 64 MiB on the heap instead of a fresh mmap each (glibc's
//! default above 128 KiB), and returns memory to the system only past 128 MiB of
//! free heap. Messages of a few MiB (blocks) are made and freed all the time; with
//! the defaults each one costs an mmap and a storm of page faults, and a 1 MiB IPC
//! call about twice as long. Call once, early in main, before threads start.
void KeepLargeBlocksOnHeap();

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_ALLOC_H
