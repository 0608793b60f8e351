// The figures getblockchaininfo derives from the chainstate (difficulty, chain
// work, verification progress, pruning) and the node's version helpers.
#ifndef ORRERY_SERVICES_NODE_CHAIN_H
#define ORRERY_SERVICES_NODE_CHAIN_H

#include <common/consensus/arith_uint256.h>
#include <common/consensus/params.h>
#include <services/node/validation/chainstate.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orrery::node {

//! The state getblockchaininfo shows (services/node/rpc/blockchain.cpp gives it bitcoind's field names).
struct BlockchainInfo {
    std::string chain;
    int64_t blocks{0};
    int64_t headers{0};
    std::string best_block_hash;
    double difficulty{0};
    int64_t time{0};
    int64_t median_time{0};
    double verification_progress{0};
    bool initial_block_download{true};
    std::string chain_work;
    int64_t size_on_disk{0};
    bool pruned{false};
    int64_t prune_height{0};       //!< when pruned: the lowest height with block data
    bool automatic_pruning{false}; //!< when pruned: -prune=<MiB> rather than -prune=1
    int64_t prune_target_size{0};  //!< when automatic: the target in bytes
    std::string warnings;
};

//! Core's GetDifficulty: how many times harder than difficulty 1 (bits 0x1d00ffff) the target of `bits` is.
double GetDifficulty(uint32_t bits);

//! Core's CLIENT_VERSION form of "major.minor.patch": 10000 * major + 100 * minor + patch.
int64_t ClientVersionNumber(std::string_view version);

//! The version and user agent the node announces: "/Orrery:0.1.0/".
std::string UserAgent();

//! Core's GuessVerificationProgress: the share of the network's transactions up to `tip`, estimated at `now`.
double GuessVerificationProgress(ChainType chain, const BlockIndex* tip, int64_t now);

//! getblockchaininfo's figures from the chainstate at unix time `now` (takes the chainstate's lock).
BlockchainInfo GetBlockchainInfo(const ChainstateManager& chainstate, int64_t now);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_CHAIN_H
