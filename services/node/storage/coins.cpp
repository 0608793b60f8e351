// The UTXO set: Core's coin disk form (VARINT, amount and script compression),
// the LevelDB store with the crash-safe head-blocks protocol, and the
// write-back cache with Core's DIRTY/FRESH rules.
#include <services/node/storage/coins.h>

#include <common/consensus/script.h>
#include <common/crypto/hash.h>
#include <services/node/storage/block_files.h>
#include <services/node/storage/db_wrapper.h>

#include <secp256k1.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace orrery::node {

namespace {

constexpr char DB_COIN = 'C';
constexpr char DB_BEST_BLOCK = 'B';
constexpr char DB_HEAD_BLOCKS = 'H';
constexpr size_t DEFAULT_BATCH_BYTES = 16 << 20;

//! Scripts that compress to a type byte and 20 or 32 bytes; other sizes are stored as VARINT(size + 6).
constexpr uint64_t SPECIAL_SCRIPTS = 6;
constexpr size_t MAX_SCRIPT_SIZE = 10000;

bool IsToKeyId(const Script& s)
{
    return s.size() == 25 && s[0] == OP_DUP && s[1] == OP_HASH160 && s[2] == 20 && s[23] == OP_EQUALVERIFY &&
           s[24] == OP_CHECKSIG;
}

bool IsToScriptId(const Script& s)
{
    return s.size() == 23 && s[0] == OP_HASH160 && s[1] == 20 && s[22] == OP_EQUAL;
}

bool IsToCompressedPubKey(const Script& s)
{
    return s.size() == 35 && s[0] == 33 && s[34] == OP_CHECKSIG && (s[1] == 0x02 || s[1] == 0x03);
}

bool IsToFullyValidUncompressedPubKey(const Script& s)
{
    if (s.size() != 67 || s[0] != 65 || s[66] != OP_CHECKSIG || s[1] != 0x04) return false;
    secp256k1_pubkey key;
    return secp256k1_ec_pubkey_parse(secp256k1_context_static, &key, s.data() + 1, 65) == 1;
}

//! The heap bytes malloc takes for a block of `alloc` bytes (Core's memusage::MallocUsage on 64-bit).
size_t MallocUsage(size_t alloc)
{
    return alloc == 0 ? 0 : ((alloc + 31) >> 4) << 4;
}

size_t ScriptUsage(const Coin& coin)
{
    return MallocUsage(coin.out.script_pubkey.capacity());
}

//! Writes the coin's key into `key` (reused by a flush, which writes millions of them).
void CoinKeyInto(std::vector<uint8_t>& key, const OutPoint& outpoint)
{
    key.clear();
    key.push_back(uint8_t(DB_COIN));
    key.insert(key.end(), outpoint.hash.begin(), outpoint.hash.end());
    Writer writer(key);
    WriteVarInt(writer, outpoint.n);
}

std::string CoinKey(const OutPoint& outpoint)
{
    std::vector<uint8_t> key;
    key.reserve(38);
    CoinKeyInto(key, outpoint);
    return {key.begin(), key.end()};
}

std::span<const uint8_t> Bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::pair<uint64_t, uint64_t> RandomSalt()
{
    std::random_device rd;
    auto word = [&rd] { return (uint64_t{rd()} << 32) | rd(); };
    return {word(), word()};
}

} // namespace

// ---- Disk forms ---------------------------------------------------------------------------------------------------

void WriteVarInt(Writer& writer, uint64_t n)
{
    std::array<uint8_t, 10> tmp{};
    size_t len = 0;
    while (true) {
        tmp[len] = uint8_t(n & 0x7f) | (len ? 0x80 : 0x00);
        if (n <= 0x7f) break;
        n = (n >> 7) - 1;
        ++len;
    }
    do {
        writer.WriteU8(tmp[len]);
    } while (len-- > 0);
}

uint64_t ReadVarInt(SpanReader& reader, uint64_t max)
{
    const size_t start = reader.Position();
    uint64_t n = 0;
    while (true) {
        const uint8_t ch = reader.ReadU8();
        if (n > (max >> 7)) reader.Fail(start, "VARINT too large");
        n = (n << 7) | (ch & 0x7f);
        if (ch & 0x80) {
            if (n == max) reader.Fail(start, "VARINT too large");
            ++n;
        } else {
            if (n > max) reader.Fail(start, "VARINT too large");
            return n;
        }
    }
}

