// Tier 2: typed calls over real ZeroMQ sockets (inproc, ipc, tcp with
// CurveZMQ) inside one process, every kind of bad input from a raw socket, and
// who a connection is: the kernel's pid, orreryd's table, one hello, key roles.
#include "echo_impl.h"
#include "test_util.h"

#include <common/interfaces/echo_ipc.h>
#include <common/ipc/curve.h>
#include <common/ipc/endpoint.h>
#include <common/util/logging.h>

#include <doctest/doctest.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace orrery;
using namespace orrery::ipc;
using namespace std::chrono_literals;
using orrery::test::CapturedLog;
using orrery::test::TempDir;
using orrery::test::WaitUntil;

namespace {

Options ServerOptions()
{
    Options options;
    options.role = "echo";
    return options;
}

Options ClientOptions(std::vector<std::string> interfaces = {"echo"})
{
    Options options;
    options.role = "tester";
    options.interfaces = std::move(interfaces);
    options.connect_timeout = 3000ms;
    return options;
}

//! Options of a process that says it is `role` and needs `interfaces`.
Options NamedOptions(const char* role, std::vector<std::string> interfaces = {})
{
    Options options;
    options.role = role;
    options.interfaces = std::move(interfaces);
    options.connect_timeout = 2000ms;
    return options;
}

//! The IPC error code a call throws, 0 if none.
int32_t CodeOf(const std::function<void()>& call)
{
    try {
        call();
    } catch (const Error& e) {
        return static_cast<int32_t>(e.code());
    }
    return 0;
}

constexpr auto DENIED = static_cast<int32_t>(ErrorCode::PERMISSION_DENIED);

//! A bare DEALER that sends hand-made frames, as a buggy or hostile client would.
struct RawClient {
    void* context = zmq_ctx_new();
    void* socket = zmq_socket(context, ZMQ_DEALER);
    explicit RawClient(const std::string& endpoint)
    {
        int linger = 0, timeout = 3000;
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_connect(socket, endpoint.c_str());
    }
    ~RawClient()
    {
        zmq_close(socket);
        zmq_ctx_term(context);
    }
    void Send(const std::vector<uint8_t>& bytes) { zmq_send(socket, bytes.data(), bytes.size(), 0); }
    //! The next reply, decoded; nullptr on a 3 s timeout.
    std::unique_ptr<Envelope> Receive()
    {
        auto buffer = std::make_shared<std::vector<uint8_t>>(1 << 16);
        int n = zmq_recv(socket, buffer->data(), buffer->size(), 0);
        if (n < 0) return nullptr;
        buffer->resize(static_cast<size_t>(n));
        return DecodeEnvelope(*buffer, buffer);
    }
    std::vector<uint8_t> Request(uint64_t id, const std::string& method, const std::function<void(Writer&)>& args)
    {
        std::vector<uint8_t> bytes;
        Writer w(bytes);
        BeginEnvelope(w, Kind::REQUEST, id, method);
        args(w);
        return bytes;
    }
    void Hello()
    {
        Send(Request(1, "init.hello", [](Writer& w) {
            w.ArrayHeader(1);
            WriteValue(w, PeerInfo{"raw", 1, {}});
        }));
        auto reply = Receive();
        REQUIRE(reply);
        REQUIRE(reply->kind == Kind::RESPONSE);
    }
    ErrorCode ExpectError()
    {
        auto reply = Receive();
        REQUIRE(reply);
        REQUIRE(reply->kind == Kind::ERROR);
        return reply->BodyAsError().code();
    }
};

struct TickCollector final : interfaces::EchoListener {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<uint64_t> ticks;
    void tick(uint64_t n) override
    {
        std::lock_guard lock(mutex);
        ticks.push_back(n);
        cv.notify_all();
    }
    bool WaitFor(size_t count, std::chrono::milliseconds timeout = 5000ms)
    {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return ticks.size() >= count; });
    }
};

void CheckEchoRoundTrip(const std::string& endpoint, Options server_options = ServerOptions(),
                        Options client_options = ClientOptions())
{
    Server server(server_options);
    server.Serve(test::MakeEcho());
    server.Bind(endpoint);
    Client client(client_options);
    auto echo = MakeProxy<interfaces::Echo>(client.Connect(server.Endpoint()));
    CHECK(echo->echo("hello") == "hello");
    CHECK(echo->add(40, 2) == 42);
    auto record = echo->echoRecord({"n", 1, std::nullopt, {7}});
    CHECK(record.amount == 2);
    CHECK(echo->countWords({"a", "b", "a"}) == std::map<std::string, int64_t>{{"a", 2}, {"b", 1}});
    Bytes big(4 << 20, 0x5a);
    CHECK(echo->echoBytes(big) == big);
}

} // namespace

