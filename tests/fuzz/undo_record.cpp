// Fuzz target: undo records read back from revN.dat. Any input either fails
// with DeserializeError or decodes to a BlockUndo that serializes and parses
// back to the same value (amounts within the money range; the disk form does
// not promise more).
#include <services/node/storage/undo.h>

#include <common/consensus/amount.h>

#include <tests/fuzz/fuzz_util.h>

#include <cstdint>
#include <span>

using namespace orrery;
using namespace orrery::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    BlockUndo undo;
    try {
        undo = DeserializeBlockUndo(std::span<const uint8_t>(data, size));
    } catch (const DeserializeError&) {
        return 0;
    }
    size_t coins = 0;
    for (const TxUndo& tx : undo.txs) {
        for (const Coin& coin : tx.prevouts) {
            if (coin.out.value < 0 || coin.out.value > MAX_MONEY) return 0;
            ++coins;
        }
    }
    // Every coin took at least three bytes of the input.
    fuzz::Check(coins * 3 <= size);
    fuzz::Check(DeserializeBlockUndo(SerializeBlockUndo(undo)) == undo);
    return 0;
}
