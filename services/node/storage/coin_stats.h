// The two UTXO set digests of gettxoutsetinfo, computed as Bitcoin Core
// computes them so that two implementations can compare their sets:
// hash_serialized_3 (SHA256d over each coin's TxOutSer in database key order)
// and MuHash3072 (order-independent; Core's "muhash" hash_type).
#ifndef ORRERY_SERVICES_NODE_STORAGE_COIN_STATS_H
#define ORRERY_SERVICES_NODE_STORAGE_COIN_STATS_H

#include <common/consensus/uint256.h>
#include <services/node/storage/coins.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace orrery::node {

//! Core's TxOutSer: outpoint, uint32 (height * 2 + coinbase), the output in wire form.
std::vector<uint8_t> TxOutSer(const OutPoint& outpoint, const Coin& coin);

//! Feed every coin of the set, in CoinsDB key order (CoinsDB::ForEachCoin's order).
class CoinsHasher
{
public:
    CoinsHasher();
    ~CoinsHasher();
    void Add(const OutPoint& outpoint, const Coin& coin);
    //! hash_serialized_3, in uint256 storage order (GetHex() prints what Core prints).
    uint256 HashSerialized() const;
    //! MuHash3072 finalized to 32 bytes, in uint256 storage order (GetHex() prints what Core prints).
    uint256 MuHash() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_STORAGE_COIN_STATS_H
