// The node's address book, in the spirit of Bitcoin Core's addrman: addresses
// heard of sit in the "new" table (1,024 buckets of 64), addresses we once
// connected to in the "tried" table (256 buckets of 64). Which bucket and slot
// an address takes is a hash keyed by a secret drawn once per address book and
// of the address's network group (/16 for IPv4, /32 for IPv6) and, for the new
// table, the group of the peer that told us: one network, or one peer, can fill
// only a few buckets. Pure: no IPC, no clock (callers pass the time), no lock.
// The file form (peers.dat) is Orrery's own; see doc/addrman.md.
#ifndef ORRERY_SERVICES_NODE_ADDRMAN_H
#define ORRERY_SERVICES_NODE_ADDRMAN_H

#include <common/p2p/addr.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace orrery::node {

//! Core's addrman sizes (addrman_impl.h).
inline constexpr int ADDRMAN_NEW_BUCKET_COUNT = 1024;
inline constexpr int ADDRMAN_TRIED_BUCKET_COUNT = 256;
inline constexpr int ADDRMAN_BUCKET_SIZE = 64;
inline constexpr int ADDRMAN_TRIED_BUCKETS_PER_GROUP = 8;
inline constexpr int ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP = 64;
inline constexpr int ADDRMAN_NEW_BUCKETS_PER_ADDRESS = 8;
//! getaddr answers: at most this many addresses, and this percentage of the book (Core's net_processing).
inline constexpr size_t MAX_ADDR_TO_SEND = 1000;
inline constexpr size_t MAX_PCT_ADDR_TO_SEND = 23;
//! Addresses from an addr message are aged by this much (Core's 2 h penalty), except a peer's own.
inline constexpr int64_t ADDR_TIME_PENALTY = 2 * 60 * 60;

//! One address the book holds, with what we know of it.
struct AddrInfo {
    p2p::PeerAddress addr;   //!< with the time it was last heard of and its services
    p2p::PeerAddress source; //!< who told us (only its network and host count)
    int64_t last_try{0};     //!< unix seconds of our last connection attempt
    int64_t last_count_attempt{0};
    int64_t last_success{0};
    int attempts{0};  //!< failed attempts since the last success
    int ref_count{0}; //!< new buckets holding it (0 when in tried)
    bool in_tried{false};

    //! Core's IsTerrible: not worth keeping or giving out (too old, from the future, failing).
    bool IsTerrible(int64_t now) const;
    //! Core's GetChance: the relative chance Select takes it (recent tries and failures lower it).
    double GetChance(int64_t now) const;
};

class AddrMan
{
public:
    //! `key`: the bucket secret (random in the node, fixed in tests); `seed`: the selection's randomness.
    //! `allow_local`: accept loopback and private addresses (regtest only), each host:port counting as a
    //! network group of its own so a test's loopback peers spread over buckets and outbound slots.
    AddrMan(std::array<uint8_t, 32> key, uint64_t seed, bool allow_local = false);

    //! Core's Add: `source` told us of `addresses`; each is aged by `time_penalty` seconds (not when a
    //! peer announces itself). An address already known gets the newer time and more services and may
    //! take one more new bucket (ever harder). Returns how many went into a new bucket.
    size_t Add(const std::vector<p2p::PeerAddress>& addresses, const p2p::PeerAddress& source, int64_t time_penalty,
               int64_t now);
    //! Core's Good: a connection to `address` worked (handshake done): it moves to the tried table; the
    //! entry in its slot, if any, goes back to the new table. False if unknown or already tried.
    bool Good(const p2p::PeerAddress& address, int64_t now);
    //! Core's Attempt: we are dialling it; `count_failure` counts the attempt as a failure until Good.
    void Attempt(const p2p::PeerAddress& address, bool count_failure, int64_t now);
    //! Core's Connected: a full outbound connection to it ended; its time is refreshed (at most every 20 min).
    void Connected(const p2p::PeerAddress& address, int64_t now);
    //! Core's Select: an address to dial, from the new or tried table at random (only new with
    //! `new_only`; only `network`'s if given), biased by GetChance. With its last try time.
    std::optional<std::pair<p2p::PeerAddress, int64_t>> Select(bool new_only, std::optional<p2p::Network> network,
                                                               int64_t now);
    //! Core's GetAddr: up to `max_addresses` (0: no limit) and `max_pct` percent (0: no limit) of the
    //! book in random order, terrible ones left out; only `network`'s if given.
    std::vector<p2p::PeerAddress> GetAddr(size_t max_addresses, size_t max_pct, std::optional<p2p::Network> network,
                                          int64_t now);
    //! Addresses held, of `network` (all when nullopt), in the new (`in_new` true), tried (false) or both tables.
    size_t Size(std::optional<p2p::Network> network = std::nullopt, std::optional<bool> in_new = std::nullopt) const;
    std::optional<AddrInfo> Find(const p2p::PeerAddress& address) const;
    //! Whether the book would take this address at all (routable, or local with allow_local).
    bool Accepts(const p2p::PeerAddress& address) const;
    //! The network group bucket placement and outbound diversity use: /16 for IPv4, /32 for IPv6.
    std::vector<uint8_t> Group(const p2p::PeerAddress& address) const;

    //! peers.dat: the key and every entry, with a version, the network's magic and a SHA256d checksum.
    std::vector<uint8_t> Serialize(uint32_t message_start) const;
    //! Reads what Serialize wrote for the network with `message_start`; the entries are placed again
    //! by the file's key. nullopt with `error` set for anything else (truncated, bad checksum, another
    //! version or network, too many entries).
    static std::optional<AddrMan> Deserialize(std::span<const uint8_t> bytes, uint32_t message_start, uint64_t seed,
                                              bool allow_local, std::string& error);

    //! Checks the tables against the entries (tests): every slot's entry exists and counts match.
    bool CheckConsistency() const;

private:
    using Key = std::vector<uint8_t>;
    static Key KeyOf(const p2p::PeerAddress& address);
    uint64_t Hash(std::initializer_list<std::span<const uint8_t>> parts) const;
    int NewBucket(const AddrInfo& info, const p2p::PeerAddress& source) const;
    int TriedBucket(const AddrInfo& info) const;
    int BucketPosition(const AddrInfo& info, bool is_new, int bucket) const;
    int FindId(const p2p::PeerAddress& address) const;
    int Create(const p2p::PeerAddress& address, const p2p::PeerAddress& source);
    void Delete(int id);
    //! Empties a new slot, deleting its entry if no other bucket holds it.
    void ClearNew(int bucket, int position);
    void MakeTried(int id);
    bool AddSingle(const p2p::PeerAddress& address, const p2p::PeerAddress& source, int64_t time_penalty, int64_t now);
    void SwapRandom(size_t a, size_t b);
    uint64_t RandRange(uint64_t n) { return n == 0 ? 0 : m_rng() % n; }

    std::array<uint8_t, 32> m_key;
    std::mt19937_64 m_rng;
    bool m_allow_local;
    int m_next_id{0};
    std::map<int, AddrInfo> m_info;
    std::map<Key, int> m_ids;
    std::vector<int> m_random; //!< every id, for GetAddr's shuffle
    std::map<int, size_t> m_random_pos;
    std::vector<std::array<int, ADDRMAN_BUCKET_SIZE>> m_new;
    std::vector<std::array<int, ADDRMAN_BUCKET_SIZE>> m_tried;
    int m_new_count{0};
    int m_tried_count{0};
    int64_t m_last_good{1};
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_ADDRMAN_H
