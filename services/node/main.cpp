// orrery-node: the chain and peer policy of an Orrery constellation.
#include <services/node/node.h>

#include <common/util/init.h>

int main(int argc, char* argv[])
{
    orrery::ArgsManager args;
    orrery::node::AddArgs(args);
    if (auto code = orrery::InitProcess(args, argc, argv, "node", "Usage: orrery-node [options]")) return *code;
    return orrery::node::Run(args);
}
