// PeerHost: served by orrery-node to the p2p-agents; Agent: served by each
// agent back to the node over the same connection. An agent's connection
// serves one peer, bound by registerAgent: the node checks every `peer_id`
// against that binding and refuses (PERMISSION_DENIED) any other. An agent
// that a socket unit started (no orreryd) first asks the node to admit its
// peer (requestAdmission), on that same connection and with its own identity.
//
// Block sync (doc/sync.md): headers, blocks, block hashes and locators cross
// as their Bitcoin serialization in one bin (hashes 32 bytes each and headers
// 80 bytes each, back to back). The agent checks what needs only its peer's
// bytes before it calls; the node validates everything again. Addresses cross as
// addr or addrv2 payloads (BIP155), decoded by the agent and again by the node.
//
// Compact blocks (BIP152 version 2, doc/compact_blocks.md): cmpctblock, getblocktxn and blocktxn cross as
// their payloads; the node builds compact blocks and reconstructs received ones (it holds the mempool),
// the agent decodes, checks what needs only the message and frames.
//
// Transaction relay (doc/relay.md): transactions cross as their serialization as the peer sent them (with
// witness if it had one), (w)txids 32 bytes each. The node decides what enters the mempool, what to
// fetch from whom and what to announce to whom; the agent frames and checks.
#ifndef ORRERY_COMMON_INTERFACES_PEER_HOST_H
#define ORRERY_COMMON_INTERFACES_PEER_HOST_H

#include <common/interfaces/node.h>
#include <common/ipc/serialize.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! What an agent needs to speak for the node: the network and the version message it sends.
struct HandshakeParams {
    std::string chain;         //!< "main", "test", "testnet4", "signet", "regtest"
    uint32_t message_start{0}; //!< the network magic, first byte in the low bits
    int32_t protocol_version{70016};
    uint64_t services{0};   //!< NODE_NETWORK | NODE_WITNESS
    std::string user_agent; //!< "/Orrery:0.1.0/"
    int32_t start_height{0};
    uint64_t nonce{0}; //!< to detect connecting to ourselves
    bool relay{true};
    //! The node's mock time (setmocktime, -mocktime) when registered, 0 for the real clock; later
    //! changes come through Agent.setMockTime.
    int64_t mock_time{0};
    ORRERY_FIELDS(chain, message_start, protocol_version, services, user_agent, start_height, nonce, relay, mock_time)
};

//! What the peer said in its version message and the feature negotiation after it.
struct PeerVersion {
    int32_t version{0};
    uint64_t services{0};
    std::string user_agent;
    int32_t start_height{0};
    bool relay{false};
    bool wtxid_relay{false};
    bool send_addrv2{false};
    bool send_headers{false};
    int64_t time_offset{0};
    uint64_t nonce{0}; //!< the peer's version nonce: equal to one we sent means we connected to ourselves
    ORRERY_FIELDS(version, services, user_agent, start_height, relay, wtxid_relay, send_addrv2, send_headers,
                  time_offset, nonce)
};

struct PeerStats {
    int64_t bytes_sent{0};
    int64_t bytes_recv{0};
    int64_t last_send{0}; //!< unix time
    int64_t last_recv{0};
    std::optional<double> ping_time; //!< seconds
    std::optional<double> min_ping;
    //! Bytes per message type, 24-byte header included, as bitcoind counts them; a type
    //! the protocol does not define is counted as "*other*". Only types seen appear.
    std::map<std::string, int64_t> bytes_sent_per_msg;
    std::map<std::string, int64_t> bytes_recv_per_msg;
    ORRERY_FIELDS(bytes_sent, bytes_recv, last_send, last_recv, ping_time, min_ping, bytes_sent_per_msg,
                  bytes_recv_per_msg)
};

//! A message the node has an agent send as it is: its command and payload (a Bitcoin serialization).
struct WireMessage {
    std::string command; //!< "cmpctblock", "blocktxn" or "block"
    std::vector<uint8_t> payload;
    ORRERY_FIELDS(command, payload)
};

