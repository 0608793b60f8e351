// The node's view of the block chain. For now the chain is the selected
// network's genesis block alone (tip = genesis, height 0); block download and
// validation will extend it. Also the figures getblockchaininfo derives from a
// block: difficulty, chain work, verification progress.
#ifndef ORRERY_SERVICES_NODE_CHAIN_H
#define ORRERY_SERVICES_NODE_CHAIN_H

#include <common/consensus/arith_uint256.h>
#include <common/consensus/params.h>

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
    std::string warnings;
};

//! Core's GetDifficulty: how many times harder than difficulty 1 (bits 0x1d00ffff) the target of `bits` is.
double GetDifficulty(uint32_t bits);

//! Core's CLIENT_VERSION form of "major.minor.patch": 10000 * major + 100 * minor + patch.
int64_t ClientVersionNumber(std::string_view version);

//! The version and user agent the node announces: "/Orrery:0.1.0/".
std::string UserAgent();

class Chain
{
public:
    //! Starts from the genesis of `params`, which must outlive the Chain.
    explicit Chain(const ChainParams& params);

    const ChainParams& Params() const { return m_params; }
    //! Core's chain name: "main", "test", "testnet4", "signet", "regtest".
    std::string Name() const { return ChainTypeToString(m_params.type); }
    int Height() const { return 0; }
    const BlockHeader& Tip() const { return m_params.genesis; }
    uint256 TipHash() const { return m_params.GenesisHash(); }
    //! The hash of the active chain's block at `height`; nullopt when there is none.
    std::optional<uint256> HashAt(int64_t height) const;
    //! Sum of the proofs of every block up to the tip.
    ArithUint256 TipChainWork() const { return m_tip_work; }

    //! getblockchaininfo at unix time `now`, with `size_on_disk` bytes in blocks/ and chainstate/.
    BlockchainInfo GetBlockchainInfo(int64_t now, int64_t size_on_disk) const;

private:
    const ChainParams& m_params;
    ArithUint256 m_tip_work;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_CHAIN_H
