// HTTP/1.1 messages as the RPC server and orrery-cli see them: a pure parser
// of requests (and of responses, for the client), response formatting, and the
// small encodings HTTP needs (Basic auth's base64, percent-decoding of URLs).
// Nothing here touches a socket, so every byte of it can be unit-tested and fuzzed.
#ifndef ORRERY_COMMON_HTTP_HTTP_H
#define ORRERY_COMMON_HTTP_HTTP_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orrery::http {

//! Limits of one request; bitcoind's are 8 KiB of headers and a 32 MiB body.
struct Limits {
    size_t max_header_line{8192};
    size_t max_header_bytes{65536};
    size_t max_header_count{100};
    size_t max_body{32u << 20};
};

struct Request {
    std::string method;                                       //!< "POST", "GET", ... as sent (case-sensitive, RFC 9110)
    std::string target;                                       //!< the request target, e.g. "/wallet/w1"
    int version_minor{1};                                     //!< HTTP/1.<minor>
    std::vector<std::pair<std::string, std::string>> headers; //!< names lower-cased, values trimmed
    std::string body;
    bool keep_alive{true}; //!< from the version and the Connection header
    bool expect_continue{false};

    //! The first header of that (lower-case) name.
    std::optional<std::string_view> Header(std::string_view lower_name) const;
};

enum class ParseStatus {
    INCOMPLETE,   //!< more bytes needed
    COMPLETE,     //!< `request` holds the message; `consumed` bytes of the buffer were used
    HEADERS_ONLY, //!< INCOMPLETE, but the header block is done (time for "100 Continue")
    FAILED,       //!< answer `error_status` with `error_message` and close
};

struct ParseResult {
    ParseStatus status{ParseStatus::INCOMPLETE};
    size_t consumed{0};
    Request request;
    int error_status{0};
    std::string error_message;
};

//! Parses the first request in `buffer` (pipelined ones stay for the next call).
//! Lines may end in CRLF or a bare LF. Bodies need Content-Length: a
//! Transfer-Encoding is refused (411 for chunked, 501 otherwise) as is a body over the limit (413).
ParseResult ParseRequest(std::string_view buffer, const Limits& limits = {});

class BodyStream;

struct Response {
    int status{200};
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool close{false}; //!< send "Connection: close" and close after writing
    //! Set: the body comes later, from this stream (common/http/stream.h), until it closes; `body` is unused
    //! and the connection closes after it (no Content-Length).
    std::shared_ptr<BodyStream> stream;
};

//! The reason phrase of a status code ("Not Found").
std::string_view StatusText(int status);
//! The bytes on the wire: status line, Content-Length, the headers, the body (for a stream: the head alone).
std::string FormatResponse(const Response& response, bool keep_alive);

//! What orrery-cli reads back.
struct ClientResponse {
    int status{0};
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};
//! Parses a response; `at_eof` says the peer closed, which ends a body without Content-Length.
//! Returns nullopt while incomplete; throws std::runtime_error when malformed.
std::optional<ClientResponse> ParseResponse(std::string_view buffer, bool at_eof, size_t max_body = 256u << 20);

std::string Base64Encode(std::string_view data);
//! Strict, as bitcoind's DecodeBase64: padding required, no whitespace, the bits a padded group
//! leaves over must be zero (one encoding per byte string). nullopt otherwise.
std::optional<std::string> Base64Decode(std::string_view text);
//! Decodes %XX escapes (not '+'); nullopt for a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view text);
//! Escapes everything but unreserved characters (RFC 3986), as bitcoin-cli does for -rpcwallet.
std::string PercentEncode(std::string_view text);

} // namespace orrery::http

#endif // ORRERY_COMMON_HTTP_HTTP_H