TEST_CASE("calls round-trip over inproc, ipc and tcp with CurveZMQ, the transport chosen by the endpoint")
{
    CheckEchoRoundTrip("inproc://echo-test");
    TempDir dir("orrery_ipc_ipc");
    CheckEchoRoundTrip("ipc://" + (dir / "echo.sock").string());

    TempDir keys("orrery_ipc_keys");
    Options server = ServerOptions();
    server.keys_dir = keys;
    Options client = ClientOptions();
    client.keys_dir = keys;
    client.server_role = "echo";
    CheckEchoRoundTrip("tcp://127.0.0.1:0", server, client);
    // Keys were made on first use, private.
    CHECK((std::filesystem::status(keys).permissions() & std::filesystem::perms::all) ==
          std::filesystem::perms::owner_all);
    CHECK((std::filesystem::status(keys / "echo.key").permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("a tcp client whose key is not on the allow-list is refused and the refusal is logged")
{
    CapturedLog log;
    TempDir server_keys("orrery_ipc_server_keys");
    TempDir client_keys("orrery_ipc_client_keys");
    Options server_options = ServerOptions();
    server_options.keys_dir = server_keys;
    Server server(server_options);
    server.Serve(test::MakeEcho());
    server.Bind("tcp://127.0.0.1:0");
    Options client_options = ClientOptions();
    client_options.keys_dir = client_keys;
    client_options.server_public_key = ReadPublicKey(server_keys, "echo");
    client_options.connect_timeout = 1500ms;
    Client client(client_options);
    CHECK_THROWS_AS(client.Connect(server.Endpoint()), Error);
    CHECK(log.Count("refused a CURVE client with key") >= 1);

    // Once its key is added to the allow-list, the same client gets in.
    AuthorizeClient(server_keys, ReadPublicKey(client_keys, "tester"), "tester");
    Client admitted(client_options);
    CHECK(MakeProxy<interfaces::Echo>(admitted.Connect(server.Endpoint()))->echo("in") == "in");
}

TEST_CASE("over ipc:// the server records the kernel's pid, not the one a hello claims")
{
    auto dir = TempDir("pid");
    const std::string endpoint = "ipc://" + (dir / "echo.sock").string();
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind(endpoint);
    RawClient raw(endpoint);
    raw.Hello(); // says it is pid 1
    auto peers = server.Peers();
    REQUIRE(peers.size() == 1);
    CHECK(peers[0]->Peer().role == "raw");
    CHECK(peers[0]->Peer().pid == ::getpid());
}

TEST_CASE("tcp without keys is refused, and so is an unknown transport")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    CHECK_THROWS_WITH_AS(server.Bind("tcp://127.0.0.1:0"), doctest::Contains("CurveZMQ"), Error);
    Server other(ServerOptions());
    CHECK_THROWS_WITH_AS(other.Bind("udp://x"), doctest::Contains("unsupported endpoint"), Error);
}

TEST_CASE("a remote exception becomes an error at the caller with its message")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-exception");
    Client client(ClientOptions());
    auto echo = MakeProxy<interfaces::Echo>(client.Connect(server.Endpoint()));
    try {
        echo->fail("the wallet is locked");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::REMOTE_EXCEPTION);
        CHECK(std::string(e.what()) == "the wallet is locked");
    }
    CHECK(echo->echo("still fine") == "still fine");
}

TEST_CASE("connecting to nothing fails within the connect timeout, naming the endpoint")
{
    Options options = ClientOptions();
    options.connect_timeout = 300ms;
    Client client(options);
    TempDir dir("orrery_ipc_nothing");
    std::string endpoint = "ipc://" + (dir / "none.sock").string();
    CHECK_THROWS_WITH_AS(client.Connect(endpoint), doctest::Contains(endpoint.c_str()), Error);
}

TEST_CASE("a client that needs an interface the service lacks is told so")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-missing");
    Client client(ClientOptions({"echo", "wallet"}));
    CHECK_THROWS_WITH_AS(client.Connect(server.Endpoint()), doctest::Contains("does not serve wallet"), Error);
}

