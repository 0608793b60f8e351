// Host and port parsing; see host_port.h.
#include <common/util/host_port.h>

#include <charconv>

namespace orrery {
namespace {

struct Split {
    std::string_view host;
    std::optional<std::string_view> port;
};

std::optional<Split> SplitText(std::string_view text)
{
    Split split{text, std::nullopt};
    if (text.starts_with('[')) {
        size_t close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        split.host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            split.port = rest.substr(1);
        }
    } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos && text.find(':') == colon) {
        // One colon: host:port. More than one without brackets: a bare IPv6 address, no port.
        split.host = text.substr(0, colon);
        split.port = text.substr(colon + 1);
    }
    if (split.host.empty()) return std::nullopt;
    return split;
}

} // namespace

std::optional<HostPort> ParseHostPort(std::string_view text, uint16_t default_port)
{
    auto split = SplitText(text);
    if (!split) return std::nullopt;
    HostPort result{std::string(split->host), default_port};
    if (split->port) {
        std::string_view digits = *split->port;
        unsigned value = 0;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value == 0 ||
            value > 65535) {
            return std::nullopt;
        }
        result.port = static_cast<uint16_t>(value);
    }
    return result;
}

bool HasPort(std::string_view text)
{
    auto split = SplitText(text);
    return split && split->port.has_value();
}

std::string HostOf(std::string_view text)
{
    auto split = SplitText(text);
    return split ? std::string(split->host) : std::string(text);
}

std::string FormatHostPort(std::string_view host, uint16_t port)
{
    if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]:" + std::to_string(port);
    return std::string(host) + ":" + std::to_string(port);
}

} // namespace orrery
