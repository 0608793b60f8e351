// The web GUI's files and the bridge's process methods; see gui.h.
#include <services/gui-bridge/gui.h>

#include <common/interfaces/supervisor_ipc.h>

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

rpc::Json ProcessInfo(rpc::Backend& supervisor)
{
    auto table = supervisor.Use<interfaces::Supervisor>([](interfaces::Supervisor& s) { return s.status(); });
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
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<rpc::Method> GuiMethods(rpc::Backend& supervisor)
{
    std::vector<rpc::Method> methods;
    methods.push_back({"getprocessinfo",
                       "Orrery",
                       {},
                       "Orrery's own: every process of the constellation as orreryd runs it (orreryd, node, wallet, "
                       "gui-bridge, each p2p-agent), with role, pid, state, uptime and restarts in seconds and counts, "
                       "resident memory in bytes, CPU seconds used, and an agent's peer_address.",
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