uint64_t ReadVarInt(SpanReader& reader)
{
    return ReadVarInt(reader, std::numeric_limits<uint64_t>::max());
}

uint64_t CompressAmount(uint64_t n)
{
    if (n == 0) return 0;
    int e = 0;
    while ((n % 10) == 0 && e < 9) {
        n /= 10;
        ++e;
    }
    if (e < 9) {
        const uint64_t d = n % 10;
        n /= 10;
        return 1 + (n * 9 + d - 1) * 10 + uint64_t(e);
    }
    return 1 + (n - 1) * 10 + 9;
}

uint64_t DecompressAmount(uint64_t x)
{
    if (x == 0) return 0;
    --x;
    int e = int(x % 10);
    x /= 10;
    uint64_t n = 0;
    if (e < 9) {
        const uint64_t d = (x % 9) + 1;
        x /= 9;
        n = x * 10 + d;
    } else {
        n = x + 1;
    }
    while (e) {
        n *= 10;
        --e;
    }
    return n;
}

void WriteCompressedScript(Writer& writer, const Script& s)
{
    if (IsToKeyId(s)) {
        writer.WriteU8(0x00);
        writer.WriteBytes(std::span(s).subspan(3, 20));
    } else if (IsToScriptId(s)) {
        writer.WriteU8(0x01);
        writer.WriteBytes(std::span(s).subspan(2, 20));
    } else if (IsToCompressedPubKey(s)) {
        writer.WriteU8(s[1]);
        writer.WriteBytes(std::span(s).subspan(2, 32));
    } else if (IsToFullyValidUncompressedPubKey(s)) {
        writer.WriteU8(uint8_t(0x04 | (s[65] & 0x01)));
        writer.WriteBytes(std::span(s).subspan(2, 32));
    } else {
        WriteVarInt(writer, s.size() + SPECIAL_SCRIPTS);
        writer.WriteBytes(s);
    }
}

Script ReadCompressedScript(SpanReader& reader)
{
    const size_t start = reader.Position();
    const uint64_t size = ReadVarInt(reader, std::numeric_limits<uint32_t>::max());
    Script s;
    switch (size) {
    case 0x00: {
        const auto hash = reader.ReadSpan(20, "compressed P2PKH script");
        s = {OP_DUP, OP_HASH160, 20};
        s.insert(s.end(), hash.begin(), hash.end());
        s.push_back(OP_EQUALVERIFY);
        s.push_back(OP_CHECKSIG);
        return s;
    }
    case 0x01: {
        const auto hash = reader.ReadSpan(20, "compressed P2SH script");
        s = {OP_HASH160, 20};
        s.insert(s.end(), hash.begin(), hash.end());
        s.push_back(OP_EQUAL);
        return s;
    }
    case 0x02:
    case 0x03: {
        const auto x = reader.ReadSpan(32, "compressed P2PK script");
        s = {33, uint8_t(size)};
        s.insert(s.end(), x.begin(), x.end());
        s.push_back(OP_CHECKSIG);
        return s;
    }
    case 0x04:
    case 0x05: {
        const auto x = reader.ReadSpan(32, "compressed P2PK script");
        std::array<uint8_t, 33> compressed{};
        compressed[0] = uint8_t(size - 2);
        std::memcpy(compressed.data() + 1, x.data(), 32);
        secp256k1_pubkey key;
        if (!secp256k1_ec_pubkey_parse(secp256k1_context_static, &key, compressed.data(), compressed.size())) {
            reader.Fail(start, "compressed uncompressed-P2PK script holds no point on the curve");
        }
        std::array<uint8_t, 65> full{};
        size_t full_size = full.size();
        secp256k1_ec_pubkey_serialize(secp256k1_context_static, full.data(), &full_size, &key,
                                      SECP256K1_EC_UNCOMPRESSED);
        s.reserve(67);
        s.push_back(65);
        s.insert(s.end(), full.begin(), full.end());
        s.push_back(OP_CHECKSIG);
        return s;
    }
    default:
        break;
    }
    const uint64_t length = size - SPECIAL_SCRIPTS;
    if (length > reader.Remaining()) {
        reader.Fail(start, "script of " + std::to_string(length) + " bytes cannot fit in the remaining " +
                               std::to_string(reader.Remaining()) + " bytes");
    }
    const auto bytes = reader.ReadSpan(size_t(length), "script");
    if (length > MAX_SCRIPT_SIZE) return Script{OP_RETURN};
    return Script(bytes.begin(), bytes.end());
}

