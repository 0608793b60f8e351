// -txindex: where each transaction of the active chain is stored, in LevelDB
// under <datadir>/indexes/txindex/ ('t' + txid -> block position and the
// transaction's offset in the block record; 'B' -> the block the index is
// synced to).
#ifndef ORRERY_SERVICES_NODE_STORAGE_TX_INDEX_H
#define ORRERY_SERVICES_NODE_STORAGE_TX_INDEX_H

#include <common/consensus/block.h>
#include <services/node/storage/block_files.h>

#include <filesystem>
#include <memory>
#include <optional>

namespace orrery::node {

//! Where a transaction lives: its block's position and its offset after the block header.
struct TxLocation {
    FilePos block_pos;
    uint32_t tx_offset{0};
};

class TxIndexDB
{
public:
    TxIndexDB(const std::filesystem::path& path, size_t cache_bytes, bool wipe);
    ~TxIndexDB();
    //! Records every transaction of `block` stored at `pos` and moves the synced block to its hash (one batch).
    void WriteBlock(const Block& block, const FilePos& pos);
    //! Moves the synced block back to `prev_hash` when `block` is disconnected (entries stay: Core keeps them too).
    void RewindBlock(const Block& block, const uint256& prev_hash);
    std::optional<TxLocation> Find(const uint256& txid) const;
    uint256 BestBlock() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_STORAGE_TX_INDEX_H
