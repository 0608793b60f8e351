// BIP152 compact blocks; see compact_blocks.h.
#include <common/p2p/compact_blocks.h>

#include <common/consensus/check.h>
#include <common/crypto/hash.h>

#include <unordered_map>

namespace orrery::p2p {
namespace {

constexpr uint64_t SHORT_ID_MASK = 0xffffffffffffULL;

//! Core's DifferenceFormatter: each value on the wire is the gap after the previous one (plus one).
template <typename Emit> void ReadDifferential(SpanReader& reader, size_t count, Emit&& emit)
{
    uint64_t shift = 0;
    for (size_t i = 0; i < count; ++i) {
        const size_t start = reader.Position();
        const uint64_t n = reader.ReadCompactSize();
        shift += n;
        if (shift < n || shift > MAX_COMPACT_BLOCK_TXS) reader.Fail(start, "differential value overflow");
        emit(uint16_t(shift));
        ++shift;
    }
}

template <typename T> std::vector<uint8_t> EncodeWith(void (*write)(Writer&, const T&), const T& message)
{
    std::vector<uint8_t> out;
    Writer writer(out);
    write(writer, message);
    return out;
}

template <typename T> T DecodeWhole(T (*read)(SpanReader&), std::span<const uint8_t> payload, std::string_view what)
{
    SpanReader reader(payload);
    T message = read(reader);
    reader.ExpectEnd(what);
    return message;
}

} // namespace

SendCmpctMessage ReadSendCmpct(SpanReader& reader)
{
    SendCmpctMessage message;
    message.high_bandwidth = reader.ReadU8() != 0;
    message.version = reader.ReadU64();
    return message;
}

void WriteSendCmpct(Writer& writer, const SendCmpctMessage& message)
{
    writer.WriteU8(message.high_bandwidth ? 1 : 0);
    writer.WriteU64(message.version);
}

CmpctBlockMessage ReadCmpctBlock(SpanReader& reader)
{
    CmpctBlockMessage message;
    message.header = ReadBlockHeader(reader);
    message.nonce = reader.ReadU64();
    const size_t ids = reader.ReadCount(6, "short id count");
    message.short_ids.reserve(ids);
    for (size_t i = 0; i < ids; ++i) {
        const uint64_t low = reader.ReadU32();
        const uint64_t high = reader.ReadU16();
        message.short_ids.push_back(low | high << 32);
    }
    // A prefilled entry is at least its index byte and a transaction of 10 bytes.
    const size_t prefilled = reader.ReadCount(11, "prefilled transaction count");
    uint64_t position = 0;
    for (size_t i = 0; i < prefilled; ++i) {
        const size_t start = reader.Position();
        const uint64_t gap = reader.ReadCompactSize();
        if (gap > MAX_COMPACT_BLOCK_TXS) reader.Fail(start, "CompactSize exceeds limit of type");
        position += gap;
        if (position > MAX_COMPACT_BLOCK_TXS) reader.Fail(start, "differential value overflow");
        message.prefilled.push_back({uint16_t(position), ReadTransaction(reader)});
        ++position;
    }
    if (message.BlockTxCount() > MAX_COMPACT_BLOCK_TXS) {
        reader.Fail(reader.Position(), "indexes overflowed 16 bits");
    }
    return message;
}

void WriteCmpctBlock(Writer& writer, const CmpctBlockMessage& message)
{
    WriteBlockHeader(writer, message.header);
    writer.WriteU64(message.nonce);
    writer.WriteCompactSize(message.short_ids.size());
    for (uint64_t id : message.short_ids) {
        writer.WriteU32(uint32_t(id));
        writer.WriteU16(uint16_t(id >> 32));
    }
    writer.WriteCompactSize(message.prefilled.size());
    int64_t previous = -1;
    for (const auto& entry : message.prefilled) {
        writer.WriteCompactSize(uint64_t(int64_t{entry.index} - previous - 1));
        previous = entry.index;
        WriteTransaction(writer, entry.tx);
    }
}

GetBlockTxnMessage ReadGetBlockTxn(SpanReader& reader)
{
    GetBlockTxnMessage message;
    reader.ReadInto(std::span(message.block_hash.data(), uint256::kSize), "block hash");
    const size_t count = reader.ReadCount(1, "index count");
    message.indexes.reserve(count);
    ReadDifferential(reader, count, [&](uint16_t index) { message.indexes.push_back(index); });
    return message;
}

void WriteGetBlockTxn(Writer& writer, const GetBlockTxnMessage& message)
{
    writer.WriteBytes(std::span(message.block_hash.data(), uint256::kSize));
    writer.WriteCompactSize(message.indexes.size());
    int64_t previous = -1;
    for (uint16_t index : message.indexes) {
        writer.WriteCompactSize(uint64_t(int64_t{index} - previous - 1));
        previous = index;
    }
}

BlockTxnMessage ReadBlockTxn(SpanReader& reader)
{
    BlockTxnMessage message;
    reader.ReadInto(std::span(message.block_hash.data(), uint256::kSize), "block hash");
    const size_t count = reader.ReadCount(10, "transaction count");
    message.txs.reserve(count);
    for (size_t i = 0; i < count; ++i) message.txs.push_back(ReadTransaction(reader));
    return message;
}

void WriteBlockTxn(Writer& writer, const BlockTxnMessage& message)
{
    writer.WriteBytes(std::span(message.block_hash.data(), uint256::kSize));
    writer.WriteCompactSize(message.txs.size());
    for (const auto& tx : message.txs) WriteTransaction(writer, tx);
}

CmpctBlockMessage DecodeCmpctBlock(std::span<const uint8_t> payload)
{
    return DecodeWhole(&ReadCmpctBlock, payload, "cmpctblock");
}
GetBlockTxnMessage DecodeGetBlockTxn(std::span<const uint8_t> payload)
{
    return DecodeWhole(&ReadGetBlockTxn, payload, "getblocktxn");
}
BlockTxnMessage DecodeBlockTxn(std::span<const uint8_t> payload)
{
    return DecodeWhole(&ReadBlockTxn, payload, "blocktxn");
}
std::vector<uint8_t> EncodeCmpctBlock(const CmpctBlockMessage& message)
{
    return EncodeWith(&WriteCmpctBlock, message);
}
std::vector<uint8_t> EncodeGetBlockTxn(const GetBlockTxnMessage& message)
{
    return EncodeWith(&WriteGetBlockTxn, message);
}
std::vector<uint8_t> EncodeBlockTxn(const BlockTxnMessage& message)
{
    return EncodeWith(&WriteBlockTxn, message);
}

ShortIdKey MakeShortIdKey(const BlockHeader& header, uint64_t nonce)
{
    std::vector<uint8_t> bytes = SerializeBlockHeader(header);
    Writer writer(bytes);
    writer.WriteU64(nonce);
    const crypto::Hash32 hash = crypto::Sha256(bytes);
    ShortIdKey key;
    for (int i = 7; i >= 0; --i) key.k0 = key.k0 << 8 | hash[size_t(i)];
    for (int i = 15; i >= 8; --i) key.k1 = key.k1 << 8 | hash[size_t(i)];
    return key;
}

uint64_t ShortTxId(const ShortIdKey& key, const uint256& wtxid)
{
    return crypto::SipHash24(key.k0, key.k1, std::span(wtxid.data(), uint256::kSize)) & SHORT_ID_MASK;
}

CmpctBlockMessage MakeCompactBlock(const Block& block, uint64_t nonce)
{
    CmpctBlockMessage message;
    message.header = block.Header();
    message.nonce = nonce;
    if (block.txs.empty()) return message;
    message.prefilled.push_back({0, block.txs[0]});
    const ShortIdKey key = MakeShortIdKey(message.header, nonce);
    message.short_ids.reserve(block.txs.size() - 1);
    for (size_t i = 1; i < block.txs.size(); ++i) message.short_ids.push_back(ShortTxId(key, block.txs[i].GetWtxid()));
    return message;
}

std::optional<std::string> CheckCompactBlock(const CmpctBlockMessage& message)
{
    if (message.BlockTxCount() == 0) return "compact block without transactions";
    if (message.BlockTxCount() > MAX_COMPACT_BLOCK_TXS) return "compact block of too many transactions";
    for (size_t i = 0; i < message.prefilled.size(); ++i) {
        const auto& entry = message.prefilled[i];
        if (entry.tx.vin.empty() && entry.tx.vout.empty()) return "empty prefilled transaction";
        // A position past every short id and the prefilled entries before it has no transaction at all.
        if (size_t{entry.index} > message.short_ids.size() + i) return "prefilled transaction out of range";
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Reconstruction

ReadStatus PartialBlock::Init(const CmpctBlockMessage& message, const std::vector<KnownTransaction>& mempool,
                              const std::vector<KnownTransaction>& extra)
{
    if (m_initialized || CheckCompactBlock(message)) return ReadStatus::INVALID;
    m_initialized = true;
    m_header = message.header;
    m_txs.assign(message.BlockTxCount(), nullptr);
    for (const auto& entry : message.prefilled) {
        m_txs[entry.index] = std::make_shared<const Transaction>(entry.tx);
    }
    m_prefilled_count = message.prefilled.size();

    // Short id → position. As Core: a well-formed message spreads its short ids evenly, so a bucket of more
    // than 12 means a peer chose them to collide (FAILED, the full block is fetched instead).
    std::unordered_map<uint64_t, uint16_t> positions(message.short_ids.size());
    size_t offset = 0;
    for (size_t i = 0; i < message.short_ids.size(); ++i) {
        while (m_txs[i + offset]) ++offset;
        positions[message.short_ids[i]] = uint16_t(i + offset);
        if (positions.bucket_size(positions.bucket(message.short_ids[i])) > 12) return ReadStatus::FAILED;
    }
    if (positions.size() != message.short_ids.size()) return ReadStatus::FAILED; // two equal short ids

    const ShortIdKey key = MakeShortIdKey(message.header, message.nonce);
    std::vector<bool> have(m_txs.size(), false);
    size_t found = 0;
    auto match = [&](const std::vector<KnownTransaction>& source, bool is_extra) {
        for (const auto& known : source) {
            if (found == positions.size()) return;
            if (!known.tx) continue;
            auto it = positions.find(ShortTxId(key, known.wtxid));
            if (it == positions.end()) continue;
            auto& slot = m_txs[it->second];
            if (!have[it->second]) {
                slot = known.tx;
                have[it->second] = true;
                ++found;
                ++m_mempool_count;
                if (is_extra) ++m_extra_count;
            } else if (slot && slot->GetWtxid() != known.wtxid) {
                // Two candidates for one short id: ask for it rather than guess.
                slot.reset();
                --m_mempool_count;
            }
        }
    };
    match(mempool, false);
    match(extra, true);
    return ReadStatus::OK;
}

std::vector<uint16_t> PartialBlock::MissingIndexes() const
{
    std::vector<uint16_t> missing;
    for (size_t i = 0; i < m_txs.size(); ++i) {
        if (!m_txs[i]) missing.push_back(uint16_t(i));
    }
    return missing;
}

ReadStatus PartialBlock::Fill(Block& block, const std::vector<Transaction>& missing, const ConsensusParams& params)
{
    if (!m_initialized || m_txs.empty()) return ReadStatus::INVALID;
    static_cast<BlockHeader&>(block) = m_header;
    block.txs.clear();
    block.txs.reserve(m_txs.size());
    size_t next_missing = 0;
    for (const auto& tx : m_txs) {
        if (tx) {
            block.txs.push_back(*tx);
        } else {
            if (next_missing == missing.size()) return ReadStatus::INVALID;
            block.txs.push_back(missing[next_missing++]);
        }
    }
    m_txs.clear(); // once only, as Core
    if (next_missing != missing.size()) return ReadStatus::INVALID;
    ValidationState state;
    if (!CheckBlock(block, state, params)) {
        // A merkle mismatch is most likely a short id collision: not the peer's fault.
        if (state.GetFailure() == BlockFailure::MUTATED) return ReadStatus::FAILED;
        return ReadStatus::CHECKBLOCK_FAILED;
    }
    return ReadStatus::OK;
}

} // namespace orrery::p2p
