// RPC authentication as bitcoind does it: HTTP Basic credentials checked
// against the cookie (<net>/.cookie, "__cookie__:<64 hex>", made at start),
// -rpcuser/-rpcpassword, and -rpcauth lines (user:salt$hmac-sha256-hex).
#ifndef ORRERY_SERVICES_GUI_BRIDGE_AUTH_H
#define ORRERY_SERVICES_GUI_BRIDGE_AUTH_H

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::rpc {

inline constexpr std::string_view COOKIE_USER = "__cookie__";

class Authenticator
{
public:
    void AddPassword(std::string user, std::string password);
    //! An -rpcauth value "user:salt$hash". False (nothing added) when malformed.
    bool AddRpcAuth(std::string_view spec);
    //! Checks an Authorization header value ("Basic <base64>"). On success sets *user.
    //! Comparisons take the same time whatever the secret, so timing tells nothing.
    bool Check(std::string_view authorization, std::string* user = nullptr) const;
    bool Empty() const { return m_passwords.empty() && m_hashed.empty(); }

private:
    struct Hashed {
        std::string user, salt, hash_hex;
    };
    std::vector<std::pair<std::string, std::string>> m_passwords;
    std::vector<Hashed> m_hashed;
};

//! 32 random bytes from the kernel as 64 hex digits.
std::string RandomHexPassword();
//! Writes "__cookie__:<password>" at `path` (0600, atomic). Returns an error message or nullopt.
std::optional<std::string> WriteCookieFile(const std::filesystem::path& path, const std::string& password);

//! Equal in time independent of where the inputs differ.
bool TimingResistantEqual(std::string_view a, std::string_view b);

} // namespace orrery::rpc

#endif // ORRERY_SERVICES_GUI_BRIDGE_AUTH_H
