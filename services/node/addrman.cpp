// The node's address book; see addrman.h. Bucket arithmetic follows Bitcoin
// Core's addrman.cpp; the file format is Orrery's own (doc/addrman.md).
#include <services/node/addrman.h>

#include <common/consensus/serialize.h>
#include <common/crypto/hash.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace orrery::node {
namespace {

constexpr int64_t MINUTE = 60;
constexpr int64_t HOUR = 60 * MINUTE;
constexpr int64_t DAY = 24 * HOUR;
//! Core's addrman horizons.
constexpr int64_t ADDRMAN_HORIZON = 30 * DAY;
constexpr int ADDRMAN_RETRIES = 3;
constexpr int ADDRMAN_MAX_FAILURES = 10;
constexpr int64_t ADDRMAN_MIN_FAIL = 7 * DAY;

constexpr std::array<uint8_t, 8> FILE_MAGIC{'O', 'R', 'R', 'A', 'D', 'D', 'R', 'S'};
constexpr uint32_t FILE_VERSION = 1;
constexpr size_t MAX_FILE_ENTRIES = size_t(ADDRMAN_NEW_BUCKET_COUNT + ADDRMAN_TRIED_BUCKET_COUNT) * ADDRMAN_BUCKET_SIZE;

std::span<const uint8_t> AsBytes(const int& value, std::array<uint8_t, 4>& buffer)
{
    const uint32_t v = uint32_t(value);
    for (int i = 0; i < 4; ++i) buffer[i] = uint8_t(v >> (8 * i));
    return buffer;
}

void WriteAddress(Writer& w, const p2p::PeerAddress& a)
{
    w.WriteU8(uint8_t(a.network));
    w.WriteByteVector(a.ip);
    w.WriteU16(a.port);
}

p2p::PeerAddress ReadAddress(SpanReader& r)
{
    p2p::PeerAddress a;
    a.network = p2p::Network(r.ReadU8());
    const size_t start = r.Position();
    const uint64_t length = r.ReadCompactSize();
    if (length > p2p::MAX_ADDRV2_SIZE) r.Fail(start, "address too long");
    auto bytes = r.ReadSpan(size_t(length), "address");
    a.ip.assign(bytes.begin(), bytes.end());
    a.port = r.ReadU16();
    const bool ok = (a.IsIPv4() && a.ip.size() == 4) || (a.IsIPv6() && a.ip.size() == 16);
    if (!ok) r.Fail(start, "not an IPv4 or IPv6 address");
    return a;
}

} // namespace

// ---------------------------------------------------------------- one entry

bool AddrInfo::IsTerrible(int64_t now) const
{
    if (now - last_try <= MINUTE) return false;                  // tried just now: keep it
    if (int64_t(addr.time) > now + 10 * MINUTE) return true;     // from the future
    if (now - int64_t(addr.time) > ADDRMAN_HORIZON) return true; // not heard of for a month
    if (last_success == 0 && attempts >= ADDRMAN_RETRIES) return true;
    if (now - last_success > ADDRMAN_MIN_FAIL && attempts >= ADDRMAN_MAX_FAILURES) return true;
    return false;
}

double AddrInfo::GetChance(int64_t now) const
{
    double chance = 1.0;
    if (now - last_try < 10 * MINUTE) chance *= 0.01; // tried recently: others first
    return chance * std::pow(0.66, std::min(attempts, 8));
}

// ---------------------------------------------------------------- placement

AddrMan::AddrMan(std::array<uint8_t, 32> key, uint64_t seed, bool allow_local)
    : m_key(key), m_rng(seed), m_allow_local(allow_local), m_new(ADDRMAN_NEW_BUCKET_COUNT),
      m_tried(ADDRMAN_TRIED_BUCKET_COUNT)
{
    for (auto& bucket : m_new) bucket.fill(-1);
    for (auto& bucket : m_tried) bucket.fill(-1);
}

AddrMan::Key AddrMan::KeyOf(const p2p::PeerAddress& address)
{
    Key key{uint8_t(address.network)};
    key.insert(key.end(), address.ip.begin(), address.ip.end());
    key.push_back(uint8_t(address.port >> 8));
    key.push_back(uint8_t(address.port));
    return key;
}

bool AddrMan::Accepts(const p2p::PeerAddress& address) const
{
    if (!address.IsIPv4() && !address.IsIPv6()) return false; // Orrery dials IPv4 and IPv6 only
    if (address.port == 0) return false;
    return address.IsRoutable() || m_allow_local;
}

