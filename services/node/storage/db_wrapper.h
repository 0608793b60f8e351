// Private to the storage library: a thin LevelDB wrapper shared by the coins
// database, the block index and the transaction index. Every failure throws
// with the database's path in the message (std::runtime_error when reading or
// opening, DiskWriteError when a write fails), so callers never see a status.
#ifndef ORRERY_SERVICES_NODE_STORAGE_DB_WRAPPER_H
#define ORRERY_SERVICES_NODE_STORAGE_DB_WRAPPER_H

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace leveldb {
class DB;
class WriteBatch;
class Cache;
class FilterPolicy;
class Env;
} // namespace leveldb

namespace orrery::node::detail {

//! Collects puts and deletes for one atomic LevelDB write.
class DBBatch
{
public:
    DBBatch();
    ~DBBatch();
    void Put(std::string_view key, std::span<const uint8_t> value);
    void Delete(std::string_view key);
    //! LevelDB's own estimate of the batch's size in bytes.
    size_t ApproximateSize() const;
    void Clear();
    leveldb::WriteBatch& Raw() { return *m_batch; }

private:
    std::unique_ptr<leveldb::WriteBatch> m_batch;
};

class Database
{
public:
    //! Opens (creating) the database at `path`; `wipe` destroys it first. `cache_bytes` is split between
    //! LevelDB's block cache and its write buffer, as Core splits it.
    Database(std::filesystem::path path, size_t cache_bytes, bool wipe);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    std::optional<std::string> Read(std::string_view key) const;
    bool Exists(std::string_view key) const;
    //! Applies the batch atomically; `sync` waits until LevelDB's log is on disk.
    void Write(DBBatch& batch, bool sync);
    //! Visits every key starting with `prefix`, in key order, from one snapshot; stops when `fn` returns false.
    void ForEachPrefix(std::string_view prefix,
                       const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
    //! Bytes LevelDB estimates the whole key range takes on disk.
    uint64_t EstimateSize() const;
    const std::filesystem::path& Path() const { return m_path; }

private:
    std::filesystem::path m_path;
    std::unique_ptr<const leveldb::FilterPolicy> m_filter;
    std::unique_ptr<leveldb::Cache> m_cache;
    std::unique_ptr<leveldb::DB> m_db;
};

} // namespace orrery::node::detail

#endif // ORRERY_SERVICES_NODE_STORAGE_DB_WRAPPER_H
