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

//! The RPC port of a network, as bitcoind's: 8332, 18332, 48332, 38332, 18443 (orrery-cli uses it too).
inline uint16_t DefaultRpcPort(const std::string& chain)
{
    if (chain == "test") return 18332;
    if (chain == "testnet4") return 48332;
    if (chain == "signet") return 38332;
    if (chain == "regtest") return 18443;
    return 8332;
}

} // namespace orrery::bridge

#endif // ORRERY_SERVICES_GUI_BRIDGE_BRIDGE_H
