// JSON-RPC in bitcoind's dialect, without sockets: the table of methods a
// service owns (declared parameters, named arguments, type checks, help), and
// the handling of one HTTP body (single requests, batches, JSON-RPC 1.0 and
// 2.0) into an HTTP status and body exactly as bitcoind's httprpc.cpp shapes
// them. The node and the wallet run their tables; the gui-bridge handles bodies.
#ifndef ORRERY_COMMON_RPC_JSON_RPC_H
#define ORRERY_COMMON_RPC_JSON_RPC_H

#include <common/rpc/json_number.h>
#include <common/rpc/protocol.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::rpc {

// rpc::Json (common/rpc/json_number.h): objects keep their insertion order, so replies list fields in bitcoind's
// order; amounts are raw numbers, and every reply is written by WriteJson.

enum class ParamType { STRING, NUMBER, BOOL, OBJECT, ARRAY, ANY };

struct Param {
    std::string name;
    ParamType type{ParamType::STRING};
    bool required{false};
    std::string help;
};

//! One call as a handler sees it: params positional (named ones already placed), nulls for omitted ones.
struct CallRequest {
    std::string method;
    Json params = Json::array();
    //! The wallet named by a /wallet/<name> URL, URL-decoded.
    std::optional<std::string> wallet;

    //! The i-th parameter, or null when omitted.
    const Json& Arg(size_t i) const;
};

struct Method {
    std::string name;
    std::string category; //!< help's "== Category ==" sections
    std::vector<Param> params;
    std::string description;
    std::function<Json(const CallRequest&)> handler;
};

//! A parameter the call must give / may leave out.
Param Required(std::string name, ParamType type, std::string help);
Param Optional(std::string name, ParamType type, std::string help);
//! A NUMBER argument that must be an integer (UniValue's getInt): RPC_TYPE_ERROR for fractions and overflow.
int64_t IntegerArg(const Json& value);
//! A STRING argument, or `fallback` when omitted (null).
std::string StringArg(const Json& value, std::string fallback = "");

class Table
{
public:
    void Add(Method method);
    const Method* Find(std::string_view name) const;
    //! Every method, by name.
    std::vector<const Method*> Methods() const;
    //! Runs one call; throws RpcException (unknown method, bad params, the handler's own
    //! errors). Any other exception from a handler becomes RPC_MISC_ERROR with its message.
    Json Execute(const std::string& method, const Json& params, const std::optional<std::string>& wallet) const;
    //! help's output: every method by category, or one method's help.
    std::string Help(const std::string& command) const;
    //! "name ( "optional" )", the first line of a method's help.
    static std::string Synopsis(const Method& method);
    //! Called with every method name before it runs (found or not); for -debug=rpc. Set before serving.
    void SetCallObserver(std::function<void(const std::string& method)> observer) { m_observer = std::move(observer); }

private:
    std::map<std::string, Method, std::less<>> m_methods;
    std::function<void(const std::string&)> m_observer;
};

//! An HTTP answer to one body. status 204 means no body (notifications only).
struct Reply {
    int status{200};
    std::string body;
};

//! Runs one call wherever its method lives; throws RpcException as Table::Execute does.
using Executor =
    std::function<Json(const std::string& method, const Json& params, const std::optional<std::string>& wallet)>;

//! Handles a POSTed body the way bitcoind's HTTPReq_JSONRPC does, each call through `execute`.
Reply HandleBody(const Executor& execute, std::string_view body, const std::optional<std::string>& wallet);
//! The same with every call going to one table.
Reply HandleBody(const Table& table, std::string_view body, const std::optional<std::string>& wallet);

//! A parameter type by its name in help and in RpcParamInfo ("string", "number", ...); nullopt if unknown.
std::optional<ParamType> ParamTypeFromName(std::string_view name);
std::string_view ParamTypeName(ParamType type);

//! JSON type names as bitcoind's uvTypeName prints them.
std::string_view JsonTypeName(const Json& value);

//! Nesting deeper than this is a parse error (bitcoind's UniValue has the same bound).
inline constexpr size_t MAX_JSON_DEPTH = 512;
//! How ParseJson reads a number with a fraction or exponent: as a double (requests, whose handlers read values), or
//! as a raw number keeping its text (results another process wrote, passed on or printed unchanged).
enum class NumberText { DOUBLE, KEEP };
//! Parses JSON text; nullopt for invalid text, trailing garbage or nesting over MAX_JSON_DEPTH.
std::optional<Json> ParseJson(std::string_view text, NumberText numbers = NumberText::DOUBLE);

} // namespace orrery::rpc

#endif // ORRERY_COMMON_RPC_JSON_RPC_H
