// Fuzz target: block decoding. Any input either fails with DeserializeError
// or decodes to a block that re-serializes to exactly the input bytes; the
// context-free checks then run on it without proof of work (which random
// input never meets) and must not crash.
#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/merkle.h>
#include <common/consensus/params.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

using namespace orrery;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::span<const uint8_t> input(data, size);
    Block block;
    try {
        block = DeserializeBlock(input);
    } catch (const DeserializeError&) {
        return 0;
    }
    const std::vector<uint8_t> again = SerializeBlock(block);
    if (again.size() != input.size() || !std::equal(again.begin(), again.end(), input.begin())) std::abort();
    if (GetSerializeSize(block) != input.size()) std::abort();
    if (DeserializeBlockHeader(std::span<const uint8_t>(again).first(BlockHeader::kSize)) != block.Header()) std::abort();

    const ConsensusParams& params = GetChainParams(ChainType::REGTEST).consensus;
    ValidationState state;
    (void)CheckBlock(block, state, params, /*check_pow=*/false);
    ValidationState witness_state;
    (void)CheckWitnessMalleation(block, /*expect_witness_commitment=*/true, witness_state);
    (void)IsBlockMutated(block, true);
    (void)GetBlockWeight(block);
    return 0;
}
