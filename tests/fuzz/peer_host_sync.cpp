// Fuzz target: what the node accepts from an agent for block sync (PeerHost.headersReceived,
// blockReceived, blocksAnnounced, getHeaders' locator, compactBlockReceived and
// blockTransactionsReceived), parsed as the node parses it, the parsed headers fed to the download
// scheduler as a peer's announcements, and a compact block rebuilt from a blocktxn. An agent may be taken
// over by its peer, so none of this may crash, hang or over-allocate.
#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>
#include <common/p2p/compact_blocks.h>
#include <services/node/block_sync.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <deque>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery;
    using namespace orrery::node;
    if (size == 0) return 0;
    const uint8_t which = data[0] % 4;
    std::span<const uint8_t> input(data + 1, size - 1);
    switch (which) {
    case 0: {
        auto headers = ParseHeaderList(input, MAX_HEADERS_RESULTS);
        if (!headers) return 0;
        // A tree over genesis from the headers that chain, as the node would accept their shape.
        std::deque<BlockIndex> tree;
        BlockIndex& genesis = tree.emplace_back();
        genesis.status = BLOCK_VALID_TREE | BLOCK_HAVE_DATA;
        genesis.chain_tx = 1;
        ActiveChain chain;
        chain.SetTip(&genesis);
        BlockSync sync(std::chrono::seconds{600});
        sync.AddPeer(1);
        for (const BlockHeader& header : *headers) {
            BlockIndex& index = tree.emplace_back();
            index.hash = header.GetHash();
            index.header = header;
            index.prev = &tree[tree.size() - 2];
            index.height = index.prev->height + 1;
            index.chain_work = index.prev->chain_work + GetBlockProof(header.bits);
            index.status = BLOCK_VALID_TREE;
            index.BuildSkip();
            sync.UpdateBestKnown(1, &index);
        }
        const auto now = BlockSync::Clock::now();
        auto requests = sync.Schedule(chain, now);
        if (requests.size() > 1 || (!requests.empty() && requests[1].size() > MAX_BLOCKS_IN_TRANSIT_PER_PEER)) {
            __builtin_trap();
        }
        sync.CheckTimeouts(now + std::chrono::hours{1});
        sync.RemovePeer(1);
        break;
    }
    case 1: {
        try {
            Block block = DeserializeBlock(input);
            ValidationState state;
            CheckBlock(block, state, GetChainParams(ChainType::REGTEST).consensus);
        } catch (const DeserializeError&) {
        }
        break;
    }
    case 2: {
        auto hashes = ParseHashList(input, MAX_LOCATOR_SIZE);
        if (hashes && hashes->size() * 32 != input.size()) __builtin_trap();
        break;
    }
    case 3: {
        // A cmpctblock, then a blocktxn for it: two little-endian bytes say where the first ends.
        if (input.size() < 2) return 0;
        const size_t split = std::min<size_t>(input.size() - 2, size_t{input[0]} | size_t{input[1]} << 8);
        const auto compact = input.subspan(2, split);
        const auto rest = input.subspan(2 + split);
        try {
            const p2p::CmpctBlockMessage message = p2p::DecodeCmpctBlock(compact);
            if (p2p::CheckCompactBlock(message)) return 0;
            p2p::PartialBlock partial;
            if (partial.Init(message, {}, {}) != p2p::ReadStatus::OK) return 0;
            const auto missing = partial.MissingIndexes();
            if (missing.size() + partial.PrefilledCount() != message.short_ids.size() + message.prefilled.size()) {
                __builtin_trap(); // nothing came from an empty mempool
            }
            const p2p::BlockTxnMessage txn = p2p::DecodeBlockTxn(rest);
            Block block;
            partial.Fill(block, txn.txs, GetChainParams(ChainType::REGTEST).consensus);
        } catch (const std::exception&) {
        }
        break;
    }
    }
    return 0;
}
