// Node: served by orrery-node to orreryd, which asks it to admit each inbound
// peer. The node's RPC methods are not here: the node registers them with the
// gui-bridge (common/interfaces/rpc.h, services/node/rpc/).
#ifndef ORRERY_COMMON_INTERFACES_NODE_H
#define ORRERY_COMMON_INTERFACES_NODE_H

#include <common/ipc/serialize.h>

#include <cstdint>
#include <string>

namespace orrery::interfaces {

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
    //! Asked by orreryd for each accepted inbound socket (connection limits, bans).
    virtual Admission admitInbound(std::string address, std::string local_address) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_NODE_H
