// Echo: a test-only interface that exercises the IPC plumbing (values, errors,
// slow calls, subscriptions, large payloads). No service serves it in production.
#ifndef ORRERY_COMMON_INTERFACES_ECHO_H
#define ORRERY_COMMON_INTERFACES_ECHO_H

#include <common/ipc/serialize.h>
#include <common/ipc/subscription.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! A struct crossing as the array of its declared fields.
struct EchoRecord {
    std::string name;
    int64_t amount{0};
    std::optional<std::string> note;
    std::vector<uint32_t> tags;
    ORRERY_FIELDS(name, amount, note, tags)
};

class EchoListener
{
public:
    virtual ~EchoListener() = default;
    //! One tick of a subscribeTicks subscription; `n` counts from 1.
    virtual void tick(uint64_t n) = 0;
};

class Echo
{
public:
    virtual ~Echo() = default;
    virtual std::string echo(std::string text) = 0;
    virtual ipc::Bytes echoBytes(ipc::Bytes data) = 0;
    virtual EchoRecord echoRecord(EchoRecord record) = 0;
    virtual std::map<std::string, int64_t> countWords(std::vector<std::string> words) = 0;
    virtual int64_t add(int64_t a, int64_t b) = 0;
    //! Sleeps, then returns `value`: a slow method.
    virtual uint32_t sleepThenReturn(uint32_t milliseconds, uint32_t value) = 0;
    //! Throws std::runtime_error(message) in the implementation.
    virtual void fail(std::string message) = 0;
    //! The caller's pid as the service saw it in the hello.
    virtual int64_t callerPid() = 0;
    //! Sends `count` ticks, one every `interval_ms`, from a thread of the implementation.
    virtual std::unique_ptr<ipc::Subscription> subscribeTicks(std::shared_ptr<EchoListener> listener, uint32_t count,
                                                              uint32_t interval_ms) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_ECHO_H
