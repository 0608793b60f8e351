// Servers and clients. The transport follows from the endpoint string alone:
// inproc:// (threads of one process), ipc:// (Unix socket), tcp:// (CurveZMQ).
#ifndef ORRERY_COMMON_IPC_ENDPOINT_H
#define ORRERY_COMMON_IPC_ENDPOINT_H

#include <common/ipc/dispatcher.h>
#include <common/ipc/options.h>

#include <memory>
#include <string>
#include <vector>

namespace orrery::ipc {

namespace detail {
class Link;
}

//! Binds a ROUTER and serves the interfaces registered before Bind.
class Server
{
public:
    explicit Server(Options options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    template <typename I>
    void Serve(std::shared_ptr<I> implementation, std::vector<std::string> allowed_roles = {})
    {
        ipc::Serve<I>(GetDispatcher(), std::move(implementation), std::move(allowed_roles));
    }
    Dispatcher& GetDispatcher();
    //! Starts serving on `endpoint`. Throws Error with the reason (bad endpoint, address in use, keys).
    void Bind(const std::string& endpoint);
    //! The bound endpoint, with the port filled in for tcp://...:0.
    std::string Endpoint() const;
    //! Peers that have completed their hello.
    std::vector<std::shared_ptr<Connection>> Peers() const;
    //! Stops serving; calls in flight to peers fail with DISCONNECTED.
    void Stop();

private:
    Options m_options;
    Dispatcher m_dispatcher;
    std::shared_ptr<detail::Link> m_link;
};

//! Connects a DEALER to a service, reconnecting and resubscribing by itself.
class Client
{
public:
    explicit Client(Options options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    //! Interfaces this side serves to the service over the same connection.
    template <typename I>
    void Serve(std::shared_ptr<I> implementation, std::vector<std::string> allowed_roles = {})
    {
        ipc::Serve<I>(GetDispatcher(), std::move(implementation), std::move(allowed_roles));
    }
    Dispatcher& GetDispatcher();
    //! Connects and completes init.hello within options.connect_timeout.
    //! Throws Error(DISCONNECTED) naming the endpoint when nobody answers.
    std::shared_ptr<Connection> Connect(const std::string& endpoint);
    void Stop();

private:
    Options m_options;
    Dispatcher m_dispatcher;
    std::shared_ptr<detail::Link> m_link;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_ENDPOINT_H
