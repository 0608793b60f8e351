// What the IPC layer counts of the calls on each link of a process: calls made
// and served per peer, with their latency in a fixed histogram. The counting
// is a few relaxed atomic additions per call (no lock, no allocation);
// LinkStats() reads every link of the process for orreryd's link report
// (interfaces::LinkReport, the constellation page of the web GUI).
#ifndef ORRERY_COMMON_IPC_LINK_STATS_H
#define ORRERY_COMMON_IPC_LINK_STATS_H

#include <common/ipc/serialize.h>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace orrery::ipc {

//! Latency buckets: bucket 0 holds calls under 2 µs, bucket i (0 < i < last) those of
//! [2^i, 2^(i+1)) µs, the last one every call of 2^23 µs (about 8 s) or more.
inline constexpr size_t LATENCY_BUCKETS = 24;

//! The bucket of a call that took `microseconds`.
inline size_t LatencyBucket(uint64_t microseconds)
{
    if (microseconds < 2) return 0;
    const auto bucket = static_cast<size_t>(std::bit_width(microseconds)) - 1;
    return bucket < LATENCY_BUCKETS ? bucket : LATENCY_BUCKETS - 1;
}

//! The upper bound in µs of the bucket under which a fraction `quantile` (0..1) of the calls of
//! `histogram` fall; 0 for an empty histogram. The last bucket answers its lower bound.
uint64_t LatencyQuantile(const std::vector<uint64_t>& histogram, double quantile);

//! Counts of one direction of calls on one link, as read at one moment.
struct CallFigures {
    uint64_t calls{0};               //!< completed: answered, failed, or timed out
    uint64_t errors{0};              //!< of those, the ones that ended in an error
    uint64_t total_us{0};            //!< their latencies summed
    std::vector<uint64_t> histogram; //!< LATENCY_BUCKETS counts
    ORRERY_FIELDS(calls, errors, total_us, histogram)
};

//! One link of this process with one peer that completed its hello.
struct LinkFigures {
    std::string role;      //!< this side's role
    std::string peer_role; //!< the peer's, from its hello
    int64_t peer_pid{0};
    std::string endpoint; //!< the endpoint bound (server) or connected to (client)
    bool server{false};   //!< this side bound the endpoint
    CallFigures made;     //!< calls this side made to the peer; latency: the round trip seen by the caller
    CallFigures served;   //!< calls the peer made to this side; latency: the handler's run here
    ORRERY_FIELDS(role, peer_role, peer_pid, endpoint, server, made, served)
};

//! Every link of this process with a peer that said hello, servers' and clients'. Thread-safe.
std::vector<LinkFigures> LinkStats();

//! The counters of one direction of one link. Record is lock-free and allocation-free;
//! Read may run at the same time (its figures are then a moment apart, never torn per field).
class CallCounter
{
public:
    void Record(std::chrono::steady_clock::duration elapsed, bool error)
    {
        const auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
        m_calls.fetch_add(1, std::memory_order_relaxed);
        if (error) m_errors.fetch_add(1, std::memory_order_relaxed);
        m_total_us.fetch_add(us, std::memory_order_relaxed);
        m_buckets[LatencyBucket(us)].fetch_add(1, std::memory_order_relaxed);
    }
    CallFigures Read() const;

private:
    std::atomic<uint64_t> m_calls{0};
    std::atomic<uint64_t> m_errors{0};
    std::atomic<uint64_t> m_total_us{0};
    std::array<std::atomic<uint64_t>, LATENCY_BUCKETS> m_buckets{};
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_LINK_STATS_H
