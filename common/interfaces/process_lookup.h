// A service's link to orreryd's ProcessTable: the ipc::ProcessLookup a server
// under orreryd installs in its RolePolicy, and the full identity (with an
// agent's peer) for checks of its own.
#ifndef ORRERY_COMMON_INTERFACES_PROCESS_LOOKUP_H
#define ORRERY_COMMON_INTERFACES_PROCESS_LOOKUP_H

#include <common/interfaces/process_table.h>
#include <common/ipc/identity.h>
#include <common/ipc/options.h>

#include <memory>
#include <mutex>
#include <string>

namespace orrery::ipc {
class Client;
}

namespace orrery::interfaces {

//! Connects to orreryd at `endpoint` on first use, and again after a failure.
//! Thread-safe.
class OrrerydProcesses : public std::enable_shared_from_this<OrrerydProcesses>
{
public:
    //! `options`: this service's role, keys and limits.
    OrrerydProcesses(std::string endpoint, ipc::Options options);
    ~OrrerydProcesses();
    OrrerydProcesses(const OrrerydProcesses&) = delete;
    OrrerydProcesses& operator=(const OrrerydProcesses&) = delete;

    //! orreryd's record of `pid`. Throws when orreryd cannot be reached.
    ProcessIdentity Identify(int64_t pid);
    //! The role part, for ipc::RolePolicy::SetProcessLookup (holds this object weakly).
    ipc::ProcessLookup Lookup();
    void Stop();

private:
    const std::string m_endpoint;
    const ipc::Options m_options;
    std::mutex m_mutex;
    std::unique_ptr<ipc::Client> m_client; // guarded by m_mutex
    std::shared_ptr<ProcessTable> m_table; // guarded by m_mutex
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_PROCESS_LOOKUP_H
