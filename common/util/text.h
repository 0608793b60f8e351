// Small checks on untrusted text, made before a parser allocates anything.
#ifndef ORRERY_COMMON_UTIL_TEXT_H
#define ORRERY_COMMON_UTIL_TEXT_H

#include <cstddef>
#include <string_view>

namespace orrery {

//! Deepest nesting of JSON arrays and objects in `text`, brackets inside
//! strings not counted. Stops at the first level past `limit` and returns it,
//! so a hostile document costs one linear scan. Unbalanced closers are ignored.
size_t JsonNestingDepth(std::string_view text, size_t limit);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_TEXT_H
