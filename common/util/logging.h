// Logging for every Orrery process: one whole line per record, each tagged with
// the process role and pid, written with a single write(2) so that records of
// several processes sharing one debug.log never interleave.
#ifndef ORRERY_COMMON_UTIL_LOGGING_H
#define ORRERY_COMMON_UTIL_LOGGING_H

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
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
    ALL = 0xffffffff,
};

struct LogOptions {
    std::string tag;              //!< process role shown on every line, e.g. "node"
    std::string file;             //!< debug.log path; empty: no file
    bool print_to_console{false}; //!< also write every line to stderr
    std::vector<std::string> debug; //!< -debug values
};

//! Sets up the process-wide logger. Returns false (and explains in *error) for an unknown category.
bool InitLogging(const LogOptions& options, std::string* error = nullptr);
//! Reopens the log file (SIGHUP, after log rotation). Safe to call from any thread.
void ReopenLogFile();
//! Closes the log file; later records go to stderr only if console output was on.
void ShutdownLogging();

bool LogAcceptCategory(LogCategory category);
//! Parses a category name ("ipc", "net", ...). Returns NONE for an unknown name.
LogCategory ParseLogCategory(std::string_view name);
//! Enables or disables a category at run time (tests, the logging RPC).
void SetLogCategory(LogCategory category, bool enabled);

//! Writes one record. Embedded newlines are escaped so one record stays one line.
void LogWrite(std::string_view message);

template <typename... Args>
void LogPrintf(fmt::format_string<Args...> format, Args&&... args)
{
    LogWrite(fmt::format(format, std::forward<Args>(args)...));
}

} // namespace orrery

//! Logs only when the category is enabled; the arguments are not evaluated otherwise.
#define LogDebug(category, ...)                                      \
    do {                                                             \
        if (::orrery::LogAcceptCategory(category)) {                 \
            ::orrery::LogPrintf(__VA_ARGS__);                        \
        }                                                            \
    } while (0)

#endif // ORRERY_COMMON_UTIL_LOGGING_H
