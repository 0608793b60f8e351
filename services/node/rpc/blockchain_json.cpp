// bitcoind's JSON for what the chain RPC methods read: block headers and
// blocks (getblockheader, getblock), chain tips, per-block statistics
// (getblockstats), UTXO set statistics (gettxoutsetinfo) and deployments
// (getdeploymentinfo). Pure functions of the block tree entries and block
// data, so the unit tests check them without a running chainstate.
#include <services/node/rpc/rpc.h>

#include <common/consensus/hex.h>
#include <common/consensus/script.h>
#include <services/node/chain.h>
#include <services/node/rpc/core_json.h>
#include <services/node/validation/block_index.h>
#include <services/node/validation/chainstate.h>

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <limits>

namespace orrery::node {

using rpc::Json;

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

int ParseVerbosity(const Json& value, int default_verbosity, bool allow_bool)
{
    if (value.is_null()) return default_verbosity;
    if (value.is_boolean()) {
        if (!allow_bool) {
            throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "Verbosity was boolean but only integer allowed");
        }
        return value.get<bool>() ? 1 : 0;
    }
    int64_t verbosity = rpc::IntegerArg(value);
    if (verbosity < INT32_MIN || verbosity > INT32_MAX)
        throw rpc::RpcException(rpc::RPC_TYPE_ERROR, "JSON integer out of range");
    return static_cast<int>(verbosity);
}

// ---------------------------------------------------------------------------
// Headers and blocks
// ---------------------------------------------------------------------------

namespace {

//! Core's ComputeNextBlockAndDepth: confirmations of `index` seen from `tip` (-1 off the active chain), and the next
//! block of the active chain after it.
int ConfirmationsAndNext(const BlockIndex& tip, const BlockIndex& index, const BlockIndex*& next)
{
    next = tip.GetAncestor(index.height + 1);
    if (next && next->prev == &index) return tip.height - index.height + 1;
    next = nullptr;
    return &index == &tip ? 1 : -1;
}

} // namespace

Json BlockHeaderToJson(const BlockIndex& tip, const BlockIndex& index)
{
    Json out = Json::object();
    const BlockIndex* next = nullptr;
    int confirmations = ConfirmationsAndNext(tip, index, next);
    out["hash"] = index.hash.GetHex();
    out["confirmations"] = confirmations;
    out["height"] = index.height;
    out["version"] = index.header.version;
    out["versionHex"] = fmt::format("{:08x}", static_cast<uint32_t>(index.header.version));
    out["merkleroot"] = index.header.merkle_root.GetHex();
    out["time"] = index.header.time;
    out["mediantime"] = index.GetMedianTimePast();
    out["nonce"] = index.header.nonce;
    out["bits"] = fmt::format("{:08x}", index.header.bits);
    out["target"] = ArithUint256::FromCompact(index.header.bits).GetHex();
    out["difficulty"] = GetDifficulty(index.header.bits);
    out["chainwork"] = index.chain_work.GetHex();
    out["nTx"] = index.n_tx;
    if (index.prev) out["previousblockhash"] = index.prev->hash.GetHex();
    if (next) out["nextblockhash"] = next->hash.GetHex();
    return out;
}

Json BlockToJson(const Block& block, const BlockIndex& tip, const BlockIndex& index, int verbosity,
                 const BlockUndo* undo, const TxJsonFunction& tx_to_json)
{
    Json out = BlockHeaderToJson(tip, index);
    out["strippedsize"] = GetSerializeSize(block, /*with_witness=*/false);
    out["size"] = GetSerializeSize(block, /*with_witness=*/true);
    out["weight"] = GetBlockWeight(block);
    Json txs = Json::array();
    for (size_t i = 0; i < block.txs.size(); ++i) {
        const Transaction& tx = block.txs[i];
        if (verbosity <= 1 || !tx_to_json) {
            txs.push_back(tx.GetTxid().GetHex());
            continue;
        }
        // The coinbase spends nothing: the undo data starts with the second transaction.
        const TxUndo* tx_undo = (undo && i > 0 && i - 1 < undo->txs.size()) ? &undo->txs[i - 1] : nullptr;
        txs.push_back(tx_to_json(tx, tx_undo, verbosity >= 3));
    }
    out["tx"] = std::move(txs);
    return out;
}

// ---------------------------------------------------------------------------
// Chain tips
// ---------------------------------------------------------------------------

std::string ChainTipStatus(const ActiveChain& chain, const BlockIndex& tip)
{
    if (chain.Contains(&tip)) return "active";
    if (tip.status & BLOCK_FAILED_MASK) return "invalid";
    if (tip.chain_tx == 0) return "headers-only"; // this block's or an ancestor's data is missing
    if (tip.IsValid(BLOCK_VALID_SCRIPTS)) return "valid-fork";
    if (tip.IsValid(BLOCK_VALID_TREE)) return "valid-headers";
    return "unknown";
}

