// Coin selection (services/wallet/coin_selection.h), scenario by scenario:
// effective values and waste as Core computes them, branch-and-bound finding a
// changeless match, CoinGrinder minimising weight, knapsack and single random
// draw as fallbacks, the least-waste choice, grouping, and the two failures
// (insufficient funds, too heavy).
#include <services/wallet/coin_selection.h>

#include <doctest/doctest.h>

#include <numeric>

using namespace orrery;
using namespace orrery::wallet;

namespace {

constexpr int P2WPKH_INPUT_VBYTES = 68;

SelectableCoin MakeCoin(Amount value, int input_bytes = P2WPKH_INPUT_VBYTES, int depth = 6, uint32_t n = 0,
                        uint8_t script_tag = 0)
{
    static uint32_t counter = 0;
    SelectableCoin coin;
    coin.outpoint.hash = *uint256::FromHex(std::string(56, '0') + [] {
        char buf[9];
        std::snprintf(buf, sizeof buf, "%08x", ++counter);
        return std::string(buf);
    }());
    coin.outpoint.n = n;
    coin.txout.value = value;
    coin.txout.script_pubkey = {0x00, 0x14};
    coin.txout.script_pubkey.resize(22, script_tag);
    coin.input_bytes = input_bytes;
    coin.depth = depth;
    return coin;
}

OutputGroup Group(Amount value, FeeRate rate = {}, FeeRate long_term = {}, int input_bytes = P2WPKH_INPUT_VBYTES)
{
    SelectableCoin coin = MakeCoin(value, input_bytes);
    coin.SetFeeRates(rate, long_term);
    OutputGroup group;
    group.Insert(coin);
    return group;
}

Amount Sum(const SelectionResult& result)
{
    return result.SelectedValue();
}

} // namespace

