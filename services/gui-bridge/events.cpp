// The event hub behind GET /events; see events.h.
#include <services/gui-bridge/events.h>

#include <common/util/logging.h>

#include <chrono>

namespace orrery::bridge {
namespace {

std::string FormatEvent(const std::string& event, const rpc::Json& data)
{
    return "event: " + event + "\ndata: " + rpc::WriteJson(data) + "\n\n";
}

int64_t NowMillis()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

// ---------------------------------------------------------------- one subscription, several listeners

void ChainFanout::updatedBlockTip(interfaces::ChainTip tip)
{
    for (const auto& listener : m_listeners) listener->updatedBlockTip(tip);
}

void ChainFanout::blockConnected(interfaces::ChainBlock block)
{
    for (const auto& listener : m_listeners) listener->blockConnected(block);
}

void ChainFanout::blockDisconnected(interfaces::ChainBlock block)
{
    for (const auto& listener : m_listeners) listener->blockDisconnected(block);
}

void ChainFanout::transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence)
{
    for (const auto& listener : m_listeners) listener->transactionAddedToMempool(tx, mempool_sequence);
}

void ChainFanout::transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t mempool_sequence)
{
    for (const auto& listener : m_listeners) listener->transactionRemovedFromMempool(tx, reason, mempool_sequence);
}

// ---------------------------------------------------------------- the hub

EventHub::EventHub(EventHubOptions options, EventSources sources) : m_options(options), m_sources(std::move(sources)) {}

EventHub::~EventHub()
{
    Stop();
}

void EventHub::Start()
{
    m_thread = std::thread([this] { Run(); });
}

void EventHub::Stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        for (auto& listener : m_listeners) listener.stream->Close();
        m_listeners.clear();
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

std::string EventHub::MethodOf(const std::string& event)
{
    if (event == "tip") return "getbestblockhash";
    if (event == "mempool") return "getmempoolinfo";
    if (event == "peer") return "getpeerinfo";
    if (event == "nettotals") return "getnettotals";
    return "getprocessinfo"; // processes, process
}

std::shared_ptr<http::BodyStream> EventHub::Subscribe(Allowed allowed)
{
    std::lock_guard lock(m_mutex);
    if (m_stopping) return nullptr;
    std::erase_if(m_listeners, [](const Listener& l) { return l.stream->Closed(); });
    if (m_listeners.size() >= m_options.max_clients) return nullptr;
    auto stream = std::make_shared<http::BodyStream>(m_options.max_pending);
    // The browser's EventSource-style reader retries after this long when the stream ends.
    stream->Push("retry: 2000\n\n");
    if (m_tip && allowed("getbestblockhash")) stream->Push(FormatEvent("tip", *m_tip));
    if (m_processes && allowed("getprocessinfo")) stream->Push(FormatEvent("processes", *m_processes));
    m_listeners.push_back({stream, std::move(allowed)});
    m_cv.notify_all();
    return stream;
}

size_t EventHub::Clients()
{
    std::lock_guard lock(m_mutex);
    std::erase_if(m_listeners, [](const Listener& l) { return l.stream->Closed(); });
    return m_listeners.size();
}

void EventHub::PublishLocked(const std::string& event, const rpc::Json& data)
{
    const std::string method = MethodOf(event);
    const std::string bytes = FormatEvent(event, data);
    std::erase_if(m_listeners, [&](const Listener& listener) {
        if (listener.allowed(method) && !listener.stream->Push(bytes)) {
            if (listener.stream->Overflowed()) LogDebug(LogCategory::RPC, "GUI event stream dropped: client too slow");
            return true;
        }
        return listener.stream->Closed();
    });
}

void EventHub::updatedBlockTip(interfaces::ChainTip tip)
{
    std::lock_guard lock(m_mutex);
    m_tip = rpc::Json{{"height", tip.height}, {"hash", tip.hash}, {"time", tip.time}};
    PublishLocked("tip", *m_tip);
}

