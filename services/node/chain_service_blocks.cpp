// The half of ChainService that reads the chainstate: the tip, hashes and
// blocks for Chain's calls, and the ValidationListener that relays block
// connections, disconnections and tip changes to the subscribers in the
// chainstate's order.
#include <services/node/chain_service.h>

#include <common/rpc/protocol.h>
#include <services/node/validation/chainstate.h>

namespace orrery::node {

namespace {

//! About this many bytes of block data per getBlocksFrom answer (half the default IPC message limit).
constexpr size_t MAX_BLOCKS_FROM_BYTES = 16 << 20;

interfaces::ChainTip TipOf(const BlockIndex& index)
{
    interfaces::ChainTip tip;
    tip.height = index.height;
    tip.hash = index.hash.GetHex();
    tip.time = index.GetBlockTime();
    return tip;
}

interfaces::ChainBlock BlockOf(const BlockIndex& index, std::vector<uint8_t> data)
{
    interfaces::ChainBlock block;
    block.height = index.height;
    block.hash = index.hash.GetHex();
    block.prev_hash = index.header.prev_block.GetHex();
    block.time = index.GetBlockTime();
    block.median_time = index.GetMedianTimePast();
    block.data = std::move(data);
    return block;
}

//! Reads a block's bytes; the pruned case answers bitcoind's error.
std::vector<uint8_t> ReadBlockData(const ChainstateManager& chainstate, const BlockIndex& index)
{
    try {
        return chainstate.ReadRawBlock(&index);
    } catch (const BlockPrunedError&) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available (pruned data)");
    }
}

//! Hears the chainstate on its notification thread and hands each change on, in order.
class Relay final : public ValidationListener
{
public:
    explicit Relay(std::weak_ptr<ChainService> service) : m_service(std::move(service)) {}

    void BlockConnected(const std::shared_ptr<const Block>& block, const BlockIndex* index) override
    {
        if (auto service = m_service.lock()) service->NotifyBlockConnected(BlockOf(*index, SerializeBlock(*block)));
    }
    void BlockDisconnected(const std::shared_ptr<const Block>& block, const BlockIndex* index) override
    {
        if (auto service = m_service.lock()) service->NotifyBlockDisconnected(BlockOf(*index, SerializeBlock(*block)));
    }
    void UpdatedBlockTip(const BlockIndex* tip, const BlockIndex* /*fork*/, bool /*ibd*/) override
    {
        if (auto service = m_service.lock()) service->NotifyTip(TipOf(*tip));
    }

private:
    std::weak_ptr<ChainService> m_service;
};

} // namespace

void ChainService::AttachChainstate(ChainstateManager& chainstate)
{
    ChainstateManager* cs = &chainstate;
    auto reader = std::make_shared<Reader>();
    reader->tip = [cs] {
        auto lock = cs->Lock();
        return TipOf(*cs->Tip());
    };
    reader->hash_at = [cs](int64_t height) -> std::optional<std::string> {
        auto lock = cs->Lock();
        if (height < 0 || height > cs->Height()) return std::nullopt;
        return cs->Chain()[static_cast<int>(height)]->hash.GetHex();
    };
    reader->blocks_from = [cs](int64_t height, int64_t max_count) {
        std::vector<interfaces::ChainBlock> blocks;
        size_t bytes = 0;
        for (int64_t h = height; h < height + max_count && bytes < MAX_BLOCKS_FROM_BYTES; ++h) {
            const BlockIndex* index;
            {
                auto lock = cs->Lock();
                if (h > cs->Height()) break;
                index = cs->Chain()[static_cast<int>(h)];
            }
            blocks.push_back(BlockOf(*index, ReadBlockData(*cs, *index)));
            bytes += blocks.back().data.size();
        }
        return blocks;
    };
    reader->find_block = [cs](const std::string& hex) -> std::optional<interfaces::ChainBlock> {
        auto hash = uint256::FromHex(hex);
        if (!hash) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "block hash must be 64 hexadecimal digits");
        const BlockIndex* index;
        {
            auto lock = cs->Lock();
            index = cs->LookupBlockIndex(*hash);
            if (!index) return std::nullopt;
            if (!(index->status & BLOCK_HAVE_DATA)) {
                if (cs->IsPruned() && index->n_tx > 0) {
                    throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available (pruned data)");
                }
                return std::nullopt; // a header alone
            }
        }
        return BlockOf(*index, ReadBlockData(*cs, *index));
    };
    auto relay = std::make_shared<Relay>(weak_from_this());
    {
        std::lock_guard lock(m_mutex);
        m_reader = std::move(reader);
        m_detach = [cs, relay] { cs->UnregisterListener(relay); };
    }
    chainstate.RegisterListener(relay);
}

} // namespace orrery::node
