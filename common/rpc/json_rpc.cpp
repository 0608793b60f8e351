// JSON-RPC request handling in bitcoind's dialect; see json_rpc.h.
//
// The shapes follow bitcoind's httprpc.cpp and rpc/request.cpp: a 1.0 (legacy)
// reply carries both "result" and "error", a 2.0 reply one of them plus
// "jsonrpc"; a failed single 1.0 request also fails at the HTTP level (400 for
// an invalid request, 404 for an unknown method, 500 otherwise) while 2.0
// requests and every batch entry answer 200; 2.0 notifications get no reply.
#include <common/rpc/json_rpc.h>

#include <common/util/text.h>

#include <fmt/format.h>

namespace orrery::rpc {
namespace {

enum class Version { V1_LEGACY, V2 };

//! A request object once its envelope is checked (bitcoind's JSONRPCRequest::parse).
struct Envelope {
    std::optional<Json> id;
    Version version{Version::V1_LEGACY};
    std::string method;
    Json params = Json::array();

    bool IsNotification() const { return !id && version == Version::V2; }
};

//! Throws RpcException(RPC_INVALID_REQUEST) as bitcoind does; fills `out` as far as it got,
//! so that the error reply still carries the id.
void ParseEnvelope(const Json& request, Envelope& out)
{
    if (!request.is_object()) throw RpcException(RPC_INVALID_REQUEST, "Invalid Request object");
    if (auto id = request.find("id"); id != request.end()) out.id = *id;
    if (auto version = request.find("jsonrpc"); version != request.end() && !version->is_null()) {
        if (!version->is_string()) throw RpcException(RPC_INVALID_REQUEST, "jsonrpc field must be a string");
        // Some old documentation put "jsonrpc": "1.0" in requests, so bitcoind accepts it as legacy.
        if (*version == "1.0") {
            out.version = Version::V1_LEGACY;
        } else if (*version == "2.0") {
            out.version = Version::V2;
        } else {
            throw RpcException(RPC_INVALID_REQUEST, "JSON-RPC version not supported");
        }
    }
    auto method = request.find("method");
    if (method == request.end() || method->is_null()) throw RpcException(RPC_INVALID_REQUEST, "Missing method");
    if (!method->is_string()) throw RpcException(RPC_INVALID_REQUEST, "Method must be a string");
    out.method = method->get<std::string>();
    auto params = request.find("params");
    if (params == request.end() || params->is_null()) {
        out.params = Json::array();
    } else if (params->is_array() || params->is_object()) {
        out.params = *params;
    } else {
        throw RpcException(RPC_INVALID_REQUEST, "Params must be an array or object");
    }
}

Json ErrorObject(int code, const std::string& message)
{
    Json error = Json::object();
    error["code"] = code;
    error["message"] = message;
    return error;
}

Json ReplyObject(Json result, Json error, const std::optional<Json>& id, Version version)
{
    Json reply = Json::object();
    if (version == Version::V2) reply["jsonrpc"] = "2.0";
    if (version == Version::V1_LEGACY) {
        reply["result"] = error.is_null() ? std::move(result) : Json(nullptr);
        reply["error"] = std::move(error);
    } else if (!error.is_null()) {
        reply["error"] = std::move(error);
    } else {
        reply["result"] = std::move(result);
    }
    if (id) reply["id"] = *id;
    return reply;
}

std::string Write(const Json& value)
{
    // Strings from peers (a subversion) may be invalid UTF-8: replace, never throw.
    return WriteJson(value) + "\n";
}

int HttpStatusOf(int code)
{
    if (code == RPC_INVALID_REQUEST) return 400;
    if (code == RPC_METHOD_NOT_FOUND) return 404;
    return 500;
}

} // namespace

std::string_view ParamTypeName(ParamType type)
{
    switch (type) {
    case ParamType::STRING:
        return "string";
    case ParamType::NUMBER:
        return "number";
    case ParamType::BOOL:
        return "bool";
    case ParamType::OBJECT:
        return "object";
    case ParamType::ARRAY:
        return "array";
    case ParamType::ANY:
        return "any";
    }
    return "any";
}

std::optional<ParamType> ParamTypeFromName(std::string_view name)
{
    for (ParamType type :
         {ParamType::STRING, ParamType::NUMBER, ParamType::BOOL, ParamType::OBJECT, ParamType::ARRAY, ParamType::ANY}) {
        if (ParamTypeName(type) == name) return type;
    }
    return std::nullopt;
}

namespace {

bool Matches(const Json& value, ParamType type)
{
    switch (type) {
    case ParamType::STRING:
        return value.is_string();
    case ParamType::NUMBER:
        return IsNumber(value);
    case ParamType::BOOL:
        return value.is_boolean();
    case ParamType::OBJECT:
        return value.is_object();
    case ParamType::ARRAY:
        return value.is_array();
    case ParamType::ANY:
        return true;
    }
    return false;
}

} // namespace

const Json& CallRequest::Arg(size_t i) const
{
    static const Json null_value;
    return i < params.size() ? params[i] : null_value;
}

std::string_view JsonTypeName(const Json& value)
{
    if (value.is_null()) return "null";
    if (value.is_boolean()) return "bool";
    if (value.is_object()) return "object";
    if (value.is_array()) return "array";
    if (IsNumber(value)) return "number";
    if (value.is_string()) return "string";
    return "unknown";
}

namespace {

//! nlohmann's DOM builder, except that a number with a fraction or exponent becomes a raw number of its text.
class KeepNumberText
{
public:
    explicit KeepNumberText(Json& result) : m_dom(result, /*allow_exceptions=*/false) {}
    bool null() { return m_dom.null(); }
    bool boolean(bool value) { return m_dom.boolean(value); }
    bool number_integer(Json::number_integer_t value) { return m_dom.number_integer(value); }
    bool number_unsigned(Json::number_unsigned_t value) { return m_dom.number_unsigned(value); }
    bool number_float(Json::number_float_t, const Json::string_t& text)
    {
        Json::binary_t raw = RawNumber(text).get_binary();
        return m_dom.binary(raw);
    }
    bool string(Json::string_t& value) { return m_dom.string(value); }
    bool binary(Json::binary_t& value) { return m_dom.binary(value); }
    bool start_object(std::size_t size) { return m_dom.start_object(size); }
    bool key(Json::string_t& value) { return m_dom.key(value); }
    bool end_object() { return m_dom.end_object(); }
    bool start_array(std::size_t size) { return m_dom.start_array(size); }
    bool end_array() { return m_dom.end_array(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    nlohmann::detail::json_sax_dom_parser<Json> m_dom;
};

} // namespace

std::optional<Json> ParseJson(std::string_view text, NumberText numbers)
{
    // nlohmann's parser does not bound nesting; a linear scan does, before any allocation.
    if (JsonNestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return std::nullopt;
    if (numbers == NumberText::KEEP) {
        Json value;
        KeepNumberText builder(value);
        if (!Json::sax_parse(text.begin(), text.end(), &builder)) return std::nullopt;
        return value;
    }
    Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

// --- the method table ------------------------------------------------------

void Table::Add(Method method)
{
    std::string name = method.name;
    m_methods.insert_or_assign(std::move(name), std::move(method));
}

std::vector<const Method*> Table::Methods() const
{
    std::vector<const Method*> methods;
    for (const auto& [name, method] : m_methods) methods.push_back(&method);
    return methods;
}

Param Required(std::string name, ParamType type, std::string help)
{
    return {std::move(name), type, true, std::move(help)};
}

Param Optional(std::string name, ParamType type, std::string help)
{
    return {std::move(name), type, false, std::move(help)};
}

int64_t IntegerArg(const Json& value)
{
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)) {
        throw RpcException(RPC_TYPE_ERROR, "JSON integer out of range");
    }
    if (!value.is_number_integer()) throw RpcException(RPC_TYPE_ERROR, "JSON value is not an integer as expected");
    return value.get<int64_t>();
}

std::string StringArg(const Json& value, std::string fallback)
{
    return value.is_null() ? std::move(fallback) : value.get<std::string>();
}

const Method* Table::Find(std::string_view name) const
{
    auto it = m_methods.find(name);
    return it == m_methods.end() ? nullptr : &it->second;
}

std::string Table::Synopsis(const Method& method)
{
    std::string out = method.name;
    bool optional_open = false;
    for (const auto& param : method.params) {
        if (!param.required && !optional_open) {
            out += " (";
            optional_open = true;
        }
        out += param.type == ParamType::STRING ? " \"" + param.name + "\"" : " " + param.name;
    }
    if (optional_open) out += " )";
    return out;
}

std::string Table::Help(const std::string& command) const
{
    if (!command.empty()) {
        const Method* method = Find(command);
        if (!method) return "help: unknown command: " + command;
        std::string out = Synopsis(*method) + "\n\n" + method->description + "\n";
        if (!method->params.empty()) {
            out += "\nArguments:\n";
            for (size_t i = 0; i < method->params.size(); ++i) {
                const Param& p = method->params[i];
                out += fmt::format("{}. {} ({}, {}) {}\n", i + 1, p.name, ParamTypeName(p.type),
                                   p.required ? "required" : "optional", p.help);
            }
        }
        return out;
    }
    std::map<std::string, std::vector<const Method*>> by_category;
    for (const auto& [name, method] : m_methods) by_category[method.category].push_back(&method);
    std::string out;
    for (const auto& [category, methods] : by_category) {
        if (!out.empty()) out += "\n";
        out += "== " + category + " ==\n";
        for (const Method* method : methods) out += Synopsis(*method) + "\n";
    }
    if (!out.empty()) out.pop_back();
    return out;
}

Json Table::Execute(const std::string& name, const Json& params, const std::optional<std::string>& wallet) const
{
    if (m_observer) m_observer(name);
    const Method* method = Find(name);
    if (!method) throw RpcException(RPC_METHOD_NOT_FOUND, "Method not found");
    CallRequest call;
    call.method = name;
    call.wallet = wallet;
    if (params.is_object()) {
        // Named parameters take their declared positions; omitted ones stay null.
        Json positional = Json::array();
        for (size_t i = 0; i < method->params.size(); ++i) positional.push_back(nullptr);
        for (const auto& [key, value] : params.items()) {
            size_t index = 0;
            while (index < method->params.size() && method->params[index].name != key) ++index;
            if (index == method->params.size()) {
                throw RpcException(RPC_INVALID_PARAMETER, "Unknown named parameter " + key);
            }
            positional[index] = value;
        }
        while (!positional.empty() && positional.back().is_null()) positional.erase(positional.size() - 1);
        call.params = std::move(positional);
    } else {
        call.params = params;
    }
    size_t required = 0;
    for (const auto& param : method->params) required += param.required ? 1 : 0;
    if (call.params.size() < required || call.params.size() > method->params.size()) {
        // bitcoind answers a wrong argument count with the method's help.
        throw RpcException(RPC_MISC_ERROR, Help(name));
    }
    std::vector<std::string> mismatches;
    for (size_t i = 0; i < call.params.size(); ++i) {
        const Param& param = method->params[i];
        const Json& value = call.params[i];
        if (value.is_null() && !param.required) continue;
        if (!Matches(value, param.type)) {
            mismatches.push_back(
                fmt::format("    \"Position {} ({})\": \"JSON value of type {} is not of expected type {}\"", i + 1,
                            param.name, JsonTypeName(value), ParamTypeName(param.type)));
        }
    }
    if (!mismatches.empty()) {
        throw RpcException(RPC_TYPE_ERROR, fmt::format("Wrong type passed:\n{{\n{}\n}}", Join(mismatches, ",\n")));
    }
    try {
        return method->handler(call);
    } catch (const RpcException&) {
        throw;
    } catch (const std::exception& e) {
        throw RpcException(RPC_MISC_ERROR, e.what());
    }
}

// --- one HTTP body ---------------------------------------------------------

namespace {

//! Runs one parsed request, turning its failure into an error reply (2.0 and batches).
Json ExecuteCaught(const Executor& execute, const Envelope& request, const std::optional<std::string>& wallet)
{
    try {
        return ReplyObject(execute(request.method, request.params, wallet), nullptr, request.id, request.version);
    } catch (const RpcException& e) {
        return ReplyObject(nullptr, ErrorObject(e.code(), e.what()), request.id, request.version);
    }
}

Reply ErrorReply(int code, const std::string& message, const Envelope& request)
{
    return {HttpStatusOf(code), Write(ReplyObject(nullptr, ErrorObject(code, message), request.id, request.version))};
}

} // namespace

Reply HandleBody(const Table& table, std::string_view body, const std::optional<std::string>& wallet)
{
    return HandleBody(
        [&table](const std::string& method, const Json& params, const std::optional<std::string>& url_wallet) {
            return table.Execute(method, params, url_wallet);
        },
        body, wallet);
}

Reply HandleBody(const Executor& execute, std::string_view body, const std::optional<std::string>& wallet)
{
    std::optional<Json> parsed = ParseJson(body);
    if (!parsed) return ErrorReply(RPC_PARSE_ERROR, "Parse error", Envelope{});
    if (parsed->is_object()) {
        Envelope request;
        try {
            ParseEnvelope(*parsed, request);
            if (request.version == Version::V2) {
                Json reply = ExecuteCaught(execute, request, wallet);
                // Notifications are executed but not answered.
                if (request.IsNotification()) return {204, ""};
                return {200, Write(reply)};
            }
            // Legacy: a failure is an HTTP error too.
            Json result = execute(request.method, request.params, wallet);
            return {200, Write(ReplyObject(std::move(result), nullptr, request.id, request.version))};
        } catch (const RpcException& e) {
            return ErrorReply(e.code(), e.what(), request);
        }
    }
    if (parsed->is_array()) {
        // Batches answer 200 whatever their entries do; notifications get no entry.
        Json replies = Json::array();
        for (const auto& entry : *parsed) {
            Envelope request;
            try {
                ParseEnvelope(entry, request);
            } catch (const RpcException& e) {
                replies.push_back(ReplyObject(nullptr, ErrorObject(e.code(), e.what()), request.id, request.version));
                continue;
            }
            Json reply = ExecuteCaught(execute, request, wallet);
            if (!request.IsNotification()) replies.push_back(std::move(reply));
        }
        // An all-notification batch gets no body; an empty batch gets [] (bitcoind keeps old clients working).
        if (replies.empty() && !parsed->empty()) return {204, ""};
        return {200, Write(replies)};
    }
    return ErrorReply(RPC_PARSE_ERROR, "Top-level object parse error", Envelope{});
}

} // namespace orrery::rpc
