// Spawning children: exec failures are reported, only the fds given are
// inherited, each child has its own process group; exit descriptions.
#include <supervisor/spawn.h>

#include <doctest/doctest.h>

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace orrery::supervisor;

namespace {

//! Everything the child wrote, until it closed its end.
std::string ReadAll(int fd)
{
    std::string out;
    char buffer[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 5000);
        ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n > 0) {
            out.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno != EAGAIN) {
            break;
        }
    }
    ::close(fd);
    return out;
}

int WaitExit(pid_t pid)
{
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return status;
}

} // namespace

TEST_CASE("a binary that cannot be executed is reported with the reason, and nothing is left behind")
{
    SpawnRequest request{"/nonexistent/orrery-node", {"orrery-node"}, {}, SIGKILL};
    try {
        Spawn(request);
        FAIL("Spawn should have thrown");
    } catch (const std::runtime_error& e) {
        std::string message = e.what();
        CHECK(message.find("/nonexistent/orrery-node") != std::string::npos);
        CHECK(message.find("No such file or directory") != std::string::npos);
    }
    int status = 0;
    CHECK(::waitpid(-1, &status, WNOHANG) == -1); // the failed child was reaped
}

TEST_CASE("the child sees only stdin, stdout, stderr and the fds it was given, and has its own process group")
{
    int keep[2], leak[2];
    REQUIRE(::pipe(keep) == 0);       // inherited on purpose
    REQUIRE(::pipe(leak) == 0);       // not close-on-exec, yet must not reach the child
    SpawnRequest request{"/bin/sh",
                         {"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; ps -o pgid= -p $$"},
                         {keep[0]},
                         SIGKILL};
    Spawned child = Spawn(request);
    std::string out = ReadAll(child.output_fd);
    CHECK(WIFEXITED(WaitExit(child.pid)));
    // ls itself opens one more fd to read /proc/self/fd.
    CHECK(out.starts_with("0 1 2 3 4 \n"));
    CHECK(std::stol(out.substr(out.find('\n') + 1)) == child.pid);
    for (int fd : {keep[0], keep[1], leak[0], leak[1]}) ::close(fd);
}

TEST_CASE("stdout and stderr share one pipe, stdin is empty")
{
    SpawnRequest request{"/bin/sh", {"sh", "-c", "echo out; echo err >&2; cat"}, {}, SIGKILL};
    Spawned child = Spawn(request);
    CHECK(ReadAll(child.output_fd) == "out\nerr\n");
    int status = WaitExit(child.pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("signals blocked in the parent are unblocked in the child")
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    SpawnRequest request{"/bin/sh", {"sh", "-c", "grep SigBlk /proc/self/status"}, {}, SIGKILL};
    Spawned child = Spawn(request);
    std::string out = ReadAll(child.output_fd);
    WaitExit(child.pid);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    CHECK(out.find("0000000000000000") != std::string::npos);
}

TEST_CASE("exit descriptions say the status or the signal")
{
    CHECK(DescribeExit(1 << 8) == "exited with status 1");
    CHECK(DescribeExit(SIGKILL) == "killed by signal 9 (KILL)");
}

TEST_CASE("a missing service binary is reported with the places searched; an override is used as given")
{
    std::string searched;
    CHECK_FALSE(FindServiceBinary("no-such-service", "", &searched).has_value());
    CHECK(searched.find("orrery-no-such-service") != std::string::npos);
    auto found = FindServiceBinary("node", "/bin/true", &searched);
    REQUIRE(found.has_value());
    CHECK(*found == "/bin/true");
    CHECK_FALSE(FindServiceBinary("node", "/nonexistent", &searched).has_value());
}

TEST_CASE("proc stats of a live process are non-zero and of a gone one zero")
{
    ProcStats self = ReadProcStats(::getpid());
    CHECK(self.rss_bytes > 0);
    CHECK(ReadProcStats(999999999).rss_bytes == 0);
}
