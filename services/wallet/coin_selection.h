// Coin selection as Bitcoin Core 28 does it (wallet/coinselection.cpp and the
// choice in wallet/spend.cpp): coins are grouped (by script, with
// -avoidpartialspends), valued at the transaction's fee rate (effective value),
// and several algorithms each propose an input set — branch-and-bound for a
// changeless match, CoinGrinder for the lightest set at high fee rates,
// knapsack, single random draw — of which the one with the least waste wins.
// A pure library: no database, no IPC, no clock; the caller passes the coins,
// the fee rates and a random generator, so tests fix every input.
#ifndef ORRERY_SERVICES_WALLET_COIN_SELECTION_H
#define ORRERY_SERVICES_WALLET_COIN_SELECTION_H

#include <common/consensus/amount.h>
#include <common/consensus/transaction.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace orrery::wallet {

//! Core's CHANGE_LOWER / CHANGE_UPPER: the range of the random change target.
inline constexpr Amount CHANGE_LOWER = 50'000;
inline constexpr Amount CHANGE_UPPER = 1'000'000;
//! Core's OUTPUT_GROUP_MAX_ENTRIES: coins of one script beyond this form further groups.
inline constexpr size_t OUTPUT_GROUP_MAX_ENTRIES = 100;
//! Core's MAX_STANDARD_TX_WEIGHT.
inline constexpr int MAX_STANDARD_TX_WEIGHT = 400'000;
inline constexpr int WITNESS_SCALE_FACTOR = 4;

//! A fee rate in satoshis per 1000 virtual bytes (Core's CFeeRate).
struct FeeRate {
    Amount per_kvb{0};
    //! The fee of `vsize` virtual bytes, rounded up, at least 1 satoshi for a positive rate (CFeeRate::GetFee).
    Amount GetFee(int64_t vsize) const;
    friend auto operator<=>(const FeeRate&, const FeeRate&) = default;
};

//! A coin the wallet may spend, with what selection needs to know of it.
struct SelectableCoin {
    OutPoint outpoint;
    TxOut txout;
    int depth{0};          //!< confirmations; 0 in the mempool
    int input_bytes{-1};   //!< virtual size of the signed input; -1 when the wallet cannot tell
    bool from_me{true};    //!< the wallet made the transaction that created it (change or a self-send)
    bool safe{true};       //!< confirmed, or unconfirmed from the wallet and not replaceable by others
    size_t ancestors{0};   //!< unconfirmed ancestors in the mempool, itself included (0 when confirmed)
    size_t descendants{0}; //!< unconfirmed descendants in the mempool, itself included
    int output_type{0};    //!< the caller's output type id (legacy, p2sh-segwit, bech32, bech32m...)
    // Filled by SetFeeRates:
    Amount fee{0};             //!< the input's fee at the effective fee rate
    Amount long_term_fee{0};   //!< the same at the long-term fee rate
    Amount effective_value{0}; //!< value - fee
    //! The weight of the signed input (input_bytes * 4).
    int Weight() const { return input_bytes * WITNESS_SCALE_FACTOR; }
    //! Computes fee, long_term_fee and effective_value; an unknown size counts as a zero fee, as Core.
    void SetFeeRates(FeeRate effective, FeeRate long_term);
};

//! Which coins a selection pass may use (Core's CoinEligibilityFilter).
struct EligibilityFilter {
    int conf_mine{1};   //!< confirmations needed on coins the wallet made
    int conf_theirs{6}; //!< ... and on coins received from others
    uint64_t max_ancestors{std::numeric_limits<uint64_t>::max()};
    uint64_t max_descendants{std::numeric_limits<uint64_t>::max()};
    bool include_partial_groups{false};
};

//! Coins spent together (one coin, or all coins of one script with -avoidpartialspends), as Core's OutputGroup.
struct OutputGroup {
    std::vector<SelectableCoin> coins;
    bool from_me{true};
    Amount value{0};
    int depth{999};
    size_t ancestors{0};
    size_t descendants{0};
    Amount effective_value{0};
    Amount fee{0};
    Amount long_term_fee{0};
    int weight{0};
    //! With subtractfeefromamount the recipients pay the fees: groups count at their full value.
    bool subtract_fee_outputs{false};

    void Insert(const SelectableCoin& coin);
    bool EligibleForSpending(const EligibilityFilter& filter) const;
    Amount GetSelectionAmount() const { return subtract_fee_outputs ? value : effective_value; }
};

enum class SelectionAlgorithm { BNB, KNAPSACK, SRD, CG, MANUAL };
//! "bnb", "knapsack", "srd", "cg", "manual" (Core's GetAlgorithmName).
std::string AlgorithmName(SelectionAlgorithm algorithm);

//! An input set and its waste.
class SelectionResult
{
public:
    SelectionResult(Amount target, SelectionAlgorithm algorithm) : m_target{target}, m_algorithm{algorithm} {}

    void AddInput(const OutputGroup& group);
    void Clear();
    const std::vector<SelectableCoin>& Inputs() const { return m_inputs; }
    Amount SelectedValue() const;
    Amount SelectedEffectiveValue() const;
    int Weight() const { return m_weight; }
    Amount Target() const { return m_target; }
    SelectionAlgorithm Algorithm() const { return m_algorithm; }
    //! Core's GetChange: what is left for a change output after `change_fee`, or 0 when below `min_viable_change`.
    Amount GetChange(Amount min_viable_change, Amount change_fee) const;
    //! Core's RecalculateWaste: Σ(fee − long-term fee) of the inputs, plus `change_cost` when there is change,
    //! else the excess given to the miners.
    void RecalculateWaste(Amount min_viable_change, Amount change_cost, Amount change_fee);
    Amount Waste() const { return m_waste.value_or(0); }
    //! Whether the search was exhaustive (CoinGrinder may stop at its attempt limit).
    bool Completed() const { return m_completed; }
    void SetCompleted(bool completed) { m_completed = completed; }
    //! The better of two results: less waste, then more inputs (Core's operator<).
    bool operator<(const SelectionResult& other) const;

private:
    std::vector<SelectableCoin> m_inputs;
    Amount m_target;
    SelectionAlgorithm m_algorithm;
    bool m_use_effective{false};
    int m_weight{0};
    std::optional<Amount> m_waste;
    bool m_completed{true};
};

