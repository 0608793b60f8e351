// Tier 3: calls across real processes. The service is tests/tools/echo_service,
// killed with SIGKILL mid-call and started again on the same endpoint.
#include "echo_impl.h"
#include "test_util.h"

#include <common/interfaces/echo_ipc.h>
#include <common/ipc/endpoint.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace orrery;
using namespace orrery::ipc;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using orrery::test::TempDir;
using orrery::test::WaitUntil;

namespace {

std::string EchoServicePath()
{
    const char* build = std::getenv("ORRERY_BUILD_DIR");
    REQUIRE_MESSAGE(build, "ORRERY_BUILD_DIR must point at the build tree");
    return std::string(build) + "/tests/tools/echo_service";
}

//! A child process with its stdout on a pipe; killed and reaped on destruction.
class Service
{
public:
    explicit Service(const std::string& endpoint)
    {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        std::string path = EchoServicePath();
        char* argv[] = {path.data(), const_cast<char*>(endpoint.c_str()), nullptr};
        REQUIRE(posix_spawn(&m_pid, path.c_str(), &actions, nullptr, argv, environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        // Wait for "ready": the service has bound its endpoint.
        std::string line;
        char c;
        while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
        ::close(fds[0]);
        REQUIRE_MESSAGE(line.starts_with("ready"), "echo_service did not start: " << line);
    }
    ~Service() { Kill(SIGTERM); }
    void Kill(int signal)
    {
        if (m_pid <= 0) return;
        ::kill(m_pid, signal);
        int status;
        ::waitpid(m_pid, &status, 0);
        m_pid = -1;
    }
    pid_t Pid() const { return m_pid; }

private:
    pid_t m_pid{-1};
};

struct TickCollector final : interfaces::EchoListener {
    std::mutex mutex;
    std::condition_variable cv;
    size_t count{0};
    uint64_t last{0};
    void tick(uint64_t n) override
    {
        std::lock_guard lock(mutex);
        ++count;
        last = n;
        cv.notify_all();
    }
    bool WaitForMore(size_t than, std::chrono::milliseconds timeout)
    {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return count > than; });
    }
    size_t Count()
    {
        std::lock_guard lock(mutex);
        return count;
    }
};

} // namespace

TEST_CASE("a call to a service killed with SIGKILL fails with disconnected within 2 s, and the client "
          "reconnects and resubscribes by itself when the service is back")
{
    TempDir dir("orrery_ipc_proc");
    std::string endpoint = dir.Endpoint("echo.sock");

    auto service = std::make_unique<Service>(endpoint);
    Options options;
    options.role = "tester";
    options.interfaces = {"echo"};
    Client client(options);
    auto connection = client.Connect(endpoint);
    auto echo = MakeProxy<interfaces::Echo>(connection);
    CHECK(echo->callerPid() == service->Pid());

    // A second client that only calls: its waiting caller polls the socket itself.
    Client plain_client(options);
    auto plain_connection = plain_client.Connect(endpoint);
    auto plain = MakeProxy<interfaces::Echo>(plain_connection);
    CHECK(plain->add(2, 3) == 5);

    auto ticks = std::make_shared<TickCollector>();
    auto subscription = echo->subscribeTicks(ticks, 1000000, 20);
    REQUIRE(ticks->WaitForMore(2, 3000ms));

    // A call in flight when the service dies.
    std::atomic<bool> failed_disconnected{false};
    Clock::time_point killed_at;
    Clock::time_point failed_at;
    std::thread caller([&] {
        try {
            echo->sleepThenReturn(30000, 1);
        } catch (const Error& e) {
            failed_at = Clock::now();
            failed_disconnected = e.code() == ErrorCode::DISCONNECTED;
        }
    });
    std::atomic<bool> plain_failed_disconnected{false};
    Clock::time_point plain_failed_at;
    std::thread plain_caller([&] {
        try {
            plain->sleepThenReturn(30000, 1);
        } catch (const Error& e) {
            plain_failed_at = Clock::now();
            plain_failed_disconnected = e.code() == ErrorCode::DISCONNECTED;
        }
    });
    std::this_thread::sleep_for(200ms);
    killed_at = Clock::now();
    service->Kill(SIGKILL);
    caller.join();
    plain_caller.join();
    CHECK(failed_disconnected.load());
    CHECK(failed_at - killed_at < 2s);
    CHECK(plain_failed_disconnected.load());
    CHECK(plain_failed_at - killed_at < 2s);

    // While it is down, calls fail fast instead of hanging.
    Clock::time_point start = Clock::now();
    CHECK_THROWS_AS(echo->echo("anyone?"), Error);
    CHECK(Clock::now() - start < 1s);
    CHECK_FALSE(connection->IsConnected());

    // Back on the same endpoint: the same proxy works again and ticks resume.
    size_t before = ticks->Count();
    service = std::make_unique<Service>(endpoint);
    REQUIRE(WaitUntil([&] { return connection->IsConnected(); }));
    CHECK(echo->echo("back") == "back");
    CHECK(echo->callerPid() == service->Pid());
    CHECK(ticks->WaitForMore(before + 2, 3000ms));
    CHECK(WaitUntil([&] { return plain_connection->IsConnected(); }));
    CHECK(plain->add(20, 22) == 42);
    plain_client.Stop();

    subscription.reset();
    client.Stop();
    service.reset();
}
