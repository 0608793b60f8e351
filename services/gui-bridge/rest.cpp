// bitcoind's REST interface over the node's RPC methods; see rest.h.
//
// Paths, formats, status codes and error texts follow bitcoind's rest.cpp. The
// bridge keeps no chain state of its own: a block is getblock's, a header
// getblockheader's, a UTXO gettxout's. Answers that take several calls (headers,
// getutxos) check that the tip did not move under them and start again if it did.
#include <services/gui-bridge/rest.h>

#include <common/rpc/protocol.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace orrery::rest {
namespace {

using rpc::Json;

constexpr uint32_t MEMPOOL_HEIGHT = 0x7FFFFFFF;
constexpr uint64_t MAX_SERIALIZED_SIZE = 0x02000000; // bitcoind's MAX_SIZE for a vector's length
constexpr int CONSISTENT_TRIES = 5;

enum class Format { UNDEF, BINARY, HEX, JSON };

http::Response Reply(int status, std::string content_type, std::string body)
{
    http::Response response;
    response.status = status;
    response.headers.emplace_back("Content-Type", std::move(content_type));
    response.body = std::move(body);
    return response;
}

http::Response Error(int status, const std::string& message)
{
    return Reply(status, "text/plain", message + "\r\n");
}

http::Response JsonReply(const Json& value)
{
    return Reply(200, "application/json", rpc::WriteJson(value) + "\n");
}

std::string HexOf(std::string_view bytes)
{
    static constexpr char DIGITS[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += DIGITS[c >> 4];
        out += DIGITS[c & 15];
    }
    return out;
}

int HexDigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

//! Strict hex (even length, digits only), as the node prints it.
std::optional<std::string> Unhex(std::string_view text)
{
    if (text.size() % 2) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi << 4 | lo);
    }
    return out;
}

//! bitcoind's ParseHex for a request body: whitespace between bytes is skipped; anything else that is not a
//! pair of hex digits makes the whole result empty.
std::string LenientUnhex(std::string_view text)
{
    std::string out;
    size_t i = 0;
    for (;;) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i == text.size()) return out;
        if (i + 1 >= text.size()) return {};
        int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
        if (hi < 0 || lo < 0) return {};
        out += static_cast<char>(hi << 4 | lo);
        i += 2;
    }
}

//! A 64-digit hash as printed (display order) to its serialized bytes; nullopt otherwise.
std::optional<std::array<uint8_t, 32>> ParseHash(std::string_view text)
{
    if (text.size() != 64) return std::nullopt;
    auto bytes = Unhex(text);
    if (!bytes) return std::nullopt;
    std::array<uint8_t, 32> out{};
    for (size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>((*bytes)[31 - i]);
    return out;
}

std::string DisplayHex(const std::array<uint8_t, 32>& hash)
{
    std::string reversed(32, '\0');
    for (size_t i = 0; i < 32; ++i) reversed[i] = static_cast<char>(hash[31 - i]);
    return HexOf(reversed);
}

//! The serialized bytes of a hash the node printed; throws when the node printed something else.
std::string HashBytes(const std::string& display_hex)
{
    auto parsed = ParseHash(display_hex);
    if (!parsed) throw std::runtime_error("the node answered a malformed hash: " + display_hex);
    return std::string(reinterpret_cast<const char*>(parsed->data()), parsed->size());
}

//! bitcoind's ToIntegral: the whole text is one decimal number (a '-' only for signed types), in range.
template <typename T> std::optional<T> ToIntegral(std::string_view text)
{
    T value{};
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
    return value;
}

//! bitcoind's SanitizeString with its default safe characters, for echoing request text in errors.
std::string Sanitize(std::string_view text)
{
    static constexpr std::string_view SAFE = " .,;-_/:?@()";
    std::string out;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) || SAFE.find(c) != std::string_view::npos) out += c;
    }
    return out;
}

void PutLe(std::string& out, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i) out += static_cast<char>(value >> (8 * i) & 0xff);
}

void PutCompactSize(std::string& out, uint64_t n)
{
    if (n < 253) {
        out += static_cast<char>(n);
    } else if (n <= 0xffff) {
        out += static_cast<char>(253);
        PutLe(out, n, 2);
    } else if (n <= 0xffffffff) {
        out += static_cast<char>(254);
        PutLe(out, n, 4);
    } else {
        out += static_cast<char>(255);
        PutLe(out, n, 8);
    }
}

