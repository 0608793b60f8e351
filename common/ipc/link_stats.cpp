// Reading the call counters of links; see link_stats.h. LinkStats() itself is
// in link.cpp, beside the links it walks.
#include <common/ipc/link_stats.h>

#include <algorithm>
#include <cmath>

namespace orrery::ipc {

uint64_t LatencyQuantile(const std::vector<uint64_t>& histogram, double quantile)
{
    uint64_t total = 0;
    for (uint64_t count : histogram) total += count;
    if (total == 0) return 0;
    const double wanted = std::ceil(std::clamp(quantile, 0.0, 1.0) * static_cast<double>(total));
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
    uint64_t seen = 0;
    for (size_t i = 0; i < histogram.size(); ++i) {
        seen += histogram[i];
        if (seen < rank) continue;
        if (i + 1 >= LATENCY_BUCKETS) return uint64_t{1} << (LATENCY_BUCKETS - 1);
        return uint64_t{1} << (i + 1);
    }
    return uint64_t{1} << (LATENCY_BUCKETS - 1);
}

CallFigures CallCounter::Read() const
{
    CallFigures figures;
    figures.calls = m_calls.load(std::memory_order_relaxed);
    figures.errors = m_errors.load(std::memory_order_relaxed);
    figures.total_us = m_total_us.load(std::memory_order_relaxed);
    figures.histogram.reserve(LATENCY_BUCKETS);
    for (const auto& bucket : m_buckets) figures.histogram.push_back(bucket.load(std::memory_order_relaxed));
    return figures;
}

} // namespace orrery::ipc
