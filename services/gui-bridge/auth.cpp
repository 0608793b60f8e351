// RPC authentication; see auth.h.
#include <services/gui-bridge/auth.h>

#include <common/http/http.h>

#include <common/crypto/hash.h>
#include <common/util/fs.h>

#include <cerrno>
#include <span>
#include <stdexcept>
#include <sys/random.h>

namespace orrery::rpc {
namespace {

std::string ToHex(std::span<const uint8_t> bytes)
{
    static constexpr char HEX[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out += HEX[b >> 4];
        out += HEX[b & 15];
    }
    return out;
}

std::span<const uint8_t> Bytes(std::string_view text)
{
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

} // namespace

bool TimingResistantEqual(std::string_view a, std::string_view b)
{
    if (b.empty()) return a.empty();
    // Walk all of `a` whatever `b` is; the length difference is folded in too.
    size_t accumulator = a.size() ^ b.size();
    for (size_t i = 0; i < a.size(); ++i) accumulator |= static_cast<size_t>(a[i] ^ b[i % b.size()]);
    return accumulator == 0;
}

void Authenticator::AddPassword(std::string user, std::string password)
{
    m_passwords.emplace_back(std::move(user), std::move(password));
}

bool Authenticator::AddRpcAuth(std::string_view spec)
{
    size_t colon = spec.find(':');
    size_t dollar = spec.find('$', colon == std::string_view::npos ? 0 : colon);
    if (colon == std::string_view::npos || dollar == std::string_view::npos || colon == 0) return false;
    Hashed entry{std::string(spec.substr(0, colon)), std::string(spec.substr(colon + 1, dollar - colon - 1)),
                 std::string(spec.substr(dollar + 1))};
    if (entry.salt.empty() || entry.hash_hex.size() != 64) return false;
    m_hashed.push_back(std::move(entry));
    return true;
}

bool Authenticator::Check(std::string_view authorization, std::string* user) const
{
    if (!authorization.starts_with("Basic ")) return false;
    std::string_view encoded = authorization.substr(6);
    while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
    std::optional<std::string> decoded = http::Base64Decode(encoded);
    if (!decoded) return false;
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    std::string_view given_user = std::string_view(*decoded).substr(0, colon);
    std::string_view given_password = std::string_view(*decoded).substr(colon + 1);
    bool ok = false;
    for (const auto& [name, password] : m_passwords) {
        // Both compared every time: no early exit on the user name.
        bool user_ok = TimingResistantEqual(given_user, name);
        bool password_ok = TimingResistantEqual(given_password, password);
        bool match = user_ok && password_ok;
        if (match && !ok && user) *user = name;
        ok |= match;
    }
    for (const auto& entry : m_hashed) {
        std::string hash = ToHex(crypto::HmacSha256(Bytes(entry.salt), Bytes(given_password)));
        bool user_ok = TimingResistantEqual(given_user, entry.user);
        bool hash_ok = TimingResistantEqual(hash, entry.hash_hex);
        bool match = user_ok && hash_ok;
        if (match && !ok && user) *user = entry.user;
        ok |= match;
    }
    return ok;
}

std::string RandomHexPassword()
{
    uint8_t bytes[32];
    size_t filled = 0;
    while (filled < sizeof bytes) {
        ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");
        }
        filled += static_cast<size_t>(n);
    }
    return ToHex(bytes);
}

std::optional<std::string> WriteCookieFile(const std::filesystem::path& path, const std::string& password)
{
    return WritePrivateFile(path, std::string(COOKIE_USER) + ":" + password);
}

} // namespace orrery::rpc
