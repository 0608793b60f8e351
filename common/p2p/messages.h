// Payloads of the handshake and keep-alive messages of the Bitcoin P2P
// protocol (version, verack, ping, pong, sendaddrv2, wtxidrelay, sendheaders),
// of block sync (getheaders, getblocks, headers, inv, getdata, notfound, block),
// of transaction relay (tx, feefilter, mempool), of BIP152 compact blocks
// (sendcmpct, cmpctblock, getblocktxn, blocktxn; compact_blocks.h) and a
// generic path for every other command. Decoding is bounds-checked and
// throws ProtocolError with the reason; encoding never fails.
#ifndef ORRERY_COMMON_P2P_MESSAGES_H
#define ORRERY_COMMON_P2P_MESSAGES_H

#include <common/consensus/block.h>
#include <common/consensus/uint256.h>
#include <common/p2p/compact_blocks.h>
#include <common/p2p/protocol.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace orrery::p2p {

inline constexpr int32_t PROTOCOL_VERSION = 70016;
//! Peers older than this are refused (Core's MIN_PEER_PROTO_VERSION).
inline constexpr int32_t MIN_PEER_PROTO_VERSION = 31800;
//! BIP339 wtxidrelay and BIP155 sendaddrv2 are sent to peers at or above this.
inline constexpr int32_t WTXID_RELAY_VERSION = 70016;
//! BIP130 sendheaders is sent to peers at or above this.
inline constexpr int32_t SENDHEADERS_VERSION = 70012;
//! Longest user agent accepted (Core's MAX_SUBVERSION_LENGTH).
inline constexpr size_t MAX_SUBVERSION_LENGTH = 256;

inline constexpr uint64_t NODE_NETWORK = 1;
inline constexpr uint64_t NODE_WITNESS = 1 << 3;

namespace command {
inline constexpr std::string_view VERSION = "version";
inline constexpr std::string_view VERACK = "verack";
inline constexpr std::string_view PING = "ping";
inline constexpr std::string_view PONG = "pong";
inline constexpr std::string_view SENDADDRV2 = "sendaddrv2";
inline constexpr std::string_view WTXIDRELAY = "wtxidrelay";
inline constexpr std::string_view SENDHEADERS = "sendheaders";
inline constexpr std::string_view GETHEADERS = "getheaders";
inline constexpr std::string_view GETBLOCKS = "getblocks";
inline constexpr std::string_view HEADERS = "headers";
inline constexpr std::string_view INV = "inv";
inline constexpr std::string_view GETDATA = "getdata";
inline constexpr std::string_view NOTFOUND = "notfound";
inline constexpr std::string_view BLOCK = "block";
// Transaction relay (doc/relay.md).
inline constexpr std::string_view TX = "tx";
inline constexpr std::string_view FEEFILTER = "feefilter";
inline constexpr std::string_view MEMPOOL = "mempool";
// Compact blocks (BIP152, doc/compact_blocks.md).
inline constexpr std::string_view SENDCMPCT = "sendcmpct";
inline constexpr std::string_view CMPCTBLOCK = "cmpctblock";
inline constexpr std::string_view GETBLOCKTXN = "getblocktxn";
inline constexpr std::string_view BLOCKTXN = "blocktxn";
} // namespace command

//! A network address as the version message carries it: no time field,
//! IPv4 as an IPv4-mapped IPv6 address, port in network byte order.
struct VersionAddress {
    uint64_t services{0};
    std::array<uint8_t, 16> ip{};
    uint16_t port{0};
    bool operator==(const VersionAddress&) const = default;
};

//! "1.2.3.4:8333" or "[::1]:8333" to an address; nullopt if it is neither.
std::optional<VersionAddress> ParseVersionAddress(std::string_view host_port, uint64_t services = 0);

struct VersionMessage {
    int32_t version{PROTOCOL_VERSION};
    uint64_t services{0};
    int64_t timestamp{0};
    VersionAddress addr_recv;
    VersionAddress addr_from;
    uint64_t nonce{0};
    std::string user_agent;
    int32_t start_height{0};
    bool relay{true};
    bool operator==(const VersionMessage&) const = default;
};

struct VerackMessage {
    bool operator==(const VerackMessage&) const = default;
};
struct PingMessage {
    uint64_t nonce{0};
    bool operator==(const PingMessage&) const = default;
};
struct PongMessage {
    uint64_t nonce{0};
    bool operator==(const PongMessage&) const = default;
};
struct SendAddrV2Message {
    bool operator==(const SendAddrV2Message&) const = default;
};
struct WtxidRelayMessage {
    bool operator==(const WtxidRelayMessage&) const = default;
};
struct SendHeadersMessage {
    bool operator==(const SendHeadersMessage&) const = default;
};
//! Core's limits on block sync messages (net_processing.h, protocol.h).
inline constexpr size_t MAX_HEADERS_RESULTS = 2000; //!< headers per headers message
inline constexpr size_t MAX_LOCATOR_SZ = 101;       //!< hashes in a getheaders/getblocks locator
inline constexpr size_t MAX_INV_SZ = 50000;         //!< entries in an inv, getdata or notfound
inline constexpr size_t MAX_BLOCKS_TO_ANNOUNCE = 8; //!< headers in an announcement

