// Block and undo files: appending records (magic, size, data; undo records
// also a checksum), reading them back with every size checked against the
// file before anything is allocated, fsync of files and folder, pruning, and
// the tolerant scan -reindex and -loadblock use.
#include <services/node/storage/block_files.h>

#include <common/consensus/consensus.h>
#include <common/crypto/hash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace orrery::node {

namespace {

constexpr size_t HEADER_SIZE = 8;
constexpr size_t CHECKSUM_SIZE = 32;
//! No undo record is larger (a block spending ~100,000 outputs of the largest scripts would stay far below).
constexpr uint64_t MAX_UNDO_RECORD_SIZE = 512ULL << 20;
constexpr size_t SCAN_CHUNK = 8 << 20;

const char* REINDEX_HINT = "; restart with -reindex to rebuild the block index and chainstate from the block files";

std::string SystemError(int err)
{
    return std::strerror(err);
}

//! An open file descriptor, closed at the end of the scope.
class Fd
{
public:
    explicit Fd(int fd) : m_fd{fd} {}
    ~Fd()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }

private:
    int m_fd;
};

void WriteAt(const std::filesystem::path& path, std::span<const uint8_t> data, uint64_t offset)
{
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
    if (!fd.valid()) throw DiskWriteError("Cannot open " + path.string() + " for writing: " + SystemError(errno));
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done, off_t(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw DiskWriteError("Cannot write to " + path.string() + ": " + SystemError(errno));
        }
        if (n == 0) throw DiskWriteError("Cannot write to " + path.string() + ": no progress");
        done += size_t(n);
    }
}

//! Reads exactly `out.size()` bytes at `offset`; false at the end of the file.
bool ReadAt(int fd, const std::filesystem::path& path, std::span<uint8_t> out, uint64_t offset)
{
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, off_t(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw BlockFileError("Cannot read " + path.string() + ": " + SystemError(errno) + REINDEX_HINT);
        }
        if (n == 0) return false;
        done += size_t(n);
    }
    return true;
}

std::array<uint8_t, HEADER_SIZE> RecordHeader(const std::array<uint8_t, 4>& magic, uint32_t size)
{
    std::array<uint8_t, HEADER_SIZE> header{};
    std::copy(magic.begin(), magic.end(), header.begin());
    for (int i = 0; i < 4; ++i) header[4 + i] = uint8_t(size >> (8 * i));
    return header;
}

//! Reads the record whose data starts at `pos` in `path`: checks the magic and the size (against `max_size` and
//! the file's length, `trailer` more bytes must follow) before allocating. Returns data and trailer.
std::vector<uint8_t> ReadRecord(const std::filesystem::path& path, const std::array<uint8_t, 4>& magic, uint32_t pos,
                                uint64_t max_size, size_t trailer, const char* what)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            throw BlockFileError(std::string(what) + " file " + path.string() + " is missing" + REINDEX_HINT);
        }
        throw BlockFileError("Cannot open " + path.string() + ": " + SystemError(errno) + REINDEX_HINT);
    }
    struct stat st {
    };
    if (::fstat(fd.get(), &st) != 0) {
        throw BlockFileError("Cannot read " + path.string() + ": " + SystemError(errno) + REINDEX_HINT);
    }
    const uint64_t file_size = uint64_t(st.st_size);
    const std::string where = " at position " + std::to_string(pos) + " of " + path.string();
    if (pos < HEADER_SIZE || pos > file_size) {
        throw BlockFileError(std::string(what) + " file " + path.string() + " is truncated: it has " +
                             std::to_string(file_size) + " bytes but a record starts at position " +
                             std::to_string(pos) + REINDEX_HINT);
    }
    std::array<uint8_t, HEADER_SIZE> header{};
    if (!ReadAt(fd.get(), path, header, pos - HEADER_SIZE)) {
        throw BlockFileError(std::string(what) + " file " + path.string() + " is truncated" + where + REINDEX_HINT);
    }
    if (!std::equal(magic.begin(), magic.end(), header.begin())) {
        throw BlockFileError("No " + std::string(what) + " record (wrong network magic)" + where + REINDEX_HINT);
    }
    uint64_t size = 0;
    for (int i = 3; i >= 0; --i) size = (size << 8) | header[4 + i];
    if (size > max_size) {
        throw BlockFileError(std::string(what) + " record of " + std::to_string(size) + " bytes exceeds the limit of " +
                             std::to_string(max_size) + where + REINDEX_HINT);
    }
    if (uint64_t{pos} + size + trailer > file_size) {
        throw BlockFileError(std::string(what) + " file " + path.string() + " is truncated: the record at position " +
                             std::to_string(pos) + " needs " + std::to_string(size + trailer) +
                             " bytes but the file ends at " + std::to_string(file_size) + REINDEX_HINT);
    }
    std::vector<uint8_t> data(size + trailer);
    if (!ReadAt(fd.get(), path, data, pos)) {
        throw BlockFileError(std::string(what) + " file " + path.string() + " is truncated" + where + REINDEX_HINT);
    }
    return data;
}

