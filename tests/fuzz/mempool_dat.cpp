// Fuzz target: mempool.dat read back from disk (version 1 and version 2 with
// its XOR key). Any input either fails with DeserializeError or an unknown
// version's runtime_error, or parses to a dump that serializes (with the same
// version and key) and parses back to the same content.
#include <services/node/mempool/persist.h>

#include <common/consensus/serialize.h>

#include <tests/fuzz/fuzz_util.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>

using namespace orrery;
using namespace orrery::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    MempoolDump dump;
    try {
        dump = ParseMempoolDump(std::span<const uint8_t>(data, size));
    } catch (const DeserializeError&) {
        return 0;
    } catch (const std::runtime_error&) {
        return 0; // an unknown version
    }
    const auto bytes = SerializeMempoolDump(dump);
    const MempoolDump back = ParseMempoolDump(bytes);
    if (back.version != dump.version || back.xor_key != dump.xor_key || back.txs.size() != dump.txs.size() ||
        back.deltas != dump.deltas || back.unbroadcast != dump.unbroadcast) {
        std::abort();
    }
    for (size_t i = 0; i < dump.txs.size(); ++i) {
        if (!(back.txs[i].tx == dump.txs[i].tx) || back.txs[i].time != dump.txs[i].time ||
            back.txs[i].fee_delta != dump.txs[i].fee_delta) {
            std::abort();
        }
    }
    return 0;
}
