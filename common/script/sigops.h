// Signature-operation counting for the block sigop limit: legacy counts
// (accurate and inaccurate), P2SH redeem scripts, witness programs, and the
// BIP141 weighted cost of a whole transaction. The inaccurate per-transaction
// legacy count, GetLegacySigOpCount, lives in common/consensus/check.h.
#ifndef ORRERY_COMMON_SCRIPT_SIGOPS_H
#define ORRERY_COMMON_SCRIPT_SIGOPS_H

#include <common/consensus/check.h>
#include <common/consensus/consensus.h>
#include <common/consensus/transaction.h>
#include <common/script/interpreter.h>

#include <cstdint>
#include <span>
#include <vector>

namespace orrery {

//! Legacy count of one script; see GetSigOpCount in common/consensus/script.h.
unsigned CountScriptSigOps(std::span<const uint8_t> script, bool accurate);
//! Core's CScript::GetSigOpCount(scriptSig): for a P2SH scriptPubKey, the
//! accurate count of the redeem script (the last push of a push-only
//! scriptSig, 0 otherwise); for any other script its own accurate count.
unsigned CountP2SHSigOps(std::span<const uint8_t> script_pubkey, std::span<const uint8_t> script_sig);
//! Sigops of a witness program spend (native or P2SH-wrapped), 0 without
//! SCRIPT_VERIFY_WITNESS. Witness v0 only; taproot has its own budget.
unsigned CountWitnessSigOps(std::span<const uint8_t> script_sig, std::span<const uint8_t> script_pubkey,
                            const ScriptWitness* witness, uint32_t flags);

//! P2SH redeem-script count; `spent` holds the output spent by each input.
unsigned GetP2SHSigOpCount(const Transaction& tx, std::span<const TxOut> spent);
//! Core's GetTransactionSigOpCost: legacy and P2SH counts scaled by 4 plus
//! witness sigops. `spent` must have one entry per input (ignored for a
//! coinbase).
int64_t GetTransactionSigOpCost(const Transaction& tx, std::span<const TxOut> spent, uint32_t flags);

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_SIGOPS_H
