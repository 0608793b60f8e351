// Writer: a small hand-written msgpack encoder (it only ever sees our own
// values). Reader: walks objects decoded by msgpack-c from untrusted bytes.
#include <common/ipc/codec.h>
#include <common/ipc/error.h>

#include <msgpack.hpp>

#include <cstring>
#include <string>

namespace orrery::ipc {

const char* ErrorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::PARSE_ERROR: return "parse error";
    case ErrorCode::INVALID_REQUEST: return "invalid request";
    case ErrorCode::METHOD_NOT_FOUND: return "method not found";
    case ErrorCode::INVALID_PARAMS: return "invalid params";
    case ErrorCode::INTERNAL_ERROR: return "internal error";
    case ErrorCode::REMOTE_EXCEPTION: return "remote exception";
    case ErrorCode::VERSION_MISMATCH: return "version mismatch";
    case ErrorCode::MESSAGE_TOO_LARGE: return "message too large";
    case ErrorCode::BUSY: return "busy";
    case ErrorCode::DISCONNECTED: return "disconnected";
    case ErrorCode::HELLO_REQUIRED: return "hello required";
    case ErrorCode::PERMISSION_DENIED: return "permission denied";
    case ErrorCode::TIMEOUT: return "timeout";
    }
    return "unknown error";
}

// ---------------------------------------------------------------- Writer

void Writer::PutBE(uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i) m_out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void Writer::Nil() { Put8(0xc0); }

void Writer::Bool(bool value) { Put8(value ? 0xc3 : 0xc2); }

void Writer::Uint(uint64_t value)
{
    if (value < 0x80) {
        Put8(static_cast<uint8_t>(value));
    } else if (value <= 0xff) {
        Put8(0xcc);
        PutBE(value, 1);
    } else if (value <= 0xffff) {
        Put8(0xcd);
        PutBE(value, 2);
    } else if (value <= 0xffffffff) {
        Put8(0xce);
        PutBE(value, 4);
    } else {
        Put8(0xcf);
        PutBE(value, 8);
    }
}

void Writer::Int(int64_t value)
{
    if (value >= 0) return Uint(static_cast<uint64_t>(value));
    if (value >= -32) {
        Put8(static_cast<uint8_t>(value));
    } else if (value >= INT8_MIN) {
        Put8(0xd0);
        PutBE(static_cast<uint64_t>(value), 1);
    } else if (value >= INT16_MIN) {
        Put8(0xd1);
        PutBE(static_cast<uint64_t>(value), 2);
    } else if (value >= INT32_MIN) {
        Put8(0xd2);
        PutBE(static_cast<uint64_t>(value), 4);
    } else {
        Put8(0xd3);
        PutBE(static_cast<uint64_t>(value), 8);
    }
}

void Writer::Double(double value)
{
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    Put8(0xcb);
    PutBE(bits, 8);
}

void Writer::Str(std::string_view value)
{
    size_t n = value.size();
    if (n < 32) {
        Put8(static_cast<uint8_t>(0xa0 | n));
    } else if (n <= 0xff) {
        Put8(0xd9);
        PutBE(n, 1);
    } else if (n <= 0xffff) {
        Put8(0xda);
        PutBE(n, 2);
    } else {
        Put8(0xdb);
        PutBE(n, 4);
    }
    m_out.insert(m_out.end(), value.begin(), value.end());
}

void Writer::Bin(std::span<const uint8_t> value)
{
    size_t n = value.size();
    if (n <= 0xff) {
        Put8(0xc4);
        PutBE(n, 1);
    } else if (n <= 0xffff) {
        Put8(0xc5);
        PutBE(n, 2);
    } else {
        Put8(0xc6);
        PutBE(n, 4);
    }
    m_out.insert(m_out.end(), value.begin(), value.end());
}

void Writer::ArrayHeader(uint32_t count)
{
    if (count < 16) {
        Put8(static_cast<uint8_t>(0x90 | count));
    } else if (count <= 0xffff) {
        Put8(0xdc);
        PutBE(count, 2);
    } else {
        Put8(0xdd);
        PutBE(count, 4);
    }
}

void Writer::MapHeader(uint32_t count)
{
    if (count < 16) {
        Put8(static_cast<uint8_t>(0x80 | count));
    } else if (count <= 0xffff) {
        Put8(0xde);
        PutBE(count, 2);
    } else {
        Put8(0xdf);
        PutBE(count, 4);
    }
}

