// orrery-cli's JSON-RPC client; see rpc_client.h.
#include <cli/rpc_client.h>

#include <common/http/http.h>
#include <common/rpc/json_rpc.h>
#include <common/rpc/protocol.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace orrery::cli {
namespace {

//! Parameters sent as JSON rather than strings, per method, by position and by name
//! (bitcoin-cli's vRPCConvertParams, for the methods Orrery has or will have).
struct Converted {
    int index;
    const char* name;
};
const std::map<std::string, std::vector<Converted>>& ConvertTable()
{
    static const std::map<std::string, std::vector<Converted>> table{
        {"disconnectnode", {{1, "nodeid"}}},
        {"setban", {{2, "bantime"}, {3, "absolute"}}},
        {"listbanned", {}},
        {"clearbanned", {}},
        {"createwallet",
         {{1, "disable_private_keys"},
          {2, "blank"},
          {4, "avoid_reuse"},
          {5, "descriptors"},
          {6, "load_on_startup"},
          {7, "external_signer"}}},
        {"loadwallet", {{1, "load_on_startup"}}},
        {"unloadwallet", {{1, "load_on_startup"}}},
        {"getblockhash", {{0, "height"}}},
        {"getblock", {{1, "verbosity"}}},
        {"getblockheader", {{1, "verbose"}}},
        {"getrawtransaction", {{1, "verbose"}}},
        {"generatetoaddress", {{0, "nblocks"}, {2, "maxtries"}}},
        {"sendtoaddress",
         {{1, "amount"},
          {4, "subtractfeefromamount"},
          {5, "replaceable"},
          {6, "conf_target"},
          {8, "avoid_reuse"},
          {9, "fee_rate"},
          {10, "verbose"}}},
        {"sendmany",
         {{1, "amounts"},
          {2, "minconf"},
          {4, "subtractfeefrom"},
          {5, "replaceable"},
          {6, "conf_target"},
          {8, "fee_rate"},
          {9, "verbose"}}},
        {"fundrawtransaction", {{1, "options"}, {2, "iswitness"}}},
        {"sendall", {{0, "recipients"}, {1, "conf_target"}, {3, "fee_rate"}, {4, "options"}}},
        {"signrawtransactionwithwallet", {{1, "prevtxs"}}},
        {"getbalance", {{1, "minconf"}, {2, "include_watchonly"}, {3, "avoid_reuse"}}},
        {"listunspent",
         {{0, "minconf"}, {1, "maxconf"}, {2, "addresses"}, {3, "include_unsafe"}, {4, "query_options"}}},
        {"getrawmempool", {{0, "verbose"}}},
        {"setnetworkactive", {{0, "state"}}},
        {"estimatesmartfee", {{0, "conf_target"}}},
        {"logging", {{0, "include"}, {1, "exclude"}}},
        {"waitforblockheight", {{0, "height"}, {1, "timeout"}}},
        {"getnewaddress", {}},
        {"getwalletinfo", {}},
        {"listwallets", {}},
        {"listwalletdir", {}},
        {"addnode", {}},
        {"help", {}},
        {"stop", {{0, "wait"}}},
        {"uptime", {}},
        {"getblockchaininfo", {}},
        {"getnetworkinfo", {}},
        {"getpeerinfo", {}},
        {"getconnectioncount", {}},
        {"getblockcount", {}},
        {"getbestblockhash", {}},
        {"getmempoolinfo", {}},
    };
    return table;
}

Json ParseStrict(const std::string& word)
{
    Json value = Json::parse(word, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) throw std::runtime_error("Error parsing JSON: " + word);
    return value;
}

//! One word as the method expects it. Methods missing from the table get a best guess:
//! whatever parses as JSON other than a bare string is sent as JSON.
Json ConvertWord(const std::string& method, int index, const std::string& name, const std::string& word)
{
    const auto& table = ConvertTable();
    auto it = table.find(method);
    if (it == table.end()) {
        Json value = Json::parse(word, nullptr, /*allow_exceptions=*/false);
        return value.is_discarded() || value.is_string() ? Json(word) : value;
    }
    for (const auto& entry : it->second) {
        if ((index >= 0 && entry.index == index) || (!name.empty() && name == entry.name)) return ParseStrict(word);
    }
    return word;
}

} // namespace

Json ConvertParams(const std::string& method, const std::vector<std::string>& words, bool named)
{
    if (!named) {
        Json params = Json::array();
        for (size_t i = 0; i < words.size(); ++i)
            params.push_back(ConvertWord(method, static_cast<int>(i), "", words[i]));
        return params;
    }
    Json params = Json::object();
    for (const auto& word : words) {
        size_t equals = word.find('=');
        if (equals == std::string::npos || equals == 0) {
            throw std::runtime_error("No '=' in named argument '" + word +
                                     "', this may be because you forgot to put the argument name before its value");
        }
        std::string key = word.substr(0, equals);
        if (params.contains(key)) throw std::runtime_error("Parameter " + key + " specified multiple times");
        params[key] = ConvertWord(method, -1, key, word.substr(equals + 1));
    }
    return params;
}

