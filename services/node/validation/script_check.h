// Script verification of a block's inputs on a pool of -par threads (Core's
// CCheckQueue): the connecting thread publishes checks as it walks the block's
// transactions, so the pool verifies while the connecting thread fetches coins
// and builds the undo data; at the end it joins the pool and learns the first
// failure.
#ifndef ORRERY_SERVICES_NODE_VALIDATION_SCRIPT_CHECK_H
#define ORRERY_SERVICES_NODE_VALIDATION_SCRIPT_CHECK_H

#include <common/consensus/transaction.h>
#include <common/script/script_error.h>
#include <common/script/sighash.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace orrery::node {

//! One input to verify. The transaction, the spent output and the precomputed data are borrowed for the batch's
//! run (the spent output lives in the precomputed data, so a check copies nothing).
struct ScriptCheck {
    const Transaction* tx{nullptr};
    uint32_t n_in{0};
    const TxOut* spent{nullptr};
    uint32_t flags{0};
    const PrecomputedTransactionData* txdata{nullptr};
    //! Runs VerifyScript; the error on failure.
    std::optional<ScriptError> operator()() const;
};

class ScriptCheckQueue
{
public:
    //! `threads` workers besides the caller (0: the caller verifies alone).
    explicit ScriptCheckQueue(int threads);
    ~ScriptCheckQueue();
    ScriptCheckQueue(const ScriptCheckQueue&) = delete;
    ScriptCheckQueue& operator=(const ScriptCheckQueue&) = delete;

    //! Starts a batch over `checks`. The vector's capacity must already hold every check the batch will get:
    //! the pool reads published elements while the caller appends, so they must never move.
    //! One batch at a time (the chainstate's lock serializes callers).
    void Start(const std::vector<ScriptCheck>& checks);
    //! Hands the first `count` elements of the batch to the pool (call after appending them).
    void Publish(size_t count);
    //! Verifies what is left together with the pool and returns once no thread touches the batch any more:
    //! the failing check with the lowest index seen, and its error, or nullopt. Ends the batch.
    std::optional<std::pair<size_t, ScriptError>> Finish();
    //! Ends the batch without verifying what nobody has started yet (the caller gave up on the block).
    void Abandon();
    //! Start, Publish and Finish in one call, for a batch built beforehand.
    std::optional<std::pair<size_t, ScriptError>> Run(const std::vector<ScriptCheck>& checks);

private:
    void Worker();
    //! Takes the next checks to verify (m_mutex held): [begin, end), empty when nothing is available.
    std::pair<size_t, size_t> Take(size_t waiting_threads);
    //! Verifies [begin, end) of the batch without the lock.
    void Verify(const std::vector<ScriptCheck>& checks, size_t begin, size_t end);

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::condition_variable m_done_cv;
    const std::vector<ScriptCheck>* m_batch{nullptr}; // guarded by m_mutex
    size_t m_next{0};                                 // guarded by m_mutex: the first check nobody took
    size_t m_available{0};                            // guarded by m_mutex: checks published
    int m_busy{0};                                    // guarded by m_mutex: workers verifying part of the batch
    int m_idle{0};                                    // guarded by m_mutex: workers waiting for checks
    bool m_stop{false};                               // guarded by m_mutex
    std::atomic<bool> m_failed{false};
    std::optional<std::pair<size_t, ScriptError>> m_failure; // guarded by m_mutex
    std::vector<std::thread> m_threads;
};

//! Closes a batch on every path out of the caller (Core's CCheckQueueControl): an early return of ConnectBlock
//! must not leave the pool reading vectors that are about to be destroyed.
class ScriptCheckControl
{
public:
    ScriptCheckControl(ScriptCheckQueue& queue, const std::vector<ScriptCheck>& checks);
    ~ScriptCheckControl();
    ScriptCheckControl(const ScriptCheckControl&) = delete;
    ScriptCheckControl& operator=(const ScriptCheckControl&) = delete;
    void Publish(size_t count) { m_queue.Publish(count); }
    std::optional<std::pair<size_t, ScriptError>> Finish();

private:
    ScriptCheckQueue& m_queue;
    bool m_open{true};
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_VALIDATION_SCRIPT_CHECK_H
