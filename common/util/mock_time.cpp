// The mock-aware clock: one atomic per process, as Core's nMockTime.
#include <common/util/mock_time.h>

#include <atomic>
#include <chrono>

namespace orrery {

namespace {
// Process-wide on purpose: every reader of the clock must see the same mock time (Core's g_mock_time).
std::atomic<int64_t> g_mock_time{0};
} // namespace

int64_t GetTime()
{
    const int64_t mock = g_mock_time.load(std::memory_order_relaxed);
    if (mock != 0) return mock;
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t GetTimeMicros()
{
    const int64_t mock = g_mock_time.load(std::memory_order_relaxed);
    if (mock != 0) return mock * 1'000'000;
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void SetMockTime(int64_t time)
{
    g_mock_time.store(time, std::memory_order_relaxed);
}

int64_t GetMockTime()
{
    return g_mock_time.load(std::memory_order_relaxed);
}

} // namespace orrery
