// BIP9's state machine (services/node/validation/versionbits.h) over header
// trees built in the test: each state and its transitions, the timeout, the
// minimum activation height, statistics and signalling, forks that disagree
// within a period, and the block version of templates.
#include <services/node/validation/versionbits.h>

#include <doctest/doctest.h>

#include <deque>

using namespace orrery;
using namespace orrery::node;

namespace {

constexpr int PERIOD = 10;
constexpr int THRESHOLD = 8;
constexpr int64_t FIRST_TIME = 1'000'000;
constexpr int32_t SIGNAL = VERSIONBITS_TOP_BITS | (1 << 5);

//! A small deployment on bit 5 starting at `start` (a median time past), period 10, threshold 8.
ConsensusParams ParamsWith(int64_t start, int64_t timeout = Bip9Deployment::NO_TIMEOUT, int min_activation = 0)
{
    ConsensusParams params;
    params.testdummy = Bip9Deployment{.bit = 5,
                                      .start_time = start,
                                      .timeout = timeout,
                                      .min_activation_height = min_activation,
                                      .threshold = THRESHOLD,
                                      .period = PERIOD};
    params.taproot = Bip9Deployment{.bit = 2, .start_time = Bip9Deployment::ALWAYS_ACTIVE};
    return params;
}

//! A header tree whose entries stay put (a deque never moves them).
struct Tree {
    std::deque<BlockIndex> entries;

    //! A block after `prev` (null: genesis) with `version`, ten minutes after its parent.
    const BlockIndex* Add(const BlockIndex* prev, int32_t version)
    {
        BlockIndex& entry = entries.emplace_back();
        entry.prev = const_cast<BlockIndex*>(prev);
        entry.height = prev ? prev->height + 1 : 0;
        entry.header.version = version;
        entry.header.time = static_cast<uint32_t>(FIRST_TIME + 600 * entry.height);
        entry.BuildSkip();
        return &entry;
    }
    //! `count` blocks on `tip`, the first `signalling` of them signalling.
    const BlockIndex* Extend(const BlockIndex* tip, int count, int signalling)
    {
        for (int i = 0; i < count; ++i) tip = Add(tip, i < signalling ? SIGNAL : VERSIONBITS_TOP_BITS);
        return tip;
    }
};

} // namespace

TEST_CASE("a deployment goes defined, started, locked in and active as its periods signal")
{
    const ConsensusParams params = ParamsWith(0);
    VersionBitsCache cache;
    Tree tree;
    const BlockIndex* tip = tree.Add(nullptr, VERSIONBITS_TOP_BITS);
    CHECK(cache.State(nullptr, params, DeploymentPos::TESTDUMMY) == ThresholdState::DEFINED);
    tip = tree.Extend(tip, PERIOD - 2, 0); // height 8: the first period is DEFINED whatever its times
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::DEFINED);
    tip = tree.Extend(tip, 1, 0); // height 9 ends the period
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::STARTED);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == PERIOD);

    tip = tree.Extend(tip, PERIOD, THRESHOLD - 1); // one signal short
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::STARTED);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == PERIOD);
    tip = tree.Extend(tip, PERIOD, THRESHOLD);
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::LOCKED_IN);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == 3 * PERIOD);
    tip = tree.Extend(tip, PERIOD, 0); // locked in: signals no longer matter
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::ACTIVE);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == 4 * PERIOD);
    tip = tree.Extend(tip, 3 * PERIOD + 4, 0);
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::ACTIVE);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == 4 * PERIOD);

    SUBCASE("a fresh cache computes the same states from the tree alone")
    {
        VersionBitsCache fresh;
        for (const BlockIndex& entry : tree.entries) {
            CHECK(fresh.State(&entry, params, DeploymentPos::TESTDUMMY) ==
                  cache.State(&entry, params, DeploymentPos::TESTDUMMY));
        }
    }
}

TEST_CASE("no period starts before the start time, and a deployment fails at its timeout unless locked in")
{
    Tree tree;
    const BlockIndex* tip = tree.Extend(tree.Add(nullptr, VERSIONBITS_TOP_BITS), 3 * PERIOD - 1, 0); // height 29
    // The median time past of height 29 is the time of height 24.
    const int64_t mtp_29 = tip->GetMedianTimePast();
    CHECK(mtp_29 == FIRST_TIME + 600 * 24);
    VersionBitsCache cache;
    const ConsensusParams late = ParamsWith(mtp_29 + 1);
    CHECK(cache.State(tip, late, DeploymentPos::TESTDUMMY) == ThresholdState::DEFINED);
    CHECK(cache.StateSinceHeight(tip, late, DeploymentPos::TESTDUMMY) == 0);

    VersionBitsCache timed;
    const ConsensusParams timing_out = ParamsWith(0, /*timeout=*/mtp_29);
    CHECK(timed.State(tip, timing_out, DeploymentPos::TESTDUMMY) == ThresholdState::FAILED);
    CHECK(timed.StateSinceHeight(tip, timing_out, DeploymentPos::TESTDUMMY) == 3 * PERIOD);
    tip = tree.Extend(tip, PERIOD, PERIOD); // every block signals, too late
    CHECK(timed.State(tip, timing_out, DeploymentPos::TESTDUMMY) == ThresholdState::FAILED);

    SUBCASE("signals in the period that reaches the timeout still lock in")
    {
        Tree other;
        const BlockIndex* branch = other.Extend(other.Add(nullptr, VERSIONBITS_TOP_BITS), 2 * PERIOD - 1, 0);
        branch = other.Extend(branch, PERIOD, THRESHOLD);
        VersionBitsCache locking;
        CHECK(locking.State(branch, timing_out, DeploymentPos::TESTDUMMY) == ThresholdState::LOCKED_IN);
    }
}

