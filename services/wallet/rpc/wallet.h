// orrery-wallet's RPC methods: loading wallets (createwallet, loadwallet,
// unloadwallet, listwallets, listwalletdir, getwalletinfo) here, addresses and
// descriptors, coins and balances, transactions and rescans in the files of
// their groups, with bitcoind's names, fields and errors. The table is
// offered to the gui-bridge, which routes calls here with the wallet named by
// a /wallet/<name> URL (common/rpc/router_link.h).
#ifndef ORRERY_SERVICES_WALLET_RPC_WALLET_H
#define ORRERY_SERVICES_WALLET_RPC_WALLET_H

#include <common/consensus/amount.h>
#include <common/rpc/json_rpc.h>

#include <memory>

namespace orrery::wallet {

class WalletService;
struct WalletInfo;

//! Every method of the wallet. The handlers hold `service` by reference: it must outlive the table's use.
std::shared_ptr<const rpc::Table> MakeRpcTable(WalletService& service);

//! getwalletinfo in bitcoind's fields; `node_connected` adds Orrery's warning when the wallet lost its node;
//! `pay_tx_fee`: -paytxfee in sat/kvB.
rpc::Json WalletInfoToJson(const WalletInfo& info, bool node_connected = true, Amount pay_tx_fee = 0);

// The groups of methods, one file each (rpc/addresses.cpp, coins.cpp, transactions.cpp, spend.cpp, encrypt.cpp,
// signmessage.cpp).
void RegisterAddressRpc(rpc::Table& table, WalletService& service);
void RegisterCoinRpc(rpc::Table& table, WalletService& service);
void RegisterTransactionRpc(rpc::Table& table, WalletService& service);
void RegisterSpendRpc(rpc::Table& table, WalletService& service);
//! Encryption (encryptwallet, walletpassphrase, walletlock, walletpassphrasechange) and backups (backupwallet,
//! restorewallet).
void RegisterEncryptionRpc(rpc::Table& table, WalletService& service);
//! signmessage (rpc/signmessage.cpp).
void RegisterMessageRpc(rpc::Table& table, WalletService& service);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_RPC_WALLET_H
