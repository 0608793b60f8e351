// LinkReport: served by every service to orreryd, which gathers the IPC links
// of the constellation (Supervisor.linkReport) for the web GUI's
// constellation page: who calls whom, how often, how fast.
#ifndef ORRERY_COMMON_INTERFACES_LINK_REPORT_H
#define ORRERY_COMMON_INTERFACES_LINK_REPORT_H

#include <common/ipc/link_stats.h>

#include <vector>

namespace orrery::interfaces {

class LinkReport
{
public:
    virtual ~LinkReport() = default;
    //! The process's IPC links and their call counters since it started (ipc::LinkStats()).
    virtual std::vector<ipc::LinkFigures> links() = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_LINK_REPORT_H
