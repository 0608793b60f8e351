// The UTXO set: one coin per unspent output, a view interface, the LevelDB
// store under chainstate/ and the in-memory write-back cache sized by -dbcache.
//
// Crash safety (Core's design): CoinsDB::BatchWrite first records the marker
// "moving from tip A to tip B" (the head blocks, key 'H'), writes the coins in
// batches of about -dbbatchsize bytes, then in a final batch erases the marker
// and records B as the best block (key 'B'). A start that finds the marker
// rolls the chainstate back or forward (validation does that with the undo
// data, see validation/chainstate.h).
#ifndef ORRERY_SERVICES_NODE_STORAGE_COINS_H
#define ORRERY_SERVICES_NODE_STORAGE_COINS_H

#include <common/consensus/serialize.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace orrery::node {

//! An unspent output and where it was created. A spent coin has out.value == -1 (IsSpent).
struct Coin {
    TxOut out;
    uint32_t height{0};
    bool coinbase{false};
    bool IsSpent() const { return out.value < 0; }
    void Clear() { *this = Coin{}; }
    friend bool operator==(const Coin&, const Coin&) = default;
};

//! Core's disk form of a coin: VARINT(height * 2 + coinbase), then the output
//! compressed (CompressAmount as VARINT, then the compressed script). Readers
//! throw DeserializeError on malformed bytes.
void WriteCoin(Writer& writer, const Coin& coin);
Coin ReadCoin(SpanReader& reader);
//! Core's VARINT (the MSB-base-128 form with the +1 offset), used by every disk record.
void WriteVarInt(Writer& writer, uint64_t n);
uint64_t ReadVarInt(SpanReader& reader);
//! ReadVarInt that also rejects values above `max` (Core checks against the target type's range).
uint64_t ReadVarInt(SpanReader& reader, uint64_t max);

//! Core's amount compression (the exponent of ten folded into the low digit) and its inverse.
uint64_t CompressAmount(uint64_t amount);
uint64_t DecompressAmount(uint64_t x);
//! Core's script compression: 21 bytes for P2PKH (type 0) and P2SH (1), 33 for P2PK with a compressed (2, 3) or
//! uncompressed (4, 5: stored compressed, decompressed with libsecp256k1 on read) key, otherwise
//! VARINT(size + 6) and the script. A stored script above 10,000 bytes reads back as a lone OP_RETURN, as in Core.
void WriteCompressedScript(Writer& writer, const Script& script);
Script ReadCompressedScript(SpanReader& reader);

struct OutPointHasher {
    size_t operator()(const OutPoint& o) const;
};

//! One cache entry. DIRTY: differs from the parent view. FRESH: the parent has no unspent coin here, so a spend
//! of a FRESH coin can simply drop the entry (Core's CCoinsCacheEntry flags).
struct CoinsCacheEntry {
    enum Flags : uint8_t { DIRTY = 1, FRESH = 2 };
    Coin coin;
    uint8_t flags{0};
};
using CoinsMap = std::unordered_map<OutPoint, CoinsCacheEntry, OutPointHasher>;

class CoinsView
{
public:
    virtual ~CoinsView() = default;
    //! The unspent coin at `outpoint`, nullopt if none (spent or never created).
    virtual std::optional<Coin> GetCoin(const OutPoint& outpoint) const = 0;
    virtual bool HaveCoin(const OutPoint& outpoint) const { return GetCoin(outpoint).has_value(); }
    //! The block whose state this view reflects (null before the first block).
    virtual uint256 GetBestBlock() const = 0;
    //! Non-empty only in the middle of an interrupted flush: {new tip, old tip}.
    virtual std::vector<uint256> GetHeadBlocks() const { return {}; }
    //! Applies the DIRTY entries of `entries` (spent ones erase) and sets the best block. May clear `entries`.
    //! Throws std::runtime_error on a database or disk failure (with a message naming the path).
    virtual void BatchWrite(CoinsMap& entries, const uint256& best_block) = 0;
};

