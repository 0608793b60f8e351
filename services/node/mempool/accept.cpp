// Acceptance into the mempool (Core's MemPoolAccept): PreChecks (context-free
// rules, standardness, finality, duplicates, conflicts, inputs, sequence
// locks, amounts, input and witness standardness, sigops, fee floors), the
// ancestor/descendant limits, TRUC, replacement, then the scripts with the
// standard flags and again with the consensus flags, and finally the entry is
// added and the mempool trimmed. Reject reasons are Core's.
#include <services/node/mempool/mempool.h>

#include <common/consensus/check.h>
#include <common/consensus/consensus.h>
#include <common/consensus/locktime.h>
#include <common/script/sigops.h>
#include <common/script/tx_checker.h>
#include <common/util/logging.h>

#include <fmt/format.h>

#include <algorithm>

namespace orrery::node {

namespace {

//! Core's MEMPOOL_HEIGHT: the height given to coins created by mempool transactions.
constexpr uint32_t MEMPOOL_HEIGHT = 0x7FFFFFFF;

//! Core's FormatMoney.
std::string FormatMoney(Amount amount)
{
    const bool negative = amount < 0;
    const uint64_t abs = negative ? uint64_t(0) - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
    std::string text = fmt::format("{}{}.{:08}", negative ? "-" : "", abs / COIN, abs % COIN);
    while (text.size() > 3 && text.back() == '0' && text[text.size() - 3] != '.') text.pop_back();
    return text;
}

//! Heap bytes of a transaction: its vectors' capacities plus fixed bookkeeping of the entry and its map nodes.
int64_t EstimateUsage(const Transaction& tx)
{
    size_t bytes = sizeof(Transaction) + sizeof(MempoolEntry) + 4 * 64;
    bytes += tx.vin.capacity() * sizeof(TxIn) + tx.vout.capacity() * sizeof(TxOut);
    for (const TxIn& in : tx.vin) {
        bytes += in.script_sig.capacity() + in.witness.capacity() * sizeof(std::vector<uint8_t>) + 64;
        for (const auto& item : in.witness) bytes += item.capacity();
    }
    for (const TxOut& out : tx.vout) bytes += out.script_pubkey.capacity();
    return static_cast<int64_t>(bytes);
}

bool Invalid(AcceptResult& result, AcceptResult::Failure failure, std::string reason, std::string debug = {})
{
    result.accepted = false;
    result.failure = failure;
    result.reject_reason = std::move(reason);
    result.debug_message = std::move(debug);
    return false;
}

} // namespace

struct Mempool::AcceptArgs {
    bool test_only{false};
    bool bypass_limits{false};   //!< re-adding after a reorg or from mempool.dat: no fee floors, no trim
    bool skip_fee_check{false};  //!< a package already paid for it
    std::optional<int64_t> time; //!< keep this entry time (mempool.dat, reorg)
    //! Outputs of earlier package transactions that are not in the mempool (testmempoolaccept, packages).
    const std::map<OutPoint, Coin>* package_coins{nullptr};
    //! Fee and size of other package transactions judged with this one (1-parent-1-child).
    Amount extra_fee{0};
    int64_t extra_vsize{0};
    std::vector<uint256> extra_wtxids;
    Amount max_fee{0};
};

struct Mempool::Candidate {
    std::shared_ptr<const Transaction> tx;
    uint256 txid;
    uint256 wtxid;
    std::vector<Coin> coins; //!< what each input spends
    std::vector<TxOut> spent;
    std::set<uint256> parents;
    std::set<uint256> ancestors;
    std::set<uint256> conflicts;     //!< entries spending the same coins
    std::set<uint256> all_conflicts; //!< with their descendants: what a replacement evicts
    Amount fee{0};
    Amount modified_fee{0};
    int64_t vsize{0};
    int64_t weight{0};
    int64_t sigop_cost{0};
    bool spends_coinbase{false};
    std::optional<uint256> sibling; //!< a TRUC sibling to evict
};

// ---------------------------------------------------------------- public entry points

AcceptResult Mempool::AcceptTransaction(const Transaction& tx, bool test_only, Amount max_fee)
{
    auto [chain_lock, lock] = LockSynced();
    AcceptArgs args;
    args.test_only = test_only;
    args.max_fee = max_fee;
    return AcceptLocked(tx, args);
}

std::vector<AcceptResult> Mempool::TestPackage(const std::vector<Transaction>& txs, FeeRate max_fee_rate)
{
    auto [chain_lock, lock] = LockSynced();
    std::vector<AcceptResult> results;
    std::map<OutPoint, Coin> package_coins;
    bool failed = false;
    for (const Transaction& tx : txs) {
        AcceptResult result;
        if (failed) {
            // Core stops at the first failure of a package and leaves the rest unjudged.
            result.txid = tx.GetTxid();
            result.wtxid = tx.GetWtxid();
            results.push_back(result);
            continue;
        }
        AcceptArgs args;
        args.test_only = true;
        args.package_coins = &package_coins;
        result = AcceptLocked(tx, args);
        if (result.accepted && max_fee_rate.PerKvB() > 0 && result.fee > max_fee_rate.GetFee(result.vsize)) {
            Invalid(result, AcceptResult::Failure::POLICY, "max-fee-exceeded");
        }
        if (!result.accepted) {
            failed = txs.size() > 1;
        } else {
            const uint256 txid = tx.GetTxid();
            for (uint32_t i = 0; i < tx.vout.size(); ++i) {
                package_coins[OutPoint{txid, i}] = Coin{tx.vout[i], MEMPOOL_HEIGHT, false};
            }
        }
        results.push_back(std::move(result));
    }
    return results;
}

PackageResult Mempool::SubmitPackage(const std::vector<Transaction>& txs, FeeRate max_fee_rate)
{
    if (txs.empty() || txs.size() > 2) {
        throw std::invalid_argument(
            "package topology disallowed. not child-with-parents or parents depend on each other.");
    }
    auto [chain_lock, lock] = LockSynced();
    PackageResult out;
    auto fee_cap = [&](const AcceptResult& r) {
        return max_fee_rate.PerKvB() > 0 && r.accepted && r.fee > max_fee_rate.GetFee(r.vsize);
    };
    if (txs.size() == 1) {
        AcceptArgs args;
        args.test_only = true;
        AcceptResult test = AcceptLocked(txs[0], args);
        if (fee_cap(test)) {
            Invalid(test, AcceptResult::Failure::POLICY, "max feerate exceeded");
            out.message = "transaction failed";
            out.results.push_back(test);
            return out;
        }
        AcceptResult result = AcceptLocked(txs[0], AcceptArgs{});
        if (!result.accepted && result.failure != AcceptResult::Failure::IN_MEMPOOL) out.message = "transaction failed";
        out.results.push_back(std::move(result));
        return out;
    }
    const Transaction& parent = txs[0];
    const Transaction& child = txs[1];
    const uint256 parent_txid = parent.GetTxid();
    const bool child_spends_parent =
        std::any_of(child.vin.begin(), child.vin.end(), [&](const TxIn& in) { return in.prevout.hash == parent_txid; });
    if (!child_spends_parent) {
        throw std::invalid_argument(
            "package topology disallowed. not child-with-parents or parents depend on each other.");
    }
    // The parent alone first; if its fee is the only problem, the two are judged together.
    AcceptArgs parent_test;
    parent_test.test_only = true;
    AcceptResult parent_alone = AcceptLocked(parent, parent_test);
    const bool parent_in_mempool = parent_alone.failure == AcceptResult::Failure::IN_MEMPOOL;
    if (parent_alone.accepted && !fee_cap(parent_alone)) {
        AcceptResult parent_result = AcceptLocked(parent, AcceptArgs{});
        AcceptResult child_result = AcceptLocked(child, AcceptArgs{});
        if (!parent_result.accepted || !child_result.accepted) out.message = "transaction failed";
        out.results = {std::move(parent_result), std::move(child_result)};
        return out;
    }
    if (parent_in_mempool) {
        AcceptResult child_result = AcceptLocked(child, AcceptArgs{});
        if (!child_result.accepted && child_result.failure != AcceptResult::Failure::IN_MEMPOOL) {
            out.message = "transaction failed";
        }
        out.results = {std::move(parent_alone), std::move(child_result)};
        return out;
    }
    if (parent_alone.failure != AcceptResult::Failure::RECONSIDERABLE) {
        out.message = "transaction failed";
        AcceptResult child_result;
        child_result.txid = child.GetTxid();
        child_result.wtxid = child.GetWtxid();
        child_result.reject_reason = "missing-inputs";
        out.results = {std::move(parent_alone), std::move(child_result)};
        return out;
    }
    // Package fee rate: parent checked without its fee floor, child with both fees and sizes.
    AcceptArgs parent_args;
    parent_args.test_only = true;
    parent_args.skip_fee_check = true;
    AcceptResult parent_checked = AcceptLocked(parent, parent_args);
    std::map<OutPoint, Coin> package_coins;
    for (uint32_t i = 0; i < parent.vout.size(); ++i) {
        package_coins[OutPoint{parent_txid, i}] = Coin{parent.vout[i], MEMPOOL_HEIGHT, false};
    }
    AcceptArgs child_args;
    child_args.test_only = true;
    child_args.package_coins = &package_coins;
    child_args.extra_fee = parent_checked.modified_fee;
    child_args.extra_vsize = parent_checked.vsize;
    child_args.extra_wtxids = {parent_checked.wtxid};
    AcceptResult child_checked = AcceptLocked(child, child_args);
    if (!parent_checked.accepted || !child_checked.accepted) {
        out.message = "transaction failed";
        out.results = {std::move(parent_checked), std::move(child_checked)};
        return out;
    }
    if (fee_cap(parent_checked) || fee_cap(child_checked)) {
        out.message = "transaction failed";
        Invalid(child_checked, AcceptResult::Failure::POLICY, "max feerate exceeded");
        out.results = {std::move(parent_checked), std::move(child_checked)};
        return out;
    }
    AcceptArgs parent_add;
    parent_add.skip_fee_check = true;
    AcceptResult parent_result = AcceptLocked(parent, parent_add);
    AcceptArgs child_add;
    child_add.skip_fee_check = true;
    AcceptResult child_result = AcceptLocked(child, child_add);
    const FeeRate package_rate = FeeRate::FromFee(parent_checked.modified_fee + child_checked.modified_fee,
                                                  parent_checked.vsize + child_checked.vsize);
    for (AcceptResult* r : {&parent_result, &child_result}) {
        r->effective_feerate = package_rate;
        r->effective_includes = {parent_checked.wtxid, child_checked.wtxid};
    }
    if (!parent_result.accepted || !child_result.accepted) out.message = "transaction failed";
    out.results = {std::move(parent_result), std::move(child_result)};
    return out;
}

// ---------------------------------------------------------------- one transaction

AcceptResult Mempool::AcceptWithTimeLocked(const Transaction& tx, int64_t time)
{
    AcceptArgs args;
    args.time = time;
    return AcceptLocked(tx, args);
}

AcceptResult Mempool::AcceptLocked(const Transaction& tx, const AcceptArgs& args)
{
    AcceptResult result;
    Candidate c;
    c.tx = std::make_shared<const Transaction>(tx);
    c.txid = tx.GetTxid();
    c.wtxid = tx.GetWtxid();
    result.txid = c.txid;
    result.wtxid = c.wtxid;
    if (!PreChecks(c, args, result)) return result;
    result.vsize = c.vsize;
    result.fee = c.fee;
    result.modified_fee = c.modified_fee;
    if (!CheckAncestorLimits(c, result)) return result;
    if (!CheckTruc(c, result)) return result;
    if (!c.conflicts.empty() && !CheckReplacement(c, result)) return result;
    if (!CheckScripts(c, result)) return result;
    if (args.max_fee > 0 && c.fee > args.max_fee) {
        return Invalid(result, AcceptResult::Failure::POLICY, "max-fee-exceeded"), result;
    }
    result.accepted = true;
    result.effective_feerate = FeeRate::FromFee(c.modified_fee + args.extra_fee, c.vsize + args.extra_vsize);
    result.effective_includes = args.extra_wtxids;
    result.effective_includes.push_back(c.wtxid);
    if (args.test_only) return result;

    for (const uint256& txid : c.all_conflicts) result.replaced.push_back(txid);
    if (!c.all_conflicts.empty()) {
        for (const uint256& conflict : c.conflicts) {
            if (auto it = m_entries.find(conflict); it != m_entries.end()) {
                LogDebug(LogCategory::MEMPOOL,
                         "replacing mempool tx {} (wtxid={}, fees={}, vsize={}). New tx {} "
                         "(wtxid={}, fees={}, vsize={})",
                         conflict.GetHex(), it->second.wtxid.GetHex(), it->second.ModifiedFee(), it->second.vsize,
                         c.txid.GetHex(), c.wtxid.GetHex(), c.modified_fee, c.vsize);
            }
            RemoveWithDescendantsLocked(conflict, RemovalReason::REPLACED);
        }
    }
    AddLocked(c, args.time.value_or(Now()));
    if (!args.bypass_limits) {
        LimitSizeLocked();
        if (!m_entries.count(c.txid)) {
            return Invalid(result, AcceptResult::Failure::RECONSIDERABLE, "mempool full"), result;
        }
    }
    return result;
}

bool Mempool::PreChecks(Candidate& c, const AcceptArgs& args, AcceptResult& result)
{
    using F = AcceptResult::Failure;
    const Transaction& tx = *c.tx;
    ValidationState state;
    if (!CheckTransaction(tx, state))
        return Invalid(result, F::CONSENSUS, state.GetRejectReason(), state.GetDebugMessage());
    if (tx.IsCoinbase()) return Invalid(result, F::CONSENSUS, "coinbase");
    std::string reason;
    if (m_options.require_standard && !IsStandardTx(tx, m_options.standard, reason)) {
        return Invalid(result, F::POLICY, reason);
    }
    if (static_cast<int64_t>(GetSerializeSize(tx, false)) < MIN_STANDARD_TX_NONWITNESS_SIZE) {
        return Invalid(result, F::POLICY, "tx-size-small");
    }
    const BlockIndex* tip = m_chainstate.Tip();
    const int next_height = tip->height + 1;
    const int64_t tip_mtp = tip->GetMedianTimePast();
    if (!IsFinalTx(tx, next_height, tip_mtp)) return Invalid(result, F::POLICY, "non-final");

    if (auto it = m_by_wtxid.find(c.wtxid); it != m_by_wtxid.end()) {
        return Invalid(result, F::IN_MEMPOOL, "txn-already-in-mempool");
    }
    if (m_entries.count(c.txid)) return Invalid(result, F::IN_MEMPOOL, "txn-same-nonwitness-data-in-mempool");

    // Conflicts: mempool transactions spending the same coins.
    for (const TxIn& in : tx.vin) {
        auto it = m_spenders.find(in.prevout);
        if (it == m_spenders.end()) continue;
        const MempoolEntry& conflicting = m_entries.at(it->second);
        // With -mempoolfullrbf=0 only a transaction that signals BIP125 (or a TRUC one) may be replaced.
        if (!m_options.full_rbf && !SignalsOptInRbf(*conflicting.tx) && conflicting.tx->version != TRUC_VERSION) {
            return Invalid(result, F::POLICY, "txn-mempool-conflict");
        }
        c.conflicts.insert(it->second);
    }

    // Inputs: the mempool's outputs, the package's, then the UTXO set.
    for (uint32_t i = 0; i < tx.vout.size(); ++i) {
        if (m_chainstate.GetCoin(OutPoint{c.txid, i})) return Invalid(result, F::ALREADY_KNOWN, "txn-already-known");
    }
    c.coins.reserve(tx.vin.size());
    for (const TxIn& in : tx.vin) {
        if (auto parent = m_entries.find(in.prevout.hash); parent != m_entries.end()) {
            if (in.prevout.n >= parent->second.tx->vout.size()) {
                return Invalid(result, F::MISSING_INPUTS, "bad-txns-inputs-missingorspent");
            }
            c.coins.push_back(Coin{parent->second.tx->vout[in.prevout.n], MEMPOOL_HEIGHT, false});
            c.parents.insert(in.prevout.hash);
            continue;
        }
        if (args.package_coins) {
            if (auto it = args.package_coins->find(in.prevout); it != args.package_coins->end()) {
                c.coins.push_back(it->second);
                continue;
            }
        }
        auto coin = m_chainstate.GetCoin(in.prevout);
        if (!coin) return Invalid(result, F::MISSING_INPUTS, "bad-txns-inputs-missingorspent");
        c.coins.push_back(*coin);
    }

    // BIP68 at the next block; a coin from the mempool counts as mined in it.
    std::vector<int> prev_heights(tx.vin.size());
    std::vector<int64_t> prev_mtps(tx.vin.size());
    const ActiveChain& chain = m_chainstate.Chain();
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        const int height = c.coins[i].height == MEMPOOL_HEIGHT ? next_height : static_cast<int>(c.coins[i].height);
        prev_heights[i] = height;
        const int at = std::max(height - 1, 0);
        prev_mtps[i] = at <= tip->height ? chain[at]->GetMedianTimePast() : tip_mtp;
    }
    const bool enforce_bip68 = m_chainstate.Params().consensus.DeploymentActiveAt(next_height, BuriedDeployment::CSV);
    if (!SequenceLocks(tx, enforce_bip68, prev_heights, prev_mtps, next_height, tip_mtp)) {
        return Invalid(result, F::POLICY, "non-BIP68-final");
    }