//! Reads bitcoind's CompactSize (canonical, at most MAX_SERIALIZED_SIZE). nullopt when short or invalid.
std::optional<uint64_t> ReadCompactSize(std::string_view data, size_t& pos)
{
    if (pos >= data.size()) return std::nullopt;
    auto first = static_cast<uint8_t>(data[pos++]);
    uint64_t value = first;
    int width = first < 253 ? 0 : first == 253 ? 2 : first == 254 ? 4 : 8;
    if (width) {
        if (data.size() - pos < static_cast<size_t>(width)) return std::nullopt;
        value = 0;
        for (int i = 0; i < width; ++i) value |= uint64_t{static_cast<uint8_t>(data[pos + i])} << (8 * i);
        pos += width;
        uint64_t minimum = width == 2 ? 253 : width == 4 ? 0x10000 : 0x100000000ULL;
        if (value < minimum) return std::nullopt; // non-canonical
    }
    if (value > MAX_SERIALIZED_SIZE) return std::nullopt;
    return value;
}

//! Splits as bitcoind's SplitString: empty parts kept.
std::vector<std::string_view> Split(std::string_view text, char separator)
{
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        size_t at = text.find(separator, start);
        if (at == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, at - start));
        start = at + 1;
    }
}

//! bitcoind's ParseDataFormat: the query string goes, then a known ".ext" suffix.
Format ParseDataFormat(std::string& param, std::string_view part)
{
    param = std::string(part.substr(0, part.rfind('?')));
    size_t dot = param.rfind('.');
    if (dot == std::string::npos) return Format::UNDEF;
    std::string_view suffix = std::string_view(param).substr(dot + 1);
    Format format = suffix == "bin"    ? Format::BINARY
                    : suffix == "hex"  ? Format::HEX
                    : suffix == "json" ? Format::JSON
                                       : Format::UNDEF;
    if (format != Format::UNDEF) param.erase(dot);
    return format;
}

//! The first value of query parameter `key` in `target`, percent-decoded.
std::optional<std::string> QueryParameter(std::string_view target, std::string_view key)
{
    size_t question = target.find('?');
    if (question == std::string_view::npos) return std::nullopt;
    for (std::string_view pair : Split(target.substr(question + 1), '&')) {
        size_t equals = pair.find('=');
        std::string_view name = pair.substr(0, equals);
        if (http::PercentDecode(name) != std::string(key)) continue;
        std::string_view value = equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
        return http::PercentDecode(value).value_or(std::string(value));
    }
    return std::nullopt;
}

const std::string AVAILABLE_FORMATS = ".bin, .hex, .json";

http::Response FormatNotFound(const std::string& available = AVAILABLE_FORMATS)
{
    return Error(404, "output format not found (available: " + available + ")");
}

//! Bytes in the form the request asked for (.bin or .hex), or JSON.
http::Response BytesReply(Format format, const std::string& bytes)
{
    if (format == Format::BINARY) return Reply(200, "application/octet-stream", bytes);
    return Reply(200, "text/plain", HexOf(bytes) + "\n");
}

class Rest
{
public:
    Rest(const http::Request& request, const rpc::Executor& execute) : m_request(request), m_execute(execute) {}

    Json Call(const std::string& method, Json params) { return m_execute(method, params, std::nullopt); }

    http::Response Block(std::string_view part, int verbosity);
    http::Response Tx(std::string_view part);
    http::Response Headers(std::string_view part);
    http::Response BlockHashByHeight(std::string_view part);
    http::Response ChainInfo(std::string_view part);
    http::Response DeploymentInfo(std::string_view part);
    http::Response Mempool(std::string_view part);
    http::Response GetUtxos(std::string_view part);

private:
    const http::Request& m_request;
    const rpc::Executor& m_execute;
};

