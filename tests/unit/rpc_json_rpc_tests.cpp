// JSON-RPC handling as bitcoind's httprpc.cpp does it: reply shapes of 1.0
// and 2.0, HTTP statuses, batches, notifications, named parameters and the
// error codes for each kind of bad request.
#include <common/rpc/json_rpc.h>

#include <doctest/doctest.h>

#include <cmath>

using namespace orrery::rpc;

namespace {

Table MakeTable()
{
    Table table;
    table.Add({"echo",
               "Test",
               {{"text", ParamType::STRING, true, "what to echo"}, {"count", ParamType::NUMBER, false, "unused"}},
               "Echoes its text.",
               [](const CallRequest& call) { return call.Arg(0); }});
    table.Add({"whichwallet", "Test", {}, "The wallet of the URL.", [](const CallRequest& call) {
                   return call.wallet ? Json(*call.wallet) : Json(nullptr);
               }});
    table.Add({"fail", "Test", {}, "Fails.", [](const CallRequest&) -> Json {
                   throw RpcException(-18, "Requested wallet does not exist or is not loaded");
               }});
    table.Add({"throw", "Test", {}, "Throws.", [](const CallRequest&) -> Json {
                   throw std::runtime_error("plain failure");
               }});
    return table;
}

Json Body(const Reply& reply)
{
    return Json::parse(reply.body);
}

} // namespace

TEST_CASE("a legacy request gets result, error and id, with HTTP 200")
{
    auto reply = HandleBody(MakeTable(), R"({"method":"echo","params":["hi"],"id":7})", std::nullopt);
    CHECK(reply.status == 200);
    CHECK(reply.body == "{\"result\":\"hi\",\"error\":null,\"id\":7}\n");
}

TEST_CASE("a 2.0 request gets jsonrpc and result only")
{
    auto reply = HandleBody(MakeTable(), R"({"jsonrpc":"2.0","method":"echo","params":["hi"],"id":"a"})", std::nullopt);
    CHECK(reply.status == 200);
    CHECK(reply.body == "{\"jsonrpc\":\"2.0\",\"result\":\"hi\",\"id\":\"a\"}\n");
}

TEST_CASE("legacy errors are HTTP errors: 404 for an unknown method, 500 for the rest")
{
    auto missing = HandleBody(MakeTable(), R"({"method":"nosuch","id":1})", std::nullopt);
    CHECK(missing.status == 404);
    CHECK(Body(missing)["error"]["code"] == -32601);
    CHECK(Body(missing)["error"]["message"] == "Method not found");
    CHECK(Body(missing)["result"].is_null());
    auto failed = HandleBody(MakeTable(), R"({"method":"fail","id":1})", std::nullopt);
    CHECK(failed.status == 500);
    CHECK(Body(failed)["error"]["code"] == -18);
    auto thrown = HandleBody(MakeTable(), R"({"method":"throw","id":1})", std::nullopt);
    CHECK(Body(thrown)["error"]["code"] == -1);
    CHECK(Body(thrown)["error"]["message"] == "plain failure");
}

TEST_CASE("2.0 errors answer HTTP 200 with an error object and no result")
{
    auto reply = HandleBody(MakeTable(), R"({"jsonrpc":"2.0","method":"nosuch","id":1})", std::nullopt);
    CHECK(reply.status == 200);
    CHECK_FALSE(Body(reply).contains("result"));
    CHECK(Body(reply)["error"]["code"] == -32601);
}

TEST_CASE("unparsable bodies and bad envelopes get bitcoind's codes and statuses")
{
    auto garbage = HandleBody(MakeTable(), "{not json", std::nullopt);
    CHECK(garbage.status == 500);
    CHECK(Body(garbage)["error"]["code"] == -32700);
    CHECK(Body(garbage)["error"]["message"] == "Parse error");
    auto scalar = HandleBody(MakeTable(), "42", std::nullopt);
    CHECK(Body(scalar)["error"]["message"] == "Top-level object parse error");
    auto no_method = HandleBody(MakeTable(), R"({"id":3})", std::nullopt);
    CHECK(no_method.status == 400);
    CHECK(Body(no_method)["error"]["code"] == -32600);
    CHECK(Body(no_method)["error"]["message"] == "Missing method");
    CHECK(Body(no_method)["id"] == 3);
    auto bad_params = HandleBody(MakeTable(), R"({"method":"echo","params":"hi","id":3})", std::nullopt);
    CHECK(Body(bad_params)["error"]["message"] == "Params must be an array or object");
    auto bad_version = HandleBody(MakeTable(), R"({"jsonrpc":"3.0","method":"echo","id":3})", std::nullopt);
    CHECK(Body(bad_version)["error"]["message"] == "JSON-RPC version not supported");
}

