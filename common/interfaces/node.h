// Node: served by orrery-node to the gui-bridge (RPC) and to orreryd (admission).
#ifndef ORRERY_COMMON_INTERFACES_NODE_H
#define ORRERY_COMMON_INTERFACES_NODE_H

#include <common/ipc/serialize.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! getblockchaininfo, in bitcoind's fields.
struct BlockchainInfo {
    std::string chain;
    int64_t blocks{0};
    int64_t headers{0};
    std::string best_block_hash;
    double difficulty{0};
    int64_t time{0};
    int64_t median_time{0};
    double verification_progress{0};
    bool initial_block_download{true};
    std::string chain_work;
    int64_t size_on_disk{0};
    bool pruned{false};
    std::string warnings;
    ORRERY_FIELDS(chain, blocks, headers, best_block_hash, difficulty, time, median_time, verification_progress,
                  initial_block_download, chain_work, size_on_disk, pruned, warnings)
};

//! getnetworkinfo, in bitcoind's fields.
struct NetworkInfo {
    int64_t version{0};
    std::string subversion;
    int64_t protocol_version{0};
    uint64_t local_services{0};
    bool local_relay{true};
    bool network_active{true};
    int64_t connections{0};
    int64_t connections_in{0};
    int64_t connections_out{0};
    std::vector<std::string> local_addresses;
    std::string warnings;
    ORRERY_FIELDS(version, subversion, protocol_version, local_services, local_relay, network_active, connections,
                  connections_in, connections_out, local_addresses, warnings)
};

//! One entry of getpeerinfo. `agent_pid` is the p2p-agent process serving the peer.
struct PeerDetails {
    int64_t id{0};
    std::string address;
    std::string address_bind;
    bool inbound{false};
    std::string connection_type; //!< "inbound", "outbound-full-relay", "manual", ...
    uint64_t services{0};
    int64_t version{0};
    std::string subversion;
    int64_t starting_height{0};
    bool relay_txes{false};
    int64_t conn_time{0};
    int64_t last_send{0};
    int64_t last_recv{0};
    int64_t bytes_sent{0};
    int64_t bytes_recv{0};
    std::optional<double> ping_time;
    std::optional<double> min_ping;
    int64_t agent_pid{0};
    bool handshake_done{false};
    std::vector<std::string> permissions;              //!< bitcoind's names: "noban", "relay", ...
    std::map<std::string, int64_t> bytes_sent_per_msg; //!< counted by the agent, header included
    std::map<std::string, int64_t> bytes_recv_per_msg;
    ORRERY_FIELDS(id, address, address_bind, inbound, connection_type, services, version, subversion, starting_height,
                  relay_txes, conn_time, last_send, last_recv, bytes_sent, bytes_recv, ping_time, min_ping, agent_pid,
                  handshake_done, permissions, bytes_sent_per_msg, bytes_recv_per_msg)
};

//! One entry of listbanned, in bitcoind's fields.
struct BannedSubnet {
    std::string address; //!< "1.2.3.4/32", "10.0.0.0/8"
    int64_t ban_created{0};
    int64_t banned_until{0};
    int64_t ban_duration{0};   //!< banned_until - ban_created
    int64_t time_remaining{0}; //!< banned_until - now
    ORRERY_FIELDS(address, ban_created, banned_until, ban_duration, time_remaining)
};

//! The node's answer when orreryd asks whether an inbound connection may in.
struct Admission {
    bool accepted{false};
    int64_t peer_id{0};
    std::string reason; //!< why not, when refused
    ORRERY_FIELDS(accepted, peer_id, reason)
};

class Node
{
public:
    virtual ~Node() = default;
    virtual BlockchainInfo getBlockchainInfo() = 0;
    virtual NetworkInfo getNetworkInfo() = 0;
    virtual std::vector<PeerDetails> getPeerInfo() = 0;
    virtual int64_t getConnectionCount() = 0;
    //! The addnode RPC: `command` is "add", "remove" or "onetry"; throws RpcError as bitcoind would.
    virtual void addNode(std::string address, std::string command) = 0;
    //! The disconnectnode RPC: by address, or by id when `address` is empty; throws RpcError if no such peer.
    virtual void disconnectNode(std::string address, int64_t peer_id) = 0;
    //! The setban RPC: `command` "add" or "remove"; `bantime` seconds (0: 24 h), or a unix time when
    //! `absolute`. "add" disconnects the peers in the subnet. Throws RpcError as bitcoind would.
    virtual void setBan(std::string subnet, std::string command, int64_t bantime, bool absolute) = 0;
    virtual std::vector<BannedSubnet> listBanned() = 0;
    virtual void clearBanned() = 0;
    //! Asked by orreryd for each accepted inbound socket (connection limits, bans).
    virtual Admission admitInbound(std::string address, std::string local_address) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_NODE_H