void SyncPath(const std::filesystem::path& path, bool directory)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0)));
    if (!fd.valid()) {
        if (errno == ENOENT) return; // pruned since it was written
        throw DiskWriteError("Cannot open " + path.string() + " to sync it: " + SystemError(errno));
    }
    if (::fsync(fd.get()) != 0 && !(directory && errno == EINVAL)) {
        throw DiskWriteError("Cannot sync " + path.string() + " to disk: " + SystemError(errno));
    }
}

//! Scans a file for records: magic, a size in the block range, and that many bytes, which `fn` may reject by
//! throwing DeserializeError. Reads in chunks so that a -loadblock file of any size takes bounded memory.
void ScanRecords(const std::filesystem::path& path, const std::array<uint8_t, 4>& magic, int fd,
                 const std::function<void(uint64_t pos, std::span<const uint8_t> raw)>& fn)
{
    std::vector<uint8_t> buf;
    uint64_t buf_start = 0;
    bool buf_eof = false;
    // Makes `buf` cover [off, off + n) if the file has those bytes; false otherwise.
    auto window = [&](uint64_t off, size_t n) {
        if (off >= buf_start && off + n <= buf_start + buf.size()) return true;
        const size_t want = std::max(n, SCAN_CHUNK);
        buf.resize(want);
        size_t got = 0;
        while (got < want) {
            const ssize_t r = ::pread(fd, buf.data() + got, want - got, off_t(off + got));
            if (r < 0) {
                if (errno == EINTR) continue;
                throw BlockFileError("Cannot read " + path.string() + ": " + SystemError(errno));
            }
            if (r == 0) break;
            got += size_t(r);
        }
        buf.resize(got);
        buf_start = off;
        buf_eof = got < want;
        return got >= n;
    };
    uint64_t off = 0;
    while (true) {
        if (!window(off, HEADER_SIZE)) return;
        const auto begin = buf.begin() + std::ptrdiff_t(off - buf_start);
        const auto found = std::search(begin, buf.end(), magic.begin(), magic.end());
        if (found == buf.end()) {
            if (buf_eof) return;
            off = std::max(off + 1, buf_start + buf.size() - (magic.size() - 1));
            continue;
        }
        const uint64_t magic_at = buf_start + uint64_t(found - buf.begin());
        if (!window(magic_at, HEADER_SIZE)) return;
        const uint8_t* h = buf.data() + (magic_at - buf_start) + 4;
        const uint32_t size = uint32_t(h[0]) | uint32_t(h[1]) << 8 | uint32_t(h[2]) << 16 | uint32_t(h[3]) << 24;
        if (size < BlockHeader::kSize || size > MAX_BLOCK_SERIALIZED_SIZE || !window(magic_at + HEADER_SIZE, size)) {
            off = magic_at + 1;
            continue;
        }
        const std::span<const uint8_t> raw(buf.data() + (magic_at + HEADER_SIZE - buf_start), size);
        try {
            fn(magic_at + HEADER_SIZE, raw);
            off = magic_at + HEADER_SIZE + size;
        } catch (const DeserializeError&) {
            off = magic_at + 1;
        }
    }
}

} // namespace

void BlockFileInfo::AddBlock(uint32_t height, uint64_t time)
{
    if (blocks == 0 || height_first > height) height_first = height;
    if (blocks == 0 || time_first > time) time_first = time;
    ++blocks;
    if (height > height_last) height_last = height;
    if (time > time_last) time_last = time;
}

void WriteBlockFileInfo(Writer& writer, const BlockFileInfo& info)
{
    WriteVarInt(writer, info.blocks);
    WriteVarInt(writer, info.size);
    WriteVarInt(writer, info.undo_size);
    WriteVarInt(writer, info.height_first);
    WriteVarInt(writer, info.height_last);
    WriteVarInt(writer, info.time_first);
    WriteVarInt(writer, info.time_last);
}

BlockFileInfo ReadBlockFileInfo(SpanReader& reader)
{
    constexpr uint64_t U32 = 0xffffffff;
    BlockFileInfo info;
    info.blocks = uint32_t(ReadVarInt(reader, U32));
    info.size = uint32_t(ReadVarInt(reader, U32));
    info.undo_size = uint32_t(ReadVarInt(reader, U32));
    info.height_first = uint32_t(ReadVarInt(reader, U32));
    info.height_last = uint32_t(ReadVarInt(reader, U32));
    info.time_first = ReadVarInt(reader);
    info.time_last = ReadVarInt(reader);
    return info;
}

