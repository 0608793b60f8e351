// A deterministic regtest chain generator for tests and benchmarks: from a
// seed it builds valid blocks (BIP34 heights, witness commitments, coinbase
// maturity, nonces ground to regtest's target) full of signed transactions
// of every common kind: P2WPKH, P2TR key path and script path, P2PKH,
// P2SH-P2WPKH, 2-of-3 P2WSH multisig and OP_RETURN outputs, spends of
// outputs made earlier in the same block and many-input consolidations. A
// side branch from a chosen height gives reorg tests a competing chain.
#ifndef ORRERY_TESTS_TOOLS_CHAIN_GENERATOR_H
#define ORRERY_TESTS_TOOLS_CHAIN_GENERATOR_H

#include <common/consensus/block.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace orrery::chaingen {

struct Options {
    uint64_t seed{1};
    //! Blocks after genesis on the main branch. The first 100 or so carry only coinbases (maturity).
    int blocks{200};
    //! Transactions per block besides the coinbase, once coinbases have matured.
    int txs_per_block{20};
    //! When > 0, keeps adding blocks past `blocks` until this many non-coinbase transactions exist.
    uint64_t target_txs{0};
    //! When > 0, keeps adding blocks until this many non-coinbase inputs exist.
    uint64_t target_inputs{0};
    //! Side branch: its first block's parent is the main block at `fork_at`; `fork_length` blocks long.
    int fork_at{0};
    int fork_length{0};
    //! Runs every signed input through the script interpreter with the consensus flags (a self-check).
    bool check_scripts{true};
    //! Called after each block with its height and whether it is on the side branch.
    std::function<void(int height, bool side)> progress;
};

struct Stats {
    uint64_t blocks{0};
    uint64_t transactions{0}; //!< without coinbases
    uint64_t inputs{0};       //!< without coinbase inputs
    uint64_t outputs{0};
    uint64_t same_block_spends{0};
    uint64_t consolidations{0}; //!< transactions with at least 10 inputs
    std::map<std::string, uint64_t> inputs_by_type;
    std::map<std::string, uint64_t> outputs_by_type;
};

struct Chain {
    std::vector<Block> main; //!< heights 1..N
    std::vector<Block> side; //!< heights fork_at+1 .. fork_at+fork_length
    Stats main_stats;
    Stats side_stats;
};

//! Builds the chain; throws std::runtime_error if a self-check fails (a bug in the generator).
Chain Generate(const Options& options);

//! Writes blocks as blkNNNNN.dat and -loadblock read them: the network magic, the size (uint32 LE), the block.
void WriteBlockStream(const std::filesystem::path& path, const std::array<uint8_t, 4>& magic,
                      const std::vector<Block>& blocks);
//! One block per line in hex (what submitblock takes).
void WriteHexLines(const std::filesystem::path& path, const std::vector<Block>& blocks);

} // namespace orrery::chaingen

#endif // ORRERY_TESTS_TOOLS_CHAIN_GENERATOR_H
