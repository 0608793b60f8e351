// Fuzz target: arbitrary text parsed as a BIP32 extended key (xprv, xpub,
// tprv, tpub) and as a derivation path. A key that parses must serialize back
// to the input (without surrounding whitespace) and support derivation; a
// path that parses must format back to an equivalent path.
#include "common/keys/bip32.h"
#include "tests/fuzz/fuzz_util.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace orrery;
using orrery::fuzz::Check;
using orrery::fuzz::TrimSpace;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 4096) return 0;
    const std::string_view str(reinterpret_cast<const char*>(data), size);

    const DecodedExtKey dec = DecodeExtendedKey(str);
    if (dec.error == ExtKeyError::NONE) {
        if (dec.is_private) {
            Check(EncodeExtKey(dec.priv, dec.network) == TrimSpace(str));
            Check(dec.priv.Neuter() == dec.pub);
            if (dec.priv.depth < 255) {
                const auto hardened = dec.priv.Derive(BIP32_HARDENED);
                const auto normal = dec.priv.Derive(0);
                // Public derivation agrees with private derivation.
                if (normal) Check(dec.pub.Derive(0) == normal->Neuter());
                (void)hardened;
            }
        } else {
            Check(EncodeExtPubKey(dec.pub, dec.network) == TrimSpace(str));
            if (dec.pub.depth < 255) (void)dec.pub.Derive(1);
        }
    } else {
        Check(!DecodeExtKey(str, Network::MAIN) && !DecodeExtPubKey(str, Network::MAIN));
    }

    if (const auto path = ParseDerivationPath(str)) {
        Check(ParseDerivationPath(FormatDerivationPath(*path)) == path);
    }
    return 0;
}
