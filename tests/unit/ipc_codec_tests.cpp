// Tier 1: values and envelopes round-trip in one process, and bad frames are
// refused with the right error before anything reaches a handler.
#include <common/interfaces/echo.h>
#include <common/ipc/envelope.h>
#include <common/ipc/serialize.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::ipc;

namespace {
std::unique_ptr<Envelope> Decode(const std::vector<uint8_t>& bytes, size_t max = DEFAULT_MAX_MESSAGE_SIZE)
{
    auto owner = std::make_shared<std::vector<uint8_t>>(bytes);
    return DecodeEnvelope(*owner, owner, max);
}

template <typename T>
T RoundTrip(const T& value)
{
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::RESPONSE, 7, "x.y");
    WriteValue(w, value);
    auto env = Decode(bytes);
    Reader body = env->Body();
    T out{};
    ReadValue(body, out);
    return out;
}

ErrorCode DecodeFailure(const std::vector<uint8_t>& bytes, size_t max = DEFAULT_MAX_MESSAGE_SIZE)
{
    try {
        Decode(bytes, max);
    } catch (const EnvelopeError& e) {
        return e.code();
    }
    FAIL("the frame was accepted");
    return ErrorCode::INTERNAL_ERROR;
}
} // namespace

TEST_CASE("scalars keep their value at every msgpack width")
{
    for (uint64_t v : std::initializer_list<uint64_t>{0ULL, 1ULL, 127ULL, 128ULL, 255ULL, 256ULL, 65535ULL, 65536ULL, 4294967295ULL, 4294967296ULL,
                       UINT64_MAX}) {
        CHECK(RoundTrip(v) == v);
    }
    for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{-32}, int64_t{-33}, int64_t{-128}, int64_t{-129},
                      int64_t{-32768}, int64_t{-32769}, int64_t{INT32_MIN}, int64_t{INT32_MIN} - 1, INT64_MIN,
                      INT64_MAX}) {
        CHECK(RoundTrip(v) == v);
    }
    CHECK(RoundTrip(true));
    CHECK(RoundTrip(2.5) == 2.5);
    CHECK(RoundTrip(std::string(70000, 'x')) == std::string(70000, 'x'));
    CHECK(RoundTrip(std::string()).empty());
}

TEST_CASE("containers, optionals and declared structs round-trip")
{
    interfaces::EchoRecord record{"alice", -5, std::string("hi"), {1, 2, 70000}};
    auto back = RoundTrip(record);
    CHECK(back.name == "alice");
    CHECK(back.amount == -5);
    CHECK(back.note == std::optional<std::string>("hi"));
    CHECK(back.tags == std::vector<uint32_t>{1, 2, 70000});
    CHECK_FALSE(RoundTrip(std::optional<int>()).has_value());
    std::map<std::string, int64_t> counts{{"a", 1}, {"b", -2}};
    CHECK(RoundTrip(counts) == counts);
    std::vector<std::vector<std::string>> nested{{"a"}, {}, {"b", "c"}};
    CHECK(RoundTrip(nested) == nested);
}

TEST_CASE("a byte vector crosses as one bin and is read without a copy of the frame")
{
    Bytes payload(1 << 20);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::RESPONSE, 1, "x.y");
    WriteValue(w, payload);
    CHECK(bytes.size() < payload.size() + 32);
    auto owner = std::make_shared<std::vector<uint8_t>>(bytes);
    auto env = DecodeEnvelope(*owner, owner);
    Reader body = env->Body();
    auto view = body.Bin();
    CHECK(view.size() == payload.size());
    // The view points into the received frame itself.
    CHECK(view.data() >= owner->data());
    CHECK(view.data() + view.size() <= owner->data() + owner->size());
    CHECK(std::equal(view.begin(), view.end(), payload.begin()));
}

TEST_CASE("an older peer's shorter struct reads with defaults and a newer peer's longer one is accepted")
{
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::RESPONSE, 1, "x.y");
    w.ArrayHeader(2);
    w.Str("bob");
    w.Int(3);
    auto env = Decode(bytes);
    Reader body = env->Body();
    interfaces::EchoRecord record;
    ReadValue(body, record);
    CHECK(record.name == "bob");
    CHECK_FALSE(record.note.has_value());
}