http::Response Rest::Block(std::string_view part, int verbosity)
{
    std::string hash_text;
    Format format = ParseDataFormat(hash_text, part);
    if (!ParseHash(hash_text)) return Error(400, "Invalid hash: " + hash_text);
    Json block;
    try {
        bool raw = format != Format::JSON;
        block = Call("getblock", Json::array({hash_text, raw ? 0 : verbosity}));
    } catch (const rpc::RpcException& e) {
        if (std::string_view(e.what()).find("pruned") != std::string_view::npos) {
            return Error(404, hash_text + " not available (pruned data)");
        }
        if (e.code() == rpc::RPC_INVALID_ADDRESS_OR_KEY || e.code() == rpc::RPC_MISC_ERROR) {
            return Error(404, hash_text + " not found");
        }
        throw;
    }
    switch (format) {
    case Format::BINARY:
    case Format::HEX: {
        auto bytes = Unhex(block.get<std::string>());
        if (!bytes) throw std::runtime_error("the node answered getblock with malformed hex");
        return BytesReply(format, *bytes);
    }
    case Format::JSON:
        return JsonReply(block);
    case Format::UNDEF:
        break;
    }
    return FormatNotFound();
}

http::Response Rest::Tx(std::string_view part)
{
    std::string hash_text;
    Format format = ParseDataFormat(hash_text, part);
    if (!ParseHash(hash_text)) return Error(400, "Invalid hash: " + hash_text);
    Json tx;
    try {
        tx = Call("getrawtransaction", Json::array({hash_text, format == Format::JSON ? 1 : 0}));
    } catch (const rpc::RpcException& e) {
        if (e.code() == rpc::RPC_INVALID_ADDRESS_OR_KEY) return Error(404, hash_text + " not found");
        throw;
    }
    switch (format) {
    case Format::BINARY:
    case Format::HEX: {
        auto bytes = Unhex(tx.get<std::string>());
        if (!bytes) throw std::runtime_error("the node answered getrawtransaction with malformed hex");
        return BytesReply(format, *bytes);
    }
    case Format::JSON: {
        // bitcoind's REST gives the transaction as decoded (TxToUniv): its block's hash before the hex, and none of
        // getrawtransaction's view from the tip (confirmations, times).
        Json out = Json::object();
        for (auto& [key, value] : tx.items()) {
            if (key == "hex" || key == "blockhash" || key == "confirmations" || key == "time" || key == "blocktime" ||
                key == "in_active_chain")
                continue;
            out[key] = value;
        }
        if (tx.contains("blockhash")) out["blockhash"] = tx["blockhash"];
        if (tx.contains("hex")) out["hex"] = tx["hex"];
        return JsonReply(out);
    }
    case Format::UNDEF:
        break;
    }
    return FormatNotFound();
}

//! The 80 bytes of a header from getblockheader's JSON.
std::string SerializeHeader(const Json& header)
{
    std::string out;
    PutLe(out, static_cast<uint32_t>(header.at("version").get<int64_t>()), 4);
    std::string prev = header.contains("previousblockhash") ? HashBytes(header["previousblockhash"].get<std::string>())
                                                            : std::string(32, '\0');
    out += prev;
    out += HashBytes(header.at("merkleroot").get<std::string>());
    PutLe(out, header.at("time").get<uint64_t>(), 4);
    PutLe(out, std::stoul(header.at("bits").get<std::string>(), nullptr, 16), 4);
    PutLe(out, header.at("nonce").get<uint64_t>(), 4);
    return out;
}

http::Response Rest::Headers(std::string_view part)
{
    std::string param;
    Format format = ParseDataFormat(param, part);
    std::vector<std::string_view> path = Split(param, '/');
    std::string raw_count, hash_text;
    if (path.size() == 2) { // the older form: /rest/headers/<count>/<hash>
        raw_count = path[0];
        hash_text = path[1];
    } else if (path.size() == 1) {
        hash_text = path[0];
        raw_count = QueryParameter(m_request.target, "count").value_or("5");
    } else {
        return Error(400, "Invalid URI format. Expected /rest/headers/<hash>.<ext>?count=<count>");
    }
    auto count = ToIntegral<size_t>(raw_count);
    if (!count || *count < 1 || *count > MAX_REST_HEADERS_RESULTS) {
        return Error(400, "Header count is invalid or out of acceptable range (1-" +
                              std::to_string(MAX_REST_HEADERS_RESULTS) + "): " + raw_count);
    }
    if (!ParseHash(hash_text)) return Error(400, "Invalid hash: " + hash_text);
    if (format == Format::UNDEF) return FormatNotFound();

    // Up the active chain from the block, by nextblockhash; empty when the block is unknown or off the chain.
    Json headers = Json::array();
    for (int attempt = 0; attempt < CONSISTENT_TRIES; ++attempt) {
        headers = Json::array();
        std::string tip_before = Call("getbestblockhash", Json::array()).get<std::string>();
        std::string next = hash_text;
        while (headers.size() < *count) {
            Json header;
            try {
                header = Call("getblockheader", Json::array({next, true}));
            } catch (const rpc::RpcException& e) {
                if (e.code() == rpc::RPC_INVALID_ADDRESS_OR_KEY) break;
                throw;
            }
            if (header.value("confirmations", int64_t{-1}) < 1) break;
            bool last = !header.contains("nextblockhash");
            if (!last) next = header["nextblockhash"].get<std::string>();
            headers.push_back(std::move(header));
            if (last) break;
        }
        if (Call("getbestblockhash", Json::array()).get<std::string>() == tip_before) break;
    }
    if (format == Format::JSON) return JsonReply(headers);
    std::string bytes;
    for (const auto& header : headers) bytes += SerializeHeader(header);
    return BytesReply(format, bytes);
}

