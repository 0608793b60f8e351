// orrery-cli: talks to a running constellation. For now it reaches orreryd's
// Supervisor interface (-supervisor); JSON-RPC to the gui-bridge comes with it.
#ifndef ORRERY_CLI_CLI_H
#define ORRERY_CLI_CLI_H

#include <common/util/args.h>

#include <string>
#include <vector>

namespace orrery::cli {

void AddArgs(ArgsManager& args);
//! Runs one command; prints its result as JSON on stdout, errors on stderr. Returns the exit code.
int Run(const ArgsManager& args, const std::vector<std::string>& command);

} // namespace orrery::cli

#endif // ORRERY_CLI_CLI_H
