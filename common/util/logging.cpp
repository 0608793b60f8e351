// Process-wide logger. See logging.h for the guarantees.
#include <common/util/logging.h>

#include <common/util/text.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

namespace orrery {
namespace {

struct Logger {
    std::mutex mutex; // guards fd and options during reopen
    int fd{-1};
    LogOptions options;
    std::atomic<uint32_t> categories{0};
    //! Least level logged per category bit, and for records of several categories at once.
    std::array<std::atomic<uint8_t>, 32> category_levels{};
    std::atomic<uint8_t> global_level{static_cast<uint8_t>(LogLevel::DEBUG)};
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
    {"http", LogCategory::RPC},
    {"validation", LogCategory::VALIDATION},
    {"wallet", LogCategory::WALLET},
    {"walletdb", LogCategory::WALLET},
    {"supervisor", LogCategory::SUPERVISOR},
    {"mempool", LogCategory::MEMPOOL},
    {"mempoolrej", LogCategory::MEMPOOL},
    {"all", LogCategory::ALL},
    {"1", LogCategory::ALL},
};

//! bitcoind's categories Orrery writes nothing for (yet): accepted by -debug and -debugexclude.
constexpr std::string_view BITCOIND_ONLY_CATEGORIES[] = {
    "tor",
    "bench",
    "zmq",
    "estimatefee",
    "addrman",
    "selectcoins",
    "reindex",
    "cmpctblock",
    "rand",
    "prune",
    "proxy",
    "libevent",
    "coindb",
    "qt",
    "leveldb",
    "i2p",
    "lock",
    "blockstorage",
    "txreconciliation",
    "scan",
    "txpackages",
    "kernel",
    "util",
    "privatebroadcast",
};

constexpr std::string_view LEVEL_NAMES = "trace, debug, info";

std::optional<LogLevel> ParseLevel(std::string_view name)
{
    if (name == "trace") return LogLevel::TRACE;
    if (name == "debug") return LogLevel::DEBUG;
    if (name == "info") return LogLevel::INFO;
    return std::nullopt;
}

std::string CategoryList()
{
    std::vector<std::string> names;
    for (const auto& entry : CATEGORY_NAMES) {
        if (entry.category != LogCategory::ALL) names.emplace_back(entry.name);
    }
    for (std::string_view name : BITCOIND_ONLY_CATEGORIES) names.emplace_back(name);
    return Join(names, ", ");
}

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

std::string FormatTime(bool micros)
{
    timeval tv{};
    gettimeofday(&tv, nullptr);
    std::tm tm{};
    gmtime_r(&tv.tv_sec, &tm);
    if (!micros) {
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(tv.tv_usec));
}

//! The kernel's name of the calling thread ("orrery-node", or what the thread named itself).
std::string ThreadName()
{
    char name[32] = {};
    if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0 || name[0] == '\0') {
        return fmt::format("{}", static_cast<long>(::gettid()));
    }
    return name;
}

} // namespace

LogCategory ParseLogCategory(std::string_view name)
{
    for (const auto& entry : CATEGORY_NAMES) {
        if (entry.name == name) return entry.category;
    }
    return LogCategory::NONE;
}