http::Response Rest::BlockHashByHeight(std::string_view part)
{
    std::string height_text;
    Format format = ParseDataFormat(height_text, part);
    auto height = ToIntegral<int32_t>(height_text);
    if (!height || *height < 0) return Error(400, "Invalid height: " + Sanitize(height_text));
    std::string hash;
    try {
        hash = Call("getblockhash", Json::array({*height})).get<std::string>();
    } catch (const rpc::RpcException& e) {
        if (e.code() == rpc::RPC_INVALID_PARAMETER) return Error(404, "Block height out of range");
        throw;
    }
    switch (format) {
    case Format::BINARY:
        return Reply(200, "application/octet-stream", HashBytes(hash));
    case Format::HEX:
        return Reply(200, "text/plain", hash + "\n");
    case Format::JSON:
        return JsonReply(Json{{"blockhash", hash}});
    case Format::UNDEF:
        break;
    }
    return FormatNotFound();
}

http::Response Rest::ChainInfo(std::string_view part)
{
    std::string param;
    if (ParseDataFormat(param, part) != Format::JSON) return FormatNotFound("json");
    return JsonReply(Call("getblockchaininfo", Json::array()));
}

http::Response Rest::DeploymentInfo(std::string_view part)
{
    std::string hash_text;
    if (ParseDataFormat(hash_text, part) != Format::JSON) return FormatNotFound("json");
    if (!hash_text.empty() && hash_text.front() == '/') hash_text.erase(0, 1);
    Json params = Json::array();
    if (!hash_text.empty()) {
        if (!ParseHash(hash_text)) return Error(400, "Invalid hash: " + hash_text);
        try {
            Call("getblockheader", Json::array({hash_text, true}));
        } catch (const rpc::RpcException& e) {
            if (e.code() == rpc::RPC_INVALID_ADDRESS_OR_KEY) return Error(400, "Block not found");
            throw;
        }
        params.push_back(hash_text);
    }
    return JsonReply(Call("getdeploymentinfo", params));
}

http::Response Rest::Mempool(std::string_view part)
{
    std::string param;
    Format format = ParseDataFormat(param, part);
    if (param != "contents" && param != "info") {
        return Error(400, "Invalid URI format. Expected /rest/mempool/<info|contents>.json");
    }
    if (format != Format::JSON) return FormatNotFound("json");
    try {
        if (param == "info") return JsonReply(Call("getmempoolinfo", Json::array()));
        std::string verbose = QueryParameter(m_request.target, "verbose").value_or("true");
        if (verbose != "true" && verbose != "false") {
            return Error(400, "The \"verbose\" query parameter must be either \"true\" or \"false\".");
        }
        std::string sequence = QueryParameter(m_request.target, "mempool_sequence").value_or("false");
        if (sequence != "true" && sequence != "false") {
            return Error(400, "The \"mempool_sequence\" query parameter must be either \"true\" or \"false\".");
        }
        if (verbose == "true" && sequence == "true") {
            return Error(400, "Verbose results cannot contain mempool sequence values. (hint: set \"verbose=false\")");
        }
        Json params = Json::array({verbose == "true"});
        if (sequence == "true") params.push_back(true);
        return JsonReply(Call("getrawmempool", params));
    } catch (const rpc::RpcException& e) {
        // A node without a mempool (or without these methods) is bitcoind's node without one.
        if (e.code() == rpc::RPC_METHOD_NOT_FOUND) return Error(404, "Mempool disabled or instance not found");
        throw;
    }
}

