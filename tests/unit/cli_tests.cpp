// orrery-cli's side of RPC: words typed per method as bitcoin-cli types them,
// and replies printed (and exit codes chosen) as bitcoin-cli does.
#include <cli/rpc_client.h>

#include <doctest/doctest.h>

using namespace orrery::cli;

TEST_CASE("known methods send JSON only where bitcoind expects it")
{
    CHECK(ConvertParams("getnewaddress", {"123", "bech32"}, false) == Json::array({"123", "bech32"}));
    CHECK(ConvertParams("disconnectnode", {"", "7"}, false) == Json::array({"", 7}));
    CHECK(ConvertParams("createwallet", {"w", "false", "true"}, false) == Json::array({"w", false, true}));
    CHECK_THROWS_WITH(ConvertParams("disconnectnode", {"", "seven"}, false), "Error parsing JSON: seven");
    // setban as bitcoin-cli: the subnet stays a string even when it looks like a number.
    CHECK(ConvertParams("setban", {"10", "add", "3600", "true"}, false) == Json::array({"10", "add", 3600, true}));
    CHECK(ConvertParams("setban", {"subnet=10.0.0.0/8", "command=add", "bantime=60"}, true) ==
          Json{{"subnet", "10.0.0.0/8"}, {"command", "add"}, {"bantime", 60}});
}

TEST_CASE("unknown methods send what parses as JSON as JSON, the rest as strings")
{
    Json params = ConvertParams("futuremethod", {"1.5", "true", "[1,2]", "{\"a\":1}", "word", "\"quoted\""}, false);
    CHECK(params == Json::parse(R"([1.5, true, [1,2], {"a":1}, "word", "\"quoted\""])"));
}

TEST_CASE("-named turns key=value words into an object, typed by name")
{
    CHECK(ConvertParams("disconnectnode", {"nodeid=3"}, true) == Json{{"nodeid", 3}});
    CHECK(ConvertParams("getnewaddress", {"label=a=b"}, true) == Json{{"label", "a=b"}});
    CHECK_THROWS(ConvertParams("getnewaddress", {"label"}, true));
    CHECK_THROWS(ConvertParams("getnewaddress", {"label=a", "label=b"}, true));
}

TEST_CASE("results print as bitcoin-cli prints them")
{
    CHECK(FormatReply(Json::parse(R"({"result":"bcrt1qxyz","error":null,"id":1})")).out == "bcrt1qxyz\n");
    CHECK(FormatReply(Json::parse(R"({"result":null,"error":null,"id":1})")).out.empty());
    CHECK(FormatReply(Json::parse(R"({"result":{"a":[1]},"error":null,"id":1})")).out ==
          "{\n  \"a\": [\n    1\n  ]\n}\n");
    CHECK(FormatReply(Json::parse(R"({"result":7,"error":null,"id":1})")).out == "7\n");
}

TEST_CASE("errors print code and message on stderr and exit with the code's absolute value")
{
    Output output =
        FormatReply(Json::parse(R"({"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1})"));
    CHECK(output.out.empty());
    CHECK(output.err == "error code: -32601\nerror message:\nMethod not found\n");
    CHECK(output.exit_code == 32601);
    Output wallet = FormatReply(
        Json::parse(R"({"result":null,"error":{"code":-19,"message":"Wallet file not specified."},"id":1})"));
    CHECK(wallet.err.find("-rpcwallet=<walletname>") != std::string::npos);
    CHECK(FormatReply(Json::parse(R"({"result":null,"error":"odd","id":1})")).exit_code == 1);
}
