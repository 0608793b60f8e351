// The node's chain view; see chain.h.
#include <services/node/chain.h>

#include <common/consensus/pow.h>

#include <algorithm>
#include <charconv>

namespace orrery::node {
namespace {

//! What Core's chainTxData says about each network, for the verification
//! progress estimate: a time, the transactions up to it, and the rate after it.
//! Rounded figures of the kind Core ships; they only scale an estimate.
struct TxData {
    int64_t time{0};
    double tx_count{0};
    double tx_rate{0};
};

TxData GetTxData(ChainType chain)
{
    switch (chain) {
    case ChainType::MAIN:
        return {1726803275, 1103067964, 6.54};
    case ChainType::TESTNET:
        return {1726932234, 152000000, 2.0};
    case ChainType::TESTNET4:
        return {1727000000, 8000000, 0.25};
    case ChainType::SIGNET:
        return {1726700000, 3000000, 0.02};
    case ChainType::REGTEST:
        return {};
    }
    return {};
}

} // namespace

double GetDifficulty(uint32_t bits)
{
    int shift = static_cast<int>((bits >> 24) & 0xff);
    double difficulty = static_cast<double>(0x0000ffff) / static_cast<double>(bits & 0x00ffffff);
    for (; shift < 29; ++shift) difficulty *= 256.0;
    for (; shift > 29; --shift) difficulty /= 256.0;
    return difficulty;
}

int64_t ClientVersionNumber(std::string_view version)
{
    int64_t parts[3] = {0, 0, 0};
    const char* p = version.data();
    const char* end = version.data() + version.size();
    for (int i = 0; i < 3 && p < end; ++i) {
        auto [next, ec] = std::from_chars(p, end, parts[i]);
        if (ec != std::errc{}) break;
        p = next;
        if (p < end && *p == '.') ++p;
    }
    return 10000 * parts[0] + 100 * parts[1] + parts[2];
}

std::string UserAgent()
{
    return std::string("/Orrery:") + ORRERY_VERSION + "/";
}

Chain::Chain(const ChainParams& params) : m_params(params), m_tip_work(GetBlockProof(params.genesis.bits)) {}

std::optional<uint256> Chain::HashAt(int64_t height) const
{
    if (height < 0 || height > Height()) return std::nullopt;
    return TipHash(); // the chain is its genesis alone for now
}

BlockchainInfo Chain::GetBlockchainInfo(int64_t now, int64_t size_on_disk) const
{
    BlockchainInfo info;
    info.chain = Name();
    info.blocks = Height();
    info.headers = Height();
    info.best_block_hash = TipHash().GetHex();
    info.difficulty = GetDifficulty(Tip().bits);
    info.time = Tip().GetBlockTime();
    // The median of the last eleven block times; the genesis alone is its own median.
    info.median_time = Tip().GetBlockTime();
    // Core's GuessVerificationProgress with the tip's transaction count.
    const double chain_tx = 1; // the genesis coinbase
    TxData data = GetTxData(m_params.type);
    double total = chain_tx <= data.tx_count
                       ? data.tx_count + static_cast<double>(now - data.time) * data.tx_rate
                       : chain_tx + static_cast<double>(now - Tip().GetBlockTime()) * data.tx_rate;
    info.verification_progress = total > 0 ? std::min(chain_tx / total, 1.0) : 0.0;
    info.initial_block_download = true;
    info.chain_work = TipChainWork().GetHex();
    info.size_on_disk = size_on_disk;
    info.pruned = false;
    return info;
}

} // namespace orrery::node
