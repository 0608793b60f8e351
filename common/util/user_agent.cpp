// The user agent and -uacomment; see user_agent.h.
#include <common/util/user_agent.h>

#include <common/util/text.h>

#include <fmt/format.h>

namespace orrery {

bool IsSafeUaComment(std::string_view comment)
{
    for (char c : comment) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && std::string_view(" .,;-_?@").find(c) == std::string_view::npos) return false;
    }
    return true;
}

std::string FormatUserAgent(std::string_view name, std::string_view version, const std::vector<std::string>& comments)
{
    std::string out = fmt::format("/{}:{}", name, version);
    if (!comments.empty()) out += "(" + Join(comments, "; ") + ")";
    return out + "/";
}

std::optional<std::string> MakeUserAgent(const std::vector<std::string>& comments, std::string& error)
{
    for (const std::string& comment : comments) {
        if (!IsSafeUaComment(comment)) {
            error = fmt::format("User Agent comment ({}) contains unsafe characters.", comment);
            return std::nullopt;
        }
    }
    std::string agent = FormatUserAgent("Orrery", ORRERY_VERSION, comments);
    if (agent.size() > MAX_SUBVERSION_LENGTH) {
        error = fmt::format("Total length of network version string ({}) exceeds maximum length ({}). Reduce the "
                            "number or size of uacomments.",
                            agent.size(), MAX_SUBVERSION_LENGTH);
        return std::nullopt;
    }
    return agent;
}

} // namespace orrery
