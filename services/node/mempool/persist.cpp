// mempool.dat: the format (see persist.h), and the mempool's Dump and Load.
#include <services/node/mempool/persist.h>

#include <services/node/mempool/mempool.h>

#include <common/consensus/serialize.h>
#include <common/util/logging.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

namespace orrery::node {

namespace {

void XorFrom(std::vector<uint8_t>& data, size_t start, const std::vector<uint8_t>& key)
{
    if (key.empty()) return;
    for (size_t pos = start; pos < data.size(); ++pos) data[pos] ^= key[pos % key.size()];
}

void WriteHash(Writer& writer, const uint256& hash)
{
    writer.WriteBytes(std::span<const uint8_t>(hash.begin(), hash.end()));
}

uint256 ReadHash(SpanReader& reader)
{
    uint256 hash;
    reader.ReadInto(std::span<uint8_t>(hash.begin(), hash.end()), "txid");
    return hash;
}

} // namespace

std::vector<uint8_t> SerializeMempoolDump(const MempoolDump& dump)
{
    std::vector<uint8_t> out;
    Writer writer(out);
    writer.WriteU64(dump.version);
    size_t body = out.size();
    if (dump.version == MEMPOOL_DUMP_VERSION) {
        if (dump.xor_key.size() != 8) throw std::invalid_argument("mempool.dat version 2 needs an 8-byte key");
        writer.WriteByteVector(dump.xor_key);
        body = out.size();
    }
    writer.WriteU64(dump.txs.size());
    for (const auto& entry : dump.txs) {
        WriteTransaction(writer, entry.tx, true);
        writer.WriteI64(entry.time);
        writer.WriteI64(entry.fee_delta);
    }
    writer.WriteCompactSize(dump.deltas.size());
    for (const auto& [txid, delta] : dump.deltas) {
        WriteHash(writer, txid);
        writer.WriteI64(delta);
    }
    writer.WriteCompactSize(dump.unbroadcast.size());
    for (const uint256& txid : dump.unbroadcast) WriteHash(writer, txid);
    if (dump.version == MEMPOOL_DUMP_VERSION) XorFrom(out, body, dump.xor_key);
    return out;
}

MempoolDump ParseMempoolDump(std::span<const uint8_t> data)
{
    MempoolDump dump;
    std::vector<uint8_t> plain(data.begin(), data.end());
    {
        SpanReader header(plain);
        dump.version = header.ReadU64();
        if (dump.version == MEMPOOL_DUMP_VERSION) {
            dump.xor_key = header.ReadByteVector("xor key");
            if (dump.xor_key.size() != 8) throw DeserializeError("mempool.dat: the XOR key is not 8 bytes");
        } else if (dump.version != MEMPOOL_DUMP_VERSION_NO_XOR_KEY) {
            throw std::runtime_error("mempool.dat: unknown version " + std::to_string(dump.version));
        }
        XorFrom(plain, header.Position(), dump.xor_key);
    }
    SpanReader reader(plain);
    reader.ReadU64();
    if (dump.version == MEMPOOL_DUMP_VERSION) reader.ReadByteVector("xor key");
    const uint64_t count = reader.ReadU64();
    // Each entry takes at least a minimal transaction (10 bytes) and two 8-byte fields.
    if (count > reader.Remaining() / 26) throw DeserializeError("mempool.dat: more transactions than bytes");
    dump.txs.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
        MempoolDump::Entry entry;
        entry.tx = ReadTransaction(reader, true);
        entry.time = reader.ReadI64();
        entry.fee_delta = reader.ReadI64();
        dump.txs.push_back(std::move(entry));
    }
    const size_t deltas = reader.ReadCount(40, "fee deltas");
    for (size_t i = 0; i < deltas; ++i) {
        const uint256 txid = ReadHash(reader);
        dump.deltas[txid] = reader.ReadI64();
    }
    const size_t unbroadcast = reader.ReadCount(32, "unbroadcast txids");
    for (size_t i = 0; i < unbroadcast; ++i) dump.unbroadcast.insert(ReadHash(reader));
    reader.ExpectEnd("mempool.dat");
    return dump;
}

