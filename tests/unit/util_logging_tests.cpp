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
    CHECK_FALSE(orrery::InitLogging({.tag = "x", .file = "", .print_to_console = false, .debug = {"nonsense"}}, &error));
    CHECK(error == "Unsupported logging category -debug=nonsense");
}
