// See coin_selection.h. The algorithms follow Bitcoin Core 28's
// wallet/coinselection.cpp step for step (the same search order, limits and
// tie-breaks), so that a wallet moved from bitcoind picks the same kind of
// input sets; the comments say why where Core's do.
#include <services/wallet/coin_selection.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>

namespace orrery::wallet {

namespace {

constexpr size_t BNB_TOTAL_TRIES = 100'000;
constexpr size_t CG_MAX_TRIES = 100'000;

const char* const MAX_WEIGHT_MESSAGE = "The inputs size exceeds the maximum weight. Please try sending a smaller "
                                       "amount or manually consolidating your wallet's UTXOs";

SelectionOutcome Failure(bool max_weight_exceeded)
{
    SelectionOutcome out;
    out.error.max_weight_exceeded = max_weight_exceeded;
    out.error.message = max_weight_exceeded ? MAX_WEIGHT_MESSAGE : "Insufficient funds";
    return out;
}

SelectionOutcome Success(SelectionResult result)
{
    SelectionOutcome out;
    out.result = std::move(result);
    return out;
}

bool Descending(const OutputGroup& a, const OutputGroup& b)
{
    return a.GetSelectionAmount() > b.GetSelectionAmount();
}

//! CoinGrinder's order: by amount, then lighter first.
bool DescendingAmountThenWeight(const OutputGroup& a, const OutputGroup& b)
{
    if (a.GetSelectionAmount() != b.GetSelectionAmount()) return a.GetSelectionAmount() > b.GetSelectionAmount();
    return a.weight < b.weight;
}

} // namespace

// ---------------------------------------------------------------- values

Amount FeeRate::GetFee(int64_t vsize) const
{
    Amount fee = static_cast<Amount>(std::ceil(static_cast<double>(per_kvb) * static_cast<double>(vsize) / 1000.0));
    if (fee == 0 && vsize != 0) {
        if (per_kvb > 0) fee = 1;
        if (per_kvb < 0) fee = -1;
    }
    return fee;
}

void SelectableCoin::SetFeeRates(FeeRate effective, FeeRate long_term)
{
    fee = input_bytes < 0 ? 0 : effective.GetFee(input_bytes);
    long_term_fee = input_bytes < 0 ? 0 : long_term.GetFee(input_bytes);
    effective_value = txout.value - fee;
}

void OutputGroup::Insert(const SelectableCoin& coin)
{
    coins.push_back(coin);
    fee += coin.fee;
    long_term_fee += coin.long_term_fee;
    effective_value += coin.effective_value;
    from_me = from_me && coin.from_me;
    value += coin.txout.value;
    depth = std::min(depth, coin.depth);
    // Ancestors add up (an overestimate when coins share some); descendants are seen from the top ancestor, so
    // the largest count stands for all.
    ancestors += coin.ancestors;
    descendants = std::max(descendants, coin.descendants);
    if (coin.input_bytes > 0) weight += coin.input_bytes * WITNESS_SCALE_FACTOR;
}

bool OutputGroup::EligibleForSpending(const EligibilityFilter& filter) const
{
    return depth >= (from_me ? filter.conf_mine : filter.conf_theirs) && ancestors <= filter.max_ancestors &&
           descendants <= filter.max_descendants;
}

std::string AlgorithmName(SelectionAlgorithm algorithm)
{
    switch (algorithm) {
    case SelectionAlgorithm::BNB:
        return "bnb";
    case SelectionAlgorithm::KNAPSACK:
        return "knapsack";
    case SelectionAlgorithm::SRD:
        return "srd";
    case SelectionAlgorithm::CG:
        return "cg";
    case SelectionAlgorithm::MANUAL:
        return "manual";
    }
    return "unknown";
}

// ---------------------------------------------------------------- SelectionResult

void SelectionResult::AddInput(const OutputGroup& group)
{
    m_inputs.insert(m_inputs.end(), group.coins.begin(), group.coins.end());
    m_use_effective = !group.subtract_fee_outputs;
    m_weight += group.weight;
}

void SelectionResult::Clear()
{
    m_inputs.clear();
    m_waste.reset();
    m_weight = 0;
}

Amount SelectionResult::SelectedValue() const
{
    Amount sum = 0;
    for (const auto& coin : m_inputs) sum += coin.txout.value;
    return sum;
}

Amount SelectionResult::SelectedEffectiveValue() const
{
    Amount sum = 0;
    for (const auto& coin : m_inputs) sum += coin.effective_value;
    return sum;
}

Amount SelectionResult::GetChange(Amount min_viable_change, Amount change_fee) const
{
    // With subtractfeefromamount the recipients pay every fee; otherwise the inputs' fees are in their effective
    // values, the other fees in the target, and the change output pays its own.
    const Amount change =
        m_use_effective ? SelectedEffectiveValue() - m_target - change_fee : SelectedValue() - m_target;
    return change < min_viable_change ? 0 : change;
}

void SelectionResult::RecalculateWaste(Amount min_viable_change, Amount change_cost, Amount change_fee)
{
    Amount waste = 0;
    for (const auto& coin : m_inputs) waste += coin.fee - coin.long_term_fee;
    if (GetChange(min_viable_change, change_fee) != 0) {
        waste += change_cost;
    } else {
        // No change: the excess goes to the miners.
        waste += (m_use_effective ? SelectedEffectiveValue() : SelectedValue()) - m_target;
    }
    m_waste = waste;
}

bool SelectionResult::operator<(const SelectionResult& other) const
{
    // On equal waste, the result spending more inputs wins (it consolidates at no extra cost).
    return Waste() < other.Waste() || (Waste() == other.Waste() && m_inputs.size() > other.m_inputs.size());
}

// ---------------------------------------------------------------- branch and bound

SelectionOutcome SelectCoinsBnB(std::vector<OutputGroup>& pool, Amount target, Amount cost_of_change,
                                int max_selection_weight)
{
    SelectionResult result(target, SelectionAlgorithm::BNB);
    Amount curr_value = 0;
    std::vector<size_t> curr_selection;
    int curr_selection_weight = 0;

    Amount curr_available_value = 0;
    for (const OutputGroup& group : pool) curr_available_value += group.GetSelectionAmount();
    if (pool.empty() || curr_available_value < target) return Failure(false);

    std::sort(pool.begin(), pool.end(), Descending);

    Amount curr_waste = 0;
    std::vector<size_t> best_selection;
    Amount best_waste = MAX_MONEY;
    // At a fee rate above the long-term one every added input adds waste, so a growing waste can prune.
    const bool is_feerate_high = pool[0].fee > pool[0].long_term_fee;
    bool max_tx_weight_exceeded = false;

    // Once the last group is decided nothing remains available, so the step after it always backtracks: the index
    // never reads past the pool.
    for (size_t curr_try = 0, index = 0; curr_try < BNB_TOTAL_TRIES; ++curr_try, ++index) {
        bool backtrack = false;
        if (curr_value + curr_available_value < target || curr_value > target + cost_of_change ||
            (curr_waste > best_waste && is_feerate_high)) {
            backtrack = true;
        } else if (curr_selection_weight > max_selection_weight) {
            max_tx_weight_exceeded = true;
            backtrack = true;
        } else if (curr_value >= target) {
            // In range: the excess counts as waste. Adding more would only burn it, so this branch ends here.
            curr_waste += curr_value - target;
            if (curr_waste <= best_waste) {
                best_selection = curr_selection;
                best_waste = curr_waste;
            }
            curr_waste -= curr_value - target;
            backtrack = true;
        }

        if (backtrack) {
            if (curr_selection.empty()) break; // every branch was walked
            // The groups skipped since the last inclusion become available again.
            for (--index; index > curr_selection.back(); --index) {
                curr_available_value += pool[index].GetSelectionAmount();
            }
            const OutputGroup& group = pool[index];
            curr_value -= group.GetSelectionAmount();
            curr_waste -= group.fee - group.long_term_fee;
            curr_selection_weight -= group.weight;
            curr_selection.pop_back();
        } else {
            const OutputGroup& group = pool[index];
            curr_available_value -= group.GetSelectionAmount();
            // Skip a group equal to the one just omitted: including it explores the same sums again.
            if (curr_selection.empty() || index - 1 == curr_selection.back() ||
                group.GetSelectionAmount() != pool[index - 1].GetSelectionAmount() ||
                group.fee != pool[index - 1].fee) {
                curr_selection.push_back(index);
                curr_value += group.GetSelectionAmount();
                curr_waste += group.fee - group.long_term_fee;
                curr_selection_weight += group.weight;
            }
        }
    }

    if (best_selection.empty()) return Failure(max_tx_weight_exceeded);
    for (const size_t i : best_selection) result.AddInput(pool[i]);
    result.RecalculateWaste(cost_of_change, cost_of_change, 0);
    return Success(std::move(result));
}

// ---------------------------------------------------------------- CoinGrinder

SelectionOutcome CoinGrinder(std::vector<OutputGroup>& pool, Amount target, Amount change_target,
                             int max_selection_weight)
{
    if (pool.empty()) return Failure(false);
    std::sort(pool.begin(), pool.end(), DescendingAmountThenWeight);
    // lookahead[i]: the amount of all groups after i; min_tail_weight[i]: the lightest group after i.
    std::vector<Amount> lookahead(pool.size());
    std::vector<int> min_tail_weight(pool.size());
    Amount total_available = 0;
    int min_group_weight = std::numeric_limits<int>::max();
    for (size_t i = 0; i < pool.size(); ++i) {
        const size_t index = pool.size() - 1 - i;
        lookahead[index] = total_available;
        min_tail_weight[index] = min_group_weight;
        total_available += pool[index].GetSelectionAmount();
        min_group_weight = std::min(min_group_weight, pool[index].weight);
    }
    const Amount total_target = target + change_target;
    if (total_available < total_target) return Failure(false);

    std::vector<size_t> curr_selection;
    std::vector<size_t> best_selection;
    Amount curr_amount = 0;
    Amount best_selection_amount = MAX_MONEY;
    int curr_weight = 0;
    int best_selection_weight = max_selection_weight; // a tie is fine: the lower amount wins it
    bool max_tx_weight_exceeded = false;
    size_t next_utxo = 0;

    auto deselect_last = [&] {
        const OutputGroup& group = pool[curr_selection.back()];
        curr_amount -= group.GetSelectionAmount();
        curr_weight -= group.weight;
        curr_selection.pop_back();
    };

    // Each step selects next_utxo, then either explores further (its successor next), shifts to the omission
    // branch of the last selected group, or cuts the whole subtree of the penultimate one (Core's comments
    // describe the three moves in detail).
    SelectionResult result(target, SelectionAlgorithm::CG);
    size_t curr_try = 0;
    bool is_done = false;
    while (!is_done) {
        bool should_shift = false;
        bool should_cut = false;
        const OutputGroup& group = pool[next_utxo];
        curr_amount += group.GetSelectionAmount();
        curr_weight += group.weight;
        curr_selection.push_back(next_utxo);
        ++next_utxo;
        ++curr_try;

        const size_t tail = curr_selection.back();
        if (curr_amount + lookahead[tail] < total_target) {
            should_cut = true; // even everything after it cannot reach the target
        } else if (curr_weight > best_selection_weight) {
            if (curr_weight > max_selection_weight) max_tx_weight_exceeded = true;
            // More groups only add weight: cut if the last one was as light as any after it, else shift.
            if (pool[tail].weight <= min_tail_weight[tail]) {
                should_cut = true;
            } else {
                should_shift = true;
            }
        } else if (curr_amount >= total_target) {
            should_shift = true; // a solution; adding weight cannot improve it
            if (curr_weight < best_selection_weight ||
                (curr_weight == best_selection_weight && curr_amount < best_selection_amount)) {
                best_selection = curr_selection;
                best_selection_weight = curr_weight;
                best_selection_amount = curr_amount;
            }
        } else if (!best_selection.empty() &&
                   curr_weight + int64_t{min_tail_weight[tail]} *
                                     ((total_target - curr_amount + pool[0].GetSelectionAmount() - 1) /
                                      pool[0].GetSelectionAmount()) >
                       best_selection_weight) {
            // Even the lightest groups, as many as the missing amount needs at best, would be too heavy.
            if (pool[tail].weight <= min_tail_weight[tail]) {
                should_cut = true;
            } else {
                should_shift = true;
            }
        }

        if (curr_try >= CG_MAX_TRIES) {
            result.SetCompleted(false); // the best found so far, not proven the best
            break;
        }
        if (next_utxo == pool.size()) should_cut = true;
        if (should_cut) {
            deselect_last();
            should_shift = true;
        }
        while (should_shift) {
            if (curr_selection.empty()) {
                is_done = true; // the search space is exhausted
                result.SetCompleted(true);
                break;
            }
            next_utxo = curr_selection.back() + 1;
            deselect_last();
            should_shift = false;
            // A group equal in amount to the one just omitted is a clone or heavier: skip it.
            while (pool[next_utxo - 1].GetSelectionAmount() == pool[next_utxo].GetSelectionAmount()) {
                if (next_utxo >= pool.size() - 1) {
                    should_shift = true;
                    break;
                }
                ++next_utxo;
            }
        }
    }

    if (best_selection.empty()) return Failure(max_tx_weight_exceeded);
    for (const size_t i : best_selection) result.AddInput(pool[i]);
    return Success(std::move(result));
}

// ---------------------------------------------------------------- knapsack

namespace {

void ApproximateBestSubset(Rng& rng, const std::vector<OutputGroup>& groups, Amount total_lower, Amount target,
                           std::vector<char>& best, Amount& best_value, int max_selection_weight, int iterations = 1000)
{
    std::vector<char> included;
    best.assign(groups.size(), true); // at worst, everything
    best_value = total_lower;
    std::bernoulli_distribution coin_flip(0.5);
    for (int rep = 0; rep < iterations && best_value != target; ++rep) {
        included.assign(groups.size(), false);
        Amount total = 0;
        int weight = 0;
        bool reached = false;
        for (int pass = 0; pass < 2 && !reached; ++pass) {
            for (size_t i = 0; i < groups.size(); ++i) {
                // The randomness only avoids degenerate cases; it protects nothing.
                if (pass == 0 ? coin_flip(rng) : !included[i]) {
                    total += groups[i].GetSelectionAmount();
                    weight += groups[i].weight;
                    included[i] = true;
                    if (total >= target && weight <= max_selection_weight) {
                        reached = true;
                        if (total < best_value) {
                            best_value = total;
                            best = included;
                        }
                        total -= groups[i].GetSelectionAmount();
                        weight -= groups[i].weight;
                        included[i] = false;
                    }
                }
            }
        }
    }
}

} // namespace

SelectionOutcome KnapsackSolver(std::vector<OutputGroup>& groups, Amount target, Amount change_target, Rng& rng,
                                int max_selection_weight)
{
    SelectionResult result(target, SelectionAlgorithm::KNAPSACK);
    bool max_weight_exceeded = false;
    std::optional<OutputGroup> lowest_larger;
    // Groups below target + change: larger ones would only overshoot.
    std::vector<OutputGroup> applicable;
    Amount total_lower = 0;

    std::shuffle(groups.begin(), groups.end(), rng);
    for (const OutputGroup& group : groups) {
        if (group.weight > max_selection_weight) {
            max_weight_exceeded = true;
            continue;
        }
        if (group.GetSelectionAmount() == target) {
            result.AddInput(group);
            return Success(std::move(result));
        }
        if (group.GetSelectionAmount() < target + change_target) {
            applicable.push_back(group);
            total_lower += group.GetSelectionAmount();
        } else if (!lowest_larger || group.GetSelectionAmount() < lowest_larger->GetSelectionAmount()) {
            lowest_larger = group;
        }
    }

    if (total_lower == target) {
        for (const auto& group : applicable) result.AddInput(group);
        if (result.Weight() <= max_selection_weight) return Success(std::move(result));
        max_weight_exceeded = true;
        result.Clear();
    }

    if (total_lower < target) {
        if (!lowest_larger) return Failure(max_weight_exceeded);
        result.AddInput(*lowest_larger);
        return Success(std::move(result));
    }

    std::sort(applicable.begin(), applicable.end(), Descending);
    std::vector<char> best;
    Amount best_value = 0;
    ApproximateBestSubset(rng, applicable, total_lower, target, best, best_value, max_selection_weight);
    if (best_value != target && total_lower >= target + change_target) {
        ApproximateBestSubset(rng, applicable, total_lower, target + change_target, best, best_value,
                              max_selection_weight);
    }

    // The larger coin wins when the subset missed both targets or is no closer.
    if (lowest_larger && ((best_value != target && best_value < target + change_target) ||
                          lowest_larger->GetSelectionAmount() <= best_value)) {
        result.AddInput(*lowest_larger);
    } else {
        for (size_t i = 0; i < applicable.size(); ++i) {
            if (best[i]) result.AddInput(applicable[i]);
        }
        if (result.Weight() > max_selection_weight) {
            if (!lowest_larger) return Failure(true);
            result.Clear();
            result.AddInput(*lowest_larger);
        }
    }
    return Success(std::move(result));
}

// ---------------------------------------------------------------- single random draw

SelectionOutcome SelectCoinsSRD(const std::vector<OutputGroup>& groups, Amount target, Amount change_fee, Rng& rng,
                                int max_selection_weight)
{
    SelectionResult result(target, SelectionAlgorithm::SRD);
    // Aim past the target by the smallest change target, so that a barely sufficient draw does not make tiny change.
    target += CHANGE_LOWER + change_fee;

    auto smaller_on_top = [&groups](size_t a, size_t b) {
        return groups[a].GetSelectionAmount() > groups[b].GetSelectionAmount();
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(smaller_on_top)> heap(smaller_on_top);
    std::vector<size_t> indexes(groups.size());
    std::iota(indexes.begin(), indexes.end(), 0);
    std::shuffle(indexes.begin(), indexes.end(), rng);

    Amount selected = 0;
    int weight = 0;
    bool max_tx_weight_exceeded = false;
    for (const size_t i : indexes) {
        heap.push(i);
        selected += groups[i].GetSelectionAmount();
        weight += groups[i].weight;
        if (weight > max_selection_weight) {
            max_tx_weight_exceeded = true;
            do {
                selected -= groups[heap.top()].GetSelectionAmount();
                weight -= groups[heap.top()].weight;
                heap.pop();
            } while (!heap.empty() && weight > max_selection_weight);
        }
        if (selected >= target) {
            while (!heap.empty()) {
                result.AddInput(groups[heap.top()]);
                heap.pop();
            }
            return Success(std::move(result));
        }
    }
    return Failure(max_tx_weight_exceeded);
}

// ---------------------------------------------------------------- choosing

Amount GenerateChangeTarget(Amount payment_value, Amount change_fee, Rng& rng)
{
    if (payment_value <= CHANGE_LOWER / 2) return change_fee + CHANGE_LOWER;
    const Amount upper_bound = std::min(payment_value * 2, CHANGE_UPPER);
    std::uniform_int_distribution<Amount> range(0, upper_bound - CHANGE_LOWER - 1);
    return change_fee + range(rng) + CHANGE_LOWER;
}

void SelectionParams::Finish(Amount recipients_sum, size_t recipients, Amount change_dust_threshold, Rng& rng)
{
    change_fee = effective_feerate.GetFee(change_output_size);
    const Amount change_spend_fee = discard_feerate.GetFee(change_spend_size);
    cost_of_change = change_spend_fee + change_fee;
    const Amount average = recipients == 0 ? 0 : static_cast<Amount>(recipients_sum / static_cast<Amount>(recipients));
    min_change_target = GenerateChangeTarget(average, change_fee, rng);
    // Change must be no dust and worth more than spending it costs.
    min_viable_change = std::max(change_spend_fee + 1, change_dust_threshold);
}

SelectionOutcome ChooseSelectionResult(const std::vector<OutputGroup>& all, Amount target,
                                       const SelectionParams& params, Rng& rng)
{
    std::vector<SelectionResult> results;
    std::optional<SelectionError> first_error;
    auto take = [&](SelectionOutcome&& outcome) {
        if (outcome.result) {
            results.push_back(std::move(*outcome.result));
        } else if (outcome.error.max_weight_exceeded && !first_error) {
            first_error = outcome.error; // a specific reason beats "nothing found"
        }
    };

    const int max_tx_weight = params.max_tx_weight.value_or(MAX_STANDARD_TX_WEIGHT);
    int max_selection_weight = max_tx_weight - params.tx_noinputs_size * WITNESS_SCALE_FACTOR;
    if (max_selection_weight <= 0) {
        SelectionOutcome out;
        out.error.message = "Maximum transaction weight is less than transaction weight without inputs";
        return out;
    }

    std::vector<OutputGroup> positive;
    for (const OutputGroup& group : all) {
        if (group.GetSelectionAmount() > 0) positive.push_back(group);
    }
    std::vector<OutputGroup> mixed = all;

    // A changeless input set and subtractfeefromamount go badly together: BnB is skipped then.
    if (!params.subtract_fee_outputs) {
        std::vector<OutputGroup> pool = positive;
        take(SelectCoinsBnB(pool, target, params.cost_of_change, max_selection_weight));
    }
    // The others may make change, whose weight must fit too.
    max_selection_weight -= params.change_output_size * WITNESS_SCALE_FACTOR;
    if (max_selection_weight < 0 && results.empty()) {
        SelectionOutcome out;
        out.error.message = "Maximum transaction weight is too low, can not accommodate change output";
        return out;
    }
    // Knapsack keeps its old habit of also spending groups worth less than their fee.
    take(KnapsackSolver(mixed, target, params.min_change_target, rng, max_selection_weight));
    if (params.effective_feerate.per_kvb > 3 * params.long_term_feerate.per_kvb) {
        std::vector<OutputGroup> pool = positive;
        take(CoinGrinder(pool, target, params.min_change_target, max_selection_weight));
    }
    take(SelectCoinsSRD(positive, target, params.change_fee, rng, max_selection_weight));

    if (results.empty()) {
        SelectionOutcome out;
        out.error = first_error.value_or(SelectionError{false, "Insufficient funds"});
        return out;
    }
    for (SelectionResult& result : results) {
        result.RecalculateWaste(params.min_viable_change, params.cost_of_change, params.change_fee);
    }
    return Success(*std::min_element(results.begin(), results.end()));
}

std::vector<OutputGroup> GroupOutputs(const std::vector<SelectableCoin>& coins, const EligibilityFilter& filter,
                                      bool avoid_partial_spends, bool subtract_fee_outputs, bool keep_negative)
{
    std::vector<OutputGroup> out;
    auto keep = [&](const OutputGroup& group) {
        return !group.coins.empty() && group.EligibleForSpending(filter) &&
               (keep_negative || group.GetSelectionAmount() > 0);
    };
    if (!avoid_partial_spends) {
        for (const SelectableCoin& coin : coins) {
            OutputGroup group;
            group.subtract_fee_outputs = subtract_fee_outputs;
            group.Insert(coin);
            if (keep(group)) out.push_back(std::move(group));
        }
        return out;
    }
    // Coins of one script (and output type) go together, at most OUTPUT_GROUP_MAX_ENTRIES per group. Without
    // keep_negative, coins worth less than their fee stay out of the groups altogether.
    std::map<std::pair<Script, int>, std::vector<OutputGroup>> by_script;
    for (const SelectableCoin& coin : coins) {
        if (!keep_negative && coin.effective_value <= 0 && !subtract_fee_outputs) continue;
        auto& groups = by_script[{coin.txout.script_pubkey, coin.output_type}];
        if (groups.empty() || groups.back().coins.size() >= OUTPUT_GROUP_MAX_ENTRIES) {
            groups.emplace_back();
            groups.back().subtract_fee_outputs = subtract_fee_outputs;
        }
        groups.back().Insert(coin);
    }
    for (const auto& [script, groups] : by_script) {
        // The last group of a script may be partial: it is used only when partial groups are allowed or it is the
        // only one.
        for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
            if (it == groups.rbegin() && groups.size() > 1 && !filter.include_partial_groups) continue;
            if (keep(*it)) out.push_back(*it);
        }
    }
    return out;
}

SelectionOutcome SelectCoins(std::vector<SelectableCoin> coins, Amount target, const SelectionParams& params,
                             bool avoid_partial_spends, bool spend_zero_conf_change, bool include_unsafe,
                             size_t max_ancestors, size_t max_descendants, Rng& rng)
{
    Amount available = 0;
    for (SelectableCoin& coin : coins) {
        coin.SetFeeRates(params.effective_feerate, params.long_term_feerate);
        if (!include_unsafe && !coin.safe) continue;
        // As Core: effective values, negative ones included.
        available += params.subtract_fee_outputs ? coin.txout.value : coin.effective_value;
    }
    if (target > available) return Failure(false);
    if (!include_unsafe) {
        std::erase_if(coins, [](const SelectableCoin& coin) { return !coin.safe; });
    }

    struct Step {
        EligibilityFilter filter;
        bool allow_mixed_output_types{true};
    };
    const uint64_t anc = max_ancestors;
    const uint64_t desc = max_descendants;
    std::vector<Step> steps{
        // Confirmed coins first, with six confirmations on what others sent.
        {EligibilityFilter{1, 6, UINT64_MAX, UINT64_MAX, false}, false},
        {EligibilityFilter{1, 1, UINT64_MAX, UINT64_MAX, false}, true},
    };
    if (spend_zero_conf_change) {
        // Then unconfirmed change, with as few mempool ancestors as possible.
        steps.push_back({EligibilityFilter{0, 1, 2, UINT64_MAX, false}, true});
        steps.push_back(
            {EligibilityFilter{0, 1, std::min<uint64_t>(4, anc / 3), std::min<uint64_t>(4, desc / 3), false}, true});
        steps.push_back({EligibilityFilter{0, 1, anc / 2, desc / 2, false}, true});
        steps.push_back({EligibilityFilter{0, 1, anc - 1, desc - 1, true}, true});
        if (include_unsafe) steps.push_back({EligibilityFilter{0, 0, anc - 1, desc - 1, true}, true});
    }

    SelectionOutcome last = Failure(false);
    for (const Step& step : steps) {
        // Each output type on its own first: mixing types in one transaction tells which coins are one wallet's.
        std::map<int, std::vector<OutputGroup>> by_type;
        std::vector<OutputGroup> all =
            GroupOutputs(coins, step.filter, avoid_partial_spends, params.subtract_fee_outputs, /*keep_negative=*/true);
        for (const OutputGroup& group : all) by_type[group.coins.front().output_type].push_back(group);
        std::optional<SelectionResult> best;
        for (const auto& [type, groups] : by_type) {
            SelectionOutcome outcome = ChooseSelectionResult(groups, target, params, rng);
            if (!outcome.result && outcome.error.max_weight_exceeded) last = outcome;
            if (outcome.result && (!best || *outcome.result < *best)) best = std::move(outcome.result);
        }
        if (best) return Success(std::move(*best));
        if (step.allow_mixed_output_types && by_type.size() > 1) {
            SelectionOutcome outcome = ChooseSelectionResult(all, target, params, rng);
            if (outcome.result) return outcome;
            if (outcome.error.max_weight_exceeded) last = outcome;
        }
    }
    return last;
}

} // namespace orrery::wallet