TEST_CASE("nesting deeper than bitcoind allows is a parse error, not a stack overflow")
{
    std::string deep(100000, '[');
    CHECK(Body(HandleBody(MakeTable(), deep, std::nullopt))["error"]["code"] == -32700);
    std::string fine = std::string(500, '[') + std::string(500, ']');
    CHECK(ParseJson(fine).has_value());
}

TEST_CASE("wrong parameter types are RPC_TYPE_ERROR naming the position, as bitcoind words it")
{
    auto reply = HandleBody(MakeTable(), R"({"method":"echo","params":[5, "x"],"id":1})", std::nullopt);
    CHECK(Body(reply)["error"]["code"] == -3);
    CHECK(Body(reply)["error"]["message"] ==
          "Wrong type passed:\n{\n    \"Position 1 (text)\": \"JSON value of type number is not of expected type "
          "string\",\n"
          "    \"Position 2 (count)\": \"JSON value of type string is not of expected type number\"\n}");
}

TEST_CASE("a wrong number of parameters answers the method's help with RPC_MISC_ERROR")
{
    auto none = HandleBody(MakeTable(), R"({"method":"echo","params":[],"id":1})", std::nullopt);
    CHECK(Body(none)["error"]["code"] == -1);
    CHECK(Body(none)["error"]["message"].get<std::string>().starts_with("echo \"text\" ( count )"));
    auto many = HandleBody(MakeTable(), R"({"method":"echo","params":["a", 1, 2],"id":1})", std::nullopt);
    CHECK(Body(many)["error"]["code"] == -1);
}

TEST_CASE("named parameters take their positions and unknown names are refused")
{
    auto named = HandleBody(MakeTable(), R"({"method":"echo","params":{"text":"named"},"id":1})", std::nullopt);
    CHECK(Body(named)["result"] == "named");
    auto unknown =
        HandleBody(MakeTable(), R"({"method":"echo","params":{"text":"a","colour":1},"id":1})", std::nullopt);
    CHECK(Body(unknown)["error"]["code"] == -8);
    CHECK(Body(unknown)["error"]["message"] == "Unknown named parameter colour");
    // A required parameter left out while a later one is named is null in its place: a type error, as in bitcoind.
    auto missing = HandleBody(MakeTable(), R"({"method":"echo","params":{"count":1},"id":1})", std::nullopt);
    CHECK(Body(missing)["error"]["code"] == -3);
    auto empty = HandleBody(MakeTable(), R"({"method":"echo","params":{},"id":1})", std::nullopt);
    CHECK(Body(empty)["error"]["code"] == -1);
}

TEST_CASE("a batch answers every request in order with HTTP 200, errors included")
{
    auto reply = HandleBody(MakeTable(),
                            R"([{"method":"echo","params":["a"],"id":1},{"method":"nosuch","id":2},7,)"
                            R"({"jsonrpc":"2.0","method":"echo","params":["n"]}])",
                            std::nullopt);
    CHECK(reply.status == 200);
    Json body = Body(reply);
    REQUIRE(body.size() == 3); // the 2.0 notification gets no entry
    CHECK(body[0]["result"] == "a");
    CHECK(body[1]["error"]["code"] == -32601);
    CHECK(body[2]["error"]["code"] == -32600);
    CHECK(body[2]["error"]["message"] == "Invalid Request object");
}

TEST_CASE("notifications get 204 and an empty batch gets an empty array")
{
    CHECK(HandleBody(MakeTable(), R"({"jsonrpc":"2.0","method":"echo","params":["a"]})", std::nullopt).status == 204);
    CHECK(HandleBody(MakeTable(), R"([{"jsonrpc":"2.0","method":"echo","params":["a"]}])", std::nullopt).status == 204);
    auto empty = HandleBody(MakeTable(), "[]", std::nullopt);
    CHECK(empty.status == 200);
    CHECK(empty.body == "[]\n");
}

