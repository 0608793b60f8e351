// The memory baseline of the constellation benchmark: a bare ZeroMQ process
// that sits idle with one live connection, as an idle p2p-agent does.
//
//   idle_zmq_client bind <endpoint> <seconds>      ROUTER, answers nothing
//   idle_zmq_client connect <endpoint> <seconds>   DEALER, sends one frame, then sleeps
//
// Prints "ready" on stdout once its socket is bound or its frame is sent, and
// exits after <seconds> at the latest (and at once with its parent).
#include <zmq.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 4 || (std::strcmp(argv[1], "bind") != 0 && std::strcmp(argv[1], "connect") != 0)) {
        std::fprintf(stderr, "usage: idle_zmq_client bind|connect <endpoint> <seconds>\n");
        return 2;
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) return 1;
    const bool bind = std::strcmp(argv[1], "bind") == 0;
    const long seconds = std::strtol(argv[3], nullptr, 10);
    void* context = zmq_ctx_new();
    void* socket = zmq_socket(context, bind ? ZMQ_ROUTER : ZMQ_DEALER);
    if (context == nullptr || socket == nullptr) return 1;
    if (bind) {
        if (zmq_bind(socket, argv[2]) != 0) {
            std::fprintf(stderr, "bind %s: %s\n", argv[2], zmq_strerror(zmq_errno()));
            return 1;
        }
    } else {
        if (zmq_connect(socket, argv[2]) != 0 || zmq_send(socket, "hello", 5, 0) != 5) {
            std::fprintf(stderr, "connect %s: %s\n", argv[2], zmq_strerror(zmq_errno()));
            return 1;
        }
    }
    std::printf("ready\n");
    std::fflush(stdout);
    // Idle: wake up once a second only to honour the time limit.
    for (long i = 0; i < seconds; ++i) {
        zmq_pollitem_t item{socket, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 1000) > 0 && bind) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            while (zmq_msg_recv(&msg, socket, ZMQ_DONTWAIT) >= 0) {
            }
            zmq_msg_close(&msg);
        }
    }
    zmq_close(socket);
    zmq_ctx_term(context);
    return 0;
}
