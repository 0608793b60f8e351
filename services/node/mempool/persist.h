// mempool.dat in Bitcoin Core's format (kernel/mempool_persist.cpp):
//   u64 version (1: plain; 2: obfuscated)
//   version 2: the XOR key as a byte vector (CompactSize 8, 8 bytes); every
//              byte after it is XORed with key[file position % 8]
//   u64 count, then per transaction: the transaction with witness, i64 entry
//   time, i64 fee delta (prioritisetransaction)
//   the other fee deltas: CompactSize count, then (32-byte txid, i64 delta)
//   the unbroadcast txids: CompactSize count, then 32-byte txids
// Orrery writes version 2 (version 1 with -persistmempoolv1) and reads both.
#ifndef ORRERY_SERVICES_NODE_MEMPOOL_PERSIST_H
#define ORRERY_SERVICES_NODE_MEMPOOL_PERSIST_H

#include <common/consensus/amount.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <vector>

namespace orrery::node {

inline constexpr uint64_t MEMPOOL_DUMP_VERSION_NO_XOR_KEY = 1;
inline constexpr uint64_t MEMPOOL_DUMP_VERSION = 2;

struct MempoolDump {
    uint64_t version{MEMPOOL_DUMP_VERSION};
    std::vector<uint8_t> xor_key; //!< 8 bytes for version 2
    struct Entry {
        Transaction tx;
        int64_t time{0};
        int64_t fee_delta{0};
    };
    std::vector<Entry> txs;
    std::map<uint256, Amount> deltas;
    std::set<uint256> unbroadcast;
};

//! The file's bytes. Version 2 needs an 8-byte key.
std::vector<uint8_t> SerializeMempoolDump(const MempoolDump& dump);
//! Parses a whole file (bytes from disk: untrusted). Throws DeserializeError (or std::runtime_error for an
//! unknown version) on anything malformed, truncated or trailing.
MempoolDump ParseMempoolDump(std::span<const uint8_t> data);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_MEMPOOL_PERSIST_H