// ---------------------------------------------------------------- Mempool

bool Mempool::Dump()
{
    if (m_options.data_dir.empty()) return false;
    MempoolDump dump;
    dump.version = m_options.persist_v1 ? MEMPOOL_DUMP_VERSION_NO_XOR_KEY : MEMPOOL_DUMP_VERSION;
    if (dump.version == MEMPOOL_DUMP_VERSION) {
        std::random_device random;
        dump.xor_key.resize(8);
        for (auto& byte : dump.xor_key) byte = static_cast<uint8_t>(random());
    }
    {
        std::lock_guard lock(m_mutex);
        std::vector<const MempoolEntry*> entries;
        for (const auto& [txid, entry] : m_entries) entries.push_back(&entry);
        std::sort(entries.begin(), entries.end(),
                  [](const MempoolEntry* a, const MempoolEntry* b) { return a->entry_sequence < b->entry_sequence; });
        for (const MempoolEntry* entry : entries) dump.txs.push_back({*entry->tx, entry->time, entry->fee_delta});
        for (const auto& [txid, delta] : m_deltas) {
            if (!m_entries.count(txid)) dump.deltas[txid] = delta;
        }
        dump.unbroadcast = m_unbroadcast;
    }
    const std::vector<uint8_t> bytes = SerializeMempoolDump(dump);
    const std::filesystem::path path = DumpPath();
    const std::filesystem::path temp = path.string() + ".new";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        LogPrintf("Failed to dump mempool: {}: {}", temp.string(), std::strerror(errno));
        return false;
    }
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        written += static_cast<size_t>(n);
    }
    const bool ok = written == bytes.size() && ::fsync(fd) == 0;
    ::close(fd);
    std::error_code ec;
    if (!ok) {
        LogPrintf("Failed to dump mempool: writing {} failed", temp.string());
        std::filesystem::remove(temp, ec);
        return false;
    }
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        LogPrintf("Failed to dump mempool: {}", ec.message());
        return false;
    }
    LogPrintf("Dumped mempool: {} transactions to {} (version {})", dump.txs.size(), path.string(), dump.version);
    return true;
}

size_t Mempool::Load()
{
    size_t accepted = 0;
    const std::filesystem::path path = DumpPath();
    std::error_code ec;
    if (m_options.data_dir.empty() || !m_options.persist || !std::filesystem::exists(path, ec)) {
        m_loaded = true;
        return 0;
    }
    std::vector<uint8_t> bytes;
    {
        std::ifstream file(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    MempoolDump dump;
    try {
        dump = ParseMempoolDump(bytes);
    } catch (const std::exception& e) {
        LogPrintf("Failed to deserialize mempool data on file: {}. Continuing anyway.", e.what());
        m_loaded = true;
        return 0;
    }
    const int64_t cutoff = Now() - m_options.expiry.count();
    size_t failed = 0;
    size_t expired = 0;
    size_t already = 0;
    for (const auto& entry : dump.txs) {
        if (entry.fee_delta != 0) PrioritiseTransaction(entry.tx.GetTxid(), entry.fee_delta);
        if (entry.time <= cutoff) {
            ++expired;
            continue;
        }
        auto [chain_lock, lock] = LockSynced();
        const AcceptResult result = AcceptWithTimeLocked(entry.tx, entry.time);
        if (result.accepted) {
            ++accepted;
        } else if (result.failure == AcceptResult::Failure::IN_MEMPOOL) {
            ++already;
        } else {
            ++failed;
        }
    }
    for (const auto& [txid, delta] : dump.deltas) PrioritiseTransaction(txid, delta);
    {
        std::lock_guard lock(m_mutex);
        for (const uint256& txid : dump.unbroadcast) {
            if (m_entries.count(txid)) m_unbroadcast.insert(txid);
        }
    }
    LogPrintf("Imported mempool transactions from disk: {} succeeded, {} failed, {} expired, {} already there, "
              "{} waiting for initial broadcast",
              accepted, failed, expired, already, dump.unbroadcast.size());
    m_loaded = true;
    return accepted;
}

} // namespace orrery::node
