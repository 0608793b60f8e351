// Restart intensity and backoff; see restart_policy.h.
#include <supervisor/restart_policy.h>

#include <algorithm>

namespace orrery::supervisor {

RestartPolicy::RestartPolicy(int intensity, std::chrono::milliseconds period, std::chrono::milliseconds min_delay,
                             std::chrono::milliseconds max_delay)
    : m_intensity(std::max(0, intensity)), m_period(period), m_min_delay(min_delay),
      m_max_delay(std::max(min_delay, max_delay))
{
}

void RestartPolicy::Expire(Clock::time_point now)
{
    while (!m_restarts.empty() && now - m_restarts.front() >= m_period) m_restarts.pop_front();
}

std::optional<std::chrono::milliseconds> RestartPolicy::OnFailure(Clock::time_point now)
{
    Expire(now);
    if (static_cast<int>(m_restarts.size()) >= m_intensity) return std::nullopt;
    m_restarts.push_back(now);
    std::chrono::milliseconds delay = m_min_delay;
    for (size_t i = 1; i < m_restarts.size() && delay < m_max_delay; ++i) delay *= 2;
    return std::min(delay, m_max_delay);
}

int RestartPolicy::RecentRestarts(Clock::time_point now) const
{
    return static_cast<int>(std::count_if(m_restarts.begin(), m_restarts.end(),
                                          [&](Clock::time_point t) { return now - t < m_period; }));
}

} // namespace orrery::supervisor
