// Test-notation script parser.
#include <common/script/script_notation.h>

#include <common/consensus/hex.h>
#include <common/consensus/script.h>

#include <charconv>
#include <string>

namespace orrery {

namespace {

bool IsDigits(std::string_view s)
{
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

} // namespace

std::vector<uint8_t> ParseScriptNotation(std::string_view text)
{
    std::vector<uint8_t> script;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = text.find_first_not_of(" \t\n", pos);
        if (start == std::string_view::npos) break;
        size_t end = text.find_first_of(" \t\n", start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view word = text.substr(start, end - start);
        pos = end;

        if (IsDigits(word) || (word.size() > 1 && word[0] == '-' && IsDigits(word.substr(1)))) {
            int64_t n = 0;
            const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
            if (ec != std::errc{} || ptr != word.data() + word.size() || n > int64_t{0xffffffff} ||
                n < -int64_t{0xffffffff}) {
                throw ScriptParseError("number out of range: " + std::string(word));
            }
            AppendPushInt64(script, n);
        } else if (word.size() > 2 && word.substr(0, 2) == "0x" && IsHex(word.substr(2))) {
            // Raw bytes, inserted as written (they carry their own push opcodes).
            const auto bytes = TryParseHex(word.substr(2));
            if (!bytes) throw ScriptParseError("bad hex: " + std::string(word));
            script.insert(script.end(), bytes->begin(), bytes->end());
        } else if (word.size() >= 2 && word.front() == '\'' && word.back() == '\'') {
            const std::string_view body = word.substr(1, word.size() - 2);
            const std::vector<uint8_t> bytes(body.begin(), body.end());
            AppendPushData(script, bytes);
        } else if (const auto opcode = OpcodeFromName(word)) {
            script.push_back(*opcode);
        } else {
            throw ScriptParseError("unknown token: " + std::string(word));
        }
    }
    return script;
}

} // namespace orrery