void WriteCoin(Writer& writer, const Coin& coin)
{
    if (coin.IsSpent()) throw std::logic_error("WriteCoin: a spent coin has no disk form");
    WriteVarInt(writer, uint64_t{coin.height} * 2 + (coin.coinbase ? 1 : 0));
    WriteVarInt(writer, CompressAmount(uint64_t(coin.out.value)));
    WriteCompressedScript(writer, coin.out.script_pubkey);
}

Coin ReadCoin(SpanReader& reader)
{
    Coin coin;
    const uint64_t code = ReadVarInt(reader, uint64_t{std::numeric_limits<uint32_t>::max()});
    coin.height = uint32_t(code >> 1);
    coin.coinbase = (code & 1) != 0;
    const size_t amount_at = reader.Position();
    const uint64_t value = DecompressAmount(ReadVarInt(reader));
    if (value > uint64_t(std::numeric_limits<int64_t>::max())) reader.Fail(amount_at, "coin amount out of range");
    coin.out.value = Amount(value);
    coin.out.script_pubkey = ReadCompressedScript(reader);
    return coin;
}

size_t OutPointHasher::operator()(const OutPoint& o) const
{
    static const std::pair<uint64_t, uint64_t> salt = RandomSalt();
    std::array<uint8_t, 36> data;
    std::memcpy(data.data(), o.hash.data(), 32);
    for (int i = 0; i < 4; ++i) data[32 + i] = uint8_t(o.n >> (8 * i));
    return size_t(crypto::SipHash24(salt.first, salt.second, data));
}

// ---- CoinsDB ------------------------------------------------------------------------------------------------------

struct CoinsDB::Impl {
    detail::Database db;
    size_t batch_bytes{DEFAULT_BATCH_BYTES};
    std::function<void()> batch_hook;

    Impl(const std::filesystem::path& path, size_t cache_bytes, bool wipe) : db{path, cache_bytes, wipe} {}

    Coin Decode(std::string_view key, std::string_view value) const
    {
        SpanReader reader(Bytes(value));
        try {
            Coin coin = ReadCoin(reader);
            reader.ExpectEnd("coin");
            return coin;
        } catch (const DeserializeError& e) {
            throw DeserializeError("Corrupt coin record in the database " + db.Path().string() + " (key of " +
                                   std::to_string(key.size()) + " bytes): " + e.what() +
                                   "; restart with -reindex-chainstate to rebuild it");
        }
    }
};

CoinsDB::CoinsDB(const std::filesystem::path& path, size_t cache_bytes, bool wipe)
    : m_impl{std::make_unique<Impl>(path, cache_bytes, wipe)}
{
}

CoinsDB::~CoinsDB() = default;

std::optional<Coin> CoinsDB::GetCoin(const OutPoint& outpoint) const
{
    const std::string key = CoinKey(outpoint);
    auto value = m_impl->db.Read(key);
    if (!value) return std::nullopt;
    return m_impl->Decode(key, *value);
}

bool CoinsDB::HaveCoin(const OutPoint& outpoint) const
{
    return m_impl->db.Exists(CoinKey(outpoint));
}

uint256 CoinsDB::GetBestBlock() const
{
    auto value = m_impl->db.Read(std::string(1, DB_BEST_BLOCK));
    if (!value) return uint256{};
    auto hash = uint256::FromBytes(Bytes(*value));
    if (!hash) throw std::runtime_error("Corrupt best block record in the database " + m_impl->db.Path().string());
    return *hash;
}

