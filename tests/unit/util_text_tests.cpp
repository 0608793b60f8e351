#include <common/util/text.h>

#include <doctest/doctest.h>

#include <string>

using orrery::Join;
using orrery::JsonNestingDepth;

TEST_CASE("JSON nesting depth counts brackets outside strings and stops past the limit")
{
    CHECK(JsonNestingDepth("", 8) == 0);
    CHECK(JsonNestingDepth("42", 8) == 0);
    CHECK(JsonNestingDepth(R"({"a": [1, {"b": []}]})", 8) == 4);
    CHECK(JsonNestingDepth(R"(["[[[[", "\"[[[", {"k": "]]]"}])", 8) == 2); // brackets in strings, escaped quotes
    CHECK(JsonNestingDepth("]]]][[", 8) == 2);                               // stray closers do not go below zero
    const std::string deep(1'000'000, '[');
    CHECK(JsonNestingDepth(deep, 512) == 513); // stops at the first level past the limit
}

TEST_CASE("Join puts the separator between parts only")
{
    CHECK(Join({}, ", ").empty());
    CHECK(Join({"a"}, ", ") == "a");
    CHECK(Join({"a", "", "c"}, ",\n") == "a,\n,\nc");
}
