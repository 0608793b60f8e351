// What the IPC layer counts per link: the latency buckets and their quantiles,
// then calls made and served counted over a real inproc socket, on both sides,
// errors included, and a link that goes away leaving the report.
#include "echo_impl.h"

#include <common/interfaces/echo_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/link_stats.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <thread>

using namespace orrery;
using namespace orrery::ipc;
using namespace std::chrono_literals;

namespace {

//! The link of this process whose own role and peer role are these, if any.
std::optional<LinkFigures> FindLink(const std::string& role, const std::string& peer_role)
{
    for (auto& link : LinkStats()) {
        if (link.role == role && link.peer_role == peer_role) return link;
    }
    return std::nullopt;
}

uint64_t Sum(const std::vector<uint64_t>& histogram)
{
    return std::accumulate(histogram.begin(), histogram.end(), uint64_t{0});
}

} // namespace

TEST_CASE("a latency falls in the power-of-two bucket of its microseconds")
{
    CHECK(LatencyBucket(0) == 0);
    CHECK(LatencyBucket(1) == 0);
    CHECK(LatencyBucket(2) == 1);
    CHECK(LatencyBucket(3) == 1);
    CHECK(LatencyBucket(4) == 2);
    CHECK(LatencyBucket(1023) == 9);
    CHECK(LatencyBucket(1024) == 10);
    CHECK(LatencyBucket(uint64_t{1} << 23) == LATENCY_BUCKETS - 1);
    CHECK(LatencyBucket(~uint64_t{0}) == LATENCY_BUCKETS - 1);
}

TEST_CASE("a quantile is the upper bound of the bucket its rank falls in")
{
    std::vector<uint64_t> histogram(LATENCY_BUCKETS, 0);
    CHECK(LatencyQuantile(histogram, 0.5) == 0);
    histogram[3] = 98; // 8..15 µs
    histogram[10] = 2; // 1024..2047 µs
    CHECK(LatencyQuantile(histogram, 0.5) == 16);
    CHECK(LatencyQuantile(histogram, 0.98) == 16);
    CHECK(LatencyQuantile(histogram, 0.99) == 2048);
    CHECK(LatencyQuantile(histogram, 1.0) == 2048);
    histogram[LATENCY_BUCKETS - 1] = 1000;
    CHECK(LatencyQuantile(histogram, 0.99) == uint64_t{1} << (LATENCY_BUCKETS - 1));
}

TEST_CASE("a counter records calls, errors and their latencies")
{
    CallCounter counter;
    counter.Record(5us, false);
    counter.Record(3ms, true);
    const CallFigures figures = counter.Read();
    CHECK(figures.calls == 2);
    CHECK(figures.errors == 1);
    CHECK(figures.total_us == 3005);
    REQUIRE(figures.histogram.size() == LATENCY_BUCKETS);
    CHECK(figures.histogram[2] == 1);  // 4..7 µs
    CHECK(figures.histogram[11] == 1); // 2048..4095 µs
}

TEST_CASE("calls over a link are counted as made by the caller and served by the callee")
{
    Options server_options;
    server_options.role = "counted-echo";
    Server server(server_options);
    server.Serve(test::MakeEcho());
    server.Bind("inproc://link-stats-test");
    Options client_options;
    client_options.role = "counted-caller";
    client_options.interfaces = {"echo"};
    client_options.server_role = "counted-echo";
    auto client = std::make_unique<Client>(client_options);
    auto echo = MakeProxy<interfaces::Echo>(client->Connect(server.Endpoint()));

    for (int i = 0; i < 10; ++i) CHECK(echo->add(i, 1) == i + 1);
    CHECK_THROWS_AS(echo->fail("on purpose"), Error);
    CHECK(echo->sleepThenReturn(20, 7) == 7);

    auto caller = FindLink("counted-caller", "counted-echo");
    REQUIRE(caller);
    CHECK_FALSE(caller->server);
    CHECK(caller->endpoint == "inproc://link-stats-test");
    CHECK(caller->peer_pid == ::getpid());
    CHECK(caller->made.calls == 12);
    CHECK(caller->made.errors == 1);
    CHECK(Sum(caller->made.histogram) == 12);
    CHECK(caller->made.total_us >= 20000); // the slow call's round trip
    CHECK(caller->served.calls == 0);

    // The callee's side: the reply is sent after the count, so it is there once the caller has its result.
    auto callee = FindLink("counted-echo", "counted-caller");
    REQUIRE(callee);
    CHECK(callee->server);
    CHECK(callee->served.calls == 12);
    CHECK(callee->served.errors == 1);
    CHECK(callee->served.total_us >= 20000); // the slow handler ran 20 ms
    CHECK(LatencyQuantile(callee->served.histogram, 1.0) >= 16384);
    CHECK(callee->made.calls == 0);

    // A link that ends leaves the report.
    client.reset();
    CHECK_FALSE(FindLink("counted-caller", "counted-echo"));
}
