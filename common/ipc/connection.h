// A connection to one remote peer, through which typed proxies make calls.
// Thread-safe: any thread may call; many calls may be in flight.
#ifndef ORRERY_COMMON_IPC_CONNECTION_H
#define ORRERY_COMMON_IPC_CONNECTION_H

#include <common/ipc/envelope.h>
#include <common/ipc/serialize.h>
#include <common/ipc/subscription.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::ipc {

//! What a peer said about itself in init.hello.
struct PeerInfo {
    std::string role;
    int64_t pid{0};
    std::vector<std::string> interfaces;
    ORRERY_FIELDS(role, pid, interfaces)
};

//! Receives the notifications of one subscription, in order, on an IPC thread.
class NotificationSink
{
public:
    virtual ~NotificationSink() = default;
    virtual void Deliver(std::string_view method, Reader& args) = 0;
};

//! Completion of an asynchronous call: exactly one of reply and error is set.
using Completion = std::function<void(std::unique_ptr<Envelope> reply, const Error* error)>;

class Connection
{
public:
    virtual ~Connection() = default;

    //! Calls `method` and waits for its result. Throws Error: the remote
    //! exception's message, DISCONNECTED when the peer is or goes away.
    template <typename R, typename... A>
    R Call(std::string_view method, const A&... args)
    {
        uint64_t id = NextId();
        std::unique_ptr<Envelope> reply = Transact(id, method, EncodeRequest(id, method, args...));
        if constexpr (!std::is_void_v<R>) {
            R result{};
            Reader body = reply->Body();
            ReadValue(body, result);
            return result;
        }
    }

    //! Sends `method` without waiting; `done` runs on an IPC thread when the reply
    //! or error arrives (keep it short; it may issue further async calls).
    template <typename... A>
    void CallAsync(std::string_view method, Completion done, const A&... args)
    {
        uint64_t id = NextId();
        TransactAsync(id, method, EncodeRequest(id, method, args...), std::move(done));
    }

    //! Subscribes: `method` gets [subscription id, args...]; notifications go to `sink`.
    template <typename... A>
    std::unique_ptr<Subscription> Subscribe(std::string_view method, std::shared_ptr<NotificationSink> sink,
                                            const A&... args)
    {
        std::vector<uint8_t> encoded;
        Writer w(encoded);
        (WriteValue(w, args), ...);
        return SubscribeEncoded(std::string(method), std::move(encoded), sizeof...(A), std::move(sink));
    }

    //! Sends a notification (no reply) to the peer. False if it is gone.
    template <typename... A>
    bool Notify(std::string_view method, uint64_t subscription, const A&... args)
    {
        std::vector<uint8_t> bytes;
        bytes.reserve(64);
        Writer w(bytes);
        BeginEnvelope(w, Kind::NOTIFICATION, NextId(), method);
        w.ArrayHeader(static_cast<uint32_t>(1 + sizeof...(A)));
        w.Uint(subscription);
        (WriteValue(w, args), ...);
        return SendNotification(std::move(bytes));
    }

    virtual bool IsConnected() const = 0;
    //! The peer's hello; empty role until the handshake is done.
    virtual PeerInfo Peer() const = 0;

protected:
    virtual uint64_t NextId() = 0;
    virtual std::unique_ptr<Envelope> Transact(uint64_t id, std::string_view method, std::vector<uint8_t> request) = 0;
    virtual void TransactAsync(uint64_t id, std::string_view method, std::vector<uint8_t> request, Completion done) = 0;
    virtual std::unique_ptr<Subscription> SubscribeEncoded(std::string method, std::vector<uint8_t> args,
                                                           uint32_t arg_count, std::shared_ptr<NotificationSink> sink) = 0;
    virtual bool SendNotification(std::vector<uint8_t> bytes) = 0;

private:
    template <typename... A>
    static std::vector<uint8_t> EncodeRequest(uint64_t id, std::string_view method, const A&... args)
    {
        std::vector<uint8_t> bytes;
        bytes.reserve(64 + method.size());
        Writer w(bytes);
        BeginEnvelope(w, Kind::REQUEST, id, method);
        w.ArrayHeader(static_cast<uint32_t>(sizeof...(A)));
        (WriteValue(w, args), ...);
        return bytes;
    }
};

//! Where a served subscription sends its notifications. Holds the peer weakly:
//! once the peer is gone, Notify returns false and sends nothing.
class NotifyTarget
{
public:
    NotifyTarget(std::weak_ptr<Connection> connection, uint64_t subscription)
        : m_connection(std::move(connection)), m_subscription(subscription) {}

    template <typename... A>
    bool Notify(std::string_view method, const A&... args) const
    {
        auto connection = m_connection.lock();
        return connection && connection->Notify(method, m_subscription, args...);
    }

private:
    std::weak_ptr<Connection> m_connection;
    uint64_t m_subscription;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_CONNECTION_H
