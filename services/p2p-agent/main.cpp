// orrery-p2p-agent: serves one peer connection in a sandboxed process.
#include <services/p2p-agent/agent.h>

#include <common/util/init.h>

// LeakSanitizer's exit-time check (sanitizer builds only) needs ptrace and a
// non-thread clone, which the sandbox forbids; the agent opts out of it.
extern "C" const char* __lsan_default_options()
{
    return "detect_leaks=0";
}

int main(int argc, char* argv[])
{
    orrery::ArgsManager args;
    orrery::p2p_agent::AddArgs(args);
    // An agent writes no files: it logs to stderr, which orreryd puts in debug.log.
    args.ForceSetArg("printtoconsole", "1");
    if (auto code = orrery::InitProcess(args, argc, argv, "p2p-agent", "Usage: orrery-p2p-agent [options]",
                                        /*make_dirs=*/false)) {
        return *code;
    }
    return orrery::p2p_agent::Run(args);
}
