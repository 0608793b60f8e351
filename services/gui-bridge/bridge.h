// orrery-gui-bridge: the JSON-RPC server in front of the constellation. It owns
// the HTTP listener, RPC authentication (cookie or configured credentials), the
// router the node and the wallet register their RPC methods with, and the link
// to orreryd.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H
#define ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H

#include <common/util/args.h>

namespace orrery::bridge {

void AddArgs(ArgsManager& args);
//! Serves until SIGTERM/SIGINT (or the stop method). Returns the exit code.
int Run(const ArgsManager& args);

} // namespace orrery::bridge

#endif // ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H
