// orrery-cli commands; see cli.h.
#include <cli/cli.h>

#include <cli/rpc_client.h>

#include <common/consensus/params.h>
#include <common/http/http.h>
#include <common/rpc/protocol.h>
#include <common/util/host_port.h>

#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/fs.h>
#include <common/util/init.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

namespace orrery::cli {
namespace {

int RunSupervisor(const ArgsManager& args, const std::vector<std::string>& command)
{
    if (command.size() != 1 || (command[0] != "status" && command[0] != "stop")) {
        std::fprintf(stderr, "error: -supervisor takes one command: status or stop\n");
        return 1;
    }
    ipc::Options options;
    options.role = "cli";
    options.interfaces = {"supervisor"};
    options.connect_timeout = std::chrono::milliseconds(args.GetIntArg("timeout", 3000));
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.server_role = "orreryd";
    std::string endpoint = args.GetArg("ipcconnect", DefaultEndpoint(args, "supervisor"));
    if (endpoint.starts_with("ipc://") && !std::filesystem::exists(endpoint.substr(6))) {
        std::fprintf(stderr, "error: orreryd is not running (no socket at %s)\n", endpoint.substr(6).c_str());
        return 1;
    }
    try {
        ipc::Client client(options);
        auto supervisor = ipc::MakeProxy<interfaces::Supervisor>(client.Connect(endpoint));
        if (command[0] == "stop") {
            supervisor->stop();
            std::printf("Orrery stopping\n");
            return 0;
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : supervisor->status()) {
            nlohmann::json entry{{"role", p.role},
                                 {"pid", p.pid},
                                 {"state", p.state},
                                 {"uptime", p.uptime_seconds},
                                 {"restarts", p.restarts},
                                 {"rss_bytes", p.rss_bytes},
                                 {"cpu_seconds", p.cpu_seconds}};
            if (!p.peer_address.empty()) entry["peer_address"] = p.peer_address;
            out.push_back(entry);
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

//! -rpcuser/-rpcpassword, else the cookie the gui-bridge wrote; nullopt when neither exists.
std::optional<std::string> Credentials(const ArgsManager& args)
{
    if (!args.GetArg("rpcpassword", "").empty())
        return args.GetArg("rpcuser", "") + ":" + args.GetArg("rpcpassword", "");
    std::filesystem::path path = args.GetArg("rpccookiefile", ".cookie");
    if (path.is_relative()) path = args.GetDataDirNet() / path;
    std::optional<std::string> cookie = ReadFileToString(path);
    if (cookie) {
        while (!cookie->empty() && (cookie->back() == '\n' || cookie->back() == '\r')) cookie->pop_back();
    }
    return cookie;
}

int RunRpc(const ArgsManager& args, const std::vector<std::string>& command)
{
    if (command.empty()) {
        std::fprintf(stderr, "error: too few parameters (need at least command)\n");
        return 1;
    }
    try {
        Target target;
        target.port = static_cast<uint16_t>(args.GetIntArg("rpcport", GetChainParams(args.GetChain()).rpc_port));
        std::string connect = args.GetArg("rpcconnect", "127.0.0.1");
        auto connect_address = ParseHostPort(connect, target.port);
        if (!connect_address) throw std::runtime_error("Invalid port provided in -rpcconnect: " + connect);
        target.host = connect_address->host;
        // As bitcoin-cli: a port in -rpcconnect counts unless -rpcport is given too.
        if (!args.IsArgSet("rpcport")) target.port = connect_address->port;
        if (args.IsArgSet("rpcwallet")) target.path = "/wallet/" + http::PercentEncode(args.GetArg("rpcwallet", ""));
        target.timeout = std::chrono::seconds(args.GetIntArg("rpcclienttimeout", 900));
        if (target.timeout.count() <= 0) target.timeout = std::chrono::seconds(365LL * 24 * 3600);

        Json request = Json::object();
        request["jsonrpc"] = "1.0";
        request["method"] = command[0];
        request["params"] =
            ConvertParams(command[0], {command.begin() + 1, command.end()}, args.GetBoolArg("named", false));
        request["id"] = 1;
        std::string body = request.dump(-1, ' ', false, Json::error_handler_t::replace);

        // -rpcwait: retry while the server is not up or still warming up (RPC_IN_WARMUP).
        bool wait = args.GetBoolArg("rpcwait", false);
        int64_t wait_seconds = args.GetIntArg("rpcwaittimeout", 0);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
        for (;;) {
            auto can_retry = [&] { return wait && (wait_seconds <= 0 || std::chrono::steady_clock::now() < deadline); };
            Json reply;
            // Without credentials the request still goes out, as with bitcoin-cli: a server that is
            // not there is the likelier story, and a 401 then explains what is missing.
            std::optional<std::string> credentials = Credentials(args);
            target.authorization = credentials.value_or(":");
            try {
                reply = Post(target, body);
            } catch (const Unauthorized&) {
                if (credentials) throw std::runtime_error("Authorization failed: Incorrect rpcuser or rpcpassword");
                throw std::runtime_error("Could not locate RPC credentials. No authentication cookie could be found, "
                                         "and RPC password is not set.  "
                                         "See -rpcpassword and -rpccookiefile.  Configuration file: (" +
                                         (args.GetDataDirBase() / args.GetArg("conf", "orrery.conf")).string() + ")");
            } catch (const ConnectionFailed& e) {
                if (can_retry()) {
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    continue;
                }
                throw std::runtime_error(std::string("timeout on transient error: ") + e.what());
            }
            const Json& error = reply.contains("error") ? reply["error"] : Json();
            if (error.is_object() && error.value("code", 0) == rpc::RPC_IN_WARMUP && can_retry()) {
                std::this_thread::sleep_for(std::chrono::seconds(1));
                continue;
            }
            Output output = FormatReply(reply);
            if (!output.out.empty()) std::fputs(output.out.c_str(), stdout);
            if (!output.err.empty()) std::fputs(output.err.c_str(), stderr);
            return output.exit_code;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

} // namespace

void AddArgs(ArgsManager& args)
{
    AddCommonArgs(args);
    args.AddArg("-supervisor", "Send the command to orreryd's Supervisor interface: status, stop");
    args.AddArg("-timeout=<ms>", "How long to wait for orreryd with -supervisor (default: 3000)");
    args.AddArg("-rpcconnect=<ip>", "Send commands to the gui-bridge running on <ip> (default: 127.0.0.1)",
                ARG_NETWORK_ONLY);
    args.AddArg("-rpcport=<port>", "Connect to JSON-RPC on <port> (default: " + DefaultPortsText(true) + ")",
                ARG_NETWORK_ONLY);
    args.AddArg("-rpcuser=<user>", "Username for JSON-RPC connections");
    args.AddArg("-rpcpassword=<pw>", "Password for JSON-RPC connections (default: the cookie file)");
    args.AddArg("-rpccookiefile=<loc>",
                "Location of the auth cookie, relative to the network's folder (default: .cookie)");
    args.AddArg("-rpcwallet=<walletname>", "Send RPC for a wallet to /wallet/<walletname>");
    args.AddArg("-rpcclienttimeout=<n>", "Timeout in seconds during HTTP requests, or 0 for no timeout (default: 900)");
    args.AddArg("-rpcwait", "Wait for the RPC server to start");
    args.AddArg("-rpcwaittimeout=<n>",
                "Timeout in seconds to wait for the RPC server to start, or 0 for no timeout (default: 0)");
    args.AddArg("-named", "Pass named instead of positional arguments (key=value)");
}

int Run(const ArgsManager& args, const std::vector<std::string>& command)
{
    if (args.GetBoolArg("supervisor", false)) return RunSupervisor(args, command);
    return RunRpc(args, command);
}

} // namespace orrery::cli
