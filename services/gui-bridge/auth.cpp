// RPC authentication; see auth.h.
#include <services/gui-bridge/auth.h>

#include <common/http/http.h>

#include <common/crypto/hash.h>
#include <common/util/fs.h>

#include <algorithm>
#include <arpa/inet.h>
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

bool RpcWhitelist::Add(std::string_view spec)
{
    // As bitcoind: a user without ':' gets an empty list.
    size_t colon = spec.find(':');
    std::string user(spec.substr(0, colon));
    std::set<std::string> methods;
    std::string_view rest = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
    size_t start = 0;
    while (start <= rest.size()) {
        size_t end = rest.find_first_of(", ", start);
        if (end == std::string_view::npos) end = rest.size();
        if (end > start) methods.emplace(rest.substr(start, end - start));
        start = end + 1;
    }
    auto [it, inserted] = m_users.try_emplace(user, methods);
    if (!inserted) {
        std::set<std::string> both;
        for (const auto& method : it->second) {
            if (methods.count(method)) both.insert(method);
        }
        it->second = std::move(both);
    }
    return true;
}

bool RpcWhitelist::Allowed(const std::string& user, const std::string& method) const
{
    auto it = m_users.find(user);
    if (it == m_users.end()) return !m_restrict_unlisted;
    return it->second.count(method) > 0;
}

namespace {

//! An address as bytes: 4 for IPv4, 16 for IPv6.
std::optional<std::pair<int, std::array<uint8_t, 16>>> ParseAddress(const std::string& text)
{
    std::array<uint8_t, 16> bytes{};
    if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) return std::make_pair(AF_INET, bytes);
    if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
        // An IPv4-mapped IPv6 address is its IPv4 address.
        static constexpr uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(bytes.begin(), bytes.begin() + 12, MAPPED)) {
            std::array<uint8_t, 16> v4{};
            std::copy(bytes.begin() + 12, bytes.end(), v4.begin());
            return std::make_pair(AF_INET, v4);
        }
        return std::make_pair(AF_INET6, bytes);
    }
    return std::nullopt;
}

} // namespace

bool AllowedNetworks::Add(std::string_view text)
{
    size_t slash = text.find('/');
    auto address = ParseAddress(std::string(text.substr(0, slash)));
    if (!address) return false;
    Network network;
    network.family = address->first;
    network.address = address->second;
    size_t bits = network.family == AF_INET ? 32 : 128;
    size_t prefix = bits;
    if (slash != std::string_view::npos) {
        std::string_view suffix = text.substr(slash + 1);
        auto mask = ParseAddress(std::string(suffix));
        if (mask) {
            if (mask->first != network.family) return false;
            network.mask = mask->second;
            prefix = bits + 1; // taken from the mask below
        } else {
            if (suffix.empty() || suffix.size() > 3 ||
                !std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return false;
            prefix = std::stoul(std::string(suffix));
            if (prefix > bits) return false;
        }
    }
    if (prefix <= bits) {
        for (size_t i = 0; i < bits / 8; ++i) {
            size_t ones = prefix > i * 8 ? std::min<size_t>(8, prefix - i * 8) : 0;
            network.mask[i] = static_cast<uint8_t>(0xff00 >> ones);
        }
    }
    for (size_t i = 0; i < 16; ++i) network.address[i] &= network.mask[i];
    m_networks.push_back(network);
    return true;
}

bool AllowedNetworks::Allows(std::string_view peer) const
{
    std::string host(peer.substr(0, peer.rfind(':')));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    auto address = ParseAddress(host);
    if (!address) return false;
    // Loopback is always served, as bitcoind does (127.0.0.0/8 and ::1).
    if (address->first == AF_INET && address->second[0] == 127) return true;
    static constexpr std::array<uint8_t, 16> LOOPBACK6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (address->first == AF_INET6 && address->second == LOOPBACK6) return true;
    for (const auto& network : m_networks) {
        if (network.family != address->first) continue;
        bool match = true;
        for (size_t i = 0; i < 16; ++i) match = match && (address->second[i] & network.mask[i]) == network.address[i];
        if (match) return true;
    }
    return false;
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