TEST_CASE("a minimum activation height keeps a locked-in deployment waiting")
{
    const ConsensusParams params = ParamsWith(0, Bip9Deployment::NO_TIMEOUT, /*min_activation=*/6 * PERIOD);
    VersionBitsCache cache;
    Tree tree;
    const BlockIndex* tip = tree.Extend(tree.Add(nullptr, VERSIONBITS_TOP_BITS), PERIOD - 1, 0);
    tip = tree.Extend(tip, PERIOD, PERIOD); // locks in at 20
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::LOCKED_IN);
    tip = tree.Extend(tip, 3 * PERIOD, 0); // 20..49 stay locked in
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::LOCKED_IN);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == 2 * PERIOD);
    tip = tree.Extend(tip, PERIOD, 0);
    CHECK(cache.State(tip, params, DeploymentPos::TESTDUMMY) == ThresholdState::ACTIVE);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TESTDUMMY) == 6 * PERIOD);
}

TEST_CASE("statistics count the signals of the period so far and whether the threshold is still reachable")
{
    const Bip9Deployment& deployment = ParamsWith(0).testdummy;
    Tree tree;
    const BlockIndex* tip = tree.Extend(tree.Add(nullptr, VERSIONBITS_TOP_BITS), PERIOD - 1, 0); // height 9
    tip = tree.Add(tip, SIGNAL);
    tip = tree.Add(tip, VERSIONBITS_TOP_BITS);
    tip = tree.Add(tip, SIGNAL); // height 12
    std::vector<bool> signals;
    Bip9Stats stats = GetStateStatistics(tip, deployment, &signals);
    CHECK(stats.period == PERIOD);
    CHECK(stats.threshold == THRESHOLD);
    CHECK(stats.elapsed == 3);
    CHECK(stats.count == 2);
    CHECK(stats.possible);
    CHECK(signals == std::vector<bool>{true, false, true});
    tip = tree.Add(tip, VERSIONBITS_TOP_BITS); // a second miss: a period of 10 with threshold 8 allows two
    CHECK(GetStateStatistics(tip, deployment).possible);
    tip = tree.Add(tip, VERSIONBITS_TOP_BITS); // a third: 8 of 10 can no longer signal
    stats = GetStateStatistics(tip, deployment);
    CHECK(stats.elapsed == 5);
    CHECK_FALSE(stats.possible);
    CHECK(GetStateStatistics(nullptr, deployment).elapsed == 0);
}

TEST_CASE("only versions with the top bits 001 signal")
{
    const Bip9Deployment& deployment = ParamsWith(0).testdummy;
    CHECK(SignalsDeployment(SIGNAL, deployment));
    CHECK_FALSE(SignalsDeployment(VERSIONBITS_TOP_BITS, deployment));
    CHECK_FALSE(SignalsDeployment(0x40000000 | (1 << 5), deployment));
    CHECK_FALSE(SignalsDeployment(static_cast<int32_t>(0xE0000020), deployment));
    CHECK_FALSE(SignalsDeployment(1 << 5, deployment)); // a pre-BIP9 version
}

TEST_CASE("two forks of one period can reach different states")
{
    const ConsensusParams params = ParamsWith(0);
    VersionBitsCache cache;
    Tree tree;
    const BlockIndex* base = tree.Extend(tree.Add(nullptr, VERSIONBITS_TOP_BITS), PERIOD - 1, 0);
    base = tree.Extend(base, 5, 5); // heights 10-14 signal; each branch adds five more blocks to the period
    const BlockIndex* weak = tree.Extend(base, 5, 0);
    const BlockIndex* strong = tree.Extend(base, 5, 5);
    CHECK(cache.State(weak, params, DeploymentPos::TESTDUMMY) == ThresholdState::STARTED);
    CHECK(cache.State(strong, params, DeploymentPos::TESTDUMMY) == ThresholdState::LOCKED_IN);
    CHECK(cache.State(weak, params, DeploymentPos::TESTDUMMY) == ThresholdState::STARTED);
}

TEST_CASE("templates carry the bit of a deployment while it is started or locked in")
{
    const ConsensusParams params = ParamsWith(0);
    VersionBitsCache cache;
    Tree tree;
    const BlockIndex* tip = tree.Extend(tree.Add(nullptr, VERSIONBITS_TOP_BITS), PERIOD - 2, 0);
    CHECK(cache.ComputeBlockVersion(tip, params) == VERSIONBITS_TOP_BITS); // defined
    tip = tree.Extend(tip, 1, 0);
    CHECK(cache.ComputeBlockVersion(tip, params) == SIGNAL); // started
    tip = tree.Extend(tip, PERIOD, PERIOD);
    CHECK(cache.ComputeBlockVersion(tip, params) == SIGNAL); // locked in
    tip = tree.Extend(tip, PERIOD, 0);
    CHECK(cache.ComputeBlockVersion(tip, params) == VERSIONBITS_TOP_BITS); // active
    // taproot is always active here, and never signals.
    CHECK(cache.State(tip, params, DeploymentPos::TAPROOT) == ThresholdState::ACTIVE);
    CHECK(cache.StateSinceHeight(tip, params, DeploymentPos::TAPROOT) == 0);
    ConsensusParams never = params;
    never.testdummy.start_time = Bip9Deployment::NEVER_ACTIVE;
    CHECK(cache.State(tip, never, DeploymentPos::TESTDUMMY) == ThresholdState::FAILED);
}
