// The rules of wallet transactions (services/wallet/spend_rules.h): where the
// fee rate comes from, the sizes of signed inputs, dust, the anti-fee-sniping
// lock time and the amounts of the wallet's options, with Core 28's figures.
#include <services/wallet/spend_rules.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::wallet;

namespace {

Script P2wpkh()
{
    Script s{0x00, 20};
    s.resize(22, 0x11);
    return s;
}

Script P2pkh()
{
    Script s{0x76, 0xa9, 20};
    s.resize(23, 0x22);
    s.push_back(0x88);
    s.push_back(0xac);
    return s;
}

Script P2shP2wpkh()
{
    Script s{0xa9, 20};
    s.resize(22, 0x33);
    s.push_back(0x87);
    return s;
}

Script P2tr()
{
    Script s{0x51, 32};
    s.resize(34, 0x44);
    return s;
}

} // namespace

TEST_CASE("inputs signed with the largest signatures have the virtual sizes of Core's maximal dummy signer")
{
    CHECK(InputVirtualSize(*DummySignedInput({}, P2wpkh())) == 68);
    CHECK(InputVirtualSize(*DummySignedInput({}, P2pkh())) == 149);
    CHECK(InputVirtualSize(*DummySignedInput({}, P2shP2wpkh())) == 91);
    CHECK(InputVirtualSize(*DummySignedInput({}, P2tr())) == 58);
    CHECK_FALSE(DummySignedInput({}, Script{0x6a, 0x01, 0x00}).has_value());
}

TEST_CASE("dust thresholds at the default dust relay fee are Core's 294 and 546 satoshis")
{
    const FeeRate dust_relay{3000};
    CHECK(DustThreshold(TxOut{0, P2wpkh()}, dust_relay) == 294);
    CHECK(DustThreshold(TxOut{0, P2pkh()}, dust_relay) == 546);
    CHECK(DustThreshold(TxOut{0, P2tr()}, dust_relay) == 330);
    CHECK(IsDust(TxOut{293, P2wpkh()}, dust_relay));
    CHECK_FALSE(IsDust(TxOut{294, P2wpkh()}, dust_relay));
    CHECK(DustThreshold(TxOut{0, Script{0x6a}}, dust_relay) == 0);
}

TEST_CASE("an explicit fee rate wins over every other source, even below the minimum")
{
    FeeInputs inputs;
    inputs.explicit_rate = FeeRate{500};
    inputs.estimate = 20'000;
    const FeeChoice choice = ChooseFeeRate(inputs, SpendOptions{});
    CHECK(choice.rate.per_kvb == 500);
    CHECK(choice.reason == FeeReason::EXPLICIT);
}

TEST_CASE("without an estimate and with fallbackfee 0 the rate is 0, which the caller refuses")
{
    FeeInputs inputs;
    inputs.estimate = 0;
    const FeeChoice choice = ChooseFeeRate(inputs, SpendOptions{});
    CHECK(choice.rate.per_kvb == 0);
    CHECK(choice.reason == FeeReason::FALLBACK);
}

TEST_CASE("the fallback fee applies without an estimate and is raised to the mempool minimum and required fee")
{
    SpendOptions options;
    options.fallback_fee = FeeRate{2'000};
    FeeInputs inputs;
    CHECK(ChooseFeeRate(inputs, options).rate.per_kvb == 2'000);
    inputs.mempool_min = 5'000;
    CHECK(ChooseFeeRate(inputs, options).rate.per_kvb == 5'000);
    CHECK(ChooseFeeRate(inputs, options).reason == FeeReason::MEMPOOL_MIN);
    options.min_tx_fee = FeeRate{8'000};
    CHECK(ChooseFeeRate(inputs, options).rate.per_kvb == 8'000);
    CHECK(ChooseFeeRate(inputs, options).reason == FeeReason::REQUIRED);
}

TEST_CASE("paytxfee replaces the estimate unless the call gives a confirmation target")
{
    SpendOptions options;
    options.pay_tx_fee = FeeRate{3'000};
    FeeInputs inputs;
    inputs.estimate = 12'000;
    CHECK(ChooseFeeRate(inputs, options).rate.per_kvb == 3'000);
    CHECK(ChooseFeeRate(inputs, options).reason == FeeReason::PAYTXFEE);
    inputs.conf_target = 2;
    CHECK(ChooseFeeRate(inputs, options).rate.per_kvb == 12'000);
    CHECK(ChooseFeeRate(inputs, options).reason == FeeReason::ESTIMATE);
}

TEST_CASE("the anti-fee-sniping lock time is the tip's height, a little less one time in ten, 0 on an old tip")
{
    Rng rng{42};
    int at_tip = 0;
    for (int i = 0; i < 1000; ++i) {
        const uint32_t lock_time = AntiFeeSnipingLockTime(500, 1'000'000, 1'000'100, rng);
        CHECK(lock_time <= 500);
        CHECK(lock_time >= 401);
        if (lock_time == 500) ++at_tip;
    }
    CHECK(at_tip > 850);
    CHECK(AntiFeeSnipingLockTime(500, 1'000'000, 1'000'000 + MAX_ANTI_FEE_SNIPING_TIP_AGE + 1, rng) == 0);
}

TEST_CASE("option amounts are BTC with at most eight decimals")
{
    CHECK(ParseMoney("0.0002") == Amount{20'000});
    CHECK(ParseMoney("1") == COIN);
    CHECK(ParseMoney("0.00000001") == Amount{1});
    CHECK_FALSE(ParseMoney("0.000000001").has_value());
    CHECK_FALSE(ParseMoney("-1").has_value());
    CHECK_FALSE(ParseMoney("1e-4").has_value());
    CHECK_FALSE(ParseMoney("1.").has_value());
    CHECK_FALSE(ParseMoney("").has_value());
    CHECK_FALSE(ParseMoney("21000001").has_value());
}

TEST_CASE("fee rates print in sat/vB with three decimals")
{
    CHECK(FeeRateToString(FeeRate{1'000}) == "1.000 sat/vB");
    CHECK(FeeRateToString(FeeRate{1'234}) == "1.234 sat/vB");
    CHECK(FeeRateToString(FeeRate{100}) == "0.100 sat/vB");
}
