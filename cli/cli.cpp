// orrery-cli commands; see cli.h.
#include <cli/cli.h>

#include <cli/rpc_client.h>

#include <common/consensus/params.h>
#include <common/http/http.h>
#include <common/rpc/json_rpc.h>
#include <common/rpc/protocol.h>
#include <common/util/host_port.h>

#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/fs.h>
#include <common/util/init.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
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

//! -rpcuser/-rpcpassword (or the password read by -stdinrpcpass), else the cookie the gui-bridge wrote; nullopt
//! when neither exists.
std::optional<std::string> Credentials(const ArgsManager& args, const std::optional<std::string>& stdin_password)
{
    if (stdin_password) return args.GetArg("rpcuser", "") + ":" + *stdin_password;
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

//! One JSON-RPC exchange as bitcoin-cli makes it: -rpcwait retries while nothing answers or the server warms up.
class Connection
{
public:
    Connection(const ArgsManager& args, std::optional<std::string> stdin_password)
        : m_args(args), m_stdin_password(std::move(stdin_password))
    {
        m_target.port = static_cast<uint16_t>(args.GetIntArg("rpcport", GetChainParams(args.GetChain()).rpc_port));
        std::string connect = args.GetArg("rpcconnect", "127.0.0.1");
        auto connect_address = ParseHostPort(connect, m_target.port);
        if (!connect_address) throw std::runtime_error("Invalid port provided in -rpcconnect: " + connect);
        m_target.host = connect_address->host;
        // As bitcoin-cli: a port in -rpcconnect counts unless -rpcport is given too.
        if (!args.IsArgSet("rpcport")) m_target.port = connect_address->port;
        if (args.IsArgSet("rpcwallet")) m_target.path = "/wallet/" + http::PercentEncode(args.GetArg("rpcwallet", ""));
        m_target.timeout = std::chrono::seconds(args.GetIntArg("rpcclienttimeout", 900));
        if (m_target.timeout.count() <= 0) m_target.timeout = std::chrono::seconds(365LL * 24 * 3600);
    }

    //! The reply (an object, or an array for a batch) to `request`.
    Json Send(const Json& request, bool wallet_path = true)
    {
        std::string body = request.dump(-1, ' ', false, Json::error_handler_t::replace);
        Target target = m_target;
        if (!wallet_path) target.path = "/";
        bool wait = m_args.GetBoolArg("rpcwait", false);
        int64_t wait_seconds = m_args.GetIntArg("rpcwaittimeout", 0);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
        for (;;) {
            auto can_retry = [&] { return wait && (wait_seconds <= 0 || std::chrono::steady_clock::now() < deadline); };
            Json reply;
            // Without credentials the request still goes out, as with bitcoin-cli: a server that is
            // not there is the likelier story, and a 401 then explains what is missing.
            std::optional<std::string> credentials = Credentials(m_args, m_stdin_password);
            target.authorization = credentials.value_or(":");
            try {
                reply = Post(target, body);
            } catch (const Unauthorized&) {
                if (credentials) throw std::runtime_error("Authorization failed: Incorrect rpcuser or rpcpassword");
                throw std::runtime_error("Could not locate RPC credentials. No authentication cookie could be found, "
                                         "and RPC password is not set.  "
                                         "See -rpcpassword and -rpccookiefile.  Configuration file: (" +
                                         (m_args.GetDataDirBase() / m_args.GetArg("conf", "orrery.conf")).string() +
                                         ")");
            } catch (const ConnectionFailed& e) {
                if (can_retry()) {
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    continue;
                }
                throw std::runtime_error(std::string("timeout on transient error: ") + e.what());
            }
            const Json& error = reply.is_object() && reply.contains("error") ? reply["error"] : Json();
            if (error.is_object() && error.value("code", 0) == rpc::RPC_IN_WARMUP && can_retry()) {
                std::this_thread::sleep_for(std::chrono::seconds(1));
                continue;
            }
            return reply;
        }
    }

    //! One call's reply object.
    Json Call(const std::string& method, Json params, bool wallet_path = true)
    {
        return Send(Json{{"jsonrpc", "1.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}},
                    wallet_path);
    }

private:
    const ArgsManager& m_args;
    std::optional<std::string> m_stdin_password;
    Target m_target;
};

int Print(const Json& reply)
{
    Output output = FormatReply(reply);
    if (!output.out.empty()) std::fputs(output.out.c_str(), stdout);
    if (!output.err.empty()) std::fputs(output.err.c_str(), stderr);
    return output.exit_code;
}

//! `object`'s field `key`, or null when it is not an object or lacks the field.
Json Field(const Json& object, const char* key)
{
    return object.is_object() && object.contains(key) ? object.at(key) : Json();
}

double NumberOr0(const Json& value)
{
    return rpc::IsNumber(value) ? rpc::NumberValue(value) : 0.0;
}

std::string Amount8(const Json& value)
{
    return rpc::IsNumber(value) ? fmt::format("{:.8f}", rpc::NumberValue(value)) : "n/a";
}

//! -getinfo: bitcoin-cli's summary from one batch (getnetworkinfo, getblockchaininfo, getwalletinfo, getbalances).
int GetInfo(Connection& connection)
{
    Json batch = Json::array();
    int id = 0;
    for (const char* method : {"getnetworkinfo", "getblockchaininfo", "getwalletinfo", "getbalances"}) {
        batch.push_back({{"jsonrpc", "1.0"}, {"id", id++}, {"method", method}, {"params", Json::array()}});
    }
    Json replies = connection.Send(batch);
    if (!replies.is_array() || replies.size() != 4) throw std::runtime_error("unexpected reply to -getinfo");
    Json by_id[4];
    for (auto& reply : replies) by_id[reply.value("id", 0) & 3] = reply;
    // The node's answers are required; the wallet's are shown when there is one.
    for (int i = 0; i < 2; ++i) {
        if (!by_id[i]["error"].is_null()) return Print(by_id[i]);
    }
    const Json& net = by_id[0]["result"];
    const Json& chain = by_id[1]["result"];
    std::string out;
    out += "Chain: " + chain.value("chain", "") + "\n";
    out += fmt::format("Blocks: {}\n", chain.value("blocks", 0));
    out += fmt::format("Headers: {}\n", chain.value("headers", 0));
    out += fmt::format("Verification progress: {:.4f}%\n", NumberOr0(Field(chain, "verificationprogress")) * 100);
    out += fmt::format("Difficulty: {}\n\n", NumberOr0(Field(chain, "difficulty")));
    out += fmt::format("Network: in {}, out {}, total {}\n", net.value("connections_in", 0),
                       net.value("connections_out", 0), net.value("connections", 0));
    out += fmt::format("Version: {}\n", net.value("version", 0));
    out += fmt::format("Time offset (s): {}\n", net.value("timeoffset", 0));
    out += "Proxies: n/a\n";
    out += "Min tx relay fee rate (BTC/kvB): " + Amount8(Field(net, "relayfee")) + "\n\n";
    if (by_id[2]["error"].is_null() && by_id[2]["result"].is_object()) {
        const Json& wallet = by_id[2]["result"];
        out += "Wallet: " + wallet.value("walletname", "\"\"") + "\n";
        out += fmt::format("Keypool size: {}\n", wallet.value("keypoolsize", 0));
        if (wallet.contains("unlocked_until"))
            out += fmt::format("Unlocked until: {}\n", Field(wallet, "unlocked_until").dump());
        out += "Transaction fee rate (-paytxfee) (BTC/kvB): " + Amount8(Field(wallet, "paytxfee")) + "\n\n";
    }
    if (by_id[3]["error"].is_null() && by_id[3]["result"].is_object()) {
        out += "Balance: " + Amount8(Field(Field(by_id[3]["result"], "mine"), "trusted")) + "\n\n";
    }
    Json warnings = chain.contains("warnings") ? Field(chain, "warnings") : Field(net, "warnings");
    std::string warning_text;
    if (warnings.is_array()) {
        for (const auto& w : warnings) warning_text += (warning_text.empty() ? "" : "\n") + w.get<std::string>();
    } else if (warnings.is_string()) {
        warning_text = warnings.get<std::string>();
    }
    out += "Warnings: " + (warning_text.empty() ? std::string("(none)") : warning_text) + "\n";
    std::fputs(out.c_str(), stdout);
    return 0;
}

//! -netinfo: bitcoin-cli's table of peers by direction and network (its level 0), from getnetworkinfo and
//! getpeerinfo.
int NetInfo(Connection& connection)
{
    Json net_reply = connection.Call("getnetworkinfo", Json::array(), false);
    if (!net_reply["error"].is_null()) return Print(net_reply);
    Json peers_reply = connection.Call("getpeerinfo", Json::array(), false);
    if (!peers_reply["error"].is_null()) return Print(peers_reply);
    const Json& net = net_reply["result"];
    std::vector<std::string> networks{"ipv4", "ipv6", "onion", "i2p", "cjdns"};
    std::map<std::string, int> in, out;
    int in_total = 0, out_total = 0, block_relay = 0;
    for (const auto& peer : peers_reply["result"]) {
        std::string network = peer.value("network", "ipv4");
        if (peer.value("inbound", false)) {
            ++in[network];
            ++in_total;
        } else {
            ++out[network];
            ++out_total;
            if (peer.value("connection_type", "") == "block-relay-only") ++block_relay;
        }
    }
    std::string text =
        fmt::format("Orrery client - server {}/{}\n\n", net.value("protocolversion", 0), net.value("subversion", ""));
    text += fmt::format("{:<6}", "");
    for (const auto& n : networks) text += fmt::format("{:>8}", n);
    text += fmt::format("{:>8}{:>8}\n", "total", "block");
    auto row = [&](const char* name, std::map<std::string, int>& counts, int total, std::optional<int> block) {
        std::string line = fmt::format("{:<6}", name);
        for (const auto& n : networks) line += fmt::format("{:>8}", counts[n]);
        line += fmt::format("{:>8}", total);
        if (block) line += fmt::format("{:>8}", *block);
        return line + "\n";
    };
    std::map<std::string, int> all;
    for (const auto& n : networks) all[n] = in[n] + out[n];
    text += row("in", in, in_total, std::nullopt);
    text += row("out", out, out_total, block_relay);
    text += row("total", all, in_total + out_total, std::nullopt);
    std::string local;
    for (const auto& address : net.value("localaddresses", Json::array())) {
        local += fmt::format("\n{:<40} port {:>6}    score {:>6}", address.value("address", ""),
                             address.value("port", 0), address.value("score", 0));
    }
    text += "\nLocal addresses" + (local.empty() ? std::string(": n/a") : local) + "\n";
    std::fputs(text.c_str(), stdout);
    return 0;
}

//! -generate [nblocks] [maxtries]: a new address of the wallet, then generatetoaddress to it, as bitcoin-cli.
int Generate(Connection& connection, const std::vector<std::string>& command)
{
    if (command.size() > 2) throw std::runtime_error("Too many arguments for -generate");
    Json params = Json::array();
    for (const auto& word : command) {
        try {
            size_t used = 0;
            int64_t value = std::stoll(word, &used);
            if (used != word.size()) throw std::invalid_argument(word);
            params.push_back(value);
        } catch (const std::logic_error&) {
            throw std::runtime_error("Invalid value provided to -generate");
        }
    }
    Json address = connection.Call("getnewaddress", Json::array());
    if (!address["error"].is_null()) return Print(address);
    Json args = Json::array({params.empty() ? Json(1) : params[0], address["result"]});
    if (params.size() > 1) args.push_back(params[1]);
    Json blocks = connection.Call("generatetoaddress", args, false);
    if (!blocks["error"].is_null()) return Print(blocks);
    Json result = Json::object();
    result["address"] = address["result"];
    result["blocks"] = blocks["result"];
    std::printf("%s\n", rpc::WriteJson(result, 2).c_str());
    return 0;
}

//! A line of standard input without its line end; nullopt at the end.
std::optional<std::string> ReadLine()
{
    std::string line;
    int c;
    bool any = false;
    while ((c = std::getchar()) != EOF) {
        any = true;
        if (c == '\n') break;
        line += static_cast<char>(c);
    }
    if (!any) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

int RunRpc(const ArgsManager& args, std::vector<std::string> command)
{
    try {
        // As bitcoin-cli: -stdinrpcpass's line first, then -stdinwalletpassphrase's, then one argument per line.
        std::optional<std::string> stdin_password;
        if (args.GetBoolArg("stdinrpcpass", false)) stdin_password = ReadLine().value_or("");
        if (args.GetBoolArg("stdinwalletpassphrase", false)) {
            std::string passphrase = ReadLine().value_or("");
            if (command.size() < 1 || (command[0] != "walletpassphrase" && command[0] != "walletpassphrasechange")) {
                throw std::runtime_error("-stdinwalletpassphrase is only applicable for walletpassphrase(change)");
            }
            command.insert(command.begin() + 1, passphrase);
        }
        if (args.GetBoolArg("stdin", false)) {
            while (auto line = ReadLine()) command.push_back(*line);
        }
        Connection connection(args, stdin_password);
        if (args.GetBoolArg("getinfo", false)) {
            if (!command.empty()) throw std::runtime_error("-getinfo takes no arguments");
            return GetInfo(connection);
        }
        if (args.GetBoolArg("netinfo", false)) return NetInfo(connection);
        if (args.GetBoolArg("generate", false)) return Generate(connection, command);
        if (command.empty()) {
            std::fprintf(stderr, "error: too few parameters (need at least command)\n");
            return 1;
        }
        Json params = ConvertParams(command[0], {command.begin() + 1, command.end()}, args.GetBoolArg("named", false));
        return Print(connection.Call(command[0], std::move(params)));
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
    args.AddArg("-stdin", "Read more arguments from standard input, one per line, until its end");
    args.AddArg("-stdinrpcpass", "Read the RPC password from the first line of standard input");
    args.AddArg("-stdinwalletpassphrase",
                "Read the wallet passphrase of walletpassphrase(change) from standard input, before -stdin's lines");
    args.AddArg("-getinfo", "Print a summary of the node, the network and the wallet");
    args.AddArg("-netinfo", "Print the peers by direction and network");
    args.AddArg("-generate",
                "Mine blocks at once to a new address of the wallet: -generate [nblocks (default 1)] [maxtries]");
}

int Run(const ArgsManager& args, const std::vector<std::string>& command)
{
    if (args.GetBoolArg("supervisor", false)) return RunSupervisor(args, command);
    return RunRpc(args, command);
}

} // namespace orrery::cli
