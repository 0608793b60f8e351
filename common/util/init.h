// Start-up shared by every Orrery executable: options, orrery.conf, the
// network's folder and logging, with bitcoind's messages for the usual mistakes.
#ifndef ORRERY_COMMON_UTIL_INIT_H
#define ORRERY_COMMON_UTIL_INIT_H

#include <common/util/args.h>

#include <csignal>
#include <optional>
#include <string_view>

namespace orrery {

//! The exit status of a service that stopped on a condition a restart cannot fix (a full disk, a read-only
//! datadir, block or chainstate files it cannot load, a bad option value): orreryd then stops Orrery instead of
//! restarting it.
inline constexpr int EXIT_NO_RESTART = 3;
//! The exit status of a service that asks orreryd to stop Orrery cleanly (the node at -stopatheight, where bitcoind
//! exits 0).
inline constexpr int EXIT_STOP_ORRERY = 4;

//! Parses argv and the config file, handles -help/-version, applies
//! bitcoind's parameter interactions, makes <datadir>/<net>/ with its private
//! run/ folder (unless `make_dirs` is false) and starts logging tagged with
//! `role` (-shrinkdebugfile first, for a process that writes debug.log).
//! Returns an exit code when the process should stop now, nullopt to go on.
std::optional<int> InitProcess(ArgsManager& args, int argc, const char* const argv[], std::string_view role,
                               std::string_view usage, bool make_dirs = true);

//! Blocks until SIGTERM or SIGINT arrives (the caller has blocked them, and
//! SIGHUP, in every thread); a SIGHUP meanwhile reopens debug.log. Logs
//! "Shutdown requested (SIGTERM), stopping" and returns the signal.
int WaitForShutdown(const sigset_t& signals);

//! The ipc:// endpoint of a service in <datadir>/<net>/run/ (e.g. "supervisor").
std::string DefaultEndpoint(const ArgsManager& args, std::string_view service);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_INIT_H