void Writer::Raw(std::span<const uint8_t> encoded) { m_out.insert(m_out.end(), encoded.begin(), encoded.end()); }

// ---------------------------------------------------------------- Reader

static_assert(sizeof(msgpack::object_kv) == 2 * sizeof(msgpack::object), "map items are read as a flat sequence");

namespace {
const char* TypeName(msgpack::type::object_type type)
{
    switch (type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "boolean";
    case msgpack::type::POSITIVE_INTEGER: return "unsigned integer";
    case msgpack::type::NEGATIVE_INTEGER: return "negative integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "string";
    case msgpack::type::BIN: return "binary";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "extension";
    }
    return "unknown";
}

const msgpack::object& AsObject(const void* p) { return *static_cast<const msgpack::object*>(p); }

[[noreturn]] void Mismatch(uint32_t pos, const char* expected, const msgpack::object& got)
{
    throw DecodeError("value " + std::to_string(pos) + ": expected " + expected + ", got " + TypeName(got.type));
}
} // namespace

const void* Reader::Next(const char* expected)
{
    if (m_pos >= m_count) {
        throw DecodeError("value " + std::to_string(m_pos) + ": expected " + expected + ", got nothing (only " +
                          std::to_string(m_count) + " values)");
    }
    return static_cast<const msgpack::object*>(m_objects) + m_pos++;
}

bool Reader::PeekNil() const
{
    return m_pos < m_count && (static_cast<const msgpack::object*>(m_objects) + m_pos)->type == msgpack::type::NIL;
}

void Reader::Nil()
{
    const auto& o = AsObject(Next("nil"));
    if (o.type != msgpack::type::NIL) Mismatch(m_pos - 1, "nil", o);
}

bool Reader::Bool()
{
    const auto& o = AsObject(Next("boolean"));
    if (o.type != msgpack::type::BOOLEAN) Mismatch(m_pos - 1, "boolean", o);
    return o.via.boolean;
}

uint64_t Reader::Uint()
{
    const auto& o = AsObject(Next("unsigned integer"));
    if (o.type != msgpack::type::POSITIVE_INTEGER) Mismatch(m_pos - 1, "unsigned integer", o);
    return o.via.u64;
}

int64_t Reader::Int()
{
    const auto& o = AsObject(Next("integer"));
    if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
    if (o.type == msgpack::type::POSITIVE_INTEGER) {
        if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) {
            throw DecodeError("value " + std::to_string(m_pos - 1) + ": integer out of range");
        }
        return static_cast<int64_t>(o.via.u64);
    }
    Mismatch(m_pos - 1, "integer", o);
}

double Reader::Double()
{
    const auto& o = AsObject(Next("float"));
    if (o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64) return o.via.f64;
    if (o.type == msgpack::type::POSITIVE_INTEGER) return static_cast<double>(o.via.u64);
    if (o.type == msgpack::type::NEGATIVE_INTEGER) return static_cast<double>(o.via.i64);
    Mismatch(m_pos - 1, "float", o);
}

std::string_view Reader::Str()
{
    const auto& o = AsObject(Next("string"));
    if (o.type != msgpack::type::STR) Mismatch(m_pos - 1, "string", o);
    return {o.via.str.ptr, o.via.str.size};
}

std::span<const uint8_t> Reader::Bin()
{
    const auto& o = AsObject(Next("binary"));
    if (o.type != msgpack::type::BIN) Mismatch(m_pos - 1, "binary", o);
    return {reinterpret_cast<const uint8_t*>(o.via.bin.ptr), o.via.bin.size};
}

Reader Reader::Array()
{
    const auto& o = AsObject(Next("array"));
    if (o.type != msgpack::type::ARRAY) Mismatch(m_pos - 1, "array", o);
    return Reader(o.via.array.ptr, o.via.array.size);
}

Reader Reader::Map()
{
    const auto& o = AsObject(Next("map"));
    if (o.type != msgpack::type::MAP) Mismatch(m_pos - 1, "map", o);
    if (o.via.map.size > UINT32_MAX / 2) throw DecodeError("map too large");
    return Reader(o.via.map.ptr, o.via.map.size * 2);
}

void Reader::Skip() { Next("any value"); }

} // namespace orrery::ipc