BlockFiles::BlockFiles(std::filesystem::path blocks_dir, std::array<uint8_t, 4> magic, std::vector<BlockFileInfo> infos,
                       int last_file, uint64_t max_file_size)
    : m_dir{std::move(blocks_dir)}, m_magic{magic}, m_infos{std::move(infos)}, m_last_file{std::max(last_file, 0)},
      m_max_file_size{max_file_size}
{
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
    if (ec) throw DiskWriteError("Cannot create the blocks folder " + m_dir.string() + ": " + ec.message());
    if (m_infos.size() <= size_t(m_last_file)) m_infos.resize(size_t(m_last_file) + 1);
}

std::filesystem::path BlockFiles::BlockFilePath(int file) const
{
    char name[32];
    std::snprintf(name, sizeof(name), "blk%05d.dat", file);
    return m_dir / name;
}

std::filesystem::path BlockFiles::UndoFilePath(int file) const
{
    char name[32];
    std::snprintf(name, sizeof(name), "rev%05d.dat", file);
    return m_dir / name;
}

FilePos BlockFiles::WriteBlock(const Block& block, int height)
{
    std::vector<uint8_t> record(HEADER_SIZE);
    Writer writer(record);
    orrery::WriteBlock(writer, block);
    const uint32_t size = uint32_t(record.size() - HEADER_SIZE);
    const auto header = RecordHeader(m_magic, size);
    std::copy(header.begin(), header.end(), record.begin());

    std::lock_guard lock(m_mutex);
    if (m_infos[size_t(m_last_file)].size > 0 && m_infos[size_t(m_last_file)].size + record.size() >= m_max_file_size) {
        ++m_last_file;
        if (m_infos.size() <= size_t(m_last_file)) m_infos.resize(size_t(m_last_file) + 1);
    }
    BlockFileInfo& info = m_infos[size_t(m_last_file)];
    const std::filesystem::path path = BlockFilePath(m_last_file);
    if (info.size == 0) m_dir_unsynced = true;
    WriteAt(path, record, info.size);
    const FilePos pos{m_last_file, uint32_t(info.size + HEADER_SIZE)};
    info.size += uint32_t(record.size());
    info.AddBlock(uint32_t(height), block.time);
    m_dirty_files.insert(m_last_file);
    m_unsynced.insert(path);
    return pos;
}

std::vector<uint8_t> BlockFiles::ReadRawBlock(const FilePos& pos) const
{
    if (pos.IsNull()) throw BlockFileError("No block data recorded for this block" + std::string(REINDEX_HINT));
    return ReadRecord(BlockFilePath(pos.file), m_magic, pos.pos, MAX_BLOCK_SERIALIZED_SIZE, 0, "Block");
}

Block BlockFiles::ReadBlock(const FilePos& pos) const
{
    const std::vector<uint8_t> raw = ReadRawBlock(pos);
    try {
        return DeserializeBlock(raw);
    } catch (const DeserializeError& e) {
        throw BlockFileError("Corrupt block at position " + std::to_string(pos.pos) + " of " +
                             BlockFilePath(pos.file).string() + ": " + e.what() + REINDEX_HINT);
    }
}

FilePos BlockFiles::WriteUndo(const BlockUndo& undo, const uint256& prev_block_hash, int file)
{
    if (file < 0) throw std::logic_error("WriteUndo: no block file");
    const std::vector<uint8_t> data = SerializeBlockUndo(undo);
    crypto::Sha256Hasher hasher;
    hasher.Write(prev_block_hash);
    hasher.Write(data);
    const crypto::Hash32 checksum = hasher.FinalizeDouble();
    std::vector<uint8_t> record;
    record.reserve(HEADER_SIZE + data.size() + CHECKSUM_SIZE);
    const auto header = RecordHeader(m_magic, uint32_t(data.size()));
    record.insert(record.end(), header.begin(), header.end());
    record.insert(record.end(), data.begin(), data.end());
    record.insert(record.end(), checksum.begin(), checksum.end());

    std::lock_guard lock(m_mutex);
    if (m_infos.size() <= size_t(file)) m_infos.resize(size_t(file) + 1);
    BlockFileInfo& info = m_infos[size_t(file)];
    const std::filesystem::path path = UndoFilePath(file);
    if (info.undo_size == 0) m_dir_unsynced = true;
    WriteAt(path, record, info.undo_size);
    const FilePos pos{file, uint32_t(info.undo_size + HEADER_SIZE)};
    info.undo_size += uint32_t(record.size());
    m_dirty_files.insert(file);
    m_unsynced.insert(path);
    return pos;
}

