// Merkle roots and the witness commitment lookup.
#include <common/consensus/merkle.h>

#include <common/consensus/consensus.h>
#include <common/crypto/hash.h>

#include <algorithm>
#include <cstring>

namespace orrery {

uint256 ComputeMerkleRoot(std::vector<uint256> leaves, bool* mutated)
{
    bool mutation = false;
    std::array<uint8_t, 64> pair;
    while (leaves.size() > 1) {
        if (mutated) {
            for (size_t i = 0; i + 1 < leaves.size(); i += 2) {
                if (leaves[i] == leaves[i + 1]) mutation = true;
            }
        }
        if (leaves.size() % 2 == 1) leaves.push_back(leaves.back());
        for (size_t i = 0; i < leaves.size() / 2; ++i) {
            std::memcpy(pair.data(), leaves[2 * i].data(), 32);
            std::memcpy(pair.data() + 32, leaves[2 * i + 1].data(), 32);
            leaves[i] = uint256{crypto::Sha256d(pair)};
        }
        leaves.resize(leaves.size() / 2);
    }
    if (mutated) *mutated = mutation;
    if (leaves.empty()) return uint256{};
    return leaves[0];
}

uint256 BlockMerkleRoot(const Block& block, bool* mutated)
{
    std::vector<uint256> leaves;
    leaves.reserve(block.txs.size());
    for (const Transaction& tx : block.txs) leaves.push_back(tx.GetTxid());
    return ComputeMerkleRoot(std::move(leaves), mutated);
}

uint256 BlockWitnessMerkleRoot(const Block& block, bool* mutated)
{
    std::vector<uint256> leaves;
    leaves.reserve(block.txs.size());
    if (!block.txs.empty()) leaves.emplace_back(); // the coinbase's wtxid counts as zero
    for (size_t i = 1; i < block.txs.size(); ++i) leaves.push_back(block.txs[i].GetWtxid());
    return ComputeMerkleRoot(std::move(leaves), mutated);
}

std::optional<size_t> GetWitnessCommitmentIndex(const Block& block)
{
    std::optional<size_t> found;
    if (block.txs.empty()) return found;
    const auto& outputs = block.txs[0].vout;
    for (size_t i = 0; i < outputs.size(); ++i) {
        const Script& spk = outputs[i].script_pubkey;
        if (spk.size() >= MINIMUM_WITNESS_COMMITMENT &&
            std::equal(std::begin(WITNESS_COMMITMENT_HEADER), std::end(WITNESS_COMMITMENT_HEADER), spk.begin())) {
            found = i;
        }
    }
    return found;
}

uint256 ComputeWitnessCommitment(const uint256& witness_root, std::span<const uint8_t> reserved_value)
{
    return uint256{crypto::Sha256Hasher{}.Write(witness_root).Write(reserved_value).FinalizeDouble()};
}

} // namespace orrery