    // Core's CheckTxInputs.
    Amount value_in = 0;
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        const Coin& coin = c.coins[i];
        if (coin.coinbase) {
            c.spends_coinbase = true;
            if (next_height - static_cast<int>(coin.height) < COINBASE_MATURITY) {
                return Invalid(
                    result, F::CONSENSUS, "bad-txns-premature-spend-of-coinbase",
                    fmt::format("tried to spend coinbase at depth {}", next_height - static_cast<int>(coin.height)));
            }
        }
        value_in += coin.out.value;
        if (!MoneyRange(coin.out.value) || !MoneyRange(value_in)) {
            return Invalid(result, F::CONSENSUS, "bad-txns-inputvalues-outofrange");
        }
        c.spent.push_back(coin.out);
    }
    const Amount value_out = GetValueOut(tx);
    if (value_in < value_out) {
        return Invalid(result, F::CONSENSUS, "bad-txns-in-belowout",
                       fmt::format("value in ({}) < value out ({})", FormatMoney(value_in), FormatMoney(value_out)));
    }
    c.fee = value_in - value_out;
    if (!MoneyRange(c.fee)) return Invalid(result, F::CONSENSUS, "bad-txns-fee-outofrange");

    if (m_options.require_standard && !AreInputsStandard(tx, c.spent)) {
        return Invalid(result, F::POLICY, "bad-txns-nonstandard-inputs");
    }
    if (m_options.require_standard && tx.HasWitness() && !IsWitnessStandard(tx, c.spent)) {
        return Invalid(result, F::POLICY, "bad-witness-nonstandard");
    }
    const uint32_t flags = STANDARD_SCRIPT_VERIFY_FLAGS;
    c.sigop_cost = GetTransactionSigOpCost(tx, c.spent, flags);
    c.weight = GetTransactionWeight(tx);
    c.vsize = GetSigOpAdjustedVsize(c.weight, c.sigop_cost, m_options.bytes_per_sigop);
    if (auto delta = m_deltas.find(c.txid); delta != m_deltas.end()) {
        c.modified_fee = c.fee + delta->second;
    } else {
        c.modified_fee = c.fee;
    }
    if (c.sigop_cost > MAX_STANDARD_TX_SIGOPS_COST) {
        return Invalid(result, F::POLICY, "bad-txns-too-many-sigops", fmt::format("{}", c.sigop_cost));
    }

    // Fee floors, on the package's totals when judged with others.
    if (!args.bypass_limits && !args.skip_fee_check) {
        const Amount package_fee = c.modified_fee + args.extra_fee;
        const int64_t package_vsize = c.vsize + args.extra_vsize;
        const Amount mempool_reject_fee = GetMinFeeLocked().GetFee(package_vsize);
        if (mempool_reject_fee > 0 && package_fee < mempool_reject_fee) {
            return Invalid(result, F::RECONSIDERABLE, "mempool min fee not met",
                           fmt::format("{} < {}", package_fee, mempool_reject_fee));
        }
        const Amount min_relay = m_options.min_relay_fee.GetFee(package_vsize);
        if (package_fee < min_relay) {
            return Invalid(result, F::RECONSIDERABLE, "min relay fee not met",
                           fmt::format("{} < {}", package_fee, min_relay));
        }
    }
    return true;
}

