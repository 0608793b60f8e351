// orrery-wallet: the process that holds the keys (services/wallet/init.h: Run).
#include <services/wallet/init.h>

#include <common/util/init.h>

int main(int argc, char* argv[])
{
    orrery::ArgsManager args;
    orrery::wallet::AddArgs(args);
    if (auto code = orrery::InitProcess(args, argc, argv, "wallet", "Usage: orrery-wallet [options]")) return *code;
    return orrery::wallet::Run(args);
}
