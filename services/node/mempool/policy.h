// Relay policy (Bitcoin Core's policy/policy.h, policy/feerate.h and the
// TRUC limits): which transactions the mempool takes beyond consensus, the
// fee rates it works with, and the defaults of the options that tune them.
// Pure functions of a transaction and what it spends; no mempool state.
#ifndef ORRERY_SERVICES_NODE_MEMPOOL_POLICY_H
#define ORRERY_SERVICES_NODE_MEMPOOL_POLICY_H

#include <common/consensus/amount.h>
#include <common/consensus/transaction.h>
#include <common/script/script_error.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace orrery::node {

//! A fee rate in satoshis per 1,000 virtual bytes (Core's CFeeRate).
class FeeRate
{
public:
    constexpr FeeRate() = default;
    constexpr explicit FeeRate(Amount per_kvb) : m_per_kvb(per_kvb) {}
    //! The rate of `fee` over `vsize` (0 for an empty size).
    static FeeRate FromFee(Amount fee, int64_t vsize) { return FeeRate(vsize > 0 ? fee * 1000 / vsize : 0); }
    //! The fee of `vsize` virtual bytes at this rate, rounded up; at least 1 satoshi for a positive rate.
    Amount GetFee(int64_t vsize) const;
    constexpr Amount PerKvB() const { return m_per_kvb; }
    friend constexpr auto operator<=>(const FeeRate&, const FeeRate&) = default;
    //! "0.00001000 BTC/kvB", as Core's ToString.
    std::string ToString() const;

private:
    Amount m_per_kvb{0};
};

// Core's defaults (v28).
inline constexpr int64_t MAX_STANDARD_TX_WEIGHT = 400'000;
inline constexpr int64_t MIN_STANDARD_TX_NONWITNESS_SIZE = 65;
inline constexpr size_t MAX_STANDARD_SCRIPTSIG_SIZE = 1650;
inline constexpr unsigned MAX_P2SH_SIGOPS = 15;
inline constexpr int64_t MAX_STANDARD_TX_SIGOPS_COST = 80'000 / 5;
inline constexpr int64_t DEFAULT_BYTES_PER_SIGOP = 20;
inline constexpr size_t MAX_STANDARD_P2WSH_STACK_ITEMS = 100;
inline constexpr size_t MAX_STANDARD_P2WSH_STACK_ITEM_SIZE = 80;
inline constexpr size_t MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE = 80;
inline constexpr size_t MAX_STANDARD_P2WSH_SCRIPT_SIZE = 3600;
inline constexpr Amount DUST_RELAY_TX_FEE = 3000;
inline constexpr Amount DEFAULT_MIN_RELAY_TX_FEE = 1000;
inline constexpr Amount DEFAULT_INCREMENTAL_RELAY_FEE = 1000;
inline constexpr size_t MAX_OP_RETURN_RELAY = 83;
inline constexpr int32_t TX_MAX_STANDARD_VERSION = 3;
inline constexpr int32_t TRUC_VERSION = 3;
inline constexpr int64_t TRUC_MAX_VSIZE = 10'000;
inline constexpr int64_t TRUC_CHILD_MAX_VSIZE = 1'000;
inline constexpr int64_t DEFAULT_ANCESTOR_LIMIT = 25;
inline constexpr int64_t DEFAULT_ANCESTOR_SIZE_LIMIT_KVB = 101;
inline constexpr int64_t DEFAULT_DESCENDANT_LIMIT = 25;
inline constexpr int64_t DEFAULT_DESCENDANT_SIZE_LIMIT_KVB = 101;
inline constexpr int64_t DEFAULT_MAX_MEMPOOL_SIZE_MB = 300;
inline constexpr int64_t DEFAULT_MEMPOOL_EXPIRY_HOURS = 336;
inline constexpr size_t MAX_REPLACEMENT_CANDIDATES = 100;
//! Sequence numbers at or below this signal BIP125 replaceability.
inline constexpr uint32_t MAX_BIP125_RBF_SEQUENCE = 0xfffffffd;
//! Core's DEFAULT_MAX_RAW_TX_FEE_RATE for sendrawtransaction / testmempoolaccept: 0.10 BTC/kvB.
inline constexpr Amount DEFAULT_MAX_RAW_TX_FEE_RATE = COIN / 10;

