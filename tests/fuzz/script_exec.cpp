// Fuzz target: VerifyScript on attacker-chosen scripts. The input is split as
//   flags (4 bytes LE) | sig_len (2 bytes LE) | scriptSig | scriptPubKey,
// with the flags made consistent (Core's harness does the same). Signature
// checks go to a checker that accepts or rejects by a fixed rule, so that
// both outcomes of every CHECKSIG path are reachable without real keys.
#include <common/script/interpreter.h>

#include <cstdint>
#include <span>
#include <vector>

namespace {

class DummyChecker : public orrery::SignatureChecker
{
public:
    bool CheckEcdsaSignature(std::span<const uint8_t> sig, std::span<const uint8_t>, std::span<const uint8_t>,
                             orrery::SigVersion) const override
    {
        return !sig.empty() && (sig[0] & 1);
    }
    bool CheckSchnorrSignature(std::span<const uint8_t> sig, std::span<const uint8_t>, orrery::SigVersion,
                               orrery::ScriptExecutionData&, orrery::ScriptError* error) const override
    {
        if (sig.size() == 64 && (sig[0] & 1)) return true;
        if (error) *error = orrery::ScriptError::SCHNORR_SIG;
        return false;
    }
    bool CheckLockTime(const orrery::ScriptNum& n) const override { return (n.Value() & 1) == 0; }
    bool CheckSequence(const orrery::ScriptNum& n) const override { return (n.Value() & 1) == 0; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 6) return 0;
    uint32_t flags = uint32_t{data[0]} | uint32_t{data[1]} << 8 | uint32_t{data[2]} << 16 | uint32_t{data[3]} << 24;
    flags &= orrery::SCRIPT_VERIFY_ALL;
    if (flags & orrery::SCRIPT_VERIFY_CLEANSTACK) flags |= orrery::SCRIPT_VERIFY_WITNESS;
    if (flags & orrery::SCRIPT_VERIFY_WITNESS) flags |= orrery::SCRIPT_VERIFY_P2SH;
    size_t sig_len = size_t{data[4]} | size_t{data[5]} << 8;
    const std::span<const uint8_t> rest(data + 6, size - 6);
    if (sig_len > rest.size()) sig_len = rest.size();
    const auto script_sig = rest.first(sig_len);
    const auto script_pubkey = rest.subspan(sig_len);

    // The scriptSig's bytes double as a one-item witness, so witness programs get exercised too.
    const orrery::ScriptWitness witness{std::vector<uint8_t>(script_sig.begin(), script_sig.end()),
                                        std::vector<uint8_t>(script_pubkey.begin(), script_pubkey.end())};
    const DummyChecker checker;
    orrery::ScriptError error = orrery::ScriptError::OK;
    const bool ok = orrery::VerifyScript(script_sig, script_pubkey, &witness, flags, checker, &error);
    if (ok != (error == orrery::ScriptError::OK)) __builtin_trap();
    (void)orrery::VerifyScript(script_sig, script_pubkey, nullptr, flags, checker, &error);

    orrery::ScriptStack stack;
    (void)orrery::EvalScript(stack, script_pubkey, flags, checker, orrery::SigVersion::TAPSCRIPT, &error);
    return 0;
}
