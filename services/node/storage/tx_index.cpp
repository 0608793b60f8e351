// -txindex in Core's record forms: 't' + txid -> CDiskTxPos (file, block
// position, offset of the transaction after the block header), 'B' -> a
// block locator holding the block the index is synced to.
#include <services/node/storage/tx_index.h>

#include <services/node/storage/db_wrapper.h>

#include <limits>

namespace orrery::node {

namespace {

constexpr char DB_TXINDEX = 't';
constexpr char DB_BEST_BLOCK = 'B';
//! Written where Core's locator carries a client version; readers ignore it.
constexpr int32_t LOCATOR_VERSION = 270000;

std::span<const uint8_t> Bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string TxKey(const uint256& txid)
{
    std::string key(1, DB_TXINDEX);
    key.append(reinterpret_cast<const char*>(txid.data()), txid.size());
    return key;
}

std::vector<uint8_t> Locator(const uint256& hash)
{
    std::vector<uint8_t> out;
    Writer writer(out);
    writer.WriteI32(LOCATOR_VERSION);
    if (hash.IsNull()) {
        writer.WriteCompactSize(0);
    } else {
        writer.WriteCompactSize(1);
        writer.WriteBytes(hash);
    }
    return out;
}

} // namespace

struct TxIndexDB::Impl {
    detail::Database db;
    Impl(const std::filesystem::path& path, size_t cache_bytes, bool wipe) : db{path, cache_bytes, wipe} {}

    void Write(detail::DBBatch& batch, const uint256& best)
    {
        batch.Put(std::string(1, DB_BEST_BLOCK), Locator(best));
        db.Write(batch, /*sync=*/false);
    }
};

TxIndexDB::TxIndexDB(const std::filesystem::path& path, size_t cache_bytes, bool wipe)
    : m_impl{std::make_unique<Impl>(path, cache_bytes, wipe)}
{
}

TxIndexDB::~TxIndexDB() = default;

void TxIndexDB::WriteBlock(const Block& block, const FilePos& pos)
{
    detail::DBBatch batch;
    // The offset counts from the end of the header: the transaction count, then each transaction in turn.
    uint64_t offset = CompactSizeLength(block.txs.size());
    std::vector<uint8_t> value;
    for (const Transaction& tx : block.txs) {
        value.clear();
        Writer writer(value);
        WriteVarInt(writer, uint64_t(pos.file));
        WriteVarInt(writer, pos.pos);
        WriteVarInt(writer, offset);
        batch.Put(TxKey(tx.GetTxid()), value);
        offset += GetSerializeSize(tx);
    }
    m_impl->Write(batch, block.GetHash());
}

void TxIndexDB::RewindBlock(const Block& /*block*/, const uint256& prev_hash)
{
    detail::DBBatch batch;
    m_impl->Write(batch, prev_hash);
}

std::optional<TxLocation> TxIndexDB::Find(const uint256& txid) const
{
    auto value = m_impl->db.Read(TxKey(txid));
    if (!value) return std::nullopt;
    try {
        SpanReader reader(Bytes(*value));
        TxLocation location;
        location.block_pos.file = int(ReadVarInt(reader, uint64_t(std::numeric_limits<int>::max())));
        location.block_pos.pos = uint32_t(ReadVarInt(reader, std::numeric_limits<uint32_t>::max()));
        location.tx_offset = uint32_t(ReadVarInt(reader, std::numeric_limits<uint32_t>::max()));
        reader.ExpectEnd("transaction position");
        return location;
    } catch (const DeserializeError& e) {
        throw DeserializeError("Corrupt record for transaction " + txid.GetHex() + " in the database " +
                               m_impl->db.Path().string() + ": " + e.what() + "; restart with -reindex");
    }
}

uint256 TxIndexDB::BestBlock() const
{
    auto value = m_impl->db.Read(std::string(1, DB_BEST_BLOCK));
    if (!value) return uint256{};
    try {
        SpanReader reader(Bytes(*value));
        (void)reader.ReadI32();
        const size_t count = reader.ReadCount(32, "locator length");
        uint256 hash;
        if (count > 0) reader.ReadInto(std::span<uint8_t>(hash.data(), hash.size()), "locator hash");
        return hash;
    } catch (const DeserializeError& e) {
        throw DeserializeError("Corrupt best block record in the database " + m_impl->db.Path().string() + ": " +
                               e.what());
    }
}

} // namespace orrery::node
