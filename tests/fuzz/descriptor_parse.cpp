// Fuzz target: arbitrary text through the descriptor parser (generatetodescriptor,
// generateblock) and the script JSON of the node's RPC. A descriptor either
// parses or throws DescriptorError; a parsed one's checksum is accepted back,
// and the scripts it expands to have JSON forms without crashing.
#include "common/keys/descriptor.h"
#include "services/node/rpc/core_json.h"
#include "tests/fuzz/fuzz_util.h"

#include <cstdint>
#include <string>
#include <string_view>

using namespace orrery;
using orrery::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 4096) return 0;
    const std::string_view str(reinterpret_cast<const char*>(data), size);
    try {
        const ParsedDescriptor parsed = ParseDescriptor(str, Network::REGTEST, false);
        if (str.find('#') == std::string_view::npos) {
            const ParsedDescriptor again = ParseDescriptor(AddDescriptorChecksum(str), Network::REGTEST, true);
            Check(again.scripts == parsed.scripts);
        }
        for (const auto& script : parsed.scripts) {
            (void)node::ScriptToJson(script, Network::REGTEST, true, true);
            (void)node::InferDescriptor(script, Network::REGTEST);
        }
    } catch (const DescriptorError&) {
    }
    // The same bytes as a script.
    const std::vector<uint8_t> script(data, data + size);
    (void)node::ScriptToJson(script, Network::MAIN, true, true);
    (void)node::ScriptToAsmStr(script, true);
    return 0;
}