class PeerHost
{
public:
    virtual ~PeerHost() = default;
    //! Without orreryd (an agent started per connection by a socket unit, deploy/systemd/): asks the node
    //! to admit the inbound peer at `address` that reached `local_address`, before the agent reads a byte
    //! of it. The node decides as for orreryd's Node.admitInbound (bans, -maxconnections, eviction). Once
    //! per connection and before registerAgent, which may then register the admitted id only; refused
    //! (PERMISSION_DENIED) under orreryd, which admits its peers itself.
    virtual Admission requestAdmission(std::string address, std::string local_address) = 0;
    //! The agent's first call after its hello: binds its connection to `peer_id` (under orreryd,
    //! the peer orreryd gave that process) and answers how to introduce the node.
    virtual HandshakeParams registerAgent(int64_t peer_id, std::string address, bool inbound) = 0;
    //! version/verack done on both sides.
    virtual void handshakeDone(int64_t peer_id, PeerVersion version) = 0;
    virtual void reportStats(int64_t peer_id, PeerStats stats) = 0;
    //! The agent is about to exit: the peer is gone, or was dropped for `reason`. An
    //! outbound agent whose dial failed calls it without registering ("connect to
    //! <addr> failed: <strerror>"), so the node frees the pending id at once.
    virtual void peerDisconnected(int64_t peer_id, std::string reason) = 0;
    //! The peer's headers message: headers of 80 bytes back to back (at most 2,000), each with valid
    //! proof of work against its own bits and each the child of the one before.
    virtual void headersReceived(int64_t peer_id, std::vector<uint8_t> headers) = 0;
    //! A block the peer sent, serialized with witness, that passed the agent's context-free checks.
    virtual void blockReceived(int64_t peer_id, std::vector<uint8_t> block) = 0;
    //! Block hashes the peer announced by inv (32 bytes each).
    virtual void blocksAnnounced(int64_t peer_id, std::vector<uint8_t> hashes) = 0;
    //! The peer's getheaders: the headers to answer with (80 bytes each, at most 2,000) after the first
    //! locator hash on our active chain, up to `stop` (32 bytes; zero: no stop); nullopt: no answer at
    //! all (the node is in initial block download, as Core stays silent then).
    virtual std::optional<std::vector<uint8_t>> getHeaders(int64_t peer_id, std::vector<uint8_t> locator,
                                                           std::vector<uint8_t> stop) = 0;
    //! The peer's getblocks: the block hashes to announce by inv (at most 500).
    virtual std::vector<uint8_t> getBlocks(int64_t peer_id, std::vector<uint8_t> locator,
                                           std::vector<uint8_t> stop) = 0;
    //! A block the peer asked for by getdata, read from the block files: with witness, or stripped of it;
    //! nullopt when the node does not have it (the agent answers notfound).
    virtual std::optional<std::vector<uint8_t>> getBlock(int64_t peer_id, std::vector<uint8_t> hash, bool witness) = 0;

    // ---- Transaction relay (doc/relay.md)
    //! Transactions the peer announced by inv: wtxids from a peer that negotiated wtxidrelay, else txids
    //! (32 bytes each; the agent drops entries of the other kind, as Core ignores them).
    virtual void transactionsAnnounced(int64_t peer_id, std::vector<uint8_t> hashes) = 0;
    //! A tx message that passed the agent's context-free checks (CheckTransaction), its payload as received.
    virtual void transactionReceived(int64_t peer_id, std::vector<uint8_t> tx) = 0;
    //! The peer's notfound for transactions we asked it for ((w)txids, 32 bytes each).
    virtual void transactionsNotFound(int64_t peer_id, std::vector<uint8_t> hashes) = 0;
    //! A transaction the peer asked for by getdata (`wtxid`: MSG_WTX, by witness hash), serialized with or
    //! without witness; nullopt (notfound) unless the node may give it to this peer (announced to it, or in
    //! the mempool since before the last inv it was sent, as Core).
    virtual std::optional<std::vector<uint8_t>> getTransaction(int64_t peer_id, std::vector<uint8_t> hash, bool wtxid,
                                                               bool witness) = 0;
    //! The peer's BIP133 feefilter (satoshis per kvB, already checked to be a valid amount).
    virtual void feeFilterReceived(int64_t peer_id, int64_t fee_rate) = 0;
    //! The peer sent BIP35 mempool; the node decides (Core: only peers with the mempool permission).
    virtual void mempoolRequested(int64_t peer_id) = 0;