TEST_CASE("many calls in flight from many threads complete, and a slow one does not hold up the others")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-concurrency");
    Client client(ClientOptions());
    auto connection = client.Connect(server.Endpoint());
    auto echo = MakeProxy<interfaces::Echo>(connection);

    std::atomic<bool> slow_done{false};
    const int sleeping = test::SleepingCalls(); // calls of other tests still asleep in their servers
    std::thread slow([&] {
        CHECK(echo->sleepThenReturn(1500, 7) == 7);
        slow_done = true;
    });
    REQUIRE(WaitUntil([&] { return test::SleepingCalls() > sleeping; })); // the slow call is running
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                if (echo->add(t, i) == t + i) ++ok;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    // 1,600 calls from 8 threads finished while the slow call was still running.
    CHECK(ok == 1600);
    CHECK_FALSE(slow_done.load());
    slow.join();
    CHECK(slow_done.load());
}

TEST_CASE("a client that only calls: its callers receive their own replies, mixed with async calls, and a stop or "
          "a stop ends a waiting call")
{
    TempDir dir("orrery_ipc_leading");
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("ipc://" + (dir / "echo.sock").string());
    Client client(ClientOptions());
    auto connection = client.Connect(server.Endpoint());
    auto echo = MakeProxy<interfaces::Echo>(connection);

    // Synchronous callers on four threads and async calls from a fifth, all at once.
    std::atomic<int> sync_ok{0}, async_ok{0}, async_left{400};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; ++i) {
                if (echo->add(t, i) == t + i) ++sync_ok;
                if (i % 50 == 0) std::this_thread::sleep_for(7ms); // past the lend period: workers lead again
            }
        });
    }
    threads.emplace_back([&] {
        for (int i = 0; i < 400; ++i) {
            connection->CallAsync(
                "echo.add",
                [&, i](std::unique_ptr<Envelope> reply, const Error* error) {
                    if (!error) {
                        Reader body = reply->Body();
                        int64_t sum;
                        ReadValue(body, sum);
                        if (sum == i + 1) ++async_ok;
                    }
                    --async_left;
                },
                int64_t{i}, int64_t{1});
            if (i % 100 == 0) std::this_thread::sleep_for(10ms);
        }
    });
    for (auto& thread : threads) thread.join();
    CHECK(sync_ok == 1200);
    // The last async replies arrive with no synchronous caller left to lead: the workers take them.
    CHECK(WaitUntil([&] { return async_left == 0; }, 3000ms));
    CHECK(async_ok == 400);

    // A stop while a caller waits on a slow call fails that call at once.
    auto started = std::chrono::steady_clock::now();
    const int sleeping = test::SleepingCalls();
    std::thread stopper([&] {
        WaitUntil([&] { return test::SleepingCalls() > sleeping; }); // the service is in the slow call
        client.Stop();
    });
    CHECK_THROWS_WITH_AS(echo->sleepThenReturn(5000, 1), doctest::Contains("closed"), Error);
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("responses complete out of order: async calls finish in the order their work ends")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-order");
    Client client(ClientOptions());
    auto connection = client.Connect(server.Endpoint());
    std::mutex mutex;
    std::vector<uint32_t> finished;
    std::promise<void> all;
    for (uint32_t value : {3u, 2u, 1u}) {
        connection->CallAsync(
            "echo.sleepThenReturn",
            [&](std::unique_ptr<Envelope> reply, const Error* error) {
                REQUIRE(!error);
                Reader body = reply->Body();
                uint32_t v;
                ReadValue(body, v);
                std::lock_guard lock(mutex);
                finished.push_back(v);
                if (finished.size() == 3) all.set_value();
            },
            uint32_t{value * 150}, value);
    }
    REQUIRE(all.get_future().wait_for(5s) == std::future_status::ready);
    CHECK(finished == std::vector<uint32_t>{1, 2, 3});
}

