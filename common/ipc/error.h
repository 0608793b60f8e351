// Errors that cross, or are caused by, an IPC connection.
#ifndef ORRERY_COMMON_IPC_ERROR_H
#define ORRERY_COMMON_IPC_ERROR_H

#include <cstdint>
#include <stdexcept>
#include <string>

namespace orrery::ipc {

//! Codes of the error body {code, message}. The JSON-RPC ones keep their meaning.
enum class ErrorCode : int32_t {
    PARSE_ERROR = -32700,      //!< the frame is not a msgpack envelope
    INVALID_REQUEST = -32600,  //!< envelope fields of the wrong type, unknown kind
    METHOD_NOT_FOUND = -32601,
    INVALID_PARAMS = -32602,   //!< wrong argument count or types
    INTERNAL_ERROR = -32603,
    REMOTE_EXCEPTION = -32000, //!< the implementation threw
    VERSION_MISMATCH = -32001,
    MESSAGE_TOO_LARGE = -32002,
    BUSY = -32003,             //!< too many requests in flight from this peer
    DISCONNECTED = -32004,     //!< the peer went away (or never came)
    HELLO_REQUIRED = -32005,   //!< a request before init.hello
    PERMISSION_DENIED = -32006,//!< this caller's role may not call the method
    TIMEOUT = -32007,
};

const char* ErrorCodeName(ErrorCode code);

//! An IPC failure. Remote exceptions arrive as Error(REMOTE_EXCEPTION, their message).
class Error : public std::runtime_error
{
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}
    ErrorCode code() const { return m_code; }

private:
    ErrorCode m_code;
};

//! A value of the wrong type or shape while decoding arguments or results.
class DecodeError : public Error
{
public:
    explicit DecodeError(const std::string& message) : Error(ErrorCode::INVALID_PARAMS, message) {}
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_ERROR_H
