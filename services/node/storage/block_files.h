// Blocks and undo data in append-only files, Core's layout: blocks/blkNNNNN.dat
// and blocks/revNNNNN.dat, each record preceded by the network magic and its
// size, files up to 128 MiB. -reindex rebuilds everything from these files.
//
// Ordering: callers write a block (and its undo) and call Flush() before the
// index entry that points at it is written, so that no index entry ever names
// data that is not on disk.
#ifndef ORRERY_SERVICES_NODE_STORAGE_BLOCK_FILES_H
#define ORRERY_SERVICES_NODE_STORAGE_BLOCK_FILES_H

#include <common/consensus/block.h>
#include <common/consensus/uint256.h>
#include <services/node/storage/undo.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace orrery::node {

inline constexpr uint64_t MAX_BLOCKFILE_SIZE = 128 * 1024 * 1024;

//! Where a record's data starts (after its 8-byte magic+size header) in blkN.dat or revN.dat.
struct FilePos {
    int file{-1};
    uint32_t pos{0};
    bool IsNull() const { return file < 0; }
    friend bool operator==(const FilePos&, const FilePos&) = default;
};

//! Core's CBlockFileInfo: what one blk/rev file pair holds.
struct BlockFileInfo {
    uint32_t blocks{0};
    uint32_t size{0};      //!< bytes used in blkN.dat
    uint32_t undo_size{0}; //!< bytes used in revN.dat
    uint32_t height_first{0};
    uint32_t height_last{0};
    uint64_t time_first{0};
    uint64_t time_last{0};
    //! Records a block at `height` with header time `time`.
    void AddBlock(uint32_t height, uint64_t time);
    friend bool operator==(const BlockFileInfo&, const BlockFileInfo&) = default;
};
//! Core's disk form (VARINTs), for the block index database.
void WriteBlockFileInfo(Writer& writer, const BlockFileInfo& info);
BlockFileInfo ReadBlockFileInfo(SpanReader& reader);

//! A block or undo file that is missing, truncated or does not hold what the index says. The message names the
//! file (full path) and says to restart with -reindex.
class BlockFileError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! A write that failed (disk full, read-only): the message names the file and the system error.
class DiskWriteError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Thread-safe (an internal mutex): RPC threads read while validation appends.
class BlockFiles
{
public:
    //! `blocks_dir` is created if missing. `infos` and `last_file` come from the block index database.
    BlockFiles(std::filesystem::path blocks_dir, std::array<uint8_t, 4> magic, std::vector<BlockFileInfo> infos,
               int last_file, uint64_t max_file_size = MAX_BLOCKFILE_SIZE);

    //! Appends a block (with witness) to the current file, moving to a new file when it would pass the size limit,
    //! and records it in that file's info. Throws DiskWriteError.
    FilePos WriteBlock(const Block& block, int height);
    //! Reads the block at `pos`; throws BlockFileError (naming the file) if the file is missing or the bytes there
    //! do not parse. The caller compares the hash.
    Block ReadBlock(const FilePos& pos) const;
    //! The serialized block at `pos` (with witness).
    std::vector<uint8_t> ReadRawBlock(const FilePos& pos) const;

    //! Appends undo data for a block stored in file `file` to revN.dat, followed by a checksum:
    //! Sha256d(prev_block_hash || record). Throws DiskWriteError.
    FilePos WriteUndo(const BlockUndo& undo, const uint256& prev_block_hash, int file);
    //! Reads and checks undo data; throws BlockFileError on a missing file, bad checksum or bad record.
    BlockUndo ReadUndo(const FilePos& pos, const uint256& prev_block_hash) const;

    //! Fsyncs the files written since the last call (and the directory when a file was created). Throws
    //! DiskWriteError.
    void Flush();
    //! The files whose info changed since the last call (for the next block index write); clears the set.
    std::set<int> TakeDirtyFiles();
    BlockFileInfo Info(int file) const;
    int LastFile() const;
    //! Bytes in every blk and rev file (getblockchaininfo's size_on_disk, -prune).
    uint64_t TotalSize() const;
    //! Deletes blkN.dat and revN.dat of each file and zeroes its info (pruning).
    void DeleteFiles(const std::set<int>& files);

    //! For -reindex: calls `fn` with every block record found in blkN.dat, in file order, scanning for the magic
    //! (a torn record at the end is skipped). When `fn` throws DeserializeError for a record, the scan resumes one
    //! byte after its magic, as ScanBlockStream does. Returns false when the file does not exist.
    bool ScanFile(int file, const std::function<void(const FilePos&, std::span<const uint8_t> raw)>& fn) const;
    std::filesystem::path BlockFilePath(int file) const;
    std::filesystem::path UndoFilePath(int file) const;
    //! For -reindex: records in the file infos a block that ScanFile found at `pos` (`size` bytes), as if it had
    //! been written there, so that later blocks are appended after it.
    void AddScannedBlock(const FilePos& pos, uint32_t size, int height, uint64_t time);

private:
    mutable std::mutex m_mutex;
    std::filesystem::path m_dir;
    std::array<uint8_t, 4> m_magic;
    std::vector<BlockFileInfo> m_infos;
    int m_last_file{0};
    uint64_t m_max_file_size;
    std::set<int> m_dirty_files;
    std::set<std::filesystem::path> m_unsynced;
    bool m_dir_unsynced{false};
};

//! -loadblock: calls `fn` with every block in a file of serialized blocks (magic and size before each, as blkN.dat
//! files are), skipping bytes until the next magic where a record does not parse. A record "does not parse" when
//! its size is out of range, it runs past the end of the file, or `fn` throws DeserializeError for it: the scan
//! then resumes one byte after that record's magic. Throws BlockFileError when the file cannot be read.
void ScanBlockStream(const std::filesystem::path& path, std::array<uint8_t, 4> magic,
                     const std::function<void(std::span<const uint8_t> raw)>& fn);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_STORAGE_BLOCK_FILES_H
