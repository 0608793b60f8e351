// Per-network encoding parameters for addresses, WIF keys and BIP32
// extended keys. Self-contained on purpose: the chain parameters owned by
// common/consensus may later supply these values, at which point this table
// becomes a view of theirs (see doc/keys.md).
#ifndef ORRERY_COMMON_KEYS_NETWORK_H
#define ORRERY_COMMON_KEYS_NETWORK_H

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace orrery {

enum class Network { MAIN, TESTNET3, TESTNET4, SIGNET, REGTEST };

//! Every network, in declaration order (for tests and fuzzers that try all).
inline constexpr std::array<Network, 5> ALL_NETWORKS{
    Network::MAIN, Network::TESTNET3, Network::TESTNET4, Network::SIGNET, Network::REGTEST};

struct AddressParams {
    uint8_t pubkey_prefix; //!< Base58Check version byte of P2PKH addresses
    uint8_t script_prefix; //!< Base58Check version byte of P2SH addresses
    uint8_t secret_prefix; //!< Base58Check version byte of WIF private keys
    uint32_t ext_public_version; //!< BIP32 xpub / tpub version bytes
    uint32_t ext_secret_version; //!< BIP32 xprv / tprv version bytes
    std::string_view hrp; //!< Bech32 human-readable part of segwit addresses
};

//! The parameters of a network; the reference is to a static table.
const AddressParams& GetAddressParams(Network network) noexcept;

//! Core's chain names: "main", "test" (or "testnet3"), "testnet4", "signet", "regtest".
std::optional<Network> ParseNetworkName(std::string_view name) noexcept;
std::string_view NetworkName(Network network) noexcept;

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_NETWORK_H
