// The GUI's event hub and the HTTP server's streamed responses.
#include <services/gui-bridge/events.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::bridge;

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
}
