// One wallet following the node's chain; see chain_sync.h.
#include <services/wallet/sync/chain_sync.h>

#include <common/ipc/error.h>
#include <common/rpc/protocol.h>
#include <common/util/logging.h>

#include <algorithm>
#include <set>

namespace orrery::wallet {
namespace {

Block Decode(const interfaces::ChainBlock& block)
{
    return DeserializeBlock(block.data);
}

//! The hash of the active chain at `height`, or "" past its tip.
std::string HashAt(interfaces::Chain& chain, int64_t height)
{
    try {
        return chain.getBlockHash(height);
    } catch (const ipc::Error& e) {
        const auto code = e.code();
        if (code == ipc::ErrorCode::DISCONNECTED || code == ipc::ErrorCode::TIMEOUT || code == ipc::ErrorCode::BUSY) {
            throw; // the node is gone or busy: the link tries again
        }
        return {}; // "Block height out of range"
    }
}

//! The wallet's last block is unknown to the node (the node lost blocks in a crash): without that block's data the
//! wallet cannot undo it step by step. Every block the wallet's transactions refer to that is not in the active
//! chain is gone; the highest one that is still there is a block both chains share, so the wallet restarts from it
//! (or from its birth when none is left) and reads forward.
void RewindUnknown(HdWallet& wallet, interfaces::Chain& chain, const BlockRef& last)
{
    std::set<std::pair<std::string, int64_t>> gone;
    int64_t shared = -1;
    for (const auto& [hash, height] : wallet.ReferencedBlocks()) {
        if (HashAt(chain, height) == hash) {
            shared = std::max(shared, height);
        } else {
            gone.emplace(hash, height);
        }
    }
    if (shared < 0) shared = std::max<int64_t>(FindStartHeight(chain, wallet.GetInfo().birth_time) - 1, 0);
    shared = std::min(shared, chain.getTip().height);
    const BlockRef fork{chain.getBlockHash(shared), shared};
    LogPrintf("Wallet \"{}\": block {} at height {} is unknown to the node; {} blocks of its transactions are gone, "
              "reading on from height {}",
              wallet.Name(), last.hash, last.height, gone.size(), shared);
    wallet.Rewind(fork, gone);
}

} // namespace

CatchUpResult CatchUp(HdWallet& wallet, interfaces::Chain& chain)
{
    CatchUpResult result;
    std::optional<BlockRef> last = wallet.LastBlock();
    if (!last) {
        // A wallet that never processed a block (made while the node was away, or blank and imported into):
        // read from its birth on.
        const int64_t start = FindStartHeight(chain, wallet.GetInfo().birth_time);
        const interfaces::ChainTip tip = chain.getTip();
        LogPrintf("Wallet \"{}\": no block processed yet; scanning from height {} (birth time)", wallet.Name(), start);
        if (start > tip.height) {
            wallet.SetLastBlock({tip.hash, tip.height});
            return result;
        }
        if (start == 0) {
            auto genesis = chain.getBlocksFrom(0, 1);
            if (genesis.empty()) return result;
            wallet.ScanBlock(Decode(genesis[0]), {genesis[0].hash, 0}, genesis[0].time);
            wallet.SetLastBlock({genesis[0].hash, 0});
            result.connected = 1;
        } else {
            wallet.SetLastBlock({chain.getBlockHash(start - 1), start - 1});
        }
        last = wallet.LastBlock();
    }
    const interfaces::ChainTip tip = chain.getTip();
    LogPrintf("Wallet \"{}\": resuming from block {} at height {} (node tip at height {})", wallet.Name(), last->hash,
              last->height, tip.height);
    if (tip.hash == last->hash) return result;
    for (;;) {
        // Back to the fork point: undo blocks that are no longer in the active chain, newest first.
        while (HashAt(chain, last->height) != last->hash) {
            std::optional<interfaces::ChainBlock> block = chain.findBlock(last->hash);
            if (!block) {
                RewindUnknown(wallet, chain, *last);
                last = wallet.LastBlock();
                continue;
            }
            LogPrintf("Wallet \"{}\": block {} at height {} left the active chain; rolling it back", wallet.Name(),
                      block->hash, block->height);
            wallet.BlockDisconnected(Decode(*block), {block->hash, block->height}, block->prev_hash);
            ++result.disconnected;
            last = wallet.LastBlock();
        }
        // Forward along the active chain.
        std::vector<interfaces::ChainBlock> blocks = chain.getBlocksFrom(last->height + 1, SYNC_BATCH);
        if (blocks.empty()) break;
        bool moved = false;
        for (const auto& block : blocks) {
            if (!wallet.BlockConnected(Decode(block), {block.hash, block.height}, block.prev_hash, block.time)) break;
            ++result.connected;
            moved = true;
        }
        last = wallet.LastBlock();
        if (!moved && HashAt(chain, last->height) == last->hash) break; // nothing fits: the node moved; next event
    }
    LogPrintf("Wallet \"{}\": caught up at block {} height {} ({} blocks connected, {} rolled back)", wallet.Name(),
              last->hash, last->height, result.connected, result.disconnected);
    return result;
}

void ApplyBlockConnected(HdWallet& wallet, interfaces::Chain& chain, const interfaces::ChainBlock& block,
                         const Block& decoded)
{
    if (wallet.BlockConnected(decoded, {block.hash, block.height}, block.prev_hash, block.time)) {
        LogDebug(LogCategory::WALLET, "Wallet \"{}\": block {} at height {} connected", wallet.Name(), block.hash,
                 block.height);
        return;
    }
    auto last = wallet.LastBlock();
    if (last && last->hash == block.hash) return; // read already by a catch-up
    CatchUp(wallet, chain);
}

void ApplyBlockDisconnected(HdWallet& wallet, interfaces::Chain& chain, const interfaces::ChainBlock& block,
                            const Block& decoded)
{
    if (wallet.BlockDisconnected(decoded, {block.hash, block.height}, block.prev_hash)) {
        LogDebug(LogCategory::WALLET, "Wallet \"{}\": block {} at height {} disconnected", wallet.Name(), block.hash,
                 block.height);
        return;
    }
    CatchUp(wallet, chain);
}

int64_t FindStartHeight(interfaces::Chain& chain, int64_t time)
{
    const int64_t target = time - TIMESTAMP_WINDOW;
    const interfaces::ChainTip tip = chain.getTip();
    // Median time past never decreases along a chain: a binary search finds the first block at or after target.
    int64_t low = 0, high = tip.height + 1;
    while (low < high) {
        const int64_t mid = low + (high - low) / 2;
        auto blocks = chain.getBlocksFrom(mid, 1);
        if (blocks.empty() || blocks[0].median_time >= target) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    if (low > tip.height) return low;
    return std::max<int64_t>(low - 11, 0);
}

RescanResult Rescan(HdWallet& wallet, interfaces::Chain& chain, int64_t start, std::optional<int64_t> stop)
{
    std::optional<BlockRef> last = wallet.LastBlock();
    const int64_t end = stop.value_or(last ? last->height : chain.getTip().height);
    if (!wallet.BeginScan(start, end)) {
        throw WalletError(rpc::RPC_WALLET_ERROR, "Wallet is currently rescanning. Abort existing rescan or wait.");
    }
    RescanResult result;
    result.start_height = start;
    result.stop_height = start - 1;
    LogPrintf("Wallet \"{}\": rescanning blocks {} to {}", wallet.Name(), start, end);
    try {
        int64_t height = start;
        while (height <= end) {
            if (wallet.ScanAborted()) {
                result.aborted = true;
                break;
            }
            auto blocks = chain.getBlocksFrom(height, std::min(SYNC_BATCH, end - height + 1));
            if (blocks.empty()) break;
            for (const auto& block : blocks) {
                if (block.height > end || wallet.ScanAborted()) break;
                wallet.ScanBlock(Decode(block), {block.hash, block.height}, block.time);
                result.stop_height = block.height;
                wallet.ScanProgress(block.height);
                height = block.height + 1;
            }
        }
    } catch (...) {
        wallet.EndScan();
        throw;
    }
    wallet.EndScan();
    LogPrintf("Wallet \"{}\": rescan {} at height {}", wallet.Name(), result.aborted ? "aborted" : "done",
              result.stop_height);
    return result;
}

} // namespace orrery::wallet
