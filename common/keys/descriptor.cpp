// Descriptor checksum (BIP380) and a recursive-descent parser for the
// descriptors of descriptor.h, following Core's script/descriptor.cpp.
#include "common/keys/descriptor.h"

#include "common/keys/base58.h"
#include "common/keys/bip32.h"
#include "common/keys/key.h"
#include "common/keys/key_io.h"

#include <algorithm>
#include <optional>

namespace orrery {

// ---- checksum

namespace {

uint64_t PolyMod(uint64_t c, int val)
{
    const uint8_t c0 = c >> 35;
    c = ((c & 0x7ffffffff) << 5) ^ val;
    if (c0 & 1) c ^= 0xf5dee51989;
    if (c0 & 2) c ^= 0xa9fdca3312;
    if (c0 & 4) c ^= 0x1bab10e32d;
    if (c0 & 8) c ^= 0x3706b1677a;
    if (c0 & 16) c ^= 0x644d626ffd;
    return c;
}

} // namespace

std::string DescriptorChecksum(std::string_view text)
{
    static constexpr std::string_view INPUT_CHARSET = "0123456789()[],'/*abcdefgh@:$%{}"
                                                      "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
                                                      "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
    static constexpr std::string_view CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    uint64_t c = 1;
    int cls = 0;
    int clscount = 0;
    for (char ch : text) {
        const auto pos = INPUT_CHARSET.find(ch);
        if (pos == std::string_view::npos) return "";
        c = PolyMod(c, static_cast<int>(pos & 31)); // the position inside its group of 32
        cls = cls * 3 + static_cast<int>(pos >> 5); // the groups, three characters per symbol
        if (++clscount == 3) {
            c = PolyMod(c, cls);
            cls = 0;
            clscount = 0;
        }
    }
    if (clscount > 0) c = PolyMod(c, cls);
    for (int j = 0; j < 8; ++j) c = PolyMod(c, 0);
    c ^= 1;
    std::string out(8, ' ');
    for (int j = 0; j < 8; ++j) out[j] = CHECKSUM_CHARSET[(c >> (5 * (7 - j))) & 31];
    return out;
}

std::string AddDescriptorChecksum(std::string_view text)
{
    return std::string(text) + "#" + DescriptorChecksum(text);
}

// ---- parser

namespace {

using Bytes = std::vector<uint8_t>;

enum class Context { TOP, P2SH, P2WPKH, P2WSH, P2TR };

[[noreturn]] void Fail(const std::string& message)
{
    throw DescriptorError(message);
}

//! Splits `text` at top-level commas (not inside parentheses or brackets).
std::vector<std::string_view> SplitArgs(std::string_view text)
{
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (ch == '(' || ch == '{' || ch == '[') ++depth;
        if (ch == ')' || ch == '}' || ch == ']') --depth;
        if (ch == ',' && depth == 0) {
            out.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(text.substr(start));
    return out;
}

//! If `text` is "name(inner)", the inner text.
std::optional<std::string_view> Func(std::string_view name, std::string_view text)
{
    if (text.size() >= name.size() + 2 && text.substr(0, name.size()) == name && text[name.size()] == '(' &&
        text.back() == ')') {
        return text.substr(name.size() + 1, text.size() - name.size() - 2);
    }
    return std::nullopt;
}

std::optional<Bytes> ParseHex(std::string_view hex)
{
    if (hex.size() % 2) return std::nullopt;
    Bytes out;
    out.reserve(hex.size() / 2);
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
}

void Push(Bytes& script, std::span<const uint8_t> data)
{
    // Keys and hashes are at most 75 bytes: a direct push.
    script.push_back(static_cast<uint8_t>(data.size()));
    script.insert(script.end(), data.begin(), data.end());
}

void PushInt(Bytes& script, int n)
{
    if (n == 0) {
        script.push_back(0x00);
    } else if (n <= 16) {
        script.push_back(static_cast<uint8_t>(0x50 + n));
    } else {
        script.push_back(1);
        script.push_back(static_cast<uint8_t>(n));
    }
}

//! One parsed key expression.
struct KeyExpr {
    Bytes key; //!< 33 or 65 bytes, or 32 (x-only) inside tr()/rawtr()
    DescriptorKey info;
    bool ranged{false};
    bool multipath{false};
    bool needs_private{false};
};

class Parser
{
public:
    Parser(Network network, std::optional<uint32_t> position) : m_network(network), m_position(position) {}

    ParsedDescriptor Run(std::string_view text)
    {
        ParsedDescriptor out;
        out.scripts = Script(text, Context::TOP);
        out.ranged = m_ranged;
        out.multipath = m_multipath;
        out.needs_private = m_needs_private;
        out.keys = std::move(m_keys);
        out.has_private = m_has_private;
        if ((m_ranged && !m_position) || m_multipath || m_needs_private) {
            out.scripts.clear();
            out.keys.clear();
        }
        return out;
    }

    //! Private key texts met while parsing, each with its public form.
    const std::vector<std::pair<std::string, std::string>>& Replacements() const { return m_replacements; }

private:
    KeyExpr Key(std::string_view text, Context ctx)
    {
        KeyExpr out = KeyBody(text, ctx);
        out.info.pubkey = out.key;
        m_has_private |= out.info.has_private;
        m_keys.push_back(out.info);
        return out;
    }

    KeyExpr KeyBody(std::string_view text, Context ctx)
    {
        std::optional<std::string> origin_fingerprint;
        std::vector<uint32_t> origin_path;
        // Key origin: [fingerprint/path]
        if (!text.empty() && text[0] == '[') {
            const auto close = text.find(']');
            if (close == std::string_view::npos)
                Fail("Key origin start '[ character expected but not found, got ']' instead");
            const std::string_view origin = text.substr(1, close - 1);
            const auto slash = origin.find('/');
            const std::string_view fingerprint = origin.substr(0, slash);
            if (fingerprint.size() != 8) {
                Fail("Fingerprint is not 4 bytes (" + std::to_string(fingerprint.size()) +
                     " characters instead of 8 characters)");
            }
            if (!ParseHex(fingerprint)) Fail("Fingerprint '" + std::string(fingerprint) + "' is not hex");
            if (slash != std::string_view::npos)
                origin_path = ParsePath(origin.substr(slash + 1), /*allow_star=*/false).steps;
            origin_fingerprint = std::string(fingerprint);
            std::transform(origin_fingerprint->begin(), origin_fingerprint->end(), origin_fingerprint->begin(),
                           [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
            text = text.substr(close + 1);
        }
        KeyExpr out;
        out.info.path = origin_path;
        auto own_fingerprint = [&](std::span<const uint8_t> key) {
            if (origin_fingerprint) return *origin_fingerprint;
            const auto id = crypto::Hash160(key);
            return HexOf(std::span<const uint8_t>(id.data(), 4));
        };
        const std::string str(text);
        const auto slash = text.find('/');
        const std::string_view head = text.substr(0, slash);
        if (slash == std::string_view::npos) {
            if (auto bytes = ParseHex(text)) {
                if (ctx == Context::P2TR && bytes->size() == 32) {
                    if (!XOnlyPubKey::Parse(*bytes)) Fail("Pubkey '" + str + "' is invalid");
                    out.key = *bytes;
                    out.info.fingerprint = own_fingerprint(out.key);
                    return out;
                }
                auto pubkey = PubKey::Parse(*bytes);
                if (!pubkey) Fail("Pubkey '" + str + "' is invalid");
                if (!pubkey->IsCompressed() && ctx != Context::TOP && ctx != Context::P2SH) {
                    Fail("Uncompressed keys are not allowed");
                }
                out.key.assign(pubkey->bytes().begin(), pubkey->bytes().end());
                out.info.fingerprint = own_fingerprint(out.key);
                if (ctx == Context::P2TR) out.key.erase(out.key.begin()); // the x-only form
                return out;
            }
            if (auto key = DecodeWif(text, m_network)) {
                if (!key->IsCompressed() && ctx != Context::TOP && ctx != Context::P2SH) {
                    Fail("Uncompressed keys are not allowed");
                }
                const PubKey pub = key->GetPubKey();
                out.key.assign(pub.bytes().begin(), pub.bytes().end());
                out.info.fingerprint = own_fingerprint(out.key);
                out.info.has_private = true;
                out.info.secret = *key;
                m_replacements.emplace_back(str, HexOf(pub.bytes()));
                if (ctx == Context::P2TR) out.key.erase(out.key.begin());
                return out;
            }
        }
        const DecodedExtKey ext = DecodeExtendedKey(head);
        if (ext.error != ExtKeyError::NONE) Fail("key '" + std::string(head) + "' is not valid");
        ExtPubKey pub = ext.pub;
        std::optional<ExtKey> priv;
        if (ext.is_private) {
            priv = ext.priv;
            out.info.has_private = true;
            m_replacements.emplace_back(std::string(head), EncodeExtPubKey(ext.pub, ext.network));
        }
        if (origin_fingerprint) {
            out.info.fingerprint = *origin_fingerprint;
        } else {
            const auto own = pub.GetFingerprint();
            out.info.fingerprint = HexOf(own);
        }
        // One BIP32 step: from the private key while there is one (a hardened step needs it), else the public one.
        auto derive = [&](uint32_t index) {
            if (priv) {
                auto child = priv->Derive(index);
                if (!child) Fail("Cannot derive script without private keys");
                priv = *child;
                pub = priv->Neuter();
            } else if (index & BIP32_HARDENED) {
                m_needs_private = true;
            } else {
                auto child = pub.Derive(index);
                if (!child) Fail("Cannot derive script without private keys");
                pub = *child;
            }
        };
        if (slash != std::string_view::npos) {
            const auto path = ParsePath(text.substr(slash + 1), /*allow_star=*/true);
            out.info.path.insert(out.info.path.end(), path.steps.begin(), path.steps.end());
            if (path.star && m_position) {
                out.info.path.push_back(*m_position | (path.star_hardened ? BIP32_HARDENED : 0));
            }
            for (uint32_t index : path.steps) derive(index);
            out.ranged = path.star;
            if (path.star && m_position) {
                // The /* step at the position asked for (hardened for /*' and /*h).
                derive(*m_position | (path.star_hardened ? BIP32_HARDENED : 0));
            }
        }
        if (priv) out.info.secret = priv->key;
        out.key.assign(pub.pubkey.bytes().begin(), pub.pubkey.bytes().end());
        if (ctx == Context::P2TR) out.key.erase(out.key.begin());
        m_ranged |= out.ranged;
        return out;
    }

    struct Path {
        std::vector<uint32_t> steps;
        bool star{false};
        bool star_hardened{false}; //!< /*' or /*h
    };

    Path ParsePath(std::string_view text, bool allow_star)
    {
        Path out;
        size_t start = 0;
        while (start <= text.size()) {
            const auto end = std::min(text.find('/', start), text.size());
            std::string_view step = text.substr(start, end - start);
            if (allow_star && end == text.size() && (step == "*" || step == "*'" || step == "*h")) {
                out.star = true;
                out.star_hardened = step != "*";
                break;
            }
            if (allow_star && !step.empty() && step[0] == '<') {
                m_multipath = true;
                start = end + 1;
                continue;
            }
            uint32_t hardened = 0;
            if (!step.empty() && (step.back() == '\'' || step.back() == 'h')) {
                hardened = BIP32_HARDENED;
                step.remove_suffix(1);
            }
            if (step.empty() || step.size() > 10 ||
                !std::all_of(step.begin(), step.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                Fail("Key path value '" + std::string(step) + "' is not a valid uint32");
            }
            const uint64_t value = std::stoull(std::string(step));
            if (value >= BIP32_HARDENED) Fail("Key path value " + std::string(step) + " is out of range");
            out.steps.push_back(static_cast<uint32_t>(value) | hardened);
            start = end + 1;
        }
        return out;
    }

    std::vector<Bytes> Script(std::string_view text, Context ctx)
    {
        if (auto inner = Func("pk", text)) {
            const KeyExpr key = Key(*inner, ctx == Context::P2TR ? Context::P2TR : ctx);
            Bytes script;
            Push(script, key.key);
            script.push_back(0xac); // OP_CHECKSIG
            return {script};
        }
        if (auto inner = Func("pkh", text)) {
            const KeyExpr key = Key(*inner, ctx);
            return {MakeP2PKHScript(crypto::Hash160(key.key))};
        }
        if (auto inner = Func("wpkh", text)) {
            if (ctx != Context::TOP && ctx != Context::P2SH) Fail("Can only have wpkh() at top level or inside sh()");
            const KeyExpr key = Key(*inner, Context::P2WPKH);
            const auto hash = crypto::Hash160(key.key);
            return {MakeWitnessScript({0, Bytes(hash.begin(), hash.end())})};
        }
        if (auto inner = Func("combo", text)) {
            if (ctx != Context::TOP) Fail("Can only have combo() at top level");
            const KeyExpr key = Key(*inner, Context::TOP);
            std::vector<Bytes> out;
            Bytes pk;
            Push(pk, key.key);
            pk.push_back(0xac);
            out.push_back(pk);
            const auto hash = crypto::Hash160(key.key);
            out.push_back(MakeP2PKHScript(hash));
            if (key.key.size() == 33) {
                const Bytes wpkh = MakeWitnessScript({0, Bytes(hash.begin(), hash.end())});
                out.push_back(wpkh);
                out.push_back(MakeP2SHScript(crypto::Hash160(wpkh)));
            }
            return out;
        }
        const bool sorted = Func("sortedmulti", text).has_value();
        if (auto inner = sorted ? Func("sortedmulti", text) : Func("multi", text)) {
            if (ctx == Context::P2TR) Fail("Can only have multi/sortedmulti at top level, in sh(), or in wsh()");
            const auto args = SplitArgs(*inner);
            const std::string_view k_text = args[0];
            if (k_text.empty() || k_text.size() > 9 ||
                !std::all_of(k_text.begin(), k_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                Fail("Multi threshold '" + std::string(k_text) + "' is not valid");
            }
            const int k = std::stoi(std::string(k_text));
            std::vector<Bytes> keys;
            for (size_t i = 1; i < args.size(); ++i) keys.push_back(Key(args[i], ctx).key);
            if (keys.empty() || k < 1 || static_cast<size_t>(k) > keys.size()) {
                Fail("Multisig threshold cannot be " + std::to_string(k) + ", must be at least 1 and at most " +
                     std::to_string(keys.size()));
            }
            if (keys.size() > 20)
                Fail("Cannot have " + std::to_string(keys.size()) +
                     " keys in multisig; must have between 1 and 16 keys, inclusive");
            if (keys.size() > 16 && ctx == Context::TOP)
                Fail("Cannot have " + std::to_string(keys.size()) +
                     " pubkeys in bare multisig; only at most 3 pubkeys");
            if (sorted) std::sort(keys.begin(), keys.end());
            Bytes script;
            PushInt(script, k);
            for (const auto& key : keys) Push(script, key);
            PushInt(script, static_cast<int>(keys.size()));
            script.push_back(0xae); // OP_CHECKMULTISIG
            if (ctx == Context::P2SH && script.size() > 520) {
                Fail("P2SH script is too large, " + std::to_string(script.size()) + " bytes is larger than 520 bytes");
            }
            return {script};
        }
        if (auto inner = Func("sh", text)) {
            if (ctx != Context::TOP) Fail("Can only have sh() at top level");
            auto scripts = Script(*inner, Context::P2SH);
            return {MakeP2SHScript(crypto::Hash160(scripts.at(0)))};
        }
        if (auto inner = Func("wsh", text)) {
            if (ctx != Context::TOP && ctx != Context::P2SH) Fail("Can only have wsh() at top level or inside sh()");
            auto scripts = Script(*inner, Context::P2WSH);
            const auto hash = crypto::Sha256(scripts.at(0));
            return {MakeWitnessScript({0, Bytes(hash.begin(), hash.end())})};
        }
        if (auto inner = Func("tr", text)) {
            if (ctx != Context::TOP) Fail("Can only have tr at top level");
            const auto args = SplitArgs(*inner);
            if (args.size() > 1) Fail("tr() with a script tree is not supported");
            const KeyExpr key = Key(args[0], Context::P2TR);
            const auto internal = XOnlyPubKey::Parse(key.key);
            if (!internal) Fail("Pubkey '" + std::string(args[0]) + "' is invalid");
            const auto tweaked = internal->CreateTapTweak(std::nullopt);
            if (!tweaked) Fail("Pubkey '" + std::string(args[0]) + "' is invalid");
            return {MakeP2TRScript(tweaked->first)};
        }
        if (auto inner = Func("rawtr", text)) {
            if (ctx != Context::TOP) Fail("Can only have rawtr at top level");
            const KeyExpr key = Key(*inner, Context::P2TR);
            const auto output = XOnlyPubKey::Parse(key.key);
            if (!output) Fail("Pubkey '" + std::string(*inner) + "' is invalid");
            return {MakeP2TRScript(*output)};
        }
        if (auto inner = Func("addr", text)) {
            if (ctx != Context::TOP) Fail("Can only have addr() at top level");
            auto script = DecodeAddress(*inner, m_network);
            if (!script) Fail("Address is not valid");
            return {*script};
        }
        if (auto inner = Func("raw", text)) {
            if (ctx != Context::TOP) Fail("Can only have raw() at top level");
            auto script = ParseHex(*inner);
            if (!script) Fail("Raw script is not hex");
            return {*script};
        }
        const auto paren = text.find('(');
        if (paren != std::string_view::npos)
            Fail(std::string(text.substr(0, paren)) + " is not a valid descriptor function");
        Fail("'" + std::string(text) + "' is not a valid descriptor function");
    }

    static std::string HexOf(std::span<const uint8_t> bytes)
    {
        static constexpr char DIGITS[] = "0123456789abcdef";
        std::string out;
        for (uint8_t b : bytes) {
            out += DIGITS[b >> 4];
            out += DIGITS[b & 15];
        }
        return out;
    }

    Network m_network;
    std::vector<DescriptorKey> m_keys;
    std::vector<std::pair<std::string, std::string>> m_replacements;
    bool m_has_private{false};
    bool m_ranged{false};
    bool m_multipath{false};
    bool m_needs_private{false};
    std::optional<uint32_t> m_position; //!< where to expand a ranged descriptor; none: leave it unexpanded
};

} // namespace

ParsedDescriptor ParseDescriptor(std::string_view text, Network network, bool require_checksum,
                                 std::optional<uint32_t> position)
{
    const auto hash = text.find('#');
    if (hash != std::string_view::npos && text.find('#', hash + 1) != std::string_view::npos) {
        Fail("Multiple '#' symbols");
    }
    if (hash == std::string_view::npos && require_checksum) Fail("Missing checksum");
    const std::string_view body = text.substr(0, hash);
    if (hash != std::string_view::npos) {
        const std::string_view given = text.substr(hash + 1);
        if (given.size() != 8) {
            Fail("Expected 8 character checksum, not " + std::to_string(given.size()) + " characters");
        }
    }
    const std::string checksum = DescriptorChecksum(body);
    if (checksum.empty()) Fail("Invalid characters in payload");
    if (hash != std::string_view::npos && text.substr(hash + 1) != checksum) {
        Fail("Provided checksum '" + std::string(text.substr(hash + 1)) + "' does not match computed checksum '" +
             checksum + "'");
    }
    return Parser(network, position).Run(body);
}

std::string DescriptorPublicForm(std::string_view text, Network network)
{
    ParseDescriptor(text, network, /*require_checksum=*/false); // the checks and messages of a parse
    std::string body(text.substr(0, text.find('#')));
    Parser parser(network, std::nullopt);
    parser.Run(body);
    for (const auto& [secret, pub] : parser.Replacements()) {
        for (auto at = body.find(secret); at != std::string::npos; at = body.find(secret, at + pub.size())) {
            body.replace(at, secret.size(), pub);
        }
    }
    return AddDescriptorChecksum(body);
}

} // namespace orrery