TEST_CASE("the wallet of the URL reaches the method")
{
    auto reply = HandleBody(MakeTable(), R"({"method":"whichwallet","id":1})", std::string("w 1"));
    CHECK(Body(reply)["result"] == "w 1");
}

TEST_CASE("help lists methods by category and explains one method")
{
    Table table = MakeTable();
    std::string all = table.Help("");
    CHECK(all.starts_with("== Test ==\necho \"text\" ( count )\n"));
    CHECK(table.Help("echo").find("1. text (string, required) what to echo") != std::string::npos);
    CHECK(table.Help("nosuch") == "help: unknown command: nosuch");
}

TEST_CASE("the call observer sees every method name, known or not, in order")
{
    Table table = MakeTable();
    std::vector<std::string> seen;
    table.SetCallObserver([&](const std::string& method) { seen.push_back(method); });
    HandleBody(table, R"([{"method":"echo","params":["a"],"id":1},{"method":"nosuch","id":2}])", std::nullopt);
    CHECK(seen == std::vector<std::string>{"echo", "nosuch"});
}

TEST_CASE("amounts print with eight decimals, as bitcoind's ValueFromAmount prints them")
{
    CHECK(WriteJson(ValueFromAmount(50'00000000)) == "50.00000000");
    CHECK(WriteJson(ValueFromAmount(1000)) == "0.00001000");
    CHECK(WriteJson(ValueFromAmount(0)) == "0.00000000");
    CHECK(WriteJson(ValueFromAmount(-1)) == "-0.00000001");
    CHECK(WriteJson(ValueFromAmount(INT64_MIN)) == "-92233720368.54775808");
    CHECK(NumberValue(ValueFromAmount(1000)) == doctest::Approx(0.00001));
    Json reply = Json::object();
    reply["value"] = ValueFromAmount(21'000'000'00000000);
    reply["n"] = 0;
    CHECK(WriteJson(reply) == R"({"value":21000000.00000000,"n":0})");
    CHECK(JsonTypeName(reply["value"]) == "number");
}

TEST_CASE("doubles print with sixteen significant digits, as UniValue prints them")
{
    CHECK(WriteJson(Json(1.0)) == "1");
    CHECK(WriteJson(Json(0.1)) == "0.1");
    CHECK(WriteJson(Json(4.656542373906925e-10)) == "4.656542373906925e-10");
    CHECK(WriteJson(Json(std::nan(""))) == "null");
}

TEST_CASE("a reply parsed with its numbers' text writes back digit for digit")
{
    const std::string text =
        R"({"a":50.00000000,"b":[1e-05,2,-0.10,1E+3],"c":{"d":"x\u00e9","e":null,"f":true},"g":[]})";
    auto kept = ParseJson(text, NumberText::KEEP);
    REQUIRE(kept);
    CHECK(IsRawNumber((*kept)["a"]));
    CHECK(RawNumberText((*kept)["a"]) == "50.00000000");
    CHECK((*kept)["b"][1] == 2); // integers stay integers
    CHECK(WriteJson(*kept) == R"({"a":50.00000000,"b":[1e-05,2,-0.10,1E+3],"c":{"d":"xé","e":null,"f":true},"g":[]})");
    // Without KEEP a number is a double again.
    CHECK(ParseJson(text)->at("a").is_number_float());
    CHECK_FALSE(ParseJson("[1.]", NumberText::KEEP));
    CHECK_FALSE(ParseJson("{\"a\":1", NumberText::KEEP));
}

TEST_CASE("indented output has nlohmann's layout")
{
    const Json value = Json::parse(R"({"a":[1,{"b":"c"}],"d":{},"e":[],"f":{"g":null}})");
    CHECK(WriteJson(value, 2) == value.dump(2));
    CHECK(WriteJson(value, 4) == value.dump(4));
    CHECK(WriteJson(Json::array({ValueFromAmount(1)}), 2) == "[\n  0.00000001\n]");
}

TEST_CASE("a raw number must be a JSON number")
{
    CHECK(WriteJson(RawNumber("-0.5e+7")) == "-0.5e+7");
    for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "0x10", "1 ", "NaN", "\"1\""}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(RawNumber(bad), std::invalid_argument);
    }
    CHECK_THROWS_AS(NumberValue(Json("1")), RpcException);
}