struct Coin {
    uint32_t height{0};
    int64_t value{0};
    std::string script; //!< bytes
    Json script_json;
};

http::Response Rest::GetUtxos(std::string_view part)
{
    std::string param;
    Format format = ParseDataFormat(param, part);
    std::vector<std::string_view> uri_parts;
    if (param.size() > 1) uri_parts = Split(std::string_view(param).substr(1), '/');

    std::string body = m_request.body;
    if (body.empty() && uri_parts.empty()) return Error(400, "Error: empty request");

    UtxoQuery query;
    bool input_parsed = false;
    if (!uri_parts.empty()) {
        if (uri_parts[0] == "checkmempool") query.check_mempool = true;
        for (size_t i = query.check_mempool ? 1 : 0; i < uri_parts.size(); ++i) {
            std::vector<std::string_view> txid_out = Split(uri_parts[i], '-');
            if (txid_out.size() != 2) return Error(400, "Parse error");
            auto txid = ParseHash(txid_out[0]);
            auto n = ToIntegral<uint32_t>(txid_out[1]);
            if (!txid || !n) return Error(400, "Parse error");
            query.outpoints.push_back({*txid, *n});
        }
        if (query.outpoints.empty()) return Error(400, "Error: empty request");
        input_parsed = true;
    }

    switch (format) {
    case Format::HEX:
        body = LenientUnhex(body);
        [[fallthrough]];
    case Format::BINARY:
        if (!body.empty()) {
            if (input_parsed) return Error(400, "Combination of URI scheme inputs and raw post data is not allowed");
            auto parsed = ParseUtxoBody(body);
            if (!parsed) return Error(400, "Parse error");
            query = std::move(*parsed);
        }
        break;
    case Format::JSON:
        if (!input_parsed) return Error(400, "Error: empty request");
        break;
    case Format::UNDEF:
        return FormatNotFound();
    }
    if (query.outpoints.size() > MAX_GETUTXOS_OUTPOINTS) {
        return Error(400, "Error: max outpoints exceeded (max: " + std::to_string(MAX_GETUTXOS_OUTPOINTS) +
                              ", tried: " + std::to_string(query.outpoints.size()) + ")");
    }

    // gettxout per outpoint; the tip must be the same before and after, or the answer is taken again.
    int64_t height = 0;
    std::string tip_hash;
    std::vector<bool> hits;
    std::vector<Coin> coins;
    for (int attempt = 0; attempt < CONSISTENT_TRIES; ++attempt) {
        Json info = Call("getblockchaininfo", Json::array());
        height = info.at("blocks").get<int64_t>();
        tip_hash = info.at("bestblockhash").get<std::string>();
        hits.clear();
        coins.clear();
        bool moved = false;
        for (const auto& outpoint : query.outpoints) {
            Json out = Call("gettxout", Json::array({DisplayHex(outpoint.txid), outpoint.n, query.check_mempool}));
            hits.push_back(!out.is_null());
            if (out.is_null()) continue;
            if (out.at("bestblock").get<std::string>() != tip_hash) moved = true;
            Coin coin;
            int64_t confirmations = out.at("confirmations").get<int64_t>();
            coin.height = confirmations <= 0 ? MEMPOOL_HEIGHT : static_cast<uint32_t>(height - confirmations + 1);
            coin.value = std::llround(rpc::NumberValue(out.at("value")) * 1e8);
            coin.script_json = out.at("scriptPubKey");
            auto script = Unhex(coin.script_json.at("hex").get<std::string>());
            if (!script) throw std::runtime_error("the node answered gettxout with a malformed script");
            coin.script = std::move(*script);
            coins.push_back(std::move(coin));
        }
        if (!moved && Call("getbestblockhash", Json::array()).get<std::string>() == tip_hash) break;
    }

    if (format == Format::JSON) {
        std::string bitmap;
        for (bool hit : hits) bitmap += hit ? '1' : '0';
        Json utxos = Json::array();
        for (const auto& coin : coins) {
            Json utxo = Json::object();
            utxo["height"] = static_cast<int32_t>(coin.height);
            utxo["value"] = rpc::ValueFromAmount(coin.value);
            utxo["scriptPubKey"] = coin.script_json;
            utxos.push_back(std::move(utxo));
        }
        return JsonReply(
            Json{{"chainHeight", height}, {"chaintipHash", tip_hash}, {"bitmap", bitmap}, {"utxos", utxos}});
    }
    // BIP64: int32 height, the tip's hash, the bitmap as a byte vector (bit i of byte i/8), the coins.
    std::string out;
    PutLe(out, static_cast<uint32_t>(height), 4);
    out += HashBytes(tip_hash);
    std::string bitmap((hits.size() + 7) / 8, '\0');
    for (size_t i = 0; i < hits.size(); ++i) {
        if (hits[i]) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
    }
    PutCompactSize(out, bitmap.size());
    out += bitmap;
    PutCompactSize(out, coins.size());
    for (const auto& coin : coins) {
        PutLe(out, 0, 4); // the transaction version field BIP64 keeps, always 0
        PutLe(out, coin.height, 4);
        PutLe(out, static_cast<uint64_t>(coin.value), 8);
        PutCompactSize(out, coin.script.size());
        out += coin.script;
    }
    return BytesReply(format, out);
}

} // namespace

