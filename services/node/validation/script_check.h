// Script verification of a block's inputs on a pool of -par threads (Core's
// CCheckQueue): the connecting thread queues one check per input, then works
// through the batch together with the pool and learns the first failure.
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

//! One input to verify. The transaction and its precomputed data are borrowed for the batch's run.
struct ScriptCheck {
    const Transaction* tx{nullptr};
    uint32_t n_in{0};
    TxOut spent;
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

    //! Verifies every check; the failing check with the lowest index seen first and its error, or nullopt.
    //! One batch at a time (the chainstate's lock serializes callers).
    std::optional<std::pair<size_t, ScriptError>> Run(const std::vector<ScriptCheck>& checks);

private:
    void Worker();
    void Work(const std::vector<ScriptCheck>& checks);

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::condition_variable m_done_cv;
    const std::vector<ScriptCheck>* m_batch{nullptr}; // guarded by m_mutex
    uint64_t m_generation{0};                         // guarded by m_mutex
    int m_busy{0};                                    // guarded by m_mutex
    bool m_stop{false};                               // guarded by m_mutex
    std::atomic<size_t> m_next{0};
    std::atomic<bool> m_failed{false};
    std::mutex m_failure_mutex;
    std::optional<std::pair<size_t, ScriptError>> m_failure; // guarded by m_failure_mutex
    std::vector<std::thread> m_threads;
};

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_VALIDATION_SCRIPT_CHECK_H
