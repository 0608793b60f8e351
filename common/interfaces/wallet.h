// WalletLoader: served by orrery-wallet to the roles that relay a user's
// request. Keys never cross: no method returns key material. The wallet's RPC
// methods (getnewaddress, getwalletinfo...) are not here: the wallet registers
// them with the gui-bridge (common/interfaces/rpc.h, services/wallet/rpc/).
#ifndef ORRERY_COMMON_INTERFACES_WALLET_H
#define ORRERY_COMMON_INTERFACES_WALLET_H

#include <common/ipc/serialize.h>

#include <string>
#include <vector>

namespace orrery::interfaces {

class WalletLoader
{
public:
    virtual ~WalletLoader() = default;
    //! Creates and loads a wallet; throws rpc::RpcException(RPC_WALLET_ALREADY_EXISTS) if it exists.
    virtual std::string createWallet(std::string name) = 0;
    //! Throws RPC_WALLET_NOT_FOUND or RPC_WALLET_ALREADY_LOADED as bitcoind does.
    virtual std::string loadWallet(std::string name) = 0;
    virtual void unloadWallet(std::string name) = 0;
    virtual std::vector<std::string> listWallets() = 0;
    //! Wallets on disk, loaded or not (listwalletdir).
    virtual std::vector<std::string> listWalletDir() = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_WALLET_H
