// The one table of options: every option bitcoind documents (v27/v28, with
// -help-debug) and the few of Orrery's own that several processes share. Each
// row says which Orrery processes give the option a meaning. From it:
//   - each process declares its options (AddOptions), so a key nobody uses is
//     still an error on the command line, as in bitcoind;
//   - orreryd accepts all of them and passes each command-line option on to the
//     children that use it (OptionUsers), so a new option is one row here;
//   - a bitcoind option no Orrery process implements is accepted, and orreryd
//     logs once that it has no effect (rows with no users);
//   - a key of the config file that belongs to another process is skipped
//     quietly (FindOption), an unknown one is warned about.
#ifndef ORRERY_COMMON_UTIL_OPTIONS_H
#define ORRERY_COMMON_UTIL_OPTIONS_H

#include <common/util/args.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! The processes of a constellation, as bits of OptionInfo::used_by.
enum OrreryProcess : unsigned {
    PROCESS_ORRERYD = 1 << 0,
    PROCESS_NODE = 1 << 1,
    PROCESS_WALLET = 1 << 2,
    PROCESS_GUI_BRIDGE = 1 << 3,
    PROCESS_P2P_AGENT = 1 << 4,
    PROCESS_ALL = (1 << 5) - 1,
};

//! Extra flags of a table row (beside ArgFlags).
enum OptionFlags : unsigned {
    //! Never passed on as typed: orreryd gives the children their own value (datadir, log sinks,
    //! endpoints), or none (-ipcallow is about the process it is given to).
    OPT_SET_BY_ORRERYD = 1 << 8,
    //! Orrery's own option, not bitcoind's.
    OPT_ORRERY = 1 << 9,
};

struct OptionInfo {
    std::string_view spec; //!< "-name" or "-name=<value>"
    std::string_view help; //!< in Orrery's words; for a row without users, what bitcoind does with it
    unsigned flags;        //!< ArgFlags | OptionFlags
    unsigned used_by;      //!< OrreryProcess bits; 0: accepted, no effect in Orrery
    std::string_view Name() const;
};

//! Every row, sorted by name.
std::span<const OptionInfo> OptionTable();
//! The row of an option name (without '-'), or nullptr.
const OptionInfo* FindOption(std::string_view name);
//! Declares to `args` every row `process` uses (orreryd: every row).
void AddOptions(ArgsManager& args, OrreryProcess process);
//! The processes an option name is used by (0 when unknown or without effect).
unsigned OptionUsers(std::string_view name);
//! Names of the options set in `args` that no Orrery process implements, for orreryd's
//! "has no effect" log lines.
std::vector<std::string> OptionsWithoutEffect(const ArgsManager& args);

//! The options of `command_line` (argv without argv[0]) that `role` ("node", "wallet",
//! "gui-bridge", "p2p-agent") uses, as given: what orreryd passes on to that child.
std::vector<std::string> ForwardedArgs(const std::vector<std::string>& command_line, std::string_view role);
//! The OrreryProcess bit of a role name; 0 for an unknown one.
unsigned ProcessOfRole(std::string_view role);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_OPTIONS_H
