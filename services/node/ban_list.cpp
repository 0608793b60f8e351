// The node's bans and banlist.json; see ban_list.h.
#include <services/node/ban_list.h>

#include <common/util/text.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>

namespace orrery::node {
namespace {

using Json = nlohmann::json;

//! A textual address longer than this is not one (the longest IPv6 form is 45 characters).
constexpr size_t MAX_ADDRESS_TEXT = 64;
//! banlist.json nests three levels; anything deeper is refused before parsing.
constexpr size_t MAX_JSON_DEPTH = 8;

struct Ip {
    bool ipv6{false};
    std::array<uint8_t, 16> bytes{};
};

std::optional<Ip> ParseIp(std::string_view text)
{
    if (text.empty() || text.size() > MAX_ADDRESS_TEXT) return std::nullopt;
    const std::string copy(text); // inet_pton needs a terminated string
    Ip ip;
    if (::inet_pton(AF_INET, copy.c_str(), ip.bytes.data()) == 1) return ip;
    ip.ipv6 = true;
    if (::inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) return ip;
    return std::nullopt;
}

int Bits(bool ipv6)
{
    return ipv6 ? 128 : 32;
}

//! The prefix length of a contiguous netmask, or -1.
int PrefixOfNetmask(const Ip& mask)
{
    int prefix = 0;
    bool ended = false;
    for (int i = 0; i < Bits(mask.ipv6); ++i) {
        const bool set = mask.bytes[i / 8] & (0x80 >> (i % 8));
        if (set && ended) return -1;
        if (set) ++prefix;
        if (!set) ended = true;
    }
    return prefix;
}

bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int prefix)
{
    for (int i = 0; i < prefix; ++i) {
        const uint8_t bit = 0x80 >> (i % 8);
        if ((a[i / 8] & bit) != (b[i / 8] & bit)) return false;
    }
    return true;
}

std::optional<int64_t> TimeField(const Json& entry, const char* name)
{
    auto it = entry.find(name);
    if (it == entry.end() || !it->is_number_integer()) return std::nullopt;
    if (it->is_number_unsigned()) {
        const uint64_t value = it->get<uint64_t>();
        if (value > static_cast<uint64_t>(MAX_BAN_UNTIL)) return std::nullopt;
        return static_cast<int64_t>(value);
    }
    const int64_t value = it->get<int64_t>();
    if (value < 0 || value > MAX_BAN_UNTIL) return std::nullopt;
    return value;
}

} // namespace

// ---------------------------------------------------------------- subnets

