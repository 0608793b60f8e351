// orreryd's own state: the Supervisor interface it serves, and the loop that
// waits for signals. Starting and supervising the services builds on this.
#ifndef ORRERY_SUPERVISOR_SUPERVISOR_H
#define ORRERY_SUPERVISOR_SUPERVISOR_H

#include <common/interfaces/supervisor.h>
#include <common/util/args.h>

#include <atomic>
#include <chrono>
#include <memory>

namespace orrery::supervisor {

//! Declares orreryd's options.
void AddArgs(ArgsManager& args);

//! Runs orreryd until SIGTERM/SIGINT or Supervisor.stop: takes the datadir
//! lock, serves Supervisor on -ipcbind (default <net>/run/supervisor.sock),
//! reopens debug.log on SIGHUP. Returns the process exit code.
int Run(const ArgsManager& args);

} // namespace orrery::supervisor

#endif // ORRERY_SUPERVISOR_SUPERVISOR_H
