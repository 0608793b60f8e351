// orrery-cli commands; see cli.h.
#include <cli/cli.h>

#include <common/interfaces/supervisor_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/init.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace orrery::cli {

void AddArgs(ArgsManager& args)
{
    AddCommonArgs(args);
    args.AddArg("-supervisor", "Send the command to orreryd's Supervisor interface: status, stop");
    args.AddArg("-timeout=<ms>", "How long to wait for the service (default: 3000)");
}

int Run(const ArgsManager& args, const std::vector<std::string>& command)
{
    if (!args.GetBoolArg("supervisor", false)) {
        std::fprintf(stderr, "error: only -supervisor commands exist so far (try: orrery-cli -supervisor status)\n");
        return 1;
    }
    if (command.size() != 1 || (command[0] != "status" && command[0] != "stop")) {
        std::fprintf(stderr, "error: -supervisor takes one command: status or stop\n");
        return 1;
    }
    ipc::Options options;
    options.role = "cli";
    options.interfaces = {"supervisor"};
    options.connect_timeout = std::chrono::milliseconds(args.GetIntArg("timeout", 3000));
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.server_role = "orreryd";
    std::string endpoint = args.GetArg("ipcconnect", DefaultEndpoint(args, "supervisor"));
    if (endpoint.starts_with("ipc://") && !std::filesystem::exists(endpoint.substr(6))) {
        std::fprintf(stderr, "error: orreryd is not running (no socket at %s)\n", endpoint.substr(6).c_str());
        return 1;
    }
    try {
        ipc::Client client(options);
        auto supervisor = ipc::MakeProxy<interfaces::Supervisor>(client.Connect(endpoint));
        if (command[0] == "stop") {
            supervisor->stop();
            std::printf("Orrery stopping\n");
            return 0;
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : supervisor->status()) {
            nlohmann::json entry{{"role", p.role},           {"pid", p.pid},
                                 {"state", p.state},         {"uptime", p.uptime_seconds},
                                 {"restarts", p.restarts},   {"rss_bytes", p.rss_bytes},
                                 {"cpu_seconds", p.cpu_seconds}};
            if (!p.peer_address.empty()) entry["peer_address"] = p.peer_address;
            out.push_back(entry);
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

} // namespace orrery::cli
