// A ZeroMQ PUB socket for bitcoind's notification topics (-zmqpub*): plain
// multipart messages to whoever subscribes, as bitcoind's own publishers send
// them. It is the one place outside the typed IPC layer where the project
// speaks ZeroMQ to outsiders, so it lives here with the rest of ZeroMQ. It has
// no envelope, no hello and no CurveZMQ: a bitcoind subscriber connects as is,
// so bind it to addresses only trusted programs reach (doc/zmq.md).
#ifndef ORRERY_COMMON_IPC_PUBLISHER_H
#define ORRERY_COMMON_IPC_PUBLISHER_H

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::ipc {

class Publisher
{
public:
    //! Binds a PUB socket on `address` (tcp://, ipc://) with a send high-water mark of `high_water_mark`
    //! messages. Throws Error naming the address when it cannot bind.
    Publisher(const std::string& address, int high_water_mark);
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    //! Sends one multipart message without blocking. A subscriber past the high-water mark misses it, as ZeroMQ's
    //! PUB sockets do. False when the socket refused the message. Thread-safe.
    bool Send(const std::vector<std::string_view>& frames);
    const std::string& Address() const { return m_address; }

private:
    std::string m_address;
    std::shared_ptr<void> m_context;
    void* m_socket{nullptr};
    std::mutex m_mutex;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_PUBLISHER_H
