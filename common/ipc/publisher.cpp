// bitcoind-style notification publisher; see publisher.h.
#include <common/ipc/publisher.h>

#include <common/ipc/error.h>

#include <zmq.h>

namespace orrery::ipc {

Publisher::Publisher(const std::string& address, int high_water_mark) : m_address(address)
{
    void* context = zmq_ctx_new();
    if (!context)
        throw Error(ErrorCode::INTERNAL_ERROR,
                    std::string("cannot create a ZeroMQ context: ") + zmq_strerror(zmq_errno()));
    m_context = std::shared_ptr<void>(context, [](void* c) { zmq_ctx_term(c); });
    m_socket = zmq_socket(context, ZMQ_PUB);
    if (!m_socket)
        throw Error(ErrorCode::INTERNAL_ERROR, std::string("cannot make a PUB socket: ") + zmq_strerror(zmq_errno()));
    // As bitcoind: the high-water mark given, TCP keep-alive, IPv6 when the address is one, no linger at close.
    int hwm = high_water_mark;
    int one = 1;
    int zero = 0;
    zmq_setsockopt(m_socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(m_socket, ZMQ_TCP_KEEPALIVE, &one, sizeof one);
    zmq_setsockopt(m_socket, ZMQ_LINGER, &zero, sizeof zero);
    if (address.find('[') != std::string::npos) zmq_setsockopt(m_socket, ZMQ_IPV6, &one, sizeof one);
    if (zmq_bind(m_socket, address.c_str()) != 0) {
        std::string reason = zmq_strerror(zmq_errno());
        zmq_close(m_socket);
        m_socket = nullptr;
        throw Error(ErrorCode::INTERNAL_ERROR, "cannot bind the ZMQ publisher to " + address + ": " + reason);
    }
}

Publisher::~Publisher()
{
    if (m_socket) zmq_close(m_socket);
}

bool Publisher::Send(const std::vector<std::string_view>& frames)
{
    std::lock_guard lock(m_mutex);
    for (size_t i = 0; i < frames.size(); ++i) {
        int flags = ZMQ_DONTWAIT | (i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
        if (zmq_send(m_socket, frames[i].data(), frames[i].size(), flags) < 0) return false;
    }
    return true;
}

} // namespace orrery::ipc
