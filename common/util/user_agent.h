// The user agent every p2p-agent announces for the node (BIP14's
// "/Name:version(comments)/"), with bitcoind's checks of -uacomment.
#ifndef ORRERY_COMMON_UTIL_USER_AGENT_H
#define ORRERY_COMMON_UTIL_USER_AGENT_H

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! bitcoind's limit on the whole user agent (MAX_SUBVERSION_LENGTH).
inline constexpr size_t MAX_SUBVERSION_LENGTH = 256;

//! Whether a -uacomment holds only the characters bitcoind allows there: letters, digits and " .,;-_?@".
bool IsSafeUaComment(std::string_view comment);
//! "/Orrery:0.1.0/", or "/Orrery:0.1.0(a; b)/" with comments.
std::string FormatUserAgent(std::string_view name, std::string_view version, const std::vector<std::string>& comments);
//! Orrery's user agent with the -uacomment values. nullopt, with bitcoind's message in `error`, for an unsafe
//! comment or a result longer than MAX_SUBVERSION_LENGTH.
std::optional<std::string> MakeUserAgent(const std::vector<std::string>& comments, std::string& error);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_USER_AGENT_H
