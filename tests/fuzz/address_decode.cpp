// Fuzz target: arbitrary text through every decoder of common/keys on every
// network (addresses, WIF, raw Base58/Base58Check, Bech32/Bech32m). Whatever
// decodes must re-encode to the canonical form of the input: the input with
// surrounding whitespace removed (Base58) or in lower case (Bech32).
#include "common/keys/base58.h"
#include "tests/fuzz/fuzz_util.h"
#include "common/keys/bech32.h"
#include "common/keys/key_io.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace orrery;
using orrery::fuzz::Check;
using orrery::fuzz::TrimSpace;

namespace {

std::string Lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 4096) return 0;
    const std::string_view str(reinterpret_cast<const char*>(data), size);

    if (const auto raw = DecodeBase58(str, 256)) {
        Check(EncodeBase58(*raw) == TrimSpace(str));
    }
    if (const auto payload = DecodeBase58Check(str, 256)) {
        Check(EncodeBase58Check(*payload) == TrimSpace(str));
    }
    const bech32::DecodeResult dec = bech32::Decode(str);
    if (dec.encoding != bech32::Encoding::INVALID) {
        Check(bech32::Encode(dec.encoding, dec.hrp, dec.data) == Lower(str));
    }

    for (const Network network : ALL_NETWORKS) {
        if (const auto script = DecodeAddress(str, network)) {
            const std::string encoded = EncodeAddress(*script, network);
            Check(!encoded.empty());
            Check(DecodeAddress(encoded, network) == script);
            Check(encoded == TrimSpace(str) || encoded == Lower(str));
            Check(!DecodeWif(str, network).has_value());
        }
        if (const auto key = DecodeWif(str, network)) {
            Check(key->IsValid());
            Check(EncodeWif(*key, network) == TrimSpace(str));
        }
    }
    return 0;
}
