// echo_service ENDPOINT [KEYS_DIR]: serves Echo until SIGTERM. Prints
// "ready <endpoint>" once bound. The IPC process tests kill and restart it.
#include "echo_impl.h"

#include <common/interfaces/echo_ipc.h>
#include <common/ipc/endpoint.h>
#include <common/util/alloc.h>
#include <common/util/logging.h>

#include <csignal>
#include <cstdio>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: echo_service ENDPOINT [KEYS_DIR]\n");
        return 2;
    }
    orrery::KeepLargeBlocksOnHeap(); // as the services do (common/util/alloc.h)
    orrery::InitLogging({.tag = "echo", .file = "", .print_to_console = true, .debug = {}});
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    orrery::ipc::Options options;
    options.role = "echo";
    if (argc > 2) options.keys_dir = argv[2];
    orrery::ipc::Server server(options);
    server.Serve(orrery::test::MakeEcho());
    try {
        server.Bind(argv[1]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_service: %s\n", e.what());
        return 1;
    }
    std::printf("ready %s\n", server.Endpoint().c_str());
    std::fflush(stdout);
    int signal = 0;
    sigwait(&signals, &signal);
    server.Stop();
    return 0;
}
