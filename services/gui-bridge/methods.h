// The RPC methods the gui-bridge answers, each mapped to the service that
// knows (Node, Wallet/WalletLoader, Supervisor) and its result turned into
// bitcoind's JSON fields. The field mappings are plain functions so that tests
// can check them without any process.
#ifndef ORRERY_SERVICES_GUI_BRIDGE_METHODS_H
#define ORRERY_SERVICES_GUI_BRIDGE_METHODS_H

#include <services/gui-bridge/backends.h>
#include <services/gui-bridge/json_rpc.h>

#include <common/interfaces/node.h>
#include <common/interfaces/wallet.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace orrery::rpc {

struct MethodContext {
    Backend* node{nullptr};
    Backend* wallet{nullptr}; //!< nullptr with -disablewallet: wallet methods do not exist
    Backend* supervisor{nullptr};
    std::chrono::steady_clock::time_point started;
    //! Stops this bridge (the "stop" method when orreryd is not there). Must return at once.
    std::function<void()> stop_self;
};

//! Registers every method, "help" included. The context must outlive the table's use.
void RegisterMethods(Table& table, const MethodContext& context);

Json BlockchainInfoToJson(const interfaces::BlockchainInfo& info);
Json NetworkInfoToJson(const interfaces::NetworkInfo& info);
Json PeerToJson(const interfaces::PeerDetails& peer);
Json WalletInfoToJson(const interfaces::WalletInfo& info);

//! Service flags as bitcoind prints them: 16 hex digits, and the names of known bits.
std::string ServicesHex(uint64_t services);
Json ServiceNames(uint64_t services);
//! getpeerinfo's "network" of an "ip:port": ipv4, ipv6, onion, i2p, or not_publicly_routable.
std::string NetworkOf(const std::string& address);

} // namespace orrery::rpc

#endif // ORRERY_SERVICES_GUI_BRIDGE_METHODS_H
