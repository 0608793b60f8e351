// What a service tells systemd (Type=notify units, deploy/systemd/): that it is
// ready, that it is alive (the watchdog), that it is stopping. Each call is
// libsystemd's sd_notify, which does nothing when NOTIFY_SOCKET is not set, so
// the same binary runs unchanged under orreryd, by hand or in a test.
#ifndef ORRERY_COMMON_SERVICE_SYSTEMD_NOTIFY_H
#define ORRERY_COMMON_SERVICE_SYSTEMD_NOTIFY_H

#include <chrono>
#include <optional>
#include <string>

namespace orrery {

//! Sends `state` ("READY=1\nSTATUS=...") to the service manager. Returns false when no
//! manager listens (no NOTIFY_SOCKET) or the send failed; callers need not care.
bool NotifyServiceManager(const std::string& state);

//! How often this process must send WATCHDOG=1: half of the WatchdogSec= systemd set
//! for it (WATCHDOG_USEC, for this very pid when WATCHDOG_PID is set), or nullopt
//! when no watchdog is armed.
std::optional<std::chrono::microseconds> WatchdogInterval();

} // namespace orrery

#endif // ORRERY_COMMON_SERVICE_SYSTEMD_NOTIFY_H
