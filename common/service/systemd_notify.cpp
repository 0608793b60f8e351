// sd_notify and the watchdog period; see systemd_notify.h.
#include <common/service/systemd_notify.h>

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace orrery {

bool NotifyServiceManager(const std::string& state)
{
    return sd_notify(/*unset_environment=*/0, state.c_str()) > 0;
}

std::optional<std::chrono::microseconds> WatchdogInterval()
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds{static_cast<int64_t>(usec / 2)};
}

} // namespace orrery
