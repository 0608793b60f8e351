// The node's Chain interface; see chain_service.h.
#include <services/node/chain_service.h>

#include <common/consensus/transaction.h>
#include <common/rpc/protocol.h>
#include <common/util/logging.h>

#include <algorithm>

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

//! A block's bytes; the pruned case answers bitcoind's error.
std::vector<uint8_t> ReadBlockData(const ChainstateManager& chainstate, const BlockIndex& index)
{
    try {
        return chainstate.ReadRawBlock(&index);
    } catch (const BlockPrunedError&) {
        throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available (pruned data)");
    }
}

} // namespace

//! Hears the chainstate on its notification thread and hands each change on, in order.
class ChainService::Listener final : public ValidationListener
{
public:
    explicit Listener(std::weak_ptr<ChainService> service) : m_service(std::move(service)) {}
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

//! Forwards the mempool's news; called with the mempool's lock held, in the mempool's order.
class ChainService::MempoolForwarder final : public MempoolListener
{
public:
    explicit MempoolForwarder(std::weak_ptr<ChainService> service) : m_service(std::move(service)) {}
    void TransactionAdded(const MempoolEntry& entry, uint64_t sequence) override
    {
        if (auto service = m_service.lock()) service->NotifyTransactionAdded(SerializeTransaction(*entry.tx), sequence);
    }
    void TransactionRemoved(const std::shared_ptr<const Transaction>& tx, RemovalReason reason,
                            uint64_t sequence) override
    {
        // A mined transaction is told by its block's blockConnected, as Core's notifications do.
        if (reason == RemovalReason::BLOCK) return;
        if (auto service = m_service.lock()) {
            service->NotifyTransactionRemoved(SerializeTransaction(*tx), std::string(RemovalReasonName(reason)),
                                              sequence);
        }
    }

private:
    std::weak_ptr<ChainService> m_service;
};

ChainService::ChainService(ChainstateManager& chainstate) : m_chainstate(chainstate) {}

void ChainService::AttachMempool(Mempool& mempool)
{
    if (m_mempool_listener) return;
    m_mempool = &mempool;
    m_mempool_listener = std::make_shared<MempoolForwarder>(weak_from_this());
    mempool.RegisterListener(m_mempool_listener);
}

ChainService::~ChainService()
{
    Detach();
}

void ChainService::Detach()
{
    if (m_mempool_listener) {
        m_mempool->UnregisterListener(m_mempool_listener);
        m_mempool_listener.reset();
    }
    if (!m_listener) return;
    m_chainstate.UnregisterListener(m_listener);
    m_listener.reset();
}

void ChainService::Attach()
{
    if (m_listener) return;
    m_listener = std::make_shared<Listener>(weak_from_this());
    m_chainstate.RegisterListener(m_listener);
}

interfaces::ChainTip ChainService::Tip() const
{
    auto lock = m_chainstate.Lock();
    const BlockIndex* index = m_chainstate.Tip();
    if (index == nullptr) return {};
    return TipOf(*index);
}

void ChainService::ForEachListener(const std::function<void(interfaces::ChainListener&)>& send)
{
    std::vector<std::shared_ptr<interfaces::ChainListener>> listeners;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, listener] : m_listeners) listeners.push_back(listener);
    }
    // A remote listener only queues the notification; one whose peer is gone sends nothing.
    for (const auto& listener : listeners) send(*listener);
}

void ChainService::NotifyTip()
{
    auto chain_lock = m_chainstate.Lock(); // before m_notify_mutex, as the mempool's news takes them
    std::lock_guard notify_lock(m_notify_mutex);
    interfaces::ChainTip tip = Tip();
    ForEachListener([&tip](interfaces::ChainListener& listener) { listener.updatedBlockTip(tip); });
}

void ChainService::NotifyTip(const interfaces::ChainTip& tip)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&tip](interfaces::ChainListener& listener) { listener.updatedBlockTip(tip); });
}

void ChainService::NotifyBlockConnected(const interfaces::ChainBlock& block)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&block](interfaces::ChainListener& listener) { listener.blockConnected(block); });
}

void ChainService::NotifyBlockDisconnected(const interfaces::ChainBlock& block)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&block](interfaces::ChainListener& listener) { listener.blockDisconnected(block); });
}

void ChainService::NotifyTransactionAdded(const std::vector<uint8_t>& tx, uint64_t mempool_sequence)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener(
        [&](interfaces::ChainListener& listener) { listener.transactionAddedToMempool(tx, mempool_sequence); });
}

void ChainService::NotifyTransactionRemoved(const std::vector<uint8_t>& tx, const std::string& reason,
                                            uint64_t mempool_sequence)
{
    std::lock_guard notify_lock(m_notify_mutex);
    ForEachListener([&](interfaces::ChainListener& listener) {
        listener.transactionRemovedFromMempool(tx, reason, mempool_sequence);
    });
}

size_t ChainService::SubscriberCount() const
{
    std::lock_guard lock(m_mutex);
    return m_listeners.size();
}

std::string ChainService::getChainName()
{
    return ChainTypeToString(m_chainstate.Params().type);
}

interfaces::ChainTip ChainService::getTip()
{
    return Tip();
}

std::string ChainService::getBlockHash(int64_t height)
{
    auto lock = m_chainstate.Lock();
    const BlockIndex* index =
        height < 0 || height > m_chainstate.Height() ? nullptr : m_chainstate.Chain()[static_cast<int>(height)];
    if (index == nullptr) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
    return index->hash.GetHex();
}

