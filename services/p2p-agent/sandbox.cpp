// The p2p-agent's sandbox; see sandbox.h and doc/p2p-agent.md for the list of
// system calls and why each one is there.
#include <services/p2p-agent/sandbox.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace orrery::p2p_agent {
namespace {

// Filesystem rights of later Landlock ABIs than the installed header may know.
constexpr uint64_t LANDLOCK_FS_ABI1 = (1ULL << 13) - 1; // EXECUTE .. MAKE_SYM
constexpr uint64_t LANDLOCK_FS_REFER = 1ULL << 13;      // ABI 2
constexpr uint64_t LANDLOCK_FS_TRUNCATE = 1ULL << 14;   // ABI 3
constexpr uint64_t LANDLOCK_FS_IOCTL_DEV = 1ULL << 15;  // ABI 5

//! Descriptors that will exist for the rest of the agent's life, plus room for
//! the few the IPC layer may still make (a ZeroMQ mailbox for a new pipe).
constexpr rlim_t FD_MARGIN = 16;

void SetLimit(int resource, rlim_t value, const char* name, SandboxReport& report)
{
    rlimit limit{value, value};
    if (::setrlimit(resource, &limit) == 0) {
        report.active.push_back(std::string(name) + "=" + std::to_string(value));
    } else {
        report.skipped.push_back(std::string(name) + ": " + std::strerror(errno));
    }
}

void ApplyLimits(SandboxReport& report)
{
    int highest = 2;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        try {
            highest = std::max(highest, std::stoi(entry.path().filename().string()));
        } catch (const std::exception&) {
        }
    }
    SetLimit(RLIMIT_NOFILE, rlim_t(highest) + 1 + FD_MARGIN, "RLIMIT_NOFILE", report);
    // A file size limit of 0 would kill the agent on its first log line if
    // stderr were redirected to a file by hand; everything else may be 0.
    struct stat err_stat {
    };
    if (::fstat(STDERR_FILENO, &err_stat) == 0 && S_ISREG(err_stat.st_mode)) {
        report.skipped.push_back("RLIMIT_FSIZE: stderr is a regular file");
    } else {
        SetLimit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE", report);
    }
    SetLimit(RLIMIT_CORE, 0, "RLIMIT_CORE", report);
    // RLIMIT_NPROC counts every process of the user, threads included: at 0 the
    // IPC layer could not start a thread. Seccomp allows clone for threads only.
    report.skipped.push_back("RLIMIT_NPROC: it would stop thread creation; seccomp allows threads only");
}

void ApplyLandlock(SandboxReport& report)
{
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        report.skipped.push_back(std::string("Landlock: ") + (errno == ENOSYS || errno == EOPNOTSUPP
                                                                  ? "not supported by this kernel"
                                                                  : std::strerror(errno)));
        return;
    }
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = LANDLOCK_FS_ABI1;
    if (abi >= 2) attr.handled_access_fs |= LANDLOCK_FS_REFER;
    if (abi >= 3) attr.handled_access_fs |= LANDLOCK_FS_TRUNCATE;
    if (abi >= 5) attr.handled_access_fs |= LANDLOCK_FS_IOCTL_DEV;
    const long ruleset = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
    if (ruleset < 0) {
        report.skipped.push_back(std::string("Landlock ruleset: ") + std::strerror(errno));
        return;
    }
    // No rules: every handled access is denied everywhere.
    const long restricted = ::syscall(SYS_landlock_restrict_self, static_cast<int>(ruleset), 0);
    const int saved = errno;
    ::close(static_cast<int>(ruleset));
    if (restricted != 0) {
        report.skipped.push_back(std::string("Landlock restrict: ") + std::strerror(saved));
        return;
    }
    report.active.push_back("Landlock ABI " + std::to_string(abi) + " (no filesystem access)");
}