std::vector<uint8_t> AddrMan::Group(const p2p::PeerAddress& address) const
{
    if (!address.IsRoutable()) {
        // Core puts every unroutable address in one group. A regtest book takes loopback peers, which a
        // test tells apart by port only: there each host:port is a group of its own.
        if (!m_allow_local) return {0};
        std::vector<uint8_t> group{0xff};
        const Key key = KeyOf(address);
        group.insert(group.end(), key.begin(), key.end());
        return group;
    }
    if (address.IsIPv4()) return {uint8_t(p2p::Network::IPV4), address.ip[0], address.ip[1]};
    return {uint8_t(p2p::Network::IPV6), address.ip[0], address.ip[1], address.ip[2], address.ip[3]};
}

uint64_t AddrMan::Hash(std::initializer_list<std::span<const uint8_t>> parts) const
{
    // Core's HashWriter(...).GetCheapHash(): the first 8 bytes of SHA256d, little-endian.
    std::vector<uint8_t> data(m_key.begin(), m_key.end());
    for (const auto& part : parts) data.insert(data.end(), part.begin(), part.end());
    const auto hash = crypto::Sha256d(data);
    uint64_t out = 0;
    for (int i = 7; i >= 0; --i) out = out << 8 | hash[size_t(i)];
    return out;
}

int AddrMan::NewBucket(const AddrInfo& info, const p2p::PeerAddress& source) const
{
    const auto group = Group(info.addr);
    const auto source_group = Group(source);
    std::array<uint8_t, 4> buffer;
    const int h1 = int(Hash({group, source_group}) % ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP);
    return int(Hash({source_group, AsBytes(h1, buffer)}) % ADDRMAN_NEW_BUCKET_COUNT);
}

int AddrMan::TriedBucket(const AddrInfo& info) const
{
    const Key key = KeyOf(info.addr);
    std::array<uint8_t, 4> buffer;
    const int h1 = int(Hash({key}) % ADDRMAN_TRIED_BUCKETS_PER_GROUP);
    return int(Hash({Group(info.addr), AsBytes(h1, buffer)}) % ADDRMAN_TRIED_BUCKET_COUNT);
}

int AddrMan::BucketPosition(const AddrInfo& info, bool is_new, int bucket) const
{
    const uint8_t tag = is_new ? 'N' : 'K';
    std::array<uint8_t, 4> buffer;
    return int(Hash({std::span(&tag, 1), AsBytes(bucket, buffer), KeyOf(info.addr)}) % ADDRMAN_BUCKET_SIZE);
}

// ---------------------------------------------------------------- entries

int AddrMan::FindId(const p2p::PeerAddress& address) const
{
    auto it = m_ids.find(KeyOf(address));
    return it == m_ids.end() ? -1 : it->second;
}

std::optional<AddrInfo> AddrMan::Find(const p2p::PeerAddress& address) const
{
    const int id = FindId(address);
    if (id < 0) return std::nullopt;
    return m_info.at(id);
}

int AddrMan::Create(const p2p::PeerAddress& address, const p2p::PeerAddress& source)
{
    const int id = m_next_id++;
    AddrInfo info;
    info.addr = address;
    info.source = source;
    m_info[id] = info;
    m_ids[KeyOf(address)] = id;
    m_random_pos[id] = m_random.size();
    m_random.push_back(id);
    return id;
}

void AddrMan::SwapRandom(size_t a, size_t b)
{
    if (a == b) return;
    std::swap(m_random[a], m_random[b]);
    m_random_pos[m_random[a]] = a;
    m_random_pos[m_random[b]] = b;
}

void AddrMan::Delete(int id)
{
    auto it = m_info.find(id);
    if (it == m_info.end()) return;
    SwapRandom(m_random_pos.at(id), m_random.size() - 1);
    m_random.pop_back();
    m_random_pos.erase(id);
    m_ids.erase(KeyOf(it->second.addr));
    m_info.erase(it);
    --m_new_count;
}

void AddrMan::ClearNew(int bucket, int position)
{
    const int id = m_new[size_t(bucket)][size_t(position)];
    if (id < 0) return;
    AddrInfo& info = m_info.at(id);
    --info.ref_count;
    m_new[size_t(bucket)][size_t(position)] = -1;
    if (info.ref_count == 0) Delete(id);
}