TEST_CASE("notifications of a subscription arrive in order and stop when it is dropped")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-subscribe");
    Client client(ClientOptions());
    auto echo = MakeProxy<interfaces::Echo>(client.Connect(server.Endpoint()));
    auto listener = std::make_shared<TickCollector>();
    auto subscription = echo->subscribeTicks(listener, 500, 0);
    REQUIRE(listener->WaitFor(500));
    {
        std::lock_guard lock(listener->mutex);
        for (size_t i = 0; i < listener->ticks.size(); ++i) REQUIRE(listener->ticks[i] == i + 1);
    }
    // A slow ticker, dropped after a few ticks: no more arrive afterwards.
    auto slow = std::make_shared<TickCollector>();
    auto slow_subscription = echo->subscribeTicks(slow, 1000, 10);
    REQUIRE(slow->WaitFor(3));
    slow_subscription.reset();
    // The service has ended the subscription (its ticking thread is gone), and a reply sent after that has
    // come back on the same connection, behind any tick sent before it: nothing more can arrive.
    REQUIRE(WaitUntil([] { return test::RunningTickers() == 0; }));
    CHECK(echo->echo("after") == "after");
    size_t seen = 0;
    {
        std::lock_guard lock(slow->mutex);
        seen = slow->ticks.size();
    }
    CHECK(echo->echo("again") == "again");
    std::lock_guard lock(slow->mutex);
    CHECK(slow->ticks.size() == seen);
    CHECK(seen < 1000);
}

TEST_CASE("both ends call each other over the same connection")
{
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-both-ways");
    Client client(ClientOptions());
    client.Serve(test::MakeEcho()); // the client serves Echo back to the service
    auto echo = MakeProxy<interfaces::Echo>(client.Connect(server.Endpoint()));
    CHECK(echo->echo("to server") == "to server");
    auto peers = server.Peers();
    REQUIRE(peers.size() == 1);
    CHECK(peers[0]->Peer().role == "tester");
    CHECK(peers[0]->Peer().pid == ::getpid());
    auto back = MakeProxy<interfaces::Echo>(peers[0]);
    CHECK(back->echo("to client") == "to client");
    CHECK(back->add(1, 2) == 3);
}

TEST_CASE("over inproc, calls in flight to a side that stops fail as disconnected instead of waiting forever")
{
    // inproc gives no disconnect event: a request already queued to a link that stops is never read,
    // and only the link's goodbye tells the caller. Each round races the stop against a stream of calls.
    for (int round = 0; round < 40; ++round) {
        CAPTURE(round);
        const std::string endpoint = "inproc://echo-stop-race-" + std::to_string(round);
        auto server = std::make_unique<Server>(ServerOptions());
        server->Serve(test::MakeEcho());
        server->Bind(endpoint);
        auto client = std::make_unique<Client>(ClientOptions());
        client->Serve(test::MakeEcho());
        auto echo = MakeProxy<interfaces::Echo>(client->Connect(server->Endpoint()));
        auto peers = server->Peers();
        REQUIRE(peers.size() == 1);
        auto back = MakeProxy<interfaces::Echo>(peers[0]);
        const bool client_stops = round % 2 == 0; // the server calls the client, or the client the server
        std::atomic<int> answered{0};
        auto calls = std::async(std::launch::async, [&] {
            for (;;) {
                int32_t code = CodeOf([&] { (client_stops ? back : echo)->add(answered.load(), 1); });
                if (code != 0) return code;
                ++answered;
            }
        });
        REQUIRE(WaitUntil([&] { return answered.load() > round % 5; }));
        if (client_stops) {
            client->Stop();
        } else {
            server->Stop();
        }
        REQUIRE(calls.wait_for(5s) == std::future_status::ready);
        CHECK(calls.get() == static_cast<int32_t>(ErrorCode::DISCONNECTED));
        client.reset();
        server.reset();
    }
}

