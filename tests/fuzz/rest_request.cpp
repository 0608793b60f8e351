// Fuzz target: a REST request from anyone who reaches the RPC port (REST needs
// no credentials). The input is "<target>\n<body>": the path and query go
// through the gui-bridge's REST routing and parsers, the body through the
// getutxos decoder. The node's side answers a fixed, small chain, so every
// parser and every reply path runs; nothing may crash and every answer is an
// HTTP status.
#include <services/gui-bridge/rest.h>

#include <common/rpc/protocol.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using orrery::rpc::Json;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t newline = input.find('\n');
    orrery::http::Request request;
    request.method = "GET";
    request.target = std::string(input.substr(0, newline));
    if (newline != std::string_view::npos) request.body = std::string(input.substr(newline + 1));
    if (!orrery::rest::IsRestPath(request.target)) request.target = "/rest/" + request.target;

    static const std::string ZERO_HASH(64, '0');
    orrery::rpc::Executor execute = [](const std::string& method, const Json& params,
                                       const std::optional<std::string>&) -> Json {
        if (method == "getblockchaininfo") return Json{{"blocks", 0}, {"bestblockhash", ZERO_HASH}};
        if (method == "getbestblockhash") return ZERO_HASH;
        if (method == "getblockhash") {
            if (params.at(0) == 0) return ZERO_HASH;
            throw orrery::rpc::RpcException(orrery::rpc::RPC_INVALID_PARAMETER, "Block height out of range");
        }
        if (method == "gettxout") {
            if (params.at(1) != 0) return nullptr;
            return Json{{"bestblock", ZERO_HASH},
                        {"confirmations", 1},
                        {"value", 50.0},
                        {"scriptPubKey", {{"hex", "51"}, {"type", "nonstandard"}}}};
        }
        if (method == "getblockheader" && params.at(0) == ZERO_HASH) {
            return Json{{"hash", ZERO_HASH}, {"confirmations", 1}, {"version", 1}, {"merkleroot", ZERO_HASH},
                        {"time", 1},         {"bits", "207fffff"}, {"nonce", 2}};
        }
        throw orrery::rpc::RpcException(orrery::rpc::RPC_INVALID_ADDRESS_OR_KEY, "not found");
    };
    auto response = orrery::rest::Handle(request, execute);
    if (response.status < 200 || response.status > 599) std::abort();

    auto query = orrery::rest::ParseUtxoBody(request.body);
    if (query && query->outpoints.size() * 36 > request.body.size()) std::abort();
    return 0;
}
