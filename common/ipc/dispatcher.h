// The server side of interfaces: method name -> handler, filled by the
// generated Serve<I>() of each interface, plus which roles may call what.
#ifndef ORRERY_COMMON_IPC_DISPATCHER_H
#define ORRERY_COMMON_IPC_DISPATCHER_H

#include <common/ipc/connection.h>
#include <common/ipc/identity.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::ipc {

//! What a handler knows of the call it serves.
class CallContext
{
public:
    virtual ~CallContext() = default;
    //! The caller's hello, checked against its credentials; `pid` is the kernel's on ipc://.
    virtual const PeerInfo& Caller() const = 0;
    //! What the kernel or CurveZMQ says about the caller's connection.
    virtual const PeerCredentials& Credentials() const = 0;
    //! The caller's connection, to call it back (both directions share one connection).
    virtual std::shared_ptr<Connection> CallerConnection() const = 0;
    //! Keeps a served subscription until the peer unsubscribes or goes away.
    virtual void KeepSubscription(uint64_t subscription, std::unique_ptr<Subscription> handle) = 0;
    NotifyTarget MakeNotifyTarget(uint64_t subscription) const
    {
        return NotifyTarget(CallerConnection(), subscription);
    }
};

//! The call this thread is serving, or nullptr outside a handler. An
//! implementation learns who calls it from here (e.g. the node binds an agent's
//! PeerHost calls to the peer its connection registered); in-process callers,
//! which do not go through IPC, get nullptr.
CallContext* CurrentCall();

//! Makes `context` the CurrentCall() of this thread for its lifetime (the IPC layer uses it).
class CallScope
{
public:
    explicit CallScope(CallContext& context);
    ~CallScope();
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

private:
    CallContext* m_outer;
};

//! Decodes the arguments from `args`, calls the implementation and writes the result.
using MethodHandler = std::function<void(CallContext& context, Reader& args, Writer& result)>;

class Dispatcher
{
public:
    //! Declares an interface; `allowed_roles` empty means any role may call it.
    void AddInterface(const std::string& name, std::vector<std::string> allowed_roles = {});
    void Add(const std::string& method, MethodHandler handler);
    const MethodHandler* Find(std::string_view method) const;
    bool Allowed(std::string_view method, std::string_view role) const;
    //! Every interface served.
    std::vector<std::string> Interfaces() const;
    //! The interfaces `role` may call (what the hello reply names).
    std::vector<std::string> InterfacesFor(std::string_view role) const;

private:
    std::map<std::string, MethodHandler, std::less<>> m_methods;
    std::map<std::string, std::set<std::string>, std::less<>> m_interfaces;
};

//! Generated per interface (see scripts/gen_ipc.py); include the interface's _ipc.h.
template <typename I> std::unique_ptr<I> MakeProxy(std::shared_ptr<Connection> connection);
template <typename I>
void Serve(Dispatcher& dispatcher, std::shared_ptr<I> implementation, std::vector<std::string> allowed_roles = {});
template <typename I> std::shared_ptr<NotificationSink> MakeSink(std::shared_ptr<I> listener);
template <typename I> std::shared_ptr<I> MakeNotifier(NotifyTarget target);

} // namespace orrery::ipc

#endif // ORRERY_COMMON_IPC_DISPATCHER_H
