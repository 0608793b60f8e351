// Script numbers: the little-endian sign-magnitude integers that arithmetic
// opcodes read from and write to the stack (Core's CScriptNum). Operands are
// at most 4 bytes (5 for lock times), results may be up to 5 bytes and are
// only ever stored back, so int64_t arithmetic cannot overflow.
#ifndef ORRERY_COMMON_SCRIPT_SCRIPT_NUM_H
#define ORRERY_COMMON_SCRIPT_SCRIPT_NUM_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace orrery {

class ScriptNum
{
public:
    static constexpr size_t DEFAULT_MAX_SIZE = 4;

    explicit constexpr ScriptNum(int64_t value) : m_value{value} {}

    //! Decodes a stack element. Fails (nullopt) when it is longer than
    //! max_size or, with require_minimal, not minimally encoded; the
    //! interpreter reports that as SCRIPT_ERR_SCRIPTNUM.
    static std::optional<ScriptNum> Decode(std::span<const uint8_t> bytes, bool require_minimal,
                                           size_t max_size = DEFAULT_MAX_SIZE);

    //! Minimal encoding of a value; empty for zero.
    static std::vector<uint8_t> Encode(int64_t value);
    std::vector<uint8_t> Encode() const { return Encode(m_value); }

    int64_t Value() const { return m_value; }
    //! Clamped to the int range, as Core's getint().
    int GetInt() const;

    friend constexpr bool operator==(const ScriptNum&, const ScriptNum&) = default;
    friend constexpr auto operator<=>(const ScriptNum&, const ScriptNum&) = default;

private:
    int64_t m_value;
};

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SCRIPT_NUM_H
