// The block index in LevelDB (<datadir>/<net>/blocks/index/): one record per known
// header, the block file infos, the last file number and a few flags, in
// Core's keys ('b' + hash, 'f' + file, 'l', 'R', 'F' + name).
#ifndef ORRERY_SERVICES_NODE_STORAGE_BLOCK_TREE_DB_H
#define ORRERY_SERVICES_NODE_STORAGE_BLOCK_TREE_DB_H

#include <common/consensus/block.h>
#include <services/node/storage/block_files.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orrery::node {

//! One header and what the node knows of its block (Core's CDiskBlockIndex).
struct DiskBlockIndex {
    BlockHeader header;
    int height{0};
    uint32_t status{0}; //!< BlockStatus bits (validation/block_index.h)
    uint32_t n_tx{0};
    FilePos data_pos; //!< valid when status has HAVE_DATA
    FilePos undo_pos; //!< valid when status has HAVE_UNDO
    friend bool operator==(const DiskBlockIndex&, const DiskBlockIndex&) = default;
};
//! Core's disk form: VARINTs for the client version, height, status, tx count, file and positions (those present
//! by status), then the 80-byte header. Throws DeserializeError.
void WriteDiskBlockIndex(Writer& writer, const DiskBlockIndex& index);
DiskBlockIndex ReadDiskBlockIndex(SpanReader& reader);

class BlockTreeDB
{
public:
    //! Throws std::runtime_error naming the path when the database cannot be opened.
    BlockTreeDB(const std::filesystem::path& path, size_t cache_bytes, bool wipe);
    ~BlockTreeDB();

    //! One synchronous (fsynced) batch: the changed file infos, the last file, the changed index entries.
    void WriteBatchSync(const std::map<int, BlockFileInfo>& files, int last_file,
                        const std::vector<DiskBlockIndex>& entries);
    //! Every file info (index = file number) and the last file; empty / 0 for a new database.
    std::vector<BlockFileInfo> ReadFileInfos() const;
    int ReadLastFile() const;
    //! Calls `fn` for every stored index record; throws DeserializeError (with the key) on a corrupt record.
    void ForEachIndex(const std::function<void(const uint256& hash, const DiskBlockIndex&)>& fn) const;
    //! Removes index entries (a -reindex starts empty instead; this is for tests and repair).
    void EraseIndex(const std::vector<uint256>& hashes);

    void WriteReindexing(bool reindexing);
    bool ReadReindexing() const;
    //! Named flags: "txindex", "prunedblockfiles".
    void WriteFlag(const std::string& name, bool value);
    std::optional<bool> ReadFlag(const std::string& name) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_STORAGE_BLOCK_TREE_DB_H