bool Mempool::CheckAncestorLimits(Candidate& c, AcceptResult& result)
{
    using F = AcceptResult::Failure;
    for (const uint256& parent : c.parents) {
        c.ancestors.insert(parent);
        for (const uint256& a : AncestorsLocked(parent)) c.ancestors.insert(a);
    }
    if (static_cast<int64_t>(c.parents.size()) + 1 > m_options.ancestor_count) {
        return Invalid(result, F::POLICY, "too-long-mempool-chain",
                       fmt::format("too many unconfirmed parents [limit: {}]", m_options.ancestor_count));
    }
    int64_t ancestor_vsize = c.vsize;
    for (const uint256& a : c.ancestors) ancestor_vsize += m_entries.at(a).vsize;
    if (ancestor_vsize > m_options.ancestor_size_vbytes) {
        return Invalid(result, F::POLICY, "too-long-mempool-chain",
                       fmt::format("exceeds ancestor size limit [limit: {}]", m_options.ancestor_size_vbytes));
    }
    if (static_cast<int64_t>(c.ancestors.size()) + 1 > m_options.ancestor_count) {
        return Invalid(result, F::POLICY, "too-long-mempool-chain",
                       fmt::format("too many unconfirmed ancestors [limit: {}]", m_options.ancestor_count));
    }
    for (const uint256& a : c.ancestors) {
        const PackageTotals totals = TotalsLocked(a, DescendantsLocked(a));
        if (totals.vsize + c.vsize > m_options.descendant_size_vbytes) {
            return Invalid(result, F::POLICY, "too-long-mempool-chain",
                           fmt::format("exceeds descendant size limit for tx {} [limit: {}]", a.GetHex(),
                                       m_options.descendant_size_vbytes));
        }
        if (totals.count + 1 > m_options.descendant_count) {
            return Invalid(
                result, F::POLICY, "too-long-mempool-chain",
                fmt::format("too many descendants for tx {} [limit: {}]", a.GetHex(), m_options.descendant_count));
        }
    }
    return true;
}

