// The spawn baseline of the constellation benchmark, in C++ so that nothing
// but fork and exec runs between them (a Python child would run the
// interpreter, and fault in its pages, before exec).
//
//   spawn_probe <program>
//
// For each byte read on stdin: fork, exec <program> with its stdout on a pipe,
// read one byte from that pipe, reap it, and print the nanoseconds from before
// the fork to the byte read as one line. Exits at end of input (and with its
// parent).
#include <chrono>
#include <cstdio>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: spawn_probe <program>\n");
        return 2;
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) return 1;
    char* child_argv[] = {argv[1], nullptr};
    char request;
    while (::read(STDIN_FILENO, &request, 1) == 1) {
        int fds[2];
        if (::pipe(fds) != 0) return 1;
        const auto start = std::chrono::steady_clock::now();
        const pid_t pid = ::fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            ::execv(argv[1], child_argv);
            ::_exit(127);
        }
        ::close(fds[1]);
        char byte = 0;
        const ssize_t got = ::read(fds[0], &byte, 1);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        ::close(fds[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (got != 1 || byte != 'x' || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::printf("error\n");
        } else {
            std::printf("%lld\n", static_cast<long long>(std::chrono::nanoseconds(elapsed).count()));
        }
        std::fflush(stdout);
    }
    return 0;
}
