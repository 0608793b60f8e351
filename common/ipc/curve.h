// CurveZMQ for tcp:// endpoints: key pairs kept in <datadir>/<net>/keys/
// (folder 0700, files 0600, made on first use) and an allow-list of client
// public keys, each bound to one role ("<key> <role> [comment]"), checked by a
// ZAP handler. Anything not on the list is refused and logged; a client whose
// key is listed may say hello only as that key's role.
#ifndef ORRERY_COMMON_IPC_CURVE_H
#define ORRERY_COMMON_IPC_CURVE_H

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace orrery::ipc {

struct CurveKeyPair {
    std::string public_key; //!< Z85, 40 characters
    std::string secret_key; //!< Z85, 40 characters
};

//! Reads <dir>/<name>.key, or makes a new pair (and <name>.pub) there. A newly
//! made key is also added to <dir>/authorized_clients, so that services sharing
//! one keys folder trust each other; keys from elsewhere are added by hand.
CurveKeyPair LoadOrCreateKeyPair(const std::filesystem::path& dir, const std::string& name);
//! Reads the Z85 public key in <dir>/<name>.pub. Throws ipc::Error if missing.
std::string ReadPublicKey(const std::filesystem::path& dir, const std::string& name);
//! Adds a Z85 public key, bound to `role`, to <dir>/authorized_clients if not there yet.
void AuthorizeClient(const std::filesystem::path& dir, const std::string& public_key, const std::string& role);
//! The role an allow-list binds `z85_key` to. nullopt when the key is not listed, or
//! when its line names no valid role (then `why` says which line).
std::optional<std::string> FindKeyRole(std::string_view allow_list, std::string_view z85_key, std::string& why);

//! Answers ZAP requests of one ZeroMQ context from <dir>/authorized_clients
//! (re-read on every handshake, so a key can be added while running), with the
//! key's role as the ZAP User-Id.
class CurveAuthenticator
{
public:
    CurveAuthenticator(void* zmq_context, std::filesystem::path keys_dir);
    ~CurveAuthenticator();
    CurveAuthenticator(const CurveAuthenticator&) = delete;
    CurveAuthenticator& operator=(const CurveAuthenticator&) = delete;

private:
    void Run();
    std::optional<std::string> RoleOfKey(const std::string& z85_key, std::string& why);

    std::filesystem::path m_allow_list;
    void* m_socket{nullptr};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_CURVE_H
