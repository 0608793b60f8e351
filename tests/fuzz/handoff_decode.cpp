// Fuzz target: the hand-off message a spare p2p-agent reads from orreryd.
// Anything must decode to a peer id and one printable address, or be refused.
#include <common/handoff/handoff.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto handoff = orrery::handoff::DecodeHandoff({data, size});
    if (handoff) {
        // What decodes re-encodes to the same bytes: one form only.
        auto again = orrery::handoff::EncodeHandoff(handoff->peer_id, handoff->address);
        if (again.size() != size || again.compare(0, size, reinterpret_cast<const char*>(data), size) != 0)
            std::abort();
        if (handoff->peer_id < 0 || handoff->address.empty() || handoff->fd != -1) std::abort();
    }
    return 0;
}
