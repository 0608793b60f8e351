// orrery-cli: the command line of an Orrery constellation.
#include <cli/cli.h>

#include <common/util/init.h>

#include <string_view>

int main(int argc, char* argv[])
{
    // Options come first, then the command and its arguments, as with bitcoin-cli.
    int first_command = 1;
    while (first_command < argc && std::string_view(argv[first_command]).starts_with("-")) ++first_command;
    orrery::ArgsManager args;
    orrery::cli::AddArgs(args);
    if (auto code =
            orrery::InitProcess(args, first_command, argv, "cli",
                                "Usage: orrery-cli [options] <command> [params]\n       orrery-cli [options] -named "
                                "<command> [name=value]...\n       orrery-cli [options] -supervisor <status|stop>",
                                /*make_dirs=*/false)) {
        return *code;
    }
    return orrery::cli::Run(args, std::vector<std::string>(argv + first_command, argv + argc));
}
