// See network.h. Values are those of Bitcoin Core's chainparams.
#include "common/keys/network.h"

namespace orrery {

namespace {
constexpr AddressParams MAIN_PARAMS{0, 5, 128, 0x0488B21E, 0x0488ADE4, "bc"};
// testnet3, testnet4 and signet share every prefix; regtest differs only in HRP.
constexpr AddressParams TEST_PARAMS{111, 196, 239, 0x043587CF, 0x04358394, "tb"};
constexpr AddressParams REGTEST_PARAMS{111, 196, 239, 0x043587CF, 0x04358394, "bcrt"};
} // namespace

const AddressParams& GetAddressParams(Network network) noexcept
{
    switch (network) {
    case Network::MAIN: return MAIN_PARAMS;
    case Network::TESTNET3:
    case Network::TESTNET4:
    case Network::SIGNET: return TEST_PARAMS;
    case Network::REGTEST: return REGTEST_PARAMS;
    }
    return MAIN_PARAMS; // unreachable for valid enumerators
}

std::optional<Network> ParseNetworkName(std::string_view name) noexcept
{
    if (name == "main") return Network::MAIN;
    if (name == "test" || name == "testnet3") return Network::TESTNET3;
    if (name == "testnet4") return Network::TESTNET4;
    if (name == "signet") return Network::SIGNET;
    if (name == "regtest") return Network::REGTEST;
    return std::nullopt;
}

std::string_view NetworkName(Network network) noexcept
{
    switch (network) {
    case Network::MAIN: return "main";
    case Network::TESTNET3: return "test";
    case Network::TESTNET4: return "testnet4";
    case Network::SIGNET: return "signet";
    case Network::REGTEST: return "regtest";
    }
    return "main";
}

} // namespace orrery
