// Block headers and blocks: data types, hashes and wire format.
#ifndef ORRERY_COMMON_CONSENSUS_BLOCK_H
#define ORRERY_COMMON_CONSENSUS_BLOCK_H

#include <common/consensus/serialize.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <span>
#include <vector>

namespace orrery {

struct BlockHeader {
    //! Serialized size of a header on the wire.
    static constexpr size_t kSize = 80;

    int32_t version{0};
    uint256 prev_block;
    uint256 merkle_root;
    uint32_t time{0};
    uint32_t bits{0};
    uint32_t nonce{0};

    //! Double SHA-256 of the 80-byte header.
    uint256 GetHash() const;
    int64_t GetBlockTime() const { return int64_t{time}; }

    friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Block : BlockHeader {
    std::vector<Transaction> txs;

    const BlockHeader& Header() const { return *this; }
    friend bool operator==(const Block&, const Block&) = default;
};

std::vector<uint8_t> SerializeBlockHeader(const BlockHeader& header);
//! Parses exactly 80 bytes.
BlockHeader DeserializeBlockHeader(std::span<const uint8_t> data);
void WriteBlockHeader(Writer& writer, const BlockHeader& header);
BlockHeader ReadBlockHeader(SpanReader& reader);

//! Header, CompactSize tx count, transactions (with witness if requested).
std::vector<uint8_t> SerializeBlock(const Block& block, bool with_witness = true);
//! Parses exactly one block occupying all of data; throws DeserializeError.
Block DeserializeBlock(std::span<const uint8_t> data, bool allow_witness = true);
void WriteBlock(Writer& writer, const Block& block, bool with_witness = true);
Block ReadBlock(SpanReader& reader, bool allow_witness = true);

size_t GetSerializeSize(const Block& block, bool with_witness = true);
//! BIP141 weight of the whole block.
int64_t GetBlockWeight(const Block& block);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_BLOCK_H
