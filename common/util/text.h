// Small checks on untrusted text, made before a parser allocates anything.
#ifndef ORRERY_COMMON_UTIL_TEXT_H
#define ORRERY_COMMON_UTIL_TEXT_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! Deepest nesting of JSON arrays and objects in `text`, brackets inside
//! strings not counted. Stops at the first level past `limit` and returns it,
//! so a hostile document costs one linear scan. Unbalanced closers are ignored.
size_t JsonNestingDepth(std::string_view text, size_t limit);

//! "a, b, c" for Join({"a", "b", "c"}, ", "). (fmt::join trips a false
//! -Wstringop-overflow in GCC 12 at -O3.)
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_TEXT_H
