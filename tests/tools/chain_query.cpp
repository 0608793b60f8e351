// chain_query: a TEST TOOL, built but not installed. It connects to a node's Chain
// interface as a wallet would (role "wallet", with the keys of <datadir>/<net>/keys on
// tcp://) and calls Chain.getTip again and again, printing one JSON line per call:
//
//   {"start_ms": <unix ms>, "ms": <how long the call took>, "height": <tip>}      or
//   {"start_ms": ..., "ms": ..., "error": {"code": ..., "message": ...}}
//
// until SIGTERM or SIGINT. tests/functional/test_deploy_netns.py runs it on the wallet's
// host to see calls in flight across a cut link fail as "disconnected" within the bound.
//
//   chain_query [-datadir=<dir>] [-regtest] -ipcconnect=<endpoint> [-interval=<ms>]
#include <common/interfaces/chain_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/error.h>
#include <common/util/init.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>

using namespace orrery;
using nlohmann::json;

int main(int argc, char* argv[])
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr); // before the IPC threads start: they inherit it
    ArgsManager args;
    AddCommonArgs(args);
    args.AddArg("-interval=<ms>", "Pause between two calls (default: 100)");
    if (auto code = InitProcess(args, argc, argv, "chain_query", "Usage: chain_query [options]", /*make_dirs=*/false)) {
        return *code;
    }
    ipc::Options options;
    options.role = "wallet";
    options.interfaces = {"chain"};
    options.keys_dir = args.GetDataDirNet() / "keys";
    options.connect_timeout = std::chrono::milliseconds(5000);
    ipc::Client client(options);
    std::shared_ptr<ipc::Connection> connection;
    try {
        connection = client.Connect(args.GetArg("ipcconnect", DefaultEndpoint(args, "node")));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "Error: %s\n", e.what());
        return 1;
    }
    auto chain = ipc::MakeProxy<interfaces::Chain>(connection);
    const int64_t interval = std::max<int64_t>(1, args.GetIntArg("interval", 100));
    const timespec pause{static_cast<time_t>(interval / 1000), static_cast<long>(interval % 1000 * 1000000)};
    do {
        json line;
        const auto start = std::chrono::steady_clock::now();
        line["start_ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        try {
            line["height"] = chain->getTip().height;
        } catch (const ipc::Error& e) {
            line["error"] = {{"code", static_cast<int32_t>(e.code())}, {"message", e.what()}};
        }
        line["ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s\n", line.dump().c_str());
        std::fflush(stdout);
    } while (sigtimedwait(&signals, nullptr, &pause) < 0);
    client.Stop();
    return 0;
}
