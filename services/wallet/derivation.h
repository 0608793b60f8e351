// Receive addresses from a BIP32 master key: the address types bitcoind's
// getnewaddress knows, each with its BIP44-style account (BIP44 legacy, BIP49
// p2sh-segwit, BIP84 bech32, BIP86 bech32m) m/purpose'/coin'/0'/0/i, coin 0 on
// main and 1 on every test network. Pure functions of the key: no storage here.
#ifndef ORRERY_SERVICES_WALLET_DERIVATION_H
#define ORRERY_SERVICES_WALLET_DERIVATION_H

#include <common/keys/bip32.h>
#include <common/keys/network.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::wallet {

enum class OutputType { LEGACY, P2SH_SEGWIT, BECH32, BECH32M };

inline constexpr std::array<OutputType, 4> ALL_OUTPUT_TYPES{OutputType::LEGACY, OutputType::P2SH_SEGWIT,
                                                            OutputType::BECH32, OutputType::BECH32M};
//! The type getnewaddress uses when the caller names none.
inline constexpr OutputType DEFAULT_OUTPUT_TYPE{OutputType::BECH32};

//! bitcoind's names: "legacy", "p2sh-segwit", "bech32", "bech32m". Case-sensitive, as in Core.
std::optional<OutputType> ParseOutputType(std::string_view name);
std::string_view OutputTypeName(OutputType type);

//! 44, 49, 84 or 86.
uint32_t Purpose(OutputType type);
//! 0 on main, 1 on testnet3, testnet4, signet and regtest (SLIP-44 "testnet, all coins").
uint32_t CoinType(Network network);
//! m/purpose'/coin'/0' as indexes.
std::vector<uint32_t> AccountPath(OutputType type, Network network);

//! The address of `type` paying to `pubkey` (compressed) on `network`.
std::string AddressForKey(const PubKey& pubkey, OutputType type, Network network);

//! The external (receive) chain m/purpose'/coin'/0'/0 of one address type.
//! Holds only the chain's extended public key: addresses need no secret.
class ReceiveChain
{
public:
    //! nullopt only if a derivation step hits an invalid key (probability < 2^-127).
    static std::optional<ReceiveChain> Make(const ExtKey& master, OutputType type, Network network);

    //! The address at `index` (below 2^31), or nullopt when BIP32 says that
    //! child is invalid and the caller must move on to the next index.
    std::optional<std::string> Address(uint32_t index) const;
    OutputType Type() const { return m_type; }

private:
    ReceiveChain(ExtPubKey chain, OutputType type, Network network)
        : m_chain(std::move(chain)), m_type(type), m_network(network)
    {
    }
    ExtPubKey m_chain;
    OutputType m_type;
    Network m_network;
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_DERIVATION_H
