// JSON-RPC in bitcoind's dialect, without sockets: a table of methods with
// declared parameters, and the handling of one HTTP body (single requests,
// batches, JSON-RPC 1.0 and 2.0, named parameters) into an HTTP status and
// body exactly as bitcoind's httprpc.cpp shapes them.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_JSON_RPC_H
#define ORRERY_SERVICES_GUI_BRIDGE_JSON_RPC_H

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::rpc {

//! Objects keep their insertion order, so replies list fields in bitcoind's order.
using Json = nlohmann::ordered_json;

//! Protocol codes of bitcoind's rpc/protocol.h that interfaces/rpc_error.h does not carry.
enum ProtocolCode : int {
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
    RPC_PARSE_ERROR = -32700,
    RPC_MISC_ERROR = -1,
    RPC_TYPE_ERROR = -3,
    RPC_INVALID_PARAMETER = -8,
    RPC_IN_WARMUP = -28,
};

//! An error answered to the caller with its code (bitcoind's JSONRPCError).
class RpcException : public std::runtime_error
{
public:
    RpcException(int code, const std::string& message) : std::runtime_error(message), m_code(code) {}
    int code() const { return m_code; }

private:
    int m_code;
};

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

class Table
{
public:
    void Add(Method method);
    const Method* Find(std::string_view name) const;
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

//! Handles a POSTed body the way bitcoind's HTTPReq_JSONRPC does.
Reply HandleBody(const Table& table, std::string_view body, const std::optional<std::string>& wallet);

//! JSON type names as bitcoind's uvTypeName prints them.
std::string_view JsonTypeName(const Json& value);

//! Nesting deeper than this is a parse error (bitcoind's UniValue has the same bound).
inline constexpr size_t MAX_JSON_DEPTH = 512;
//! Parses JSON text; nullopt for invalid text, trailing garbage or nesting over MAX_JSON_DEPTH.
std::optional<Json> ParseJson(std::string_view text);

} // namespace orrery::rpc

#endif // ORRERY_SERVICES_GUI_BRIDGE_JSON_RPC_H
