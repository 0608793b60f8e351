// Supervisor: served by orreryd to the node, the gui-bridge and orrery-cli.
#ifndef ORRERY_COMMON_INTERFACES_SUPERVISOR_H
#define ORRERY_COMMON_INTERFACES_SUPERVISOR_H

#include <common/ipc/link_stats.h>
#include <common/ipc/serialize.h>

#include <cstdint>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! One supervised process, as `orrery-cli -supervisor status` shows it.
struct ProcessStatus {
    std::string role;
    int64_t pid{0};
    std::string state;        //!< "running", "starting", "stopping"; "spare" for an agent started ahead of need
    std::string peer_address; //!< p2p-agents only
    int64_t uptime_seconds{0};
    int64_t restarts{0};
    int64_t rss_bytes{0};
    double cpu_seconds{0};
    ORRERY_FIELDS(role, pid, state, peer_address, uptime_seconds, restarts, rss_bytes, cpu_seconds)
};

//! The IPC links of one process, as it reported them (LinkReport) or orreryd's own.
struct ProcessLinks {
    std::string role;
    int64_t pid{0};
    std::vector<ipc::LinkFigures> links;
    ORRERY_FIELDS(role, pid, links)
};

class Supervisor
{
public:
    virtual ~Supervisor() = default;
    //! Every process orreryd runs, itself first.
    virtual std::vector<ProcessStatus> status() = 0;
    //! The IPC links of orreryd and of each running service (node, wallet, gui-bridge) that answers
    //! within a short timeout; a p2p-agent's link shows in the node's report (agents serve nothing).
    virtual std::vector<ProcessLinks> linkReport() = 0;
    //! Stops everything in order and exits, as on SIGTERM. Returns before the shutdown.
    virtual void stop() = 0;
    //! Restarts a permanent service ("node", "wallet", "gui-bridge").
    virtual void restart(std::string role) = 0;
    //! Spawns an agent that dials `address` for peer `peer_id` (chosen by the node).
    //! `connection_type` is bitcoind's ("manual", "outbound-full-relay", ...).
    virtual void openConnection(std::string address, int64_t peer_id, std::string connection_type) = 0;
    //! setmocktime from the node: orreryd pins its own clock and every other service's (MockClock).
    virtual void setMockTime(int64_t time) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_SUPERVISOR_H