std::vector<uint256> CoinsDB::GetHeadBlocks() const
{
    auto value = m_impl->db.Read(std::string(1, DB_HEAD_BLOCKS));
    if (!value) return {};
    std::vector<uint256> heads;
    try {
        SpanReader reader(Bytes(*value));
        const size_t count = reader.ReadCount(32, "head block count");
        for (size_t i = 0; i < count; ++i) {
            uint256 hash;
            reader.ReadInto(std::span<uint8_t>(hash.data(), hash.size()), "head block");
            heads.push_back(hash);
        }
        reader.ExpectEnd("head blocks");
    } catch (const DeserializeError& e) {
        throw std::runtime_error("Corrupt head blocks record in the database " + m_impl->db.Path().string() + ": " +
                                 e.what());
    }
    return heads;
}

void CoinsDB::BatchWrite(CoinsMap& entries, const uint256& best_block)
{
    WriteEntries(entries, best_block);
    entries.clear();
}

void CoinsDB::WriteEntries(const CoinsMap& entries, const uint256& best_block)
{
    detail::DBBatch batch;
    uint256 old_tip = GetBestBlock();
    if (old_tip.IsNull()) {
        // A previous flush was interrupted: keep its old tip as the start of the range a recovery replays.
        const std::vector<uint256> old_heads = GetHeadBlocks();
        if (old_heads.size() == 2) {
            if (old_heads[0] != best_block) {
                throw std::runtime_error("The database " + m_impl->db.Path().string() +
                                         " holds an interrupted flush to another block; restart to recover it");
            }
            old_tip = old_heads[1];
        }
    }
    // First batch: "moving from old_tip to best_block". Until the last batch the database has no best block.
    std::vector<uint8_t> heads;
    Writer heads_writer(heads);
    heads_writer.WriteCompactSize(2);
    heads_writer.WriteBytes(best_block);
    heads_writer.WriteBytes(old_tip);
    batch.Delete(std::string(1, DB_BEST_BLOCK));
    batch.Put(std::string(1, DB_HEAD_BLOCKS), heads);

    // The dirty entries in key order: LevelDB inserts ascending keys into its memtable several times faster than
    // the hash map's random order (a full cache flushes about three times faster). The order changes nothing else:
    // the marker protocol around the batches is the same.
    struct Ref {
        uint64_t prefix; // the txid's first 8 bytes, big endian: the key's order
        const CoinsMap::value_type* entry;
    };
    std::vector<Ref> order;
    order.reserve(entries.size());
    for (const auto& item : entries) {
        if (!(item.second.flags & CoinsCacheEntry::DIRTY)) continue;
        uint64_t prefix = 0;
        for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | item.first.hash.data()[i];
        order.push_back(Ref{prefix, &item});
    }
    std::sort(order.begin(), order.end(), [](const Ref& a, const Ref& b) {
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
        const int c = std::memcmp(a.entry->first.hash.data(), b.entry->first.hash.data(), 32);
        return c != 0 ? c < 0 : a.entry->first.n < b.entry->first.n;
    });

    std::vector<uint8_t> key_bytes, value;
    key_bytes.reserve(48);
    for (const Ref& ref : order) {
        const OutPoint& outpoint = ref.entry->first;
        const CoinsCacheEntry& entry = ref.entry->second;
        CoinKeyInto(key_bytes, outpoint);
        const std::string_view key(reinterpret_cast<const char*>(key_bytes.data()), key_bytes.size());
        if (entry.coin.IsSpent()) {
            batch.Delete(key);
        } else {
            value.clear();
            Writer writer(value);
            WriteCoin(writer, entry.coin);
            batch.Put(key, value);
        }
        if (batch.ApproximateSize() > m_impl->batch_bytes) {
            m_impl->db.Write(batch, /*sync=*/false);
            batch.Clear();
            if (m_impl->batch_hook) m_impl->batch_hook();
        }
    }
    batch.Delete(std::string(1, DB_HEAD_BLOCKS));
    batch.Put(std::string(1, DB_BEST_BLOCK), best_block);
    m_impl->db.Write(batch, /*sync=*/true);
}

void CoinsDB::SetBatchSize(size_t bytes)
{
    m_impl->batch_bytes = bytes;
}

void CoinsDB::SetBatchHook(std::function<void()> hook)
{
    m_impl->batch_hook = std::move(hook);
}

