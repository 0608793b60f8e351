// RPC authentication as bitcoind does it: HTTP Basic credentials checked
// against the cookie (<net>/.cookie, "__cookie__:<64 hex>", made at start),
// -rpcuser/-rpcpassword, and -rpcauth lines (user:salt$hmac-sha256-hex); and
// who may call what: -rpcwhitelist per user, -rpcallowip per client network.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_AUTH_H
#define ORRERY_SERVICES_GUI_BRIDGE_AUTH_H

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
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

//! -rpcwhitelist: the methods each user may call. A user named in no -rpcwhitelist may call everything, unless
//! the default (-rpcwhitelistdefault, on when any -rpcwhitelist is given) says such users may call nothing.
class RpcWhitelist
{
public:
    //! "<user>:<method>,<method>,..." (commas or spaces between methods; "<user>" alone: none). Given twice for one
    //! user, only the methods both allow remain.
    bool Add(std::string_view spec);
    void SetDefault(bool restrict_unlisted) { m_restrict_unlisted = restrict_unlisted; }
    bool Empty() const { return m_users.empty(); }
    //! Whether `user` may call `method`.
    bool Allowed(const std::string& user, const std::string& method) const;

private:
    std::map<std::string, std::set<std::string>, std::less<>> m_users;
    bool m_restrict_unlisted{false};
};

//! -rpcallowip: the client networks served, beside the loopback addresses that always are.
class AllowedNetworks
{
public:
    //! A single address ("1.2.3.4", "::1"), a network/CIDR ("10.0.0.0/8") or network/netmask
    //! ("10.0.0.0/255.0.0.0"). False when it is none of these.
    bool Add(std::string_view text);
    //! Whether a client at `peer` ("ip:port" or "[ipv6]:port", as the HTTP server names it) is served.
    bool Allows(std::string_view peer) const;

private:
    struct Network {
        int family{0};
        std::array<uint8_t, 16> address{};
        std::array<uint8_t, 16> mask{};
    };
    std::vector<Network> m_networks;
};

//! 32 random bytes from the kernel as 64 hex digits.
std::string RandomHexPassword();
//! Writes "__cookie__:<password>" at `path` (0600, atomic). Returns an error message or nullopt.
std::optional<std::string> WriteCookieFile(const std::filesystem::path& path, const std::string& password);

//! Equal in time independent of where the inputs differ.
bool TimingResistantEqual(std::string_view a, std::string_view b);

} // namespace orrery::rpc

#endif // ORRERY_SERVICES_GUI_BRIDGE_AUTH_H
