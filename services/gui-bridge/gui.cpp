// The web GUI's files and the bridge's process methods; see gui.h.
#include <services/gui-bridge/gui.h>

#include <common/interfaces/supervisor_ipc.h>

#include <map>

namespace orrery::bridge {

bool IsGuiPath(std::string_view path)
{
    return path == "/" || path == "/index.html" || path.starts_with("/gui/");
}

http::Response ServeGuiFile(const http::Request& request)
{
    http::Response response;
    if (request.method != "GET") {
        response.status = 405;
        response.headers.emplace_back("Allow", "GET");
        return response;
    }
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    std::string_view name = path == "/" || path == "/index.html" ? "index.html" : path.substr(5);
    for (const EmbeddedFile& file : EmbeddedFiles()) {
        if (file.path != name) continue;
        response.headers.emplace_back("Content-Type", std::string(file.content_type));
        // Nothing from elsewhere: no CDN, no fonts, no frames of other sites around it.
        response.headers.emplace_back("Content-Security-Policy",
                                      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        response.headers.emplace_back("X-Content-Type-Options", "nosniff");
        response.headers.emplace_back("Cache-Control", "no-cache");
        response.body = file.data;
        return response;
    }
    response.status = 404;
    response.body = "Not found\n";
    return response;
}

namespace {

rpc::Json CallFiguresJson(const ipc::CallFigures& figures)
{
    return rpc::Json{{"calls", figures.calls},
                     {"errors", figures.errors},
                     {"total_us", figures.total_us},
                     {"histogram", figures.histogram}};
}

//! pid -> the links that process reported, as JSON; empty when orreryd cannot gather them.
std::map<int64_t, rpc::Json> LinksByPid(rpc::Backend& supervisor)
{
    std::map<int64_t, rpc::Json> out;
    std::vector<interfaces::ProcessLinks> report;
    try {
        report = supervisor.Use<interfaces::Supervisor>([](interfaces::Supervisor& s) { return s.linkReport(); });
    } catch (const std::exception&) {
        return out; // the table is still worth showing without its links
    }
    for (const auto& process : report) {
        rpc::Json links = rpc::Json::array();
        for (const auto& link : process.links) {
            links.push_back(rpc::Json{{"peer_role", link.peer_role},
                                      {"peer_pid", link.peer_pid},
                                      {"endpoint", link.endpoint},
                                      {"server", link.server},
                                      {"made", CallFiguresJson(link.made)},
                                      {"served", CallFiguresJson(link.served)}});
        }
        out[process.pid] = std::move(links);
    }
    return out;
}

} // namespace

rpc::Json ProcessInfo(rpc::Backend& supervisor)
{
    auto table = supervisor.Use<interfaces::Supervisor>([](interfaces::Supervisor& s) { return s.status(); });
    auto links = LinksByPid(supervisor);
    rpc::Json out = rpc::Json::array();
    for (const auto& p : table) {
        rpc::Json entry{{"role", p.role},
                        {"pid", p.pid},
                        {"state", p.state},
                        {"uptime", p.uptime_seconds},
                        {"restarts", p.restarts},
                        {"rss_bytes", p.rss_bytes},
                        {"cpu_seconds", p.cpu_seconds}};
        if (!p.peer_address.empty()) entry["peer_address"] = p.peer_address;
        if (auto it = links.find(p.pid); it != links.end() && p.pid != 0) entry["links"] = std::move(it->second);
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<rpc::Method> GuiMethods(rpc::Backend& supervisor)
{
    std::vector<rpc::Method> methods;
    methods.push_back(
        {"getprocessinfo",
         "Orrery",
         {},
         "Orrery's own: every process of the constellation as orreryd runs it (orreryd, node, wallet, "
         "gui-bridge, each p2p-agent), with role, pid, state, uptime and restarts in seconds and counts, "
         "resident memory in bytes, CPU seconds used, an agent's peer_address, and the IPC links the process "
         "reports (links: peer_role, peer_pid, endpoint, server, and for the calls it made and served: "
         "calls, errors, total_us, histogram of latencies in power-of-two microsecond buckets).",
         [&supervisor](const rpc::CallRequest&) { return ProcessInfo(supervisor); }});
    methods.push_back(
        {"restartservice",
         "Orrery",
         {rpc::Required("service", rpc::ParamType::STRING, "node, wallet or gui-bridge")},
         "Orrery's own: asks orreryd to stop one service and start it again (its restart count grows by one).",
         [&supervisor](const rpc::CallRequest& call) {
             std::string role = rpc::StringArg(call.Arg(0));
             supervisor.Use<interfaces::Supervisor>([&](interfaces::Supervisor& s) { s.restart(role); });
             return rpc::Json(nullptr);
         }});
    return methods;
}

} // namespace orrery::bridge
