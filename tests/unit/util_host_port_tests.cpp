// common/util/host_port: the one host:port parser every process uses.
#include <common/util/host_port.h>

#include <doctest/doctest.h>

using namespace orrery;

TEST_CASE("an address with or without a port, bracketed or bare IPv6, parses as bitcoind reads it")
{
    auto plain = ParseHostPort("127.0.0.1", 18444);
    REQUIRE(plain);
    CHECK(plain->host == "127.0.0.1");
    CHECK(plain->port == 18444);
    auto with_port = ParseHostPort("localhost:8332", 18443);
    REQUIRE(with_port);
    CHECK((with_port->host == "localhost" && with_port->port == 8332));
    auto bracketed = ParseHostPort("[::1]:1234", 18444);
    REQUIRE(bracketed);
    CHECK((bracketed->host == "::1" && bracketed->port == 1234));
    CHECK(ParseHostPort("[::1]", 7)->port == 7);
    auto bare_v6 = ParseHostPort("::", 18444);
    REQUIRE(bare_v6);
    CHECK((bare_v6->host == "::" && bare_v6->port == 18444));
}

TEST_CASE("malformed addresses and ports outside 1..65535 are refused")
{
    for (const char* bad : {"", ":8333", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:x",
                            "1.2.3.4:+1", "[::1", "[::1]x", "[::1]:", "[]:1"}) {
        CAPTURE(bad);
        CHECK_FALSE(ParseHostPort(bad, 1).has_value());
    }
}

TEST_CASE("the host of a peer's address drops its port and brackets")
{
    CHECK(HostOf("1.2.3.4:8333") == "1.2.3.4");
    CHECK(HostOf("[2001:db8::1]:8333") == "2001:db8::1");
    CHECK(HostOf("2001:db8::1") == "2001:db8::1");
    CHECK(HostOf("example.org") == "example.org");
    CHECK(HasPort("example.org:1"));
    CHECK_FALSE(HasPort("2001:db8::1"));
    CHECK_FALSE(HasPort("[::1]"));
}

TEST_CASE("addresses are shown as bitcoind shows peers")
{
    CHECK(FormatHostPort("1.2.3.4", 8333) == "1.2.3.4:8333");
    CHECK(FormatHostPort("::1", 8333) == "[::1]:8333");
}
