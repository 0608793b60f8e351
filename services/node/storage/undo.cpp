// Undo records in Core's disk form (CTxUndo/CBlockUndo with TxInUndoFormatter).
#include <services/node/storage/undo.h>

#include <limits>

namespace orrery::node {

namespace {

//! The fewest bytes one spent coin takes: its code, its amount and a script type, one byte each.
constexpr size_t MIN_UNDO_COIN_SIZE = 3;

void WriteUndoCoin(Writer& writer, const Coin& coin)
{
    WriteVarInt(writer, uint64_t{coin.height} * 2 + (coin.coinbase ? 1 : 0));
    // Core keeps a dummy byte where old versions stored the transaction version.
    if (coin.height > 0) writer.WriteU8(0);
    WriteVarInt(writer, CompressAmount(uint64_t(coin.out.value)));
    WriteCompressedScript(writer, coin.out.script_pubkey);
}

Coin ReadUndoCoin(SpanReader& reader)
{
    Coin coin;
    const uint64_t code = ReadVarInt(reader, uint64_t{std::numeric_limits<uint32_t>::max()});
    coin.height = uint32_t(code >> 1);
    coin.coinbase = (code & 1) != 0;
    if (coin.height > 0) (void)ReadVarInt(reader, uint64_t{std::numeric_limits<uint32_t>::max()});
    const size_t amount_at = reader.Position();
    const uint64_t value = DecompressAmount(ReadVarInt(reader));
    if (value > uint64_t(std::numeric_limits<int64_t>::max())) reader.Fail(amount_at, "coin amount out of range");
    coin.out.value = Amount(value);
    coin.out.script_pubkey = ReadCompressedScript(reader);
    return coin;
}

} // namespace

std::vector<uint8_t> SerializeBlockUndo(const BlockUndo& undo)
{
    std::vector<uint8_t> out;
    Writer writer(out);
    writer.WriteCompactSize(undo.txs.size());
    for (const TxUndo& tx : undo.txs) {
        writer.WriteCompactSize(tx.prevouts.size());
        for (const Coin& coin : tx.prevouts) WriteUndoCoin(writer, coin);
    }
    return out;
}

BlockUndo DeserializeBlockUndo(std::span<const uint8_t> data)
{
    SpanReader reader(data);
    BlockUndo undo;
    const size_t tx_count = reader.ReadCount(1, "undo transaction count");
    undo.txs.reserve(tx_count);
    for (size_t i = 0; i < tx_count; ++i) {
        TxUndo& tx = undo.txs.emplace_back();
        const size_t coin_count = reader.ReadCount(MIN_UNDO_COIN_SIZE, "undo coin count");
        tx.prevouts.reserve(coin_count);
        for (size_t j = 0; j < coin_count; ++j) tx.prevouts.push_back(ReadUndoCoin(reader));
    }
    reader.ExpectEnd("block undo");
    return undo;
}

} // namespace orrery::node