Json ChainTipsToJson(const ActiveChain& chain, std::vector<const BlockIndex*> tips)
{
    // The active tip always counts, even when headers extend it.
    if (chain.Tip() && std::find(tips.begin(), tips.end(), chain.Tip()) == tips.end()) tips.push_back(chain.Tip());
    // Highest first, as bitcoind lists them; equal heights in a stable (hash) order.
    std::sort(tips.begin(), tips.end(), [](const BlockIndex* a, const BlockIndex* b) {
        if (a->height != b->height) return a->height > b->height;
        return a->hash.GetHex() < b->hash.GetHex();
    });
    Json out = Json::array();
    for (const BlockIndex* tip : tips) {
        Json entry = Json::object();
        entry["height"] = tip->height;
        entry["hash"] = tip->hash.GetHex();
        const BlockIndex* fork = chain.FindFork(tip);
        entry["branchlen"] = tip->height - (fork ? fork->height : -1);
        entry["status"] = ChainTipStatus(chain, *tip);
        out.push_back(std::move(entry));
    }
    return out;
}

// ---------------------------------------------------------------------------
// getblockstats
// ---------------------------------------------------------------------------

namespace {

//! The outpoint, height and coinbase flag that each UTXO entry costs beyond its output (Core's PER_UTXO_OVERHEAD:
//! sizeof(COutPoint) + sizeof(uint32_t) + sizeof(bool) = 36 + 4 + 1).
constexpr int64_t PER_UTXO_OVERHEAD = 41;
//! Core's MAX_BLOCK_SERIALIZED_SIZE, the starting minimum of mintxsize.
constexpr int64_t MAX_BLOCK_SERIALIZED_SIZE = 4'000'000;
constexpr int64_t WITNESS_SCALE_FACTOR = 4;

//! Serialized size of an output: value, CompactSize length, script.
int64_t OutputSize(const TxOut& out)
{
    size_t n = out.script_pubkey.size();
    size_t len_size = n < 253 ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
    return static_cast<int64_t>(8 + len_size + n);
}

template <typename T> T TruncatedMedian(std::vector<T>& values)
{
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    size_t n = values.size();
    return n % 2 == 0 ? (values[n / 2 - 1] + values[n / 2]) / 2 : values[n / 2];
}

//! The fee rates at the 10th, 25th, 50th, 75th and 90th percentile of weight (Core's CalculatePercentilesByWeight).
std::array<Amount, 5> PercentilesByWeight(std::vector<std::pair<Amount, int64_t>>& scores, int64_t total_weight)
{
    std::array<Amount, 5> result{};
    if (scores.empty()) return result;
    std::sort(scores.begin(), scores.end());
    const double weights[5] = {total_weight / 10.0, total_weight / 4.0, total_weight / 2.0, (total_weight * 3.0) / 4.0,
                               (total_weight * 9.0) / 10.0};
    size_t next = 0;
    int64_t cumulative = 0;
    for (const auto& [feerate, weight] : scores) {
        cumulative += weight;
        while (next < 5 && cumulative >= weights[next]) result[next++] = feerate;
    }
    for (; next < 5; ++next) result[next] = scores.back().first;
    return result;
}

} // namespace

