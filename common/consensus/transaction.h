// Transactions: the plain data types, their ids, and the wire format
// including BIP144 witness serialization. The structs are plain aggregates
// with public members (like Core's CMutableTransaction); ids are computed on
// demand, so compute them once when a hot path needs them repeatedly.
#ifndef ORRERY_COMMON_CONSENSUS_TRANSACTION_H
#define ORRERY_COMMON_CONSENSUS_TRANSACTION_H

#include <common/consensus/amount.h>
#include <common/consensus/script.h>
#include <common/consensus/serialize.h>
#include <common/consensus/uint256.h>

#include <compare>
#include <cstdint>
#include <span>
#include <vector>

namespace orrery {

struct OutPoint {
    static constexpr uint32_t NULL_INDEX = 0xffffffff;

    uint256 hash;
    uint32_t n{NULL_INDEX};

    //! The null outpoint (zero hash, index 0xffffffff) marks a coinbase input.
    bool IsNull() const { return hash.IsNull() && n == NULL_INDEX; }
    friend bool operator==(const OutPoint&, const OutPoint&) = default;
    friend auto operator<=>(const OutPoint&, const OutPoint&) = default;
};

struct TxIn {
    OutPoint prevout;
    Script script_sig;
    uint32_t sequence{0xffffffff};
    //! Witness stack (BIP141); empty when the input has no witness.
    std::vector<std::vector<uint8_t>> witness;

    friend bool operator==(const TxIn&, const TxIn&) = default;
};

struct TxOut {
    Amount value{-1};
    Script script_pubkey;

    friend bool operator==(const TxOut&, const TxOut&) = default;
};

struct Transaction {
    int32_t version{2};
    std::vector<TxIn> vin;
    std::vector<TxOut> vout;
    uint32_t lock_time{0};

    //! Double SHA-256 of the serialization without witness.
    uint256 GetTxid() const;
    //! Double SHA-256 of the serialization with witness (equals the txid when
    //! there is no witness).
    uint256 GetWtxid() const;
    //! True if any input carries a non-empty witness stack.
    bool HasWitness() const;
    //! Exactly one input, and it spends the null outpoint.
    bool IsCoinbase() const { return vin.size() == 1 && vin[0].prevout.IsNull(); }

    friend bool operator==(const Transaction&, const Transaction&) = default;
};

//! Wire form. With with_witness and a witness present this is the BIP144
//! extended form (marker 0x00, flag 0x01); otherwise the legacy form.
std::vector<uint8_t> SerializeTransaction(const Transaction& tx, bool with_witness = true);
//! Parses exactly one transaction occupying all of data; throws
//! DeserializeError on malformed, truncated or trailing input. With
//! allow_witness the BIP144 form is recognised exactly as Core does: an empty
//! input vector followed by a non-zero flag byte starts the extended form, a
//! flag other than 1 is rejected, and a witness section whose stacks are all
//! empty is rejected ("superfluous witness record").
Transaction DeserializeTransaction(std::span<const uint8_t> data, bool allow_witness = true);

//! Streaming forms, for transactions embedded in larger messages.
void WriteTransaction(Writer& writer, const Transaction& tx, bool with_witness = true);
Transaction ReadTransaction(SpanReader& reader, bool allow_witness = true);

//! Serialized size without allocating.
size_t GetSerializeSize(const Transaction& tx, bool with_witness = true);
//! BIP141 weight: 3 * size without witness + size with witness.
int64_t GetTransactionWeight(const Transaction& tx);
//! Virtual size in vbytes: weight / 4 rounded up.
int64_t GetVirtualSize(const Transaction& tx);
//! Sum of output values; the caller checks range (see CheckTransaction).
Amount GetValueOut(const Transaction& tx);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_TRANSACTION_H
