// The node's mempool RPC methods. The node has no mempool yet (a later issue
// brings transaction relay): getmempoolinfo answers for an empty, loaded
// mempool with bitcoind's default limits and fee rates, so that clients that
// wait for "loaded" (Bitcoin Core's test framework does) go on.
#include <services/node/rpc/rpc.h>

#include <services/node/node.h>

namespace orrery::node {

using rpc::Json;

namespace {

//! bitcoind's -maxmempool default, 300 MB, in bytes.
constexpr int64_t DEFAULT_MAX_MEMPOOL_BYTES = 300'000'000;

} // namespace

void RegisterMempoolRpc(rpc::Table& table)
{
    table.Add({"getmempoolinfo",
               "Blockchain",
               {},
               "Describes the memory pool of unconfirmed transactions. Orrery does not relay transactions yet, so "
               "the pool is always empty: size, bytes, usage and fees are 0, with bitcoind's default limits.",
               [](const rpc::CallRequest&) {
                   Json out = Json::object();
                   out["loaded"] = true;
                   out["size"] = 0;
                   out["bytes"] = 0;
                   out["usage"] = 0;
                   out["total_fee"] = 0.0;
                   out["maxmempool"] = DEFAULT_MAX_MEMPOOL_BYTES;
                   out["mempoolminfee"] = DEFAULT_MIN_RELAY_FEE;
                   out["minrelaytxfee"] = DEFAULT_MIN_RELAY_FEE;
                   out["incrementalrelayfee"] = DEFAULT_MIN_RELAY_FEE;
                   out["unbroadcastcount"] = 0;
                   out["fullrbf"] = true;
                   return out;
               }});
}

} // namespace orrery::node
