// Address derivation; see derivation.h.
#include <services/wallet/derivation.h>

#include <common/crypto/hash.h>
#include <common/keys/key_io.h>

namespace orrery::wallet {

std::optional<OutputType> ParseOutputType(std::string_view name)
{
    for (OutputType type : ALL_OUTPUT_TYPES) {
        if (OutputTypeName(type) == name) return type;
    }
    return std::nullopt;
}

std::string_view OutputTypeName(OutputType type)
{
    switch (type) {
    case OutputType::LEGACY:
        return "legacy";
    case OutputType::P2SH_SEGWIT:
        return "p2sh-segwit";
    case OutputType::BECH32:
        return "bech32";
    case OutputType::BECH32M:
        return "bech32m";
    }
    return "unknown";
}

uint32_t Purpose(OutputType type)
{
    switch (type) {
    case OutputType::LEGACY:
        return 44;
    case OutputType::P2SH_SEGWIT:
        return 49;
    case OutputType::BECH32:
        return 84;
    case OutputType::BECH32M:
        return 86;
    }
    return 0;
}

uint32_t CoinType(Network network)
{
    return network == Network::MAIN ? 0 : 1;
}

std::vector<uint32_t> AccountPath(OutputType type, Network network)
{
    return {Purpose(type) | BIP32_HARDENED, CoinType(network) | BIP32_HARDENED, 0 | BIP32_HARDENED};
}

std::string AddressForKey(const PubKey& pubkey, OutputType type, Network network)
{
    switch (type) {
    case OutputType::LEGACY:
        return EncodeAddress(MakeP2PKHScript(pubkey.GetId()), network);
    case OutputType::P2SH_SEGWIT: {
        // BIP49: the P2WPKH script is the redeem script of a P2SH output.
        std::vector<uint8_t> redeem = MakeP2WPKHScript(pubkey);
        return EncodeAddress(MakeP2SHScript(crypto::Hash160(redeem)), network);
    }
    case OutputType::BECH32:
        return EncodeAddress(MakeP2WPKHScript(pubkey), network);
    case OutputType::BECH32M: {
        // BIP86: key-path only, the internal key tweaked with no script tree.
        auto tweaked = pubkey.GetXOnly().CreateTapTweak(std::nullopt);
        if (!tweaked) return {};
        return EncodeAddress(MakeP2TRScript(tweaked->first), network);
    }
    }
    return {};
}

std::optional<ReceiveChain> ReceiveChain::Make(const ExtKey& master, OutputType type, Network network)
{
    std::vector<uint32_t> path = AccountPath(type, network);
    path.push_back(0); // external chain
    std::optional<ExtKey> chain = master.DerivePath(path);
    if (!chain) return std::nullopt;
    return ReceiveChain(chain->Neuter(), type, network);
}

std::optional<std::string> ReceiveChain::Address(uint32_t index) const
{
    if (index >= BIP32_HARDENED) return std::nullopt;
    std::optional<ExtPubKey> child = m_chain.Derive(index);
    if (!child) return std::nullopt;
    std::string address = AddressForKey(child->pubkey, m_type, m_network);
    if (address.empty()) return std::nullopt;
    return address;
}

} // namespace orrery::wallet
