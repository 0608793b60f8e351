// Fuzz target: orrery.conf text. Any input must parse or fail with a message, never crash.
#include <common/util/args.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    orrery::ArgsManager args;
    orrery::AddCommonArgs(args);
    args.AddArg("-port=<port>", "", orrery::ARG_NETWORK_ONLY);
    std::string error;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (args.ReadConfigString(text, "fuzz.conf", error)) {
        (void)args.GetArg("port", "");
        (void)args.GetArgs("debug");
        (void)args.GetChainName(error);
    }
    return 0;
}
