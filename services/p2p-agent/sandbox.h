// The p2p-agent's sandbox, entered once the agent holds every descriptor it
// will ever need (the peer socket, the IPC connection to the node): resource
// limits, Landlock (no filesystem at all) where the kernel has it, and a
// seccomp allow-list that kills the process on any other system call.
#ifndef ORRERY_SERVICES_P2P_AGENT_SANDBOX_H
#define ORRERY_SERVICES_P2P_AGENT_SANDBOX_H

#include <string>
#include <vector>

namespace orrery::p2p_agent {

struct SandboxReport {
    std::vector<std::string> active;  //!< protections in force, for the log
    std::vector<std::string> skipped; //!< protections the system did not allow, with why
};

//! Enters the sandbox for the rest of the process's life (all threads).
//! Throws std::runtime_error when seccomp cannot be installed: the agent must
//! not talk to a peer without it. Landlock and the limits are best effort.
SandboxReport EnterSandbox();

//! Test hook behind -testsandboxescape: tries what the sandbox forbids.
//! "open" opens /etc/passwd, "exec" executes /bin/true. Under the sandbox the
//! process dies of SIGSYS here; returns a description if it survived.
std::string TrySandboxEscape(const std::string& what);

} // namespace orrery::p2p_agent

#endif // ORRERY_SERVICES_P2P_AGENT_SANDBOX_H
