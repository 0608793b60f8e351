// LevelDB behind the storage library's small interface (see db_wrapper.h).
#include <services/node/storage/db_wrapper.h>

#include <services/node/storage/block_files.h>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <system_error>

namespace orrery::node::detail {

namespace {

leveldb::Slice ToSlice(std::string_view s)
{
    return {s.data(), s.size()};
}

} // namespace

DBBatch::DBBatch() : m_batch{std::make_unique<leveldb::WriteBatch>()} {}
DBBatch::~DBBatch() = default;

void DBBatch::Put(std::string_view key, std::span<const uint8_t> value)
{
    m_batch->Put(ToSlice(key), leveldb::Slice(reinterpret_cast<const char*>(value.data()), value.size()));
}

void DBBatch::Delete(std::string_view key)
{
    m_batch->Delete(ToSlice(key));
}

size_t DBBatch::ApproximateSize() const
{
    return m_batch->ApproximateSize();
}

void DBBatch::Clear()
{
    m_batch->Clear();
}

Database::Database(std::filesystem::path path, size_t cache_bytes, bool wipe) : m_path{std::move(path)}
{
    leveldb::Options options;
    m_cache.reset(leveldb::NewLRUCache(std::max<size_t>(cache_bytes / 2, 1 << 20)));
    m_filter.reset(leveldb::NewBloomFilterPolicy(10));
    options.block_cache = m_cache.get();
    options.filter_policy = m_filter.get();
    options.write_buffer_size = std::max<size_t>(cache_bytes / 4, 1 << 20);
    options.compression = leveldb::kNoCompression;
    options.max_open_files = 64;
    options.create_if_missing = true;
    options.paranoid_checks = true;
    if (wipe) {
        const leveldb::Status status = leveldb::DestroyDB(m_path.string(), options);
        if (!status.ok()) {
            throw std::runtime_error("Cannot wipe the database " + m_path.string() + ": " + status.ToString());
        }
    }
    std::error_code ec;
    std::filesystem::create_directories(m_path, ec);
    if (ec) throw DiskWriteError("Cannot create the database folder " + m_path.string() + ": " + ec.message());
    leveldb::DB* db = nullptr;
    const leveldb::Status status = leveldb::DB::Open(options, m_path.string(), &db);
    if (!status.ok()) {
        throw std::runtime_error("Cannot open the database " + m_path.string() + ": " + status.ToString() +
                                 (status.IsCorruption() ? " (restart with -reindex to rebuild it)" : ""));
    }
    m_db.reset(db);
}

Database::~Database()
{
    // The database holds raw pointers to the cache and the filter: close it first.
    m_db.reset();
}

std::optional<std::string> Database::Read(std::string_view key) const
{
    std::string value;
    const leveldb::Status status = m_db->Get(leveldb::ReadOptions(), ToSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    if (!status.ok())
        throw std::runtime_error("Cannot read the database " + m_path.string() + ": " + status.ToString());
    return value;
}

bool Database::Exists(std::string_view key) const
{
    return Read(key).has_value();
}

void Database::Write(DBBatch& batch, bool sync)
{
    leveldb::WriteOptions options;
    options.sync = sync;
    const leveldb::Status status = m_db->Write(options, &batch.Raw());
    if (!status.ok())
        throw DiskWriteError("Cannot write to the database " + m_path.string() + ": " + status.ToString());
}

void Database::ForEachPrefix(std::string_view prefix,
                             const std::function<bool(std::string_view key, std::string_view value)>& fn) const
{
    leveldb::ReadOptions options;
    options.fill_cache = false;
    const leveldb::Snapshot* snapshot = m_db->GetSnapshot();
    options.snapshot = snapshot;
    struct Release {
        leveldb::DB* db;
        const leveldb::Snapshot* snapshot;
        ~Release() { db->ReleaseSnapshot(snapshot); }
    } release{m_db.get(), snapshot};
    std::unique_ptr<leveldb::Iterator> it(m_db->NewIterator(options));
    for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
        const leveldb::Slice key = it->key();
        if (key.size() < prefix.size() || std::string_view(key.data(), prefix.size()) != prefix) break;
        const leveldb::Slice value = it->value();
        if (!fn(std::string_view(key.data(), key.size()), std::string_view(value.data(), value.size()))) break;
    }
    if (!it->status().ok()) {
        throw std::runtime_error("Cannot read the database " + m_path.string() + ": " + it->status().ToString());
    }
}

uint64_t Database::EstimateSize() const
{
    const std::string begin(1, '\0');
    const std::string end(64, '\xff');
    leveldb::Range range(begin, end);
    uint64_t size = 0;
    m_db->GetApproximateSizes(&range, 1, &size);
    return size;
}

} // namespace orrery::node::detail
