// The process's clock in unix seconds, with Bitcoin Core's mock time: tests
// (setmocktime, -mocktime) pin it so that block times, templates and
// timeouts that read it are reproducible. Every process of the constellation
// holds its own copy; orreryd forwards setmocktime to each of them.
#ifndef ORRERY_COMMON_UTIL_MOCK_TIME_H
#define ORRERY_COMMON_UTIL_MOCK_TIME_H

#include <cstdint>

namespace orrery {

//! The mock time when set, else the system clock. Thread-safe.
int64_t GetTime();
//! GetTime() in microseconds: the mock time (whole seconds) when set, else the system clock. Thread-safe.
int64_t GetTimeMicros();
//! Pins GetTime() to `time`; 0 returns to the system clock. Thread-safe.
void SetMockTime(int64_t time);
//! The pinned time, or 0.
int64_t GetMockTime();

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_MOCK_TIME_H
