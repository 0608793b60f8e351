// Echo: plain in-process behaviour; over IPC the same object sits behind a proxy.
#include "echo_impl.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace orrery::test {
namespace {

std::atomic<int> g_running_tickers{0};
std::atomic<int> g_sleeping_calls{0};

class EchoImpl final : public interfaces::Echo
{
public:
    std::string echo(std::string text) override { return text; }
    ipc::Bytes echoBytes(ipc::Bytes data) override { return data; }
    interfaces::EchoRecord echoRecord(interfaces::EchoRecord record) override
    {
        record.amount += 1;
        return record;
    }
    std::map<std::string, int64_t> countWords(std::vector<std::string> words) override
    {
        std::map<std::string, int64_t> counts;
        for (const auto& word : words) ++counts[word];
        return counts;
    }
    int64_t add(int64_t a, int64_t b) override { return a + b; }
    uint32_t sleepThenReturn(uint32_t milliseconds, uint32_t value) override
    {
        ++g_sleeping_calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
        --g_sleeping_calls;
        return value;
    }
    void fail(std::string message) override { throw std::runtime_error(message); }
    int64_t callerPid() override { return ::getpid(); }
    std::unique_ptr<ipc::Subscription> subscribeTicks(std::shared_ptr<interfaces::EchoListener> listener,
                                                      uint32_t count, uint32_t interval_ms) override
    {
        // The ticking thread stops when the subscription ends (unsubscribe or disconnect).
        auto stop = std::make_shared<std::atomic<bool>>(false);
        ++g_running_tickers;
        std::thread ticker([listener, stop, count, interval_ms] {
            for (uint64_t n = 1; n <= count && !*stop; ++n) {
                if (interval_ms) std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
                if (!*stop) listener->tick(n);
            }
            --g_running_tickers;
        });
        auto thread = std::make_shared<std::thread>(std::move(ticker));
        return std::make_unique<ipc::CallbackSubscription>([stop, thread] {
            *stop = true;
            if (thread->get_id() == std::this_thread::get_id()) {
                thread->detach();
            } else {
                thread->join();
            }
        });
    }
};

} // namespace

std::shared_ptr<interfaces::Echo> MakeEcho() { return std::make_shared<EchoImpl>(); }

int SleepingCalls()
{
    return g_sleeping_calls.load();
}

int RunningTickers()
{
    return g_running_tickers.load();
}

} // namespace orrery::test