bool Mempool::CheckTruc(Candidate& c, AcceptResult& result)
{
    using F = AcceptResult::Failure;
    const Transaction& tx = *c.tx;
    const bool truc = tx.version == TRUC_VERSION;
    for (const uint256& parent : c.parents) {
        const MempoolEntry& p = m_entries.at(parent);
        const bool parent_truc = p.tx->version == TRUC_VERSION;
        if (truc && !parent_truc) {
            return Invalid(result, F::POLICY, "TRUC-violation",
                           fmt::format("version=3 tx {} (wtxid={}) cannot spend from non-version=3 tx {} (wtxid={})",
                                       c.txid.GetHex(), c.wtxid.GetHex(), parent.GetHex(), p.wtxid.GetHex()));
        }
        if (!truc && parent_truc) {
            return Invalid(result, F::POLICY, "TRUC-violation",
                           fmt::format("non-version=3 tx {} (wtxid={}) cannot spend from version=3 tx {} (wtxid={})",
                                       c.txid.GetHex(), c.wtxid.GetHex(), parent.GetHex(), p.wtxid.GetHex()));
        }
    }
    if (!truc) return true;
    if (c.vsize > TRUC_MAX_VSIZE) {
        return Invalid(result, F::POLICY, "TRUC-violation",
                       fmt::format("version=3 tx {} (wtxid={}) is too big: {} > {} virtual bytes", c.txid.GetHex(),
                                   c.wtxid.GetHex(), c.vsize, TRUC_MAX_VSIZE));
    }
    if (c.ancestors.size() + 1 > 2) {
        return Invalid(
            result, F::POLICY, "TRUC-violation",
            fmt::format("tx {} (wtxid={}) would have too many ancestors", c.txid.GetHex(), c.wtxid.GetHex()));
    }
    if (c.parents.empty()) return true;
    if (c.vsize > TRUC_CHILD_MAX_VSIZE) {
        return Invalid(result, F::POLICY, "TRUC-violation",
                       fmt::format("version=3 child tx {} (wtxid={}) is too big: {} > {} virtual bytes",
                                   c.txid.GetHex(), c.wtxid.GetHex(), c.vsize, TRUC_CHILD_MAX_VSIZE));
    }
    const MempoolEntry& parent = m_entries.at(*c.parents.begin());
    std::set<uint256> other_children;
    for (const uint256& child : parent.children) {
        if (!c.conflicts.count(child)) other_children.insert(child);
    }
    if (!other_children.empty()) {
        // Sibling eviction: a lone sibling without children of its own may be replaced by fee.
        const uint256 sibling = *other_children.begin();
        if (other_children.size() == 1 && m_entries.at(sibling).children.empty()) {
            c.sibling = sibling;
            c.conflicts.insert(sibling);
            return true;
        }
        return Invalid(result, F::POLICY, "TRUC-violation",
                       fmt::format("tx {} (wtxid={}) would exceed descendant count limit", parent.txid.GetHex(),
                                   parent.wtxid.GetHex()));
    }
    return true;
}

