// Output script descriptors (BIP380-386) as far as the node's RPC needs them:
// the checksum, and parsing a non-ranged descriptor into the scripts it
// stands for (generatetodescriptor, generateblock). Key expressions: hex
// public keys, WIF private keys, x-only keys inside tr()/rawtr(), and
// xpub/xprv (tpub/tprv) with an optional origin and derivation steps.
// Functions: pk, pkh, wpkh, sh, wsh, multi, sortedmulti, combo, addr, raw,
// tr (key path only) and rawtr. Error texts are Bitcoin Core's.
#ifndef ORRERY_COMMON_KEYS_DESCRIPTOR_H
#define ORRERY_COMMON_KEYS_DESCRIPTOR_H

#include "common/keys/key.h"
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

//! One key expression of a parsed descriptor, as expanded (wallets show it in getaddressinfo).
struct DescriptorKey {
    std::vector<uint8_t> pubkey; //!< 33 bytes, 65 for an uncompressed key, 32 (x-only) inside tr()/rawtr()
    std::string fingerprint;     //!< hex: the origin's fingerprint, or the key's own when it has no origin
    std::vector<uint32_t> path;  //!< origin path + derivation steps (+ the position for a ranged key)
    bool has_private{false};     //!< given as WIF or xprv/tprv
    //! The private key of `pubkey` (derived along the path) when `has_private`; invalid otherwise. It wipes itself;
    //! only the wallet process parses private descriptors.
    Key secret;
};

struct ParsedDescriptor {
    //! The scripts in Core's Expand order (combo: pk, pkh, and for compressed keys wpkh, sh(wpkh)). Empty when
    //! ranged and no position was asked for.
    std::vector<std::vector<uint8_t>> scripts;
    bool ranged{false};        //!< some key ends with /* (a set of descriptors, one per index)
    bool multipath{false};     //!< some key has a <a;b> step
    bool needs_private{false}; //!< a hardened step from a public key: Core cannot expand it
    //! The key expressions in the order they appear (expanded at the position when ranged). Empty when
    //! `scripts` is.
    std::vector<DescriptorKey> keys;
    bool has_private{false}; //!< some key is given as WIF or xprv/tprv
};

//! Parses a descriptor whose addresses and keys belong to `network` (tpub/tprv serve every test network).
//! Checks the checksum when present; requires one when `require_checksum`. A ranged descriptor is expanded at
//! `position` (its /* steps become that child) when one is given. Throws DescriptorError.
ParsedDescriptor ParseDescriptor(std::string_view text, Network network, bool require_checksum,
                                 std::optional<uint32_t> position = std::nullopt);

//! The descriptor with every private key replaced by its public form (WIF by hex, xprv by xpub, tprv by tpub), with
//! a fresh checksum: what a wallet shows in listdescriptors. Throws DescriptorError as ParseDescriptor.
std::string DescriptorPublicForm(std::string_view text, Network network);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_DESCRIPTOR_H