TEST_CASE("bad input gets an error reply and one log line each, and the server keeps serving")
{
    CapturedLog log;
    Options options = ServerOptions();
    options.max_message_size = 64 * 1024;
    options.max_requests_in_flight = 4;
    Server server(options);
    server.Serve(test::MakeEcho());
    TempDir dir("orrery_ipc_bad");
    server.Bind(dir.Endpoint("echo.sock"));
    Client good(ClientOptions());
    auto echo = MakeProxy<interfaces::Echo>(good.Connect(server.Endpoint()));

    RawClient raw(server.Endpoint());
    // Before the hello, requests are refused.
    raw.Send(raw.Request(2, "echo.echo", [](Writer& w) {
        w.ArrayHeader(1);
        w.Str("x");
    }));
    CHECK(raw.ExpectError() == ErrorCode::HELLO_REQUIRED);
    raw.Hello();
    size_t rejected_before = log.Count("rejected");

    SUBCASE("truncated and non-msgpack frames")
    {
        raw.Send({0x95, 0x01, 0x00});
        CHECK(raw.ExpectError() == ErrorCode::PARSE_ERROR);
        raw.Send({'G', 'E', 'T', ' ', '/'});
        CHECK(raw.ExpectError() == ErrorCode::PARSE_ERROR);
        CHECK(log.Count("rejected") == rejected_before + 2);
    }
    SUBCASE("an unknown kind or method")
    {
        std::vector<uint8_t> bytes;
        Writer w(bytes);
        w.ArrayHeader(5);
        w.Uint(1);
        w.Uint(7);
        w.Uint(3);
        w.Str("echo.echo");
        w.ArrayHeader(0);
        raw.Send(bytes);
        CHECK(raw.ExpectError() == ErrorCode::INVALID_REQUEST);
        raw.Send(raw.Request(4, "echo.nope", [](Writer& w) { w.ArrayHeader(0); }));
        CHECK(raw.ExpectError() == ErrorCode::METHOD_NOT_FOUND);
        CHECK(log.Count("rejected") == rejected_before + 2);
    }
    SUBCASE("wrong argument types or counts")
    {
        raw.Send(raw.Request(5, "echo.add", [](Writer& w) {
            w.ArrayHeader(2);
            w.Str("one");
            w.Int(2);
        }));
        CHECK(raw.ExpectError() == ErrorCode::INVALID_PARAMS);
        raw.Send(raw.Request(6, "echo.add", [](Writer& w) {
            w.ArrayHeader(3);
            w.Int(1);
            w.Int(2);
            w.Int(3);
        }));
        CHECK(raw.ExpectError() == ErrorCode::INVALID_PARAMS);
        raw.Send(raw.Request(7, "echo.add", [](Writer& w) { w.Str("not an array"); }));
        CHECK(raw.ExpectError() == ErrorCode::INVALID_PARAMS);
        CHECK(log.Count("rejected") == rejected_before + 3);
    }
    SUBCASE("a frame over the size limit")
    {
        raw.Send(raw.Request(8, "echo.echoBytes", [](Writer& w) {
            w.ArrayHeader(1);
            w.Bin(Bytes(80 * 1024));
        }));
        CHECK(raw.ExpectError() == ErrorCode::MESSAGE_TOO_LARGE);
        CHECK(log.Count("rejected") == rejected_before + 1);
    }
    SUBCASE("a wrong protocol version closes that connection only")
    {
        std::vector<uint8_t> bytes;
        Writer w(bytes);
        w.ArrayHeader(5);
        w.Uint(9);
        w.Uint(0);
        w.Uint(9);
        w.Str("echo.echo");
        w.ArrayHeader(0);
        raw.Send(bytes);
        CHECK(raw.ExpectError() == ErrorCode::VERSION_MISMATCH);
        raw.Send(raw.Request(10, "echo.echo", [](Writer& w) {
            w.ArrayHeader(1);
            w.Str("ignored");
        }));
        CHECK(raw.Receive() == nullptr); // closed: no more answers
    }
    SUBCASE("a flood of slow requests from one client gets BUSY past its limit")
    {
        for (uint64_t id = 100; id < 200; ++id) {
            raw.Send(raw.Request(id, "echo.sleepThenReturn", [](Writer& w) {
                w.ArrayHeader(2);
                w.Uint(100);
                w.Uint(1);
            }));
        }
        // Meanwhile a well-behaved client is served.
        CHECK(echo->echo("served") == "served");
        size_t busy = 0, answered = 0;
        for (int i = 0; i < 100; ++i) {
            auto reply = raw.Receive();
            REQUIRE(reply);
            if (reply->kind == Kind::ERROR && reply->BodyAsError().code() == ErrorCode::BUSY) ++busy;
            if (reply->kind == Kind::RESPONSE) ++answered;
        }
        CHECK(busy + answered == 100);
        CHECK(busy > 0);
        CHECK(answered > 0);
        CHECK(log.Count("busy") == busy);
    }
    CHECK(echo->echo("still serving") == "still serving");
}

TEST_CASE("-debug=ipc logs one line per request and response with peer, method, id, bytes and latency")
{
    CapturedLog log({"ipc"});
    Server server(ServerOptions());
    server.Serve(test::MakeEcho());
    server.Bind("inproc://echo-debug");
    Client client(ClientOptions());
    auto echo = MakeProxy<interfaces::Echo>(client.Connect(server.Endpoint()));
    echo->add(1, 1);
    std::string text = log.Text();
    std::string pid = std::to_string(::getpid());
    // The client's line (->) and the server's (<-), each naming the other side by role:pid.
    CHECK(text.find("tester:" + pid + " -> echo:" + pid + " echo.add id=") != std::string::npos);
    CHECK(text.find("echo:" + pid + " <- tester:" + pid + " echo.add id=") != std::string::npos);
    CHECK(text.find("us\n") != std::string::npos);
}