bool Mempool::CheckReplacement(Candidate& c, AcceptResult& result)
{
    using F = AcceptResult::Failure;
    // Rule 5: at most 100 transactions evicted, descendants counted.
    for (const uint256& conflict : c.conflicts) {
        c.all_conflicts.insert(conflict);
        for (const uint256& d : DescendantsLocked(conflict)) c.all_conflicts.insert(d);
    }
    if (c.all_conflicts.size() > MAX_REPLACEMENT_CANDIDATES) {
        return Invalid(result, F::POLICY, "too many potential replacements",
                       fmt::format("rejecting replacement {}; too many potential replacements ({} > {})",
                                   c.txid.GetHex(), c.all_conflicts.size(), MAX_REPLACEMENT_CANDIDATES));
    }
    // Rule 2: no new unconfirmed inputs.
    std::set<uint256> parents_of_conflicts;
    for (const uint256& conflict : c.conflicts) {
        for (const TxIn& in : m_entries.at(conflict).tx->vin) parents_of_conflicts.insert(in.prevout.hash);
    }
    for (size_t i = 0; i < c.tx->vin.size(); ++i) {
        const uint256& hash = c.tx->vin[i].prevout.hash;
        if (!parents_of_conflicts.count(hash) && m_entries.count(hash)) {
            return Invalid(result, F::POLICY, "replacement-adds-unconfirmed",
                           fmt::format("replacement {} adds unconfirmed input, idx {}", c.txid.GetHex(), i));
        }
    }
    for (const uint256& ancestor : c.ancestors) {
        if (c.all_conflicts.count(ancestor)) {
            return Invalid(result, F::CONSENSUS, "bad-txns-spends-conflicting-tx",
                           fmt::format("{} spends conflicting transaction {}", c.txid.GetHex(), ancestor.GetHex()));
        }
    }
    // Rule 6: a higher fee rate than each transaction it replaces directly.
    const FeeRate new_rate = FeeRate::FromFee(c.modified_fee, c.vsize);
    for (const uint256& conflict : c.conflicts) {
        const MempoolEntry& e = m_entries.at(conflict);
        const FeeRate old_rate = FeeRate::FromFee(e.ModifiedFee(), e.vsize);
        if (new_rate <= old_rate) {
            return Invalid(result, F::POLICY, "insufficient fee",
                           fmt::format("rejecting replacement {}; new feerate {} <= old feerate {}", c.txid.GetHex(),
                                       new_rate.ToString(), old_rate.ToString()));
        }
    }
    // Rules 3 and 4: pays for everything it evicts, plus its own relay at the incremental rate.
    Amount original = 0;
    for (const uint256& id : c.all_conflicts) original += m_entries.at(id).ModifiedFee();
    if (c.modified_fee < original) {
        return Invalid(result, F::POLICY, "insufficient fee",
                       fmt::format("rejecting replacement {}, less fees than conflicting txs; {} < {}", c.txid.GetHex(),
                                   FormatMoney(c.modified_fee), FormatMoney(original)));
    }
    const Amount additional = c.modified_fee - original;
    const Amount relay = m_options.incremental_relay_fee.GetFee(c.vsize);
    if (additional < relay) {
        return Invalid(result, F::POLICY, "insufficient fee",
                       fmt::format("rejecting replacement {}, not enough additional fees to relay; {} < {}",
                                   c.txid.GetHex(), FormatMoney(additional), FormatMoney(relay)));
    }
    return true;
}