//! Inventory types (Core's GetDataMsg); MSG_WITNESS_FLAG marks the witness variants.
inline constexpr uint32_t MSG_TX = 1;
inline constexpr uint32_t MSG_BLOCK = 2;
inline constexpr uint32_t MSG_FILTERED_BLOCK = 3;
inline constexpr uint32_t MSG_CMPCT_BLOCK = 4;
inline constexpr uint32_t MSG_WTX = 5;
inline constexpr uint32_t MSG_WITNESS_FLAG = 1u << 30;
inline constexpr uint32_t MSG_WITNESS_BLOCK = MSG_BLOCK | MSG_WITNESS_FLAG;
inline constexpr uint32_t MSG_WITNESS_TX = MSG_TX | MSG_WITNESS_FLAG;

struct InvItem {
    uint32_t type{0};
    uint256 hash;
    bool operator==(const InvItem&) const = default;
};

//! getheaders and getblocks: where our chain is (newest first) and where to stop (zero: no stop).
struct GetHeadersMessage {
    uint32_t version{PROTOCOL_VERSION};
    std::vector<uint256> locator;
    uint256 stop;
    bool operator==(const GetHeadersMessage&) const = default;
};
struct GetBlocksMessage {
    uint32_t version{PROTOCOL_VERSION};
    std::vector<uint256> locator;
    uint256 stop;
    bool operator==(const GetBlocksMessage&) const = default;
};
//! At most MAX_HEADERS_RESULTS headers; on the wire each is followed by a zero transaction count.
struct HeadersMessage {
    std::vector<BlockHeader> headers;
    bool operator==(const HeadersMessage&) const = default;
};
struct InvMessage {
    std::vector<InvItem> items;
    bool operator==(const InvMessage&) const = default;
};
struct GetDataMessage {
    std::vector<InvItem> items;
    bool operator==(const GetDataMessage&) const = default;
};
struct NotFoundMessage {
    std::vector<InvItem> items;
    bool operator==(const NotFoundMessage&) const = default;
};
//! A block, kept as its serialization: the agent checks it with DeserializeBlock and hands these very
//! bytes to the node.
struct BlockMessage {
    std::vector<uint8_t> payload;
    bool operator==(const BlockMessage&) const = default;
};

// Transaction relay (doc/relay.md).
//! BIP133 feefilter is sent to and taken from peers at or above this.
inline constexpr int32_t FEEFILTER_VERSION = 70013;
//! A transaction, kept as its serialization (with witness if the peer sent one): the agent checks it and
//! hands these very bytes to the node.
struct TxMessage {
    std::vector<uint8_t> payload;
    bool operator==(const TxMessage&) const = default;
};
//! BIP133: the lowest fee rate (satoshis per 1,000 virtual bytes) whose transactions the peer wants announced.
struct FeeFilterMessage {
    int64_t fee_rate{0};
    bool operator==(const FeeFilterMessage&) const = default;
};
//! BIP35: the peer asks for an inv of our whole mempool.
struct MempoolMessage {
    bool operator==(const MempoolMessage&) const = default;
};

//! Any command this library does not decode; the payload is kept as received.
struct UnknownMessage {
    std::string command;
    std::vector<uint8_t> payload;
    bool operator==(const UnknownMessage&) const = default;
};

using Message =
    std::variant<VersionMessage, VerackMessage, PingMessage, PongMessage, SendAddrV2Message, WtxidRelayMessage,
                 SendHeadersMessage, GetHeadersMessage, GetBlocksMessage, HeadersMessage, InvMessage, GetDataMessage,
                 NotFoundMessage, BlockMessage, TxMessage, FeeFilterMessage, MempoolMessage, SendCmpctMessage,
                 CmpctBlockMessage, GetBlockTxnMessage, BlockTxnMessage, UnknownMessage>;

//! The command a message travels under.
std::string_view CommandOf(const Message& message);
//! The payload bytes of a message.
std::vector<uint8_t> EncodePayload(const Message& message);
//! A complete frame for `message` on the network with this magic.
std::vector<uint8_t> EncodeMessage(uint32_t message_start, const Message& message);

//! Decodes a payload received under `command`. Unknown commands become
//! UnknownMessage. Throws ProtocolError when a known payload is malformed.
//! Like Core, the version message's trailing fields are optional and bytes
//! after the last known field are ignored, for compatibility with later versions.
Message DecodeMessage(std::string_view command, std::span<const uint8_t> payload);

} // namespace orrery::p2p

#endif // ORRERY_COMMON_P2P_MESSAGES_H
