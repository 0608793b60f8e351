// orreryd: starts the services in order, restarts them by policy, owns the
// P2P listening sockets and spawns one p2p-agent per connection, gathers every
// child's output into debug.log, and serves the Supervisor interface.
// Design and options: doc/supervisor.md.
#ifndef ORRERY_SUPERVISOR_SUPERVISOR_H
#define ORRERY_SUPERVISOR_SUPERVISOR_H

#include <common/util/args.h>

#include <string>
#include <vector>

namespace orrery::supervisor {

//! Declares orreryd's options, including those it passes on to the services.
void AddArgs(ArgsManager& args);

//! Runs orreryd until SIGTERM/SIGINT, Supervisor.stop, or a service failing
//! past its restart intensity: takes the datadir lock, serves Supervisor on
//! -ipcbind (default <net>/run/supervisor.sock), starts node, wallet and
//! gui-bridge, listens for peers. Must be called on the main thread, which
//! forks every child (a child's parent-death signal follows the forking
//! thread). `command_line` is argv without argv[0]: the options given there
//! are passed on to the services that understand them. Returns the exit code.
int Run(const ArgsManager& args, const std::vector<std::string>& command_line);

} // namespace orrery::supervisor

#endif // ORRERY_SUPERVISOR_SUPERVISOR_H
