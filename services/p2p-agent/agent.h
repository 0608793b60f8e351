// orrery-p2p-agent: one process per peer connection. It gets its socket
// (inherited from orreryd, or dialled itself), registers with the node's
// PeerHost, sandboxes itself and runs the protocol engine until the peer goes.
#ifndef ORRERY_SERVICES_P2P_AGENT_AGENT_H
#define ORRERY_SERVICES_P2P_AGENT_AGENT_H

#include <common/util/args.h>

#include <chrono>
#include <string>

namespace orrery::p2p_agent {

//! Declares the common options and the agent's own.
void AddArgs(ArgsManager& args);
//! Runs the agent to the end of its peer connection. Returns the exit code:
//! 0 when the peer went away or was dropped (the reason is logged and sent to
//! the node), 1 when the agent could not start.
int Run(const ArgsManager& args);

//! Dials host:port (IPv4, [IPv6] or a name) with a deadline; returns the connected
//! socket or throws std::runtime_error with the reason.
int DialPeer(const std::string& address, std::chrono::milliseconds timeout);

} // namespace orrery::p2p_agent

#endif // ORRERY_SERVICES_P2P_AGENT_AGENT_H
