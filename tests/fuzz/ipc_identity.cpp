// Fuzz target: what the IPC layer reads to decide who a connection is. libzmq's
// Peer-Address (whose prefix is the socket's address), -ipcallow values and
// authorized_clients lines must parse to well-formed values or be refused.
#include <common/ipc/curve.h>
#include <common/ipc/identity.h>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace orrery::ipc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto peer = ParseUnixPeerAddress(text)) {
        // Read from the right, in one form only: the text ends with exactly what it decoded to.
        if (peer->pid <= 0 || peer->pid > (int64_t{1} << 22)) std::abort();
        if (!text.ends_with(fmt::format(":{}:{}:{}", peer->uid, peer->gid, peer->pid))) std::abort();
    }
    std::string error;
    if (auto grant = ParseIpcAllow(text, error)) {
        if (!ValidRoleName(grant->role) || text != fmt::format("{}:{}", grant->role, grant->uid)) std::abort();
    } else if (error.empty()) {
        std::abort(); // a refusal says why
    }
    if (size >= 40) {
        std::string why;
        auto role = FindKeyRole(text, text.substr(0, 40), why);
        if (role && !ValidRoleName(*role)) std::abort();
    }
    return 0;
}
