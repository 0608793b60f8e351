// A response body that goes on after the handler returned, as server-sent
// events need: producers push chunks from any thread, the HTTP server writes
// them as the client takes them. The queue is bounded: a client that reads
// slower than the producers write is dropped rather than buffered without end.
// No socket here; the server hooks its wake-up in with SetWake.
#ifndef ORRERY_COMMON_HTTP_STREAM_H
#define ORRERY_COMMON_HTTP_STREAM_H

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace orrery::http {

class BodyStream
{
public:
    //! At most `max_pending` bytes wait for the client; a push past that closes the stream.
    explicit BodyStream(size_t max_pending) : m_max_pending(max_pending) {}
    BodyStream(const BodyStream&) = delete;
    BodyStream& operator=(const BodyStream&) = delete;

    //! Queues `chunk` for the client. False when the stream is closed, or when the chunk would pass the
    //! bound: then the stream closes, what was pending is dropped, and the server closes the connection.
    bool Push(std::string_view chunk);
    //! Ends the body: the server writes what is pending, then closes the connection.
    void Close();
    bool Closed() const;
    //! True when the stream closed because the client fell behind.
    bool Overflowed() const;

    // --- the server's side
    //! `wake` runs (under the stream's lock, so it must only signal) after each push and at Close.
    void SetWake(std::function<void()> wake);
    //! Forgets the wake-up and closes: the server is done with this stream (the connection went away).
    void Detach();
    //! Takes every pending byte; `*closed` tells whether more may come.
    std::string Take(bool* closed);

private:
    const size_t m_max_pending;
    mutable std::mutex m_mutex;
    std::string m_pending;        // guarded by m_mutex
    bool m_closed{false};         // guarded by m_mutex
    bool m_overflowed{false};     // guarded by m_mutex
    std::function<void()> m_wake; // guarded by m_mutex
};

} // namespace orrery::http

#endif // ORRERY_COMMON_HTTP_STREAM_H
