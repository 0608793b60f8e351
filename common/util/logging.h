// Logging for every Orrery process: one whole line per record, each tagged with
// the process role and pid, written with a single write(2) so that records of
// several processes sharing one debug.log never interleave.
//
// A line: "<time> [role:pid] [thread] [file:line] [function] message"; the
// thread and source parts appear with -logthreadnames and -logsourcelocations,
// the time has microseconds with -logtimemicros (bitcoind's options).
#ifndef ORRERY_COMMON_UTIL_LOGGING_H
#define ORRERY_COMMON_UTIL_LOGGING_H

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace orrery {

//! Debug categories, enabled with -debug=<name> (or -debug / -debug=all for every one).
enum class LogCategory : uint32_t {
    NONE = 0,
    IPC = 1 << 0,
    NET = 1 << 1,
    RPC = 1 << 2,
    VALIDATION = 1 << 3,
    WALLET = 1 << 4,
    SUPERVISOR = 1 << 5,
    MEMPOOL = 1 << 6,
    ALL = 0xffffffff,
};

//! Severity of a debug record; a category logs records at or above its level (-loglevel).
enum class LogLevel : uint8_t {
    TRACE = 0,
    DEBUG = 1,
    INFO = 2,
};

struct LogOptions {
    std::string tag{};                        //!< process role shown on every line, e.g. "node"
    std::string file{};                       //!< debug.log path; empty: no file
    bool print_to_console{false};             //!< also write every line to the console
    std::vector<std::string> debug{};         //!< -debug values
    std::vector<std::string> debug_exclude{}; //!< -debugexclude values
    std::vector<std::string> levels{};        //!< -loglevel values: "<level>" or "<category>:<level>"
    bool time_micros{false};                  //!< -logtimemicros
    bool thread_names{false};                 //!< -logthreadnames
    bool source_locations{false};             //!< -logsourcelocations
    bool console_is_stdout{false};            //!< the console is stdout (orreryd, as bitcoind) rather than stderr
};

//! Where a record was written in the source (-logsourcelocations).
struct SourceLocation {
    const char* file{""};
    int line{0};
    const char* function{""};
};

//! A format string that also remembers where it was written: the default
//! arguments are evaluated at the caller, so every LogPrintf knows its line.
template <typename... Args> struct LogFormat {
    fmt::format_string<Args...> format;
    SourceLocation location;
    template <typename S>
    consteval LogFormat(const S& text, const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                        const char* function = __builtin_FUNCTION())
        : format(text), location{file, line, function}
    {
    }
};

//! Sets up the process-wide logger. Returns false (and explains in *error, with bitcoind's
//! wording) for an unknown category or level.
bool InitLogging(const LogOptions& options, std::string* error = nullptr);
//! Reopens the log file (SIGHUP, after log rotation). Safe to call from any thread.
void ReopenLogFile();
//! Closes the log file; later records go to stderr only if console output was on.
void ShutdownLogging();

bool LogAcceptCategory(LogCategory category, LogLevel level = LogLevel::DEBUG);
//! Parses a category name ("ipc", "net", ...). Returns NONE for an unknown name, and for
//! one of bitcoind's categories Orrery has no records of (see IsLogCategoryName).
LogCategory ParseLogCategory(std::string_view name);
//! Whether `name` is a category -debug accepts: Orrery's, bitcoind's, "all", "1".
bool IsLogCategoryName(std::string_view name);
//! Enables or disables a category at run time (tests, the logging RPC).
void SetLogCategory(LogCategory category, bool enabled);

//! Writes one record. Embedded newlines are escaped so one record stays one line.
void LogWrite(std::string_view message, const SourceLocation& location = {});
//! The time stamp of a line as the logger writes it now (orreryd tags foreign lines with it).
std::string LogTimestamp();

//! At start-up: a debug.log over 11 MB is cut to its last 10 MB, from a line start (-shrinkdebugfile).
void ShrinkDebugFile(const std::string& path);

template <typename... Args> void LogPrintf(LogFormat<std::type_identity_t<Args>...> format, Args&&... args)
{
    LogWrite(fmt::format(format.format, std::forward<Args>(args)...), format.location);
}

} // namespace orrery

//! Logs only when the category is enabled; the arguments are not evaluated otherwise.
#define LogDebug(category, ...)                                                                                        \
    do {                                                                                                               \
        if (::orrery::LogAcceptCategory(category)) {                                                                   \
            ::orrery::LogPrintf(__VA_ARGS__);                                                                          \
        }                                                                                                              \
    } while (0)

//! Like LogDebug, for records only -loglevel=trace (or <category>:trace) shows.
#define LogTrace(category, ...)                                                                                        \
    do {                                                                                                               \
        if (::orrery::LogAcceptCategory(category, ::orrery::LogLevel::TRACE)) {                                        \
            ::orrery::LogPrintf(__VA_ARGS__);                                                                          \
        }                                                                                                              \
    } while (0)

#endif // ORRERY_COMMON_UTIL_LOGGING_H
