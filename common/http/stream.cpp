// The bounded body stream; see stream.h.
#include <common/http/stream.h>

namespace orrery::http {

bool BodyStream::Push(std::string_view chunk)
{
    std::lock_guard lock(m_mutex);
    if (m_closed) return false;
    if (m_pending.size() + chunk.size() > m_max_pending) {
        m_closed = true;
        m_overflowed = true;
        m_pending.clear();
        if (m_wake) m_wake();
        return false;
    }
    m_pending.append(chunk);
    if (m_wake) m_wake();
    return true;
}

void BodyStream::Close()
{
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    m_closed = true;
    if (m_wake) m_wake();
}

bool BodyStream::Closed() const
{
    std::lock_guard lock(m_mutex);
    return m_closed;
}

bool BodyStream::Overflowed() const
{
    std::lock_guard lock(m_mutex);
    return m_overflowed;
}

void BodyStream::SetWake(std::function<void()> wake)
{
    std::lock_guard lock(m_mutex);
    m_wake = std::move(wake);
    if (m_wake && (m_closed || !m_pending.empty())) m_wake();
}

void BodyStream::Detach()
{
    std::lock_guard lock(m_mutex);
    m_wake = nullptr;
    m_closed = true;
    m_pending.clear();
}

std::string BodyStream::Take(bool* closed)
{
    std::lock_guard lock(m_mutex);
    *closed = m_closed;
    return std::move(m_pending);
}

} // namespace orrery::http
