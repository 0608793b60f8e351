// HTTP/1.1 parsing and formatting; see http.h. Every check here guards the
// RPC server against a stranger's bytes, so the parser is strict where
// ambiguity could smuggle a request (duplicate lengths, folding, bare
// Transfer-Encoding) and lenient only where clients really differ (bare LF).
#include <common/http/http.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace orrery::http {
namespace {

bool IsTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

std::string ToLower(std::string_view text)
{
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string_view Trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

//! True if `list` (a comma-separated header value) holds `token`, case-insensitively.
bool HasToken(std::string_view list, std::string_view token)
{
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view item = Trim(list.substr(0, comma));
        if (ToLower(item) == token) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

ParseResult Fail(int status, std::string message)
{
    ParseResult result;
    result.status = ParseStatus::FAILED;
    result.error_status = status;
    result.error_message = std::move(message);
    return result;
}

//! Splits the header block of `buffer` into lines. Returns the offset just past
//! the empty line ending the block, 0 when the block is not complete yet, or
//! fills `failure` when a limit is broken.
size_t SplitHeaderLines(std::string_view buffer, const Limits& limits, std::vector<std::string_view>& lines,
                        std::optional<ParseResult>& failure)
{
    size_t pos = 0;
    bool started = false;
    for (;;) {
        size_t newline = buffer.find('\n', pos);
        size_t line_end = newline == std::string_view::npos ? buffer.size() : newline;
        if (line_end - pos > limits.max_header_line) {
            failure = Fail(431, "Request header line too long");
            return 0;
        }
        if (newline == std::string_view::npos) {
            if (buffer.size() > limits.max_header_bytes) failure = Fail(431, "Request header too large");
            return 0;
        }
        std::string_view line = buffer.substr(pos, newline - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = newline + 1;
        if (pos > limits.max_header_bytes) {
            failure = Fail(431, "Request header too large");
            return 0;
        }
        if (line.empty()) {
            if (!started) continue; // RFC 9112 2.2: ignore empty lines before the request line
            return pos;
        }
        started = true;
        if (lines.size() > limits.max_header_count) {
            failure = Fail(431, "Too many request headers");
            return 0;
        }
        lines.push_back(line);
    }
}

bool ParseRequestLine(std::string_view line, Request& request, std::optional<ParseResult>& failure)
{
    size_t first = line.find(' ');
    size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
        failure = Fail(400, "Malformed request line");
        return false;
    }
    std::string_view method = line.substr(0, first);
    std::string_view target = line.substr(first + 1, second - first - 1);
    std::string_view version = line.substr(second + 1);
    if (!IsToken(method) || target.empty() ||
        std::any_of(target.begin(), target.end(), [](char c) { return c <= 0x20 || c == 0x7f; })) {
        failure = Fail(400, "Malformed request line");
        return false;
    }
    if (version == "HTTP/1.1") {
        request.version_minor = 1;
    } else if (version == "HTTP/1.0") {
        request.version_minor = 0;
    } else if (version.starts_with("HTTP/")) {
        failure = Fail(505, "HTTP version not supported");
        return false;
    } else {
        failure = Fail(400, "Malformed request line");
        return false;
    }
    request.method = std::string(method);
    request.target = std::string(target);
    return true;
}

bool ParseHeaderLine(std::string_view line, Request& request, std::optional<ParseResult>& failure)
{
    size_t colon = line.find(':');
    // Folded lines (leading whitespace) and whitespace before the colon are refused (RFC 9112 5.1, 5.2).
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
        failure = Fail(400, "Malformed header line");
        return false;
    }
    std::string_view value = Trim(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return (u < 0x20 && c != '\t') || u == 0x7f;
        })) {
        failure = Fail(400, "Control character in header value");
        return false;
    }
    request.headers.emplace_back(ToLower(line.substr(0, colon)), std::string(value));
    return true;
}

} // namespace

std::optional<std::string_view> Request::Header(std::string_view lower_name) const
{
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return std::string_view(value);
    }
    return std::nullopt;
}

ParseResult ParseRequest(std::string_view buffer, const Limits& limits)
{
    std::vector<std::string_view> lines;
    std::optional<ParseResult> failure;
    size_t header_end = SplitHeaderLines(buffer, limits, lines, failure);
    if (failure) return std::move(*failure);
    if (header_end == 0) return {};

    ParseResult result;
    Request& request = result.request;
    if (!ParseRequestLine(lines[0], request, failure)) return std::move(*failure);
    for (size_t i = 1; i < lines.size(); ++i) {
        if (!ParseHeaderLine(lines[i], request, failure)) return std::move(*failure);
    }

    std::optional<size_t> content_length;
    bool connection_close = false, connection_keep_alive = false;
    for (const auto& [name, value] : request.headers) {
        if (name == "transfer-encoding") {
            if (HasToken(value, "chunked"))
                return Fail(411, "Chunked transfer encoding is not supported; send Content-Length");
            return Fail(501, "Transfer-Encoding is not supported");
        } else if (name == "content-length") {
            size_t length = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
            if (value.empty() || error == std::errc::result_out_of_range) {
                if (!value.empty() &&
                    std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                    return Fail(413, "Request body too large");
                }
                return Fail(400, "Invalid Content-Length");
            }
            if (error != std::errc() || end != value.data() + value.size()) return Fail(400, "Invalid Content-Length");
            if (content_length && *content_length != length) return Fail(400, "Conflicting Content-Length headers");
            content_length = length;
        } else if (name == "connection") {
            connection_close |= HasToken(value, "close");
            connection_keep_alive |= HasToken(value, "keep-alive");
        } else if (name == "expect") {
            if (ToLower(value) != "100-continue") return Fail(417, "Unsupported Expect header");
            request.expect_continue = request.version_minor >= 1;
        }
    }
    request.keep_alive = !connection_close && (request.version_minor >= 1 || connection_keep_alive);
    if (!content_length) {
        if (request.method == "POST" || request.method == "PUT") return Fail(411, "Content-Length required");
        content_length = 0;
    }
    if (*content_length > limits.max_body) return Fail(413, "Request body too large");

    if (buffer.size() - header_end < *content_length) {
        result.status = ParseStatus::HEADERS_ONLY;
        result.request.body.clear();
        return result;
    }
    request.body = std::string(buffer.substr(header_end, *content_length));
    result.status = ParseStatus::COMPLETE;
    result.consumed = header_end + *content_length;
    return result;
}

