// orrery-gui-bridge: JSON-RPC for the constellation (bitcoind's dialect).
#include <services/gui-bridge/bridge.h>

#include <common/util/init.h>

int main(int argc, char* argv[])
{
    orrery::ArgsManager args;
    orrery::bridge::AddArgs(args);
    if (auto code = orrery::InitProcess(args, argc, argv, "gui-bridge", "Usage: orrery-gui-bridge [options]")) {
        return *code;
    }
    return orrery::bridge::Run(args);
}
