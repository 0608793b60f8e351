// The hand-off of a peer to a spare p2p-agent. orreryd keeps a few agents
// started ahead of need (exec'd, libraries loaded, connected to the node) so a
// new peer does not wait for a process to start. Each spare holds one end of a
// Unix SOCK_SEQPACKET pair; orreryd sends it one message, the peer's id and
// address with the connected socket attached (SCM_RIGHTS), and closes its end.
// A spare whose end closes without a message exits quietly.
#ifndef ORRERY_SERVICES_P2P_AGENT_HANDOFF_H
#define ORRERY_SERVICES_P2P_AGENT_HANDOFF_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace orrery::p2p_agent {

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

} // namespace orrery::p2p_agent

#endif // ORRERY_SERVICES_P2P_AGENT_HANDOFF_H