void AddrMan::MakeTried(int id)
{
    AddrInfo& info = m_info.at(id);
    // Out of every new bucket that holds it.
    for (int bucket = 0; bucket < ADDRMAN_NEW_BUCKET_COUNT && info.ref_count > 0; ++bucket) {
        const int position = BucketPosition(info, true, bucket);
        if (m_new[size_t(bucket)][size_t(position)] == id) {
            m_new[size_t(bucket)][size_t(position)] = -1;
            --info.ref_count;
        }
    }
    info.ref_count = 0;
    --m_new_count;
    const int bucket = TriedBucket(info);
    const int position = BucketPosition(info, false, bucket);
    const int evict = m_tried[size_t(bucket)][size_t(position)];
    if (evict >= 0) {
        // The slot's old entry goes back to the new table, into the bucket its source gives it.
        AddrInfo& old = m_info.at(evict);
        old.in_tried = false;
        m_tried[size_t(bucket)][size_t(position)] = -1;
        --m_tried_count;
        const int new_bucket = NewBucket(old, old.source);
        const int new_position = BucketPosition(old, true, new_bucket);
        ClearNew(new_bucket, new_position);
        old.ref_count = 1;
        m_new[size_t(new_bucket)][size_t(new_position)] = evict;
        ++m_new_count;
    }
    m_tried[size_t(bucket)][size_t(position)] = id;
    ++m_tried_count;
    info.in_tried = true;
}

bool AddrMan::AddSingle(const p2p::PeerAddress& address, const p2p::PeerAddress& source, int64_t time_penalty,
                        int64_t now)
{
    if (!Accepts(address)) return false;
    if (address.ip == source.ip && address.network == source.network) time_penalty = 0; // a peer's own address
    int id = FindId(address);
    if (id >= 0) {
        AddrInfo& info = m_info.at(id);
        const bool online = now - int64_t(address.time) < DAY;
        const int64_t update_interval = online ? HOUR : DAY;
        if (int64_t(info.addr.time) < int64_t(address.time) - update_interval - time_penalty) {
            info.addr.time = uint32_t(std::max<int64_t>(0, int64_t(address.time) - time_penalty));
        }
        info.addr.services |= address.services;
        if (address.time == 0 || (info.addr.time != 0 && address.time <= info.addr.time)) return false;
        if (info.in_tried) return false;
        if (info.ref_count == ADDRMAN_NEW_BUCKETS_PER_ADDRESS) return false;
        // Each further bucket is twice as hard to get as the one before.
        if (info.ref_count > 0 && RandRange(uint64_t(1) << info.ref_count) != 0) return false;
    } else {
        id = Create(address, source);
        ++m_new_count;
        AddrInfo& info = m_info.at(id);
        info.addr.time = uint32_t(std::max<int64_t>(0, int64_t(info.addr.time) - time_penalty));
    }
    AddrInfo& info = m_info.at(id);
    const int bucket = NewBucket(info, source);
    const int position = BucketPosition(info, true, bucket);
    const int occupant = m_new[size_t(bucket)][size_t(position)];
    if (occupant == id) return false;
    bool insert = occupant < 0;
    if (!insert) {
        // Core's rule: a terrible entry, or one that other buckets also hold, gives way to a newcomer.
        const AddrInfo& existing = m_info.at(occupant);
        insert = existing.IsTerrible(now) || (existing.ref_count > 1 && info.ref_count == 0);
    }
    if (insert) {
        ClearNew(bucket, position);
        ++info.ref_count;
        m_new[size_t(bucket)][size_t(position)] = id;
    } else if (info.ref_count == 0) {
        Delete(id);
    }
    return insert;
}

// ---------------------------------------------------------------- the operations

size_t AddrMan::Add(const std::vector<p2p::PeerAddress>& addresses, const p2p::PeerAddress& source,
                    int64_t time_penalty, int64_t now)
{
    size_t added = 0;
    for (const auto& address : addresses) added += AddSingle(address, source, time_penalty, now) ? 1 : 0;
    return added;
}

bool AddrMan::Good(const p2p::PeerAddress& address, int64_t now)
{
    m_last_good = now;
    const int id = FindId(address);
    if (id < 0) return false;
    AddrInfo& info = m_info.at(id);
    info.last_success = now;
    info.last_try = now;
    info.attempts = 0;
    // The time is not refreshed here: it would tell others whom we are connected to.
    if (info.in_tried || info.ref_count == 0) return false;
    MakeTried(id);
    return true;
}

