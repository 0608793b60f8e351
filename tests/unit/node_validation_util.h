// For the chainstate unit tests: a regtest chainstate in a temporary folder
// and blocks built and mined (nonce ground; regtest's target is trivial) on
// top of any entry: coinbase-only blocks paying an anyone-can-spend output
// (OP_TRUE), and blocks spending such outputs.
#ifndef ORRERY_TESTS_UNIT_NODE_VALIDATION_UTIL_H
#define ORRERY_TESTS_UNIT_NODE_VALIDATION_UTIL_H

#include <common/consensus/check.h>
#include <common/consensus/merkle.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>
#include <services/node/validation/chainstate.h>
#include <tests/unit/test_util.h>

#include <memory>
#include <vector>

namespace orrery::test {

//! OP_TRUE: spendable with an empty scriptSig.
inline const Script kAnyoneCanSpend{0x51};

//! A coinbase for `height` paying `value` to OP_TRUE (plus `extra` in its scriptSig to vary the txid).
inline Transaction MakeCoinbase(int height, Amount value, uint8_t extra = 0)
{
    Transaction tx;
    tx.version = 1;
    TxIn in;
    in.script_sig = CoinbaseHeightPrefix(height);
    in.script_sig.push_back(0x01);
    in.script_sig.push_back(extra);
    tx.vin.push_back(in);
    tx.vout.push_back(TxOut{value, kAnyoneCanSpend});
    return tx;
}

//! Spends `outpoints` (OP_TRUE outputs) into one OP_TRUE output of `value`.
inline Transaction MakeSpend(const std::vector<OutPoint>& outpoints, Amount value)
{
    Transaction tx;
    tx.version = 2;
    for (const OutPoint& out : outpoints) {
        TxIn in;
        in.prevout = out;
        tx.vin.push_back(in);
    }
    tx.vout.push_back(TxOut{value, kAnyoneCanSpend});
    return tx;
}

//! Fills the merkle root and grinds the nonce until the header meets its bits.
inline void Mine(Block& block, const ConsensusParams& params)
{
    block.merkle_root = BlockMerkleRoot(block);
    while (!CheckProofOfWork(block.GetHash(), block.bits, params)) ++block.nonce;
}

//! A mined block on `prev` at `prev->height + 1`: the coinbase (subsidy + `fees`), then `txs`.
inline std::shared_ptr<Block> BuildBlock(const node::ChainstateManager& chainman, const node::BlockIndex* prev,
                                         std::vector<Transaction> txs = {}, Amount fees = 0, uint8_t extra = 0)
{
    auto block = std::make_shared<Block>();
    const int height = prev->height + 1;
    block->version = 4;
    block->prev_block = prev->hash;
    block->time = static_cast<uint32_t>(prev->GetBlockTime() + 600);
    block->bits = chainman.NextWorkRequired(prev, block->time);
    block->txs.push_back(MakeCoinbase(height, GetBlockSubsidy(height, chainman.Params().consensus) + fees, extra));
    for (auto& tx : txs) block->txs.push_back(std::move(tx));
    Mine(*block, chainman.Params().consensus);
    return block;
}

//! A regtest chainstate in `dir`, loaded and started; its clock is far enough ahead of the test blocks.
struct TestChain {
    const ChainParams& params;
    node::ChainstateOptions options;
    std::unique_ptr<node::ChainstateManager> chainman;
    std::vector<std::string> shutdown_reasons;

    explicit TestChain(const std::filesystem::path& dir,
                       const ChainParams& chain_params = GetChainParams(ChainType::REGTEST),
                       node::ChainstateOptions base = {})
        : params{chain_params}, options{std::move(base)}
    {
        options.data_dir = dir;
        options.blocks_dir = dir / "blocks";
        if (!options.now) options.now = [] { return int64_t{2000000000}; };
        options.request_shutdown = [this](const std::string& reason) { shutdown_reasons.push_back(reason); };
    }
    //! Builds and loads the manager (throws what Load throws).
    node::ChainstateManager& Open()
    {
        chainman = std::make_unique<node::ChainstateManager>(params, options);
        chainman->Load();
        chainman->Start();
        return *chainman;
    }
    void Close()
    {
        if (chainman) chainman->Stop();
        chainman.reset();
    }

    const node::BlockIndex* Tip() const
    {
        auto lock = chainman->Lock();
        return chainman->Tip();
    }
    //! Submits a block as submitblock does.
    node::BlockSubmitResult Submit(const std::shared_ptr<Block>& block)
    {
        return chainman->ProcessNewBlock(block, true);
    }
    //! Mines `count` coinbase-only blocks on the tip; returns them.
    std::vector<std::shared_ptr<Block>> Extend(int count, uint8_t extra = 0)
    {
        std::vector<std::shared_ptr<Block>> blocks;
        for (int i = 0; i < count; ++i) {
            auto block = BuildBlock(*chainman, Tip(), {}, 0, extra);
            const auto result = Submit(block);
            REQUIRE_MESSAGE(result.accepted, result.reject_reason << " " << result.debug_message);
            blocks.push_back(block);
        }
        return blocks;
    }
    //! Mines `count` blocks on `prev` (maybe off the active chain) without checking where the tip goes.
    std::vector<std::shared_ptr<Block>> ExtendFrom(const node::BlockIndex* prev, int count, uint8_t extra)
    {
        std::vector<std::shared_ptr<Block>> blocks;
        for (int i = 0; i < count; ++i) {
            auto block = BuildBlock(*chainman, prev, {}, 0, extra);
            const auto result = Submit(block);
            REQUIRE_MESSAGE(result.accepted, result.reject_reason);
            blocks.push_back(block);
            auto lock = chainman->Lock();
            prev = chainman->LookupBlockIndex(block->GetHash());
        }
        return blocks;
    }
};

//! A chainstate of `type` holding its genesis alone, loaded and started in its own temporary folder.
struct GenesisChain {
    TempDir dir{"orrery_chain"};
    node::ChainstateManager chainstate;

    explicit GenesisChain(ChainType type = ChainType::REGTEST) : chainstate(GetChainParams(type), Options(dir))
    {
        chainstate.Load();
        chainstate.Start();
    }
    static node::ChainstateOptions Options(const std::filesystem::path& dir)
    {
        node::ChainstateOptions options;
        options.data_dir = dir;
        options.blocks_dir = dir / "blocks";
        options.dbcache_bytes = 8 << 20;
        return options;
    }
};

} // namespace orrery::test

#endif // ORRERY_TESTS_UNIT_NODE_VALIDATION_UTIL_H
