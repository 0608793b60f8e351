// The roles of the constellation and which of them may call each interface:
// the one place that says who is served what (doc/ipc.md shows the table).
// A server passes these lists to Serve<I>; the IPC layer refuses any other
// role with PERMISSION_DENIED, and refuses a hello claiming a role the
// caller's credentials do not allow (common/ipc/identity.h).
#ifndef ORRERY_COMMON_INTERFACES_ROLES_H
#define ORRERY_COMMON_INTERFACES_ROLES_H

#include <string>
#include <vector>

namespace orrery::interfaces {

namespace role {
inline constexpr const char* ORRERYD = "orreryd";
inline constexpr const char* NODE = "node";
inline constexpr const char* WALLET = "wallet";
inline constexpr const char* GUI_BRIDGE = "gui-bridge";
inline constexpr const char* P2P_AGENT = "p2p-agent";
inline constexpr const char* CLI = "cli";
} // namespace role

//! Node: inbound admission, for orreryd. (The node's RPC methods reach the gui-bridge over RpcHost.)
inline const std::vector<std::string> NODE_CALLERS{role::ORRERYD};
//! Chain: the wallets, and the gui-bridge (its ZMQ notifications follow the chain).
inline const std::vector<std::string> CHAIN_CALLERS{role::WALLET, role::GUI_BRIDGE};
//! PeerHost: the p2p-agents, each for its own peer.
inline const std::vector<std::string> PEER_HOST_CALLERS{role::P2P_AGENT};
//! Agent (served by each agent back over its connection): the node.
inline const std::vector<std::string> AGENT_CALLERS{role::NODE};
//! Wallet and WalletLoader: the gui-bridge.
inline const std::vector<std::string> WALLET_CALLERS{role::GUI_BRIDGE};
//! Supervisor: the node (outbound connections), the gui-bridge and orrery-cli.
inline const std::vector<std::string> SUPERVISOR_CALLERS{role::NODE, role::GUI_BRIDGE, role::CLI};
//! MockClock (served by each service): orreryd, forwarding setmocktime.
inline const std::vector<std::string> MOCK_CLOCK_CALLERS{role::ORRERYD};
//! LinkReport (served by each service): orreryd, gathering the constellation's IPC links.
inline const std::vector<std::string> LINK_REPORT_CALLERS{role::ORRERYD};
//! ProcessTable (orreryd, beside Supervisor): the services that serve interfaces over ipc://.
inline const std::vector<std::string> PROCESS_TABLE_CALLERS{role::NODE, role::WALLET, role::GUI_BRIDGE};
//! RpcRouter (served by the gui-bridge): the services that register their RPC tables.
inline const std::vector<std::string> RPC_ROUTER_CALLERS{role::NODE, role::WALLET};
//! RpcHost (each service's RPC table, called back over its registration): the gui-bridge.
inline const std::vector<std::string> RPC_HOST_CALLERS{role::GUI_BRIDGE};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_ROLES_H
