// The gui-bridge's HTTP server over real sockets in one process: pipelining,
// keep-alive, timeouts, a stop that lets a request being handled finish and
// leave; and its RPC authentication (passwords, -rpcauth, the cookie).
#include "test_util.h"
#include <services/gui-bridge/auth.h>
#include <services/gui-bridge/http_server.h>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace orrery::http;

using orrery::test::WaitUntil;

namespace {

uint16_t PortOf(const Server& server)
{
    std::string address = server.BoundAddresses().at(0);
    return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

int Dial(uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

void SendAll(int fd, const std::string& data)
{
    REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

//! Reads until `count` whole responses arrived or the peer closed.
std::vector<ClientResponse> ReadResponses(int fd, size_t count)
{
    std::vector<ClientResponse> responses;
    std::string buffer;
    char chunk[4096];
    while (responses.size() < count) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        while (auto response = ParseResponse(buffer, false)) {
            size_t end = buffer.find("\r\n\r\n") + 4 + response->body.size();
            buffer.erase(0, end);
            responses.push_back(std::move(*response));
            if (buffer.empty()) break;
        }
    }
    return responses;
}

ServerOptions LocalOptions()
{
    ServerOptions options;
    options.binds = {{"127.0.0.1", 0}};
    options.threads = 2;
    return options;
}

} // namespace

TEST_CASE("pipelined requests on one connection are answered in order")
{
    Server server(LocalOptions(), [](const Request& request, const std::string&) {
        return Response{200, {}, "echo:" + request.body, false, nullptr};
    });
    server.Start();
    int fd = Dial(PortOf(server));
    SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\naPOST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nb"
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nc");
    auto responses = ReadResponses(fd, 3);
    REQUIRE(responses.size() == 3);
    CHECK(responses[0].body == "echo:a");
    CHECK(responses[1].body == "echo:b");
    CHECK(responses[2].body == "echo:c");
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0); // closed after the "Connection: close" request
    ::close(fd);
    server.Stop();
}

TEST_CASE("a malformed request is answered with its status and the connection closed")
{
    Server server(LocalOptions(), [](const Request&, const std::string&) { return Response{}; });
    server.Start();
    int fd = Dial(PortOf(server));
    SendAll(fd, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto responses = ReadResponses(fd, 1);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status == 411);
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0);
    ::close(fd);
}

TEST_CASE("an idle connection is closed after the server timeout")
{
    ServerOptions options = LocalOptions();
    options.timeout = std::chrono::milliseconds(200);
    Server server(options, [](const Request&, const std::string&) { return Response{}; });
    server.Start();
    int fd = Dial(PortOf(server));
    SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
    auto started = std::chrono::steady_clock::now();
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    ::close(fd);
}

TEST_CASE("stop lets a request being handled finish and its reply leave")
{
    std::atomic<bool> entered{false};
    Server server(LocalOptions(), [&](const Request&, const std::string&) {
        entered = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return Response{200, {}, "finished", false, nullptr};
    });
    server.Start();
    int fd = Dial(PortOf(server));
    SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(WaitUntil([&] { return entered.load(); }));
    server.Stop();
    auto responses = ReadResponses(fd, 1);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].body == "finished");
    ::close(fd);
    // The port is free again.
    CHECK(server.BoundAddresses().size() == 1);
}

TEST_CASE("a port already in use fails Start with a message naming the address")
{
    Server first(LocalOptions(), [](const Request&, const std::string&) { return Response{}; });
    first.Start();
    ServerOptions options = LocalOptions();
    options.binds = {{"127.0.0.1", PortOf(first)}};
    Server second(options, [](const Request&, const std::string&) { return Response{}; });
    CHECK_THROWS_WITH_AS(second.Start(), doctest::Contains("Unable to bind RPC server to 127.0.0.1:"),
                         std::runtime_error);
}

// --- authentication --------------------------------------------------------

