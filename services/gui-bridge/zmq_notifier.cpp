// bitcoind's ZMQ notifications from the node's Chain news; see zmq_notifier.h.
#include <services/gui-bridge/zmq_notifier.h>

#include <common/consensus/block.h>
#include <common/consensus/transaction.h>
#include <common/interfaces/chain_ipc.h>
#include <common/util/args.h>
#include <common/util/logging.h>

#include <algorithm>
#include <array>

namespace orrery::zmq_notify {
namespace {

//! bitcoind's notifier types, in the order it makes them (its factory map is sorted by name).
constexpr std::array<std::string_view, 5> TYPES{"pubhashblock", "pubhashtx", "pubrawblock", "pubrawtx", "pubsequence"};

std::string Le32(uint32_t value)
{
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i) & 0xff);
    return out;
}

std::string Le64(uint64_t value)
{
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (8 * i) & 0xff);
    return out;
}

//! A hash as hashblock/hashtx/sequence carry it: the 32 bytes in display order (bitcoind reverses them).
std::string DisplayBytes(const uint256& hash)
{
    std::string out(32, '\0');
    for (size_t i = 0; i < 32; ++i) out[i] = static_cast<char>(hash.begin()[31 - i]);
    return out;
}

//! The same from the hex the node prints (display order already).
std::string DisplayBytes(const std::string& hex)
{
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

std::string_view Bytes(const std::vector<uint8_t>& data)
{
    return {reinterpret_cast<const char*>(data.data()), data.size()};
}

} // namespace

std::vector<TopicConfig> ConfigFromArgs(const ArgsManager& args)
{
    std::vector<TopicConfig> topics;
    for (std::string_view type : TYPES) {
        std::string option = "zmq" + std::string(type);
        int hwm = static_cast<int>(args.GetIntArg(option + "hwm", DEFAULT_HWM));
        for (const auto& address : args.GetArgs(option)) topics.push_back({std::string(type), address, hwm});
    }
    return topics;
}

Notifier::Notifier(std::vector<TopicConfig> topics)
{
    std::map<std::string, std::shared_ptr<ipc::Publisher>> by_address;
    for (auto& config : topics) {
        if (config.hwm < 0) throw ipc::Error(ipc::ErrorCode::INVALID_PARAMS, "Negative -zmq" + config.type + "hwm");
        auto& publisher = by_address[config.address];
        if (!publisher) publisher = std::make_shared<ipc::Publisher>(config.address, config.hwm);
        Topic topic;
        topic.name = config.type.substr(3); // "pubhashblock" -> "hashblock"
        topic.config = std::move(config);
        topic.publisher = publisher;
        LogPrintf("zmq: Notifier {} ready (address = {})", topic.config.type, topic.config.address);
        m_topics.push_back(std::move(topic));
    }
}

rpc::Json Notifier::Describe() const
{
    std::lock_guard lock(m_mutex);
    rpc::Json out = rpc::Json::array();
    for (const auto& topic : m_topics) {
        out.push_back({{"type", topic.config.type}, {"address", topic.config.address}, {"hwm", topic.config.hwm}});
    }
    return out;
}

void Notifier::PublishLocked(std::string_view name, std::string_view body)
{
    for (auto& topic : m_topics) {
        if (topic.name != name) continue;
        std::string sequence = Le32(topic.sequence);
        if (topic.publisher->Send({topic.name, body, sequence})) {
            ++topic.sequence;
        } else {
            LogDebug(LogCategory::RPC, "zmq: could not send {} to {}", topic.name, topic.config.address);
        }
    }
}

void Notifier::PublishTransactionLocked(const std::vector<uint8_t>& tx_bytes)
{
    Transaction tx = DeserializeTransaction(tx_bytes);
    // Per transaction, bitcoind's notifiers in their order: hashtx, then rawtx.
    PublishLocked("hashtx", DisplayBytes(tx.GetTxid()));
    PublishLocked("rawtx", Bytes(tx_bytes));
}

