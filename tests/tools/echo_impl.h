// The Echo implementation used by the IPC tests, the benchmark and echo_service.
#ifndef ORRERY_TESTS_TOOLS_ECHO_IMPL_H
#define ORRERY_TESTS_TOOLS_ECHO_IMPL_H

#include <common/interfaces/echo.h>

#include <memory>

namespace orrery::test {

//! `caller_pid` answers callerPid(); tests set it from the CallContext-free path
//! by asking the server for its peers instead, so here it is just the process's own pid.
std::shared_ptr<interfaces::Echo> MakeEcho();

//! Calls of sleepThenReturn asleep in this process right now.
int SleepingCalls();
//! Ticking threads of subscribeTicks still running in this process: 0 once every subscription has ended
//! and no tick can be sent any more.
int RunningTickers();

} // namespace orrery::test

#endif // ORRERY_TESTS_TOOLS_ECHO_IMPL_H
