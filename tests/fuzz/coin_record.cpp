// Fuzz target: a coin record of the chainstate database, including the
// decompression of special scripts (P2PK keys decompressed by libsecp256k1).
// Any input either fails with DeserializeError or decodes to a coin that
// writes and reads back to the same coin.
#include <services/node/storage/coins.h>

#include <common/consensus/amount.h>

#include <tests/fuzz/fuzz_util.h>

#include <cstdint>
#include <span>
#include <vector>

using namespace orrery;
using namespace orrery::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    SpanReader reader(std::span<const uint8_t>(data, size));
    Coin coin;
    try {
        coin = ReadCoin(reader);
    } catch (const DeserializeError&) {
        return 0;
    }
    fuzz::Check(!coin.IsSpent());
    fuzz::Check(coin.out.script_pubkey.size() <= 10000);
    if (coin.out.value > MAX_MONEY) return 0;
    std::vector<uint8_t> again;
    Writer writer(again);
    WriteCoin(writer, coin);
    SpanReader reread(again);
    fuzz::Check(ReadCoin(reread) == coin);
    fuzz::Check(reread.Empty());
    return 0;
}