bool Mempool::CheckScripts(Candidate& c, AcceptResult& result)
{
    using F = AcceptResult::Failure;
    const Transaction& tx = *c.tx;
    PrecomputedTransactionData txdata;
    txdata.Init(tx, c.spent);
    const uint32_t consensus_flags = m_chainstate.ScriptFlags(m_chainstate.Tip());
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        TransactionSignatureChecker checker(tx, i, c.spent[i].value, txdata);
        ScriptError error = ScriptError::OK;
        const ScriptWitness* witness = &tx.vin[i].witness;
        if (VerifyScript(tx.vin[i].script_sig, c.spent[i].script_pubkey, witness, STANDARD_SCRIPT_VERIFY_FLAGS, checker,
                         &error)) {
            continue;
        }
        // Core tells apart what only policy refuses from what consensus refuses.
        ScriptError consensus_error = ScriptError::OK;
        if (VerifyScript(tx.vin[i].script_sig, c.spent[i].script_pubkey, witness, consensus_flags, checker,
                         &consensus_error)) {
            return Invalid(result, F::POLICY,
                           fmt::format("non-mandatory-script-verify-flag ({})", ScriptErrorString(error)),
                           fmt::format("input {} of {} (wtxid {})", i, c.txid.GetHex(), c.wtxid.GetHex()));
        }
        return Invalid(result, F::CONSENSUS,
                       fmt::format("mandatory-script-verify-flag-failed ({})", ScriptErrorString(consensus_error)),
                       fmt::format("input {} of {} (wtxid {})", i, c.txid.GetHex(), c.wtxid.GetHex()));
    }
    return true;
}