bool IsLogCategoryName(std::string_view name)
{
    if (ParseLogCategory(name) != LogCategory::NONE) return true;
    return std::find(std::begin(BITCOIND_ONLY_CATEGORIES), std::end(BITCOIND_ONLY_CATEGORIES), name) !=
           std::end(BITCOIND_ONLY_CATEGORIES);
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
        if (!IsLogCategoryName(name)) {
            if (error) *error = fmt::format("Unsupported logging category -debug={}.", name);
            return false;
        }
        categories |= static_cast<uint32_t>(ParseLogCategory(name));
    }
    for (const std::string& name : options.debug_exclude) {
        if (!IsLogCategoryName(name)) {
            if (error) *error = fmt::format("Unsupported logging category -debugexclude={}.", name);
            return false;
        }
        categories &= ~static_cast<uint32_t>(ParseLogCategory(name));
    }
    LogLevel global_level = LogLevel::DEBUG;
    std::array<std::optional<LogLevel>, 32> category_levels{};
    for (const std::string& value : options.levels) {
        size_t colon = value.find(':', 3);
        if (colon == std::string::npos) {
            auto level = ParseLevel(value);
            if (!level) {
                if (error) {
                    *error = fmt::format("Unsupported global logging level -loglevel={}. Valid values: {}.", value,
                                         LEVEL_NAMES);
                }
                return false;
            }
            global_level = *level;
            continue;
        }
        std::string_view category_name = std::string_view(value).substr(0, colon);
        auto level = ParseLevel(std::string_view(value).substr(colon + 1));
        if (!level || !IsLogCategoryName(category_name) || category_name == "1") {
            if (error) {
                *error = fmt::format("Unsupported category-specific logging level -loglevel={}. Expected "
                                     "-loglevel=<category>:<loglevel>. Valid categories: {}. Valid loglevels: {}.",
                                     value, CategoryList(), LEVEL_NAMES);
            }
            return false;
        }
        auto bits = static_cast<uint32_t>(ParseLogCategory(category_name));
        for (size_t bit = 0; bit < 32; ++bit) {
            if (bits & (uint32_t{1} << bit)) category_levels[bit] = *level;
        }
    }
    std::lock_guard<std::mutex> lock(logger.mutex);
    logger.options = options;
    logger.prefix_tag = fmt::format("{}:{}", options.tag.empty() ? "orrery" : options.tag, ::getpid());
    logger.categories = categories;
    logger.global_level = static_cast<uint8_t>(global_level);
    for (size_t bit = 0; bit < 32; ++bit) {
        logger.category_levels[bit] = static_cast<uint8_t>(category_levels[bit].value_or(global_level));
    }
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

bool LogAcceptCategory(LogCategory category, LogLevel level)
{
    Logger& logger = GetLogger();
    const auto bits = static_cast<uint32_t>(category);
    if ((logger.categories.load(std::memory_order_relaxed) & bits) == 0) return false;
    uint8_t least = logger.global_level.load(std::memory_order_relaxed);
    if (bits != 0 && (bits & (bits - 1)) == 0) { // one category: its own level
        least = logger.category_levels[static_cast<size_t>(__builtin_ctz(bits))].load(std::memory_order_relaxed);
    }
    return static_cast<uint8_t>(level) >= least;
}

void SetLogCategory(LogCategory category, bool enabled)
{
    if (enabled) {
        GetLogger().categories |= static_cast<uint32_t>(category);
    } else {
        GetLogger().categories &= ~static_cast<uint32_t>(category);
    }
}

std::string LogTimestamp()
{
    Logger& logger = GetLogger();
    bool micros;
    {
        std::lock_guard<std::mutex> lock(logger.mutex);
        micros = logger.options.time_micros;
    }
    return FormatTime(micros);
}

void LogWrite(std::string_view message, const SourceLocation& location)
{
    Logger& logger = GetLogger();
    std::string line;
    line.reserve(message.size() + 96);
    {
        std::lock_guard<std::mutex> lock(logger.mutex);
        line += FormatTime(logger.options.time_micros);
        line += " [";
        line += logger.prefix_tag;
        line += "] ";
        if (logger.options.thread_names) line += fmt::format("[{}] ", ThreadName());
        if (logger.options.source_locations && location.line != 0) {
            std::string_view file = location.file;
            if (size_t slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
            line += fmt::format("[{}:{}] [{}] ", file, location.line, location.function);
        }
    }
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
    if (logger.options.print_to_console || logger.fd < 0) {
        WriteAll(logger.options.console_is_stdout ? STDOUT_FILENO : STDERR_FILENO, line);
    }
}

void ShrinkDebugFile(const std::string& path)
{
    constexpr size_t KEEP = 10 * 1000 * 1000;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size <= KEEP + KEEP / 10) return;
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(size - KEEP));
    std::string tail(KEEP, '\0');
    in.read(tail.data(), static_cast<std::streamsize>(KEEP));
    tail.resize(static_cast<size_t>(in.gcount()));
    if (size_t newline = tail.find('\n'); newline != std::string::npos) tail.erase(0, newline + 1);
    std::string tmp = path + ".shrink";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(tail.data(), static_cast<std::streamsize>(tail.size()));
        if (!out) return;
    }
    std::filesystem::rename(tmp, path, ec);
}

} // namespace orrery
