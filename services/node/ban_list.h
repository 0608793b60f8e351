// The node's bans, as bitcoind's BanMan keeps them: IPv4/IPv6 subnets banned
// until a unix time, and their file <datadir>/<net>/banlist.json. Pure values
// and parsing, no clock, no locking, no files (the node reads and writes the
// text), so tests and the fuzz target drive it directly.
#ifndef ORRERY_SERVICES_NODE_BAN_LIST_H
#define ORRERY_SERVICES_NODE_BAN_LIST_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::node {

//! bitcoind's default ban: 24 hours (setban with bantime 0 or none).
inline constexpr int64_t DEFAULT_BAN_TIME_SECONDS = 24 * 60 * 60;
//! banlist.json larger than this, or with more entries, is refused as damaged.
inline constexpr size_t MAX_BAN_LIST_FILE_SIZE = 16 * 1024 * 1024;
inline constexpr size_t MAX_BAN_LIST_ENTRIES = 100'000;
//! Ban times beyond this (year ~36812) are damaged values; setban clamps to it.
inline constexpr int64_t MAX_BAN_UNTIL = int64_t{1} << 40;

//! An IPv4 or IPv6 subnet; `network` is masked, IPv4 in the first four bytes.
struct SubNet {
    bool ipv6{false};
    std::array<uint8_t, 16> network{};
    int prefix{32};

    //! bitcoind's form: "1.2.3.4/32", "10.0.0.0/8", "2001:db8::/32".
    std::string ToString() const;
    //! Whether a host (no port, no brackets) lies in the subnet. Unparsable hosts never do.
    bool Contains(std::string_view host) const;
    bool operator==(const SubNet&) const = default;
};

//! setban's argument: an address ("1.2.3.4", "::1": a single-host subnet) or a subnet
//! with a prefix length ("1.2.3.0/24") or a netmask ("1.2.3.0/255.255.255.0"). Host
//! bits are cleared. nullopt for anything else (names are not resolved).
std::optional<SubNet> ParseSubNet(std::string_view text);

struct BanEntry {
    SubNet subnet;
    int64_t created{0}; //!< unix seconds
    int64_t until{0};   //!< unix seconds
};

class BanList
{
public:
    //! Bans `subnet` (replacing an older ban of the same subnet).
    void Add(const BanEntry& entry);
    //! Removes the ban of exactly this subnet; false if there was none.
    bool Remove(const SubNet& subnet);
    void Clear() { m_entries.clear(); }
    //! Whether an unexpired ban covers `host` (no port).
    bool IsBanned(std::string_view host, int64_t now) const;
    //! Whether exactly this subnet has an unexpired ban.
    bool IsSubnetBanned(const SubNet& subnet, int64_t now) const;
    //! Forgets expired bans; true if any was.
    bool SweepExpired(int64_t now);
    const std::vector<BanEntry>& Entries() const { return m_entries; }

private:
    std::vector<BanEntry> m_entries;
};

//! banlist.json in bitcoind's layout: {"banned_nets": [{"version": 1, "ban_created": ...,
//! "banned_until": ..., "address": "1.2.3.0/24"}, ...]}.
std::string WriteBanList(const std::vector<BanEntry>& entries);
//! Reads that text with size, type and range checks. On failure returns nullopt and
//! sets `error`; never throws.
std::optional<std::vector<BanEntry>> ParseBanList(std::string_view text, std::string& error);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_BAN_LIST_H