std::optional<SubNet> ParseSubNet(std::string_view text)
{
    const size_t slash = text.find('/');
    auto ip = ParseIp(text.substr(0, slash));
    if (!ip) return std::nullopt;
    SubNet subnet;
    subnet.ipv6 = ip->ipv6;
    subnet.prefix = Bits(ip->ipv6);
    if (slash != std::string_view::npos) {
        const std::string_view mask = text.substr(slash + 1);
        if (!mask.empty() && mask.size() <= 3 && std::all_of(mask.begin(), mask.end(), [](char c) {
                return c >= '0' && c <= '9';
            })) {
            int prefix = 0;
            for (char c : mask) prefix = prefix * 10 + (c - '0');
            if (prefix > Bits(ip->ipv6)) return std::nullopt;
            subnet.prefix = prefix;
        } else {
            auto netmask = ParseIp(mask);
            if (!netmask || netmask->ipv6 != ip->ipv6) return std::nullopt;
            subnet.prefix = PrefixOfNetmask(*netmask);
            if (subnet.prefix < 0) return std::nullopt;
        }
    }
    for (int i = 0; i < Bits(ip->ipv6); ++i) {
        if (i >= subnet.prefix) ip->bytes[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
    }
    subnet.network = ip->bytes;
    return subnet;
}

std::string SubNet::ToString() const
{
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(ipv6 ? AF_INET6 : AF_INET, network.data(), text, sizeof(text));
    return std::string(text) + "/" + std::to_string(prefix);
}

bool SubNet::Contains(std::string_view host) const
{
    auto ip = ParseIp(host);
    return ip && ip->ipv6 == ipv6 && SamePrefix(ip->bytes, network, prefix);
}

// ---------------------------------------------------------------- the list

void BanList::Add(const BanEntry& entry)
{
    Remove(entry.subnet);
    m_entries.push_back(entry);
}

bool BanList::Remove(const SubNet& subnet)
{
    return std::erase_if(m_entries, [&](const BanEntry& e) { return e.subnet == subnet; }) > 0;
}

bool BanList::IsBanned(std::string_view host, int64_t now) const
{
    return std::any_of(m_entries.begin(), m_entries.end(),
                       [&](const BanEntry& e) { return e.until > now && e.subnet.Contains(host); });
}

bool BanList::IsSubnetBanned(const SubNet& subnet, int64_t now) const
{
    return std::any_of(m_entries.begin(), m_entries.end(),
                       [&](const BanEntry& e) { return e.until > now && e.subnet == subnet; });
}

bool BanList::SweepExpired(int64_t now)
{
    return std::erase_if(m_entries, [&](const BanEntry& e) { return e.until <= now; }) > 0;
}

// ---------------------------------------------------------------- banlist.json

std::string WriteBanList(const std::vector<BanEntry>& entries)
{
    Json nets = Json::array();
    for (const auto& entry : entries) {
        nets.push_back(Json{{"version", 1},
                            {"ban_created", entry.created},
                            {"banned_until", entry.until},
                            {"address", entry.subnet.ToString()}});
    }
    return Json{{"banned_nets", nets}}.dump(2) + "\n";
}

std::optional<std::vector<BanEntry>> ParseBanList(std::string_view text, std::string& error)
{
    if (text.size() > MAX_BAN_LIST_FILE_SIZE) {
        error = "file larger than " + std::to_string(MAX_BAN_LIST_FILE_SIZE) + " bytes";
        return std::nullopt;
    }
    if (JsonNestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        error = "JSON nested too deeply";
        return std::nullopt;
    }
    const Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) {
        error = "not valid JSON";
        return std::nullopt;
    }
    if (!root.is_object() || !root.contains("banned_nets") || !root["banned_nets"].is_array()) {
        error = "no \"banned_nets\" array";
        return std::nullopt;
    }
    const Json& nets = root["banned_nets"];
    if (nets.size() > MAX_BAN_LIST_ENTRIES) {
        error = "more than " + std::to_string(MAX_BAN_LIST_ENTRIES) + " entries";
        return std::nullopt;
    }
    std::vector<BanEntry> entries;
    entries.reserve(nets.size());
    for (size_t i = 0; i < nets.size(); ++i) {
        const Json& net = nets[i];
        const std::string where = "entry " + std::to_string(i);
        if (!net.is_object()) {
            error = where + " is not an object";
            return std::nullopt;
        }
        if (auto version = net.find("version");
            version != net.end() && (!version->is_number_integer() || version->get<int64_t>() != 1)) {
            error = where + ": unknown version";
            return std::nullopt;
        }
        auto address = net.find("address");
        if (address == net.end() || !address->is_string()) {
            error = where + ": no \"address\" string";
            return std::nullopt;
        }
        auto subnet = ParseSubNet(address->get_ref<const std::string&>());
        if (!subnet) {
            error = where + ": invalid IP/Subnet";
            return std::nullopt;
        }
        auto created = TimeField(net, "ban_created");
        auto until = TimeField(net, "banned_until");
        if (!created || !until) {
            error = where + ": \"ban_created\" and \"banned_until\" must be unix times";
            return std::nullopt;
        }
        entries.push_back({*subnet, *created, *until});
    }
    return entries;
}

} // namespace orrery::node
