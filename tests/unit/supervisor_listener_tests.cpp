// -bind addresses and the P2P listening sockets of orreryd.
#include "test_util.h"
#include <supervisor/listener.h>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace orrery::supervisor;

using orrery::test::WaitUntil;

TEST_CASE("an accepted connection reaches the callback with both addresses, and a busy port is a clear error")
{
    Listener listener;
    listener.Bind({"127.0.0.1", 0});
    REQUIRE(listener.Addresses().size() == 1);
    std::string bound = listener.Addresses()[0];
    uint16_t port = static_cast<uint16_t>(std::stoi(bound.substr(bound.find(':') + 1)));
    std::atomic<int> accepted{0};
    std::string peer_seen, local_seen;
    listener.Start([&](int fd, const std::string& peer, const std::string& local) {
        peer_seen = peer;
        local_seen = local;
        ::close(fd);
        accepted = 1;
    });
    int client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&target), sizeof(target)) == 0);
    REQUIRE(WaitUntil([&] { return accepted == 1; }));
    CHECK(local_seen == bound);
    CHECK(peer_seen.starts_with("127.0.0.1:"));
    Listener second;
    CHECK_THROWS_WITH(second.Bind({"127.0.0.1", port}),
                      doctest::Contains("probably already running"));
    ::close(client);
    listener.Stop();
}
