// BIP152 compact blocks, version 2 (with witnesses): the four messages
// (sendcmpct, cmpctblock, getblocktxn, blocktxn), their short transaction ids
// (SipHash-2-4 of the wtxid, keyed by SHA256 of the header and a nonce), the
// building of a compact block from a block, and its reconstruction from
// transactions the receiver already has (Core's blockencodings.cpp). Pure
// functions and values: the agent decodes and checks with them, the node
// builds and reconstructs (doc/compact_blocks.md).
#ifndef ORRERY_COMMON_P2P_COMPACT_BLOCKS_H
#define ORRERY_COMMON_P2P_COMPACT_BLOCKS_H

#include <common/consensus/block.h>
#include <common/consensus/params.h>
#include <common/consensus/serialize.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orrery::p2p {

//! The only compact block version Orrery speaks (BIP152 version 2: short ids of wtxids).
inline constexpr uint64_t CMPCTBLOCKS_VERSION = 2;
//! sendcmpct is sent to peers whose common version is at least this (Core's SHORT_IDS_BLOCKS_VERSION).
inline constexpr int32_t SHORT_IDS_BLOCKS_VERSION = 70014;
//! Core's figures: at most 3 peers announce to us in high-bandwidth mode; cmpctblock is served for
//! blocks at most 5 deep and getblocktxn for blocks at most 10 deep (deeper: the full block).
inline constexpr size_t MAX_HIGH_BANDWIDTH_PEERS = 3;
inline constexpr int MAX_CMPCTBLOCK_DEPTH = 5;
inline constexpr int MAX_BLOCKTXN_DEPTH = 10;
//! Transactions a compact block may describe: indexes are 16 bits on the wire.
inline constexpr size_t MAX_COMPACT_BLOCK_TXS = 0xffff;

//! sendcmpct: the peer can take compact blocks of `version`; `high_bandwidth` asks us to send them
//! unsolicited (as soon as we have a new block) rather than announcing it first.
struct SendCmpctMessage {
    bool high_bandwidth{false};
    uint64_t version{CMPCTBLOCKS_VERSION};
    bool operator==(const SendCmpctMessage&) const = default;
};

//! A transaction sent in full inside a compact block, at its absolute position in the block (on the wire
//! the positions are differences, each one past the previous).
struct PrefilledTransaction {
    uint16_t index{0};
    Transaction tx;
    bool operator==(const PrefilledTransaction&) const = default;
};

//! cmpctblock: the header, the nonce keying the short ids, one 6-byte short id per transaction not sent in
//! full, and the prefilled transactions (at least the coinbase, as Core sends).
struct CmpctBlockMessage {
    BlockHeader header;
    uint64_t nonce{0};
    std::vector<uint64_t> short_ids; //!< 48 bits each
    std::vector<PrefilledTransaction> prefilled;
    size_t BlockTxCount() const { return short_ids.size() + prefilled.size(); }
    bool operator==(const CmpctBlockMessage&) const = default;
};

//! getblocktxn: the transactions at these absolute positions of the block (differences on the wire).
struct GetBlockTxnMessage {
    uint256 block_hash;
    std::vector<uint16_t> indexes;
    bool operator==(const GetBlockTxnMessage&) const = default;
};

//! blocktxn: the transactions a getblocktxn asked for, in its order, with witnesses.
struct BlockTxnMessage {
    uint256 block_hash;
    std::vector<Transaction> txs;
    bool operator==(const BlockTxnMessage&) const = default;
};

// Wire format. The readers throw DeserializeError on malformed input (Core's messages: a differential
// index past 16 bits is "differential value overflow"); the writers never fail.
SendCmpctMessage ReadSendCmpct(SpanReader& reader);
CmpctBlockMessage ReadCmpctBlock(SpanReader& reader);
GetBlockTxnMessage ReadGetBlockTxn(SpanReader& reader);
BlockTxnMessage ReadBlockTxn(SpanReader& reader);
void WriteSendCmpct(Writer& writer, const SendCmpctMessage& message);
void WriteCmpctBlock(Writer& writer, const CmpctBlockMessage& message);
void WriteGetBlockTxn(Writer& writer, const GetBlockTxnMessage& message);
void WriteBlockTxn(Writer& writer, const BlockTxnMessage& message);