Json BlockStatsToJson(const Block& block, const BlockUndo& undo, const BlockIndex& index, Amount subsidy,
                      const std::set<std::string>& stats, bool bip30_repeat)
{
    Amount maxfee = 0;
    Amount maxfeerate = 0;
    Amount minfee = MAX_MONEY;
    Amount minfeerate = MAX_MONEY;
    Amount total_out = 0;
    Amount totalfee = 0;
    int64_t inputs = 0;
    int64_t maxtxsize = 0;
    int64_t mintxsize = MAX_BLOCK_SERIALIZED_SIZE;
    int64_t outputs = 0;
    int64_t swtotal_size = 0;
    int64_t swtotal_weight = 0;
    int64_t swtxs = 0;
    int64_t total_size = 0;
    int64_t total_weight = 0;
    int64_t utxos = 0;
    int64_t utxo_size_inc = 0;
    int64_t utxo_size_inc_actual = 0;
    std::vector<Amount> fees;
    std::vector<std::pair<Amount, int64_t>> feerates;
    std::vector<int64_t> txsizes;

    // Every figure is computed whatever the selection; the selection only filters the answer.
    for (size_t i = 0; i < block.txs.size(); ++i) {
        const Transaction& tx = block.txs[i];
        outputs += static_cast<int64_t>(tx.vout.size());
        Amount tx_total_out = 0;
        for (const TxOut& out : tx.vout) {
            tx_total_out += out.value;
            int64_t out_size = OutputSize(out) + PER_UTXO_OVERHEAD;
            utxo_size_inc += out_size;
            // The genesis block's outputs and the repeated BIP30 coinbases never entered the UTXO set.
            if (index.height == 0 || (bip30_repeat && tx.IsCoinbase())) continue;
            if (IsUnspendable(out.script_pubkey)) continue;
            ++utxos;
            utxo_size_inc_actual += out_size;
        }
        if (tx.IsCoinbase()) continue;

        inputs += static_cast<int64_t>(tx.vin.size());
        total_out += tx_total_out;

        int64_t tx_size = static_cast<int64_t>(GetSerializeSize(tx, /*with_witness=*/true));
        txsizes.push_back(tx_size);
        maxtxsize = std::max(maxtxsize, tx_size);
        mintxsize = std::min(mintxsize, tx_size);
        total_size += tx_size;

        int64_t weight = GetTransactionWeight(tx);
        total_weight += weight;

        if (tx.HasWitness()) {
            ++swtxs;
            swtotal_size += tx_size;
            swtotal_weight += weight;
        }

        if (i - 1 >= undo.txs.size()) {
            throw rpc::RpcException(rpc::RPC_INTERNAL_ERROR, "Undo data does not match the block");
        }
        Amount tx_total_in = 0;
        for (const Coin& coin : undo.txs[i - 1].prevouts) {
            tx_total_in += coin.out.value;
            int64_t prevout_size = OutputSize(coin.out) + PER_UTXO_OVERHEAD;
            utxo_size_inc -= prevout_size;
            utxo_size_inc_actual -= prevout_size;
        }
        Amount txfee = tx_total_in - tx_total_out;
        fees.push_back(txfee);
        maxfee = std::max(maxfee, txfee);
        minfee = std::min(minfee, txfee);
        totalfee += txfee;
        Amount feerate = weight ? (txfee * WITNESS_SCALE_FACTOR) / weight : 0; // sat/vB
        feerates.emplace_back(feerate, weight);
        maxfeerate = std::max(maxfeerate, feerate);
        minfeerate = std::min(minfeerate, feerate);
    }

    const int64_t non_coinbase = block.txs.size() > 1 ? static_cast<int64_t>(block.txs.size()) - 1 : 0;
    Json all = Json::object();
    all["avgfee"] = non_coinbase ? totalfee / non_coinbase : 0;
    all["avgfeerate"] = total_weight ? (totalfee * WITNESS_SCALE_FACTOR) / total_weight : 0;
    all["avgtxsize"] = non_coinbase ? total_size / non_coinbase : 0;
    all["blockhash"] = index.hash.GetHex();
    Json percentiles = Json::array();
    for (Amount p : PercentilesByWeight(feerates, total_weight)) percentiles.push_back(p);
    all["feerate_percentiles"] = std::move(percentiles);
    all["height"] = index.height;
    all["ins"] = inputs;
    all["maxfee"] = maxfee;
    all["maxfeerate"] = maxfeerate;
    all["maxtxsize"] = maxtxsize;
    all["medianfee"] = TruncatedMedian(fees);
    all["mediantime"] = index.GetMedianTimePast();
    all["mediantxsize"] = TruncatedMedian(txsizes);
    all["minfee"] = minfee == MAX_MONEY ? 0 : minfee;
    all["minfeerate"] = minfeerate == MAX_MONEY ? 0 : minfeerate;
    all["mintxsize"] = mintxsize == MAX_BLOCK_SERIALIZED_SIZE ? 0 : mintxsize;
    all["outs"] = outputs;
    all["subsidy"] = subsidy;
    all["swtotal_size"] = swtotal_size;
    all["swtotal_weight"] = swtotal_weight;
    all["swtxs"] = swtxs;
    all["time"] = index.GetBlockTime();
    all["total_out"] = total_out;
    all["total_size"] = total_size;
    all["total_weight"] = total_weight;
    all["totalfee"] = totalfee;
    all["txs"] = static_cast<int64_t>(block.txs.size());
    all["utxo_increase"] = outputs - inputs;
    all["utxo_size_inc"] = utxo_size_inc;
    all["utxo_increase_actual"] = utxos - inputs;
    all["utxo_size_inc_actual"] = utxo_size_inc_actual;

    if (stats.empty()) return all;
    Json selected = Json::object();
    for (const std::string& stat : stats) { // std::set: alphabetical, as bitcoind answers
        auto it = all.find(stat);
        if (it == all.end()) {
            throw rpc::RpcException(rpc::RPC_INVALID_PARAMETER, fmt::format("Invalid selected statistic '{}'", stat));
        }
        selected[stat] = *it;
    }
    return selected;
}

// ---------------------------------------------------------------------------
// gettxoutsetinfo
// ---------------------------------------------------------------------------

