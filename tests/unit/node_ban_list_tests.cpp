// The node's bans: setban's subnet syntax, matching, expiry, and banlist.json
// written and read back, with damaged files refused with a reason.
#include <services/node/ban_list.h>

#include <doctest/doctest.h>

using namespace orrery::node;

TEST_CASE("setban subnets are addresses, prefix lengths or netmasks, with host bits cleared")
{
    CHECK(ParseSubNet("1.2.3.4")->ToString() == "1.2.3.4/32");
    CHECK(ParseSubNet("1.2.3.4/24")->ToString() == "1.2.3.0/24");
    CHECK(ParseSubNet("10.9.8.7/255.0.0.0")->ToString() == "10.0.0.0/8");
    CHECK(ParseSubNet("0.0.0.0/0")->ToString() == "0.0.0.0/0");
    CHECK(ParseSubNet("::1")->ToString() == "::1/128");
    CHECK(ParseSubNet("2001:db8:1::5/32")->ToString() == "2001:db8::/32");
    for (const char* bad : {"", "1.2.3", "1.2.3.4/33", "::1/129", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/+8",
                            "1.2.3.4/255.0.255.0", "1.2.3.4/ffff::", "example.com", "1.2.3.4:8333", "[::1]",
                            "1.2.3.4/24/8", " 1.2.3.4"}) {
        CAPTURE(bad);
        CHECK_FALSE(ParseSubNet(bad));
    }
}

TEST_CASE("a subnet contains the hosts of its own family under its prefix")
{
    auto net = *ParseSubNet("192.168.0.0/16");
    CHECK(net.Contains("192.168.1.2"));
    CHECK(net.Contains("192.168.255.255"));
    CHECK_FALSE(net.Contains("192.169.0.1"));
    CHECK_FALSE(net.Contains("::ffff:192.168.1.2"));
    CHECK_FALSE(net.Contains("not an address"));
    CHECK(ParseSubNet("::/0")->Contains("2001:db8::1"));
    CHECK_FALSE(ParseSubNet("::/0")->Contains("10.0.0.1"));
}

TEST_CASE("bans cover hosts until they expire; removal needs the exact subnet")
{
    BanList bans;
    bans.Add({*ParseSubNet("10.0.0.0/8"), 100, 200});
    CHECK(bans.IsBanned("10.1.2.3", 150));
    CHECK_FALSE(bans.IsBanned("10.1.2.3", 200));
    CHECK(bans.IsSubnetBanned(*ParseSubNet("10.0.0.0/8"), 150));
    CHECK_FALSE(bans.IsSubnetBanned(*ParseSubNet("10.1.0.0/16"), 150));
    CHECK_FALSE(bans.Remove(*ParseSubNet("10.1.2.3")));
    // A second ban of the same subnet replaces the first.
    bans.Add({*ParseSubNet("10.0.0.0/8"), 150, 400});
    CHECK(bans.Entries().size() == 1);
    CHECK(bans.IsBanned("10.1.2.3", 300));
    bans.Add({*ParseSubNet("::1"), 100, 150});
    CHECK(bans.SweepExpired(160));
    CHECK(bans.Entries().size() == 1);
    CHECK(bans.Remove(*ParseSubNet("10.0.0.0/8")));
    CHECK(bans.Entries().empty());
}

TEST_CASE("banlist.json round-trips in bitcoind's layout")
{
    std::vector<BanEntry> entries{{*ParseSubNet("1.2.3.4"), 1700000000, 1700086400},
                                  {*ParseSubNet("2001:db8::/32"), 1700000000, 1800000000}};
    const std::string text = WriteBanList(entries);
    CHECK(text.find("\"banned_nets\"") != std::string::npos);
    CHECK(text.find("\"address\": \"1.2.3.4/32\"") != std::string::npos);
    CHECK(text.find("\"ban_created\": 1700000000") != std::string::npos);
    CHECK(text.find("\"banned_until\": 1700086400") != std::string::npos);
    std::string error;
    auto back = ParseBanList(text, error);
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK((*back)[1].subnet.ToString() == "2001:db8::/32");
    CHECK((*back)[1].until == 1800000000);
    CHECK(ParseBanList("{\"banned_nets\": []}", error)->empty());
}

TEST_CASE("a damaged banlist.json is refused with a reason")
{
    const std::pair<const char*, const char*> cases[] = {
        {"", "not valid JSON"},
        {"{\"banned_nets\": [", "not valid JSON"},
        {"[]", "no \"banned_nets\" array"},
        {"{\"banned_nets\": {}}", "no \"banned_nets\" array"},
        {"{\"banned_nets\": [1]}", "entry 0 is not an object"},
        {"{\"banned_nets\": [{\"ban_created\": 1, \"banned_until\": 2}]}", "entry 0: no \"address\" string"},
        {"{\"banned_nets\": [{\"address\": \"1.2.3.4/40\", \"ban_created\": 1, \"banned_until\": 2}]}",
         "entry 0: invalid IP/Subnet"},
        {"{\"banned_nets\": [{\"address\": \"1.2.3.4\", \"ban_created\": \"1\", \"banned_until\": 2}]}",
         "must be unix times"},
        {"{\"banned_nets\": [{\"address\": \"1.2.3.4\", \"ban_created\": 1, \"banned_until\": -2}]}",
         "must be unix times"},
        {"{\"banned_nets\": [{\"address\": \"1.2.3.4\", \"ban_created\": 1, \"banned_until\": 1e300}]}",
         "must be unix times"},
        {"{\"banned_nets\": [{\"version\": 2, \"address\": \"1.2.3.4\", \"ban_created\": 1, \"banned_until\": 2}]}",
         "unknown version"},
        {"{\"banned_nets\": [[[[[[[[[[]]]]]]]]]]}", "nested too deeply"},
    };
    for (const auto& entry : cases) {
        const auto& text = entry.first; // not a structured binding: CAPTURE's lambda cannot take one in clang 14
        const auto& reason = entry.second;
        CAPTURE(text);
        std::string error;
        CHECK_FALSE(ParseBanList(text, error));
        CHECK(error.find(reason) != std::string::npos);
    }
    std::string error;
    CHECK_FALSE(ParseBanList(std::string(MAX_BAN_LIST_FILE_SIZE + 1, ' '), error));
    CHECK(error.find("larger than") != std::string::npos);
}
