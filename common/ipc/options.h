// Settings of one IPC endpoint (a Server or a Client).
#ifndef ORRERY_COMMON_IPC_OPTIONS_H
#define ORRERY_COMMON_IPC_OPTIONS_H

#include <common/ipc/envelope.h>
#include <common/ipc/identity.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace orrery::ipc {

struct Options {
    //! This process's role, announced in init.hello and shown in logs ("node", "wallet", ...).
    std::string role{"orrery"};
    //! Interfaces a client needs; Connect fails clearly if the service lacks one.
    std::vector<std::string> interfaces;
    //! Largest message accepted; larger ones get a MESSAGE_TOO_LARGE error. ZeroMQ
    //! itself drops a connection that sends more than twice this.
    size_t max_message_size{DEFAULT_MAX_MESSAGE_SIZE};
    //! ZMTP heartbeats: a silent peer is declared gone after heartbeat_timeout.
    std::chrono::milliseconds heartbeat_interval{500};
    std::chrono::milliseconds heartbeat_timeout{1500};
    //! How long Connect waits for the service and its hello.
    std::chrono::milliseconds connect_timeout{5000};
    //! Deadline of every call; zero means none (dead peers still fail calls via heartbeats).
    std::chrono::milliseconds call_timeout{0};
    //! A handler running longer than this hands socket polling to another thread.
    std::chrono::milliseconds promotion_delay{2};
    //! Upper bound on threads running handlers concurrently.
    size_t max_threads{16};
    //! Requests one peer may have running at once before it gets BUSY errors.
    size_t max_requests_in_flight{64};
    //! Folder with CurveZMQ key pairs and the client allow-list (tcp:// only).
    std::filesystem::path keys_dir;
    //! For a tcp:// client: the server's public key (Z85). Empty: read keys_dir/<server_role>.pub.
    std::string server_public_key;
    std::string server_role{"node"};
    //! A server: which roles each connection may claim in its hello (identity.h).
    RolePolicy roles;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_OPTIONS_H
