// orrery-cli's JSON-RPC client, bitcoin-cli's way: command-line arguments
// typed per method (numbers, booleans and JSON where a method expects them,
// strings elsewhere), one HTTP POST, and the reply printed as bitcoin-cli
// prints it.
#ifndef ORRERY_CLI_RPC_CLIENT_H
#define ORRERY_CLI_RPC_CLIENT_H

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace orrery::cli {

using Json = nlohmann::ordered_json;

//! The server could not be reached at all (bitcoin-cli's CConnectionFailed): worth a retry with -rpcwait.
class ConnectionFailed : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! The server answered 401.
class Unauthorized : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! The params of `method` from command-line words: an array, or with `named` an object of key=value.
//! Throws std::runtime_error("Error parsing JSON: ...") for a value that must be JSON and is not.
Json ConvertParams(const std::string& method, const std::vector<std::string>& words, bool named);

//! What to print for a reply and the exit code: the result (strings bare, JSON
//! with 2-space indent, nothing for null) on stdout, or bitcoin-cli's
//! "error code: N\nerror message:\n..." on stderr with exit code |N|.
struct Output {
    std::string out;
    std::string err;
    int exit_code{0};
};
Output FormatReply(const Json& reply);

struct Target {
    std::string host;
    uint16_t port{0};
    std::string path{"/"};
    std::string authorization; //!< "user:password"
    std::chrono::seconds timeout{900};
};

//! Sends one JSON-RPC body and returns the reply object (an array of them for a batch). Throws ConnectionFailed when
//! nothing answers, Unauthorized on 401, std::runtime_error for other HTTP-level failures.
Json Post(const Target& target, const std::string& body);

} // namespace orrery::cli

#endif // ORRERY_CLI_RPC_CLIENT_H
