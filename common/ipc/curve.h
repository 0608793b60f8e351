// CurveZMQ for tcp:// endpoints: key pairs kept in <datadir>/<net>/keys/
// (folder 0700, files 0600, made on first use) and an allow-list of client
// public keys, checked by a ZAP handler. Anything not on the list is refused
// and logged.
#ifndef ORRERY_COMMON_IPC_CURVE_H
#define ORRERY_COMMON_IPC_CURVE_H

#include <atomic>
#include <filesystem>
#include <string>
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
//! Adds a Z85 public key to <dir>/authorized_clients if not there yet.
void AuthorizeClient(const std::filesystem::path& dir, const std::string& public_key, const std::string& comment);

//! Answers ZAP requests of one ZeroMQ context from <dir>/authorized_clients
//! (re-read when it changes, so a key can be added while running).
class CurveAuthenticator
{
public:
    CurveAuthenticator(void* zmq_context, std::filesystem::path keys_dir);
    ~CurveAuthenticator();
    CurveAuthenticator(const CurveAuthenticator&) = delete;
    CurveAuthenticator& operator=(const CurveAuthenticator&) = delete;

private:
    void Run();
    bool IsAuthorized(const std::string& z85_key);

    std::filesystem::path m_allow_list;
    void* m_socket{nullptr};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_CURVE_H
