// The in-memory header tree and the active chain (see block_index.h): skip
// pointers for logarithmic ancestor lookup, as Core builds them.
#include <services/node/validation/block_index.h>

#include <algorithm>
#include <array>

namespace orrery::node {

namespace {

//! Turns the lowest set bit of n off.
int InvertLowestOne(int n)
{
    return n & (n - 1);
}

//! The height the skip pointer of an entry at `height` points to (Core's GetSkipHeight).
int GetSkipHeight(int height)
{
    if (height < 2) return 0;
    return (height & 1) ? InvertLowestOne(InvertLowestOne(height - 1)) + 1 : InvertLowestOne(height);
}

} // namespace

int64_t BlockIndex::GetMedianTimePast() const
{
    std::array<int64_t, 11> times{};
    size_t n = 0;
    for (const BlockIndex* index = this; index != nullptr && n < times.size(); index = index->prev) {
        times[n++] = index->GetBlockTime();
    }
    std::sort(times.begin(), times.begin() + n);
    return times[n / 2];
}

const BlockIndex* BlockIndex::GetAncestor(int target) const
{
    if (target > height || target < 0) return nullptr;
    const BlockIndex* walk = this;
    int height_walk = height;
    while (height_walk > target) {
        const int height_skip = GetSkipHeight(height_walk);
        const int height_skip_prev = GetSkipHeight(height_walk - 1);
        if (walk->skip != nullptr &&
            (height_skip == target ||
             (height_skip > target && !(height_skip_prev < height_skip - 2 && height_skip_prev >= target)))) {
            walk = walk->skip;
            height_walk = height_skip;
        } else {
            walk = walk->prev;
            height_walk--;
        }
    }
    return walk;
}

BlockIndex* BlockIndex::GetAncestor(int target)
{
    return const_cast<BlockIndex*>(static_cast<const BlockIndex*>(this)->GetAncestor(target));
}

bool BlockIndex::IsValid(uint32_t up_to) const
{
    if (status & BLOCK_FAILED_MASK) return false;
    return (status & BLOCK_VALID_MASK) >= up_to;
}

void BlockIndex::BuildSkip()
{
    if (prev != nullptr) skip = prev->GetAncestor(GetSkipHeight(height));
}

BlockIndex* ActiveChain::operator[](int height) const
{
    if (height < 0 || height >= static_cast<int>(m_chain.size())) return nullptr;
    return m_chain[height];
}

bool ActiveChain::Contains(const BlockIndex* index) const
{
    return index != nullptr && (*this)[index->height] == index;
}

BlockIndex* ActiveChain::Next(const BlockIndex* index) const
{
    return Contains(index) ? (*this)[index->height + 1] : nullptr;
}

const BlockIndex* ActiveChain::FindFork(const BlockIndex* index) const
{
    if (index == nullptr) return nullptr;
    if (index->height > Height()) index = index->GetAncestor(Height());
    while (index != nullptr && !Contains(index)) index = index->prev;
    return index;
}

void ActiveChain::SetTip(BlockIndex* tip)
{
    if (tip == nullptr) {
        m_chain.clear();
        return;
    }
    m_chain.resize(tip->height + 1);
    while (tip != nullptr && m_chain[tip->height] != tip) {
        m_chain[tip->height] = tip;
        tip = tip->prev;
    }
}

const BlockIndex* LastCommonAncestor(const BlockIndex* a, const BlockIndex* b)
{
    if (a == nullptr || b == nullptr) return nullptr;
    if (a->height > b->height) a = a->GetAncestor(b->height);
    if (b->height > a->height) b = b->GetAncestor(a->height);
    while (a != b && a != nullptr && b != nullptr) {
        a = a->prev;
        b = b->prev;
    }
    return a;
}

} // namespace orrery::node
