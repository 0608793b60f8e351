// The RPC server's HTTP/1.1 parser and encodings: what clients send, what
// attackers send, and what bitcoind answers to each.
#include <common/http/http.h>

#include <doctest/doctest.h>

using namespace orrery::http;

TEST_CASE("a complete POST is parsed with lower-case headers and its body")
{
    std::string wire =
        "POST /wallet/w1 HTTP/1.1\r\nHost: x\r\nAuthorization:  Basic abc \r\nContent-Length: 5\r\n\r\nhello";
    auto result = ParseRequest(wire);
    REQUIRE(result.status == ParseStatus::COMPLETE);
    CHECK(result.consumed == wire.size());
    CHECK(result.request.method == "POST");
    CHECK(result.request.target == "/wallet/w1");
    CHECK(*result.request.Header("authorization") == "Basic abc");
    CHECK(result.request.body == "hello");
    CHECK(result.request.keep_alive);
}

TEST_CASE("a request arriving byte by byte is incomplete until its last byte")
{
    std::string wire = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]";
    for (size_t i = 0; i < wire.size(); ++i) {
        auto status = ParseRequest(wire.substr(0, i)).status;
        CHECK((status == ParseStatus::INCOMPLETE || status == ParseStatus::HEADERS_ONLY));
    }
    CHECK(ParseRequest(wire).status == ParseStatus::COMPLETE);
}

TEST_CASE("pipelined requests are taken one at a time and bare LF line ends are accepted")
{
    std::string wire = "POST / HTTP/1.1\nContent-Length: 1\n\nAGET / HTTP/1.0\r\n\r\n";
    auto first = ParseRequest(wire);
    REQUIRE(first.status == ParseStatus::COMPLETE);
    CHECK(first.request.body == "A");
    auto second = ParseRequest(std::string_view(wire).substr(first.consumed));
    REQUIRE(second.status == ParseStatus::COMPLETE);
    CHECK(second.request.method == "GET");
    CHECK_FALSE(second.request.keep_alive); // HTTP/1.0 closes unless asked otherwise
}

TEST_CASE("Connection headers decide keep-alive")
{
    CHECK_FALSE(ParseRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").request.keep_alive);
    CHECK(ParseRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive);
}

TEST_CASE("chunked bodies, missing lengths and oversized bodies are refused with the right status")
{
    CHECK(ParseRequest("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").error_status == 411);
    CHECK(ParseRequest("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").error_status == 501);
    CHECK(ParseRequest("POST / HTTP/1.1\r\n\r\n").error_status == 411);
    CHECK(ParseRequest("POST / HTTP/1.1\r\nContent-Length: 33554433\r\n\r\n").error_status == 413);
    CHECK(ParseRequest("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").error_status == 413);
    CHECK(ParseRequest("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").error_status == 400);
    CHECK(ParseRequest("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error_status == 400);
    // The same length twice is harmless.
    CHECK(ParseRequest("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx").status ==
          ParseStatus::COMPLETE);
}

TEST_CASE("headers over the limits are refused before the block ends")
{
    Limits limits;
    std::string long_line = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'a');
    CHECK(ParseRequest(long_line, limits).error_status == 431);
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
    CHECK(ParseRequest(many + "\r\n", limits).error_status == 431);
}

TEST_CASE("malformed request lines, folded headers and control characters are bad requests")
{
    CHECK(ParseRequest("POST  / HTTP/1.1\r\n\r\n").error_status == 400);
    CHECK(ParseRequest("POST / HTTP/2.0\r\n\r\n").error_status == 505);
    CHECK(ParseRequest("POST / FTP/1.0\r\n\r\n").error_status == 400);
    CHECK(ParseRequest("GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n").error_status == 400);
    CHECK(ParseRequest("GET / HTTP/1.1\r\nX : a\r\n\r\n").error_status == 400);
    CHECK(ParseRequest(std::string("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n")).error_status == 400);
    CHECK(ParseRequest("GET / HTTP/1.1\r\nExpect: something\r\n\r\n").error_status == 417);
}

TEST_CASE("Expect: 100-continue is reported once the headers are in")
{
    auto result = ParseRequest("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    CHECK(result.status == ParseStatus::HEADERS_ONLY);
    CHECK(result.request.expect_continue);
}

TEST_CASE("responses carry their length, and close when asked")
{
    Response response{200, {{"Content-Type", "application/json"}}, "{}\n", false, nullptr};
    CHECK(FormatResponse(response, true) ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{}\n");
    CHECK(FormatResponse(response, false).find("Connection: close\r\n") != std::string::npos);
    CHECK(FormatResponse(Response{204, {}, "", false, nullptr}, true) == "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST_CASE("the client parses a response with or without Content-Length")
{
    auto complete = ParseResponse("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", false);
    REQUIRE(complete);
    CHECK(complete->status == 404);
    CHECK(complete->body == "{}");
    CHECK_FALSE(ParseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", false));
    CHECK_THROWS(ParseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", true));
    CHECK_FALSE(ParseResponse("HTTP/1.1 200 OK\r\n\r\nabc", false));
    CHECK(ParseResponse("HTTP/1.1 200 OK\r\n\r\nabc", true)->body == "abc");
    CHECK_THROWS_WITH(ParseResponse("", true), "no response from server");
}

TEST_CASE("base64 round-trips and rejects what is not base64")
{
    CHECK(Base64Encode("__cookie__:pw") == "X19jb29raWVfXzpwdw==");
    CHECK(*Base64Decode("X19jb29raWVfXzpwdw==") == "__cookie__:pw");
    for (std::string text : {"", "a", "ab", "abc", "abcd"}) CHECK(*Base64Decode(Base64Encode(text)) == text);
    CHECK_FALSE(Base64Decode("abc"));
    CHECK_FALSE(Base64Decode("ab=c"));
    CHECK_FALSE(Base64Decode("a==="));
    CHECK_FALSE(Base64Decode("ab!="));
}

TEST_CASE("base64 with padding bits set is refused, so each byte string has one encoding")
{
    // "Y9o=" is "c\xda"; "Y9p=" sets bits of the padded group (found by fuzz_rpc_request).
    CHECK(*Base64Decode("Y9o=") == "c\xda");
    CHECK_FALSE(Base64Decode("Y9p="));
    CHECK(*Base64Decode("YQ==") == "a");
    CHECK_FALSE(Base64Decode("YR=="));
    CHECK_FALSE(Base64Decode("YW=="));
}

TEST_CASE("wallet names in URLs are percent-decoded and encoded like bitcoin-cli does")
{
    CHECK(*PercentDecode("my%20wallet") == "my wallet");
    CHECK(*PercentDecode("a+b") == "a+b");
    CHECK_FALSE(PercentDecode("bad%2"));
    CHECK_FALSE(PercentDecode("bad%zz"));
    CHECK(PercentEncode("my wallet/ü") == "my%20wallet%2F%C3%BC");
}
