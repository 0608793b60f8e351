// Fuzz target: what the node accepts from an agent for block sync (PeerHost.headersReceived,
// blockReceived, blocksAnnounced, getHeaders' locator), parsed as the node parses it, and the
// parsed headers fed to the download scheduler as a peer's announcements. An agent may be taken
// over by its peer, so none of this may crash, hang or over-allocate.
#include <common/consensus/block.h>
#include <common/consensus/check.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>
#include <services/node/block_sync.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery;
    using namespace orrery::node;
    if (size == 0) return 0;
    const uint8_t which = data[0] % 3;
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
    }
    return 0;
}
