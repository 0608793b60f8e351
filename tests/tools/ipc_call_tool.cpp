// See ipc_call_tool.h.
#include <tests/tools/ipc_call_tool.h>

#include <common/ipc/endpoint.h>
#include <common/ipc/error.h>
#include <common/util/init.h>

#include <chrono>
#include <cstdio>

namespace orrery::test_tools {

int RunIpcCall(const ArgsManager& args, const IpcCallSpec& spec,
               const std::function<nlohmann::json(const std::shared_ptr<ipc::Connection>&)>& call)
{
    ipc::Options options;
    options.role = spec.role;
    options.interfaces = spec.interfaces;
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.connect_timeout = std::chrono::milliseconds(3000);
    ipc::Client client(options);
    nlohmann::json out;
    try {
        out["result"] = call(client.Connect(args.GetArg("ipcconnect", DefaultEndpoint(args, spec.service))));
    } catch (const ipc::Error& e) {
        out["error"] = {{"code", static_cast<int32_t>(e.code())}, {"message", e.what()}};
    } catch (const std::exception& e) {
        std::fprintf(stderr, "Error: %s\n", e.what());
        return 1;
    }
    client.Stop();
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

} // namespace orrery::test_tools