//! Core's STANDARD_SCRIPT_VERIFY_FLAGS: the consensus flags and every policy flag but SIGPUSHONLY.
inline constexpr uint32_t MANDATORY_SCRIPT_VERIFY_FLAGS = SCRIPT_VERIFY_P2SH;
inline constexpr uint32_t STANDARD_SCRIPT_VERIFY_FLAGS =
    SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_NULLDUMMY | SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
    SCRIPT_VERIFY_CHECKSEQUENCEVERIFY | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT | SCRIPT_VERIFY_STRICTENC |
    SCRIPT_VERIFY_MINIMALDATA | SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS | SCRIPT_VERIFY_CLEANSTACK |
    SCRIPT_VERIFY_MINIMALIF | SCRIPT_VERIFY_NULLFAIL | SCRIPT_VERIFY_LOW_S |
    SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM | SCRIPT_VERIFY_WITNESS_PUBKEYTYPE |
    SCRIPT_VERIFY_CONST_SCRIPTCODE | SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION |
    SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS | SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE;

//! What the standardness rules take from the options.
struct StandardnessOptions {
    FeeRate dust_relay_fee{DUST_RELAY_TX_FEE}; //!< -dustrelayfee
    bool permit_bare_multisig{true};           //!< -permitbaremultisig
    //! -datacarrier / -datacarriersize: the largest OP_RETURN output script relayed; 0 with -datacarrier=0.
    size_t max_datacarrier_bytes{MAX_OP_RETURN_RELAY};
    bool datacarrier{true};
};

//! Core's GetDustThreshold: the value below which spending the output would cost more than a third of it at
//! `dust_relay_fee` (0 for an unspendable output).
Amount GetDustThreshold(const TxOut& out, FeeRate dust_relay_fee);
bool IsDust(const TxOut& out, FeeRate dust_relay_fee);

//! Core's IsStandard for an output script.
bool IsStandardOutputScript(std::span<const uint8_t> script, const StandardnessOptions& options);

//! Core's IsStandardTx: version, weight, scriptSig size and push-only, output types, bare multisig, dust, at most
//! one OP_RETURN. False with Core's reason ("version", "tx-size", "scriptsig-size", "scriptsig-not-pushonly",
//! "scriptpubkey", "bare-multisig", "dust", "multi-op-return").
bool IsStandardTx(const Transaction& tx, const StandardnessOptions& options, std::string& reason);

//! Core's AreInputsStandard: every spent script has a standard type, and P2SH redeem scripts carry at most 15
//! sigops. `spent` has one output per input.
bool AreInputsStandard(const Transaction& tx, std::span<const TxOut> spent);

//! Core's IsWitnessStandard: size limits of P2WSH and tapscript stacks, no annex, no witness on non-witness spends.
bool IsWitnessStandard(const Transaction& tx, std::span<const TxOut> spent);

//! Core's GetVirtualTransactionSize: the larger of the weight and the sigop cost times -bytespersigop, in vbytes.
int64_t GetSigOpAdjustedVsize(int64_t weight, int64_t sigop_cost, int64_t bytes_per_sigop);

//! Core's ParseMoney for option values: "0.00001" (BTC, at most 8 decimals, within MAX_MONEY) to satoshis.
std::optional<Amount> ParseMoney(std::string_view text);

//! BIP125: an input with a sequence below 0xfffffffe signals replaceability.
bool SignalsOptInRbf(const Transaction& tx);

} // namespace orrery::node

#endif // ORRERY_SERVICES_NODE_MEMPOOL_POLICY_H
