// Option and configuration parsing; see args.h.
#include <common/util/args.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace orrery {
namespace {

std::string_view Trim(std::string_view s)
{
    const char* ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

bool IsChain(std::string_view name)
{
    return std::find(std::begin(CHAIN_NAMES), std::end(CHAIN_NAMES), name) != std::end(CHAIN_NAMES);
}

//! "1", "" and anything not "0" is true, as bitcoind interprets boolean options.
bool InterpretBool(const std::string& value)
{
    if (value.empty()) return true;
    int64_t number{0};
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec == std::errc() && ptr == value.data() + value.size()) return number != 0;
    return true;
}

} // namespace

ArgsManager::ArgsManager() = default;

void ArgsManager::AddArg(std::string_view spec, std::string_view help, unsigned flags)
{
    std::string_view name = spec.substr(0, spec.find('='));
    if (name.starts_with('-')) name.remove_prefix(1);
    m_declared[std::string(name)] = Declared{std::string(spec), std::string(help), flags};
}

bool ArgsManager::StoreValue(std::map<std::string, std::map<std::string, Values>>& store, std::string_view section,
                             std::string key, std::optional<std::string> value, bool from_config, std::string& error)
{
    // "regtest.port" scopes a key to a network, in both sources.
    std::string scoped_section(section);
    if (size_t dot = key.find('.'); dot != std::string::npos) {
        scoped_section = key.substr(0, dot);
        key = key.substr(dot + 1);
        if (!IsChain(scoped_section)) {
            error = fmt::format("Invalid parameter -{}.{}: unknown network {}", scoped_section, key, scoped_section);
            return false;
        }
    }
    // Negation: -nofoo, or foo=0 style -nofoo=1 / -nofoo=0.
    if (!m_declared.contains(key) && key.starts_with("no") && m_declared.contains(key.substr(2))) {
        key = key.substr(2);
        bool negate = !value || InterpretBool(*value);
        value = negate ? std::nullopt : std::optional<std::string>("1");
    }
    auto declared = m_declared.find(key);
    if (declared == m_declared.end()) {
        if (from_config) {
            m_warnings.push_back(fmt::format("Ignoring unknown configuration value {}", key));
            return true;
        }
        error = fmt::format("Invalid parameter -{}", key);
        return false;
    }
    if (from_config && (declared->second.flags & ARG_COMMAND_LINE_ONLY)) {
        error = fmt::format("-{} can only be given on the command line", key);
        return false;
    }
    store[scoped_section][key].push_back(value ? std::optional<std::string>(*value) : std::nullopt);
    return true;
}

bool ArgsManager::ParseParameters(int argc, const char* const argv[], std::string& error)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.empty() || arg[0] != '-') {
            error = fmt::format("Command line contains unexpected token '{}', see -help for a list of options.", arg);
            return false;
        }
        arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
        std::optional<std::string> value{""};
        std::string key;
        if (size_t eq = arg.find('='); eq != std::string_view::npos) {
            key = std::string(arg.substr(0, eq));
            value = std::string(arg.substr(eq + 1));
        } else {
            key = std::string(arg);
        }
        if (key.empty()) {
            error = fmt::format("Invalid parameter {}", argv[i]);
            return false;
        }
        if (!StoreValue(m_command_line, "", std::move(key), std::move(value), false, error)) return false;
    }
    std::string chain_error;
    auto chain = GetChainName(chain_error);
    if (!chain) {
        error = chain_error;
        return false;
    }
    m_chain = *chain;
    return true;
}

bool ArgsManager::ReadConfigString(std::string_view text, std::string_view source, std::string& error)
{
    std::string section;
    std::istringstream in{std::string(text)};
    std::string raw_line;
    int line_number = 0;
    while (std::getline(in, raw_line)) {
        ++line_number;
        std::string_view line = raw_line;
        if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = Trim(line);
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']') {
                error = fmt::format("{}: parse error on line {}: {}", source, line_number, line);
                return false;
            }
            section = std::string(Trim(line.substr(1, line.size() - 2)));
            if (!IsChain(section)) {
                m_warnings.push_back(fmt::format("{}: section [{}] is not a known network and is ignored", source, section));
            }
            continue;
        }
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            error = fmt::format("{}: parse error on line {}: {}{}", source, line_number, line,
                                line.starts_with("no") ? ", if you intended to specify a negated option, use "
                                                         "nofoo=1 instead" : "");
            return false;
        }
        std::string key(Trim(line.substr(0, eq)));
        std::string value(Trim(line.substr(eq + 1)));
        if (key.empty()) {
            error = fmt::format("{}: parse error on line {}: empty key", source, line_number);
            return false;
        }
        if (!section.empty() && !IsChain(section)) continue;
        std::string store_error;
        if (!StoreValue(m_config, section, std::move(key), std::move(value), true, store_error)) {
            error = fmt::format("{}: line {}: {}", source, line_number, store_error);
            return false;
        }
    }
    return true;
}