void Notifier::PublishBlockTransactionsLocked(const std::vector<uint8_t>& block_bytes)
{
    Block block = DeserializeBlock(block_bytes);
    for (const auto& tx : block.txs) {
        std::vector<uint8_t> raw = SerializeTransaction(tx, /*with_witness=*/true);
        PublishLocked("hashtx", DisplayBytes(tx.GetTxid()));
        PublishLocked("rawtx", Bytes(raw));
    }
}

void Notifier::updatedBlockTip(interfaces::ChainTip tip)
{
    std::lock_guard lock(m_mutex);
    // Only a step that connected blocks announces its new tip; the tip sent at (re)subscription, or one a
    // disconnection alone left (invalidateblock), announces nothing, as bitcoind's UpdatedBlockTip.
    if (!m_connected) return;
    if (m_connected->hash == tip.hash) {
        PublishLocked("hashblock", DisplayBytes(tip.hash));
        PublishLocked("rawblock", Bytes(m_connected->data));
    }
    m_connected.reset();
}

void Notifier::blockConnected(interfaces::ChainBlock block)
{
    std::lock_guard lock(m_mutex);
    try {
        PublishBlockTransactionsLocked(block.data);
    } catch (const std::exception& e) {
        LogPrintf("zmq: block {} from the node did not parse: {}", block.hash, e.what());
    }
    PublishLocked("sequence", DisplayBytes(block.hash) + "C");
    m_connected = std::move(block);
}

void Notifier::blockDisconnected(interfaces::ChainBlock block)
{
    std::lock_guard lock(m_mutex);
    try {
        PublishBlockTransactionsLocked(block.data);
    } catch (const std::exception& e) {
        LogPrintf("zmq: block {} from the node did not parse: {}", block.hash, e.what());
    }
    PublishLocked("sequence", DisplayBytes(block.hash) + "D");
}

void Notifier::transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence)
{
    std::lock_guard lock(m_mutex);
    try {
        PublishTransactionLocked(tx);
        PublishLocked("sequence", DisplayBytes(DeserializeTransaction(tx).GetTxid()) + "A" + Le64(mempool_sequence));
    } catch (const std::exception& e) {
        LogPrintf("zmq: a transaction from the node did not parse: {}", e.what());
    }
}

void Notifier::transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t mempool_sequence)
{
    std::lock_guard lock(m_mutex);
    if (reason == "block") return; // a mined transaction comes with its block, as in bitcoind
    try {
        PublishLocked("sequence", DisplayBytes(DeserializeTransaction(tx).GetTxid()) + "R" + Le64(mempool_sequence));
    } catch (const std::exception& e) {
        LogPrintf("zmq: a transaction from the node did not parse: {}", e.what());
    }
}

// ---------------------------------------------------------------- following the node

ChainFollower::ChainFollower(std::string endpoint, ipc::Options options,
                             std::shared_ptr<interfaces::ChainListener> listener)
    : m_endpoint(std::move(endpoint)), m_client(std::move(options)), m_listener(std::move(listener))
{
}

ChainFollower::~ChainFollower()
{
    Stop();
}

void ChainFollower::Start(std::chrono::milliseconds retry)
{
    m_thread = std::thread([this, retry] { Run(retry); });
}

void ChainFollower::Run(std::chrono::milliseconds retry)
{
    bool logged = false;
    for (;;) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
        }
        try {
            auto connection = m_client.Connect(m_endpoint);
            auto chain = ipc::MakeProxy<interfaces::Chain>(connection);
            auto subscription = chain->subscribeNotifications(m_listener);
            std::lock_guard lock(m_mutex);
            m_subscription = std::move(subscription);
            LogPrintf("Following the node's chain at {} (ZMQ notifications, web GUI events)", m_endpoint);
            return;
        } catch (const std::exception& e) {
            if (!logged) LogPrintf("Waiting for the node's chain at {} ({})", m_endpoint, e.what());
            logged = true;
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, retry, [&] { return m_stopping; });
    }
}

void ChainFollower::Stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
    m_subscription.reset();
    m_client.Stop();
}

} // namespace orrery::zmq_notify
