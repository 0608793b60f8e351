// Block and header wire format, block hash and weight.
#include <common/consensus/block.h>

#include <common/consensus/consensus.h>
#include <common/crypto/hash.h>

namespace orrery {

namespace {

// Smallest encoding of a transaction: version, two empty counts, lock time.
constexpr size_t kMinTxSize = 10;

} // namespace

void WriteBlockHeader(Writer& writer, const BlockHeader& header)
{
    writer.WriteI32(header.version);
    writer.WriteBytes(header.prev_block);
    writer.WriteBytes(header.merkle_root);
    writer.WriteU32(header.time);
    writer.WriteU32(header.bits);
    writer.WriteU32(header.nonce);
}

BlockHeader ReadBlockHeader(SpanReader& reader)
{
    BlockHeader header;
    header.version = reader.ReadI32();
    reader.ReadInto(std::span<uint8_t>(header.prev_block.data(), uint256::kSize), "previous block hash");
    reader.ReadInto(std::span<uint8_t>(header.merkle_root.data(), uint256::kSize), "merkle root");
    header.time = reader.ReadU32();
    header.bits = reader.ReadU32();
    header.nonce = reader.ReadU32();
    return header;
}

std::vector<uint8_t> SerializeBlockHeader(const BlockHeader& header)
{
    std::vector<uint8_t> out;
    out.reserve(BlockHeader::kSize);
    Writer writer(out);
    WriteBlockHeader(writer, header);
    return out;
}

BlockHeader DeserializeBlockHeader(std::span<const uint8_t> data)
{
    SpanReader reader(data);
    BlockHeader header = ReadBlockHeader(reader);
    reader.ExpectEnd("block header");
    return header;
}

uint256 BlockHeader::GetHash() const
{
    return uint256{crypto::Sha256d(SerializeBlockHeader(*this))};
}

void WriteBlock(Writer& writer, const Block& block, bool with_witness)
{
    WriteBlockHeader(writer, block);
    writer.WriteCompactSize(block.txs.size());
    for (const Transaction& tx : block.txs) WriteTransaction(writer, tx, with_witness);
}

Block ReadBlock(SpanReader& reader, bool allow_witness)
{
    Block block;
    static_cast<BlockHeader&>(block) = ReadBlockHeader(reader);
    const size_t count = reader.ReadCount(kMinTxSize, "transaction count");
    block.txs.reserve(count);
    for (size_t i = 0; i < count; ++i) block.txs.push_back(ReadTransaction(reader, allow_witness));
    return block;
}

std::vector<uint8_t> SerializeBlock(const Block& block, bool with_witness)
{
    std::vector<uint8_t> out;
    out.reserve(GetSerializeSize(block, with_witness));
    Writer writer(out);
    WriteBlock(writer, block, with_witness);
    return out;
}

Block DeserializeBlock(std::span<const uint8_t> data, bool allow_witness)
{
    SpanReader reader(data);
    Block block = ReadBlock(reader, allow_witness);
    reader.ExpectEnd("block");
    return block;
}

size_t GetSerializeSize(const Block& block, bool with_witness)
{
    size_t size = BlockHeader::kSize + CompactSizeLength(block.txs.size());
    for (const Transaction& tx : block.txs) size += GetSerializeSize(tx, with_witness);
    return size;
}

int64_t GetBlockWeight(const Block& block)
{
    return int64_t(GetSerializeSize(block, false)) * (WITNESS_SCALE_FACTOR - 1) + int64_t(GetSerializeSize(block, true));
}

} // namespace orrery