bool ArgsManager::ReadConfigFiles(std::string& error)
{
    std::filesystem::path conf = GetArg("conf", "orrery.conf");
    bool explicit_conf = IsArgSet("conf");
    if (conf.is_relative()) conf = GetDataDirBase() / conf;
    std::ifstream in(conf);
    if (!in) {
        if (explicit_conf && GetArg("conf", "") != "orrery.conf") {
            error = fmt::format("Specified config file {} could not be opened.", conf.string());
            return false;
        }
        return true;
    }
    std::stringstream text;
    text << in.rdbuf();
    if (!ReadConfigString(text.str(), conf.string(), error)) return false;
    // The network may be chosen in the file (regtest=1).
    std::string chain_error;
    auto chain = GetChainName(chain_error);
    if (!chain) {
        error = chain_error;
        return false;
    }
    m_chain = *chain;
    return true;
}

std::optional<std::optional<std::string>> ArgsManager::FindLast(std::string_view name) const
{
    auto last_of = [&](const Values* values) -> std::optional<std::optional<std::string>> {
        if (!values || values->empty()) return std::nullopt;
        return values->back();
    };
    auto lookup = [&](const std::map<std::string, std::map<std::string, Values>>& store,
                      const std::string& section) -> const Values* {
        auto s = store.find(section);
        if (s == store.end()) return nullptr;
        auto k = s->second.find(std::string(name));
        return k == s->second.end() ? nullptr : &k->second;
    };
    if (auto f = m_forced.find(name); f != m_forced.end()) return last_of(&f->second);
    if (auto v = last_of(lookup(m_command_line, ""))) return v;
    if (auto v = last_of(lookup(m_command_line, m_chain))) return v;
    if (auto v = last_of(lookup(m_config, m_chain))) return v;
    auto declared = m_declared.find(name);
    bool network_only = declared != m_declared.end() && (declared->second.flags & ARG_NETWORK_ONLY);
    if (m_chain == "main" || !network_only) return last_of(lookup(m_config, ""));
    return std::nullopt;
}

bool ArgsManager::IsArgSet(std::string_view name) const { return FindLast(name).has_value(); }

bool ArgsManager::IsArgNegated(std::string_view name) const
{
    auto v = FindLast(name);
    return v && !v->has_value();
}

std::string ArgsManager::GetArg(std::string_view name, std::string_view fallback) const
{
    auto v = FindLast(name);
    if (!v) return std::string(fallback);
    return v->has_value() ? **v : "0";
}

int64_t ArgsManager::GetIntArg(std::string_view name, int64_t fallback) const
{
    auto v = FindLast(name);
    if (!v) return fallback;
    if (!v->has_value()) return 0;
    int64_t number{0};
    const std::string& s = **v;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
    return ec == std::errc() ? number : fallback;
}

bool ArgsManager::GetBoolArg(std::string_view name, bool fallback) const
{
    auto v = FindLast(name);
    if (!v) return fallback;
    return v->has_value() && InterpretBool(**v);
}

std::vector<std::string> ArgsManager::GetArgs(std::string_view name) const
{
    std::vector<std::string> result;
    auto append = [&](const std::map<std::string, std::map<std::string, Values>>& store, const std::string& section) {
        auto s = store.find(section);
        if (s == store.end()) return;
        auto k = s->second.find(std::string(name));
        if (k == s->second.end()) return;
        for (const auto& value : k->second) {
            if (value) {
                result.push_back(*value);
            } else {
                result.clear(); // -nofoo resets the list
            }
        }
    };
    if (auto f = m_forced.find(name); f != m_forced.end()) {
        for (const auto& value : f->second) if (value) result.push_back(*value);
        return result;
    }
    append(m_command_line, "");
    append(m_command_line, m_chain);
    if (!result.empty()) return result;
    append(m_config, m_chain);
    auto declared = m_declared.find(name);
    bool network_only = declared != m_declared.end() && (declared->second.flags & ARG_NETWORK_ONLY);
    if (m_chain == "main" || !network_only) append(m_config, "");
    return result;
}

