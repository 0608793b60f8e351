// Envelope encoding and the decoder of untrusted frames.
#include <common/ipc/envelope.h>

#include <msgpack.hpp>

namespace orrery::ipc {

const char* KindName(Kind kind)
{
    switch (kind) {
    case Kind::REQUEST: return "request";
    case Kind::RESPONSE: return "response";
    case Kind::ERROR: return "error";
    case Kind::NOTIFICATION: return "notification";
    case Kind::CANCEL: return "cancel";
    }
    return "?";
}

void BeginEnvelope(Writer& out, Kind kind, uint64_t id, std::string_view method)
{
    out.ArrayHeader(5);
    out.Uint(PROTOCOL_VERSION);
    out.Uint(static_cast<uint8_t>(kind));
    out.Uint(id);
    out.Str(method);
}

std::vector<uint8_t> MakeErrorEnvelope(uint64_t id, std::string_view method, ErrorCode code, std::string_view message)
{
    std::vector<uint8_t> bytes;
    bytes.reserve(32 + method.size() + message.size());
    Writer w(bytes);
    BeginEnvelope(w, Kind::ERROR, id, method);
    w.MapHeader(2);
    w.Str("code");
    w.Int(static_cast<int32_t>(code));
    w.Str("message");
    w.Str(message);
    return bytes;
}

struct Envelope::Impl {
    msgpack::object_handle handle;
    std::shared_ptr<const void> owner;
    const msgpack::object* body{nullptr};
};

Envelope::Envelope() : m_impl(std::make_unique<Impl>()) {}
Envelope::~Envelope() = default;

Reader Envelope::Body() const { return Reader(m_impl->body, 1); }

Reader Envelope::BodyItems() const
{
    const msgpack::object& body = *m_impl->body;
    if (body.type != msgpack::type::ARRAY) throw DecodeError("the body must be an array of arguments");
    return Reader(body.via.array.ptr, body.via.array.size);
}

Error Envelope::BodyAsError() const
{
    const msgpack::object& body = *m_impl->body;
    int64_t code = static_cast<int32_t>(ErrorCode::INTERNAL_ERROR);
    std::string message = "malformed error body";
    if (body.type == msgpack::type::MAP) {
        for (uint32_t i = 0; i < body.via.map.size; ++i) {
            const auto& kv = body.via.map.ptr[i];
            if (kv.key.type != msgpack::type::STR) continue;
            std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
            if (key == "code" && kv.val.type == msgpack::type::NEGATIVE_INTEGER) code = kv.val.via.i64;
            if (key == "code" && kv.val.type == msgpack::type::POSITIVE_INTEGER && kv.val.via.u64 < INT32_MAX) {
                code = static_cast<int64_t>(kv.val.via.u64);
            }
            if (key == "message" && kv.val.type == msgpack::type::STR) {
                message.assign(kv.val.via.str.ptr, kv.val.via.str.size);
            }
        }
    }
    return Error(static_cast<ErrorCode>(static_cast<int32_t>(code)), message);
}

namespace {
// Strings and binaries are referenced in place, never copied: the frame stays alive with the envelope.
bool ReferenceAll(msgpack::type::object_type, std::size_t, void*) { return true; }
} // namespace

std::unique_ptr<Envelope> DecodeEnvelope(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner,
                                         size_t max_size)
{
    if (bytes.size() > max_size) {
        throw EnvelopeError(ErrorCode::MESSAGE_TOO_LARGE,
                            "message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                                std::to_string(max_size),
                            std::nullopt, "");
    }
    if (bytes.empty()) throw EnvelopeError(ErrorCode::PARSE_ERROR, "empty frame", std::nullopt, "");
    // Every element takes at least one byte, so no container can legitimately
    // hold more elements than the frame has bytes; a cap of 1M keeps the
    // decoder's allocation proportional to what was actually received.
    const size_t max_items = std::min<size_t>(bytes.size(), 1 << 20);
    msgpack::unpack_limit limit(max_items, max_items, max_size, max_size, max_size, 32);

    auto envelope = std::unique_ptr<Envelope>(new Envelope());
    std::size_t offset = 0;
    try {
        envelope->m_impl->handle = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset,
                                                   ReferenceAll, nullptr, limit);
    } catch (const std::exception& e) {
        throw EnvelopeError(ErrorCode::PARSE_ERROR, std::string("not a msgpack frame: ") + e.what(), std::nullopt, "");
    }
    if (offset != bytes.size()) {
        throw EnvelopeError(ErrorCode::PARSE_ERROR,
                            std::to_string(bytes.size() - offset) + " trailing bytes after the envelope", std::nullopt,
                            "");
    }
    envelope->m_impl->owner = std::move(owner);
    envelope->size = bytes.size();
    const msgpack::object& root = envelope->m_impl->handle.get();
    if (root.type != msgpack::type::ARRAY || root.via.array.size != 5) {
        throw EnvelopeError(ErrorCode::INVALID_REQUEST, "the envelope must be an array of 5 elements", std::nullopt, "");
    }
    const msgpack::object* f = root.via.array.ptr;
    // Read id and method first: they let even a rejected message be answered.
    std::optional<uint64_t> id;
    std::string method;
    if (f[2].type == msgpack::type::POSITIVE_INTEGER) id = f[2].via.u64;
    if (f[3].type == msgpack::type::STR) method.assign(f[3].via.str.ptr, std::min<size_t>(f[3].via.str.size, 256));
    if (f[0].type != msgpack::type::POSITIVE_INTEGER) {
        throw EnvelopeError(ErrorCode::INVALID_REQUEST, "version must be an unsigned integer", id, method);
    }
    if (f[0].via.u64 != PROTOCOL_VERSION) {
        throw EnvelopeError(ErrorCode::VERSION_MISMATCH,
                            "protocol version " + std::to_string(f[0].via.u64) + " is not supported (this side speaks " +
                                std::to_string(PROTOCOL_VERSION) + ")",
                            id, method);
    }
    if (f[1].type != msgpack::type::POSITIVE_INTEGER || f[1].via.u64 > static_cast<uint64_t>(Kind::CANCEL)) {
        throw EnvelopeError(ErrorCode::INVALID_REQUEST, "unknown message kind", id, method);
    }
    if (!id) throw EnvelopeError(ErrorCode::INVALID_REQUEST, "id must be an unsigned 64-bit integer", id, method);
    if (f[3].type != msgpack::type::STR) {
        throw EnvelopeError(ErrorCode::INVALID_REQUEST, "method must be a string", id, method);
    }
    if (f[3].via.str.size > 256) throw EnvelopeError(ErrorCode::INVALID_REQUEST, "method name too long", id, method);
    envelope->version = f[0].via.u64;
    envelope->kind = static_cast<Kind>(f[1].via.u64);
    envelope->id = *id;
    envelope->method = std::string_view(f[3].via.str.ptr, f[3].via.str.size);
    envelope->m_impl->body = &f[4];
    return envelope;
}

} // namespace orrery::ipc