    // ---- Compact blocks (BIP152, doc/compact_blocks.md)
    //! The peer's sendcmpct of version 2 (others are ignored, as Core): it takes compact blocks, and asks for
    //! them unsolicited when `high_bandwidth`.
    virtual void compactBlocksOffered(int64_t peer_id, bool high_bandwidth) = 0;
    //! The peer's cmpctblock payload as received; decoded, its header's proof of work and layout checked.
    virtual void compactBlockReceived(int64_t peer_id, std::vector<uint8_t> cmpctblock) = 0;
    //! The peer's blocktxn payload as received (every transaction deserialized).
    virtual void blockTransactionsReceived(int64_t peer_id, std::vector<uint8_t> blocktxn) = 0;
    //! The peer's getblocktxn payload: the answer to send (blocktxn, or the whole block for an old one);
    //! nullopt: no answer (an unknown block, or the node drops the peer for an index out of range).
    virtual std::optional<WireMessage> getBlockTransactions(int64_t peer_id, std::vector<uint8_t> getblocktxn) = 0;
    //! The peer's getdata of MSG_CMPCT_BLOCK (a 32-byte hash): a cmpctblock, or the block itself when it is
    //! deeper than 5 blocks, as Core; nullopt: notfound.
    virtual std::optional<WireMessage> getCompactBlock(int64_t peer_id, std::vector<uint8_t> hash) = 0;

    // Addresses (doc/addrman.md): addr and addrv2 payloads in their Bitcoin serialization.
    //! The peer's addr (`addrv2` false) or addrv2 message as received: at most 1,000 entries, decoded once
    //! by the agent; the node decodes it again.
    virtual void addressesReceived(int64_t peer_id, bool addrv2, std::vector<uint8_t> payload) = 0;
    //! The peer's getaddr: what to answer, as an addrv2 payload; nullopt: no answer (an outbound peer, or
    //! a second getaddr on this connection, as Core ignores both).
    virtual std::optional<std::vector<uint8_t>> getAddresses(int64_t peer_id) = 0;
    //! Misbehaviour the agent saw alone (an addr message of more than 1,000 entries), Core's Misbehaving:
    //! true when the agent is to drop its peer (the node discourages it), false for a manual or noban
    //! peer, whose message is only ignored.
    virtual bool peerMisbehaved(int64_t peer_id, std::string reason) = 0;
};

class Agent
{
public:
    virtual ~Agent() = default;
    //! Closes the peer connection cleanly and exits.
    virtual void disconnect(std::string reason) = 0;
    virtual PeerStats getStats() = 0;
    //! Sends getheaders with this locator (32-byte hashes, newest first) and no stop hash.
    virtual void requestHeaders(std::vector<uint8_t> locator) = 0;
    //! Sends getdata for these blocks (32-byte hashes), as witness blocks.
    virtual void requestBlocks(std::vector<uint8_t> hashes) = 0;
    //! Announces new blocks (80-byte headers, oldest first, the tip last): by headers if the peer sent
    //! sendheaders and there are at most 8, else by an inv of the tip's hash.
    virtual void announceBlocks(std::vector<uint8_t> headers) = 0;
    //! The node's setmocktime: the agent pins its clock to `time` (unix seconds; 0: the real clock).
    virtual void setMockTime(int64_t time) = 0;

    // ---- Transaction relay (doc/relay.md)
    //! Sends an inv of these (w)txids (32 bytes each), as MSG_WTX when `wtxid`, else MSG_TX.
    virtual void announceTransactions(std::vector<uint8_t> hashes, bool wtxid) = 0;
    //! Sends getdata for these (w)txids: MSG_WTX when `wtxid`, else MSG_TX (with the witness flag if the
    //! peer offers NODE_WITNESS).
    virtual void requestTransactions(std::vector<uint8_t> hashes, bool wtxid) = 0;
    //! Sends a BIP133 feefilter with this fee rate (satoshis per kvB).
    virtual void sendFeeFilter(int64_t fee_rate) = 0;

    // ---- Compact blocks (BIP152, doc/compact_blocks.md)
    //! Sends sendcmpct(high_bandwidth, 2): whether the peer is to send us new blocks as unsolicited cmpctblocks.
    virtual void sendCompactBlockMode(bool high_bandwidth) = 0;
    //! Sends this cmpctblock payload (a high-bandwidth announcement).
    virtual void sendCompactBlock(std::vector<uint8_t> cmpctblock) = 0;
    //! Sends getdata of MSG_CMPCT_BLOCK for this block (32 bytes).
    virtual void requestCompactBlock(std::vector<uint8_t> hash) = 0;
    //! Sends this getblocktxn payload.
    virtual void requestBlockTransactions(std::vector<uint8_t> getblocktxn) = 0;

    // Addresses (doc/addrman.md).
    //! Sends getaddr, and lets the answer (up to 1,000 addresses) past the peer's address rate limit.
    virtual void requestAddresses() = 0;
    //! Sends these addresses (an addrv2 payload): as addrv2 to a peer that sent sendaddrv2, else as addr.
    virtual void sendAddresses(std::vector<uint8_t> addresses) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_PEER_HOST_H
