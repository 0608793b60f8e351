// The wire envelope of ARCHITECTURE.md: every message after the routing frames
// is one msgpack array [version, kind, id, method, body].
#ifndef ORRERY_COMMON_IPC_ENVELOPE_H
#define ORRERY_COMMON_IPC_ENVELOPE_H

#include <common/ipc/codec.h>
#include <common/ipc/error.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace orrery::ipc {

inline constexpr uint64_t PROTOCOL_VERSION = 1;
inline constexpr size_t DEFAULT_MAX_MESSAGE_SIZE = 32 * 1024 * 1024;

enum class Kind : uint8_t { REQUEST = 0, RESPONSE = 1, ERROR = 2, NOTIFICATION = 3, CANCEL = 4 };

const char* KindName(Kind kind);

//! Starts an envelope in `out`: after this, write exactly one body value.
void BeginEnvelope(Writer& out, Kind kind, uint64_t id, std::string_view method);
//! A whole error envelope {code, message}.
std::vector<uint8_t> MakeErrorEnvelope(uint64_t id, std::string_view method, ErrorCode code, std::string_view message);

//! A decoded envelope. Views into the message stay valid while this object
//! lives, and it keeps the received bytes alive through `owner`.
class Envelope
{
public:
    ~Envelope();
    Envelope(const Envelope&) = delete;
    Envelope& operator=(const Envelope&) = delete;

    uint64_t version{0};
    Kind kind{Kind::REQUEST};
    uint64_t id{0};
    std::string_view method;
    size_t size{0}; //!< bytes on the wire

    //! The body as a sequence of one value (responses, errors, cancels).
    Reader Body() const;
    //! The body's elements when it is an array (request arguments, notification
    //! [subscription, args...]); throws DecodeError otherwise.
    Reader BodyItems() const;
    //! For kind ERROR: the {code, message} map, read leniently.
    Error BodyAsError() const;

private:
    friend std::unique_ptr<Envelope> DecodeEnvelope(std::span<const uint8_t>, std::shared_ptr<const void>, size_t);
    Envelope();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

//! Raised for bytes that are not a valid envelope. `id` and `method` are set
//! when they could be read, so that the error can still be answered.
class EnvelopeError : public Error
{
public:
    EnvelopeError(ErrorCode code, const std::string& message, std::optional<uint64_t> id, std::string method)
        : Error(code, message), m_id(id), m_method(std::move(method)) {}
    std::optional<uint64_t> id() const { return m_id; }
    const std::string& method() const { return m_method; }

private:
    std::optional<uint64_t> m_id;
    std::string m_method;
};

//! Decodes untrusted bytes. `owner` keeps `bytes` alive as long as the
//! envelope. Throws EnvelopeError; never reads out of bounds, and limits
//! nesting and container sizes so that a small frame cannot claim huge memory.
std::unique_ptr<Envelope> DecodeEnvelope(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner,
                                         size_t max_size = DEFAULT_MAX_MESSAGE_SIZE);

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_ENVELOPE_H
