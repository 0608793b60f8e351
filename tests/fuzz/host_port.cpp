// Fuzz target: host:port text (-rpcconnect, -bind, -connect, peers' addresses).
// Whatever parses must format back to text that parses to the same host and port.
#include <common/util/host_port.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)orrery::HostOf(text);
    bool has_port = orrery::HasPort(text);
    auto parsed = orrery::ParseHostPort(text, 8333);
    if (!parsed) return 0;
    if (parsed->host.empty() || parsed->port == 0) std::abort();
    if (!has_port && parsed->port != 8333) std::abort();
    // A host with ']' or with a colon inside brackets' text cannot round-trip; skip those shapes.
    if (parsed->host.find(']') != std::string::npos || parsed->host.find('[') != std::string::npos) return 0;
    auto again = orrery::ParseHostPort(orrery::FormatHostPort(parsed->host, parsed->port), 1);
    if (!again || again->host != parsed->host || again->port != parsed->port) std::abort();
    return 0;
}
