// fork+exec and /proc readers; see spawn.h.
#include <supervisor/spawn.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace orrery::supervisor {
namespace {

//! Closes an fd when it goes out of scope.
struct FdGuard {
    int fd{-1};
    ~FdGuard()
    {
        if (fd >= 0) ::close(fd);
    }
};

//! Reports errno to the parent through the exec-error pipe and ends the child.
[[noreturn]] void FailChild(int error_fd)
{
    int error = errno;
    (void)!::write(error_fd, &error, sizeof(error));
    ::_exit(127);
}

//! The child between fork and exec. Only async-signal-safe calls: the parent
//! has other threads, whose locks (malloc's among them) may be held forever here.
[[noreturn]] void RunChild(const char* binary, char* const* argv, const int* sources, int source_count, int error_fd,
                           pid_t parent, int death_signal, int max_fd)
{
    auto fail = [&error_fd]() { FailChild(error_fd); };
    // Own process group: a terminal's Ctrl-C reaches orreryd alone, which stops children in order.
    if (::setpgid(0, 0) != 0) fail();
    if (::prctl(PR_SET_PDEATHSIG, death_signal) != 0) fail();
    if (::getppid() != parent) ::_exit(127); // orreryd died before the prctl took effect
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) {
        if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &action, nullptr);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr); // orreryd blocks the signals it reads through signalfd
    // Move every source above the targets first, so that no dup2 overwrites a source not yet placed.
    int targets = source_count + 1; // 0..source_count-1, then the error pipe
    int high[64];
    for (int i = 0; i < source_count; ++i) {
        high[i] = ::fcntl(sources[i], F_DUPFD, targets);
        if (high[i] < 0) fail();
    }
    int error_target = ::fcntl(error_fd, F_DUPFD_CLOEXEC, targets);
    if (error_target < 0) fail();
    error_fd = error_target;
    for (int i = 0; i < source_count; ++i) {
        if (::dup2(high[i], i) < 0) fail();
    }
    if (::dup2(error_fd, source_count) < 0) fail();
    error_fd = source_count;
    if (::fcntl(error_fd, F_SETFD, FD_CLOEXEC) != 0) fail();
    if (::close_range(static_cast<unsigned>(source_count + 1), ~0U, 0) != 0) {
        for (int fd = source_count + 1; fd < max_fd; ++fd) ::close(fd);
    }
    ::execv(binary, argv);
    FailChild(error_fd);
}

} // namespace

Spawned Spawn(const SpawnRequest& request)
{
    if (request.inherit_fds.size() > 32) throw std::runtime_error("too many inherited fds");
    // Everything the child needs is prepared here: after fork it may not allocate.
    std::string binary = request.binary.string();
    std::vector<char*> argv;
    for (const std::string& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    FdGuard null_fd{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    if (null_fd.fd < 0) throw std::runtime_error(fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
    int output[2];
    if (::pipe2(output, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    FdGuard output_read{output[0]}, output_write{output[1]};
    int error_pipe[2];
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    FdGuard error_read{error_pipe[0]}, error_write{error_pipe[1]};

    std::vector<int> sources{null_fd.fd, output_write.fd, output_write.fd};
    sources.insert(sources.end(), request.inherit_fds.begin(), request.inherit_fds.end());
    rlimit limit{};
    int max_fd = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                     ? static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20))
                     : 65536;
    pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("cannot start {}: fork: {}", binary, std::strerror(errno)));
    if (pid == 0) {
        RunChild(binary.c_str(), argv.data(), sources.data(), static_cast<int>(sources.size()), error_write.fd,
                 parent, request.death_signal, max_fd);
    }
    ::setpgid(pid, pid); // also here, so that the group exists whichever side runs first
    ::close(error_write.fd);
    error_write.fd = -1;
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(error_read.fd, &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    if (n > 0) { // exec did not happen: the child wrote errno and exits
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        throw std::runtime_error(fmt::format("cannot start {}: {}", binary, std::strerror(child_errno)));
    }
    ::fcntl(output_read.fd, F_SETFL, O_NONBLOCK);
    Spawned spawned{pid, output_read.fd};
    output_read.fd = -1;
    return spawned;
}

std::string DescribeExit(int wait_status)
{
    if (WIFEXITED(wait_status)) return fmt::format("exited with status {}", WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status)) {
        int signal = WTERMSIG(wait_status);
        const char* name = ::sigabbrev_np(signal);
        return fmt::format("killed by signal {} ({}){}", signal, name ? name : "?",
                           WCOREDUMP(wait_status) ? ", core dumped" : "");
    }
    return fmt::format("stopped with wait status {:#x}", wait_status);
}

std::optional<std::filesystem::path> FindServiceBinary(std::string_view name, const std::string& override_path,
                                                       std::string* searched)
{
    std::vector<std::filesystem::path> candidates;
    if (!override_path.empty()) {
        candidates.emplace_back(override_path);
    } else {
        std::error_code error;
        std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
        std::filesystem::path dir = self.parent_path();
        std::string file = "orrery-" + std::string(name);
        candidates.push_back(dir / file);                                      // installed: one bin/ folder
        candidates.push_back(dir.parent_path() / "services" / name / file);   // build tree
    }
    std::string tried;
    for (const auto& candidate : candidates) {
        if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
        tried += (tried.empty() ? "" : ", ") + candidate.string();
    }
    if (searched) *searched = tried;
    return std::nullopt;
}

ProcStats ReadProcStats(pid_t pid)
{
    ProcStats stats;
    std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // The command name is in parentheses and may hold spaces: fields are counted after the last ')'.
    size_t close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 2));
        std::string field;
        uint64_t utime = 0, stime = 0;
        for (int index = 3; fields >> field; ++index) { // field 3 is the state
            if (index == 14) utime = std::stoull(field);
            if (index == 15) {
                stime = std::stoull(field);
                break;
            }
        }
        stats.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    std::ifstream statm(fmt::format("/proc/{}/statm", pid));
    int64_t size = 0, resident = 0;
    if (statm >> size >> resident) stats.rss_bytes = resident * ::sysconf(_SC_PAGESIZE);
    return stats;
}

} // namespace orrery::supervisor