std::string_view StatusText(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

std::string FormatResponse(const Response& response, bool keep_alive)
{
    std::string out =
        "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(StatusText(response.status)) + "\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    if (response.stream) return out + "Connection: close\r\n\r\n";
    if (response.status != 204) out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    if (!keep_alive || response.close) out += "Connection: close\r\n";
    out += "\r\n";
    if (response.status != 204) out += response.body;
    return out;
}

std::optional<ClientResponse> ParseResponse(std::string_view buffer, bool at_eof, size_t max_body)
{
    size_t end = buffer.find("\r\n\r\n");
    size_t skip = 4;
    if (end == std::string_view::npos) {
        end = buffer.find("\n\n");
        skip = 2;
    }
    if (end == std::string_view::npos) {
        if (at_eof) throw std::runtime_error(buffer.empty() ? "no response from server" : "truncated HTTP response");
        if (buffer.size() > 65536) throw std::runtime_error("HTTP response header too large");
        return std::nullopt;
    }
    ClientResponse response;
    std::string_view head = buffer.substr(0, end);
    size_t line_end = head.find('\n');
    std::string_view status_line = head.substr(0, line_end);
    if (!status_line.empty() && status_line.back() == '\r') status_line.remove_suffix(1);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
        throw std::runtime_error("malformed HTTP status line");
    }
    auto [p, error] = std::from_chars(status_line.data() + 9, status_line.data() + 12, response.status);
    if (error != std::errc() || p != status_line.data() + 12) throw std::runtime_error("malformed HTTP status line");
    std::optional<size_t> length;
    while (line_end != std::string_view::npos) {
        head.remove_prefix(line_end + 1);
        line_end = head.find('\n');
        std::string_view line = head.substr(0, line_end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name = ToLower(Trim(line.substr(0, colon)));
        std::string_view value = Trim(line.substr(colon + 1));
        if (name == "transfer-encoding") throw std::runtime_error("chunked HTTP responses are not supported");
        if (name == "content-length") {
            size_t n = 0;
            auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (e != std::errc() || q != value.data() + value.size())
                throw std::runtime_error("invalid Content-Length");
            length = n;
        }
        response.headers.emplace_back(std::move(name), std::string(value));
    }
    std::string_view body = buffer.substr(end + skip);
    if (length) {
        if (*length > max_body) throw std::runtime_error("HTTP response too large");
        if (body.size() < *length) {
            if (at_eof) throw std::runtime_error("truncated HTTP response");
            return std::nullopt;
        }
        response.body = std::string(body.substr(0, *length));
        return response;
    }
    if (body.size() > max_body) throw std::runtime_error("HTTP response too large");
    if (!at_eof && response.status != 204) return std::nullopt;
    response.body = std::string(body);
    return response;
}

// --- encodings -------------------------------------------------------------

namespace {
constexpr std::string_view BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view data)
{
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
                     static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8 |
                     static_cast<unsigned char>(data[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += BASE64_ALPHABET[(v >> shift) & 63];
    }
    size_t rest = data.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
        if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
        out += BASE64_ALPHABET[(v >> 18) & 63];
        out += BASE64_ALPHABET[(v >> 12) & 63];
        out += rest == 2 ? BASE64_ALPHABET[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> Base64Decode(std::string_view text)
{
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        uint32_t v = 0;
        int padding = 0;
        for (size_t j = 0; j < 4; ++j) {
            char c = text[i + j];
            if (c == '=') {
                // Padding only in the last group's last one or two places.
                if (i + 4 != text.size() || j < 2) return std::nullopt;
                ++padding;
                v <<= 6;
                continue;
            }
            if (padding > 0) return std::nullopt;
            size_t index = BASE64_ALPHABET.find(c);
            if (index == std::string_view::npos) return std::nullopt;
            v = (v << 6) | static_cast<uint32_t>(index);
        }
        // The bits a padded group leaves over must be zero, as bitcoind's DecodeBase64 requires:
        // otherwise "Y9o=" and "Y9p=" would be the same bytes and the encoding not one-to-one.
        if ((padding == 1 && (v & 0xff) != 0) || (padding == 2 && (v & 0xffff) != 0)) return std::nullopt;
        out += static_cast<char>((v >> 16) & 0xff);
        if (padding < 2) out += static_cast<char>((v >> 8) & 0xff);
        if (padding < 1) out += static_cast<char>(v & 0xff);
    }
    return out;
}

std::optional<std::string> PercentDecode(std::string_view text)
{
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        int high = hex(text[i + 1]), low = hex(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

std::string PercentEncode(std::string_view text)
{
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += HEX[u >> 4];
            out += HEX[u & 15];
        }
    }
    return out;
}

} // namespace orrery::http
