// How plain C++ values cross the wire. One generic rule per kind of type, never
// one per method:
//   bool, integers, enums, floating point, std::string  -> msgpack scalars
//   std::vector<uint8_t> (ipc::Bytes)                    -> bin
//   std::vector<T>, std::map<K,V>, std::optional<T>      -> array, map, value-or-nil
//   structs declaring ORRERY_FIELDS(a, b, c)             -> array of their fields
//   Bitcoin objects, through IpcWrite/IpcRead found by argument-dependent lookup,
//   write their own serialization as one bin.
// Readers accept a struct array with more trailing fields than they know (newer
// peer) and leave missing trailing fields at their defaults (older peer).
#ifndef ORRERY_COMMON_IPC_SERIALIZE_H
#define ORRERY_COMMON_IPC_SERIALIZE_H

#include <common/ipc/codec.h>
#include <common/ipc/error.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

//! Declares a struct's wire fields, in order. Append new fields at the end only.
#define ORRERY_FIELDS(...)                                          \
    auto Tie() { return std::tie(__VA_ARGS__); }                    \
    auto Tie() const { return std::tie(__VA_ARGS__); }

namespace orrery::ipc {

using Bytes = std::vector<uint8_t>;

template <typename T> struct IsVector : std::false_type {};
template <typename T, typename A> struct IsVector<std::vector<T, A>> : std::true_type {};
template <typename T> struct IsOptional : std::false_type {};
template <typename T> struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T> struct IsMap : std::false_type {};
template <typename K, typename V, typename C, typename A> struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <typename T> struct IsPair : std::false_type {};
template <typename A, typename B> struct IsPair<std::pair<A, B>> : std::true_type {};

template <typename T>
concept HasFields = requires(T& t) { t.Tie(); };

template <typename T>
void WriteValue(Writer& w, const T& value);
template <typename T>
void ReadValue(Reader& r, T& value);

template <typename T>
void WriteValue(Writer& w, const T& value)
{
    if constexpr (std::is_same_v<T, bool>) {
        w.Bool(value);
    } else if constexpr (std::is_enum_v<T>) {
        WriteValue(w, static_cast<std::underlying_type_t<T>>(value));
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        w.Uint(value);
    } else if constexpr (std::is_integral_v<T>) {
        w.Int(value);
    } else if constexpr (std::is_floating_point_v<T>) {
        w.Double(value);
    } else if constexpr (std::is_same_v<T, std::string>) {
        w.Str(value);
    } else if constexpr (std::is_same_v<T, Bytes>) {
        w.Bin(value);
    } else if constexpr (IsVector<T>::value) {
        w.ArrayHeader(static_cast<uint32_t>(value.size()));
        for (const auto& item : value) WriteValue(w, item);
    } else if constexpr (IsOptional<T>::value) {
        if (value) {
            WriteValue(w, *value);
        } else {
            w.Nil();
        }
    } else if constexpr (IsMap<T>::value) {
        w.MapHeader(static_cast<uint32_t>(value.size()));
        for (const auto& [k, v] : value) {
            WriteValue(w, k);
            WriteValue(w, v);
        }
    } else if constexpr (IsPair<T>::value) {
        w.ArrayHeader(2);
        WriteValue(w, value.first);
        WriteValue(w, value.second);
    } else if constexpr (HasFields<T>) {
        auto fields = value.Tie();
        w.ArrayHeader(static_cast<uint32_t>(std::tuple_size_v<decltype(fields)>));
        std::apply([&](const auto&... field) { (WriteValue(w, field), ...); }, fields);
    } else {
        IpcWrite(w, value); // customization point, e.g. Bitcoin objects
    }
}

template <typename T>
void ReadValue(Reader& r, T& value)
{
    if constexpr (std::is_same_v<T, bool>) {
        value = r.Bool();
    } else if constexpr (std::is_enum_v<T>) {
        std::underlying_type_t<T> raw;
        ReadValue(r, raw);
        value = static_cast<T>(raw);
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        uint64_t raw = r.Uint();
        if (raw > std::numeric_limits<T>::max()) throw DecodeError("unsigned integer out of range");
        value = static_cast<T>(raw);
    } else if constexpr (std::is_integral_v<T>) {
        int64_t raw = r.Int();
        if (raw < std::numeric_limits<T>::min() || raw > std::numeric_limits<T>::max()) {
            throw DecodeError("integer out of range");
        }
        value = static_cast<T>(raw);
    } else if constexpr (std::is_floating_point_v<T>) {
        value = static_cast<T>(r.Double());
    } else if constexpr (std::is_same_v<T, std::string>) {
        value = std::string(r.Str());
    } else if constexpr (std::is_same_v<T, Bytes>) {
        auto bin = r.Bin();
        value.assign(bin.begin(), bin.end());
    } else if constexpr (IsVector<T>::value) {
        Reader items = r.Array();
        value.clear();
        value.reserve(items.Size());
        while (!items.AtEnd()) {
            typename T::value_type item{};
            ReadValue(items, item);
            value.push_back(std::move(item));
        }
    } else if constexpr (IsOptional<T>::value) {
        if (r.PeekNil()) {
            r.Nil();
            value.reset();
        } else {
            typename T::value_type inner{};
            ReadValue(r, inner);
            value = std::move(inner);
        }
    } else if constexpr (IsMap<T>::value) {
        Reader items = r.Map();
        value.clear();
        while (!items.AtEnd()) {
            typename T::key_type k{};
            typename T::mapped_type v{};
            ReadValue(items, k);
            ReadValue(items, v);
            value.emplace(std::move(k), std::move(v));
        }
    } else if constexpr (IsPair<T>::value) {
        Reader items = r.Array();
        ReadValue(items, value.first);
        ReadValue(items, value.second);
    } else if constexpr (HasFields<T>) {
        Reader items = r.Array();
        auto fields = value.Tie();
        std::apply([&](auto&... field) { ((items.AtEnd() ? void() : ReadValue(items, field)), ...); }, fields);
    } else {
        IpcRead(r, value);
    }
}

//! Reads one method argument, naming it in the error.
template <typename T>
T ReadArg(Reader& args, const char* name)
{
    T value{};
    try {
        ReadValue(args, value);
    } catch (const DecodeError& e) {
        throw DecodeError(std::string("argument '") + name + "': " + e.what());
    }
    return value;
}

//! Fails when a request carries more arguments than the method takes.
inline void ExpectEnd(Reader& args, uint32_t expected)
{
    if (args.Size() != expected) {
        throw DecodeError("wrong number of arguments: expected " + std::to_string(expected) + ", got " +
                          std::to_string(args.Size()));
    }
}

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_SERIALIZE_H
