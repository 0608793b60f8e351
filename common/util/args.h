// Options in bitcoind's style: -key=value, -key, -nokey, -key repeated for
// lists; the same keys in orrery.conf, where [regtest] (or regtest.key=) scopes
// a setting to one network. Precedence: command line, then the network's
// section, then the top of the file.
#ifndef ORRERY_COMMON_UTIL_ARGS_H
#define ORRERY_COMMON_UTIL_ARGS_H

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

enum ArgFlags : unsigned {
    ARG_NONE = 0,
    //! In orrery.conf this option is ignored outside a network section unless the network is main
    //! (ports and peers of one network must not leak into another, as in bitcoind).
    ARG_NETWORK_ONLY = 1 << 0,
    //! Accepted on the command line only.
    ARG_COMMAND_LINE_ONLY = 1 << 1,
};

//! The networks Orrery knows; the name is also the datadir subfolder (main has none).
inline constexpr std::string_view CHAIN_NAMES[] = {"main", "test", "testnet4", "signet", "regtest"};

class ArgsManager
{
public:
    ArgsManager();

    //! Declares an option: `spec` is "-name" or "-name=<value>", shown in the help.
    void AddArg(std::string_view spec, std::string_view help, unsigned flags = ARG_NONE);

    //! Parses argv. Returns false with a message for an undeclared option or a malformed one.
    bool ParseParameters(int argc, const char* const argv[], std::string& error);
    //! Reads -conf (default <datadir>/orrery.conf, or <datadir>/bitcoin.conf when only that one
    //! exists) and the files its includeconf= names; a missing default file is not an error.
    bool ReadConfigFiles(std::string& error);
    //! The configuration file read (empty when none was).
    const std::filesystem::path& ConfigFilePath() const { return m_config_path; }
    //! True when bitcoin.conf was read because orrery.conf does not exist.
    bool UsedBitcoinConf() const { return m_used_bitcoin_conf; }
    //! Parses configuration text; `source` names it in errors. Unknown keys become warnings.
    bool ReadConfigString(std::string_view text, std::string_view source, std::string& error);

    //! The selected network, from -regtest, -testnet, -testnet4, -signet or -chain=. Fails on conflicts.
    std::optional<std::string> GetChainName(std::string& error) const;
    //! The network chosen when the options were parsed: main, test, testnet4, signet or regtest.
    const std::string& GetChain() const { return m_chain; }
    //! -datadir, or ~/.orrery. Does not touch the filesystem.
    std::filesystem::path GetDataDirBase() const;
    //! The network's folder below the datadir (the datadir itself for main).
    std::filesystem::path GetDataDirNet() const;

    bool IsArgSet(std::string_view name) const;
    bool IsArgNegated(std::string_view name) const;
    std::string GetArg(std::string_view name, std::string_view fallback) const;
    int64_t GetIntArg(std::string_view name, int64_t fallback) const;
    bool GetBoolArg(std::string_view name, bool fallback) const;
    //! Every value given for a list option, command line first.
    std::vector<std::string> GetArgs(std::string_view name) const;
    //! Forces a value (tests, and defaults one option implies for another).
    void ForceSetArg(std::string_view name, std::string_view value);
    //! Sets a value only when the user gave none.
    bool SoftSetArg(std::string_view name, std::string_view value);

    //! Applies bitcoind's parameter interactions (InitParameterInteraction): -bind and -whitebind
    //! imply -listen=1; -connect, -noconnect or -maxconnections=0 imply -listen=0 and -dnsseed=0;
    //! -proxy implies -listen=0 and -discover=0; -blocksonly implies -whitelistrelay=0;
    //! -whitelistforcerelay implies -whitelistrelay=1. Only options the user left unset change.
    //! Returns one line per change, for the log; fails with bitcoind's message for -maxconnections<0.
    //! (-bind with an explicit -listen=0 is a warning here, an error in bitcoind: see doc/supervisor.md.)
    bool ApplyParameterInteraction(std::vector<std::string>& changes, std::string& error);

    //! Warnings collected while reading configuration (unknown keys, ignored sections).
    const std::vector<std::string>& GetWarnings() const { return m_warnings; }
    std::string GetHelpMessage() const;

private:
    struct Declared {
        std::string spec;
        std::string help;
        unsigned flags;
    };
    //! Values of one option in one source; an empty optional means negated (-nofoo).
    using Values = std::vector<std::optional<std::string>>;

    std::optional<std::optional<std::string>> FindLast(std::string_view name) const;
    bool StoreValue(std::map<std::string, std::map<std::string, Values>>& store, std::string_view section,
                    std::string key, std::optional<std::string> value, bool from_config, std::string& error);

    std::map<std::string, Declared, std::less<>> m_declared;
    std::map<std::string, Values, std::less<>> m_forced;
    //! section ("" for none) -> key -> values
    std::map<std::string, std::map<std::string, Values>> m_command_line;
    std::map<std::string, std::map<std::string, Values>> m_config;
    std::string m_chain{"main"};
    std::vector<std::string> m_warnings;
    std::filesystem::path m_config_path;
    bool m_used_bitcoin_conf{false};
};

//! Declares the options every Orrery process understands (network, datadir, logging, IPC).
void AddCommonArgs(ArgsManager& args);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_ARGS_H