void Mempool::AddLocked(Candidate& c, int64_t time)
{
    MempoolEntry entry;
    entry.tx = c.tx;
    entry.txid = c.txid;
    entry.wtxid = c.wtxid;
    entry.fee = c.fee;
    entry.fee_delta = c.modified_fee - c.fee;
    entry.vsize = c.vsize;
    entry.weight = c.weight;
    entry.sigop_cost = c.sigop_cost;
    entry.time = time;
    entry.height = m_chainstate.Tip()->height;
    entry.usage = EstimateUsage(*c.tx);
    entry.entry_sequence = m_next_entry_sequence++;
    entry.spends_coinbase = c.spends_coinbase;
    for (const TxIn& in : c.tx->vin) {
        if (m_entries.count(in.prevout.hash)) entry.parents.insert(in.prevout.hash);
        m_spenders[in.prevout] = c.txid;
    }
    // Children may already be here after a reorganization put a parent back.
    for (uint32_t i = 0; i < c.tx->vout.size(); ++i) {
        if (auto it = m_spenders.find(OutPoint{c.txid, i}); it != m_spenders.end()) {
            entry.children.insert(it->second);
            m_entries.at(it->second).parents.insert(c.txid);
        }
    }
    for (const uint256& parent : entry.parents) m_entries.at(parent).children.insert(c.txid);
    m_total_vsize += entry.vsize;
    m_total_usage += entry.usage;
    m_total_fee += entry.fee;
    m_by_wtxid[entry.wtxid] = entry.txid;
    m_estimator.Added(entry.txid, entry.height, FeeRate::FromFee(entry.ModifiedFee(), entry.vsize).PerKvB());
    auto [it, inserted] = m_entries.emplace(entry.txid, std::move(entry));
    const uint64_t sequence = m_sequence++;
    ++m_transactions_updated;
    LogDebug(LogCategory::MEMPOOL, "AcceptToMemoryPool: accepted {} (poolsz {} txn, {} kB)", c.txid.GetHex(),
             m_entries.size(), m_total_usage / 1000);
    for (const auto& listener : m_listeners) listener->TransactionAdded(it->second, sequence);
}

