// Wallet and WalletLoader: served by orrery-wallet. Keys never cross: no method
// returns key material.
#ifndef ORRERY_COMMON_INTERFACES_WALLET_H
#define ORRERY_COMMON_INTERFACES_WALLET_H

#include <common/ipc/serialize.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orrery::interfaces {

//! A block by hash (hex, as bitcoind prints it) and height.
struct BlockRef {
    std::string hash;
    int64_t height{0};
    ORRERY_FIELDS(hash, height)
};

struct WalletInfo {
    std::string name;
    int64_t format_version{1};
    int64_t address_count{0};  //!< receive addresses handed out
    std::string master_fingerprint; //!< hex, public
    //! bitcoind's lastprocessedblock: the node's tip as the wallet last saw it; unset until it has heard from the node.
    std::optional<BlockRef> last_processed_block;
    ORRERY_FIELDS(name, format_version, address_count, master_fingerprint, last_processed_block)
};

class WalletLoader
{
public:
    virtual ~WalletLoader() = default;
    //! Creates and loads a wallet; throws RpcError(RPC_WALLET_ALREADY_EXISTS) if it exists.
    virtual std::string createWallet(std::string name) = 0;
    //! Throws RPC_WALLET_NOT_FOUND or RPC_WALLET_ALREADY_LOADED as bitcoind does.
    virtual std::string loadWallet(std::string name) = 0;
    virtual void unloadWallet(std::string name) = 0;
    virtual std::vector<std::string> listWallets() = 0;
    //! Wallets on disk, loaded or not (listwalletdir).
    virtual std::vector<std::string> listWalletDir() = 0;
};

class Wallet
{
public:
    virtual ~Wallet() = default;
    //! A fresh receive address of `wallet` ("" = the only loaded one); bech32 (BIP84) by default.
    virtual std::string getNewAddress(std::string wallet, std::string label, std::string address_type) = 0;
    virtual WalletInfo getWalletInfo(std::string wallet) = 0;
};

} // namespace orrery::interfaces

#endif // ORRERY_COMMON_INTERFACES_WALLET_H
