// Fuzz target: banlist.json as the node reads it at start-up, and setban's subnet
// argument. Any input must parse or fail with a message, never crash; what parses
// must write back and parse again to the same bans.
#include <services/node/ban_list.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery::node;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    if (auto entries = ParseBanList(text, error)) {
        std::string again_error;
        auto again = ParseBanList(WriteBanList(*entries), again_error);
        if (!again || again->size() != entries->size()) std::abort();
        for (size_t i = 0; i < entries->size(); ++i) {
            if (!((*again)[i].subnet == (*entries)[i].subnet) || (*again)[i].until != (*entries)[i].until) std::abort();
        }
    } else if (error.empty()) {
        std::abort();
    }
    if (auto subnet = ParseSubNet(text.substr(0, 128))) {
        auto round = ParseSubNet(subnet->ToString());
        if (!round || !(*round == *subnet)) std::abort();
        (void)subnet->Contains(text);
    }
    return 0;
}
