// ProcessTable: served by orreryd to the services beside Supervisor. Who orreryd
// started a process as, so that a service can check the kernel's pid of an
// ipc:// caller against it (doc/ipc.md, "Who may call what").
#ifndef ORRERY_COMMON_INTERFACES_PROCESS_TABLE_H
#define ORRERY_COMMON_INTERFACES_PROCESS_TABLE_H

#include <common/ipc/serialize.h>

#include <cstdint>
#include <string>

namespace orrery::interfaces {

//! Who orreryd started a process as.
struct ProcessIdentity {
    std::string role;    //!< "" when orreryd did not start that pid (or it has exited)
    int64_t peer_id{-1}; //!< a p2p-agent's peer; -1 for a spare not handed a peer yet, and other roles
    ORRERY_FIELDS(role, peer_id)
};

class ProcessTable
{
public:
    virtual ~ProcessTable() = default;
    //! What orreryd started `pid` as. A pid stays in orreryd's table until it has
    //! reaped that process, so it cannot name a newer one.
    virtual ProcessIdentity identifyProcess(int64_t pid) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_PROCESS_TABLE_H
