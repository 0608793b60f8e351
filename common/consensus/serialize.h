// Bitcoin wire serialization primitives: a bounds-checked reader over a byte
// span and a writer appending to a std::vector. Everything is inline and
// non-virtual so that decoding a block costs a few comparisons per field.
//
// Every decoding failure throws DeserializeError with a message that says
// what was wrong and at which offset; nothing reads past the span and no
// allocation is ever sized by an untrusted length alone.
#ifndef ORRERY_COMMON_CONSENSUS_SERIALIZE_H
#define ORRERY_COMMON_CONSENSUS_SERIALIZE_H

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! Largest length a CompactSize may announce (Core's MAX_SIZE, 32 MiB).
inline constexpr uint64_t MAX_COMPACT_SIZE = 0x02000000;

//! Thrown by every decoder on malformed input. Callers that treat the input
//! as untrusted catch exactly this type.
class DeserializeError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Number of bytes the CompactSize encoding of n takes (1, 3, 5 or 9).
constexpr size_t CompactSizeLength(uint64_t n)
{
    return n < 253 ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

//! Reads little-endian integers, CompactSizes and byte strings from a span it
//! does not own (the span must outlive the reader and any span it returns).
class SpanReader
{
public:
    explicit SpanReader(std::span<const uint8_t> data) : m_data{data} {}

    size_t Position() const { return m_pos; }
    size_t Remaining() const { return m_data.size() - m_pos; }
    bool Empty() const { return m_pos == m_data.size(); }

    //! Returns the next n bytes as a view into the input and advances past them.
    std::span<const uint8_t> ReadSpan(size_t n, std::string_view what = "bytes")
    {
        Require(n, what);
        auto out = m_data.subspan(m_pos, n);
        m_pos += n;
        return out;
    }

    void ReadInto(std::span<uint8_t> out, std::string_view what = "bytes")
    {
        Require(out.size(), what);
        if (!out.empty()) std::memcpy(out.data(), m_data.data() + m_pos, out.size());
        m_pos += out.size();
    }

    uint8_t ReadU8()
    {
        Require(1, "uint8");
        return m_data[m_pos++];
    }
    uint16_t ReadU16() { return uint16_t(ReadLe(2, "uint16")); }
    uint32_t ReadU32() { return uint32_t(ReadLe(4, "uint32")); }
    uint64_t ReadU64() { return ReadLe(8, "uint64"); }
    int32_t ReadI32() { return int32_t(ReadU32()); }
    int64_t ReadI64() { return int64_t(ReadU64()); }

    //! Reads a CompactSize, rejecting non-canonical (longer than needed)
    //! encodings and, when range_check is set, values above MAX_COMPACT_SIZE,
    //! exactly as Core's ReadCompactSize.
    uint64_t ReadCompactSize(bool range_check = true)
    {
        const size_t start = m_pos;
        const uint8_t first = ReadU8();
        uint64_t n;
        if (first < 253) {
            n = first;
        } else if (first == 253) {
            n = ReadLe(2, "CompactSize");
            if (n < 253) Fail(start, "non-canonical CompactSize");
        } else if (first == 254) {
            n = ReadLe(4, "CompactSize");
            if (n < 0x10000) Fail(start, "non-canonical CompactSize");
        } else {
            n = ReadLe(8, "CompactSize");
            if (n < 0x100000000ULL) Fail(start, "non-canonical CompactSize");
        }
        if (range_check && n > MAX_COMPACT_SIZE) {
            Fail(start, "CompactSize " + std::to_string(n) + " exceeds the limit of " + std::to_string(MAX_COMPACT_SIZE));
        }
        return n;
    }

    //! Reads a CompactSize element count for a vector whose elements take at
    //! least min_element_size bytes each, and fails at once if the remaining
    //! input cannot hold that many. The result is therefore safe to reserve().
    //! what names the count in messages ("input count").
    size_t ReadCount(size_t min_element_size, std::string_view what)
    {
        const size_t start = m_pos;
        const uint64_t n = ReadCompactSize();
        if (min_element_size > 0 && n > Remaining() / min_element_size) {
            Fail(start, std::string(what) + " " + std::to_string(n) + " cannot fit in the remaining " +
                            std::to_string(Remaining()) + " bytes");
        }
        return size_t(n);
    }

    //! Reads a CompactSize-prefixed byte string.
    std::vector<uint8_t> ReadByteVector(std::string_view what = "byte vector")
    {
        const size_t n = ReadCount(1, std::string(what) + " length");
        auto bytes = ReadSpan(n, what);
        return {bytes.begin(), bytes.end()};
    }

    //! Throws unless the whole input has been consumed.
    void ExpectEnd(std::string_view what) const
    {
        if (!Empty()) {
            throw DeserializeError(std::to_string(Remaining()) + " trailing bytes after " + std::string(what) +
                                   " (" + std::to_string(m_pos) + " of " + std::to_string(m_data.size()) +
                                   " bytes used)");
        }
    }

    [[noreturn]] void Fail(size_t offset, const std::string& message) const
    {
        throw DeserializeError(message + " at offset " + std::to_string(offset));
    }

private:
    void Require(size_t n, std::string_view what) const
    {
        if (n > Remaining()) {
            throw DeserializeError("truncated data: reading " + std::string(what) + " needs " + std::to_string(n) +
                                   " bytes at offset " + std::to_string(m_pos) + " but only " +
                                   std::to_string(Remaining()) + " remain");
        }
    }

    uint64_t ReadLe(size_t n, std::string_view what)
    {
        Require(n, what);
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;) v = (v << 8) | m_data[m_pos + i];
        m_pos += n;
        return v;
    }

    std::span<const uint8_t> m_data;
    size_t m_pos{0};
};

//! Appends the wire encoding of values to a vector it does not own.
class Writer
{
public:
    explicit Writer(std::vector<uint8_t>& out) : m_out{out} {}

    void WriteU8(uint8_t v) { m_out.push_back(v); }
    void WriteU16(uint16_t v) { WriteLe(v, 2); }
    void WriteU32(uint32_t v) { WriteLe(v, 4); }
    void WriteU64(uint64_t v) { WriteLe(v, 8); }
    void WriteI32(int32_t v) { WriteU32(uint32_t(v)); }
    void WriteI64(int64_t v) { WriteU64(uint64_t(v)); }
    void WriteBytes(std::span<const uint8_t> bytes) { m_out.insert(m_out.end(), bytes.begin(), bytes.end()); }

    void WriteCompactSize(uint64_t n)
    {
        if (n < 253) {
            WriteU8(uint8_t(n));
        } else if (n <= 0xffff) {
            WriteU8(253);
            WriteU16(uint16_t(n));
        } else if (n <= 0xffffffff) {
            WriteU8(254);
            WriteU32(uint32_t(n));
        } else {
            WriteU8(255);
            WriteU64(n);
        }
    }

    //! CompactSize length followed by the bytes.
    void WriteByteVector(std::span<const uint8_t> bytes)
    {
        WriteCompactSize(bytes.size());
        WriteBytes(bytes);
    }

private:
    void WriteLe(uint64_t v, size_t n)
    {
        for (size_t i = 0; i < n; ++i) m_out.push_back(uint8_t(v >> (8 * i)));
    }

    std::vector<uint8_t>& m_out;
};

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_SERIALIZE_H
