// bitcoind's ZMQ notifications (-zmqpubhashblock, -zmqpubhashtx,
// -zmqpubrawblock, -zmqpubrawtx, -zmqpubsequence and their -zmqpub<topic>hwm),
// published by the gui-bridge from the node's Chain notifications: the node
// keeps no socket an outsider reaches. Each message is bitcoind's three frames
// (topic, body, the topic's 4-byte little-endian sequence number), in bitcoind's
// order: for a connected block each transaction's hashtx/rawtx, then sequence
// "C"; for a disconnected one the same with "D"; once the step is done,
// hashblock/rawblock of the new tip (none when the tip only went back); for the
// mempool hashtx/rawtx and sequence "A", or sequence "R".
#ifndef ORRERY_SERVICES_GUI_BRIDGE_ZMQ_NOTIFIER_H
#define ORRERY_SERVICES_GUI_BRIDGE_ZMQ_NOTIFIER_H

#include <common/interfaces/chain.h>
#include <common/ipc/endpoint.h>
#include <common/ipc/publisher.h>
#include <common/rpc/json_rpc.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace orrery {
class ArgsManager;
}

namespace orrery::zmq_notify {

//! bitcoind's default send high-water mark of each topic.
inline constexpr int DEFAULT_HWM = 1000;

//! One -zmqpub<topic> address: its type as getzmqnotifications names it ("pubhashblock"), address and hwm.
struct TopicConfig {
    std::string type;
    std::string address;
    int hwm{DEFAULT_HWM};
};

//! Every -zmqpub<topic>=<address> given, in the order bitcoind makes its notifiers (by type name, then as given).
std::vector<TopicConfig> ConfigFromArgs(const ArgsManager& args);

//! Publishes the node's news. Thread-safe; the news must arrive in the node's order (one Chain subscription).
class Notifier final : public interfaces::ChainListener
{
public:
    //! Binds one PUB socket per address (topics on the same address share it, the first one's hwm applies).
    //! Throws ipc::Error naming the address that failed.
    explicit Notifier(std::vector<TopicConfig> topics);

    //! getzmqnotifications' answer.
    rpc::Json Describe() const;

    // ChainListener
    void updatedBlockTip(interfaces::ChainTip tip) override;
    void blockConnected(interfaces::ChainBlock block) override;
    void blockDisconnected(interfaces::ChainBlock block) override;
    void transactionAddedToMempool(std::vector<uint8_t> tx, uint64_t mempool_sequence) override;
    void transactionRemovedFromMempool(std::vector<uint8_t> tx, std::string reason, uint64_t mempool_sequence) override;

private:
    struct Topic {
        TopicConfig config;
        std::string name; //!< the first frame: "hashblock", "rawtx", ...
        std::shared_ptr<ipc::Publisher> publisher;
        uint32_t sequence{0};
    };

    //! Sends `body` on every topic named `name`. m_mutex held.
    void PublishLocked(std::string_view name, std::string_view body);
    //! hashtx and rawtx of each transaction of a serialized block. m_mutex held.
    void PublishBlockTransactionsLocked(const std::vector<uint8_t>& block);
    void PublishTransactionLocked(const std::vector<uint8_t>& tx);

    mutable std::mutex m_mutex;
    std::vector<Topic> m_topics;
    //! The last block connected since the last tip notification: the new tip's data, for rawblock.
    std::optional<interfaces::ChainBlock> m_connected;
};

//! Follows the node's Chain for a listener: connects in the background (until the node answers), subscribes
//! once; the IPC layer renews the subscription after the node restarts.
class ChainFollower
{
public:
    ChainFollower(std::string endpoint, ipc::Options options, std::shared_ptr<interfaces::ChainListener> listener);
    ~ChainFollower();
    ChainFollower(const ChainFollower&) = delete;
    ChainFollower& operator=(const ChainFollower&) = delete;
    void Start(std::chrono::milliseconds retry = std::chrono::milliseconds(500));
    void Stop();

private:
    void Run(std::chrono::milliseconds retry);

    std::string m_endpoint;
    ipc::Client m_client;
    std::shared_ptr<interfaces::ChainListener> m_listener;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping{false};
    std::unique_ptr<ipc::Subscription> m_subscription;
    std::thread m_thread;
};

} // namespace orrery::zmq_notify

#endif // ORRERY_SERVICES_GUI_BRIDGE_ZMQ_NOTIFIER_H
