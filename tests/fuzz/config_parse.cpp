// Fuzz target: orrery.conf / bitcoin.conf text, with orreryd's whole option table. Any input
// must parse or fail with a message, never crash; so must the parameter interactions and the
// -whitelist, -whitebind and -uacomment values it holds.
#include <common/util/args.h>
#include <common/util/net_permissions.h>
#include <common/util/options.h>
#include <common/util/user_agent.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    orrery::ArgsManager args;
    orrery::AddOptions(args, orrery::PROCESS_ORRERYD);
    std::string error;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (args.ReadConfigString(text, "fuzz.conf", error)) {
        (void)args.GetArg("port", "");
        (void)args.GetArgs("debug");
        (void)args.GetChainName(error);
        std::vector<std::string> changes;
        (void)args.ApplyParameterInteraction(changes, error);
        for (const auto& value : args.GetArgs("whitelist")) {
            if (auto parsed = orrery::ParseWhitelist(value, error)) {
                (void)orrery::PermissionStrings(orrery::ResolveImplicit(parsed->flags, true, true));
            }
        }
        for (const auto& value : args.GetArgs("whitebind")) (void)orrery::ParseWhitebind(value, error);
        (void)orrery::MakeUserAgent(args.GetArgs("uacomment"), error);
    }
    return 0;
}
