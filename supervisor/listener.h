// orreryd's P2P listening sockets (-listen, -port, -bind) and the thread that
// accepts on them. What happens to an accepted socket is the caller's choice
// (ask the node, then hand it to a new p2p-agent).
#ifndef ORRERY_SUPERVISOR_LISTENER_H
#define ORRERY_SUPERVISOR_LISTENER_H

#include <common/util/host_port.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace orrery::supervisor {

class Listener
{
public:
    //! Called on the accept thread with a connected, blocking, close-on-exec
    //! socket that the callee then owns, the peer's address and the local one.
    using AcceptFn = std::function<void(int fd, const std::string& peer, const std::string& local)>;

    Listener() = default;
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    //! Opens a listening socket. Throws std::runtime_error with bitcoind's wording when it cannot.
    void Bind(const HostPort& address);
    //! The bound addresses, with the port the kernel chose for port 0.
    std::vector<std::string> Addresses() const;
    bool Empty() const { return m_sockets.empty(); }
    //! Starts the accept thread.
    void Start(AcceptFn on_accept);
    //! Stops accepting and closes the listening sockets; returns when the thread is gone.
    void Stop();

private:
    void Loop();

    std::vector<int> m_sockets;
    std::vector<std::string> m_addresses;
    int m_wake_fd{-1};
    AcceptFn m_on_accept;
    std::thread m_thread;
};

} // namespace orrery::supervisor

#endif // ORRERY_SUPERVISOR_LISTENER_H