void ArgsManager::ForceSetArg(std::string_view name, std::string_view value)
{
    m_forced[std::string(name)] = Values{std::string(value)};
}

bool ArgsManager::SoftSetArg(std::string_view name, std::string_view value)
{
    if (IsArgSet(name)) return false;
    ForceSetArg(name, value);
    return true;
}

std::optional<std::string> ArgsManager::GetChainName(std::string& error) const
{
    std::vector<std::string> chosen;
    for (std::string_view flag : {"regtest", "testnet", "testnet4", "signet"}) {
        if (GetBoolArg(flag, false)) chosen.push_back(flag == "testnet" ? "test" : std::string(flag));
    }
    if (IsArgSet("chain")) {
        std::string chain = GetArg("chain", "main");
        if (chain == "testnet3") chain = "test";
        if (!IsChain(chain)) {
            error = fmt::format("Invalid chain name -chain={}", chain);
            return std::nullopt;
        }
        chosen.push_back(chain);
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    if (chosen.size() > 1) {
        error = "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one.";
        return std::nullopt;
    }
    return chosen.empty() ? std::string("main") : chosen.front();
}

std::filesystem::path ArgsManager::GetDataDirBase() const
{
    if (auto datadir = FindLast("datadir"); datadir && datadir->has_value() && !(*datadir)->empty()) {
        return std::filesystem::absolute(**datadir);
    }
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : "/") / ".orrery";
}

std::filesystem::path ArgsManager::GetDataDirNet() const
{
    std::filesystem::path base = GetDataDirBase();
    if (m_chain == "main") return base;
    if (m_chain == "test") return base / "testnet3";
    return base / m_chain;
}

std::string ArgsManager::GetHelpMessage() const
{
    std::string out = "Options:\n";
    for (const auto& [name, declared] : m_declared) {
        out += fmt::format("\n  {}\n       {}\n", declared.spec, declared.help);
    }
    return out;
}

void AddCommonArgs(ArgsManager& args)
{
    args.AddArg("-?", "Print this help message and exit", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-help", "Print this help message and exit", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-version", "Print version and exit", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-datadir=<dir>", "Specify data directory (default: ~/.orrery)", ARG_COMMAND_LINE_ONLY);
    args.AddArg("-conf=<file>", "Specify configuration file, relative to the datadir (default: orrery.conf)",
                ARG_COMMAND_LINE_ONLY);
    args.AddArg("-chain=<chain>", "Use the chain <chain>: main, test, testnet4, signet, regtest");
    args.AddArg("-regtest", "Use the regression test chain");
    args.AddArg("-testnet", "Use the test chain (testnet3)");
    args.AddArg("-testnet4", "Use the testnet4 chain");
    args.AddArg("-signet", "Use the signet chain");
    args.AddArg("-printtoconsole", "Send trace/debug info to the console as well as debug.log");
    args.AddArg("-debug=<category>", "Log debugging information for a category: ipc, net, rpc, validation, "
                                     "wallet, supervisor, or all (repeatable)");
    args.AddArg("-debuglogfile=<file>", "Location of the debug log (default: debug.log in the network's folder)");
    args.AddArg("-ipcbind=<endpoint>", "Serve this process's interfaces on an endpoint (ipc://, tcp://)",
                ARG_NETWORK_ONLY);
    args.AddArg("-ipcconnect=<endpoint>", "Connect to another service's endpoint (ipc://, tcp://)",
                ARG_NETWORK_ONLY);
    args.AddArg("-ipcmaxmessagesize=<bytes>", "Largest IPC message accepted (default: 33554432)");
    args.AddArg("-ipcallow=<role>:<uid>",
                "Let processes of user id <uid> that orreryd did not start say they are <role> on this process's "
                "ipc:// endpoints (repeatable). A role named by no -ipcallow is open to this process's own uid only",
                ARG_NETWORK_ONLY);
}

} // namespace orrery
