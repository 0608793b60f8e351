// The -par script verification pool (see script_check.h).
#include <services/node/validation/script_check.h>

#include <common/script/interpreter.h>
#include <common/script/tx_checker.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace orrery::node {

namespace {

//! At most this many checks are taken at once, so that a block's last checks spread over every thread.
constexpr size_t MAX_TAKE = 16;

} // namespace

std::optional<ScriptError> ScriptCheck::operator()() const
{
    const TxIn& in = tx->vin[n_in];
    const TransactionSignatureChecker checker(*tx, n_in, spent->value, *txdata);
    ScriptError error{};
    if (VerifyScript(in.script_sig, spent->script_pubkey, &in.witness, flags, checker, &error)) return std::nullopt;
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

std::pair<size_t, size_t> ScriptCheckQueue::Take(size_t waiting_threads)
{
    if (m_batch == nullptr || m_next >= m_available) return {0, 0};
    if (m_failed.load(std::memory_order_relaxed)) {
        // A check failed: the rest of the batch need not run.
        m_next = m_available;
        return {0, 0};
    }
    const size_t left = m_available - m_next;
    const size_t take = std::clamp<size_t>(left / (waiting_threads + 1), 1, MAX_TAKE);
    const size_t begin = m_next;
    m_next += take;
    return {begin, m_next};
}

void ScriptCheckQueue::Verify(const std::vector<ScriptCheck>& checks, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; ++i) {
        if (m_failed.load(std::memory_order_relaxed)) return;
        if (auto error = checks[i]()) {
            std::lock_guard lock(m_mutex);
            if (!m_failure || m_failure->first > i) m_failure = std::make_pair(i, *error);
            m_failed = true;
        }
    }
}

void ScriptCheckQueue::Worker()
{
    std::unique_lock lock(m_mutex);
    while (true) {
        auto [begin, end] = Take(m_threads.size());
        if (begin == end) {
            if (m_stop) return;
            ++m_idle;
            m_cv.wait(lock);
            --m_idle;
            continue;
        }
        const std::vector<ScriptCheck>* batch = m_batch;
        ++m_busy;
        lock.unlock();
        Verify(*batch, begin, end);
        lock.lock();
        if (--m_busy == 0) m_done_cv.notify_all();
    }
}

void ScriptCheckQueue::Start(const std::vector<ScriptCheck>& checks)
{
    std::lock_guard lock(m_mutex);
    if (m_batch != nullptr) throw std::logic_error("ScriptCheckQueue: a batch is already open");
    m_batch = &checks;
    m_next = 0;
    m_available = 0;
    m_failed = false;
    m_failure.reset();
}

void ScriptCheckQueue::Publish(size_t count)
{
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_batch == nullptr || count > m_batch->size()) throw std::logic_error("ScriptCheckQueue: bad publish");
        m_available = count;
        wake = m_idle > 0 && m_next < m_available;
    }
    if (wake) m_cv.notify_all();
}

std::optional<std::pair<size_t, ScriptError>> ScriptCheckQueue::Finish()
{
    std::unique_lock lock(m_mutex);
    if (m_batch == nullptr) return std::nullopt;
    // The caller works through what is left alongside the pool.
    const std::vector<ScriptCheck>* batch = m_batch;
    while (true) {
        auto [begin, end] = Take(m_threads.size());
        if (begin == end) break;
        lock.unlock();
        Verify(*batch, begin, end);
        lock.lock();
    }
    m_done_cv.wait(lock, [&] { return m_busy == 0; });
    m_batch = nullptr;
    m_next = m_available = 0;
    return std::exchange(m_failure, std::nullopt);
}

void ScriptCheckQueue::Abandon()
{
    m_failed = true;
    Finish();
}

std::optional<std::pair<size_t, ScriptError>> ScriptCheckQueue::Run(const std::vector<ScriptCheck>& checks)
{
    if (checks.empty()) return std::nullopt;
    Start(checks);
    Publish(checks.size());
    return Finish();
}

ScriptCheckControl::ScriptCheckControl(ScriptCheckQueue& queue, const std::vector<ScriptCheck>& checks) : m_queue{queue}
{
    m_queue.Start(checks);
}

ScriptCheckControl::~ScriptCheckControl()
{
    if (m_open) m_queue.Abandon();
}

std::optional<std::pair<size_t, ScriptError>> ScriptCheckControl::Finish()
{
    m_open = false;
    return m_queue.Finish();
}

} // namespace orrery::node
