// Output script descriptors (BIP380-386) as far as the node's RPC needs them:
// the checksum, and parsing a non-ranged descriptor into the scripts it
// stands for (generatetodescriptor, generateblock). Key expressions: hex
// public keys, WIF private keys, x-only keys inside tr()/rawtr(), and
// xpub/xprv (tpub/tprv) with an optional origin and derivation steps.
// Functions: pk, pkh, wpkh, sh, wsh, multi, sortedmulti, combo, addr, raw,
// tr (key path only) and rawtr. Error texts are Bitcoin Core's.
#ifndef ORRERY_COMMON_KEYS_DESCRIPTOR_H
#define ORRERY_COMMON_KEYS_DESCRIPTOR_H

#include "common/keys/network.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

//! The eight-character BIP380 checksum of `text` (without '#'), or "" if `text` holds a character outside the
//! descriptor character set.
std::string DescriptorChecksum(std::string_view text);
//! `text` + "#" + its checksum.
std::string AddDescriptorChecksum(std::string_view text);

//! A descriptor that does not parse; what() is Core's message.
class DescriptorError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct ParsedDescriptor {
    //! The scripts in Core's Expand order (combo: pk, pkh, and for compressed keys wpkh, sh(wpkh)). Empty when
    //! ranged and no position was asked for.
    std::vector<std::vector<uint8_t>> scripts;
    bool ranged{false};        //!< some key ends with /* (a set of descriptors, one per index)
    bool multipath{false};     //!< some key has a <a;b> step
    bool needs_private{false}; //!< a hardened step from a public key: Core cannot expand it
};

//! Parses a descriptor whose addresses and keys belong to `network` (tpub/tprv serve every test network).
//! Checks the checksum when present; requires one when `require_checksum`. A ranged descriptor is expanded at
//! `position` (its /* steps become that child) when one is given. Throws DescriptorError.
ParsedDescriptor ParseDescriptor(std::string_view text, Network network, bool require_checksum,
                                 std::optional<uint32_t> position = std::nullopt);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_DESCRIPTOR_H
