// The hand-off of a peer to a spare p2p-agent, both ends of it: orreryd's
// (supervisor/) and the agent's (services/p2p-agent/). orreryd keeps a few
// agents started ahead of need (exec'd, libraries loaded, connected to the
// node) so a new peer does not wait for a process to start. Each spare holds
// one end of a Unix SOCK_SEQPACKET pair and says "ready" on it once connected
// to the node; orreryd sends it one message, the peer's id and address with
// the connected socket attached (SCM_RIGHTS), and closes its end. A spare
// whose end closes without a message exits quietly.
#ifndef ORRERY_COMMON_HANDOFF_HANDOFF_H
#define ORRERY_COMMON_HANDOFF_HANDOFF_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace orrery::handoff {

//! An inbound peer handed to a spare.
struct Handoff {
    int64_t peer_id{-1};
    std::string address; //!< "ip:port" or "[ipv6]:port"
    int fd{-1};          //!< the connected socket, owned by the receiver
};

//! Largest hand-off message; anything longer is refused.
constexpr size_t MAX_HANDOFF_BYTES = 512;

//! "orrery-handoff 1\n<peer id>\n<address>\n".
std::string EncodeHandoff(int64_t peer_id, const std::string& address);
//! Parses a message of EncodeHandoff (fd left at -1); nullopt for anything else.
std::optional<Handoff> DecodeHandoff(std::span<const uint8_t> bytes);

//! Sends `bytes` as one message with `fd` attached; false (errno set) when the other end is gone.
bool SendWithFd(int control, std::string_view bytes, int fd);
//! Sends the message and `fd` over `control`; false (errno set) when the spare is gone.
bool SendHandoff(int control, int64_t peer_id, const std::string& address, int fd);

//! The spare's word that it is connected to the node and waits for a peer.
inline constexpr std::string_view READY = "ready";
//! The spare's side: says READY. orreryd may have handed a peer over and closed
//! its end already (the message is still there to read), so a failure is no error.
void SendReady(int control);

//! What orreryd reads from a spare's control socket.
enum class SpareReport {
    NOTHING,    //!< nothing to read now
    READY,      //!< it said READY
    CLOSED,     //!< its end closed (it exits)
    UNEXPECTED, //!< anything else: it is not trusted to speak again
};
//! orreryd's side: reads one message from a spare's control socket without blocking.
SpareReport ReadSpareReport(int control);
//! orreryd's side, after sending the hand-off: reads what the spare said and
//! nobody read yet, so that closing orreryd's end does not reset the spare's.
void DiscardSpareReports(int control);

//! What a spare waits for.
struct HandoffWait {
    enum class Outcome { HANDOFF, CLOSED, SIGNALLED, BAD_MESSAGE } outcome{Outcome::CLOSED};
    Handoff handoff;
    std::string error; //!< for BAD_MESSAGE
};
//! Blocks until orreryd hands a peer over `control`, closes it, or SIGTERM,
//! SIGINT or SIGHUP arrives (the caller keeps them blocked; they are unblocked
//! only while waiting). Received fds other than one socket are closed.
HandoffWait WaitForHandoff(int control);

} // namespace orrery::handoff

#endif // ORRERY_COMMON_HANDOFF_HANDOFF_H
