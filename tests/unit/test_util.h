// Shared by the unit tests: a private temporary folder removed at the end of
// its scope, waiting for a condition instead of sleeping for a guess, and the
// process's log captured in a file for a test to read.
#ifndef ORRERY_TESTS_UNIT_TEST_UTIL_H
#define ORRERY_TESTS_UNIT_TEST_UTIL_H

#include <common/util/logging.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <thread>
#include <vector>

namespace orrery::test {

//! A new folder (mode 0700) under the system's temporary folder, removed with its content at the end of
//! the scope. Converts to its path, and `dir / "name"` is a path inside it.
struct TempDir {
    std::filesystem::path path;

    explicit TempDir(std::string_view prefix = "orrery_test")
    {
        std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "_XXXXXX")).string();
        REQUIRE_MESSAGE(::mkdtemp(pattern.data()) != nullptr, "cannot make a temporary folder " << pattern);
        path = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    operator const std::filesystem::path&() const { return path; }
    std::filesystem::path operator/(const std::filesystem::path& name) const { return path / name; }
    //! "ipc://<folder>/<name>": an endpoint no other test uses.
    std::string Endpoint(std::string_view name = "test.sock") const { return "ipc://" + (path / name).string(); }
};

//! Lower-case hex of bytes, for comparing with published digests (tests of libraries below common/consensus,
//! which owns the real HexStr, use this one).
inline std::string ToHex(std::span<const uint8_t> bytes)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

//! The permission bits of a file or folder (0600, 0700, ...).
inline unsigned FileMode(const std::filesystem::path& path)
{
    struct stat st {
    };
    REQUIRE_MESSAGE(::stat(path.c_str(), &st) == 0, "cannot stat " << path.string());
    return st.st_mode & 0777;
}

//! Polls `condition` every 5 ms until it holds; false once `timeout` has passed without it.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

//! Logs to a file for the duration of a test (debug categories as given), so that the test can read what
//! was logged; logging goes back to nowhere at the end of the scope.
struct CapturedLog {
    TempDir dir{"orrery_log"};
    std::filesystem::path path = dir / "debug.log";

    explicit CapturedLog(std::vector<std::string> debug = {})
    {
        InitLogging({.tag = "test", .file = path.string(), .print_to_console = false, .debug = std::move(debug)});
    }
    ~CapturedLog() { InitLogging({.tag = "test", .file = "", .print_to_console = false, .debug = {}}); }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    std::string Text() const
    {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    //! How many times `needle` was logged.
    size_t Count(const std::string& needle) const
    {
        const std::string text = Text();
        size_t count = 0;
        for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++count;
        return count;
    }
};

} // namespace orrery::test

#endif // ORRERY_TESTS_UNIT_TEST_UTIL_H
