// Transaction merkle trees (Core's consensus/merkle.h) and the BIP141
// witness commitment carried in the coinbase.
#ifndef ORRERY_COMMON_CONSENSUS_MERKLE_H
#define ORRERY_COMMON_CONSENSUS_MERKLE_H

#include <common/consensus/block.h>
#include <common/consensus/uint256.h>

#include <optional>
#include <vector>

namespace orrery {

//! Bitcoin's merkle root: pairs are double-SHA256'd, an odd last node is
//! paired with itself; the root of no leaves is zero. If mutated is given it
//! is set when two identical siblings occur anywhere in the tree, which is how
//! Core detects the CVE-2012-2459 duplicate-subtree malleation (a block whose
//! tx list repeats a tail has the same root as the honest block).
uint256 ComputeMerkleRoot(std::vector<uint256> leaves, bool* mutated = nullptr);
//! Merkle root over the txids.
uint256 BlockMerkleRoot(const Block& block, bool* mutated = nullptr);
//! Merkle root over the wtxids, the coinbase's replaced by zero (BIP141).
uint256 BlockWitnessMerkleRoot(const Block& block, bool* mutated = nullptr);

//! Index of the coinbase output holding the witness commitment: the last
//! output whose script is at least 38 bytes and starts 6a24aa21a9ed. nullopt
//! if there is none (or no coinbase outputs at all).
std::optional<size_t> GetWitnessCommitmentIndex(const Block& block);
//! SHA256d(witness_root || witness_reserved_value): the 32 bytes a
//! commitment output carries after its 6-byte header.
uint256 ComputeWitnessCommitment(const uint256& witness_root, std::span<const uint8_t> reserved_value);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_MERKLE_H