//! Whole payloads (no trailing bytes allowed), for what crosses between agent and node.
CmpctBlockMessage DecodeCmpctBlock(std::span<const uint8_t> payload);
GetBlockTxnMessage DecodeGetBlockTxn(std::span<const uint8_t> payload);
BlockTxnMessage DecodeBlockTxn(std::span<const uint8_t> payload);
std::vector<uint8_t> EncodeCmpctBlock(const CmpctBlockMessage& message);
std::vector<uint8_t> EncodeGetBlockTxn(const GetBlockTxnMessage& message);
std::vector<uint8_t> EncodeBlockTxn(const BlockTxnMessage& message);

//! The SipHash key of a compact block's short ids: the first two little-endian 64-bit words of
//! SHA256(header || nonce) (BIP152; a single SHA-256).
struct ShortIdKey {
    uint64_t k0{0};
    uint64_t k1{0};
};
ShortIdKey MakeShortIdKey(const BlockHeader& header, uint64_t nonce);
//! BIP152's short id: SipHash-2-4 of the wtxid (its internal byte order) with the top 16 bits dropped.
uint64_t ShortTxId(const ShortIdKey& key, const uint256& wtxid);

//! Core's CBlockHeaderAndShortTxIDs: the coinbase prefilled, every other transaction by short id.
CmpctBlockMessage MakeCompactBlock(const Block& block, uint64_t nonce);

//! What needs nothing but the message (Core's READ_STATUS_INVALID in InitData): a non-empty block of at
//! most MAX_COMPACT_BLOCK_TXS transactions, each prefilled position within the block, no empty prefilled
//! transaction. The reason, or nullopt when it passes.
std::optional<std::string> CheckCompactBlock(const CmpctBlockMessage& message);

//! Core's ReadStatus.
enum class ReadStatus {
    OK,
    INVALID,           //!< the peer sent something invalid: punish it
    FAILED,            //!< short id collision or a merkle mismatch: fall back to the full block
    CHECKBLOCK_FAILED, //!< the reconstructed block fails CheckBlock (not a reason to punish, BIP152)
};

//! A transaction the receiver already has, with its wtxid computed once.
struct KnownTransaction {
    uint256 wtxid;
    std::shared_ptr<const Transaction> tx;
};

//! Core's PartiallyDownloadedBlock: a compact block being filled from the mempool, extra transactions
//! (orphans) and then the peer's blocktxn.
class PartialBlock
{
public:
    //! Matches the short ids against `mempool`, then `extra`. Two candidates for one short id leave the
    //! position missing (it is asked for), as Core does. INVALID for a message CheckCompactBlock refuses;
    //! FAILED when two of the block's short ids are equal or too many share a hash bucket.
    ReadStatus Init(const CmpctBlockMessage& message, const std::vector<KnownTransaction>& mempool,
                    const std::vector<KnownTransaction>& extra);
    //! Positions still missing, ascending (what getblocktxn asks for).
    std::vector<uint16_t> MissingIndexes() const;
    //! The block from what is known plus `missing` (in MissingIndexes' order). INVALID when the count does
    //! not match; FAILED when the merkle root does not (a collision somewhere); CHECKBLOCK_FAILED when
    //! CheckBlock fails otherwise. May be called once.
    ReadStatus Fill(Block& block, const std::vector<Transaction>& missing, const ConsensusParams& params);
    const BlockHeader& Header() const { return m_header; }
    size_t PrefilledCount() const { return m_prefilled_count; }
    size_t MempoolCount() const { return m_mempool_count; }
    size_t ExtraCount() const { return m_extra_count; }

private:
    BlockHeader m_header;
    bool m_initialized{false};
    std::vector<std::shared_ptr<const Transaction>> m_txs;
    size_t m_prefilled_count{0};
    size_t m_mempool_count{0};
    size_t m_extra_count{0};
};

} // namespace orrery::p2p

#endif // ORRERY_COMMON_P2P_COMPACT_BLOCKS_H
