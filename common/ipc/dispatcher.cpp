// Method table of a served set of interfaces.
#include <common/ipc/dispatcher.h>

namespace orrery::ipc {
namespace {
thread_local CallContext* t_current_call = nullptr;
} // namespace

CallContext* CurrentCall()
{
    return t_current_call;
}

CallScope::CallScope(CallContext& context) : m_outer(t_current_call)
{
    t_current_call = &context;
}
CallScope::~CallScope()
{
    t_current_call = m_outer;
}

void Dispatcher::AddInterface(const std::string& name, std::vector<std::string> allowed_roles)
{
    m_interfaces[name] = std::set<std::string>(allowed_roles.begin(), allowed_roles.end());
}

void Dispatcher::Add(const std::string& method, MethodHandler handler)
{
    m_methods[method] = std::move(handler);
}

const MethodHandler* Dispatcher::Find(std::string_view method) const
{
    auto it = m_methods.find(method);
    return it == m_methods.end() ? nullptr : &it->second;
}

bool Dispatcher::Allowed(std::string_view method, std::string_view role) const
{
    auto interface_name = method.substr(0, method.find('.'));
    auto it = m_interfaces.find(interface_name);
    if (it == m_interfaces.end()) return false;
    return it->second.empty() || it->second.contains(std::string(role));
}

std::vector<std::string> Dispatcher::InterfacesFor(std::string_view role) const
{
    std::vector<std::string> names;
    for (const auto& [name, roles] : m_interfaces) {
        if (roles.empty() || roles.contains(std::string(role))) names.push_back(name);
    }
    return names;
}

std::vector<std::string> Dispatcher::Interfaces() const
{
    std::vector<std::string> names;
    for (const auto& [name, roles] : m_interfaces) names.push_back(name);
    return names;
}

} // namespace orrery::ipc
