// JSON-RPC load generator for tests/bench/rpc: N clients, each on one
// keep-alive HTTP/1.1 connection, send the same request back to back for a
// fixed time and record each call's latency. Prints one JSON line: calls/s,
// p50 and p99 in microseconds, errors.
//
//   bench_rpc_load --port P --auth user:pw --body '{"method":...}' --clients N --seconds S
//   bench_rpc_load --constant --clients N --seconds S --body ...
//
// --constant starts, in this process, the gui-bridge's own HTTP server
// (services/gui-bridge/http_server.h) with a handler that answers a constant
// JSON-RPC reply without parsing anything: the baseline, the same server and
// client code with no routing, no IPC and no node behind it.
#include <services/gui-bridge/http_server.h>

#include <common/http/http.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    uint16_t port{0};
    std::string auth;
    std::string body{R"({"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]})"};
    int clients{1};
    double seconds{3};
    bool constant{false};
};

int Connect(uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

struct ClientResult {
    std::vector<uint32_t> latencies_us;
    uint64_t errors{0};
};

//! One client: one connection, requests back to back until `end`.
void RunClient(const Options& options, const std::string& request, Clock::time_point end, ClientResult& result)
{
    int fd = Connect(options.port);
    std::string buffer;
    char chunk[65536];
    while (Clock::now() < end) {
        auto start = Clock::now();
        size_t sent = 0;
        while (sent < request.size()) {
            ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            sent += static_cast<size_t>(n);
        }
        std::optional<orrery::http::ClientResponse> response;
        for (;;) {
            response = orrery::http::ParseResponse(buffer, false);
            if (response) break;
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) throw std::runtime_error("the server closed the connection");
            buffer.append(chunk, static_cast<size_t>(n));
        }
        // One reply per request and no pipelining, so the buffer holds exactly this reply.
        buffer.clear();
        auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        result.latencies_us.push_back(static_cast<uint32_t>(micros));
        if (response->status != 200 || response->body.find("\"error\":null") == std::string::npos) ++result.errors;
    }
    ::close(fd);
}

uint32_t Percentile(std::vector<uint32_t>& sorted, double p)
{
    if (sorted.empty()) return 0;
    size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
    return sorted[index];
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error("missing value after " + arg);
            return argv[++i];
        };
        if (arg == "--port")
            options.port = static_cast<uint16_t>(std::stoi(next()));
        else if (arg == "--auth")
            options.auth = next();
        else if (arg == "--body")
            options.body = next();
        else if (arg == "--clients")
            options.clients = std::stoi(next());
        else if (arg == "--seconds")
            options.seconds = std::stod(next());
        else if (arg == "--constant")
            options.constant = true;
        else {
            std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
            return 2;
        }
    }
    std::unique_ptr<orrery::http::Server> server;
    if (options.constant) {
        orrery::http::ServerOptions server_options;
        server_options.binds = {{"127.0.0.1", 0}};
        server_options.threads = 4; // the bridge's -rpcthreads default
        server_options.work_queue = 64;
        server = std::make_unique<orrery::http::Server>(
            server_options, [](const orrery::http::Request&, const std::string&) {
                orrery::http::Response response;
                response.headers.emplace_back("Content-Type", "application/json");
                response.body = "{\"result\":0,\"error\":null,\"id\":1}\n";
                return response;
            });
        server->Start();
        std::string bound = server->BoundAddresses().front();
        options.port = static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
    }
    std::string request = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    if (!options.auth.empty()) request += "Authorization: Basic " + orrery::http::Base64Encode(options.auth) + "\r\n";
    request += "Content-Length: " + std::to_string(options.body.size()) + "\r\n\r\n" + options.body;

    std::vector<ClientResult> results(static_cast<size_t>(options.clients));
    std::vector<std::thread> threads;
    std::atomic<bool> failed{false};
    std::string failure;
    auto begin = Clock::now();
    auto end = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
    for (int c = 0; c < options.clients; ++c) {
        threads.emplace_back([&, c] {
            try {
                RunClient(options, request, end, results[static_cast<size_t>(c)]);
            } catch (const std::exception& e) {
                if (!failed.exchange(true)) failure = e.what();
            }
        });
    }
    for (auto& t : threads) t.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
    if (server) server->Stop();
    if (failed) {
        std::fprintf(stderr, "error: %s\n", failure.c_str());
        return 1;
    }
    std::vector<uint32_t> all;
    uint64_t errors = 0;
    for (auto& r : results) {
        all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
        errors += r.errors;
    }
    std::sort(all.begin(), all.end());
    std::printf("{\"calls\": %zu, \"calls_per_s\": %.0f, \"p50_us\": %u, \"p99_us\": %u, \"errors\": %llu}\n",
                all.size(), static_cast<double>(all.size()) / elapsed, Percentile(all, 0.50), Percentile(all, 0.99),
                static_cast<unsigned long long>(errors));
    return errors == 0 ? 0 : 1;
}
