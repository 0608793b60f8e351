// CurveZMQ key files and the ZAP handler; see curve.h.
#include <common/ipc/curve.h>
#include <common/ipc/error.h>
#include <common/ipc/identity.h>
#include <common/util/fs.h>
#include <common/util/logging.h>

#include <zmq.h>

#include <fmt/format.h>

#include <sstream>
#include <vector>

namespace orrery::ipc {
namespace {

std::string ValueOf(const std::string& text, const std::string& key)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(key + "=")) return line.substr(key.size() + 1);
    }
    return {};
}

bool ValidZ85Key(const std::string& key)
{
    uint8_t raw[32];
    return key.size() == 40 && zmq_z85_decode(raw, key.c_str()) != nullptr;
}

} // namespace

CurveKeyPair LoadOrCreateKeyPair(const std::filesystem::path& dir, const std::string& name)
{
    if (auto error = EnsurePrivateDir(dir)) throw Error(ErrorCode::INTERNAL_ERROR, *error);
    std::filesystem::path key_file = dir / (name + ".key");
    if (auto text = ReadFileToString(key_file)) {
        CurveKeyPair pair{ValueOf(*text, "public"), ValueOf(*text, "secret")};
        if (!ValidZ85Key(pair.public_key) || !ValidZ85Key(pair.secret_key)) {
            throw Error(ErrorCode::INTERNAL_ERROR, "malformed CurveZMQ key file " + key_file.string());
        }
        return pair;
    }
    char public_key[41], secret_key[41];
    if (zmq_curve_keypair(public_key, secret_key) != 0) {
        throw Error(ErrorCode::INTERNAL_ERROR, "this ZeroMQ cannot make CurveZMQ keys (built without libsodium?)");
    }
    CurveKeyPair pair{public_key, secret_key};
    if (auto error =
            WritePrivateFile(key_file, fmt::format("# CurveZMQ key pair of {}: keep secret\npublic={}\nsecret={}\n",
                                                   name, pair.public_key, pair.secret_key))) {
        throw Error(ErrorCode::INTERNAL_ERROR, *error);
    }
    if (auto error = WritePrivateFile(dir / (name + ".pub"), pair.public_key + "\n")) {
        throw Error(ErrorCode::INTERNAL_ERROR, *error);
    }
    AuthorizeClient(dir, pair.public_key, name);
    LogPrintf("ipc: made a new CurveZMQ key pair for {} in {}", name, dir.string());
    return pair;
}

std::string ReadPublicKey(const std::filesystem::path& dir, const std::string& name)
{
    auto text = ReadFileToString(dir / (name + ".pub"));
    std::string key = text ? text->substr(0, text->find_first_of(" \t\r\n")) : std::string();
    if (!ValidZ85Key(key)) {
        throw Error(ErrorCode::PERMISSION_DENIED,
                    fmt::format("no valid public key of {} in {} (copy {}.pub from the service's keys folder)", name,
                                dir.string(), name));
    }
    return key;
}

std::optional<std::string> FindKeyRole(std::string_view allow_list, std::string_view z85_key, std::string& why)
{
    why.clear();
    size_t number = 0;
    while (!allow_list.empty()) {
        const size_t end = allow_list.find('\n');
        std::string_view line = allow_list.substr(0, end);
        allow_list = end == std::string_view::npos ? std::string_view() : allow_list.substr(end + 1);
        ++number;
        // '#' is one of Z85's digits, so a comment is any line that does not start with the key itself
        // (a comment's "# " can never match: Z85 has no space).
        if (line.size() < 40 || line.substr(0, 40) != z85_key) continue;
        std::string_view rest = line.substr(40);
        const size_t start = rest.find_first_not_of(" \t\r");
        if (start == 0) continue; // a longer token that starts with the key: not this key
        std::string_view role = start == std::string_view::npos ? std::string_view() : rest.substr(start);
        role = role.substr(0, role.find_first_of(" \t\r"));
        if (!ValidRoleName(role)) {
            why = fmt::format("line {} of authorized_clients gives the key no role (write '<key> <role> [comment]', "
                              "role one of orreryd, node, wallet, gui-bridge, p2p-agent, cli)",
                              number);
            return std::nullopt;
        }
        return std::string(role);
    }
    return std::nullopt;
}

void AuthorizeClient(const std::filesystem::path& dir, const std::string& public_key, const std::string& role)
{
    std::filesystem::path list = dir / "authorized_clients";
    std::string text = ReadFileToString(list).value_or(
        "# Clients allowed on this host's tcp:// endpoints, one per line: '<public key (Z85)> <role> [comment]'.\n"
        "# A client may say hello only as the role its key is bound to.\n");
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.substr(0, 40) == public_key) return;
    }
    text += public_key + " " + role + "\n";
    if (auto error = WritePrivateFile(list, text)) throw Error(ErrorCode::INTERNAL_ERROR, *error);
}

CurveAuthenticator::CurveAuthenticator(void* zmq_context, std::filesystem::path keys_dir)
    : m_allow_list(std::move(keys_dir) / "authorized_clients")
{
    m_socket = zmq_socket(zmq_context, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(m_socket, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(m_socket, "inproc://zeromq.zap.01") != 0) {
        zmq_close(m_socket);
        throw Error(ErrorCode::INTERNAL_ERROR,
                    std::string("cannot start the ZAP handler: ") + zmq_strerror(zmq_errno()));
    }
    m_thread = std::thread([this] { Run(); });
}

CurveAuthenticator::~CurveAuthenticator()
{
    m_stop = true;
    m_thread.join();
    zmq_close(m_socket);
}

std::optional<std::string> CurveAuthenticator::RoleOfKey(const std::string& z85_key, std::string& why)
{
    auto text = ReadFileToString(m_allow_list);
    if (!text) {
        why = "cannot read " + m_allow_list.string();
        return std::nullopt;
    }
    auto role = FindKeyRole(*text, z85_key, why);
    if (!role && why.empty()) why = "not in " + m_allow_list.string();
    return role;
}

void CurveAuthenticator::Run()
{
    while (!m_stop) {
        zmq_pollitem_t item{m_socket, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0) continue;
        // ZAP request: version, request id, domain, address, identity, mechanism, credentials...
        std::vector<std::string> frames;
        int more = 1;
        while (more) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, m_socket, 0) < 0) {
                zmq_msg_close(&msg);
                break;
            }
            frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
            more = zmq_msg_more(&msg);
            zmq_msg_close(&msg);
        }
        if (frames.size() < 6) continue;
        std::string status = "400", text = "refused";
        std::string key_text = "(none)";
        std::string why = "not a CurveZMQ client", role;
        if (frames[5] == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
            char z85[41];
            zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(frames[6].data()), 32);
            key_text = z85;
            if (auto found = RoleOfKey(key_text, why)) {
                status = "200", text = "OK";
                role = *found;
            }
        }
        if (status != "200") {
            LogPrintf("ipc: refused a {} client with key {} from {}: {}", frames[5], key_text, frames[3], why);
        }
        // The User-Id is the role the key is bound to: the link reads it from each message.
        const std::string reply[] = {"1.0", frames[1], status, text, role, ""};
        for (size_t i = 0; i < 6; ++i) {
            zmq_send(m_socket, reply[i].data(), reply[i].size(), i < 5 ? ZMQ_SNDMORE : 0);
        }
    }
}

} // namespace orrery::ipc
