// Shared by the unit tests that read the public consensus vectors (../shared/vectors
// beside the source tree, or the folder in $ORRERY_VECTORS). A clone without that
// folder skips those test cases with one line saying which folder is missing.
#ifndef ORRERY_TESTS_UNIT_TEST_VECTORS_H
#define ORRERY_TESTS_UNIT_TEST_VECTORS_H

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::test {

//! The vectors folder: $ORRERY_VECTORS when set, else $ORRERY_VECTORS_DEFAULT (meson test sets it
//! from the vectors_dir option), else ../shared/vectors from the working directory.
inline std::filesystem::path VectorsDir()
{
    for (const char* name : {"ORRERY_VECTORS", "ORRERY_VECTORS_DEFAULT"}) {
        const char* dir = std::getenv(name);
        if (dir != nullptr && *dir != '\0') return dir;
    }
    return "../shared/vectors";
}

//! Whether the vectors folder exists; the first time it does not, says so on stderr.
inline bool HaveVectors()
{
    static const bool present = [] {
        std::error_code ec;
        const std::filesystem::path dir = VectorsDir();
        const bool found = std::filesystem::is_directory(dir, ec);
        if (!found) {
            std::fprintf(stderr, "skipping the tests that read vectors: folder %s not found (set ORRERY_VECTORS)\n",
                         dir.lexically_normal().string().c_str());
        }
        return found;
    }();
    return present;
}

//! Decorator for a test case that reads vector files: TEST_CASE("..." * NeedsVectors()).
//! Evaluated when the test case registers, so a missing folder skips it (doctest counts it skipped).
inline doctest::skip NeedsVectors()
{
    return doctest::skip(!HaveVectors());
}

//! The path of a file in the vectors folder.
inline std::filesystem::path VectorPath(const std::string& name)
{
    return VectorsDir() / name;
}

//! The whole content of a vector file; fails the test if it cannot be read.
inline std::string ReadVectorFile(const std::string& name)
{
    std::ifstream in(VectorPath(name), std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open vector file " << VectorPath(name).string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

//! A JSON vector file, parsed; fails the test if it cannot be read.
inline nlohmann::json ReadVectorJson(const std::string& name)
{
    return nlohmann::json::parse(ReadVectorFile(name));
}

//! Hex as written in the vector files; a bad digit fails the test.
inline std::vector<uint8_t> ParseHex(std::string_view hex)
{
    REQUIRE(hex.size() % 2 == 0);
    auto nibble = [](char c) -> uint8_t {
        if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
        FAIL("bad hex digit");
        return 0;
    };
    std::vector<uint8_t> out;
    out.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return out;
}

} // namespace orrery::test

#endif // ORRERY_TESTS_UNIT_TEST_VECTORS_H
