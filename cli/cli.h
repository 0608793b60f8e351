// orrery-cli: talks to a running constellation. Commands go to the gui-bridge's
// JSON-RPC as with bitcoin-cli; -supervisor status|stop reach orreryd directly.
#ifndef ORRERY_CLI_CLI_H
#define ORRERY_CLI_CLI_H

#include <common/util/args.h>

#include <string>
#include <vector>

namespace orrery::cli {

void AddArgs(ArgsManager& args);
//! Runs one command; prints its result on stdout, errors on stderr. Returns the exit code
//! (bitcoin-cli's: 0, the absolute RPC error code, or 1).
int Run(const ArgsManager& args, const std::vector<std::string>& command);

} // namespace orrery::cli

#endif // ORRERY_CLI_CLI_H
