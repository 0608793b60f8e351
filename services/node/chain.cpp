// getblockchaininfo's figures and the version helpers; see chain.h.
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

double GuessVerificationProgress(ChainType chain, const BlockIndex* tip, int64_t now)
{
    if (tip == nullptr) return 0.0;
    const TxData data = GetTxData(chain);
    const double chain_tx = static_cast<double>(tip->chain_tx);
    const double total = chain_tx <= data.tx_count
                             ? data.tx_count + static_cast<double>(now - data.time) * data.tx_rate
                             : chain_tx + static_cast<double>(now - tip->GetBlockTime()) * data.tx_rate;
    return total > 0 ? std::min(chain_tx / total, 1.0) : 0.0;
}

BlockchainInfo GetBlockchainInfo(const ChainstateManager& chainstate, int64_t now)
{
    BlockchainInfo info;
    const ChainParams& params = chainstate.Params();
    info.chain = ChainTypeToString(params.type);
    const uint64_t size_on_disk = chainstate.SizeOnDisk();
    auto lock = chainstate.Lock();
    const BlockIndex* tip = chainstate.Tip();
    const BlockIndex* best_header = chainstate.BestHeader();
    info.blocks = chainstate.Height();
    info.headers = best_header ? best_header->height : -1;
    if (tip != nullptr) {
        info.best_block_hash = tip->hash.GetHex();
        info.difficulty = GetDifficulty(tip->header.bits);
        info.time = tip->GetBlockTime();
        info.median_time = tip->GetMedianTimePast();
        info.chain_work = tip->chain_work.GetHex();
    }
    info.verification_progress = GuessVerificationProgress(params.type, tip, now);
    info.initial_block_download = chainstate.IsInitialBlockDownload();
    info.size_on_disk = static_cast<int64_t>(size_on_disk);
    info.pruned = chainstate.IsPruned();
    if (info.pruned) {
        info.prune_height = chainstate.PruneHeight();
        const uint64_t target = chainstate.Options().prune_target_bytes;
        info.automatic_pruning = target > 1;
        if (info.automatic_pruning) info.prune_target_size = static_cast<int64_t>(target);
    }
    return info;
}

} // namespace orrery::node
