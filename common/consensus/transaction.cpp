// Transaction wire format (legacy and BIP144) and ids.
#include <common/consensus/transaction.h>

#include <common/consensus/consensus.h>
#include <common/crypto/hash.h>

namespace orrery {

namespace {

// Smallest possible encodings, used to bound counts before reserving:
// an input is 32 + 4 + 1 + 4 bytes, an output 8 + 1, a witness item 1.
constexpr size_t kMinTxInSize = 41;
constexpr size_t kMinTxOutSize = 9;

uint256 HashToUint256(const crypto::Hash32& h) { return uint256{h}; }

void ReadInputs(SpanReader& reader, std::vector<TxIn>& vin)
{
    const size_t count = reader.ReadCount(kMinTxInSize, "input count");
    vin.clear();
    vin.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        TxIn& in = vin.emplace_back();
        reader.ReadInto(std::span<uint8_t>(in.prevout.hash.data(), uint256::kSize), "prevout hash");
        in.prevout.n = reader.ReadU32();
        in.script_sig = reader.ReadByteVector("scriptSig");
        in.sequence = reader.ReadU32();
    }
}

void ReadOutputs(SpanReader& reader, std::vector<TxOut>& vout)
{
    const size_t count = reader.ReadCount(kMinTxOutSize, "output count");
    vout.clear();
    vout.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        TxOut& out = vout.emplace_back();
        out.value = reader.ReadI64();
        out.script_pubkey = reader.ReadByteVector("scriptPubKey");
    }
}

void ReadWitness(SpanReader& reader, std::vector<std::vector<uint8_t>>& stack)
{
    const size_t count = reader.ReadCount(1, "witness item count");
    stack.clear();
    stack.reserve(count);
    for (size_t i = 0; i < count; ++i) stack.push_back(reader.ReadByteVector("witness item"));
}

} // namespace

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

Transaction ReadTransaction(SpanReader& reader, bool allow_witness)
{
    // Mirrors Core's UnserializeTransaction step by step: the ambiguity
    // between an empty input vector and the BIP144 marker is resolved the
    // same way, so both implementations accept exactly the same byte strings.
    Transaction tx;
    const size_t start = reader.Position();
    tx.version = reader.ReadI32();
    uint8_t flags = 0;
    ReadInputs(reader, tx.vin);
    if (tx.vin.empty() && allow_witness) {
        // Either the BIP144 marker or a genuinely empty input vector.
        flags = reader.ReadU8();
        if (flags != 0) {
            ReadInputs(reader, tx.vin);
            ReadOutputs(reader, tx.vout);
        }
    } else {
        ReadOutputs(reader, tx.vout);
    }
    if ((flags & 1) && allow_witness) {
        flags ^= 1;
        for (TxIn& in : tx.vin) ReadWitness(reader, in.witness);
        if (!tx.HasWitness()) reader.Fail(start, "superfluous witness record (all witness stacks empty) in transaction");
    }
    if (flags != 0) reader.Fail(start, "unknown transaction optional data (witness flag " + std::to_string(flags) + ")");
    tx.lock_time = reader.ReadU32();
    return tx;
}

Transaction DeserializeTransaction(std::span<const uint8_t> data, bool allow_witness)
{
    SpanReader reader(data);
    Transaction tx = ReadTransaction(reader, allow_witness);
    reader.ExpectEnd("transaction");
    return tx;
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

void WriteTransaction(Writer& writer, const Transaction& tx, bool with_witness)
{
    const bool witness = with_witness && tx.HasWitness();
    writer.WriteI32(tx.version);
    if (witness) {
        writer.WriteU8(0x00); // marker: what a legacy parser sees as "no inputs"
        writer.WriteU8(0x01); // flag
    }
    writer.WriteCompactSize(tx.vin.size());
    for (const TxIn& in : tx.vin) {
        writer.WriteBytes(in.prevout.hash);
        writer.WriteU32(in.prevout.n);
        writer.WriteByteVector(in.script_sig);
        writer.WriteU32(in.sequence);
    }
    writer.WriteCompactSize(tx.vout.size());
    for (const TxOut& out : tx.vout) {
        writer.WriteI64(out.value);
        writer.WriteByteVector(out.script_pubkey);
    }
    if (witness) {
        for (const TxIn& in : tx.vin) {
            writer.WriteCompactSize(in.witness.size());
            for (const auto& item : in.witness) writer.WriteByteVector(item);
        }
    }
    writer.WriteU32(tx.lock_time);
}

std::vector<uint8_t> SerializeTransaction(const Transaction& tx, bool with_witness)
{
    std::vector<uint8_t> out;
    out.reserve(GetSerializeSize(tx, with_witness));
    Writer writer(out);
    WriteTransaction(writer, tx, with_witness);
    return out;
}

size_t GetSerializeSize(const Transaction& tx, bool with_witness)
{
    const bool witness = with_witness && tx.HasWitness();
    size_t size = 4 + 4; // version, lock time
    if (witness) size += 2;
    size += CompactSizeLength(tx.vin.size());
    for (const TxIn& in : tx.vin) {
        size += 32 + 4 + CompactSizeLength(in.script_sig.size()) + in.script_sig.size() + 4;
        if (witness) {
            size += CompactSizeLength(in.witness.size());
            for (const auto& item : in.witness) size += CompactSizeLength(item.size()) + item.size();
        }
    }
    size += CompactSizeLength(tx.vout.size());
    for (const TxOut& out : tx.vout) {
        size += 8 + CompactSizeLength(out.script_pubkey.size()) + out.script_pubkey.size();
    }
    return size;
}

// ---------------------------------------------------------------------------
// Ids and measures
// ---------------------------------------------------------------------------

bool Transaction::HasWitness() const
{
    for (const TxIn& in : vin) {
        if (!in.witness.empty()) return true;
    }
    return false;
}

uint256 Transaction::GetTxid() const
{
    return HashToUint256(crypto::Sha256d(SerializeTransaction(*this, /*with_witness=*/false)));
}

uint256 Transaction::GetWtxid() const
{
    if (!HasWitness()) return GetTxid();
    return HashToUint256(crypto::Sha256d(SerializeTransaction(*this, /*with_witness=*/true)));
}

int64_t GetTransactionWeight(const Transaction& tx)
{
    return int64_t(GetSerializeSize(tx, false)) * (WITNESS_SCALE_FACTOR - 1) +
           int64_t(GetSerializeSize(tx, true));
}

int64_t GetVirtualSize(const Transaction& tx)
{
    return (GetTransactionWeight(tx) + WITNESS_SCALE_FACTOR - 1) / WITNESS_SCALE_FACTOR;
}

Amount GetValueOut(const Transaction& tx)
{
    Amount total = 0;
    for (const TxOut& out : tx.vout) total += out.value;
    return total;
}

} // namespace orrery