std::optional<CoinsHashType> ParseCoinsHashType(const std::string& name)
{
    if (name == "hash_serialized_3") return CoinsHashType::HASH_SERIALIZED;
    if (name == "muhash") return CoinsHashType::MUHASH;
    if (name == "none") return CoinsHashType::NONE;
    return std::nullopt;
}

Json CoinsStatsToJson(const CoinsStats& stats, CoinsHashType hash_type)
{
    Json out = Json::object();
    out["height"] = stats.height;
    out["bestblock"] = stats.best_block.GetHex();
    out["txouts"] = stats.txouts;
    out["bogosize"] = stats.bogosize;
    if (hash_type == CoinsHashType::HASH_SERIALIZED) out["hash_serialized_3"] = stats.hash_serialized.GetHex();
    if (hash_type == CoinsHashType::MUHASH) out["muhash"] = stats.muhash.GetHex();
    out["total_amount"] = ValueFromAmount(stats.total_amount);
    out["transactions"] = stats.transactions;
    out["disk_size"] = stats.disk_size;
    return out;
}

// ---------------------------------------------------------------------------
// getdeploymentinfo
// ---------------------------------------------------------------------------

namespace {

//! One BIP9 deployment as Core's SoftForkDescPushBack shows it: "status" is the state of `index` itself,
//! "status_next" that of the block after it; bit, statistics and signalling only while blocks signal.
Json Bip9DeploymentToJson(const BlockIndex& index, const ConsensusParams& params, DeploymentPos pos,
                          VersionBitsCache& versionbits)
{
    const Bip9Deployment& deployment = DeploymentParams(params, pos);
    const ThresholdState next = versionbits.State(&index, params, pos);
    const ThresholdState current = versionbits.State(index.prev, params, pos);
    const bool signalling = current == ThresholdState::STARTED || current == ThresholdState::LOCKED_IN;

    Json bip9 = Json::object();
    if (signalling) bip9["bit"] = deployment.bit;
    bip9["start_time"] = deployment.start_time;
    bip9["timeout"] = deployment.timeout;
    bip9["min_activation_height"] = deployment.min_activation_height;
    bip9["status"] = ThresholdStateName(current);
    bip9["since"] = versionbits.StateSinceHeight(index.prev, params, pos);
    bip9["status_next"] = ThresholdStateName(next);
    if (signalling) {
        std::vector<bool> signals;
        const Bip9Stats stats = GetStateStatistics(&index, deployment, &signals);
        Json statistics = Json::object();
        statistics["period"] = stats.period;
        statistics["elapsed"] = stats.elapsed;
        statistics["count"] = stats.count;
        if (current != ThresholdState::LOCKED_IN) { // once locked in, counting no longer matters
            statistics["threshold"] = stats.threshold;
            statistics["possible"] = stats.possible;
        }
        bip9["statistics"] = std::move(statistics);
        std::string marks;
        for (bool signalled : signals) marks.push_back(signalled ? '#' : '-');
        bip9["signalling"] = std::move(marks);
    }

    Json entry = Json::object();
    entry["type"] = "bip9";
    if (next == ThresholdState::ACTIVE) entry["height"] = versionbits.StateSinceHeight(&index, params, pos);
    entry["active"] = next == ThresholdState::ACTIVE;
    entry["bip9"] = std::move(bip9);
    return entry;
}

} // namespace

Json DeploymentsToJson(const BlockIndex& index, const ConsensusParams& params, VersionBitsCache& versionbits)
{
    // "active" describes the rules for the block after `index`, as bitcoind reports it.
    const int next_height = index.height + 1;
    Json out = Json::object();
    static constexpr std::array<std::pair<BuriedDeployment, const char*>, 5> BURIED{{
        {BuriedDeployment::HEIGHTINCB, "bip34"},
        {BuriedDeployment::DERSIG, "bip66"},
        {BuriedDeployment::CLTV, "bip65"},
        {BuriedDeployment::CSV, "csv"},
        {BuriedDeployment::SEGWIT, "segwit"},
    }};
    for (const auto& [deployment, name] : BURIED) {
        int height = params.DeploymentHeight(deployment);
        if (height == std::numeric_limits<int>::max()) continue; // disabled on this network (-testactivationheight)
        Json entry = Json::object();
        entry["type"] = "buried";
        entry["active"] = next_height >= height;
        entry["height"] = height;
        out[name] = std::move(entry);
    }
    for (DeploymentPos pos : ALL_DEPLOYMENTS) {
        const Bip9Deployment& deployment = DeploymentParams(params, pos);
        if (deployment.start_time == Bip9Deployment::NEVER_ACTIVE) continue; // not deployed on this network
        out[std::string(DeploymentName(pos))] = Bip9DeploymentToJson(index, params, pos, versionbits);
    }
    return out;
}

} // namespace orrery::node
