// Building, signing and sending the wallet's transactions (Core's
// wallet/spend.cpp CreateTransaction and CommitTransaction): the fee rate from
// the caller, the node's estimate or the options; the coins from coin
// selection; change to a fresh internal address of the wallet, or none when it
// would be dust; the anti-fee-sniping lock time; signatures from the wallet's
// descriptors. A sent transaction is on disk before the node hears of it, and
// a send holds the wallet's spending lock from coin selection to that commit.
#ifndef ORRERY_SERVICES_WALLET_SPEND_H
#define ORRERY_SERVICES_WALLET_SPEND_H

#include <common/consensus/transaction.h>
#include <common/interfaces/chain.h>
#include <common/script/script_error.h>
#include <services/wallet/derivation.h>
#include <services/wallet/hd_wallet.h>
#include <services/wallet/spend_rules.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace orrery::wallet {

//! The flags every input the wallet signs is checked under (the node's standard script flags).
inline constexpr uint32_t WALLET_VERIFY_FLAGS =
    SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_NULLDUMMY | SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
    SCRIPT_VERIFY_CHECKSEQUENCEVERIFY | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT | SCRIPT_VERIFY_STRICTENC |
    SCRIPT_VERIFY_MINIMALDATA | SCRIPT_VERIFY_CLEANSTACK | SCRIPT_VERIFY_MINIMALIF | SCRIPT_VERIFY_NULLFAIL |
    SCRIPT_VERIFY_LOW_S | SCRIPT_VERIFY_WITNESS_PUBKEYTYPE;

//! One output a transaction must pay.
struct Recipient {
    Script script;
    Amount amount{0};
    bool subtract_fee{false}; //!< subtractfeefromamount: this output pays its share of the fee
};

//! What one call asks of its transaction (the parts of Core's CCoinControl the RPC methods set).
struct CoinControl {
    std::optional<FeeRate> fee_rate;     //!< fee_rate / feeRate: overrides every other source
    std::optional<int64_t> conf_target;  //!< conf_target for the estimate
    bool conservative{false};            //!< estimate_mode "conservative"
    std::optional<bool> signal_rbf;      //!< replaceable; -walletrbf when not set
    std::optional<Script> change_script; //!< changeAddress
    std::optional<OutputType> change_type;
    std::optional<size_t> change_position;
    bool add_inputs{true}; //!< false: only the inputs the transaction already has
    bool include_unsafe{false};
    int64_t min_depth{0};
    int64_t max_depth{9'999'999};
    std::optional<uint32_t> lock_time; //!< keep this lock time (fundrawtransaction) instead of anti-fee-sniping
    bool sign{true};
};

//! A built transaction and what the RPC methods report of it.
struct CreatedTransaction {
    Transaction tx;
    Amount fee{0};
    int change_position{-1};
    FeeChoice fee_choice;
    bool complete{false}; //!< every input signed (only when signing was asked)
};

//! Builds a transaction paying `recipients` (in this order, change inserted), spending the inputs of `base` first
//! (their order and sequences kept; fundrawtransaction), then coins the selection picks. `base`'s version is kept.
//! Throws WalletError with bitcoind's codes and messages (RPC_WALLET_INSUFFICIENT_FUNDS "Insufficient funds",
//! "Fee estimation failed. ...", ...). The caller holds wallet.LockForSpending() when it will commit.
CreatedTransaction CreateTransaction(HdWallet& wallet, interfaces::Chain& chain, const SpendOptions& options,
                                     const Transaction& base, const std::vector<Recipient>& recipients,
                                     const CoinControl& control);

//! Commits `tx` to the wallet's file, then offers it to the node. The node's refusal is logged and returned ("" when
//! the node took it); the transaction stays in the wallet, as in bitcoind, until it confirms or is abandoned, and is
//! offered again when the wallet reconnects.
std::string CommitAndBroadcast(HdWallet& wallet, interfaces::Chain& chain, const Transaction& tx);

//! Core's ResubmitWalletTransactions: offers the node again every unconfirmed transaction the wallet made that is
//! neither in the mempool nor abandoned (a send interrupted between commit and broadcast, a node restart).
void ResubmitTransactions(HdWallet& wallet, interfaces::Chain& chain);

//! The fee rate of a transaction (spend_rules.h's ChooseFeeRate over the node's figures). Throws WalletError with
//! bitcoind's "Fee estimation failed. ..." and "Fee rate (...) is lower than the minimum fee rate setting (...)".
FeeChoice ChooseTransactionFee(interfaces::Chain& chain, const SpendOptions& options, const CoinControl& control);
//! The virtual size of `tx` once signed with the largest signatures (`spent[i]`: what input i spends).
int64_t SignedVirtualSize(const Transaction& tx, const std::vector<TxOut>& spent);

//! The output type change takes (Core's TransactionChangeType): the caller's, else bech32m when paying a taproot
//! output and the wallet has such change, else bech32 when it has, else whatever internal kind it has.
std::optional<OutputType> ChooseChangeType(HdWallet& wallet, const std::vector<Recipient>& recipients,
                                           const std::optional<OutputType>& asked);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_SPEND_H
