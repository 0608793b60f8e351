// Shared by the fuzz targets: a failed property aborts (libFuzzer reports the input), and
// the whitespace the text decoders of common/keys accept around their input.
#ifndef ORRERY_TESTS_FUZZ_FUZZ_UTIL_H
#define ORRERY_TESTS_FUZZ_FUZZ_UTIL_H

#include <cstdlib>
#include <string_view>

namespace orrery::fuzz {

//! Aborts when a property does not hold.
inline void Check(bool ok)
{
    if (!ok) std::abort();
}

//! `s` without the whitespace (space, \f, \n, \r, \t, \v) around it.
inline std::string_view TrimSpace(std::string_view s)
{
    constexpr std::string_view SPACE = " \f\n\r\t\v";
    const size_t first = s.find_first_not_of(SPACE);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(SPACE) - first + 1);
}

} // namespace orrery::fuzz

#endif // ORRERY_TESTS_FUZZ_FUZZ_UTIL_H
