// Shared by the unit tests that read ../shared/vectors (path in $ORRERY_VECTORS).
#ifndef ORRERY_TESTS_UNIT_TEST_VECTORS_H
#define ORRERY_TESTS_UNIT_TEST_VECTORS_H

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::test {

//! The whole content of a vector file; fails the test if it cannot be read.
inline std::string ReadVectorFile(const std::string& name)
{
    const char* dir = std::getenv("ORRERY_VECTORS");
    REQUIRE_MESSAGE(dir != nullptr, "ORRERY_VECTORS is not set");
    std::ifstream in(std::filesystem::path(dir) / name, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open vector file " << name);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
