// P2P listening sockets; see listener.h.
#include <supervisor/listener.h>

#include <common/util/logging.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace orrery::supervisor {
namespace {

std::string FormatSockaddr(const sockaddr_storage& address)
{
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
        return FormatHostPort(text, ntohs(v4.sin_port));
    }
    if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
        return FormatHostPort(text, ntohs(v6.sin6_port));
    }
    return "unknown";
}

} // namespace

Listener::~Listener()
{
    Stop();
}

void Listener::Bind(const HostPort& address)
{
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family;
    if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage); ::inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
        family = AF_INET;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(address.port);
        length = sizeof(sockaddr_in);
    } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
               ::inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(address.port);
        length = sizeof(sockaddr_in6);
    } else {
        throw std::runtime_error("Cannot resolve -bind address: '" + address.host + "'");
    }
    std::string shown = FormatHostPort(address.host, address.port);
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error("Unable to bind to " + shown + ": " + std::strerror(errno));
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        int error = errno;
        ::close(fd);
        throw std::runtime_error("Unable to bind to " + shown + " on this computer. " +
                                 (error == EADDRINUSE ? "Orrery is probably already running." : std::strerror(error)));
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
    m_sockets.push_back(fd);
    m_addresses.push_back(FormatSockaddr(bound));
}

std::vector<std::string> Listener::Addresses() const
{
    return m_addresses;
}

void Listener::Start(AcceptFn on_accept)
{
    m_on_accept = std::move(on_accept);
    m_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_wake_fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    m_thread = std::thread([this] { Loop(); });
}

void Listener::Stop()
{
    if (m_thread.joinable()) {
        uint64_t one = 1;
        (void)!::write(m_wake_fd, &one, sizeof(one));
        m_thread.join();
    }
    for (int fd : m_sockets) ::close(fd);
    m_sockets.clear();
    if (m_wake_fd >= 0) ::close(m_wake_fd);
    m_wake_fd = -1;
}

void Listener::Loop()
{
    std::vector<pollfd> fds;
    for (int fd : m_sockets) fds.push_back({fd, POLLIN, 0});
    fds.push_back({m_wake_fd, POLLIN, 0});
    for (;;) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            LogPrintf("Error: poll on the P2P listening sockets: {}", std::strerror(errno));
            return;
        }
        if (fds.back().revents) return;
        for (size_t i = 0; i + 1 < fds.size(); ++i) {
            if (!(fds[i].revents & POLLIN)) continue;
            sockaddr_storage peer{};
            socklen_t length = sizeof(peer);
            int fd = ::accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    LogPrintf("Warning: cannot accept a P2P connection: {}", std::strerror(errno));
                    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // do not spin while out of fds
                }
                continue;
            }
            sockaddr_storage local{};
            socklen_t local_length = sizeof(local);
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length);
            m_on_accept(fd, FormatSockaddr(peer), FormatSockaddr(local));
        }
    }
}

} // namespace orrery::supervisor