void EventHub::transactionAddedToMempool(std::vector<uint8_t>, uint64_t)
{
    std::lock_guard lock(m_mutex);
    ++m_added;
}

void EventHub::transactionRemovedFromMempool(std::vector<uint8_t>, std::string, uint64_t)
{
    std::lock_guard lock(m_mutex);
    ++m_removed;
}

std::vector<std::pair<std::string, rpc::Json>> EventHub::Changes(const rpc::Json& before, const rpc::Json& after)
{
    auto by_pid = [](const rpc::Json& table) {
        std::map<int64_t, const rpc::Json*> out;
        if (!table.is_array()) return out;
        for (const auto& entry : table) {
            int64_t pid = entry.value("pid", int64_t{0});
            if (pid != 0) out[pid] = &entry;
        }
        return out;
    };
    auto old_pids = by_pid(before);
    auto new_pids = by_pid(after);
    auto peer_of = [](const rpc::Json* entry) { return entry ? entry->value("peer_address", std::string()) : ""; };
    std::vector<std::pair<std::string, rpc::Json>> changes;
    for (const auto& [pid, entry] : old_pids) {
        auto found = new_pids.find(pid);
        const rpc::Json* now = found == new_pids.end() ? nullptr : found->second;
        if (!now)
            changes.emplace_back("process", rpc::Json{{"change", "exited"}, {"role", (*entry)["role"]}, {"pid", pid}});
        std::string address = peer_of(entry);
        if (!address.empty() && peer_of(now) != address) {
            changes.emplace_back("peer", rpc::Json{{"change", "disconnected"}, {"address", address}, {"pid", pid}});
        }
    }
    for (const auto& [pid, entry] : new_pids) {
        auto found = old_pids.find(pid);
        const rpc::Json* then = found == old_pids.end() ? nullptr : found->second;
        if (!then)
            changes.emplace_back("process", rpc::Json{{"change", "started"}, {"role", (*entry)["role"]}, {"pid", pid}});
        std::string address = peer_of(entry);
        if (!address.empty() && peer_of(then) != address) {
            changes.emplace_back("peer", rpc::Json{{"change", "connected"}, {"address", address}, {"pid", pid}});
        }
    }
    return changes;
}

void EventHub::Run()
{
    auto last_heartbeat = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    for (;;) {
        // Asleep while nobody listens; then once a tick.
        m_cv.wait(lock, [&] { return m_stopping || !m_listeners.empty(); });
        if (m_stopping) return;
        if (m_added || m_removed) {
            PublishLocked("mempool", rpc::Json{{"added", m_added}, {"removed", m_removed}});
            m_added = m_removed = 0;
        }
        lock.unlock();
        // The sources call other processes: no lock held meanwhile.
        std::optional<rpc::Json> processes;
        std::optional<rpc::Json> nettotals;
        try {
            if (m_sources.processes) processes = m_sources.processes();
        } catch (const std::exception&) {
        }
        try {
            if (m_sources.nettotals) nettotals = m_sources.nettotals();
        } catch (const std::exception&) {
        }
        lock.lock();
        if (m_stopping) return;
        if (processes) {
            if (m_processes) { // the first sample is the starting point, not news
                for (const auto& [event, data] : Changes(*m_processes, *processes)) PublishLocked(event, data);
            }
            m_processes = std::move(processes);
            PublishLocked("processes", *m_processes);
        }
        if (nettotals) {
            (*nettotals)["timemillis"] = NowMillis();
            PublishLocked("nettotals", *nettotals);
        }
        auto now = std::chrono::steady_clock::now();
        if (now - last_heartbeat >= m_options.heartbeat) {
            last_heartbeat = now;
            for (auto& listener : m_listeners) listener.stream->Push(": keep-alive\n\n");
        }
        m_cv.wait_for(lock, m_options.tick, [&] { return m_stopping; });
    }
}

} // namespace orrery::bridge
