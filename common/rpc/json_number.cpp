// Raw JSON numbers and the one writer of RPC JSON that prints them.
#include <common/rpc/json_number.h>

#include <common/rpc/protocol.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace orrery::rpc {

namespace {

//! The binary subtype that marks a raw number ('n').
constexpr std::uint64_t RAW_NUMBER_SUBTYPE = 0x6e;

//! JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text)
{
    size_t i = 0;
    auto digits = [&] {
        const size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        return i > start;
    };
    if (i < text.size() && text[i] == '-') ++i;
    if (i < text.size() && text[i] == '0') {
        ++i;
    } else if (!digits()) {
        return false;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == text.size();
}

//! Walks containers itself and hands scalars to one nlohmann serializer writing into the same string.
class Writer
{
public:
    Writer(std::string& out, int indent)
        : m_out(out), m_indent(indent),
          m_scalars(nlohmann::detail::output_adapter<char, std::string>(out), ' ', Json::error_handler_t::replace)
    {
    }

    void Write(const Json& value, int depth)
    {
        if (value.is_object()) {
            if (value.empty()) {
                m_out += "{}";
                return;
            }
            m_out += '{';
            bool first = true;
            for (auto it = value.begin(); it != value.end(); ++it) {
                if (!first) m_out += ',';
                first = false;
                NewLine(depth + 1);
                m_scalars.dump(Json(it.key()), false, false, 0);
                m_out += m_indent < 0 ? ":" : ": ";
                Write(it.value(), depth + 1);
            }
            NewLine(depth);
            m_out += '}';
        } else if (value.is_array()) {
            if (value.empty()) {
                m_out += "[]";
                return;
            }
            m_out += '[';
            bool first = true;
            for (const Json& element : value) {
                if (!first) m_out += ',';
                first = false;
                NewLine(depth + 1);
                Write(element, depth + 1);
            }
            NewLine(depth);
            m_out += ']';
        } else if (IsRawNumber(value)) {
            const auto& bytes = value.get_binary();
            m_out.append(bytes.begin(), bytes.end());
        } else if (value.is_number_float()) {
            // UniValue's setFloat: 16 significant digits, so 1.0 prints "1" and not nlohmann's "1.0".
            const double number = value.get<double>();
            m_out += std::isfinite(number) ? fmt::format("{:.16g}", number) : "null";
        } else {
            m_scalars.dump(value, false, false, 0);
        }
    }

private:
    void NewLine(int level)
    {
        if (m_indent < 0) return;
        m_out += '\n';
        m_out.append(static_cast<size_t>(m_indent) * static_cast<size_t>(level), ' ');
    }

    std::string& m_out;
    const int m_indent;
    nlohmann::detail::serializer<Json> m_scalars;
};

} // namespace

Json RawNumber(std::string_view text)
{
    if (!IsJsonNumber(text)) throw std::invalid_argument(fmt::format("'{}' is not a JSON number", text));
    return Json::binary(Json::binary_t::container_type(text.begin(), text.end()), RAW_NUMBER_SUBTYPE);
}

bool IsRawNumber(const Json& value)
{
    return value.is_binary() && value.get_binary().has_subtype() && value.get_binary().subtype() == RAW_NUMBER_SUBTYPE;
}

std::string RawNumberText(const Json& value)
{
    const auto& bytes = value.get_binary();
    return std::string(bytes.begin(), bytes.end());
}

bool IsNumber(const Json& value)
{
    return value.is_number() || IsRawNumber(value);
}

double NumberValue(const Json& value)
{
    if (value.is_number()) return value.get<double>();
    if (IsRawNumber(value)) return std::strtod(RawNumberText(value).c_str(), nullptr);
    throw RpcException(RPC_TYPE_ERROR, "Expected a number");
}

Json ValueFromAmount(int64_t amount)
{
    // As Core: the sign, then the magnitude's whole coins and its eight decimals (INT64_MIN's magnitude fits in
    // uint64_t).
    const bool negative = amount < 0;
    const uint64_t magnitude = negative ? uint64_t{0} - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
    constexpr uint64_t COIN = 100'000'000;
    return RawNumber(fmt::format("{}{}.{:08}", negative ? "-" : "", magnitude / COIN, magnitude % COIN));
}

std::string WriteJson(const Json& value, int indent)
{
    std::string out;
    Writer(out, indent).Write(value, 0);
    return out;
}

} // namespace orrery::rpc
