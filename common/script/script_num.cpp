// Script number encoding and decoding.
#include <common/script/script_num.h>

#include <climits>

namespace orrery {

std::optional<ScriptNum> ScriptNum::Decode(std::span<const uint8_t> bytes, bool require_minimal, size_t max_size)
{
    if (bytes.size() > max_size) return std::nullopt;
    if (bytes.empty()) return ScriptNum{0};
    if (require_minimal && (bytes.back() & 0x7f) == 0) {
        // A zero top byte is only needed when the next byte's high bit would
        // otherwise be read as the sign.
        if (bytes.size() == 1 || (bytes[bytes.size() - 2] & 0x80) == 0) return std::nullopt;
    }
    uint64_t magnitude = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        magnitude |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    }
    if (bytes.back() & 0x80) {
        magnitude &= ~(uint64_t{0x80} << (8 * (bytes.size() - 1)));
        return ScriptNum{-static_cast<int64_t>(magnitude)};
    }
    return ScriptNum{static_cast<int64_t>(magnitude)};
}

std::vector<uint8_t> ScriptNum::Encode(int64_t value)
{
    std::vector<uint8_t> out;
    if (value == 0) return out;
    const bool negative = value < 0;
    uint64_t magnitude = negative ? ~static_cast<uint64_t>(value) + 1 : static_cast<uint64_t>(value);
    while (magnitude != 0) {
        out.push_back(static_cast<uint8_t>(magnitude & 0xff));
        magnitude >>= 8;
    }
    if (out.back() & 0x80) {
        out.push_back(negative ? 0x80 : 0x00);
    } else if (negative) {
        out.back() |= 0x80;
    }
    return out;
}

int ScriptNum::GetInt() const
{
    if (m_value > INT_MAX) return INT_MAX;
    if (m_value < INT_MIN) return INT_MIN;
    return static_cast<int>(m_value);
}

} // namespace orrery
