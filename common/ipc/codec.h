// The value layer of the wire: a msgpack writer and a bounds-checked reader.
// Neither exposes msgpack itself, so only common/ipc depends on it.
#ifndef ORRERY_COMMON_IPC_CODEC_H
#define ORRERY_COMMON_IPC_CODEC_H

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace orrery::ipc {

//! Appends msgpack-encoded values to a byte vector it does not own.
class Writer
{
public:
    explicit Writer(std::vector<uint8_t>& out) : m_out(out) {}

    void Nil();
    void Bool(bool value);
    void Uint(uint64_t value);
    void Int(int64_t value);
    void Double(double value);
    void Str(std::string_view value);
    void Bin(std::span<const uint8_t> value);
    void ArrayHeader(uint32_t count);
    void MapHeader(uint32_t count);
    //! Appends bytes that already hold one or more encoded values.
    void Raw(std::span<const uint8_t> encoded);

    std::vector<uint8_t>& Buffer() { return m_out; }

private:
    void Put8(uint8_t byte) { m_out.push_back(byte); }
    void PutBE(uint64_t value, int bytes);
    std::vector<uint8_t>& m_out;
};

//! Reads a sequence of decoded values: the elements of an array, the key/value
//! items of a map, or one value. Views (Str, Bin) point into the received
//! message and live as long as it does. Every mismatch throws DecodeError
//! naming the position and what was expected.
class Reader
{
public:
    //! `objects` points at decoded values owned by a DecodedMessage (opaque here).
    Reader(const void* objects, uint32_t count) : m_objects(objects), m_count(count) {}

    uint32_t Size() const { return m_count; }
    uint32_t Position() const { return m_pos; }
    bool AtEnd() const { return m_pos >= m_count; }
    bool PeekNil() const;

    void Nil();
    bool Bool();
    uint64_t Uint();
    int64_t Int();
    double Double();
    std::string_view Str();
    std::span<const uint8_t> Bin();
    //! Enters an array; the returned reader walks its elements.
    Reader Array();
    //! Enters a map; the returned reader walks key, value, key, value...
    Reader Map();
    //! Skips one value of any type.
    void Skip();

private:
    const void* Next(const char* expected);
    const void* m_objects;
    uint32_t m_count;
    uint32_t m_pos{0};
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_CODEC_H
