// A small HTTP/1.1 server: one thread polls the listening sockets and every
// connection (reads, writes, timeouts, keep-alive, pipelining), a fixed pool of
// workers runs the handler. A request waits in a bounded queue; past its depth
// the client gets 503, as bitcoind's -rpcworkqueue does.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_HTTP_SERVER_H
#define ORRERY_SERVICES_GUI_BRIDGE_HTTP_SERVER_H

#include <common/http/http.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace orrery::http {

struct ServerOptions {
    //! Addresses to listen on, as (host, port); port 0 picks a free one.
    std::vector<std::pair<std::string, uint16_t>> binds;
    size_t threads{4};
    size_t work_queue{16};
    //! An idle or stalled connection is closed after this long (-rpcservertimeout).
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    size_t max_connections{256};
    Limits limits;
};

//! Runs on a worker thread; may block (it calls other services). `peer` is "ip:port".
using Handler = std::function<Response(const Request& request, const std::string& peer)>;

class Server
{
public:
    Server(ServerOptions options, Handler handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    //! Binds every address and starts the threads. Throws std::runtime_error naming the address that failed.
    void Start();
    //! "ip:port" of each listening socket, ports filled in.
    std::vector<std::string> BoundAddresses() const;
    //! Stops accepting, lets requests being handled finish and their replies leave
    //! (for up to `grace`), then closes every connection. Safe to call twice.
    void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace orrery::http

#endif // ORRERY_SERVICES_GUI_BRIDGE_HTTP_SERVER_H
