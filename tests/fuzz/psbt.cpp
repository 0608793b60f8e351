// Fuzz target: arbitrary bytes through the PSBT parser (decodepsbt, combinepsbt,
// finalizepsbt and the other PSBT methods take a stranger's PSBT). A PSBT
// either parses or throws PsbtError; a parsed one serializes to bytes that
// parse again to the same serialization, merges with itself without change,
// and finalizing it does not crash.
#include "common/keys/psbt.h"
#include "common/script/script_error.h"
#include "tests/fuzz/fuzz_util.h"

#include <cstdint>

using namespace orrery;
using orrery::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 100'000) return 0;
    try {
        Psbt psbt = DecodePsbt(std::span<const uint8_t>(data, size));
        const Bytes encoded = EncodePsbt(psbt);
        const Psbt again = DecodePsbt(encoded);
        Check(EncodePsbt(again) == encoded);
        Psbt merged = again;
        merged.Merge(psbt);
        Check(EncodePsbt(merged) == encoded);
        (void)psbt.Fee();
        FinalizePsbt(psbt, SCRIPT_VERIFY_ALL & ~SCRIPT_VERIFY_SIGPUSHONLY);
        (void)ExtractTransaction(psbt);
    } catch (const PsbtError&) {
    }
    return 0;
}
