// Fuzz target: a peer's byte stream through the P2P deframer and the payload
// decoders, as the p2p-agent reads it. Must never crash or over-allocate, and
// whatever decodes must re-encode to something that decodes to the same value.
#include <common/p2p/messages.h>
#include <common/p2p/protocol.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

namespace {

constexpr uint32_t REGTEST_MAGIC = 0xdab5bffa;
constexpr std::string_view COMMANDS[] = {"version",     "verack", "ping",       "pong",      "sendaddrv2", "wtxidrelay",
                                         "sendheaders", "inv",    "getheaders", "getblocks", "headers",    "getdata",
                                         "notfound",    "block",  "tx",         "feefilter", "mempool",
                                         "sendcmpct",   "cmpctblock", "getblocktxn", "blocktxn"};

void CheckRoundTrip(std::string_view command, std::span<const uint8_t> payload)
{
    using namespace orrery::p2p;
    Message decoded;
    try {
        decoded = DecodeMessage(command, payload);
    } catch (const ProtocolError&) {
        return;
    }
    auto again = DecodeMessage(CommandOf(decoded), EncodePayload(decoded));
    if (!(again == decoded)) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery::p2p;
    if (size == 0) return 0;
    // First byte: which command to try on the raw input, and how to chunk the stream.
    const uint8_t control = data[0];
    std::span<const uint8_t> input(data + 1, size - 1);
    CheckRoundTrip(COMMANDS[control % std::size(COMMANDS)], input);

    Deframer deframer(REGTEST_MAGIC);
    const size_t chunk = 1 + (control >> 3);
    try {
        for (size_t offset = 0; offset < input.size(); offset += chunk) {
            deframer.Feed(input.subspan(offset, std::min(chunk, input.size() - offset)));
            while (auto message = deframer.Next()) CheckRoundTrip(message->command, message->payload);
        }
    } catch (const ProtocolError&) {
    }
    return 0;
}