//! The UTXO set in LevelDB (<datadir>/chainstate/). Keys: 'C' + txid + VARINT(n) -> coin,
//! 'B' -> best block hash, 'H' -> head blocks marker.
class CoinsDB final : public CoinsView
{
public:
    //! Opens (creating) the database; `wipe` deletes it first (-reindex, -reindex-chainstate).
    //! Throws std::runtime_error naming the path when it cannot be opened (corrupt, locked, read-only).
    CoinsDB(const std::filesystem::path& path, size_t cache_bytes, bool wipe);
    ~CoinsDB() override;

    std::optional<Coin> GetCoin(const OutPoint& outpoint) const override;
    bool HaveCoin(const OutPoint& outpoint) const override;
    uint256 GetBestBlock() const override;
    std::vector<uint256> GetHeadBlocks() const override;
    void BatchWrite(CoinsMap& entries, const uint256& best_block) override;
    //! BatchWrite without consuming `entries` (CoinsCache::Sync keeps its entries and needs no copy of them).
    void WriteEntries(const CoinsMap& entries, const uint256& best_block);

    //! Bytes per intermediate LevelDB batch (-dbbatchsize, default 16 MiB); tests make it tiny.
    void SetBatchSize(size_t bytes);
    //! Calls `fn` for every coin in key order (a consistent snapshot); stops when it returns false.
    void ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn) const;
    //! LevelDB's estimate of the bytes on disk.
    uint64_t EstimateSize() const;
    //! Test hook: called after each intermediate batch of BatchWrite has been written; a test throws from it to
    //! leave the database as a crash in the middle of a flush would (the head-blocks marker in place).
    void SetBatchHook(std::function<void()> hook);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

//! A write-back cache over another view (the CoinsDB, or another cache for a block being connected).
//! Not thread-safe: the chainstate's lock guards it.
class CoinsCache : public CoinsView
{
public:
    explicit CoinsCache(CoinsView& base);
    //! A cache over another cache (a block being connected over the tip cache). Without this overload
    //! `CoinsCache child(parent)` would pick the copy constructor, which is deleted.
    explicit CoinsCache(CoinsCache& base) : CoinsCache(static_cast<CoinsView&>(base)) {}
    CoinsCache(const CoinsCache&) = delete;
    CoinsCache& operator=(const CoinsCache&) = delete;

    std::optional<Coin> GetCoin(const OutPoint& outpoint) const override;
    bool HaveCoin(const OutPoint& outpoint) const override;
    uint256 GetBestBlock() const override;
    void SetBestBlock(const uint256& hash);
    void BatchWrite(CoinsMap& entries, const uint256& best_block) override;

    //! The coin (fetched into the cache), or a spent Coin when there is none. Valid until the next change.
    const Coin& AccessCoin(const OutPoint& outpoint) const;
    //! Adds an output. `possible_overwrite` is false when the outpoint is known to hold no unspent coin
    //! (then the entry can be FRESH); adding over an unspent coin without it throws std::logic_error.
    void AddCoin(const OutPoint& outpoint, Coin coin, bool possible_overwrite);
    //! Spends a coin; the spent coin is moved to `moved_to` if given. False if there was none.
    bool SpendCoin(const OutPoint& outpoint, Coin* moved_to = nullptr);
    //! Adds every output of `tx` created at `height` (Core's AddCoins; check_for_overwrite for BIP30 era blocks).
    void AddTransactionCoins(const Transaction& tx, uint32_t height, bool check_for_overwrite);
    //! The same with the transaction's id already computed.
    void AddTransactionCoins(const Transaction& tx, const uint256& txid, uint32_t height, bool check_for_overwrite);

    //! Writes every dirty entry to the base view and empties the cache.
    void Flush();
    //! Writes dirty entries but keeps the (now clean) entries cached (Core's Sync).
    void Sync();
    //! Drops a non-dirty entry (keeps memory bounded when only reading).
    void Uncache(const OutPoint& outpoint);
    size_t CacheSize() const;
    //! Estimated heap bytes held by the entries, compared with -dbcache.
    size_t DynamicMemoryUsage() const;

protected:
    //! The entry for `outpoint`, fetched from the base view when not cached; end() when neither has a coin.
    CoinsMap::iterator FetchCoin(const OutPoint& outpoint) const;

    CoinsView& m_base;
    mutable CoinsMap m_entries;
    uint256 m_best_block;
    mutable size_t m_script_bytes{0};
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_STORAGE_COINS_H
