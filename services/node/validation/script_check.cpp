// The -par script verification pool (see script_check.h).
#include <services/node/validation/script_check.h>

#include <common/script/interpreter.h>
#include <common/script/tx_checker.h>

namespace orrery::node {

std::optional<ScriptError> ScriptCheck::operator()() const
{
    const TxIn& in = tx->vin[n_in];
    const TransactionSignatureChecker checker(*tx, n_in, spent.value, *txdata);
    ScriptError error{};
    if (VerifyScript(in.script_sig, spent.script_pubkey, &in.witness, flags, checker, &error)) return std::nullopt;
    return error;
}

ScriptCheckQueue::ScriptCheckQueue(int threads)
{
    for (int i = 0; i < threads; ++i) m_threads.emplace_back([this] { Worker(); });
}

ScriptCheckQueue::~ScriptCheckQueue()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    for (auto& thread : m_threads) thread.join();
}

void ScriptCheckQueue::Work(const std::vector<ScriptCheck>& checks)
{
    while (!m_failed.load(std::memory_order_relaxed)) {
        const size_t i = m_next.fetch_add(1);
        if (i >= checks.size()) break;
        if (auto error = checks[i]()) {
            std::lock_guard lock(m_failure_mutex);
            if (!m_failure || m_failure->first > i) m_failure = std::make_pair(i, *error);
            m_failed = true;
        }
    }
}

void ScriptCheckQueue::Worker()
{
    uint64_t seen = 0;
    std::unique_lock lock(m_mutex);
    while (true) {
        m_cv.wait(lock, [&] { return m_stop || (m_batch != nullptr && m_generation != seen); });
        if (m_stop) return;
        seen = m_generation;
        const std::vector<ScriptCheck>* batch = m_batch;
        ++m_busy;
        lock.unlock();
        Work(*batch);
        lock.lock();
        if (--m_busy == 0) m_done_cv.notify_all();
    }
}

std::optional<std::pair<size_t, ScriptError>> ScriptCheckQueue::Run(const std::vector<ScriptCheck>& checks)
{
    if (checks.empty()) return std::nullopt;
    m_next = 0;
    m_failed = false;
    m_failure.reset();
    {
        std::lock_guard lock(m_mutex);
        m_batch = &checks;
        ++m_generation;
    }
    // Small batches are not worth waking the pool.
    if (!m_threads.empty() && checks.size() > 1) m_cv.notify_all();
    Work(checks);
    {
        std::unique_lock lock(m_mutex);
        m_batch = nullptr;
        m_done_cv.wait(lock, [&] { return m_busy == 0; });
    }
    std::lock_guard lock(m_failure_mutex);
    return m_failure;
}

} // namespace orrery::node
