// Restart intensity and backoff of a permanent service.
#include <supervisor/restart_policy.h>

#include <doctest/doctest.h>

using orrery::supervisor::RestartPolicy;
using namespace std::chrono_literals;

TEST_CASE("restarts are allowed up to the intensity within the period, then refused")
{
    RestartPolicy policy(3, 60s);
    auto t = RestartPolicy::Clock::time_point{} + 1000s;
    CHECK(policy.OnFailure(t).has_value());
    CHECK(policy.OnFailure(t + 1s).has_value());
    CHECK(policy.OnFailure(t + 2s).has_value());
    CHECK(policy.RecentRestarts(t + 2s) == 3);
    CHECK_FALSE(policy.OnFailure(t + 3s).has_value());
}

TEST_CASE("failures older than the period no longer count")
{
    RestartPolicy policy(2, 10s);
    auto t = RestartPolicy::Clock::time_point{} + 1000s;
    REQUIRE(policy.OnFailure(t));
    REQUIRE(policy.OnFailure(t + 1s));
    CHECK(policy.RecentRestarts(t + 10s) == 1);
    CHECK(policy.OnFailure(t + 10s).has_value()); // the first one expired
    CHECK_FALSE(policy.OnFailure(t + 10500ms).has_value());
    CHECK(policy.OnFailure(t + 30s).has_value());
}

TEST_CASE("the wait before a restart is at least the minimum and doubles while failures keep coming")
{
    RestartPolicy policy(10, 60s, 1s, 5s);
    auto t = RestartPolicy::Clock::time_point{} + 1000s;
    CHECK(*policy.OnFailure(t) == 1s);
    CHECK(*policy.OnFailure(t + 1s) == 2s);
    CHECK(*policy.OnFailure(t + 2s) == 4s);
    CHECK(*policy.OnFailure(t + 3s) == 5s); // capped
    CHECK(*policy.OnFailure(t + 4s) == 5s);
}

TEST_CASE("after a quiet period the backoff starts again from the minimum")
{
    RestartPolicy policy(5, 20s);
    auto t = RestartPolicy::Clock::time_point{} + 1000s;
    CHECK(*policy.OnFailure(t) == 1s);
    CHECK(*policy.OnFailure(t + 2s) == 2s);
    CHECK(*policy.OnFailure(t + 100s) == 1s);
}

TEST_CASE("an intensity of zero gives up at the first failure")
{
    RestartPolicy policy(0, 60s);
    CHECK_FALSE(policy.OnFailure(RestartPolicy::Clock::now()).has_value());
}
