// The block index database in Core's keys and record forms.
#include <services/node/storage/block_tree_db.h>

#include <services/node/storage/db_wrapper.h>

#include <limits>

namespace orrery::node {

namespace {

constexpr char DB_BLOCK_INDEX = 'b';
constexpr char DB_BLOCK_FILES = 'f';
constexpr char DB_LAST_BLOCK = 'l';
constexpr char DB_REINDEX_FLAG = 'R';
constexpr char DB_FLAG = 'F';

// Core's BlockStatus bits that say which positions a record carries.
constexpr uint32_t BLOCK_HAVE_DATA = 8;
constexpr uint32_t BLOCK_HAVE_UNDO = 16;
//! Written where Core writes its client version; readers ignore it.
constexpr uint64_t DISK_CLIENT_VERSION = 270000;
constexpr uint64_t INT_MAX_U = uint64_t(std::numeric_limits<int>::max());

std::span<const uint8_t> Bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string IndexKey(const uint256& hash)
{
    std::string key(1, DB_BLOCK_INDEX);
    key.append(reinterpret_cast<const char*>(hash.data()), hash.size());
    return key;
}

std::string FileKey(int file)
{
    std::string key(1, DB_BLOCK_FILES);
    for (int i = 0; i < 4; ++i) key.push_back(char(uint8_t(uint32_t(file) >> (8 * i))));
    return key;
}

std::string FlagKey(const std::string& name)
{
    std::vector<uint8_t> key{uint8_t(DB_FLAG)};
    Writer writer(key);
    writer.WriteByteVector(std::span(reinterpret_cast<const uint8_t*>(name.data()), name.size()));
    return {key.begin(), key.end()};
}

std::vector<uint8_t> Int32Bytes(int value)
{
    std::vector<uint8_t> out;
    Writer(out).WriteI32(value);
    return out;
}

} // namespace

void WriteDiskBlockIndex(Writer& writer, const DiskBlockIndex& index)
{
    if (index.height < 0) throw std::logic_error("WriteDiskBlockIndex: negative height");
    WriteVarInt(writer, DISK_CLIENT_VERSION);
    WriteVarInt(writer, uint64_t(index.height));
    WriteVarInt(writer, index.status);
    WriteVarInt(writer, index.n_tx);
    if (index.status & (BLOCK_HAVE_DATA | BLOCK_HAVE_UNDO)) {
        const int file = (index.status & BLOCK_HAVE_DATA) ? index.data_pos.file : index.undo_pos.file;
        if (file < 0) throw std::logic_error("WriteDiskBlockIndex: status names data without a file");
        WriteVarInt(writer, uint64_t(file));
    }
    if (index.status & BLOCK_HAVE_DATA) WriteVarInt(writer, index.data_pos.pos);
    if (index.status & BLOCK_HAVE_UNDO) WriteVarInt(writer, index.undo_pos.pos);
    WriteBlockHeader(writer, index.header);
}

DiskBlockIndex ReadDiskBlockIndex(SpanReader& reader)
{
    constexpr uint64_t U32 = std::numeric_limits<uint32_t>::max();
    DiskBlockIndex index;
    (void)ReadVarInt(reader, INT_MAX_U);
    index.height = int(ReadVarInt(reader, INT_MAX_U));
    index.status = uint32_t(ReadVarInt(reader, U32));
    index.n_tx = uint32_t(ReadVarInt(reader, U32));
    int file = -1;
    if (index.status & (BLOCK_HAVE_DATA | BLOCK_HAVE_UNDO)) file = int(ReadVarInt(reader, INT_MAX_U));
    if (index.status & BLOCK_HAVE_DATA) index.data_pos = FilePos{file, uint32_t(ReadVarInt(reader, U32))};
    if (index.status & BLOCK_HAVE_UNDO) index.undo_pos = FilePos{file, uint32_t(ReadVarInt(reader, U32))};
    index.header = ReadBlockHeader(reader);
    return index;
}

struct BlockTreeDB::Impl {
    detail::Database db;
    Impl(const std::filesystem::path& path, size_t cache_bytes, bool wipe) : db{path, cache_bytes, wipe} {}
};

BlockTreeDB::BlockTreeDB(const std::filesystem::path& path, size_t cache_bytes, bool wipe)
    : m_impl{std::make_unique<Impl>(path, cache_bytes, wipe)}
{
}

BlockTreeDB::~BlockTreeDB() = default;

void BlockTreeDB::WriteBatchSync(const std::map<int, BlockFileInfo>& files, int last_file,
                                 const std::vector<DiskBlockIndex>& entries)
{
    detail::DBBatch batch;
    std::vector<uint8_t> value;
    for (const auto& [file, info] : files) {
        value.clear();
        Writer writer(value);
        WriteBlockFileInfo(writer, info);
        batch.Put(FileKey(file), value);
    }
    batch.Put(std::string(1, DB_LAST_BLOCK), Int32Bytes(last_file));
    for (const DiskBlockIndex& entry : entries) {
        value.clear();
        Writer writer(value);
        WriteDiskBlockIndex(writer, entry);
        batch.Put(IndexKey(entry.header.GetHash()), value);
    }
    m_impl->db.Write(batch, /*sync=*/true);
}

std::vector<BlockFileInfo> BlockTreeDB::ReadFileInfos() const
{
    std::vector<BlockFileInfo> infos;
    m_impl->db.ForEachPrefix(std::string(1, DB_BLOCK_FILES), [&](std::string_view key, std::string_view value) {
        SpanReader key_reader(Bytes(key));
        key_reader.ReadU8();
        const int32_t file = key_reader.ReadI32();
        if (file < 0 || file > 1'000'000 || !key_reader.Empty()) {
            throw DeserializeError("Corrupt block file info key in the database " + m_impl->db.Path().string());
        }
        SpanReader reader(Bytes(value));
        BlockFileInfo info;
        try {
            info = ReadBlockFileInfo(reader);
            reader.ExpectEnd("block file info");
        } catch (const DeserializeError& e) {
            throw DeserializeError("Corrupt info of block file " + std::to_string(file) + " in the database " +
                                   m_impl->db.Path().string() + ": " + e.what() + "; restart with -reindex");
        }
        if (infos.size() <= size_t(file)) infos.resize(size_t(file) + 1);
        infos[size_t(file)] = info;
        return true;
    });
    return infos;
}

int BlockTreeDB::ReadLastFile() const
{
    auto value = m_impl->db.Read(std::string(1, DB_LAST_BLOCK));
    if (!value) return 0;
    if (value->size() != 4) {
        throw DeserializeError("Corrupt last block file record in the database " + m_impl->db.Path().string());
    }
    SpanReader reader(Bytes(*value));
    const int32_t file = reader.ReadI32();
    if (file < 0)
        throw DeserializeError("Corrupt last block file record in the database " + m_impl->db.Path().string());
    return file;
}

void BlockTreeDB::ForEachIndex(const std::function<void(const uint256& hash, const DiskBlockIndex&)>& fn) const
{
    m_impl->db.ForEachPrefix(std::string(1, DB_BLOCK_INDEX), [&](std::string_view key, std::string_view value) {
        const auto hash = uint256::FromBytes(Bytes(key.substr(1)));
        if (!hash) throw DeserializeError("Corrupt block index key in the database " + m_impl->db.Path().string());
        DiskBlockIndex index;
        try {
            SpanReader reader(Bytes(value));
            index = ReadDiskBlockIndex(reader);
            reader.ExpectEnd("block index record");
        } catch (const DeserializeError& e) {
            throw DeserializeError("Corrupt block index record " + hash->GetHex() + " in the database " +
                                   m_impl->db.Path().string() + ": " + e.what() + "; restart with -reindex");
        }
        fn(*hash, index);
        return true;
    });
}

void BlockTreeDB::EraseIndex(const std::vector<uint256>& hashes)
{
    detail::DBBatch batch;
    for (const uint256& hash : hashes) batch.Delete(IndexKey(hash));
    m_impl->db.Write(batch, /*sync=*/true);
}

void BlockTreeDB::WriteReindexing(bool reindexing)
{
    detail::DBBatch batch;
    if (reindexing) {
        const uint8_t one = '1';
        batch.Put(std::string(1, DB_REINDEX_FLAG), std::span(&one, 1));
    } else {
        batch.Delete(std::string(1, DB_REINDEX_FLAG));
    }
    m_impl->db.Write(batch, /*sync=*/true);
}

bool BlockTreeDB::ReadReindexing() const
{
    return m_impl->db.Exists(std::string(1, DB_REINDEX_FLAG));
}

void BlockTreeDB::WriteFlag(const std::string& name, bool value)
{
    detail::DBBatch batch;
    const uint8_t byte = value ? '1' : '0';
    batch.Put(FlagKey(name), std::span(&byte, 1));
    m_impl->db.Write(batch, /*sync=*/true);
}

std::optional<bool> BlockTreeDB::ReadFlag(const std::string& name) const
{
    auto value = m_impl->db.Read(FlagKey(name));
    if (!value) return std::nullopt;
    return *value == "1";
}

} // namespace orrery::node