TEST_CASE("a value of the wrong type names its position and what was expected")
{
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::REQUEST, 1, "x.y");
    w.ArrayHeader(2);
    w.Str("not a number");
    w.Uint(300);
    auto env = Decode(bytes);
    Reader args = env->BodyItems();
    CHECK_THROWS_WITH_AS(ReadArg<int64_t>(args, "a"), "argument 'a': value 0: expected integer, got string",
                         DecodeError);
    uint8_t small;
    CHECK_THROWS_WITH_AS(ReadValue(args, small), "unsigned integer out of range", DecodeError);
    CHECK_THROWS_WITH_AS(ExpectEnd(args, 1), "wrong number of arguments: expected 1, got 2", DecodeError);
}

TEST_CASE("envelope fields are decoded and checked")
{
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::NOTIFICATION, 99, "chain.blockConnected");
    w.ArrayHeader(0);
    auto env = Decode(bytes);
    CHECK(env->version == 1);
    CHECK(env->kind == Kind::NOTIFICATION);
    CHECK(env->id == 99);
    CHECK(env->method == "chain.blockConnected");
    CHECK(env->size == bytes.size());
}

TEST_CASE("bad frames are refused with a precise error")
{
    CHECK(DecodeFailure({}) == ErrorCode::PARSE_ERROR);
    CHECK(DecodeFailure({0xc1}) == ErrorCode::PARSE_ERROR);             // never-used msgpack byte
    CHECK(DecodeFailure({0x95, 0x01, 0x00}) == ErrorCode::PARSE_ERROR); // truncated array
    CHECK(DecodeFailure({0x93, 0x01, 0x00, 0x01}) == ErrorCode::INVALID_REQUEST); // 3 fields, not 5
    CHECK(DecodeFailure({0x01}) == ErrorCode::INVALID_REQUEST);         // not an array
    // An array header claiming four billion elements in a five-byte frame.
    CHECK(DecodeFailure({0xdd, 0xff, 0xff, 0xff, 0xff}) == ErrorCode::PARSE_ERROR);
    // Trailing bytes after a whole envelope.
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    BeginEnvelope(w, Kind::REQUEST, 1, "a.b");
    w.ArrayHeader(0);
    auto with_trailer = bytes;
    with_trailer.push_back(0x00);
    CHECK(DecodeFailure(with_trailer) == ErrorCode::PARSE_ERROR);
    CHECK(DecodeFailure(bytes, bytes.size() - 1) == ErrorCode::MESSAGE_TOO_LARGE);
}

TEST_CASE("a wrong version or kind is refused but its id and method are kept for the reply")
{
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    w.ArrayHeader(5);
    w.Uint(2);
    w.Uint(0);
    w.Uint(41);
    w.Str("echo.echo");
    w.ArrayHeader(0);
    try {
        Decode(bytes);
        FAIL("accepted");
    } catch (const EnvelopeError& e) {
        CHECK(e.code() == ErrorCode::VERSION_MISMATCH);
        CHECK(e.id() == std::optional<uint64_t>(41));
        CHECK(e.method() == "echo.echo");
    }
    bytes.clear();
    w.ArrayHeader(5);
    w.Uint(1);
    w.Uint(9);
    w.Uint(42);
    w.Str("echo.echo");
    w.Nil();
    try {
        Decode(bytes);
        FAIL("accepted");
    } catch (const EnvelopeError& e) {
        CHECK(e.code() == ErrorCode::INVALID_REQUEST);
        CHECK(e.id() == std::optional<uint64_t>(42));
    }
}

TEST_CASE("an error envelope carries its code and message")
{
    auto bytes = MakeErrorEnvelope(5, "echo.fail", ErrorCode::REMOTE_EXCEPTION, "boom");
    auto env = Decode(bytes);
    CHECK(env->kind == Kind::ERROR);
    Error error = env->BodyAsError();
    CHECK(error.code() == ErrorCode::REMOTE_EXCEPTION);
    CHECK(std::string(error.what()) == "boom");
}
