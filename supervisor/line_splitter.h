// Cuts the byte stream of a child's stdout/stderr pipe into whole log lines,
// so that orreryd writes each record to debug.log with one write(2) and never
// splits or interleaves records of different processes.
#ifndef ORRERY_SUPERVISOR_LINE_SPLITTER_H
#define ORRERY_SUPERVISOR_LINE_SPLITTER_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace orrery::supervisor {

//! Longest record orreryd keeps from a child; the rest of a longer line is cut.
inline constexpr size_t DEFAULT_MAX_LOG_LINE = 64 * 1024;

//! Buffers partial reads and hands out complete lines (without the '\n').
//! A line longer than `max_line` keeps its first `max_line` bytes and gets a
//! note saying how many bytes were cut; memory stays bounded by `max_line`.
class LineSplitter
{
public:
    using Sink = std::function<void(std::string_view line)>;

    explicit LineSplitter(size_t max_line = DEFAULT_MAX_LOG_LINE) : m_max_line(max_line) {}

    //! Appends bytes read from the pipe; calls `sink` once per completed line.
    void Feed(std::string_view data, const Sink& sink);
    //! At end of stream: hands out a last line that had no '\n', if any.
    void Finish(const Sink& sink);
    //! Bytes held for a line not yet complete.
    size_t Pending() const { return m_buffer.size(); }

private:
    void Emit(const Sink& sink);

    size_t m_max_line;
    std::string m_buffer;
    uint64_t m_cut{0}; //!< bytes dropped from the current line
};

//! True when `line` already carries the logger's "<time> [role:pid] " prefix
//! (see common/util/logging.h), as every line of an Orrery process does.
bool HasLogTag(std::string_view line);

//! The line as it goes into debug.log: unchanged when tagged, otherwise with
//! the time and "[role:pid]" of the child it came from (a crash message, a
//! sanitizer report, output of a foreign binary).
std::string TagLine(std::string_view line, std::string_view role, int64_t pid);

} // namespace orrery::supervisor

#endif // ORRERY_SUPERVISOR_LINE_SPLITTER_H
