// Fuzz target: transaction decoding. Any input either fails with
// DeserializeError or decodes to a transaction that re-serializes to exactly
// the input bytes (so the decoder accepts only canonical encodings, as Core's
// does). Ids, sizes and CheckTransaction are run on what decodes.
#include <common/consensus/check.h>
#include <common/consensus/transaction.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

using namespace orrery;

namespace {

void CheckRoundTrip(std::span<const uint8_t> input, bool allow_witness)
{
    Transaction tx;
    try {
        tx = DeserializeTransaction(input, allow_witness);
    } catch (const DeserializeError&) {
        return;
    }
    const std::vector<uint8_t> again = SerializeTransaction(tx, allow_witness);
    if (again.size() != input.size() || !std::equal(again.begin(), again.end(), input.begin())) std::abort();
    if (GetSerializeSize(tx, allow_witness) != input.size()) std::abort();
    if (!allow_witness && tx.HasWitness()) std::abort();
    if (!tx.HasWitness() && tx.GetTxid() != tx.GetWtxid()) std::abort();
    ValidationState state;
    (void)CheckTransaction(tx, state);
    (void)GetTransactionWeight(tx);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::span<const uint8_t> input(data, size);
    CheckRoundTrip(input, /*allow_witness=*/true);
    CheckRoundTrip(input, /*allow_witness=*/false);
    return 0;
}
