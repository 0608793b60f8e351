// Fuzz target: IPC envelope decoding and argument reading, as a server does
// with a frame from an untrusted peer. Must never crash or over-allocate.
#include <common/ipc/envelope.h>
#include <common/ipc/serialize.h>

#include <cstddef>
#include <cstdint>
#include <map>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery::ipc;
    try {
        auto env = DecodeEnvelope({data, size}, nullptr, 1 << 20);
        if (env->kind == Kind::ERROR) (void)env->BodyAsError();
        Reader body = env->Body();
        if (env->kind == Kind::REQUEST) {
            Reader args = env->BodyItems();
            // Read arguments of several shapes, as generated dispatch code would.
            try { (void)ReadArg<std::string>(args, "a"); } catch (const DecodeError&) {}
            try { (void)ReadArg<std::vector<std::map<std::string, int64_t>>>(args, "b"); } catch (const DecodeError&) {}
            try { (void)ReadArg<std::optional<Bytes>>(args, "c"); } catch (const DecodeError&) {}
        } else {
            try {
                std::vector<std::pair<uint64_t, std::string>> value;
                ReadValue(body, value);
            } catch (const DecodeError&) {
            }
        }
    } catch (const EnvelopeError&) {
    } catch (const DecodeError&) {
    }
    return 0;
}
