// Starting and inspecting child processes: fork+exec with only the fds the
// child needs, its own process group and PR_SET_PDEATHSIG, exec failures
// reported through a close-on-exec pipe; where service binaries live; what
// /proc says about a running child.
#ifndef ORRERY_SUPERVISOR_SPAWN_H
#define ORRERY_SUPERVISOR_SPAWN_H

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace orrery::supervisor {

struct SpawnRequest {
    std::filesystem::path binary;
    std::vector<std::string> argv;  //!< argv[0] included
    std::vector<int> inherit_fds;   //!< become fds 3, 4, ... in the child; the caller keeps its copies
    int death_signal{9};            //!< PR_SET_PDEATHSIG: sent to the child when orreryd's thread dies
};

struct Spawned {
    pid_t pid{-1};
    int output_fd{-1}; //!< read end of the child's stdout+stderr pipe: non-blocking, close-on-exec, owned by the caller
};

//! Starts a child: stdin /dev/null, stdout and stderr into a new pipe, the
//! inherited fds, nothing else; its own process group; the parent-death
//! signal set (call only from a thread that lives as long as orreryd: Linux
//! sends that signal when the forking *thread* exits). Between fork and exec
//! only async-signal-safe calls are made. Throws std::runtime_error naming the
//! binary and the reason when fork or exec fails (the child is reaped then).
Spawned Spawn(const SpawnRequest& request);

//! "exited with status 1", "killed by signal 9 (KILL)".
std::string DescribeExit(int wait_status);

//! Where orrery-<name> is: `override_path` when given, else beside orreryd
//! (installed) or in <builddir>/services/<name>/ (build tree). On failure
//! returns nullopt and puts the places searched into *searched.
std::optional<std::filesystem::path> FindServiceBinary(std::string_view name, const std::string& override_path,
                                                       std::string* searched);

struct ProcStats {
    int64_t rss_bytes{0};
    double cpu_seconds{0};
};
//! Reads /proc/<pid>/stat (user+system CPU) and /proc/<pid>/statm (resident pages).
//! Zeros when the process is gone.
ProcStats ReadProcStats(pid_t pid);

} // namespace orrery::supervisor

#endif // ORRERY_SUPERVISOR_SPAWN_H
