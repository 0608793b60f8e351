// Applying and reverting one block on a coins view (Core's ConnectBlock and
// DisconnectBlock): BIP30, inputs, coinbase maturity, amounts, sequence locks,
// sigop cost, subsidy, scripts on the -par pool, and the undo data.
#include <services/node/validation/chainstate_impl.h>

#include <common/consensus/amount.h>
#include <common/consensus/consensus.h>
#include <common/consensus/locktime.h>
#include <common/consensus/pow.h>
#include <common/consensus/script.h>
#include <common/script/sigops.h>
#include <common/util/logging.h>

namespace orrery::node {

namespace {

//! The two main-net blocks whose coinbases duplicate earlier ones (Core's IsBIP30Exception list).
bool IsBip30Exception(const BlockIndex* entry)
{
    static const uint256 first = *uint256::FromHex("00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec");
    static const uint256 second = *uint256::FromHex("00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721");
    return (entry->height == 91842 && entry->hash == first) || (entry->height == 91880 && entry->hash == second);
}

//! Core's BIP34_IMPLIES_BIP30_LIMIT: from this height BIP34 no longer rules out duplicate coinbases.
constexpr int BIP34_IMPLIES_BIP30_LIMIT = 1983702;

//! Seconds of work at `tip`'s difficulty between two entries (Core's GetBlockProofEquivalentTime).
int64_t ProofEquivalentTime(const BlockIndex& to, const BlockIndex& from, const BlockIndex& tip,
                            const ConsensusParams& params)
{
    ArithUint256 r;
    int sign = 1;
    if (to.chain_work > from.chain_work) {
        r = to.chain_work - from.chain_work;
    } else {
        r = from.chain_work - to.chain_work;
        sign = -1;
    }
    const ArithUint256 proof = GetBlockProof(tip.header.bits);
    if (proof == ArithUint256{}) return 0;
    r = r * static_cast<uint64_t>(params.pow_target_spacing) / proof;
    if (r > ArithUint256{uint64_t{INT64_MAX}}) return sign * INT64_MAX;
    return sign * static_cast<int64_t>(r.GetLow64());
}

//! Core's FormatMoney: whole coins, a point, then the satoshis without trailing zeros (two digits at least).
std::string FormatAmount(Amount amount)
{
    const bool negative = amount < 0;
    const uint64_t abs = negative ? uint64_t(0) - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
    std::string text = fmt::format("{}{}.{:08}", negative ? "-" : "", abs / COIN, abs % COIN);
    while (text.size() > 3 && text.back() == '0' && text[text.size() - 3] != '.') text.pop_back();
    return text;
}

} // namespace

bool ChainstateManager::Impl::AssumeValid(const BlockIndex* entry) const
{
    if (!options.assume_valid || best_header == nullptr) return false;
    const BlockIndex* assumed = Lookup(*options.assume_valid);
    if (assumed == nullptr || entry->hash == *options.assume_valid) return false;
    if (assumed->GetAncestor(entry->height) != entry) return false;
    if (best_header->GetAncestor(entry->height) != entry) return false;
    // Core also wants the block to be two weeks of work below the best header.
    return ProofEquivalentTime(*best_header, *entry, *best_header, consensus) > 60 * 60 * 24 * 7 * 2;
}

bool ChainstateManager::Impl::ConnectBlock(const Block& block, ValidationState& state, BlockIndex* entry,
                                           CoinsCache& view, bool just_check)
{
    if (!CheckBlock(block, state, consensus, !just_check, !just_check)) {
        if (state.GetFailure() == BlockFailure::MUTATED) return false;
        return false;
    }
    const uint256 prev_hash = entry->prev ? entry->prev->hash : uint256{};
    if (view.GetBestBlock() != prev_hash) {
        return state.Invalid("bad-prevblk", "the coins view is not at the block's parent");
    }
    if (entry->hash == consensus.genesis_hash) {
        if (!just_check) view.SetBestBlock(entry->hash);
        return true;
    }

    const bool script_checks = !AssumeValid(entry);

    bool enforce_bip30 = !IsBip30Exception(entry);
    if (const BlockIndex* bip34_block = entry->prev->GetAncestor(consensus.bip34_height);
        bip34_block != nullptr && bip34_block->hash == consensus.bip34_hash) {
        enforce_bip30 = false;
    }
    // Each transaction's id once (hashing it is not free, and it is needed three times below).
    std::vector<uint256> txids(block.txs.size());
    size_t input_count = 0;
    for (size_t i = 0; i < block.txs.size(); ++i) {
        txids[i] = block.txs[i].GetTxid();
        if (i > 0) input_count += block.txs[i].vin.size();
    }
    if (enforce_bip30 || entry->height >= BIP34_IMPLIES_BIP30_LIMIT) {
        for (size_t i = 0; i < block.txs.size(); ++i) {
            const Transaction& tx = block.txs[i];
            const uint256& txid = txids[i];
            for (uint32_t o = 0; o < tx.vout.size(); ++o) {
                if (view.HaveCoin(OutPoint{txid, o})) {
                    return state.Invalid("bad-txns-BIP30", "tried to overwrite transaction");
                }
            }
        }
    }

    const uint32_t flags = ScriptFlagsFor(entry->prev, entry->hash);
    const bool enforce_bip68 = consensus.DeploymentActiveAt(entry->height, BuriedDeployment::CSV);
    const int64_t prev_mtp = entry->prev->GetMedianTimePast();

    BlockUndo undo;
    undo.txs.reserve(block.txs.size() > 0 ? block.txs.size() - 1 : 0);
    // Precomputed data and checks must not move while the pool reads them: both are sized for the whole block
    // before the first check is published, and the control below is destroyed (waiting for the pool) first.
    std::vector<PrecomputedTransactionData> txdata(block.txs.size());
    std::vector<ScriptCheck> checks;
    std::vector<size_t> check_tx; // the transaction of each check, for the error message
    if (script_checks) {
        checks.reserve(input_count);
        check_tx.reserve(input_count);
    }
    // The pool verifies each transaction's inputs while this thread goes on with the next transactions.
    ScriptCheckControl control(*script_queue, checks);
    Amount fees = 0;
    int64_t sigops_cost = 0;
    std::vector<int> prev_heights;
    std::vector<int64_t> prev_mtps;

    for (size_t i = 0; i < block.txs.size(); ++i) {
        const Transaction& tx = block.txs[i];
        const uint256& txid = txids[i];
        std::vector<TxOut> spent;
        if (!tx.IsCoinbase()) {
            spent.reserve(tx.vin.size());
            Amount value_in = 0;
            prev_heights.assign(tx.vin.size(), 0);
            for (size_t j = 0; j < tx.vin.size(); ++j) {
                const Coin& coin = view.AccessCoin(tx.vin[j].prevout);
                if (coin.IsSpent()) {
                    return state.Invalid("bad-txns-inputs-missingorspent",
                                         "CheckTxInputs: inputs missing/spent in transaction " + txid.GetHex());
                }
                if (coin.coinbase && entry->height - static_cast<int>(coin.height) < COINBASE_MATURITY) {
                    return state.Invalid("bad-txns-premature-spend-of-coinbase",
                                         fmt::format("tried to spend coinbase at depth {}",
                                                     entry->height - static_cast<int>(coin.height)));
                }
                value_in += coin.out.value;
                if (!MoneyRange(coin.out.value) || !MoneyRange(value_in)) {
                    return state.Invalid("bad-txns-inputvalues-outofrange");
                }
                prev_heights[j] = static_cast<int>(coin.height);
                spent.push_back(coin.out);
            }
            const Amount value_out = GetValueOut(tx);
            if (value_in < value_out) {
                return state.Invalid(
                    "bad-txns-in-belowout",
                    fmt::format("value in ({}) < value out ({})", FormatAmount(value_in), FormatAmount(value_out)));
            }
            const Amount fee = value_in - value_out;
            if (!MoneyRange(fee)) return state.Invalid("bad-txns-fee-outofrange");
            fees += fee;
            if (!MoneyRange(fees)) {
                return state.Invalid("bad-txns-accumulated-fee-outofrange",
                                     "accumulated fee in the block out of range");
            }
            // Only a time-based relative lock reads the median time past of the coin's block's parent (see
            // CalculateSequenceLocks); the others leave it 0 and skip the ancestor walk.
            prev_mtps.assign(tx.vin.size(), 0);
            const bool relative_locks = enforce_bip68 && static_cast<uint32_t>(tx.version) >= 2;
            for (size_t j = 0; relative_locks && j < tx.vin.size(); ++j) {
                const uint32_t sequence = tx.vin[j].sequence;
                if ((sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) || !(sequence & SEQUENCE_LOCKTIME_TYPE_FLAG)) continue;
                const BlockIndex* created = entry->prev->GetAncestor(std::max(prev_heights[j] - 1, 0));
                prev_mtps[j] = created ? created->GetMedianTimePast() : 0;
            }
            if (!SequenceLocks(tx, enforce_bip68, prev_heights, prev_mtps, entry->height, prev_mtp)) {
                return state.Invalid("bad-txns-nonfinal", "contains a non-BIP68-final transaction");
            }
        }
        sigops_cost += GetTransactionSigOpCost(tx, spent, flags);
        if (sigops_cost > MAX_BLOCK_SIGOPS_COST) return state.Invalid("bad-blk-sigops", "too many sigops");

        if (!tx.IsCoinbase()) {
            if (script_checks) {
                // The spent outputs move into the precomputed data, where the checks read them.
                txdata[i].Init(tx, std::move(spent));
                const std::vector<TxOut>& outputs = txdata[i].m_spent_outputs;
                for (size_t j = 0; j < tx.vin.size(); ++j) {
                    checks.push_back(ScriptCheck{&tx, static_cast<uint32_t>(j), &outputs[j], flags, &txdata[i]});
                    check_tx.push_back(i);
                }
                control.Publish(checks.size());
            }
            TxUndo& tx_undo = undo.txs.emplace_back();
            tx_undo.prevouts.resize(tx.vin.size());
            for (size_t j = 0; j < tx.vin.size(); ++j) view.SpendCoin(tx.vin[j].prevout, &tx_undo.prevouts[j]);
        }
        view.AddTransactionCoins(tx, txid, static_cast<uint32_t>(entry->height), false);
    }

    const Amount reward = fees + GetBlockSubsidy(entry->height, consensus);
    if (GetValueOut(block.txs[0]) > reward) {
        return state.Invalid("bad-cb-amount", fmt::format("coinbase pays too much (actual={} vs limit={})",
                                                          GetValueOut(block.txs[0]), reward));
    }

    if (auto failure = control.Finish()) {
        const auto& [n, error] = *failure;
        return state.Invalid(
            fmt::format("mandatory-script-verify-flag-failed ({})", ScriptErrorString(error)),
            fmt::format("input {} of transaction {}", checks[n].n_in, block.txs[check_tx[n]].GetTxid().GetHex()));
    }
    if (just_check) return true;

    if (!(entry->status & BLOCK_HAVE_UNDO)) {
        entry->undo_pos = files->WriteUndo(undo, prev_hash, entry->data_pos.file);
        entry->status |= BLOCK_HAVE_UNDO;
        dirty_index.insert(entry);
    }
    RaiseValidity(entry, BLOCK_VALID_SCRIPTS);
    view.SetBestBlock(entry->hash);
    return true;
}

DisconnectResult ChainstateManager::Impl::DisconnectBlock(const Block& block, const BlockIndex* entry, CoinsCache& view)
{
    bool clean = true;
    const BlockUndo undo = ReadUndoAt(entry);
    if (undo.txs.size() + 1 != block.txs.size()) {
        LogPrintf("DisconnectBlock(): block and undo data inconsistent at {}", entry->hash.GetHex());
        return DisconnectResult::FAILED;
    }
    const bool bip30_exception = IsBip30Exception(entry);
    for (size_t i = block.txs.size(); i-- > 0;) {
        const Transaction& tx = block.txs[i];
        const uint256 txid = tx.GetTxid();
        const bool coinbase = tx.IsCoinbase();
        for (uint32_t o = 0; o < tx.vout.size(); ++o) {
            if (IsUnspendable(tx.vout[o].script_pubkey)) continue;
            Coin coin;
            const bool was_unspent = view.SpendCoin(OutPoint{txid, o}, &coin);
            if (!was_unspent || tx.vout[o] != coin.out || static_cast<uint32_t>(entry->height) != coin.height ||
                coinbase != coin.coinbase) {
                if (!bip30_exception) clean = false;
            }
        }
        if (i == 0) continue;
        const TxUndo& tx_undo = undo.txs[i - 1];
        if (tx_undo.prevouts.size() != tx.vin.size()) {
            LogPrintf("DisconnectBlock(): transaction and undo data inconsistent at {}", entry->hash.GetHex());
            return DisconnectResult::FAILED;
        }
        for (size_t j = tx.vin.size(); j-- > 0;) {
            const OutPoint& out = tx.vin[j].prevout;
            const bool overwrite = view.HaveCoin(out);
            if (overwrite) clean = false;
            view.AddCoin(out, tx_undo.prevouts[j], overwrite);
        }
    }
    view.SetBestBlock(entry->header.prev_block);
    return clean ? DisconnectResult::OK : DisconnectResult::UNCLEAN;
}

} // namespace orrery::node
