// orreryd: the supervisor of an Orrery constellation.
#include <supervisor/supervisor.h>

#include <common/util/init.h>

int main(int argc, char* argv[])
{
    orrery::ArgsManager args;
    orrery::supervisor::AddArgs(args);
    if (auto code = orrery::InitProcess(args, argc, argv, "orreryd", "Usage: orreryd [options]")) return *code;
    return orrery::supervisor::Run(args, std::vector<std::string>(argv + 1, argv + argc));
}