std::vector<interfaces::ChainBlock> ChainService::getBlocksFrom(int64_t height, int64_t max_count)
{
    if (height < 0) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "Block height out of range");
    std::vector<interfaces::ChainBlock> blocks;
    size_t bytes = 0;
    for (int64_t h = height; h - height < max_count && bytes < MAX_BLOCKS_FROM_BYTES; ++h) {
        const BlockIndex* index;
        {
            auto lock = m_chainstate.Lock();
            if (h > m_chainstate.Height()) break;
            index = m_chainstate.Chain()[static_cast<int>(h)];
        }
        blocks.push_back(BlockOf(*index, ReadBlockData(m_chainstate, *index)));
        bytes += blocks.back().data.size();
    }
    return blocks;
}

std::optional<interfaces::ChainBlock> ChainService::findBlock(std::string hex)
{
    auto hash = uint256::FromHex(hex);
    if (!hash) throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "block hash must be 64 hexadecimal digits");
    const BlockIndex* index;
    {
        auto lock = m_chainstate.Lock();
        index = m_chainstate.LookupBlockIndex(*hash);
        if (!index) return std::nullopt;
        if (!(index->status & BLOCK_HAVE_DATA)) {
            if (m_chainstate.IsPruned() && index->n_tx > 0) {
                throw rpc::RpcException(rpc::RPC_MISC_ERROR, "Block not available (pruned data)");
            }
            return std::nullopt; // a header alone
        }
    }
    return BlockOf(*index, ReadBlockData(m_chainstate, *index));
}

std::unique_ptr<ipc::Subscription>
ChainService::subscribeNotifications(std::shared_ptr<interfaces::ChainListener> listener)
{
    uint64_t id;
    {
        auto chain_lock = m_chainstate.Lock();       // lock order: chainstate, then m_notify_mutex
        std::lock_guard notify_lock(m_notify_mutex); // no later news can overtake the first tip
        {
            std::lock_guard lock(m_mutex);
            id = m_next_listener++;
            m_listeners.emplace(id, listener);
        }
        listener->updatedBlockTip(Tip());
    }
    LogDebug(LogCategory::IPC, "Chain subscription {} added", id);
    std::weak_ptr<ChainService> weak = weak_from_this();
    return std::make_unique<ipc::CallbackSubscription>([weak, id] {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lock(self->m_mutex);
        self->m_listeners.erase(id);
    });
}

// ---------------------------------------------------------------- mempool and fees

Mempool& ChainService::RequireMempool() const
{
    if (m_mempool == nullptr) throw rpc::RpcException(rpc::RPC_IN_WARMUP, "The node has no mempool yet");
    return *m_mempool;
}

std::string ChainService::broadcastTransaction(std::vector<uint8_t> bytes, int64_t max_fee_rate)
{
    Mempool& pool = RequireMempool();
    Transaction tx;
    try {
        tx = DeserializeTransaction(bytes);
    } catch (const DeserializeError&) {
        return "TX decode failed";
    }
    const uint256 txid = tx.GetTxid();
    if (pool.Exists(txid)) return "";
    const Amount max_fee = max_fee_rate > 0 ? FeeRate(max_fee_rate).GetFee(GetVirtualSize(tx)) : 0;
    const AcceptResult result = pool.AcceptTransaction(tx, false, max_fee);
    if (!result.accepted) {
        // sendrawtransaction's messages, so that a wallet reports what bitcoind's would.
        if (result.reject_reason == "max-fee-exceeded") {
            return "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)";
        }
        if (result.failure == AcceptResult::Failure::ALREADY_KNOWN) return "Transaction outputs already in utxo set";
        if (result.failure == AcceptResult::Failure::IN_MEMPOOL) return "";
        return result.ToString();
    }
    pool.AddUnbroadcast(txid);
    LogDebug(LogCategory::MEMPOOL, "Chain: a wallet broadcast {}", txid.GetHex());
    return "";
}

interfaces::FeeEstimate ChainService::estimateSmartFee(int64_t conf_target, bool /*conservative*/)
{
    Mempool& pool = RequireMempool();
    interfaces::FeeEstimate out;
    const int target = static_cast<int>(std::clamp<int64_t>(conf_target, 1, FeeEstimator::MAX_TARGET));
    const auto estimate = pool.Estimator().EstimateFee(target);
    if (!estimate) return out;
    const MempoolInfo info = pool.Info();
    // As estimatesmartfee: never below what the mempool itself takes now.
    out.fee_rate = std::max({estimate->feerate, info.min_fee.PerKvB(), info.min_relay_fee.PerKvB()});
    out.blocks = estimate->blocks;
    return out;
}

int64_t ChainService::relayMinFee()
{
    return RequireMempool().Options().min_relay_fee.PerKvB();
}

int64_t ChainService::relayIncrementalFee()
{
    return RequireMempool().Options().incremental_relay_fee.PerKvB();
}

int64_t ChainService::relayDustFee()
{
    return RequireMempool().Options().standard.dust_relay_fee.PerKvB();
}

int64_t ChainService::mempoolMinFee()
{
    return RequireMempool().Info().min_fee.PerKvB();
}

interfaces::MempoolAncestry ChainService::getTransactionAncestry(std::string hex)
{
    const auto txid = uint256::FromHex(hex);
    if (!txid || hex.size() != 64) {
        throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, "txid must be 64 hexadecimal digits");
    }
    Mempool& pool = RequireMempool();
    interfaces::MempoolAncestry out;
    const auto ancestors = pool.Ancestors(*txid);
    const auto descendants = pool.Descendants(*txid);
    if (!ancestors || !descendants) return out;
    out.ancestors = static_cast<int64_t>(ancestors->size()) + 1;
    out.descendants = static_cast<int64_t>(descendants->size()) + 1;
    const PackageTotals totals = pool.AncestorTotals(*txid);
    out.ancestor_vsize = totals.vsize;
    out.ancestor_fees = totals.modified_fees;
    return out;
}

} // namespace orrery::node