// ---------------------------------------------------------------- reorganizations

void Mempool::UpdateForReorgLocked()
{
    // Core's MaybeUpdateMempoolForReorg, done by rebuilding: the disconnected blocks' transactions (oldest
    // first) and then every entry (parents before children) are judged again against the new tip, without fee
    // floors or limits, keeping their entry times. What no longer fits (a coinbase spend no longer mature, a
    // lock no longer final, an input the new chain spent) leaves with reason "reorg".
    std::vector<std::shared_ptr<const Transaction>> returning = std::move(m_disconnected);
    m_disconnected.clear();
    std::vector<MempoolEntry> entries;
    for (const auto& [txid, entry] : m_entries) entries.push_back(entry);
    std::sort(entries.begin(), entries.end(),
              [&](const MempoolEntry& a, const MempoolEntry& b) { return a.entry_sequence < b.entry_sequence; });
    // Remove the old entries quietly from the structures, then judge everything again. Those that fail are
    // reported as removed; those that pass keep their place silently.
    std::map<uint256, MempoolEntry> old_entries;
    for (auto& e : entries) old_entries.emplace(e.txid, e);
    m_entries.clear();
    m_by_wtxid.clear();
    m_spenders.clear();
    m_total_vsize = 0;
    m_total_usage = 0;
    m_total_fee = 0;
    const auto listeners = std::move(m_listeners);
    m_listeners.clear();
    size_t returned = 0;
    std::vector<std::shared_ptr<const Transaction>> readded;
    for (const auto& tx : returning) {
        AcceptArgs args;
        args.bypass_limits = true;
        if (AcceptLocked(*tx, args).accepted) {
            ++returned;
            readded.push_back(tx);
        }
    }
    std::vector<std::shared_ptr<const Transaction>> dropped;
    for (const MempoolEntry& e : entries) {
        AcceptArgs args;
        args.bypass_limits = true;
        args.time = e.time;
        if (!AcceptLocked(*e.tx, args).accepted) dropped.push_back(e.tx);
    }
    m_listeners = listeners;
    // The listeners hear what changed: transactions back from blocks are added, the ones that fell out removed.
    for (const auto& tx : readded) {
        auto it = m_entries.find(tx->GetTxid());
        if (it == m_entries.end()) continue;
        const uint64_t sequence = m_sequence++;
        for (const auto& listener : m_listeners) listener->TransactionAdded(it->second, sequence);
    }
    for (const auto& tx : dropped) {
        const uint64_t sequence = m_sequence++;
        for (const auto& listener : m_listeners) listener->TransactionRemoved(tx, RemovalReason::REORG, sequence);
    }
    LimitSizeLocked();
    LogPrintf("Mempool updated for a reorganization: {} transactions back from disconnected blocks, {} dropped",
              returned, dropped.size());
}

} // namespace orrery::node