std::optional<UtxoQuery> ParseUtxoBody(std::string_view bytes)
{
    // bitcoind streams the body as a serialized string (its length first) and then reads a bool and the outpoints
    // from that stream: the "bool" is the length's first byte. Reproduced byte for byte, so clients written
    // against bitcoind get its answers.
    std::string stream;
    PutCompactSize(stream, bytes.size());
    stream += bytes;
    size_t pos = 0;
    UtxoQuery query;
    query.check_mempool = static_cast<uint8_t>(stream[pos++]) != 0;
    auto count = ReadCompactSize(stream, pos);
    if (!count) return std::nullopt;
    constexpr size_t OUTPOINT_SIZE = 36;
    if ((stream.size() - pos) / OUTPOINT_SIZE < *count) return std::nullopt;
    for (uint64_t i = 0; i < *count; ++i) {
        OutPointQuery outpoint;
        std::memcpy(outpoint.txid.data(), stream.data() + pos, 32);
        uint32_t n = 0;
        for (int b = 0; b < 4; ++b) n |= uint32_t{static_cast<uint8_t>(stream[pos + 32 + b])} << (8 * b);
        outpoint.n = n;
        pos += OUTPOINT_SIZE;
        query.outpoints.push_back(outpoint);
    }
    return query;
}

bool IsRestPath(std::string_view target)
{
    return target.starts_with("/rest/");
}

http::Response Handle(const http::Request& request, const rpc::Executor& execute)
{
    std::string_view target = request.target;
    Rest rest(request, execute);
    // bitcoind's prefixes, in its order: the first that the path starts with serves it.
    auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
        if (!target.starts_with(prefix)) return std::nullopt;
        return target.substr(prefix.size());
    };
    try {
        if (auto part = after("/rest/tx/")) return rest.Tx(*part);
        if (auto part = after("/rest/block/notxdetails/")) return rest.Block(*part, 1);
        if (auto part = after("/rest/block/")) return rest.Block(*part, 3);
        if (auto part = after("/rest/chaininfo")) return rest.ChainInfo(*part);
        if (auto part = after("/rest/mempool/")) return rest.Mempool(*part);
        if (auto part = after("/rest/headers/")) return rest.Headers(*part);
        if (auto part = after("/rest/getutxos")) return rest.GetUtxos(*part);
        if (auto part = after("/rest/deploymentinfo")) return rest.DeploymentInfo(*part);
        if (auto part = after("/rest/blockhashbyheight/")) return rest.BlockHashByHeight(*part);
    } catch (const rpc::RpcException& e) {
        if (e.code() == rpc::RPC_IN_WARMUP)
            return Error(503, std::string("Service temporarily unavailable: ") + e.what());
        return Error(500, e.what());
    } catch (const std::exception& e) {
        return Error(500, e.what());
    }
    http::Response not_found;
    not_found.status = 404;
    return not_found;
}

} // namespace orrery::rest