TEST_CASE("Basic credentials are checked against passwords and -rpcauth hashes")
{
    orrery::rpc::Authenticator auth;
    auth.AddPassword("__cookie__", "c0ffee");
    // bitcoind's rpcauth.py: HMAC-SHA256(key=salt, password) in hex.
    CHECK(auth.AddRpcAuth("bob:abc$72189187d14866e421c858cf46a16a04e75a32973500b79c1ad1fb4ad978af79"));
    CHECK_FALSE(auth.AddRpcAuth("nosalt"));
    CHECK_FALSE(auth.AddRpcAuth("bob:abc$short"));
    std::string user;
    CHECK(auth.Check("Basic " + Base64Encode("__cookie__:c0ffee"), &user));
    CHECK(user == "__cookie__");
    CHECK(auth.Check("Basic " + Base64Encode("bob:pw"), &user));
    CHECK(user == "bob");
    CHECK_FALSE(auth.Check("Basic " + Base64Encode("bob:pw2")));
    CHECK_FALSE(auth.Check("Basic " + Base64Encode("__cookie__:c0ffeE")));
    CHECK_FALSE(auth.Check("Basic " + Base64Encode("__cookie__")));
    CHECK_FALSE(auth.Check("Bearer " + Base64Encode("__cookie__:c0ffee")));
    CHECK_FALSE(auth.Check("Basic !!!"));
}

TEST_CASE("cookie passwords are 64 hex digits and differ each time")
{
    std::string a = orrery::rpc::RandomHexPassword(), b = orrery::rpc::RandomHexPassword();
    CHECK(a.size() == 64);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != b);
}

TEST_CASE("-rpcwhitelist lists intersect per user and -rpcwhitelistdefault decides for unlisted users")
{
    orrery::rpc::RpcWhitelist whitelist;
    CHECK(whitelist.Empty());
    CHECK(whitelist.Allowed("anyone", "stop"));
    whitelist.Add("alice:getblockcount,getblockhash getbestblockhash");
    whitelist.Add("alice:getblockcount, getbestblockhash");
    whitelist.Add("mallory");
    CHECK(whitelist.Allowed("alice", "getblockcount"));
    CHECK(whitelist.Allowed("alice", "getbestblockhash"));
    CHECK_FALSE(whitelist.Allowed("alice", "getblockhash")); // on one list only
    CHECK_FALSE(whitelist.Allowed("mallory", "getblockcount"));
    CHECK(whitelist.Allowed("bob", "getblockhash"));
    whitelist.SetDefault(true);
    CHECK_FALSE(whitelist.Allowed("bob", "getblockhash"));
    CHECK(whitelist.Allowed("alice", "getblockcount"));
}

TEST_CASE("-rpcallowip takes addresses, CIDR and netmasks; loopback is always allowed")
{
    orrery::rpc::AllowedNetworks allowed;
    CHECK(allowed.Allows("127.0.0.1:5000"));
    CHECK(allowed.Allows("127.8.9.10:5000"));
    CHECK(allowed.Allows("[::1]:5000"));
    CHECK_FALSE(allowed.Allows("10.1.2.3:5000"));
    CHECK(allowed.Add("10.0.0.0/8"));
    CHECK(allowed.Add("192.168.1.0/255.255.255.0"));
    CHECK(allowed.Add("203.0.113.7"));
    CHECK(allowed.Add("2001:db8::/32"));
    CHECK(allowed.Allows("10.1.2.3:5000"));
    CHECK(allowed.Allows("192.168.1.200:1"));
    CHECK_FALSE(allowed.Allows("192.168.2.1:1"));
    CHECK(allowed.Allows("203.0.113.7:1"));
    CHECK_FALSE(allowed.Allows("203.0.113.8:1"));
    CHECK(allowed.Allows("[2001:db8:1::5]:8332"));
    CHECK_FALSE(allowed.Allows("[2001:db9::5]:8332"));
    CHECK(allowed.Allows("[::ffff:10.9.9.9]:1")); // IPv4-mapped is its IPv4 address
    for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "300.1.1.1", "host.example", "10.0.0.0/::1", ""})
        CHECK_FALSE(allowed.Add(bad));
    orrery::rpc::AllowedNetworks everyone;
    CHECK(everyone.Add("0.0.0.0/0"));
    CHECK(everyone.Allows("198.51.100.1:1"));
}
