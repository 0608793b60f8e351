// Transaction-bound signature and lock-time checks.
#include <common/script/tx_checker.h>

#include <common/script/signature.h>

namespace orrery {

namespace {

bool SetError(ScriptError* error, ScriptError value)
{
    if (error) *error = value;
    return false;
}

} // namespace

bool TransactionSignatureChecker::CheckEcdsaSignature(std::span<const uint8_t> sig, std::span<const uint8_t> pubkey,
                                                      std::span<const uint8_t> script_code,
                                                      SigVersion sigversion) const
{
    if (sig.empty()) return false;
    if (m_n_in >= m_tx.vin.size()) return false;
    const int32_t hash_type = sig.back();
    const uint256 sighash = SignatureHash(script_code, m_tx, m_n_in, hash_type, m_amount, sigversion, m_txdata);
    return VerifyEcdsa(pubkey, sig.first(sig.size() - 1), sighash.bytes());
}

bool TransactionSignatureChecker::CheckSchnorrSignature(std::span<const uint8_t> sig, std::span<const uint8_t> pubkey,
                                                        SigVersion sigversion, ScriptExecutionData& execdata,
                                                        ScriptError* error) const
{
    if (sig.size() != 64 && sig.size() != 65) return SetError(error, ScriptError::SCHNORR_SIG_SIZE);
    uint8_t hash_type = SIGHASH_DEFAULT;
    if (sig.size() == 65) {
        hash_type = sig.back();
        // An explicit 0x00 would duplicate the 64-byte form: malleability.
        if (hash_type == SIGHASH_DEFAULT) return SetError(error, ScriptError::SCHNORR_SIG_HASHTYPE);
        sig = sig.first(64);
    }
    // Core treats a missing txdata as a programming error; here it fails.
    if (m_txdata == nullptr) return SetError(error, ScriptError::UNKNOWN_ERROR);
    const auto sighash = SignatureHashSchnorr(execdata, m_tx, m_n_in, hash_type, sigversion, *m_txdata);
    if (!sighash) return SetError(error, ScriptError::SCHNORR_SIG_HASHTYPE);
    if (!VerifySchnorr(pubkey, sig, *sighash)) return SetError(error, ScriptError::SCHNORR_SIG);
    return true;
}

bool TransactionSignatureChecker::CheckLockTime(const ScriptNum& lock_time) const
{
    // Block heights and timestamps cannot be compared with each other.
    const int64_t tx_lock_time = m_tx.lock_time;
    const bool both_heights = tx_lock_time < LOCKTIME_THRESHOLD && lock_time.Value() < LOCKTIME_THRESHOLD;
    const bool both_times = tx_lock_time >= LOCKTIME_THRESHOLD && lock_time.Value() >= LOCKTIME_THRESHOLD;
    if (!both_heights && !both_times) return false;
    if (lock_time.Value() > tx_lock_time) return false;
    // A final input disables nLockTime, which would bypass the check.
    if (m_n_in >= m_tx.vin.size() || m_tx.vin[m_n_in].sequence == SEQUENCE_FINAL) return false;
    return true;
}

bool TransactionSignatureChecker::CheckSequence(const ScriptNum& sequence) const
{
    if (m_n_in >= m_tx.vin.size()) return false;
    const int64_t tx_sequence = m_tx.vin[m_n_in].sequence;
    // BIP68 relative lock times only apply from version 2.
    if (static_cast<uint32_t>(m_tx.version) < 2) return false;
    if (tx_sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) return false;
    const int64_t mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
    const int64_t tx_masked = tx_sequence & mask;
    const int64_t wanted = sequence.Value() & mask;
    const bool both_blocks = tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG && wanted < SEQUENCE_LOCKTIME_TYPE_FLAG;
    const bool both_times = tx_masked >= SEQUENCE_LOCKTIME_TYPE_FLAG && wanted >= SEQUENCE_LOCKTIME_TYPE_FLAG;
    if (!both_blocks && !both_times) return false;
    return wanted <= tx_masked;
}

} // namespace orrery