void AddrMan::Attempt(const p2p::PeerAddress& address, bool count_failure, int64_t now)
{
    const int id = FindId(address);
    if (id < 0) return;
    AddrInfo& info = m_info.at(id);
    info.last_try = now;
    if (count_failure && info.last_count_attempt < m_last_good) {
        info.last_count_attempt = now;
        ++info.attempts;
    }
}

void AddrMan::Connected(const p2p::PeerAddress& address, int64_t now)
{
    const int id = FindId(address);
    if (id < 0) return;
    AddrInfo& info = m_info.at(id);
    if (now - int64_t(info.addr.time) > 20 * MINUTE) info.addr.time = uint32_t(now);
}

std::optional<std::pair<p2p::PeerAddress, int64_t>> AddrMan::Select(bool new_only, std::optional<p2p::Network> network,
                                                                    int64_t now)
{
    const size_t new_count = Size(network, true);
    const size_t tried_count = new_only ? 0 : Size(network, false);
    if (new_count + tried_count == 0) return std::nullopt;
    const bool search_tried = tried_count > 0 && (new_count == 0 || RandRange(2) == 1);
    auto& table = search_tried ? m_tried : m_new;
    double chance_factor = 1.0;
    for (;;) {
        const size_t bucket = RandRange(table.size());
        const size_t start = RandRange(ADDRMAN_BUCKET_SIZE);
        int id = -1;
        for (size_t i = 0; i < ADDRMAN_BUCKET_SIZE && id < 0; ++i) {
            const int candidate = table[bucket][(start + i) % ADDRMAN_BUCKET_SIZE];
            if (candidate >= 0 && (!network || m_info.at(candidate).addr.network == *network)) id = candidate;
        }
        if (id < 0) continue;
        const AddrInfo& info = m_info.at(id);
        if (double(m_rng() >> 34) < chance_factor * info.GetChance(now) * double(1 << 30)) {
            return std::make_pair(info.addr, info.last_try);
        }
        chance_factor *= 1.2;
    }
}

std::vector<p2p::PeerAddress> AddrMan::GetAddr(size_t max_addresses, size_t max_pct,
                                               std::optional<p2p::Network> network, int64_t now)
{
    size_t wanted = m_random.size();
    if (max_pct != 0) wanted = max_pct * wanted / 100;
    if (max_addresses != 0) wanted = std::min(wanted, max_addresses);
    std::vector<p2p::PeerAddress> out;
    for (size_t n = 0; n < m_random.size() && out.size() < wanted; ++n) {
        SwapRandom(n, n + RandRange(m_random.size() - n));
        const AddrInfo& info = m_info.at(m_random[n]);
        if (network && info.addr.network != *network) continue;
        if (info.IsTerrible(now)) continue;
        out.push_back(info.addr);
    }
    return out;
}

size_t AddrMan::Size(std::optional<p2p::Network> network, std::optional<bool> in_new) const
{
    if (!network && !in_new) return m_info.size();
    if (!network) return size_t(*in_new ? m_new_count : m_tried_count);
    return size_t(std::count_if(m_info.begin(), m_info.end(), [&](const auto& entry) {
        const AddrInfo& info = entry.second;
        return info.addr.network == *network && (!in_new || *in_new != info.in_tried);
    }));
}

bool AddrMan::CheckConsistency() const
{
    std::map<int, int> new_refs;
    int tried = 0;
    for (const auto& bucket : m_new) {
        for (int id : bucket) {
            if (id < 0) continue;
            if (!m_info.count(id) || m_info.at(id).in_tried) return false;
            ++new_refs[id];
        }
    }
    for (const auto& bucket : m_tried) {
        for (int id : bucket) {
            if (id < 0) continue;
            if (!m_info.count(id) || !m_info.at(id).in_tried) return false;
            ++tried;
        }
    }
    for (const auto& [id, info] : m_info) {
        if (info.in_tried ? info.ref_count != 0 : new_refs[id] != info.ref_count || info.ref_count == 0) return false;
        if (m_ids.at(KeyOf(info.addr)) != id) return false;
    }
    return tried == m_tried_count && int(new_refs.size()) == m_new_count && m_random.size() == m_info.size();
}

