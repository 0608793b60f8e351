// Undo data: what a block's transactions spent, so that the block can be
// disconnected (Core's CTxUndo/CBlockUndo and their disk form).
#ifndef ORRERY_SERVICES_NODE_STORAGE_UNDO_H
#define ORRERY_SERVICES_NODE_STORAGE_UNDO_H

#include <services/node/storage/coins.h>

#include <cstdint>
#include <span>
#include <vector>

namespace orrery::node {

//! The coins one transaction spent, in input order.
struct TxUndo {
    std::vector<Coin> prevouts;
    friend bool operator==(const TxUndo&, const TxUndo&) = default;
};

//! One TxUndo per transaction but the coinbase.
struct BlockUndo {
    std::vector<TxUndo> txs;
    friend bool operator==(const BlockUndo&, const BlockUndo&) = default;
};

//! Core's disk form (each coin: VARINT code, a dummy version byte when height > 0, the compressed output).
std::vector<uint8_t> SerializeBlockUndo(const BlockUndo& undo);
//! Parses exactly one record occupying all of `data`; throws DeserializeError, and never allocates more than the
//! input can hold.
BlockUndo DeserializeBlockUndo(std::span<const uint8_t> data);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_STORAGE_UNDO_H
