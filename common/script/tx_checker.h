// The SignatureChecker that binds the interpreter to one input of a real
// transaction (Core's GenericTransactionSignatureChecker).
#ifndef ORRERY_COMMON_SCRIPT_TX_CHECKER_H
#define ORRERY_COMMON_SCRIPT_TX_CHECKER_H

#include <common/consensus/transaction.h>
#include <common/script/interpreter.h>
#include <common/script/sighash.h>

namespace orrery {

//! Checks signatures and lock times for input `n_in` of `tx`, which spends
//! `amount`. `tx` and `txdata` are borrowed and must outlive the checker;
//! `txdata` must have been initialised from `tx` (with the spent outputs
//! when taproot inputs are to be checked). A checker is cheap to build, one
//! per input, and safe to use from the thread that owns it.
class TransactionSignatureChecker : public SignatureChecker
{
public:
    TransactionSignatureChecker(const Transaction& tx, size_t n_in, Amount amount,
                                const PrecomputedTransactionData& txdata)
        : m_tx{tx}, m_n_in{n_in}, m_amount{amount}, m_txdata{&txdata}
    {
    }
    //! Without precomputed data: segwit v0 hashes are computed per call, and
    //! taproot signatures fail.
    TransactionSignatureChecker(const Transaction& tx, size_t n_in, Amount amount)
        : m_tx{tx}, m_n_in{n_in}, m_amount{amount}, m_txdata{nullptr}
    {
    }

    bool CheckEcdsaSignature(std::span<const uint8_t> sig, std::span<const uint8_t> pubkey,
                             std::span<const uint8_t> script_code, SigVersion sigversion) const override;
    bool CheckSchnorrSignature(std::span<const uint8_t> sig, std::span<const uint8_t> pubkey, SigVersion sigversion,
                               ScriptExecutionData& execdata, ScriptError* error) const override;
    bool CheckLockTime(const ScriptNum& lock_time) const override;
    bool CheckSequence(const ScriptNum& sequence) const override;

private:
    const Transaction& m_tx;
    size_t m_n_in;
    Amount m_amount;
    const PrecomputedTransactionData* m_txdata;
};

} // namespace orrery

#endif // ORRERY_COMMON_SCRIPT_TX_CHECKER_H
