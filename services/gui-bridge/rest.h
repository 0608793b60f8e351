// bitcoind's unauthenticated REST interface (-rest), served by the gui-bridge
// on the RPC port. Every answer is built from the node's own RPC methods
// (getblock, getblockheader, getrawtransaction, gettxout, getblockchaininfo,
// getmempoolinfo, getrawmempool, ...) called through the router, so REST says
// exactly what RPC says; the bridge only reshapes it into bitcoind's .bin, .hex
// and .json forms, paths, status codes and error texts (doc/gui-bridge.md).
#ifndef ORRERY_SERVICES_GUI_BRIDGE_REST_H
#define ORRERY_SERVICES_GUI_BRIDGE_REST_H

#include <common/http/http.h>
#include <common/rpc/json_rpc.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery::rest {

//! One outpoint of a getutxos query: the txid in its serialized (internal) byte order.
struct OutPointQuery {
    std::array<uint8_t, 32> txid{};
    uint32_t n{0};
};

struct UtxoQuery {
    bool check_mempool{false};
    std::vector<OutPointQuery> outpoints;
};

//! bitcoind's cap on outpoints in one getutxos request.
inline constexpr size_t MAX_GETUTXOS_OUTPOINTS = 15;
//! bitcoind's cap on headers in one headers request.
inline constexpr size_t MAX_REST_HEADERS_RESULTS = 2000;

//! Decodes a getutxos request body (BIP64: a bool, then a vector of outpoints). nullopt when it does not parse;
//! bytes after the vector are ignored, as bitcoind does.
std::optional<UtxoQuery> ParseUtxoBody(std::string_view bytes);

//! True when `target` (path and query) is one REST serves: it starts with "/rest/".
bool IsRestPath(std::string_view target);

//! Answers one request whose target IsRestPath. `execute` runs the node's RPC methods; its RpcException
//! RPC_IN_WARMUP becomes bitcoind's 503 "Service temporarily unavailable".
http::Response Handle(const http::Request& request, const rpc::Executor& execute);

} // namespace orrery::rest

#endif // ORRERY_SERVICES_GUI_BRIDGE_REST_H
