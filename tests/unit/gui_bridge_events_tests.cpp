// The web GUI's live events: the bounded body stream, streamed responses of the
// HTTP server over real sockets (pushed bytes arrive, a slow client is dropped,
// a client that leaves ends its stream), and the event hub (process and peer
// changes from two samples of orreryd's table, events filtered by the user's
// -rpcwhitelist).
#include "test_util.h"
#include <services/gui-bridge/events.h>
#include <services/gui-bridge/http_server.h>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace orrery;
using namespace orrery::bridge;
using orrery::test::WaitUntil;

namespace {

int DialServer(const http::Server& server)
{
    std::string bound = server.BoundAddresses().at(0);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096; // a client that reads slowly: little room in its own buffer
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1))));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

//! Reads until `text` has arrived (true) or the connection ends (false).
bool ReadUntil(int fd, std::string& buffer, const std::string& text)
{
    char chunk[4096];
    while (buffer.find(text) == std::string::npos) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<size_t>(n));
    }
    return true;
}

struct StreamingServer {
    std::shared_ptr<http::BodyStream> stream;
    http::Server server;
    explicit StreamingServer(size_t max_pending)
        : stream(std::make_shared<http::BodyStream>(max_pending)),
          server(Options(), [this](const http::Request&, const std::string&) {
              http::Response response;
              response.headers.emplace_back("Content-Type", "text/event-stream");
              response.stream = stream;
              return response;
          })
    {
        server.Start();
    }
    static http::ServerOptions Options()
    {
        http::ServerOptions options;
        options.binds = {{"127.0.0.1", 0}};
        options.threads = 1;
        options.timeout = std::chrono::milliseconds(200); // streams outlive it
        return options;
    }
};

rpc::Json Process(std::string role, int64_t pid, std::string peer = "")
{
    rpc::Json entry{{"role", role}, {"pid", pid}, {"state", "running"}};
    if (!peer.empty()) entry["peer_address"] = peer;
    return entry;
}

//! The event names in what a stream has pending.
std::vector<std::string> EventNames(http::BodyStream& stream)
{
    bool closed = false;
    std::string text = stream.Take(&closed);
    std::vector<std::string> names;
    for (size_t at = text.find("event: "); at != std::string::npos; at = text.find("event: ", at + 1)) {
        names.push_back(text.substr(at + 7, text.find('\n', at) - at - 7));
    }
    return names;
}

} // namespace

TEST_CASE("a bounded stream drops a client that falls behind")
{
    http::BodyStream stream(10);
    CHECK(stream.Push("12345"));
    CHECK(stream.Push("67890"));
    CHECK_FALSE(stream.Push("x"));
    CHECK(stream.Overflowed());
    bool closed = false;
    CHECK(stream.Take(&closed).empty());
    CHECK(closed);
    CHECK_FALSE(stream.Push("more"));
}

