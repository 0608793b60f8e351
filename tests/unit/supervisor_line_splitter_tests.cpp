// orreryd's handling of children's output: whole lines only, bounded memory, tags.
#include <supervisor/line_splitter.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using orrery::supervisor::HasLogTag;
using orrery::supervisor::LineSplitter;
using orrery::supervisor::TagLine;

namespace {
struct Collector {
    std::vector<std::string> lines;
    LineSplitter::Sink Sink()
    {
        return [this](std::string_view line) { lines.emplace_back(line); };
    }
};
} // namespace

TEST_CASE("a line split across reads comes out whole, once its newline arrives")
{
    LineSplitter splitter;
    Collector out;
    splitter.Feed("2024-01-01T00:00:00.000000Z [node:1] hel", out.Sink());
    CHECK(out.lines.empty());
    CHECK(splitter.Pending() > 0);
    splitter.Feed("lo\nsecond", out.Sink());
    REQUIRE(out.lines.size() == 1);
    CHECK(out.lines[0] == "2024-01-01T00:00:00.000000Z [node:1] hello");
    splitter.Feed(" line\n", out.Sink());
    REQUIRE(out.lines.size() == 2);
    CHECK(out.lines[1] == "second line");
    CHECK(splitter.Pending() == 0);
}

TEST_CASE("several lines in one read come out one by one, an empty line included")
{
    LineSplitter splitter;
    Collector out;
    splitter.Feed("a\n\nb\nc", out.Sink());
    CHECK(out.lines == std::vector<std::string>{"a", "", "b"});
    splitter.Finish(out.Sink());
    CHECK(out.lines == std::vector<std::string>{"a", "", "b", "c"});
}

TEST_CASE("byte-by-byte feeding gives the same lines as one big read")
{
    std::string text = "first line\nsecond\nthird one here\n";
    LineSplitter whole, bytes;
    Collector a, b;
    whole.Feed(text, a.Sink());
    for (char c : text) bytes.Feed(std::string_view(&c, 1), b.Sink());
    CHECK(a.lines == b.lines);
    CHECK(a.lines.size() == 3);
}

TEST_CASE("an over-long line keeps its start, says how much was cut, and memory stays bounded")
{
    LineSplitter splitter(10);
    Collector out;
    splitter.Feed(std::string(25, 'x'), out.Sink());
    CHECK(splitter.Pending() == 10);
    splitter.Feed(std::string(5, 'y') + "\nnext\n", out.Sink());
    REQUIRE(out.lines.size() == 2);
    CHECK(out.lines[0] == std::string(10, 'x') + " [20 more bytes cut]");
    CHECK(out.lines[1] == "next");
}

TEST_CASE("finish emits nothing when the stream ended on a newline")
{
    LineSplitter splitter;
    Collector out;
    splitter.Feed("done\n", out.Sink());
    splitter.Finish(out.Sink());
    CHECK(out.lines.size() == 1);
}

TEST_CASE("lines from Orrery's logger are recognised as tagged, others are not")
{
    CHECK(HasLogTag("2024-05-01T12:00:00.123456Z [node:812] ipc: hello"));
    CHECK(HasLogTag("2024-05-01T12:00:00.123456Z [gui-bridge:9] x"));
    CHECK_FALSE(HasLogTag("Segmentation fault"));
    CHECK_FALSE(HasLogTag("2024-05-01T12:00:00.123456Z no tag"));
    CHECK_FALSE(HasLogTag("2024-05-01T12:00:00.123456Z [node:abc] x"));
    CHECK_FALSE(HasLogTag("2024-05-01T12:00:00.123456Z [:12] x"));
    CHECK_FALSE(HasLogTag(""));
}

TEST_CASE("an untagged line gets the time and the child's role and pid; a tagged one is left alone")
{
    std::string tagged = TagLine("terminate called after throwing", "wallet", 4242);
    CHECK(HasLogTag(tagged));
    CHECK(tagged.find(" [wallet:4242] terminate called after throwing") != std::string::npos);
    std::string already = "2024-05-01T12:00:00.123456Z [node:812] fine";
    CHECK(TagLine(already, "wallet", 1) == already);
}
