// The start-up and shutdown every Orrery service shares, so that each
// service's Run() holds only its own work: the signal mask, its IPC settings
// from the options, its Server bound on -ipcbind (default <net>/run/<role>.sock)
// after removing a socket a killed run left there, waiting for SIGTERM or
// SIGINT (SIGHUP reopens debug.log), and the clean-up of its socket file.
#ifndef ORRERY_COMMON_SERVICE_SERVICE_H
#define ORRERY_COMMON_SERVICE_SERVICE_H

#include <common/ipc/endpoint.h>
#include <common/ipc/options.h>
#include <common/util/args.h>

#include <csignal>
#include <memory>
#include <string>

namespace orrery {

class ServiceProcess
{
public:
    //! Blocks SIGTERM, SIGINT and SIGHUP in the calling thread: construct it before any
    //! thread starts, so that every thread inherits the mask and WaitForShutdown sees them.
    ServiceProcess(const ArgsManager& args, std::string role);
    //! Stop().
    ~ServiceProcess();
    ServiceProcess(const ServiceProcess&) = delete;
    ServiceProcess& operator=(const ServiceProcess&) = delete;

    const std::string& Role() const { return m_role; }
    //! This process's IPC settings: role, keys folder, -ipcmaxmessagesize, and the roles
    //! -ipcallow grants (for a server). A client adds its interfaces and server role.
    //! Throws std::runtime_error with the message for a bad -ipcallow.
    ipc::Options IpcOptions() const;
    //! Makes the process's server with `options` (IpcOptions() plus what the service adds).
    ipc::Server& MakeServer(ipc::Options options);
    //! The process's server, made on first use with IpcOptions(); register interfaces before Bind.
    ipc::Server& Server();
    //! Binds the server on -ipcbind (default ipc://<net>/run/<role>.sock); a socket file left
    //! there by a killed run is removed first (the caller holds its lock, or none is needed).
    //! Throws std::runtime_error when it cannot bind.
    void Bind();
    //! The endpoint bound, or the one Bind would use.
    const std::string& Endpoint() const { return m_endpoint; }
    //! Logs "Error: <message>", writes the same to stderr, and returns 1 (an exit code).
    int Fail(const std::string& message) const;
    //! Tells systemd READY=1 (sd_notify; nothing happens outside systemd), then blocks until SIGTERM
    //! or SIGINT, feeding the watchdog (WATCHDOG=1) from this thread when WatchdogSec= armed it;
    //! a SIGHUP meanwhile reopens debug.log. Sends STOPPING=1 and returns the signal.
    int WaitForShutdown();
    //! Stops the server and removes its ipc:// socket file. Idempotent.
    void Stop();
    //! The signals blocked by the constructor (for a thread that waits on them itself).
    const sigset_t& Signals() const { return m_signals; }

private:
    const ArgsManager& m_args;
    std::string m_role;
    std::string m_endpoint;
    sigset_t m_signals{};
    std::unique_ptr<ipc::Server> m_server;
    bool m_bound{false};
};

} // namespace orrery

#endif // ORRERY_COMMON_SERVICE_SERVICE_H
