// The link to orreryd's ProcessTable; see process_lookup.h.
#include <common/interfaces/process_lookup.h>

#include <common/interfaces/process_table_ipc.h>
#include <common/ipc/endpoint.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace orrery::interfaces {

OrrerydProcesses::OrrerydProcesses(std::string endpoint, ipc::Options options)
    : m_endpoint(std::move(endpoint)), m_options(std::move(options))
{
}

OrrerydProcesses::~OrrerydProcesses()
{
    Stop();
}

void OrrerydProcesses::Stop()
{
    std::unique_ptr<ipc::Client> client;
    {
        std::lock_guard lock(m_mutex);
        m_table.reset();
        client = std::move(m_client);
    }
    if (client) client->Stop();
}

ProcessIdentity OrrerydProcesses::Identify(int64_t pid)
{
    std::shared_ptr<ProcessTable> table;
    {
        std::lock_guard lock(m_mutex);
        if (!m_table) {
            // A socket that does not exist cannot answer: say so without waiting for a timeout.
            if (m_endpoint.starts_with("ipc://") && !std::filesystem::exists(m_endpoint.substr(6))) {
                throw std::runtime_error("orreryd is not reachable at " + m_endpoint);
            }
            ipc::Options options = m_options;
            options.interfaces = {"processTable"};
            auto client = std::make_unique<ipc::Client>(options);
            m_table = ipc::MakeProxy<ProcessTable>(client->Connect(m_endpoint));
            m_client = std::move(client);
        }
        table = m_table;
    }
    return table->identifyProcess(pid);
}

ipc::ProcessLookup OrrerydProcesses::Lookup()
{
    std::weak_ptr<OrrerydProcesses> weak = weak_from_this();
    return [weak](int64_t pid) -> std::optional<std::string> {
        auto self = weak.lock();
        if (!self) throw std::runtime_error("this service is stopping");
        ProcessIdentity identity = self->Identify(pid);
        if (identity.role.empty()) return std::nullopt;
        return identity.role;
    };
}

} // namespace orrery::interfaces
