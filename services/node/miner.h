// Block templates and regtest mining (Core's node/miner.cpp and the generate*
// helpers of rpc/mining.cpp): a block on the active tip with Core's version,
// time, bits, BIP34 coinbase, subsidy plus fees, and the BIP141 witness
// commitment; then nonce grinding until the header meets its target, which
// is instant on regtest.
#ifndef ORRERY_SERVICES_NODE_MINER_H
#define ORRERY_SERVICES_NODE_MINER_H

#include <common/consensus/amount.h>
#include <common/consensus/block.h>
#include <common/consensus/params.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace orrery::node {

class ChainstateManager;

struct BlockTemplate {
    Block block; //!< nonce 0; merkle root set
    int height{0};
    Amount coinbase_value{0};                //!< subsidy + fees of the given transactions
    std::vector<uint8_t> witness_commitment; //!< the commitment output's script; empty before segwit
    int64_t min_time{0};                     //!< the parent's median time past + 1
    bool segwit_active{false};
    uint64_t weight{0}; //!< the block's weight (getmininginfo's currentblockweight)
};

//! Builds templates on the chainstate's tip. `now` is the node's (mock-aware) clock.
class BlockAssembler
{
public:
    BlockAssembler(ChainstateManager& chainstate, std::function<int64_t()> now);

    //! A block paying the coinbase to `coinbase_script`, holding `txs` after the coinbase. With
    //! `include_fees` the coinbase takes the fees of `txs` (their inputs must be in the UTXO set or earlier in
    //! `txs`); generateblock leaves them out, as Core does. With `test_validity` the block goes through
    //! TestBlockValidity and a failure throws std::runtime_error "TestBlockValidity failed: <reason>".
    BlockTemplate CreateNewBlock(const std::vector<uint8_t>& coinbase_script, const std::vector<Transaction>& txs = {},
                                 bool test_validity = true, bool include_fees = false);

private:
    ChainstateManager& m_chainstate;
    std::function<int64_t()> m_now;
};

//! Adds the BIP141 commitment output to the coinbase (if it has none and segwit is active) and the 32-byte
//! witness reserved value; returns the commitment output's script (empty before segwit).
std::vector<uint8_t> GenerateCoinbaseCommitment(Block& block, bool segwit_active);
//! Core's RegenerateCommitments: drops the coinbase's commitment, adds a fresh one and sets the merkle root.
void RegenerateCommitments(Block& block, bool segwit_active);
//! Core's UpdateUncommittedBlockStructures: gives a committing coinbase without witness its reserved value.
void UpdateUncommittedBlockStructures(Block& block, bool segwit_active);

//! Grinds the nonce from its current value until the header meets its bits, at most `max_tries` hashes (which
//! it decrements). False when the tries ran out; true with the nonce at 0xffffffff when that space ran out
//! (Core's GenerateBlock: the caller makes a fresh template).
bool SolveBlock(Block& block, uint64_t& max_tries, const ConsensusParams& params);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_MINER_H
