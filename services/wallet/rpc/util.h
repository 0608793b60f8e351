// What the wallet's RPC handlers share: amounts in bitcoind's JSON form, the
// wallet a call names, txids and addresses from arguments, and the fields
// bitcoind prints for every wallet transaction (WalletTxToJSON) and for each of
// its entries (ListTransactions).
#ifndef ORRERY_SERVICES_WALLET_RPC_UTIL_H
#define ORRERY_SERVICES_WALLET_RPC_UTIL_H

#include <common/consensus/amount.h>
#include <common/consensus/uint256.h>
#include <common/rpc/json_rpc.h>
#include <services/wallet/hd_wallet.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orrery::wallet {

class WalletService;

//! An amount in BTC with eight decimals (common/rpc's ValueFromAmount, which bitcoind's JSON writes).
rpc::Json AmountToJson(Amount amount);
//! bitcoind's AmountFromValue for the wallet's arguments: a number or numeric string in BTC, at most 8 decimals,
//! within MAX_MONEY. RPC_TYPE_ERROR "Amount is not a number or string" / "Invalid amount" / "Amount out of range".
Amount AmountFromJson(const rpc::Json& value);

//! The wallet of a call: the /wallet/<name> of its URL, or the only one loaded.
std::shared_ptr<HdWallet> CallWallet(WalletService& service, const rpc::CallRequest& call);
//! A txid argument with bitcoind's ParseHashV errors (RPC_INVALID_PARAMETER).
uint256 ParseTxid(const rpc::Json& value, const std::string& name);
//! The script of an address of the wallet's network; RPC_INVALID_ADDRESS_OR_KEY "Invalid Bitcoin address" (or
//! `message`) otherwise.
std::vector<uint8_t> ScriptFromAddress(HdWallet& wallet, const std::string& address,
                                       const std::string& message = "Invalid Bitcoin address");
//! An integer argument, or `fallback` when omitted.
int64_t IntArg(const rpc::Json& value, int64_t fallback);
bool BoolArg(const rpc::Json& value, bool fallback);

//! bitcoind's WalletTxToJSON: confirmations, generated, block fields or trusted, txid, wtxid, walletconflicts,
//! mempoolconflicts, time, timereceived, bip125-replaceable.
void AddWalletTxFields(HdWallet& wallet, const WalletTx& wtx, rpc::Json& entry);
//! bitcoind's ListTransactions: the send and receive entries of `wtx`, appended to `out`. `label`: only entries of
//! addresses with that label. `with_tx_fields`: each entry also gets AddWalletTxFields (listtransactions does,
//! gettransaction's details do not). `include_change`: entries for change outputs too (listsinceblock).
void ListTransactionEntries(HdWallet& wallet, const WalletTx& wtx, int64_t min_depth, bool with_tx_fields,
                            const std::optional<std::string>& label, bool include_change, rpc::Json& out);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_RPC_UTIL_H
