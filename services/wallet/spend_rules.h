// The rules a wallet transaction is built by, apart from coin selection
// (coin_selection.h) and from the wallet's state: the fee rate a send uses
// (Core's GetMinimumFeeRate), the size a signed input will have (Core's dummy
// signatures of maximal size), dust, the anti-fee-sniping lock time, the
// defaults of bitcoind's wallet options and how their amounts are written.
// A pure library, like coin selection: the caller passes the node's figures,
// the clock and the random generator, so tests fix every input.
#ifndef ORRERY_SERVICES_WALLET_SPEND_RULES_H
#define ORRERY_SERVICES_WALLET_SPEND_RULES_H

#include <common/consensus/amount.h>
#include <common/consensus/transaction.h>
#include <services/wallet/coin_selection.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace orrery::wallet {

//! Inputs with a sequence at or below this signal BIP125 replaceability.
inline constexpr uint32_t MAX_BIP125_RBF_SEQUENCE{0xfffffffd};
//! The highest sequence that still lets the lock time apply.
inline constexpr uint32_t MAX_SEQUENCE_NONFINAL{0xfffffffe};
//! Core's MAX_ANTI_FEE_SNIPING_TIP_AGE: with an older tip the wallet cannot tell the chain is current.
inline constexpr int64_t MAX_ANTI_FEE_SNIPING_TIP_AGE{8 * 60 * 60};
//! Core's estimator answers targets up to this many blocks.
inline constexpr int64_t MAX_CONF_TARGET{1008};

//! bitcoind's wallet options, with its defaults.
struct SpendOptions {
    FeeRate fallback_fee{0};           //!< -fallbackfee (Core: 0 on every network)
    FeeRate pay_tx_fee{0};             //!< -paytxfee (0: use estimates)
    FeeRate min_tx_fee{1'000};         //!< -mintxfee
    Amount max_tx_fee{COIN / 10};      //!< -maxtxfee: the highest absolute fee of one transaction
    FeeRate discard_fee{10'000};       //!< -discardfee
    FeeRate consolidate_fee{10'000};   //!< -consolidatefeerate
    int64_t tx_confirm_target{6};      //!< -txconfirmtarget
    bool signal_rbf{true};             //!< -walletrbf (Core 28: on)
    bool spend_zero_conf_change{true}; //!< -spendzeroconfchange
    bool avoid_partial_spends{false};  //!< -avoidpartialspends
};

//! bitcoind's ParseMoney for option values: digits with at most 8 decimals, in BTC; nullopt otherwise or beyond
//! MAX_MONEY.
std::optional<Amount> ParseMoney(std::string_view text);

//! "1.000 sat/vB" (CFeeRate::ToString in the unit sendtoaddress uses).
std::string FeeRateToString(FeeRate rate);

//! How a fee rate was chosen; the names are bitcoind's (StringForFeeReason), but for the estimate, whose
//! estimator gives no reason: "Smart fee estimate".
enum class FeeReason { EXPLICIT, PAYTXFEE, ESTIMATE, FALLBACK, MEMPOOL_MIN, REQUIRED };
std::string FeeReasonName(FeeReason reason);

//! What the caller and the node say about fees for one transaction.
struct FeeInputs {
    std::optional<FeeRate> explicit_rate; //!< fee_rate / feeRate of the call
    std::optional<int64_t> conf_target;   //!< conf_target of the call
    Amount estimate{0};                   //!< the node's estimatesmartfee for the target, sat/kvB (0: none)
    Amount mempool_min{0};                //!< the node's mempool minimum, sat/kvB
    Amount relay_min{1'000};              //!< the node's -minrelaytxfee, sat/kvB
};

struct FeeChoice {
    FeeRate rate;
    FeeReason reason{FeeReason::ESTIMATE};
};

//! Core's GetMinimumFeeRate: an explicit rate as given; else -paytxfee (without a conf_target); else the estimate,
//! or -fallbackfee without one (a zero fallback stops there: the caller reports that estimation failed), raised to
//! the mempool's minimum; finally at least max(-mintxfee, relay minimum).
FeeChoice ChooseFeeRate(const FeeInputs& inputs, const SpendOptions& options);

//! An input as it will be once signed with signatures of the largest size (72-byte ECDSA, 64-byte Schnorr), for
//! size estimates: spending P2PKH, P2SH (as P2SH-P2WPKH, the only P2SH a descriptor wallet makes alone), P2WPKH
//! and P2TR key path. nullopt for other scripts.
std::optional<TxIn> DummySignedInput(const OutPoint& prevout, std::span<const uint8_t> script_pubkey);
//! Core's GetVirtualTransactionInputSize: the input's weight (witness included) / 4, rounded up.
int InputVirtualSize(const TxIn& in);
//! Serialized size of an output.
int OutputSize(const TxOut& out);
//! Core's GetDustThreshold: below this value spending the output costs more than it is worth at `dust_relay`.
Amount DustThreshold(const TxOut& out, FeeRate dust_relay);
bool IsDust(const TxOut& out, FeeRate dust_relay);

//! Core's DiscourageFeeSniping lock time: the tip's height (one time in ten up to 99 blocks less), or 0 when the
//! tip is older than MAX_ANTI_FEE_SNIPING_TIP_AGE at `now`.
uint32_t AntiFeeSnipingLockTime(int64_t tip_height, int64_t tip_time, int64_t now, Rng& rng);

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_SPEND_RULES_H
