// The -par script check pool: batches published while they are built, failures
// reported by lowest input, abandoned batches, and the pool reused batch after
// batch, with real transactions through VerifyScript.
#include <services/node/validation/script_check.h>

#include <common/consensus/script.h>

#include <doctest/doctest.h>

#include <deque>
#include <vector>

using namespace orrery;
using namespace orrery::node;

namespace {

//! A transaction of `inputs` inputs with empty scriptSigs: an input spending OP_TRUE passes, OP_FALSE fails.
struct Batch {
    Transaction tx;
    PrecomputedTransactionData txdata;
    std::vector<ScriptCheck> checks;

    Batch(size_t inputs, const std::vector<size_t>& failing)
    {
        tx.vin.resize(inputs);
        for (size_t i = 0; i < inputs; ++i) tx.vin[i].prevout.n = uint32_t(i);
        tx.vout.push_back(TxOut{1, Script{OP_TRUE}});
        std::vector<TxOut> spent(inputs, TxOut{1000, Script{OP_TRUE}});
        for (size_t i : failing) spent[i].script_pubkey = Script{OP_0};
        txdata.Init(tx, std::move(spent));
        checks.reserve(inputs);
    }
    void Append(size_t i)
    {
        checks.push_back(ScriptCheck{&tx, uint32_t(i), &txdata.m_spent_outputs[i], SCRIPT_VERIFY_NONE, &txdata});
    }
};

} // namespace

TEST_CASE("a batch published input by input while the pool runs verifies every input")
{
    ScriptCheckQueue queue(2);
    Batch batch(500, {});
    ScriptCheckControl control(queue, batch.checks);
    for (size_t i = 0; i < 500; ++i) {
        batch.Append(i);
        control.Publish(batch.checks.size());
    }
    CHECK_FALSE(control.Finish().has_value());
}

TEST_CASE("the failing input with the lowest index is reported when several fail")
{
    ScriptCheckQueue queue(0); // the caller alone: the order is deterministic
    Batch batch(300, {40, 250});
    ScriptCheckControl control(queue, batch.checks);
    for (size_t i = 0; i < 300; ++i) {
        batch.Append(i);
        if (i % 7 == 0) control.Publish(batch.checks.size());
    }
    control.Publish(batch.checks.size());
    const auto failure = control.Finish();
    REQUIRE(failure.has_value());
    CHECK(failure->first == 40);
    CHECK(failure->second == ScriptError::EVAL_FALSE);
}

TEST_CASE("a failing input found by the pool is reported once the batch is finished")
{
    ScriptCheckQueue queue(2);
    Batch batch(1000, {777});
    ScriptCheckControl control(queue, batch.checks);
    for (size_t i = 0; i < 1000; ++i) {
        batch.Append(i);
        control.Publish(batch.checks.size());
    }
    const auto failure = control.Finish();
    REQUIRE(failure.has_value());
    CHECK(failure->first == 777);
}

TEST_CASE("an abandoned batch leaves the pool ready for the next one")
{
    ScriptCheckQueue queue(2);
    {
        // The caller gives up half way (ConnectBlock returning early): the control closes the batch.
        Batch batch(400, {3});
        ScriptCheckControl control(queue, batch.checks);
        for (size_t i = 0; i < 200; ++i) batch.Append(i);
        control.Publish(batch.checks.size());
    }
    for (int round = 0; round < 20; ++round) {
        Batch batch(64, {});
        for (size_t i = 0; i < 64; ++i) batch.Append(i);
        CHECK_FALSE(queue.Run(batch.checks).has_value());
    }
    Batch failing(64, {63});
    for (size_t i = 0; i < 64; ++i) failing.Append(i);
    const auto failure = queue.Run(failing.checks);
    REQUIRE(failure.has_value());
    CHECK(failure->first == 63);
}

TEST_CASE("a second batch cannot start while one is open")
{
    ScriptCheckQueue queue(1);
    Batch first(4, {}), second(4, {});
    ScriptCheckControl control(queue, first.checks);
    CHECK_THROWS_AS(queue.Start(second.checks), std::logic_error);
    CHECK_FALSE(control.Finish().has_value());
}