TEST_CASE("a coin's effective value is its value less the fee of spending it at the fee rate")
{
    SelectableCoin coin = MakeCoin(10'000);
    coin.SetFeeRates(FeeRate{10'000}, FeeRate{1'000});
    CHECK(coin.fee == 680);
    CHECK(coin.long_term_fee == 68);
    CHECK(coin.effective_value == 9'320);
    // Fees round up, and a positive rate never makes a zero fee.
    CHECK(FeeRate{1'001}.GetFee(1) == 2);
    CHECK(FeeRate{1}.GetFee(100) == 1);
    CHECK(FeeRate{0}.GetFee(100) == 0);
}

TEST_CASE("waste counts input fees above the long-term rate plus the change cost, or the excess without change")
{
    const Amount fee = 100, fee_diff = 40, change_cost = 125, change_fee = 30;
    auto coin = [&](Amount value) {
        SelectableCoin c = MakeCoin(value);
        c.fee = fee;
        c.long_term_fee = fee - fee_diff;
        c.effective_value = value - fee;
        OutputGroup g;
        g.Insert(c);
        return g;
    };
    // With change: the inputs' fee difference and the change cost.
    SelectionResult with_change(2 * COIN, SelectionAlgorithm::MANUAL);
    with_change.AddInput(coin(1 * COIN));
    with_change.AddInput(coin(2 * COIN));
    with_change.RecalculateWaste(/*min_viable_change=*/1'000, change_cost, change_fee);
    CHECK(with_change.Waste() == 2 * fee_diff + change_cost);

    // Without change (the excess is below the viable change): the excess instead.
    const Amount excess = 80;
    SelectionResult changeless(3 * COIN - 2 * fee - excess, SelectionAlgorithm::MANUAL);
    changeless.AddInput(coin(1 * COIN));
    changeless.AddInput(coin(2 * COIN));
    changeless.RecalculateWaste(/*min_viable_change=*/1'000, change_cost, change_fee);
    CHECK(changeless.GetChange(1'000, change_fee) == 0);
    CHECK(changeless.Waste() == 2 * fee_diff + excess);

    // Below the long-term rate, inputs lower the waste.
    SelectableCoin cheap = MakeCoin(COIN);
    cheap.SetFeeRates(FeeRate{1'000}, FeeRate{10'000});
    OutputGroup g;
    g.Insert(cheap);
    SelectionResult cheap_result(cheap.effective_value, SelectionAlgorithm::MANUAL);
    cheap_result.AddInput(g);
    cheap_result.RecalculateWaste(1'000, change_cost, change_fee);
    CHECK(cheap_result.Waste() == 68 - 680);
}

TEST_CASE("branch and bound finds an exact changeless match")
{
    std::vector<OutputGroup> pool;
    for (Amount v : {1, 2, 3, 4, 5}) pool.push_back(Group(v * COIN));
    auto outcome = SelectCoinsBnB(pool, 10 * COIN, /*cost_of_change=*/0, MAX_STANDARD_TX_WEIGHT);
    REQUIRE(outcome);
    CHECK(Sum(*outcome.result) == 10 * COIN);
    CHECK(outcome.result->Algorithm() == SelectionAlgorithm::BNB);
    CHECK(outcome.result->Waste() == 0);

    // Within the cost of change is a match too; beyond it is not.
    pool.clear();
    for (Amount v : {1'000'000, 2'000'000, 3'500'000}) pool.push_back(Group(v));
    CHECK(SelectCoinsBnB(pool, 3'400'000, 100'000, MAX_STANDARD_TX_WEIGHT));
    CHECK_FALSE(SelectCoinsBnB(pool, 3'300'000, 100'000, MAX_STANDARD_TX_WEIGHT));
}

TEST_CASE("branch and bound fails when no subset lands in the range, and selection falls back to change")
{
    std::vector<OutputGroup> pool;
    for (Amount v : {4 * COIN, 7 * COIN}) pool.push_back(Group(v, FeeRate{5'000}, FeeRate{10'000}));
    auto copy = pool;
    CHECK_FALSE(SelectCoinsBnB(copy, 5 * COIN, 1'000, MAX_STANDARD_TX_WEIGHT));

    Rng rng(1);
    SelectionParams params;
    params.effective_feerate = FeeRate{5'000};
    params.Finish(5 * COIN, 1, 546, rng);
    const auto outcome = ChooseSelectionResult(pool, 5 * COIN, params, rng);
    REQUIRE(outcome);
    CHECK(outcome.result->Algorithm() != SelectionAlgorithm::BNB);
    CHECK(outcome.result->GetChange(params.min_viable_change, params.change_fee) > 0);
}

TEST_CASE("the changeless match wins on waste when there is one")
{
    Rng rng(7);
    SelectionParams params;
    params.effective_feerate = FeeRate{2'000};
    params.long_term_feerate = FeeRate{10'000};
    params.Finish(3 * COIN, 1, 546, rng);
    std::vector<OutputGroup> pool;
    // Two coins whose effective values add up exactly to the target, among others.
    const OutputGroup a = Group(COIN, params.effective_feerate, params.long_term_feerate);
    const OutputGroup b = Group(2 * COIN, params.effective_feerate, params.long_term_feerate);
    pool = {a, b, Group(10 * COIN, params.effective_feerate, params.long_term_feerate),
            Group(COIN / 3, params.effective_feerate, params.long_term_feerate)};
    const Amount target = a.effective_value + b.effective_value;
    const auto outcome = ChooseSelectionResult(pool, target, params, rng);
    REQUIRE(outcome);
    CHECK(outcome.result->Algorithm() == SelectionAlgorithm::BNB);
    CHECK(outcome.result->SelectedEffectiveValue() == target);
    CHECK(outcome.result->GetChange(params.min_viable_change, params.change_fee) == 0);
}

TEST_CASE("CoinGrinder picks the lightest input set")
{
    // Equal amounts, different weights: the lighter ones.
    std::vector<OutputGroup> pool;
    for (int i = 0; i < 3; ++i) pool.push_back(Group(COIN, {}, {}, /*input_bytes=*/150));
    for (int i = 0; i < 3; ++i) pool.push_back(Group(COIN, {}, {}, /*input_bytes=*/58));
    auto outcome = CoinGrinder(pool, 2 * COIN, /*change_target=*/0, MAX_STANDARD_TX_WEIGHT);
    REQUIRE(outcome);
    CHECK(outcome.result->Weight() == 2 * 58 * WITNESS_SCALE_FACTOR);
    CHECK(outcome.result->Completed());

    // One big heavy coin against many light small ones: the single coin weighs less than the ten.
    pool.clear();
    pool.push_back(Group(3 * COIN, {}, {}, 150));
    for (int i = 0; i < 10; ++i) pool.push_back(Group(COIN / 5, {}, {}, 58));
    outcome = CoinGrinder(pool, COIN, COIN / 10, MAX_STANDARD_TX_WEIGHT);
    REQUIRE(outcome);
    CHECK(outcome.result->Inputs().size() == 1);
    CHECK(outcome.result->Weight() == 600);

    // Not enough in total.
    CHECK_FALSE(CoinGrinder(pool, 6 * COIN, 0, MAX_STANDARD_TX_WEIGHT));
}

TEST_CASE("at a fee rate above three times the long-term rate, the lightest set wins")
{
    Rng rng(3);
    SelectionParams params;
    params.effective_feerate = FeeRate{100'000}; // 100 sat/vB
    params.long_term_feerate = FeeRate{10'000};
    params.Finish(COIN, 1, 546, rng);
    std::vector<OutputGroup> pool;
    pool.push_back(Group(2 * COIN, params.effective_feerate, params.long_term_feerate));
    for (int i = 0; i < 30; ++i) pool.push_back(Group(COIN / 10, params.effective_feerate, params.long_term_feerate));
    const auto outcome = ChooseSelectionResult(pool, COIN, params, rng);
    REQUIRE(outcome);
    CHECK(outcome.result->Inputs().size() == 1);
    CHECK(outcome.result->SelectedValue() == 2 * COIN);
}

TEST_CASE("knapsack takes an exact coin, else the smallest larger coin when small ones do not reach")
{
    Rng rng(5);
    std::vector<OutputGroup> pool = {Group(COIN), Group(3 * COIN), Group(5 * COIN)};
    auto outcome = KnapsackSolver(pool, 3 * COIN, CHANGE_LOWER, rng, MAX_STANDARD_TX_WEIGHT);
    REQUIRE(outcome);
    CHECK(Sum(*outcome.result) == 3 * COIN);
    CHECK(outcome.result->Inputs().size() == 1);

    pool = {Group(COIN / 10), Group(COIN / 10), Group(7 * COIN), Group(9 * COIN)};
    outcome = KnapsackSolver(pool, 2 * COIN, CHANGE_LOWER, rng, MAX_STANDARD_TX_WEIGHT);
    REQUIRE(outcome);
    CHECK(Sum(*outcome.result) == 7 * COIN);

    // All the small ones together make the target exactly.
    pool = {Group(COIN), Group(COIN), Group(COIN), Group(20 * COIN)};
    outcome = KnapsackSolver(pool, 3 * COIN, CHANGE_LOWER, rng, MAX_STANDARD_TX_WEIGHT);
    REQUIRE(outcome);
    CHECK(outcome.result->Inputs().size() == 3);
}

TEST_CASE("single random draw reaches the target plus the lowest change target")
{
    Rng rng(11);
    std::vector<OutputGroup> pool;
    for (int i = 0; i < 20; ++i) pool.push_back(Group(10'000'000));
    for (int round = 0; round < 20; ++round) {
        const auto outcome = SelectCoinsSRD(pool, 25'000'000, 1'000, rng, MAX_STANDARD_TX_WEIGHT);
        REQUIRE(outcome);
        CHECK(Sum(*outcome.result) >= 25'000'000 + CHANGE_LOWER + 1'000);
        CHECK(outcome.result->Inputs().size() == 3);
    }
}

TEST_CASE("selection fails with Insufficient funds, or with Core's message when only too heavy sets would do")
{
    Rng rng(13);
    SelectionParams params;
    params.effective_feerate = FeeRate{1'000};
    params.Finish(COIN, 1, 546, rng);
    std::vector<SelectableCoin> coins = {MakeCoin(COIN / 2), MakeCoin(COIN / 4)};
    auto outcome = SelectCoins(coins, COIN, params, false, true, false, 25, 25, rng);
    CHECK_FALSE(outcome);
    CHECK(outcome.error.message == "Insufficient funds");

    // 1,000 coins of 0.01 BTC at 1,000 vbytes each: any set reaching 5 BTC is far above the standard weight.
    coins.clear();
    for (int i = 0; i < 1000; ++i) coins.push_back(MakeCoin(COIN / 100, 1'000));
    outcome = SelectCoins(coins, 5 * COIN, params, false, true, false, 25, 25, rng);
    CHECK_FALSE(outcome);
    CHECK(outcome.error.max_weight_exceeded);
    CHECK(outcome.error.message.starts_with("The inputs size exceeds the maximum weight"));
}

TEST_CASE("confirmed coins are used before unconfirmed change, which is used only when allowed")
{
    Rng rng(17);
    SelectionParams params;
    params.effective_feerate = FeeRate{1'000};
    params.Finish(COIN, 1, 546, rng);
    SelectableCoin unconfirmed = MakeCoin(5 * COIN, P2WPKH_INPUT_VBYTES, /*depth=*/0);
    unconfirmed.ancestors = 1;
    unconfirmed.descendants = 1;
    const SelectableCoin confirmed = MakeCoin(2 * COIN);
    auto outcome = SelectCoins({unconfirmed, confirmed}, COIN, params, false, true, false, 25, 25, rng);
    REQUIRE(outcome);
    REQUIRE(outcome.result->Inputs().size() == 1);
    CHECK(outcome.result->Inputs()[0].outpoint == confirmed.outpoint);

    // Only the unconfirmed change reaches 4 BTC: allowed with -spendzeroconfchange, refused without.
    outcome = SelectCoins({unconfirmed, confirmed}, 4 * COIN, params, false, true, false, 25, 25, rng);
    REQUIRE(outcome);
    CHECK(outcome.result->Inputs().front().outpoint == unconfirmed.outpoint);
    CHECK_FALSE(SelectCoins({unconfirmed, confirmed}, 4 * COIN, params, false, false, false, 25, 25, rng));

    // A coin received from others needs six confirmations in the first pass, one in the second.
    SelectableCoin theirs = MakeCoin(3 * COIN, P2WPKH_INPUT_VBYTES, /*depth=*/1);
    theirs.from_me = false;
    outcome = SelectCoins({theirs}, COIN, params, false, false, false, 25, 25, rng);
    CHECK(outcome);
    // Unsafe coins (unconfirmed from others) are never used unless asked.
    SelectableCoin unsafe = MakeCoin(3 * COIN, P2WPKH_INPUT_VBYTES, 0);
    unsafe.from_me = false;
    unsafe.safe = false;
    CHECK_FALSE(SelectCoins({unsafe}, COIN, params, false, true, false, 25, 25, rng));
    CHECK(SelectCoins({unsafe}, COIN, params, false, true, true, 25, 25, rng));
}

TEST_CASE("with avoid-partial-spends, coins of one script are spent together, at most 100 per group")
{
    std::vector<SelectableCoin> coins;
    for (int i = 0; i < 3; ++i) coins.push_back(MakeCoin(COIN, P2WPKH_INPUT_VBYTES, 6, i, /*script_tag=*/1));
    coins.push_back(MakeCoin(COIN, P2WPKH_INPUT_VBYTES, 6, 0, /*script_tag=*/2));
    for (auto& coin : coins) coin.SetFeeRates(FeeRate{1'000}, FeeRate{10'000});
    const EligibilityFilter filter{1, 1};
    CHECK(GroupOutputs(coins, filter, false, false, true).size() == 4);
    const auto grouped = GroupOutputs(coins, filter, true, false, true);
    REQUIRE(grouped.size() == 2);
    std::vector<size_t> sizes = {grouped[0].coins.size(), grouped[1].coins.size()};
    std::sort(sizes.begin(), sizes.end());
    CHECK(sizes == std::vector<size_t>{1, 3});

    // 150 coins of one script: a full group of 100 and a partial one of 50, used only when partial groups are.
    coins.clear();
    for (uint32_t i = 0; i < 150; ++i) coins.push_back(MakeCoin(COIN, P2WPKH_INPUT_VBYTES, 6, i, 3));
    for (auto& coin : coins) coin.SetFeeRates(FeeRate{1'000}, FeeRate{10'000});
    auto groups = GroupOutputs(coins, filter, true, false, true);
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].coins.size() == 100);
    EligibilityFilter partial = filter;
    partial.include_partial_groups = true;
    groups = GroupOutputs(coins, partial, true, false, true);
    CHECK(groups.size() == 2);
}

TEST_CASE("the change target is random between the bounds for larger payments")
{
    Rng rng(19);
    CHECK(GenerateChangeTarget(20'000, 100, rng) == 100 + CHANGE_LOWER);
    for (int i = 0; i < 100; ++i) {
        const Amount target = GenerateChangeTarget(10 * COIN, 100, rng);
        CHECK(target >= 100 + CHANGE_LOWER);
        CHECK(target < 100 + CHANGE_UPPER);
    }
    SelectionParams params;
    params.effective_feerate = FeeRate{10'000};
    params.discard_feerate = FeeRate{3'000};
    params.Finish(COIN, 1, 294, rng);
    CHECK(params.change_fee == 310);           // 31 vbytes at 10 sat/vB
    CHECK(params.cost_of_change == 310 + 204); // plus 68 vbytes at 3 sat/vB
    CHECK(params.min_viable_change == 294);    // the dust limit is above 205
}
