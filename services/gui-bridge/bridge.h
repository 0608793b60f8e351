// orrery-gui-bridge: the JSON-RPC server in front of the constellation. It owns
// the HTTP listener, RPC authentication (cookie or configured credentials) and
// the links to the node, the wallet and orreryd.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H
#define ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H

#include <common/util/args.h>

#include <cstdint>
#include <string>

namespace orrery::bridge {

void AddArgs(ArgsManager& args);
//! Serves until SIGTERM/SIGINT (or the stop method). Returns the exit code.
int Run(const ArgsManager& args);

//! The RPC port of a network, as bitcoind's: 8332, 18332, 48332, 38332, 18443.
uint16_t DefaultRpcPort(const std::string& chain);

} // namespace orrery::bridge

#endif // ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H
