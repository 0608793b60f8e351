// The spare agent hand-off (common/handoff/handoff.h): the message, and a
// peer's socket crossing a real Unix socket pair to the waiting side.
#include <common/handoff/handoff.h>

#include <doctest/doctest.h>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace orrery::handoff;

namespace {

std::span<const uint8_t> Bytes(const std::string& text)
{
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

struct Pair {
    int fds[2]{-1, -1};
    Pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0); }
    ~Pair()
    {
        for (int fd : fds) {
            if (fd >= 0) ::close(fd);
        }
    }
};

bool IsOpen(int fd)
{
    return ::fcntl(fd, F_GETFD) != -1;
}

} // namespace

TEST_CASE("a hand-off message round-trips and anything else is refused")
{
    auto decoded = DecodeHandoff(Bytes(EncodeHandoff(42, "[::1]:18444")));
    REQUIRE(decoded);
    CHECK(decoded->peer_id == 42);
    CHECK(decoded->address == "[::1]:18444");
    CHECK(decoded->fd == -1);

    for (const std::string bad : {"", "orrery-handoff 1\n", "orrery-handoff 2\n1\na:1\n", "orrery-handoff 1\n-1\na:1\n",
                                  "orrery-handoff 1\n1\n\n", "orrery-handoff 1\n1\na b\n", "orrery-handoff 1\n1\na:1",
                                  "orrery-handoff 1\nx\na:1\n", "orrery-handoff 1\n99999999999999999999\na:1\n",
                                  "orrery-handoff 1\n1\na:1\nextra\n",
                                  // Only the one form EncodeHandoff writes (-0 was found by fuzz_handoff_decode).
                                  "orrery-handoff 1\n-0\n1/2.3.4:5\n", "orrery-handoff 1\n+1\na:1\n",
                                  "orrery-handoff 1\n01\na:1\n", "orrery-handoff 1\n00\na:1\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(DecodeHandoff(Bytes(bad)));
    }
    CHECK_FALSE(DecodeHandoff(Bytes(EncodeHandoff(1, std::string(MAX_HANDOFF_BYTES, 'a')))));
    REQUIRE(DecodeHandoff(Bytes(EncodeHandoff(0, "a:1"))));
    CHECK(DecodeHandoff(Bytes(EncodeHandoff(0, "a:1")))->peer_id == 0);
}

TEST_CASE("a peer's socket crosses to the waiting spare, which can use it")
{
    Pair control, peer;
    REQUIRE(SendHandoff(control.fds[0], 7, "127.0.0.1:50000", peer.fds[0]));
    HandoffWait wait = WaitForHandoff(control.fds[1]);
    REQUIRE(wait.outcome == HandoffWait::Outcome::HANDOFF);
    CHECK(wait.handoff.peer_id == 7);
    CHECK(wait.handoff.address == "127.0.0.1:50000");
    REQUIRE(wait.handoff.fd >= 0);
    CHECK(wait.handoff.fd != peer.fds[0]);
    CHECK((::fcntl(wait.handoff.fd, F_GETFD) & FD_CLOEXEC) != 0);
    // The received descriptor is the same socket: what is written to it comes out of the other end.
    REQUIRE(::send(wait.handoff.fd, "hi", 2, 0) == 2);
    char buffer[4];
    CHECK(::recv(peer.fds[1], buffer, sizeof buffer, 0) == 2);
    ::close(wait.handoff.fd);
}

TEST_CASE("a hand-off still arrives when orreryd closed its end with the spare's \"ready\" unread")
{
    Pair control, peer;
    REQUIRE(::send(control.fds[1], "ready", 5, 0) == 5); // the spare's, never read
    REQUIRE(SendHandoff(control.fds[0], 9, "10.0.0.1:8333", peer.fds[0]));
    ::close(control.fds[0]); // Linux reports ECONNRESET to the spare once
    control.fds[0] = -1;
    HandoffWait wait = WaitForHandoff(control.fds[1]);
    REQUIRE(wait.outcome == HandoffWait::Outcome::HANDOFF);
    CHECK(wait.handoff.peer_id == 9);
    ::close(wait.handoff.fd);
}

TEST_CASE("a spare whose control socket closes, or that gets a bad message or no socket, says so and keeps no fd")
{
    {
        Pair control;
        ::close(control.fds[0]);
        control.fds[0] = -1;
        CHECK(WaitForHandoff(control.fds[1]).outcome == HandoffWait::Outcome::CLOSED);
    }
    {
        Pair control, peer;
        const std::string garbage = "orrery-handoff 9\n1\na:1\n";
        REQUIRE(SendWithFd(control.fds[0], garbage, peer.fds[0]));
        int next_fd = ::dup(0); // the lowest free number: where the received copy had landed
        ::close(next_fd);
        HandoffWait wait = WaitForHandoff(control.fds[1]);
        CHECK(wait.outcome == HandoffWait::Outcome::BAD_MESSAGE);
        CHECK(wait.error == "malformed hand-off message");
        CHECK_FALSE(IsOpen(next_fd)); // the socket that came with it was closed
    }
    {
        Pair control;
        const std::string message = EncodeHandoff(3, "1.2.3.4:5");
        REQUIRE(::send(control.fds[0], message.data(), message.size(), 0) == static_cast<ssize_t>(message.size()));
        HandoffWait wait = WaitForHandoff(control.fds[1]);
        CHECK(wait.outcome == HandoffWait::Outcome::BAD_MESSAGE);
        CHECK(wait.error == "a hand-off carries exactly one socket");
    }
}

TEST_CASE("SIGTERM ends a spare's wait, though the signal stays blocked elsewhere")
{
    Pair control;
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    std::thread killer([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ::kill(::getpid(), SIGTERM);
    });
    HandoffWait wait = WaitForHandoff(control.fds[1]);
    killer.join();
    CHECK(wait.outcome == HandoffWait::Outcome::SIGNALLED);
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, nullptr, &now);
    CHECK(sigismember(&now, SIGTERM) == 1);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::signal(SIGTERM, SIG_DFL);
}
