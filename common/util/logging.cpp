// Process-wide logger. See logging.h for the guarantees.
#include <common/util/logging.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fcntl.h>
#include <mutex>
#include <sys/time.h>
#include <unistd.h>

namespace orrery {
namespace {

struct Logger {
    std::mutex mutex; // guards fd and options during reopen
    int fd{-1};
    LogOptions options;
    std::atomic<uint32_t> categories{0};
    std::string prefix_tag{"orrery"};
};

Logger& GetLogger()
{
    static Logger* logger = new Logger(); // never destroyed: usable from atexit and late threads
    return *logger;
}

struct CategoryName {
    std::string_view name;
    LogCategory category;
};

constexpr CategoryName CATEGORY_NAMES[] = {
    {"ipc", LogCategory::IPC},
    {"net", LogCategory::NET},
    {"rpc", LogCategory::RPC},
    {"validation", LogCategory::VALIDATION},
    {"wallet", LogCategory::WALLET},
    {"supervisor", LogCategory::SUPERVISOR},
    {"all", LogCategory::ALL},
    {"1", LogCategory::ALL},
};

void WriteAll(int fd, std::string_view data)
{
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

std::string FormatTime()
{
    timeval tv{};
    gettimeofday(&tv, nullptr);
    std::tm tm{};
    gmtime_r(&tv.tv_sec, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(tv.tv_usec));
}

} // namespace

LogCategory ParseLogCategory(std::string_view name)
{
    for (const auto& entry : CATEGORY_NAMES) {
        if (entry.name == name) return entry.category;
    }
    return LogCategory::NONE;
}

bool InitLogging(const LogOptions& options, std::string* error)
{
    Logger& logger = GetLogger();
    uint32_t categories = 0;
    for (const std::string& name : options.debug) {
        if (name.empty()) {
            categories = static_cast<uint32_t>(LogCategory::ALL);
            continue;
        }
        if (name == "0" || name == "none") {
            categories = 0;
            continue;
        }
        LogCategory category = ParseLogCategory(name);
        if (category == LogCategory::NONE) {
            if (error) *error = fmt::format("Unsupported logging category -debug={}", name);
            return false;
        }
        categories |= static_cast<uint32_t>(category);
    }
    std::lock_guard<std::mutex> lock(logger.mutex);
    logger.options = options;
    logger.prefix_tag = fmt::format("{}:{}", options.tag.empty() ? "orrery" : options.tag, ::getpid());
    logger.categories = categories;
    if (logger.fd >= 0) ::close(logger.fd);
    logger.fd = -1;
    if (!options.file.empty()) {
        logger.fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logger.fd < 0) {
            if (error) *error = fmt::format("Cannot open log file {}: {}", options.file, std::strerror(errno));
            return false;
        }
    }
    return true;
}

void ReopenLogFile()
{
    Logger& logger = GetLogger();
    std::lock_guard<std::mutex> lock(logger.mutex);
    if (logger.options.file.empty()) return;
    int fd = ::open(logger.options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return; // keep writing to the old file rather than lose records
    if (logger.fd >= 0) ::close(logger.fd);
    logger.fd = fd;
}

void ShutdownLogging()
{
    Logger& logger = GetLogger();
    std::lock_guard<std::mutex> lock(logger.mutex);
    if (logger.fd >= 0) ::close(logger.fd);
    logger.fd = -1;
    logger.options.file.clear();
}

bool LogAcceptCategory(LogCategory category)
{
    return (GetLogger().categories.load(std::memory_order_relaxed) & static_cast<uint32_t>(category)) != 0;
}

void SetLogCategory(LogCategory category, bool enabled)
{
    if (enabled) {
        GetLogger().categories |= static_cast<uint32_t>(category);
    } else {
        GetLogger().categories &= ~static_cast<uint32_t>(category);
    }
}

void LogWrite(std::string_view message)
{
    Logger& logger = GetLogger();
    std::string line;
    line.reserve(message.size() + 64);
    line += FormatTime();
    line += " [";
    {
        std::lock_guard<std::mutex> lock(logger.mutex);
        line += logger.prefix_tag;
    }
    line += "] ";
    for (char c : message) {
        if (c == '\n') {
            line += "\\n";
        } else if (c == '\r') {
            line += "\\r";
        } else {
            line += c;
        }
    }
    line += '\n';
    std::lock_guard<std::mutex> lock(logger.mutex);
    if (logger.fd >= 0) WriteAll(logger.fd, line);
    if (logger.options.print_to_console || logger.fd < 0) WriteAll(STDERR_FILENO, line);
}

} // namespace orrery