TEST_CASE("over ipc:// a process orreryd started as an agent cannot say hello as anything else")
{
    CapturedLog log;
    auto dir = TempDir("lookup");
    const std::string endpoint = "ipc://" + (dir / "node.sock").string();
    Options options = NamedOptions("node");
    const int64_t self = ::getpid();
    options.roles.SetProcessLookup([self](int64_t pid) -> std::optional<std::string> {
        if (pid == self) return "p2p-agent";
        return std::nullopt;
    });
    Server server(options);
    server.Serve(test::MakeEcho());
    server.Bind(endpoint);
    Client wallet(NamedOptions("wallet"));
    CHECK_THROWS_WITH_AS(wallet.Connect(endpoint), doctest::Contains("was started by orreryd as p2p-agent"), Error);
    CHECK(log.Count("permission denied") == 1);
    Client agent(NamedOptions("p2p-agent", {"echo"}));
    CHECK(MakeProxy<interfaces::Echo>(agent.Connect(endpoint))->echo("ok") == "ok");
}

TEST_CASE("a second hello on an open connection is refused with one log line; the connection stays up")
{
    CapturedLog log;
    auto dir = TempDir("again");
    const std::string endpoint = "ipc://" + (dir / "echo.sock").string();
    Server server(NamedOptions("echo"));
    server.Serve(test::MakeEcho(), {"p2p-agent"});
    server.Bind(endpoint);
    Client agent(NamedOptions("p2p-agent", {"echo"}));
    auto connection = agent.Connect(endpoint);
    auto echo = MakeProxy<interfaces::Echo>(connection);
    CHECK(CodeOf([&] {
              connection->Call<PeerInfo>("init.hello", PeerInfo{"wallet", ::getpid(), {"chain"}});
          }) == DENIED);
    CHECK(log.Count("permission denied: a second hello (as wallet) on a connection that said hello as p2p-agent") == 1);
    CHECK(server.Peers().at(0)->Peer().role == "p2p-agent");
    CHECK(echo->echo("still an agent") == "still an agent");
}

TEST_CASE("over tcp:// a client whose key is allowed for one role can say hello as that role only")
{
    CapturedLog log;
    auto server_keys = TempDir("server_keys");
    auto client_keys = TempDir("client_keys");
    Options server_options = NamedOptions("echo");
    server_options.keys_dir = server_keys;
    Server server(server_options);
    server.Serve(test::MakeEcho(), {"wallet"}); // as Chain: wallets only
    server.Bind("tcp://127.0.0.1:0");
    // The client's key pair is made under the name "agent" and allowed for role p2p-agent.
    LoadOrCreateKeyPair(client_keys, "agent");
    AuthorizeClient(server_keys, ReadPublicKey(client_keys, "agent"), "p2p-agent");
    auto options = [&](const char* role, std::vector<std::string> interfaces) {
        Options o = NamedOptions(role, std::move(interfaces));
        o.keys_dir = client_keys;
        o.server_public_key = ReadPublicKey(server_keys, "echo");
        return o;
    };
    // It holds the key of "agent" under the role's name, as a client reads keys_dir/<role>.key.
    std::filesystem::copy_file(client_keys / "agent.key", client_keys / "wallet.key");
    std::filesystem::copy_file(client_keys / "agent.key", client_keys / "p2p-agent.key");

    Client as_wallet(options("wallet", {}));
    CHECK_THROWS_WITH_AS(as_wallet.Connect(server.Endpoint()),
                         doctest::Contains("its CurveZMQ key is allowed for role p2p-agent only"), Error);
    CHECK(log.Count("permission denied") == 1);

    Client as_agent(options("p2p-agent", {}));
    auto connection = as_agent.Connect(server.Endpoint());
    auto echo = MakeProxy<interfaces::Echo>(connection);
    CHECK(CodeOf([&] { echo->echo("let me in"); }) == DENIED);
    CHECK(CodeOf([&] {
              connection->Call<PeerInfo>("init.hello", PeerInfo{"wallet", ::getpid(), {"echo"}});
          }) == DENIED);
    CHECK(CodeOf([&] { echo->echo("and now?"); }) == DENIED);
    CHECK(log.Count("permission denied") == 4);
    CHECK(connection->IsConnected());
}