BlockUndo BlockFiles::ReadUndo(const FilePos& pos, const uint256& prev_block_hash) const
{
    if (pos.IsNull()) throw BlockFileError("No undo data recorded for this block" + std::string(REINDEX_HINT));
    const std::filesystem::path path = UndoFilePath(pos.file);
    const std::vector<uint8_t> record = ReadRecord(path, m_magic, pos.pos, MAX_UNDO_RECORD_SIZE, CHECKSUM_SIZE, "Undo");
    const std::span<const uint8_t> data = std::span(record).first(record.size() - CHECKSUM_SIZE);
    crypto::Sha256Hasher hasher;
    hasher.Write(prev_block_hash);
    hasher.Write(data);
    const crypto::Hash32 checksum = hasher.FinalizeDouble();
    if (!std::equal(checksum.begin(), checksum.end(), record.end() - CHECKSUM_SIZE)) {
        throw BlockFileError("Undo data checksum mismatch at position " + std::to_string(pos.pos) + " of " +
                             path.string() + REINDEX_HINT);
    }
    try {
        return DeserializeBlockUndo(data);
    } catch (const DeserializeError& e) {
        throw BlockFileError("Corrupt undo data at position " + std::to_string(pos.pos) + " of " + path.string() +
                             ": " + e.what() + REINDEX_HINT);
    }
}

void BlockFiles::Flush()
{
    std::lock_guard lock(m_mutex);
    for (auto it = m_unsynced.begin(); it != m_unsynced.end();) {
        SyncPath(*it, /*directory=*/false);
        it = m_unsynced.erase(it);
    }
    if (m_dir_unsynced) {
        SyncPath(m_dir, /*directory=*/true);
        m_dir_unsynced = false;
    }
}

std::set<int> BlockFiles::TakeDirtyFiles()
{
    std::lock_guard lock(m_mutex);
    return std::exchange(m_dirty_files, {});
}

BlockFileInfo BlockFiles::Info(int file) const
{
    std::lock_guard lock(m_mutex);
    if (file < 0 || size_t(file) >= m_infos.size()) return {};
    return m_infos[size_t(file)];
}

int BlockFiles::LastFile() const
{
    std::lock_guard lock(m_mutex);
    return m_last_file;
}

uint64_t BlockFiles::TotalSize() const
{
    std::lock_guard lock(m_mutex);
    uint64_t total = 0;
    for (const BlockFileInfo& info : m_infos) total += uint64_t{info.size} + info.undo_size;
    return total;
}

void BlockFiles::DeleteFiles(const std::set<int>& files)
{
    std::lock_guard lock(m_mutex);
    for (int file : files) {
        if (file < 0 || size_t(file) >= m_infos.size()) continue;
        for (const auto& path : {BlockFilePath(file), UndoFilePath(file)}) {
            std::error_code ec;
            std::filesystem::remove(path, ec);
            if (ec) throw DiskWriteError("Cannot delete " + path.string() + ": " + ec.message());
            m_unsynced.erase(path);
        }
        m_infos[size_t(file)] = BlockFileInfo{};
        m_dirty_files.insert(file);
    }
    m_dir_unsynced = true;
}

void BlockFiles::AddScannedBlock(const FilePos& pos, uint32_t size, int height, uint64_t time)
{
    std::lock_guard lock(m_mutex);
    if (pos.file < 0) return;
    if (m_infos.size() <= size_t(pos.file)) m_infos.resize(size_t(pos.file) + 1);
    BlockFileInfo& info = m_infos[size_t(pos.file)];
    info.AddBlock(uint32_t(height), time);
    info.size = std::max<uint32_t>(info.size, pos.pos + size);
    m_last_file = std::max(m_last_file, pos.file);
    m_dirty_files.insert(pos.file);
}

bool BlockFiles::ScanFile(int file, const std::function<void(const FilePos&, std::span<const uint8_t> raw)>& fn) const
{
    const std::filesystem::path path = BlockFilePath(file);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) return false;
        throw BlockFileError("Cannot open " + path.string() + ": " + SystemError(errno));
    }
    ScanRecords(path, m_magic, fd.get(), [&](uint64_t pos, std::span<const uint8_t> raw) {
        fn(FilePos{file, uint32_t(pos)}, raw);
    });
    return true;
}

void ScanBlockStream(const std::filesystem::path& path, std::array<uint8_t, 4> magic,
                     const std::function<void(std::span<const uint8_t> raw)>& fn)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw BlockFileError("Cannot open " + path.string() + ": " + SystemError(errno));
    ScanRecords(path, magic, fd.get(), [&](uint64_t, std::span<const uint8_t> raw) { fn(raw); });
}

} // namespace orrery::node