//! System calls the agent makes after start-up: I/O on descriptors it holds,
//! waiting, memory, threads of the IPC layer, time and randomness.
constexpr const char* ALLOWED_SYSCALLS[] = {
    // I/O on existing descriptors
    "read",
    "write",
    "readv",
    "writev",
    "recvfrom",
    "sendto",
    "recvmsg",
    "sendmsg",
    "recvmmsg",
    "sendmmsg",
    "close",
    "shutdown",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "fcntl",
    "lseek",
    // waiting
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_ctl",
    "epoll_create1",
    "eventfd2",
    "futex",
    "futex_waitv",
    "nanosleep",
    "clock_nanosleep",
    "sched_yield",
    "restart_syscall",
    // time, identity, randomness
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "getpid",
    "gettid",
    "getrandom",
    "getuid",
    // memory
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "brk",
    "mremap",
    "membarrier",
    // threads and signals
    "set_robust_list",
    "rseq",
    "sched_getaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigaction",
    "sigaltstack",
    "rt_sigtimedwait",
    "tgkill",
    "exit",
    "exit_group",
};

#if defined(__SANITIZE_ADDRESS__)
#define ORRERY_AGENT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define ORRERY_AGENT_SANITIZED 1
#endif
#endif

//! Sanitizer runtimes probe memory through a pipe when a thread starts; only
//! sanitizer builds (tests) allow it.
#ifdef ORRERY_AGENT_SANITIZED
constexpr const char* SANITIZER_SYSCALLS[] = {"pipe2", "pipe"};
#else
constexpr std::array<const char*, 0> SANITIZER_SYSCALLS{};
#endif

void ApplySeccomp(SandboxReport& report)
{
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx) throw std::runtime_error("seccomp_init failed");
    struct Release {
        scmp_filter_ctx ctx;
        ~Release() { ::seccomp_release(ctx); }
    } release{ctx};
    auto check = [](int rc, const std::string& what) {
        if (rc < 0) throw std::runtime_error("seccomp: " + what + ": " + std::strerror(-rc));
    };
    auto allow = [&](const char* name) {
        const int nr = ::seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) return; // not on this architecture
        check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0), name);
    };
    for (const char* name : ALLOWED_SYSCALLS) allow(name);
    for (const char* name : SANITIZER_SYSCALLS) allow(name);
    // Threads, never processes: clone must carry CLONE_THREAD. clone3 passes
    // its flags in memory seccomp cannot read, so it fails with ENOSYS and
    // glibc falls back to clone.
    check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)),
          "clone");
    check(::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3");
    // ZeroMQ re-applies the scheduling policy of each thread it starts; only
    // the ordinary policy may be set, never a real-time one.
    check(
        ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_setscheduler), 1, SCMP_A1(SCMP_CMP_EQ, SCHED_OTHER, 0)),
        "sched_setscheduler");
    // Thread names (pthread_setname_np on the calling thread) and nothing else of prctl.
    check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0)), "prctl");
    check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0)), "ioctl");
    // The IPC layer reconnects by itself when the node goes away; its new
    // sockets fail quietly instead of killing the agent, which then notices
    // that the node is gone and exits.
    check(::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0), "socket");
    check(::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(connect), 0), "connect");
    // Every thread of the process, including those ZeroMQ already runs.
    check(::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1), "TSYNC");
    check(::seccomp_load(ctx), "load");
    report.active.push_back("seccomp allow-list (" + std::to_string(std::size(ALLOWED_SYSCALLS) + 4) +
                            " system calls, others kill the process)");
}

} // namespace

SandboxReport EnterSandbox()
{
    SandboxReport report;
    ApplyLimits(report);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        throw std::runtime_error(std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno));
    }
    report.active.push_back("no_new_privs");
    // glibc reads /etc/localtime on the first time conversion (even gmtime_r,
    // which every log line uses): do it now, while files may still be opened.
    ::tzset();
    ApplyLandlock(report);
    ApplySeccomp(report);
    return report;
}

std::string TrySandboxEscape(const std::string& what)
{
    if (what == "open") {
        const int fd = ::open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) ::close(fd);
        return "open(/etc/passwd) returned " + std::to_string(fd) +
               (fd < 0 ? std::string(": ") + std::strerror(errno) : "");
    }
    if (what == "exec") {
        const char* argv[] = {"/bin/true", nullptr};
        ::execv("/bin/true", const_cast<char* const*>(argv));
        return std::string("execv(/bin/true) failed: ") + std::strerror(errno);
    }
    return "unknown -testsandboxescape value '" + what + "' (open, exec)";
}

} // namespace orrery::p2p_agent
