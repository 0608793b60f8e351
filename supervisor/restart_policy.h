// Restart intensity of one permanent service, as an OTP supervisor has it:
// at most `intensity` restarts within `period`; past that orreryd gives up.
// Restarts are spaced by a backoff that doubles while failures keep coming.
#ifndef ORRERY_SUPERVISOR_RESTART_POLICY_H
#define ORRERY_SUPERVISOR_RESTART_POLICY_H

#include <chrono>
#include <deque>
#include <optional>

namespace orrery::supervisor {

class RestartPolicy
{
public:
    using Clock = std::chrono::steady_clock;

    //! `min_delay` is the wait before the first restart; each further restart
    //! within the period waits twice as long as the one before, up to `max_delay`.
    RestartPolicy(int intensity, std::chrono::milliseconds period,
                  std::chrono::milliseconds min_delay = std::chrono::seconds(1),
                  std::chrono::milliseconds max_delay = std::chrono::seconds(30));

    //! Records that the service failed at `now`. Returns how long to wait before
    //! restarting it, or nullopt when that restart would exceed the intensity.
    std::optional<std::chrono::milliseconds> OnFailure(Clock::time_point now);
    //! Restarts granted within the period ending at `now`.
    int RecentRestarts(Clock::time_point now) const;

    int Intensity() const { return m_intensity; }
    std::chrono::milliseconds Period() const { return m_period; }

private:
    void Expire(Clock::time_point now);

    int m_intensity;
    std::chrono::milliseconds m_period;
    std::chrono::milliseconds m_min_delay;
    std::chrono::milliseconds m_max_delay;
    std::deque<Clock::time_point> m_restarts; //!< failures that led to a restart, oldest first
};

} // namespace orrery::supervisor

#endif // ORRERY_SUPERVISOR_RESTART_POLICY_H
