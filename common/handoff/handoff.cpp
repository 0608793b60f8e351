// The spare agent hand-off; see handoff.h.
#include <common/handoff/handoff.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <string_view>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace orrery::handoff {
namespace {

constexpr std::string_view MAGIC = "orrery-handoff 1\n";

void NoteSignal(int) {}

} // namespace

std::string EncodeHandoff(int64_t peer_id, const std::string& address)
{
    return std::string(MAGIC) + std::to_string(peer_id) + "\n" + address + "\n";
}

std::optional<Handoff> DecodeHandoff(std::span<const uint8_t> bytes)
{
    if (bytes.size() > MAX_HANDOFF_BYTES) return std::nullopt;
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (!text.starts_with(MAGIC)) return std::nullopt;
    text.remove_prefix(MAGIC.size());
    const size_t id_end = text.find('\n');
    if (id_end == std::string_view::npos || id_end == 0) return std::nullopt;
    // The peer id as EncodeHandoff writes it: decimal digits, no sign, no leading zero (one form
    // only, so "-0" or "007" never stand for a peer).
    const std::string_view id = text.substr(0, id_end);
    if ((id.size() > 1 && id[0] == '0') || id.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    Handoff handoff;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), handoff.peer_id);
    if (ec != std::errc{} || end != id.data() + id.size()) return std::nullopt;
    text.remove_prefix(id_end + 1);
    if (text.size() < 2 || text.back() != '\n') return std::nullopt;
    text.remove_suffix(1);
    for (char c : text) {
        if (c <= ' ' || c > '~') return std::nullopt; // one printable token: ip:port
    }
    handoff.address = std::string(text);
    return handoff;
}

bool SendWithFd(int control, std::string_view bytes, int fd)
{
    iovec io{const_cast<char*>(bytes.data()), bytes.size()};
    alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &io;
    msg.msg_iovlen = 1;
    msg.msg_control = space;
    msg.msg_controllen = sizeof space;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t sent;
    do {
        sent = ::sendmsg(control, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    return sent == static_cast<ssize_t>(bytes.size());
}

bool SendHandoff(int control, int64_t peer_id, const std::string& address, int fd)
{
    return SendWithFd(control, EncodeHandoff(peer_id, address), fd);
}

void SendReady(int control)
{
    [[maybe_unused]] ssize_t sent = ::send(control, READY.data(), READY.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

SpareReport ReadSpareReport(int control)
{
    char message[16];
    ssize_t n = ::recv(control, message, sizeof message, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return SpareReport::NOTHING;
    if (n == static_cast<ssize_t>(READY.size()) && std::string_view(message, READY.size()) == READY) {
        return SpareReport::READY;
    }
    return n > 0 ? SpareReport::UNEXPECTED : SpareReport::CLOSED;
}

void DiscardSpareReports(int control)
{
    char message[16];
    while (::recv(control, message, sizeof message, MSG_DONTWAIT) > 0) {
    }
}

HandoffWait WaitForHandoff(int control)
{
    HandoffWait result;
    // The signals stay blocked everywhere else (the IPC threads must not take
    // them); a no-op handler makes them interrupt the wait below.
    struct sigaction action {
    };
    action.sa_handler = NoteSignal;
    sigemptyset(&action.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(s, &action, nullptr);
    sigset_t during;
    pthread_sigmask(SIG_SETMASK, nullptr, &during);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigdelset(&during, s);
    pollfd p{control, POLLIN, 0};
    if (::ppoll(&p, 1, nullptr, &during) < 0) {
        result.outcome = errno == EINTR ? HandoffWait::Outcome::SIGNALLED : HandoffWait::Outcome::BAD_MESSAGE;
        result.error = std::strerror(errno);
        return result;
    }
    uint8_t buffer[MAX_HANDOFF_BYTES + 1];
    iovec io{buffer, sizeof buffer};
    alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int) * 4)]{};
    msghdr msg{};
    msg.msg_iov = &io;
    msg.msg_iovlen = 1;
    msg.msg_control = space;
    msg.msg_controllen = sizeof space;
    ssize_t n;
    int resets = 0;
    do {
        n = ::recvmsg(control, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        // orreryd closing its end with our "ready" unread is reported once as
        // ECONNRESET, ahead of the hand-off still queued for us: read again.
    } while (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
    if (n == 0) return result; // CLOSED: orreryd no longer needs this spare
    std::vector<int> fds;
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            fds.push_back(fd);
        }
    }
    auto refuse = [&](std::string why) {
        for (int fd : fds) ::close(fd);
        result.outcome = HandoffWait::Outcome::BAD_MESSAGE;
        result.error = std::move(why);
        return result;
    };
    if (n < 0) return refuse(std::string("recvmsg: ") + std::strerror(errno));
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return refuse("hand-off message truncated");
    auto handoff = DecodeHandoff({buffer, static_cast<size_t>(n)});
    if (!handoff) return refuse("malformed hand-off message");
    struct stat st {
    };
    if (fds.size() != 1 || ::fstat(fds[0], &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return refuse("a hand-off carries exactly one socket");
    }
    handoff->fd = fds[0];
    result.outcome = HandoffWait::Outcome::HANDOFF;
    result.handoff = std::move(*handoff);
    return result;
}

} // namespace orrery::handoff