TEST_CASE("a streamed response reaches the client as it is pushed, past the idle timeout, until it closes")
{
    StreamingServer fixture(1 << 20);
    int fd = DialServer(fixture.server);
    std::string request = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string buffer;
    REQUIRE(ReadUntil(fd, buffer, "\r\n\r\n"));
    CHECK(buffer.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(buffer.find("Content-Length") == std::string::npos);
    CHECK(buffer.find("Connection: close") != std::string::npos);
    fixture.stream->Push("event: tip\ndata: 1\n\n");
    CHECK(ReadUntil(fd, buffer, "data: 1\n\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(400)); // twice the server's idle timeout
    fixture.stream->Push("event: tip\ndata: 2\n\n");
    CHECK(ReadUntil(fd, buffer, "data: 2\n\n"));
    fixture.stream->Push("event: tip\ndata: 3\n\n");
    fixture.stream->Close();
    CHECK(ReadUntil(fd, buffer, "data: 3\n\n"));
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0); // closed once the stream is
    ::close(fd);
    fixture.server.Stop();
}

TEST_CASE("a client that stops reading is dropped when its stream's queue is full")
{
    StreamingServer fixture(64 * 1024);
    int fd = DialServer(fixture.server);
    std::string request = "GET /events HTTP/1.1\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string buffer;
    REQUIRE(ReadUntil(fd, buffer, "\r\n\r\n"));
    const std::string chunk(1024, 'x');
    size_t pushed = 0;
    while (fixture.stream->Push(chunk)) {
        REQUIRE(++pushed < 100000); // socket buffers hold a few MiB at most
    }
    CHECK(fixture.stream->Overflowed());
    // The client gets what was already on its way, then the end of the connection.
    char data[65536];
    ssize_t n;
    while ((n = ::recv(fd, data, sizeof data, 0)) > 0) {
    }
    CHECK(n == 0);
    ::close(fd);
    fixture.server.Stop();
}

TEST_CASE("a client that goes away ends its stream")
{
    StreamingServer fixture(1 << 20);
    int fd = DialServer(fixture.server);
    std::string request = "GET /events HTTP/1.1\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string buffer;
    REQUIRE(ReadUntil(fd, buffer, "\r\n\r\n"));
    CHECK_FALSE(fixture.stream->Closed());
    ::close(fd);
    CHECK(WaitUntil([&] { return fixture.stream->Closed(); }));
    CHECK_FALSE(fixture.stream->Push("late"));
    fixture.server.Stop();
}

TEST_CASE("two samples of the process table give the processes and peers that came and went")
{
    rpc::Json before = rpc::Json::array({Process("node", 10), Process("wallet", 11), Process("p2p-agent", 20),
                                         Process("p2p-agent", 21, "10.0.0.1:8333")});
    rpc::Json after = rpc::Json::array({Process("node", 10), Process("wallet", 12),
                                        Process("p2p-agent", 20, "10.0.0.2:18444"), Process("p2p-agent", 22)});
    auto changes = EventHub::Changes(before, after);
    std::vector<std::string> lines;
    for (const auto& [event, data] : changes) lines.push_back(event + " " + data.dump());
    CHECK(lines == std::vector<std::string>{
                       R"(process {"change":"exited","role":"wallet","pid":11})",
                       R"(process {"change":"exited","role":"p2p-agent","pid":21})",
                       R"(peer {"change":"disconnected","address":"10.0.0.1:8333","pid":21})",
                       R"(process {"change":"started","role":"wallet","pid":12})",
                       R"(peer {"change":"connected","address":"10.0.0.2:18444","pid":20})",
                       R"(process {"change":"started","role":"p2p-agent","pid":22})",
                   });
    CHECK(EventHub::Changes(after, after).empty());
}

TEST_CASE("each listener gets only the events of the methods its user may call")
{
    EventSources sources;
    std::atomic<int> samples{0};
    sources.processes = [&] {
        ++samples;
        return rpc::Json::array({Process("node", 10)});
    };
    sources.nettotals = [] { return rpc::Json{{"totalbytesrecv", 1}, {"totalbytessent", 2}}; };
    EventHubOptions options;
    options.tick = std::chrono::milliseconds(10);
    EventHub hub(options, sources);
    CHECK(samples == 0);
    hub.Start();
    auto everything = hub.Subscribe([](const std::string&) { return true; });
    auto tips_only = hub.Subscribe([](const std::string& method) { return method == "getbestblockhash"; });
    REQUIRE(everything);
    REQUIRE(tips_only);
    CHECK(hub.Clients() == 2);
    hub.updatedBlockTip({5, "00ab", 1234});
    hub.transactionAddedToMempool({}, 1);
    hub.transactionAddedToMempool({}, 2);
    CHECK(WaitUntil([&] { return samples >= 3; }));
    auto all = EventNames(*everything);
    CHECK(std::count(all.begin(), all.end(), "tip") == 1);
    CHECK(std::count(all.begin(), all.end(), "mempool") == 1);
    CHECK(std::count(all.begin(), all.end(), "processes") >= 2);
    CHECK(std::count(all.begin(), all.end(), "nettotals") >= 2);
    CHECK(EventNames(*tips_only) == std::vector<std::string>{"tip"});
    // A late listener starts with the tip and the table.
    auto late = hub.Subscribe([](const std::string&) { return true; });
    auto first = EventNames(*late);
    REQUIRE(first.size() >= 2);
    CHECK(first[0] == "tip");
    CHECK(first[1] == "processes");
    tips_only->Detach(); // its connection went away
    CHECK(hub.Clients() == 2);
    hub.Stop();
    CHECK(everything->Closed());
}

TEST_CASE("the hub refuses listeners past its limit and samples nothing while nobody listens")
{
    std::atomic<int> samples{0};
    EventSources sources;
    sources.processes = [&] {
        ++samples;
        return rpc::Json::array();
    };
    EventHubOptions options;
    options.max_clients = 1;
    options.tick = std::chrono::milliseconds(5);
    EventHub hub(options, sources);
    hub.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(samples == 0);
    auto one = hub.Subscribe([](const std::string&) { return true; });
    REQUIRE(one);
    CHECK_FALSE(hub.Subscribe([](const std::string&) { return true; }));
    CHECK(WaitUntil([&] { return samples > 0; }));
    one->Detach();
    CHECK(hub.Subscribe([](const std::string&) { return true; }));
    hub.Stop();
}