//! Why a selection failed: nothing reached the target, or only sets too heavy for a standard transaction.
struct SelectionError {
    bool max_weight_exceeded{false};
    //! Core's message for the weight case, or "Insufficient funds".
    std::string message;
};

//! A result or why there is none.
struct SelectionOutcome {
    std::optional<SelectionResult> result;
    SelectionError error;
    explicit operator bool() const { return result.has_value(); }
};

using Rng = std::mt19937_64;

//! Branch-and-bound (Core's SelectCoinsBnB): an input set whose selection amount lies in [target, target +
//! cost_of_change], needing no change, with the least waste; gives up after 100,000 steps. `groups` (all of
//! positive selection amount) is reordered.
SelectionOutcome SelectCoinsBnB(std::vector<OutputGroup>& groups, Amount target, Amount cost_of_change,
                                int max_selection_weight);
//! CoinGrinder: the lightest input set reaching target + change_target (ties: the smaller amount).
SelectionOutcome CoinGrinder(std::vector<OutputGroup>& groups, Amount target, Amount change_target,
                             int max_selection_weight);
//! Core's KnapsackSolver: an exact match if one coin or all the small ones give it, else a stochastic subset sum
//! toward target (+ change_target), else the smallest coin larger than both.
SelectionOutcome KnapsackSolver(std::vector<OutputGroup>& groups, Amount target, Amount change_target, Rng& rng,
                                int max_selection_weight);
//! Single random draw: random coins until target + CHANGE_LOWER + change_fee is reached, dropping the smallest
//! when too heavy.
SelectionOutcome SelectCoinsSRD(const std::vector<OutputGroup>& groups, Amount target, Amount change_fee, Rng& rng,
                                int max_selection_weight);

//! Core's GenerateChangeTarget: change_fee + CHANGE_LOWER for small payments, else a random amount between
//! CHANGE_LOWER and min(2 × payment, CHANGE_UPPER).
Amount GenerateChangeTarget(Amount payment_value, Amount change_fee, Rng& rng);

//! What the transaction being funded looks like, and what change costs (Core's CoinSelectionParams).
struct SelectionParams {
    FeeRate effective_feerate;         //!< the transaction's fee rate
    FeeRate long_term_feerate{10'000}; //!< -consolidatefeerate (10 sat/vB)
    FeeRate discard_feerate{3'000};    //!< -discardfee, at least the dust relay fee
    int change_output_size{31};        //!< serialized size of the change output (31 for P2WPKH)
    int change_spend_size{68};         //!< virtual size of spending it later (68 for P2WPKH)
    int tx_noinputs_size{0};           //!< virtual size of the transaction without inputs and change
    bool subtract_fee_outputs{false};
    std::optional<int> max_tx_weight; //!< MAX_STANDARD_TX_WEIGHT when not set
    // Derived by Finish():
    Amount change_fee{0};        //!< fee of the change output itself
    Amount cost_of_change{0};    //!< making and later spending change
    Amount min_change_target{0}; //!< the random change target
    Amount min_viable_change{0}; //!< change below this goes to the miners
    //! Computes the derived fields as Core's CreateTransactionInternal: `recipients_sum` over `recipients` outputs;
    //! `change_dust_threshold` is the dust limit of the change output at the discard rate.
    void Finish(Amount recipients_sum, size_t recipients, Amount change_dust_threshold, Rng& rng);
};

//! Every algorithm over `groups`, the least waste wins (Core's ChooseSelectionResult). The groups' fee rates must
//! already be set. BnB is skipped with subtract_fee_outputs; CoinGrinder runs when the fee rate is above 3× the
//! long-term rate.
SelectionOutcome ChooseSelectionResult(const std::vector<OutputGroup>& groups, Amount target,
                                       const SelectionParams& params, Rng& rng);

//! Groups `coins` (with their fee rates set) for one eligibility filter: one group per coin, or per script and
//! at most OUTPUT_GROUP_MAX_ENTRIES coins when `avoid_partial_spends`; groups of non-positive selection amount
//! are left out unless `keep_negative` (knapsack's "mixed" groups).
std::vector<OutputGroup> GroupOutputs(const std::vector<SelectableCoin>& coins, const EligibilityFilter& filter,
                                      bool avoid_partial_spends, bool subtract_fee_outputs, bool keep_negative);

//! Core's AutomaticCoinSelection: the eligibility filters from strictest to loosest (confirmed coins, then change
//! with 0 confirmations, more ancestors, partial groups, unsafe coins, ...), each first without mixing output
//! types; the first filter that funds `target` decides. `coins` get their fee rates set here.
SelectionOutcome SelectCoins(std::vector<SelectableCoin> coins, Amount target, const SelectionParams& params,
                             bool avoid_partial_spends, bool spend_zero_conf_change, bool include_unsafe,
                             size_t max_ancestors, size_t max_descendants, Rng& rng);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_COIN_SELECTION_H
