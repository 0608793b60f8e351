// Process start-up; see init.h.
#include <common/util/init.h>
#include <common/util/alloc.h>
#include <common/util/fs.h>
#include <common/util/logging.h>

#include <cstdio>
#include <filesystem>

namespace orrery {

std::optional<int> InitProcess(ArgsManager& args, int argc, const char* const argv[], std::string_view role,
                               std::string_view usage, bool make_dirs)
{
    KeepLargeBlocksOnHeap(); // every service: its policy, decided here once for all of them
    std::string error;
    if (!args.ParseParameters(argc, argv, error)) {
        std::fprintf(stderr, "Error parsing command line arguments: %s\n", error.c_str());
        return 1;
    }
    if (args.GetBoolArg("help", false) || args.GetBoolArg("?", false)) {
        std::printf("%.*s\n\n%s", static_cast<int>(usage.size()), usage.data(), args.GetHelpMessage().c_str());
        return 0;
    }
    if (args.GetBoolArg("version", false)) {
        std::printf("Orrery %.*s version %s\n", static_cast<int>(role.size()), role.data(), ORRERY_VERSION);
        return 0;
    }
    std::filesystem::path base = args.GetDataDirBase();
    if (args.IsArgSet("datadir") && !std::filesystem::is_directory(base)) {
        std::fprintf(stderr, "Error: Specified data directory \"%s\" does not exist.\n", base.c_str());
        return 1;
    }
    if (make_dirs) {
        if (auto failure = EnsurePrivateDir(base)) {
            std::fprintf(stderr, "Error: %s\n", failure->c_str());
            return 1;
        }
    }
    if (!args.ReadConfigFiles(error)) {
        std::fprintf(stderr, "Error reading configuration file: %s\n", error.c_str());
        return 1;
    }
    std::filesystem::path net = args.GetDataDirNet();
    std::string log_file;
    if (make_dirs) {
        for (const auto& dir : {net, net / "run", net / "keys"}) {
            if (auto failure = EnsurePrivateDir(dir)) {
                std::fprintf(stderr, "Error: %s\n", failure->c_str());
                return 1;
            }
        }
    }
    // -nodebuglogfile: no file (services under orreryd log to stderr, which orreryd writes to debug.log).
    if (make_dirs && !args.IsArgNegated("debuglogfile")) {
        std::filesystem::path log_path = args.GetArg("debuglogfile", "debug.log");
        if (log_path.is_relative()) log_path = net / log_path;
        log_file = log_path.string();
    }
    LogOptions log_options{std::string(role), log_file, args.GetBoolArg("printtoconsole", false),
                           args.GetArgs("debug")};
    if (!InitLogging(log_options, &error)) {
        std::fprintf(stderr, "Error: %s\n", error.c_str());
        return 1;
    }
    for (const auto& warning : args.GetWarnings()) LogPrintf("Warning: {}", warning);
    return std::nullopt;
}

std::string DefaultEndpoint(const ArgsManager& args, std::string_view service)
{
    return "ipc://" + (args.GetDataDirNet() / "run" / (std::string(service) + ".sock")).string();
}

int WaitForShutdown(const sigset_t& signals)
{
    int signal = 0;
    while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
        ReopenLogFile();
        LogPrintf("Reopened debug.log on SIGHUP");
    }
    LogPrintf("Shutdown requested ({}), stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    return signal;
}

} // namespace orrery