Output FormatReply(const Json& reply)
{
    Output output;
    const auto error = reply.find("error");
    if (error != reply.end() && !error->is_null()) {
        if (error->is_object()) {
            auto code = error->find("code");
            auto message = error->find("message");
            if (code != error->end() && !code->is_null()) output.err = "error code: " + code->dump() + "\n";
            if (message != error->end() && message->is_string())
                output.err += "error message:\n" + message->get<std::string>();
            if (code != error->end() && code->is_number_integer() &&
                code->get<int64_t>() == rpc::RPC_WALLET_NOT_SPECIFIED) {
                output.err += " Or for the CLI, specify the \"-rpcwallet=<walletname>\" option before the command"
                              " (run \"orrery-cli -h\" for help or \"orrery-cli listwallets\" to see which wallets are "
                              "currently loaded).";
            }
            output.exit_code = code != error->end() && code->is_number_integer()
                                   ? static_cast<int>(std::llabs(code->get<int64_t>()))
                                   : EXIT_FAILURE;
        } else {
            output.err = "error: " + error->dump();
            output.exit_code = EXIT_FAILURE;
        }
        if (output.exit_code == 0) output.exit_code = EXIT_FAILURE;
        output.err += "\n";
        return output;
    }
    const auto result = reply.find("result");
    if (result == reply.end() || result->is_null()) return output;
    output.out = result->is_string() ? result->get<std::string>() : rpc::WriteJson(*result, 2);
    output.out += "\n";
    return output;
}

// --- HTTP ------------------------------------------------------------------

namespace {

std::string ErrnoText(int error)
{
    return "error code " + std::to_string(error) + " - \"" + std::strerror(error) + "\"";
}

int ConnectTo(const Target& target)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(target.port);
    std::string failure = "no address";
    if (int rc = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        failure = ::gai_strerror(rc);
        found = nullptr;
    }
    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            failure = ErrnoText(errno);
            ::close(fd);
            fd = -1;
        }
    }
    if (found) ::freeaddrinfo(found);
    if (fd < 0) {
        throw ConnectionFailed("Could not connect to the server " + target.host + ":" + port + " (" + failure +
                               ")\n\nMake sure the orrery-gui-bridge server is running and that you are connecting to "
                               "the correct RPC port.\nUse \"orrery-cli -help\" for more info.");
    }
    return fd;
}

} // namespace

Json Post(const Target& target, const std::string& body)
{
    int fd = ConnectTo(target);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    std::string request = "POST " + target.path + " HTTP/1.1\r\nHost: " + target.host +
                          "\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Basic " +
                          http::Base64Encode(target.authorization) +
                          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto deadline = std::chrono::steady_clock::now() + target.timeout;
    auto wait = [&](short events) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) throw std::runtime_error("timeout waiting for the server's reply (-rpcclienttimeout)");
        pollfd p{fd, events, 0};
        ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    };
    size_t sent = 0;
    while (sent < request.size()) {
        wait(POLLOUT);
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) break; // the server may answer (401) and close before reading all: read what it said
        sent += static_cast<size_t>(n);
    }
    std::string buffer;
    std::optional<http::ClientResponse> response;
    for (;;) {
        response = http::ParseResponse(buffer, false);
        if (response) break;
        wait(POLLIN);
        char chunk[65536];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
            response = http::ParseResponse(buffer, true);
            break;
        }
        buffer.append(chunk, static_cast<size_t>(n));
    }
    if (response->status == 401) throw Unauthorized("Authorization failed: Incorrect rpcuser or rpcpassword");
    if (response->status >= 400 && response->status != 400 && response->status != 404 && response->status != 500) {
        throw std::runtime_error("server returned HTTP error " + std::to_string(response->status));
    }
    if (response->body.empty()) throw std::runtime_error("no response from server");
    // Numbers keep their text, so amounts print as the server wrote them ("50.00000000"), as with bitcoin-cli.
    std::optional<Json> parsed = rpc::ParseJson(response->body, rpc::NumberText::KEEP);
    if (!parsed) throw std::runtime_error("couldn't parse reply from server");
    Json reply = std::move(*parsed);
    // A batch (-getinfo sends one) is answered by an array of replies.
    if ((!reply.is_object() && !reply.is_array()) || reply.empty())
        throw std::runtime_error("expected reply to have result, error and id properties");
    return reply;
}

} // namespace orrery::cli
