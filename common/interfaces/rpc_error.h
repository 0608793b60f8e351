// Bitcoin Core's JSON-RPC error codes. A service throws RpcError; the code
// crosses IPC unchanged (ipc::Error keeps any code) and the gui-bridge answers
// with it, so existing clients see the errors they know.
#ifndef ORRERY_COMMON_INTERFACES_RPC_ERROR_H
#define ORRERY_COMMON_INTERFACES_RPC_ERROR_H

#include <common/ipc/error.h>

#include <string>

namespace orrery::interfaces {

enum RpcErrorCode : int32_t {
    RPC_MISC_ERROR = -1,
    RPC_TYPE_ERROR = -3,
    RPC_INVALID_ADDRESS_OR_KEY = -5,
    RPC_INVALID_PARAMETER = -8,
    RPC_DATABASE_ERROR = -20,
    RPC_DESERIALIZATION_ERROR = -22,
    RPC_CLIENT_NODE_ALREADY_ADDED = -23,
    RPC_CLIENT_NODE_NOT_ADDED = -24,
    RPC_CLIENT_NODE_NOT_CONNECTED = -29,
    RPC_CLIENT_INVALID_IP_OR_SUBNET = -30,
    RPC_WALLET_ERROR = -4,
    RPC_WALLET_INVALID_LABEL_NAME = -11,
    RPC_WALLET_NOT_FOUND = -18,
    RPC_WALLET_NOT_SPECIFIED = -19,
    RPC_WALLET_ALREADY_LOADED = -35,
    RPC_WALLET_ALREADY_EXISTS = -36,
};

//! Throw from an interface implementation to give the RPC caller this code.
inline ipc::Error RpcError(RpcErrorCode code, const std::string& message)
{
    return ipc::Error(static_cast<ipc::ErrorCode>(code), message);
}

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_RPC_ERROR_H