// ---------------------------------------------------------------- peers.dat

std::vector<uint8_t> AddrMan::Serialize(uint32_t message_start) const
{
    std::vector<uint8_t> out;
    Writer w(out);
    w.WriteBytes(FILE_MAGIC);
    w.WriteU32(FILE_VERSION);
    w.WriteU32(message_start);
    w.WriteBytes(m_key);
    w.WriteCompactSize(m_info.size());
    // Tried entries first: on reading they take their tried slots before new ones could evict them.
    for (const bool tried : {true, false}) {
        for (const auto& [id, info] : m_info) {
            if (info.in_tried != tried) continue;
            WriteAddress(w, info.addr);
            w.WriteU32(info.addr.time);
            w.WriteU64(info.addr.services);
            WriteAddress(w, info.source);
            w.WriteI64(info.last_try);
            w.WriteI64(info.last_success);
            w.WriteI32(info.attempts);
            w.WriteU8(info.in_tried ? 1 : 0);
        }
    }
    const auto checksum = crypto::Sha256d(out);
    w.WriteBytes(checksum);
    return out;
}

std::optional<AddrMan> AddrMan::Deserialize(std::span<const uint8_t> bytes, uint32_t message_start, uint64_t seed,
                                            bool allow_local, std::string& error)
{
    constexpr size_t checksum_size = 32;
    if (bytes.size() < FILE_MAGIC.size() + 8 + 32 + 1 + checksum_size) {
        error = "file too short (" + std::to_string(bytes.size()) + " bytes)";
        return std::nullopt;
    }
    const auto body = bytes.first(bytes.size() - checksum_size);
    const auto checksum = crypto::Sha256d(body);
    if (!std::equal(checksum.begin(), checksum.end(), bytes.end() - checksum_size)) {
        error = "checksum mismatch";
        return std::nullopt;
    }
    try {
        SpanReader r(body);
        std::array<uint8_t, 8> magic;
        r.ReadInto(magic, "magic");
        if (magic != FILE_MAGIC) {
            error = "not an Orrery address book";
            return std::nullopt;
        }
        if (const uint32_t version = r.ReadU32(); version != FILE_VERSION) {
            error = "unknown version " + std::to_string(version);
            return std::nullopt;
        }
        if (r.ReadU32() != message_start) {
            error = "the file belongs to another network";
            return std::nullopt;
        }
        std::array<uint8_t, 32> key;
        r.ReadInto(key, "key");
        AddrMan book(key, seed, allow_local);
        const uint64_t count = r.ReadCompactSize();
        if (count > MAX_FILE_ENTRIES) {
            error = std::to_string(count) + " entries, more than the tables hold";
            return std::nullopt;
        }
        for (uint64_t i = 0; i < count; ++i) {
            p2p::PeerAddress address = ReadAddress(r);
            address.time = r.ReadU32();
            address.services = r.ReadU64();
            const p2p::PeerAddress source = ReadAddress(r);
            const int64_t last_try = r.ReadI64();
            const int64_t last_success = r.ReadI64();
            const int attempts = r.ReadI32();
            const bool tried = r.ReadU8() != 0;
            if (!book.Accepts(address) || book.FindId(address) >= 0) continue; // dropped, not an error
            const int id = book.Create(address, source);
            ++book.m_new_count;
            AddrInfo& info = book.m_info.at(id);
            info.last_try = last_try;
            info.last_success = last_success;
            info.attempts = std::max(attempts, 0);
            const int bucket = book.NewBucket(info, source);
            const int position = book.BucketPosition(info, true, bucket);
            if (tried) {
                const int tried_bucket = book.TriedBucket(info);
                const int tried_position = book.BucketPosition(info, false, tried_bucket);
                int& slot = book.m_tried[size_t(tried_bucket)][size_t(tried_position)];
                if (slot < 0) {
                    slot = id;
                    info.in_tried = true;
                    --book.m_new_count;
                    ++book.m_tried_count;
                    continue;
                }
            }
            if (book.m_new[size_t(bucket)][size_t(position)] < 0) {
                info.ref_count = 1;
                book.m_new[size_t(bucket)][size_t(position)] = id;
            } else {
                book.Delete(id);
            }
        }
        r.ExpectEnd("address book");
        return book;
    } catch (const DeserializeError& e) {
        error = e.what();
        return std::nullopt;
    }
}

} // namespace orrery::node
