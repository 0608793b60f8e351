// Bitcoin Core's test notation for scripts (ParseScript in core_read.cpp), as
// used by script_tests.json and the prevout scripts of tx_valid/tx_invalid:
// decimal numbers, raw 0x hex, 'quoted' string pushes and opcode names with
// or without "OP_". Used by tests, fuzz seeds and developer tools.
#ifndef ORRERY_COMMON_SCRIPT_SCRIPT_NOTATION_H
#define ORRERY_COMMON_SCRIPT_SCRIPT_NOTATION_H

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace orrery {

class ScriptParseError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Throws ScriptParseError on an unknown token or an out-of-range number.
std::vector<uint8_t> ParseScriptNotation(std::string_view text);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SCRIPT_NOTATION_H
