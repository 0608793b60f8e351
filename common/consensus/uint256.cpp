// Display-form conversion for uint256.
#include <common/consensus/uint256.h>

#include <common/consensus/hex.h>

#include <algorithm>

namespace orrery {

std::optional<uint256> uint256::FromHex(std::string_view hex)
{
    if (hex.size() != 2 * kSize) return std::nullopt;
    auto bytes = TryParseHex(hex);
    if (!bytes) return std::nullopt;
    uint256 out;
    std::reverse_copy(bytes->begin(), bytes->end(), out.m_data.begin());
    return out;
}

std::optional<uint256> uint256::FromBytes(std::span<const uint8_t> bytes)
{
    if (bytes.size() != kSize) return std::nullopt;
    uint256 out;
    std::copy(bytes.begin(), bytes.end(), out.m_data.begin());
    return out;
}

std::string uint256::GetHex() const
{
    std::array<uint8_t, kSize> reversed;
    std::reverse_copy(m_data.begin(), m_data.end(), reversed.begin());
    return HexStr(reversed);
}

} // namespace orrery
