// gettxoutsetinfo's two digests of the UTXO set, byte for byte as Bitcoin
// Core's kernel/coinstats computes them: every coin's TxOutSer fed to one
// SHA256d stream (hash_serialized_3) and inserted into a MuHash3072.
#include <services/node/storage/coin_stats.h>

#include <common/crypto/hash.h>
#include <common/crypto/muhash.h>

namespace orrery::node {

std::vector<uint8_t> TxOutSer(const OutPoint& outpoint, const Coin& coin)
{
    std::vector<uint8_t> out;
    out.reserve(32 + 4 + 4 + 8 + 1 + coin.out.script_pubkey.size() + 4);
    Writer writer{out};
    writer.WriteBytes({outpoint.hash.data(), outpoint.hash.size()});
    writer.WriteU32(outpoint.n);
    writer.WriteU32((coin.height << 1) + (coin.coinbase ? 1U : 0U));
    writer.WriteI64(coin.out.value);
    writer.WriteByteVector(coin.out.script_pubkey);
    return out;
}

struct CoinsHasher::Impl {
    crypto::Sha256Hasher serialized;
    crypto::MuHash3072 muhash;
};

CoinsHasher::CoinsHasher() : m_impl{std::make_unique<Impl>()} {}
CoinsHasher::~CoinsHasher() = default;

void CoinsHasher::Add(const OutPoint& outpoint, const Coin& coin)
{
    const std::vector<uint8_t> ser = TxOutSer(outpoint, coin);
    m_impl->serialized.Write(ser);
    m_impl->muhash.Insert(ser);
}

uint256 CoinsHasher::HashSerialized() const
{
    return uint256(m_impl->serialized.FinalizeDouble());
}

uint256 CoinsHasher::MuHash() const
{
    crypto::MuHash3072 copy = m_impl->muhash; // Finalize folds the denominator in; keep ours untouched
    return uint256(copy.Finalize());
}

} // namespace orrery::node
