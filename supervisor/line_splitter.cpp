// Line splitting and tagging of children's output; see line_splitter.h.
#include <supervisor/line_splitter.h>

#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <sys/time.h>

namespace orrery::supervisor {

void LineSplitter::Feed(std::string_view data, const Sink& sink)
{
    while (!data.empty()) {
        size_t newline = data.find('\n');
        std::string_view piece = data.substr(0, newline);
        size_t room = m_max_line - std::min(m_max_line, m_buffer.size());
        if (piece.size() > room) {
            m_cut += piece.size() - room;
            piece = piece.substr(0, room);
        }
        m_buffer.append(piece);
        if (newline == std::string_view::npos) return;
        Emit(sink);
        data.remove_prefix(newline + 1);
    }
}

void LineSplitter::Finish(const Sink& sink)
{
    if (!m_buffer.empty() || m_cut > 0) Emit(sink);
}

void LineSplitter::Emit(const Sink& sink)
{
    if (m_cut > 0) m_buffer += fmt::format(" [{} more bytes cut]", m_cut);
    sink(m_buffer);
    m_buffer.clear();
    m_cut = 0;
}

bool HasLogTag(std::string_view line)
{
    // "2024-05-01T12:00:00.123456Z [node:812] ..." — a time stamp, then the tag.
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space < 20 || line[4] != '-' || line[10] != 'T') return false;
    if (line.size() < space + 2 || line[space + 1] != '[') return false;
    size_t close = line.find(']', space + 2);
    if (close == std::string_view::npos) return false;
    std::string_view tag = line.substr(space + 2, close - space - 2);
    size_t colon = tag.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == tag.size()) return false;
    for (char c : tag.substr(colon + 1)) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

std::string TagLine(std::string_view line, std::string_view role, int64_t pid)
{
    if (HasLogTag(line)) return std::string(line);
    timeval tv{};
    gettimeofday(&tv, nullptr);
    std::tm tm{};
    gmtime_r(&tv.tv_sec, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z [{}:{}] {}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(tv.tv_usec), role, pid, line);
}

} // namespace orrery::supervisor
