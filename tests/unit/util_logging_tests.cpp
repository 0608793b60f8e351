// Log records: one tagged line each, categories switchable.
#include "test_util.h"
#include <common/util/logging.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

TEST_CASE("every record is one line tagged with the process role and pid, newlines escaped")
{
    orrery::test::TempDir dir("orrery_log_test");
    auto path = dir / "debug.log";
    std::string error;
    REQUIRE(orrery::InitLogging({.tag = "node", .file = path.string(), .print_to_console = false, .debug = {"ipc"}},
                                &error));
    orrery::LogPrintf("hello {}", 42);
    orrery::LogPrintf("two\nlines");
    LogDebug(orrery::LogCategory::IPC, "ipc on");
    LogDebug(orrery::LogCategory::NET, "net off");
    orrery::ShutdownLogging();
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == 3);
    std::string tag = "[node:" + std::to_string(::getpid()) + "] ";
    CHECK(lines[0].find(tag + "hello 42") != std::string::npos);
    CHECK(lines[1].find(tag + "two\\nlines") != std::string::npos);
    CHECK(lines[2].find("ipc on") != std::string::npos);
}

TEST_CASE("an unknown debug category is refused")
{
    std::string error;
    CHECK_FALSE(
        orrery::InitLogging({.tag = "x", .file = "", .print_to_console = false, .debug = {"nonsense"}}, &error));
    CHECK(error == "Unsupported logging category -debug=nonsense.");
}

namespace {
//! The lines a few records make under `options` (written to a temporary file).
std::vector<std::string> LinesWith(orrery::LogOptions options, void (*write)())
{
    auto path = std::filesystem::temp_directory_path() / ("orrery_log_test_" + std::to_string(::getpid()));
    options.file = path.string();
    std::string error;
    REQUIRE_MESSAGE(orrery::InitLogging(options, &error), error);
    write();
    orrery::ShutdownLogging();
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::filesystem::remove(path);
    return lines;
}
} // namespace

TEST_CASE("bitcoind's logging options add microseconds, the thread name and the source location")
{
    orrery::LogOptions options;
    options.tag = "node";
    options.time_micros = true;
    options.thread_names = true;
    options.source_locations = true;
    auto lines = LinesWith(options, [] { orrery::LogPrintf("located"); });
    REQUIRE(lines.size() == 1);
    // 2026-01-02T03:04:05.123456Z [node:1] [thread] [util_logging_tests.cpp:NN] [operator()] located
    CHECK(lines[0].find('.') == 19);
    CHECK(lines[0][26] == 'Z');
    CHECK(lines[0].find("[util_logging_tests.cpp:") != std::string::npos);
    CHECK(lines[0].find("] located") != std::string::npos);

    options = {};
    options.tag = "node";
    lines = LinesWith(options, [] { orrery::LogPrintf("plain"); });
    REQUIRE(lines.size() == 1);
    CHECK(lines[0][19] == 'Z'); // whole seconds by default, as bitcoind
    CHECK(lines[0].find(".cpp:") == std::string::npos);
}

TEST_CASE("-debugexclude wins over -debug, and bitcoind's categories are accepted")
{
    orrery::LogOptions options;
    options.tag = "node";
    options.debug = {"1"};
    options.debug_exclude = {"net", "libevent", "leveldb"};
    auto lines = LinesWith(options, [] {
        LogDebug(orrery::LogCategory::NET, "net record");
        LogDebug(orrery::LogCategory::IPC, "ipc record");
    });
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("ipc record") != std::string::npos);

    std::string error;
    orrery::LogOptions bad;
    bad.debug_exclude = {"nonsense"};
    CHECK_FALSE(orrery::InitLogging(bad, &error));
    CHECK(error == "Unsupported logging category -debugexclude=nonsense.");
}

TEST_CASE("-loglevel shows trace records globally or for one category, and refuses unknown levels")
{
    auto write = [] {
        LogTrace(orrery::LogCategory::NET, "net trace");
        LogTrace(orrery::LogCategory::IPC, "ipc trace");
        LogDebug(orrery::LogCategory::IPC, "ipc debug");
    };
    orrery::LogOptions options;
    options.tag = "node";
    options.debug = {""};
    CHECK(LinesWith(options, write).size() == 1); // debug level by default: no trace records
    options.levels = {"trace"};
    CHECK(LinesWith(options, write).size() == 3);
    options.levels = {"net:trace"};
    auto lines = LinesWith(options, write);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("net trace") != std::string::npos);
    options.levels = {"info", "ipc:debug"};
    lines = LinesWith(options, write);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("ipc debug") != std::string::npos);

    std::string error;
    orrery::LogOptions bad;
    bad.levels = {"loud"};
    CHECK_FALSE(orrery::InitLogging(bad, &error));
    CHECK(error == "Unsupported global logging level -loglevel=loud. Valid values: trace, debug, info.");
    bad.levels = {"nonsense:trace"};
    CHECK_FALSE(orrery::InitLogging(bad, &error));
    CHECK(error.starts_with("Unsupported category-specific logging level -loglevel=nonsense:trace."));
}

TEST_CASE("-shrinkdebugfile keeps the last 10 MB of a larger debug.log, from a line start")
{
    auto path = std::filesystem::temp_directory_path() / ("orrery_shrink_test_" + std::to_string(::getpid()));
    {
        std::ofstream out(path);
        std::string line(99, 'x');
        for (int i = 0; i < 120'000; ++i) out << i << ' ' << line << '\n'; // ~12 MB
    }
    orrery::ShrinkDebugFile(path.string());
    auto size = std::filesystem::file_size(path);
    CHECK(size <= 10'000'000);
    CHECK(size > 9'000'000);
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    CHECK(first.ends_with(std::string(99, 'x'))); // a whole line
    CHECK(first.find(' ') != std::string::npos);
    std::filesystem::remove(path);
    // A small file stays as it is.
    {
        std::ofstream(path) << "small\n";
    }
    orrery::ShrinkDebugFile(path.string());
    CHECK(std::filesystem::file_size(path) == 6);
    std::filesystem::remove(path);
}