void CoinsDB::ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn) const
{
    m_impl->db.ForEachPrefix(std::string(1, DB_COIN), [&](std::string_view key, std::string_view value) {
        SpanReader reader(Bytes(key));
        OutPoint outpoint;
        try {
            reader.ReadU8();
            reader.ReadInto(std::span<uint8_t>(outpoint.hash.data(), outpoint.hash.size()), "txid");
            outpoint.n = uint32_t(ReadVarInt(reader, std::numeric_limits<uint32_t>::max()));
            reader.ExpectEnd("coin key");
        } catch (const DeserializeError& e) {
            throw DeserializeError("Corrupt coin key in the database " + m_impl->db.Path().string() + ": " + e.what() +
                                   "; restart with -reindex-chainstate to rebuild it");
        }
        return fn(outpoint, m_impl->Decode(key, value));
    });
}

uint64_t CoinsDB::EstimateSize() const
{
    return m_impl->db.EstimateSize();
}

// ---- CoinsCache ---------------------------------------------------------------------------------------------------

namespace {

const Coin& EmptyCoin()
{
    static const Coin empty;
    return empty;
}

} // namespace

CoinsCache::CoinsCache(CoinsView& base) : m_base{base} {}

CoinsMap::iterator CoinsCache::FetchCoin(const OutPoint& outpoint) const
{
    auto it = m_entries.find(outpoint);
    if (it != m_entries.end()) return it;
    std::optional<Coin> coin = m_base.GetCoin(outpoint);
    if (!coin) return m_entries.end();
    it = m_entries.emplace(outpoint, CoinsCacheEntry{std::move(*coin), 0}).first;
    m_script_bytes += ScriptUsage(it->second.coin);
    return it;
}

std::optional<Coin> CoinsCache::GetCoin(const OutPoint& outpoint) const
{
    auto it = FetchCoin(outpoint);
    if (it == m_entries.end() || it->second.coin.IsSpent()) return std::nullopt;
    return it->second.coin;
}

bool CoinsCache::HaveCoin(const OutPoint& outpoint) const
{
    auto it = FetchCoin(outpoint);
    return it != m_entries.end() && !it->second.coin.IsSpent();
}

uint256 CoinsCache::GetBestBlock() const
{
    if (m_best_block.IsNull()) return m_base.GetBestBlock();
    return m_best_block;
}

void CoinsCache::SetBestBlock(const uint256& hash)
{
    m_best_block = hash;
}

const Coin& CoinsCache::AccessCoin(const OutPoint& outpoint) const
{
    auto it = FetchCoin(outpoint);
    return it == m_entries.end() ? EmptyCoin() : it->second.coin;
}

void CoinsCache::AddCoin(const OutPoint& outpoint, Coin coin, bool possible_overwrite)
{
    if (coin.IsSpent()) throw std::logic_error("AddCoin: the coin is spent");
    if (IsUnspendable(coin.out.script_pubkey)) return;
    auto [it, inserted] = m_entries.try_emplace(outpoint);
    bool fresh = false;
    if (!inserted) m_script_bytes -= ScriptUsage(it->second.coin);
    if (!possible_overwrite) {
        if (!it->second.coin.IsSpent()) {
            m_script_bytes += ScriptUsage(it->second.coin);
            throw std::logic_error("Attempted to overwrite an unspent coin (when possible_overwrite is false)");
        }
        // The parent cannot hold an unspent coin here unless this entry is an unflushed spend of it.
        fresh = !(it->second.flags & CoinsCacheEntry::DIRTY);
    }
    it->second.coin = std::move(coin);
    it->second.flags |= CoinsCacheEntry::DIRTY | (fresh ? CoinsCacheEntry::FRESH : 0);
    m_script_bytes += ScriptUsage(it->second.coin);
}

bool CoinsCache::SpendCoin(const OutPoint& outpoint, Coin* moved_to)
{
    auto it = FetchCoin(outpoint);
    if (it == m_entries.end() || it->second.coin.IsSpent()) return false;
    m_script_bytes -= ScriptUsage(it->second.coin);
    if (moved_to) *moved_to = std::move(it->second.coin);
    if (it->second.flags & CoinsCacheEntry::FRESH) {
        m_entries.erase(it);
    } else {
        it->second.flags |= CoinsCacheEntry::DIRTY;
        it->second.coin.Clear();
        m_script_bytes += ScriptUsage(it->second.coin);
    }
    return true;
}

