// Fuzz target: addr and addrv2 payloads as a p2p-agent decodes them from its peer and the
// node decodes them again from the agent. The first byte picks the version. Any input must
// decode or fail with ProtocolError; what decodes must encode back to a payload that decodes
// to the same entries.
#include <common/p2p/addr.h>

#include "fuzz_util.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery;
    if (size == 0) return 0;
    const bool v2 = data[0] & 1;
    std::span<const uint8_t> payload(data + 1, size - 1);
    std::vector<p2p::PeerAddress> addresses;
    try {
        addresses = p2p::DecodeAddrPayload(payload, v2);
    } catch (const p2p::ProtocolError&) {
        return 0;
    }
    fuzz::Check(addresses.size() <= p2p::MAX_ADDR_TO_SEND);
    const auto again = p2p::DecodeAddrPayload(p2p::EncodeAddrPayload(addresses, v2), v2);
    fuzz::Check(again == addresses);
    for (const auto& a : addresses) {
        (void)a.IsRoutable();
        if (a.IsIPv4() || a.IsIPv6()) {
            auto parsed = p2p::ParsePeerAddress(a.ToString());
            fuzz::Check(parsed && parsed->ip == a.ip && parsed->port == a.port);
        }
    }
    return 0;
}
