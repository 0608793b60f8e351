// Bitcoin Core's JSON-RPC error codes (its rpc/protocol.h), the one list every
// Orrery process uses, and the exception that carries one. An RpcException is
// an ipc::Error whose code is the RPC code, so it also crosses a typed
// interface unchanged: existing clients see the errors they know.
#ifndef ORRERY_COMMON_RPC_PROTOCOL_H
#define ORRERY_COMMON_RPC_PROTOCOL_H

#include <common/ipc/error.h>

#include <cstdint>
#include <string>

namespace orrery::rpc {

enum RpcErrorCode : int32_t {
    // Standard JSON-RPC 2.0 errors.
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
    RPC_PARSE_ERROR = -32700,

    // General application defined errors.
    RPC_MISC_ERROR = -1,
    RPC_TYPE_ERROR = -3,
    RPC_INVALID_ADDRESS_OR_KEY = -5,
    RPC_OUT_OF_MEMORY = -7,
    RPC_INVALID_PARAMETER = -8,
    RPC_DATABASE_ERROR = -20,
    RPC_DESERIALIZATION_ERROR = -22,
    RPC_VERIFY_ERROR = -25,
    RPC_VERIFY_REJECTED = -26,
    RPC_VERIFY_ALREADY_IN_CHAIN = -27,
    RPC_IN_WARMUP = -28,
    RPC_METHOD_DEPRECATED = -32,

    // P2P client errors.
    RPC_CLIENT_NOT_CONNECTED = -9,
    RPC_CLIENT_IN_INITIAL_DOWNLOAD = -10,
    RPC_CLIENT_NODE_ALREADY_ADDED = -23,
    RPC_CLIENT_NODE_NOT_ADDED = -24,
    RPC_CLIENT_NODE_NOT_CONNECTED = -29,
    RPC_CLIENT_INVALID_IP_OR_SUBNET = -30,
    RPC_CLIENT_P2P_DISABLED = -31,
    RPC_CLIENT_MEMPOOL_DISABLED = -33,
    RPC_CLIENT_NODE_CAPACITY_REACHED = -34,

    // Wallet errors.
    RPC_WALLET_ERROR = -4,
    RPC_WALLET_INSUFFICIENT_FUNDS = -6,
    RPC_WALLET_INVALID_LABEL_NAME = -11,
    RPC_WALLET_KEYPOOL_RAN_OUT = -12,
    RPC_WALLET_UNLOCK_NEEDED = -13,
    RPC_WALLET_PASSPHRASE_INCORRECT = -14,
    RPC_WALLET_WRONG_ENC_STATE = -15,
    RPC_WALLET_ENCRYPTION_FAILED = -16,
    RPC_WALLET_ALREADY_UNLOCKED = -17,
    RPC_WALLET_NOT_FOUND = -18,
    RPC_WALLET_NOT_SPECIFIED = -19,
    RPC_WALLET_ALREADY_LOADED = -35,
    RPC_WALLET_ALREADY_EXISTS = -36,
};

//! An error answered to the caller with its code (bitcoind's JSONRPCError).
class RpcException : public ipc::Error
{
public:
    RpcException(int32_t code, const std::string& message) : ipc::Error(static_cast<ipc::ErrorCode>(code), message) {}
    //! The RPC code (hides ipc::Error::code, which gives the same number as an ipc::ErrorCode).
    int32_t code() const { return static_cast<int32_t>(ipc::Error::code()); }
};

} // namespace orrery::rpc

#endif // ORRERY_COMMON_RPC_PROTOCOL_H