void CoinsCache::AddTransactionCoins(const Transaction& tx, uint32_t height, bool check_for_overwrite)
{
    AddTransactionCoins(tx, tx.GetTxid(), height, check_for_overwrite);
}

void CoinsCache::AddTransactionCoins(const Transaction& tx, const uint256& txid, uint32_t height,
                                     bool check_for_overwrite)
{
    const bool coinbase = tx.IsCoinbase();
    for (uint32_t i = 0; i < tx.vout.size(); ++i) {
        const OutPoint outpoint{txid, i};
        const bool overwrite = check_for_overwrite ? HaveCoin(outpoint) : coinbase;
        AddCoin(outpoint, Coin{tx.vout[i], height, coinbase}, overwrite);
    }
}

void CoinsCache::BatchWrite(CoinsMap& entries, const uint256& best_block)
{
    for (auto& [outpoint, child] : entries) {
        if (!(child.flags & CoinsCacheEntry::DIRTY)) continue;
        auto ours = m_entries.find(outpoint);
        if (ours == m_entries.end()) {
            // A FRESH spent entry was created and spent in the child: the parent never needs to see it.
            if ((child.flags & CoinsCacheEntry::FRESH) && child.coin.IsSpent()) continue;
            CoinsCacheEntry& entry = m_entries[outpoint];
            entry.coin = std::move(child.coin);
            entry.flags = CoinsCacheEntry::DIRTY | (child.flags & CoinsCacheEntry::FRESH);
            m_script_bytes += ScriptUsage(entry.coin);
        } else {
            if ((child.flags & CoinsCacheEntry::FRESH) && !ours->second.coin.IsSpent()) {
                throw std::logic_error("FRESH flag misapplied to coin that exists in parent cache");
            }
            m_script_bytes -= ScriptUsage(ours->second.coin);
            if ((ours->second.flags & CoinsCacheEntry::FRESH) && child.coin.IsSpent()) {
                // Created and spent above the base view: nothing to write further down.
                m_entries.erase(ours);
            } else {
                ours->second.coin = std::move(child.coin);
                ours->second.flags |= CoinsCacheEntry::DIRTY;
                m_script_bytes += ScriptUsage(ours->second.coin);
            }
        }
    }
    entries.clear();
    m_best_block = best_block;
}

void CoinsCache::Flush()
{
    m_base.BatchWrite(m_entries, GetBestBlock());
    m_entries.clear();
    m_script_bytes = 0;
}

void CoinsCache::Sync()
{
    if (auto* db = dynamic_cast<CoinsDB*>(&m_base)) {
        db->WriteEntries(m_entries, GetBestBlock());
    } else {
        CoinsMap dirty;
        for (const auto& [outpoint, entry] : m_entries) {
            if (entry.flags & CoinsCacheEntry::DIRTY) dirty.emplace(outpoint, entry);
        }
        m_base.BatchWrite(dirty, GetBestBlock());
    }
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (it->second.coin.IsSpent()) {
            m_script_bytes -= ScriptUsage(it->second.coin);
            it = m_entries.erase(it);
        } else {
            it->second.flags = 0;
            ++it;
        }
    }
}

void CoinsCache::Uncache(const OutPoint& outpoint)
{
    auto it = m_entries.find(outpoint);
    if (it != m_entries.end() && it->second.flags == 0) {
        m_script_bytes -= ScriptUsage(it->second.coin);
        m_entries.erase(it);
    }
}

size_t CoinsCache::CacheSize() const
{
    return m_entries.size();
}

size_t CoinsCache::DynamicMemoryUsage() const
{
    // One heap node per entry (the value and the next pointer) and the bucket array, as Core's memusage estimates
    // std::unordered_map, plus the scripts' heap blocks.
    const size_t node = MallocUsage(sizeof(CoinsMap::value_type) + sizeof(void*));
    return node * m_entries.size() + MallocUsage(sizeof(void*) * m_entries.bucket_count()) + m_script_bytes;
}

} // namespace orrery::node
