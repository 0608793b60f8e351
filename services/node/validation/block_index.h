// The tree of known headers in memory (Core's CBlockIndex and CChain): each
// entry points to its parent, carries the chain work up to it and what is
// known of its block, and the active chain is a vector of entries by height.
#ifndef ORRERY_SERVICES_NODE_VALIDATION_BLOCK_INDEX_H
#define ORRERY_SERVICES_NODE_VALIDATION_BLOCK_INDEX_H

#include <common/consensus/arith_uint256.h>
#include <common/consensus/block.h>
#include <services/node/storage/block_files.h>

#include <cstdint>
#include <vector>

namespace orrery::node {

//! Core's BlockStatus bits: a validity level in the low three bits, then flags.
enum BlockStatus : uint32_t {
    BLOCK_VALID_UNKNOWN = 0,
    BLOCK_VALID_RESERVED = 1,
    BLOCK_VALID_TREE = 2,         //!< header valid, parent known, work computed
    BLOCK_VALID_TRANSACTIONS = 3, //!< block data checked context-free; n_tx set
    BLOCK_VALID_CHAIN = 4,        //!< outputs do not overspend, no double spends, BIP30
    BLOCK_VALID_SCRIPTS = 5,      //!< scripts and signatures valid
    BLOCK_VALID_MASK = 7,
    BLOCK_HAVE_DATA = 8,
    BLOCK_HAVE_UNDO = 16,
    BLOCK_FAILED_VALID = 32,
    BLOCK_FAILED_CHILD = 64,
    BLOCK_FAILED_MASK = BLOCK_FAILED_VALID | BLOCK_FAILED_CHILD,
    BLOCK_OPT_WITNESS = 128,
};

struct BlockIndex {
    uint256 hash;
    BlockIndex* prev{nullptr};
    BlockIndex* skip{nullptr}; //!< a far ancestor, for GetAncestor in O(log n)
    int height{0};
    BlockHeader header;
    ArithUint256 chain_work;
    uint32_t status{0};
    uint32_t n_tx{0};
    uint64_t chain_tx{0}; //!< transactions up to and including this block; 0 while an ancestor lacks data
    FilePos data_pos;
    FilePos undo_pos;
    uint32_t time_max{0};   //!< the largest header time up to here
    int32_t sequence_id{0}; //!< order of block arrival, to break chain-work ties (preciousblock lowers it)

    int64_t GetBlockTime() const { return header.GetBlockTime(); }
    //! Median of the last eleven blocks' times ending here.
    int64_t GetMedianTimePast() const;
    const BlockIndex* GetAncestor(int height) const;
    BlockIndex* GetAncestor(int height);
    bool IsValid(uint32_t up_to = BLOCK_VALID_TRANSACTIONS) const;
    bool HaveData() const { return status & BLOCK_HAVE_DATA; }
    //! Sets `skip`; call once `prev` and `height` are set.
    void BuildSkip();
};

//! The active chain: entry i is the block at height i.
class ActiveChain
{
public:
    BlockIndex* Tip() const { return m_chain.empty() ? nullptr : m_chain.back(); }
    BlockIndex* Genesis() const { return m_chain.empty() ? nullptr : m_chain.front(); }
    int Height() const { return static_cast<int>(m_chain.size()) - 1; }
    BlockIndex* operator[](int height) const;
    bool Contains(const BlockIndex* index) const;
    BlockIndex* Next(const BlockIndex* index) const;
    //! The last common block of the active chain and `index`'s chain.
    const BlockIndex* FindFork(const BlockIndex* index) const;
    //! Makes `tip` the tip, rewriting entries up from the fork.
    void SetTip(BlockIndex* tip);

private:
    std::vector<BlockIndex*> m_chain;
};

//! The last common ancestor of two entries.
const BlockIndex* LastCommonAncestor(const BlockIndex* a, const BlockIndex* b);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_VALIDATION_BLOCK_INDEX_H
