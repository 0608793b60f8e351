// Subscriptions: the handle a subscribe method returns, local or remote.
#ifndef ORRERY_COMMON_IPC_SUBSCRIPTION_H
#define ORRERY_COMMON_IPC_SUBSCRIPTION_H

#include <functional>
#include <utility>

namespace orrery::ipc {

//! Destroying the handle ends the subscription. A remote one also ends when
//! either side goes away; a client's remote subscription is renewed by itself
//! after the service comes back.
class Subscription
{
public:
    virtual ~Subscription() = default;
};

//! For local implementations: runs `on_end` when the subscription ends.
class CallbackSubscription final : public Subscription
{
public:
    explicit CallbackSubscription(std::function<void()> on_end) : m_on_end(std::move(on_end)) {}
    ~CallbackSubscription() override
    {
        if (m_on_end) m_on_end();
    }

private:
    std::function<void()> m_on_end;
};

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_SUBSCRIPTION_H
