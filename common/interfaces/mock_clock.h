// MockClock: served by every service to orreryd, which forwards the node's
// setmocktime (Supervisor.setMockTime) so that the whole constellation
// follows one mock time, as bitcoind's single process does.
#ifndef ORRERY_COMMON_INTERFACES_MOCK_CLOCK_H
#define ORRERY_COMMON_INTERFACES_MOCK_CLOCK_H

#include <common/ipc/serialize.h>

#include <cstdint>

namespace orrery::interfaces {

class MockClock
{
public:
    virtual ~MockClock() = default;
    //! Pins the process's clock to `time` (unix seconds); 0 returns to the real clock.
    virtual void setMockTime(int64_t time) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_MOCK_CLOCK_H
