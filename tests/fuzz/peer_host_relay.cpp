// Fuzz target: what the node accepts from an agent for transaction relay (PeerHost.transactionReceived,
// transactionsAnnounced, transactionsNotFound), parsed as the node parses it and fed to the relay's
// bookkeeping: a transaction into the orphanage (with its parents looked up, a block taking it out,
// eviction and expiry), hash lists into the download tracker. An agent may be taken over by its peer,
// so none of this may crash, hang or grow past its bounds.
#include <common/consensus/block.h>
#include <common/consensus/transaction.h>
#include <services/node/block_sync.h>
#include <services/node/tx_relay.h>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery;
    using namespace orrery::node;
    if (size < 2) return 0;
    const uint8_t which = data[0] % 2;
    const uint8_t knob = data[1];
    std::span<const uint8_t> input(data + 2, size - 2);
    std::mt19937_64 rng(knob);
    if (which == 0) {
        std::shared_ptr<const Transaction> tx;
        try {
            tx = std::make_shared<const Transaction>(DeserializeTransaction(input));
        } catch (const DeserializeError&) {
            return 0;
        }
        TxOrphanage orphanage;
        // The transaction, and variants of it (other lock times) from several peers.
        for (uint32_t i = 0; i <= knob % 8; ++i) {
            Transaction variant = *tx;
            variant.lock_time ^= i;
            orphanage.AddTx(std::make_shared<const Transaction>(variant), i % 3, 1000 + i);
        }
        for (const TxIn& in : tx->vin) {
            Transaction parent;
            parent.vout.resize(std::min<size_t>(in.prevout.n + 1, 64));
            (void)orphanage.ChildrenOf(parent, in.prevout.hash);
        }
        orphanage.LimitOrphans(knob % 5, 1000 + knob * 10, rng);
        if (orphanage.Size() > knob % 5) __builtin_trap();
        Block block;
        block.txs.push_back(*tx);
        orphanage.EraseForBlock(block);
        orphanage.EraseForPeer(1);
        if (orphanage.HaveTx(tx->GetWtxid())) __builtin_trap();
    } else {
        auto hashes = ParseHashList(input, 50000);
        if (!hashes) return 0;
        TxDownload download;
        int64_t now = 0;
        for (size_t i = 0; i < hashes->size(); ++i) {
            const int64_t peer = int64_t((knob + i) % 4);
            download.ReceivedInv(peer, (*hashes)[i], (knob >> i % 8) & 1, peer == 0, now + int64_t(i) * 1000);
            if (i % 7 == 3) download.ReceivedResponse(peer, (*hashes)[i / 2]);
        }
        for (int round = 0; round < 4; ++round) {
            now += GETDATA_TX_INTERVAL_US / 2;
            for (const auto& [peer, requests] : download.RequestsToSend(now)) {
                if (download.CountInFlight(peer) < requests.size()) __builtin_trap();
            }
            download.DisconnectedPeer(round);
        }
        if (download.Size() != 0) __builtin_trap(); // every peer left
    }
    return 0;
}
