// See signer.h. The steps follow Core's ProduceSignature: solve the output
// script, descend into a P2SH redeem script or a P2WSH witness script found
// in the provider, sign what the keys allow, then let VerifyScript judge.
#include <common/keys/signer.h>

#include <common/keys/cleanse.h>
#include <common/keys/key_io.h>
#include <common/script/interpreter.h>
#include <common/script/sighash.h>
#include <common/script/solver.h>
#include <common/script/tx_checker.h>

#include <sys/random.h>

#include <algorithm>
#include <cstring>

namespace orrery {

// ---------------------------------------------------------------- FlatSigningProvider

void FlatSigningProvider::AddKey(const Key& key)
{
    if (!key.IsValid()) return;
    const PubKey pubkey = key.GetPubKey();
    m_keys[pubkey.GetId()] = key;
    AddPubKey(pubkey);
    // As Core's FillableSigningProvider: a compressed key also brings its P2WPKH script, so that a P2SH-P2WPKH
    // output, whose redeem script it is, can be signed with the key alone.
    if (pubkey.IsCompressed()) AddScript(MakeP2WPKHScript(pubkey));
    const XOnlyPubKey xonly = key.GetXOnlyPubKey();
    m_xonly_keys[xonly.bytes()] = key;
    AddTaproot(xonly, std::nullopt);
}

void FlatSigningProvider::AddPubKey(const PubKey& pubkey)
{
    if (pubkey.IsValid()) m_pubkeys[pubkey.GetId()] = pubkey;
}

void FlatSigningProvider::AddScript(const Script& script)
{
    const crypto::Hash20 h160 = crypto::Hash160(script);
    const crypto::Hash32 sha = crypto::Sha256(script);
    m_scripts[std::vector<uint8_t>(h160.begin(), h160.end())] = script;
    m_scripts[std::vector<uint8_t>(sha.begin(), sha.end())] = script;
}

void FlatSigningProvider::AddTaproot(const XOnlyPubKey& internal_key, const std::optional<crypto::Hash32>& merkle_root)
{
    if (const auto output = internal_key.CreateTapTweak(merkle_root)) {
        m_taproot.insert_or_assign(output->first.bytes(), TaprootSpendData{internal_key, merkle_root});
    }
}

std::optional<Key> FlatSigningProvider::GetKey(const crypto::Hash20& key_id) const
{
    const auto it = m_keys.find(key_id);
    if (it == m_keys.end()) return std::nullopt;
    return it->second;
}

std::optional<PubKey> FlatSigningProvider::GetPubKey(const crypto::Hash20& key_id) const
{
    const auto it = m_pubkeys.find(key_id);
    if (it == m_pubkeys.end()) return std::nullopt;
    return it->second;
}

std::optional<Script> FlatSigningProvider::GetScript(std::span<const uint8_t> hash) const
{
    const auto it = m_scripts.find(std::vector<uint8_t>(hash.begin(), hash.end()));
    if (it == m_scripts.end()) return std::nullopt;
    return it->second;
}

std::optional<Key> FlatSigningProvider::GetKeyByXOnly(const XOnlyPubKey& xonly) const
{
    const auto it = m_xonly_keys.find(xonly.bytes());
    if (it == m_xonly_keys.end()) return std::nullopt;
    return it->second;
}

std::optional<TaprootSpendData> FlatSigningProvider::GetTaprootSpendData(const XOnlyPubKey& output_key) const
{
    const auto it = m_taproot.find(output_key.bytes());
    if (it == m_taproot.end()) return std::nullopt;
    return it->second;
}

// ---------------------------------------------------------------- signing one input

namespace {

using Stack = std::vector<std::vector<uint8_t>>;

crypto::Hash32 RandomAux()
{
    crypto::Hash32 out{};
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
        if (n > 0) done += static_cast<size_t>(n);
    }
    return out;
}

//! Everything one input's signing needs; the transaction is read, never changed, while the input is solved.
class InputSigner
{
public:
    InputSigner(const Transaction& tx, size_t n_in, Amount amount, const PrecomputedTransactionData& txdata,
                const SigningProvider& provider, const SignOptions& options)
        : m_tx{tx}, m_n_in{n_in}, m_amount{amount}, m_txdata{txdata},
          m_provider{provider}, m_options{options}, m_checker{tx, n_in, amount, txdata}
    {
        // Signatures and keys already in the input may be reused (another party signed before us).
        const TxIn& in = tx.vin[n_in];
        size_t pos = 0;
        Opcode opcode;
        std::vector<uint8_t> data;
        while (pos < in.script_sig.size() && GetScriptOp(in.script_sig, pos, opcode, data)) {
            if (!data.empty()) m_existing.push_back(data);
        }
        for (const auto& item : in.witness) {
            if (!item.empty()) m_existing.push_back(item);
        }
    }

    //! Fills script_sig and witness as far as it can; returns whether every step was solved.
    bool Solve(const Script& script_pubkey, Stack& script_sig, Stack& witness)
    {
        std::vector<std::vector<uint8_t>> solutions;
        const TxoutType type = Solver(script_pubkey, solutions);
        switch (type) {
        case TxoutType::PUBKEY:
        case TxoutType::PUBKEYHASH:
        case TxoutType::MULTISIG:
            return SignTemplate(script_pubkey, SigVersion::BASE, script_sig);
        case TxoutType::SCRIPTHASH: {
            const auto redeem = m_provider.GetScript(solutions[0]);
            if (!redeem) {
                m_missing.redeem_script.emplace();
                std::copy(solutions[0].begin(), solutions[0].end(), m_missing.redeem_script->begin());
                return false;
            }
            std::vector<std::vector<uint8_t>> inner;
            const TxoutType inner_type = Solver(*redeem, inner);
            bool solved = false;
            if (inner_type == TxoutType::WITNESS_V0_KEYHASH || inner_type == TxoutType::WITNESS_V0_SCRIPTHASH) {
                solved = SignWitnessV0(inner_type, inner[0], witness);
            } else if (inner_type == TxoutType::PUBKEY || inner_type == TxoutType::PUBKEYHASH ||
                       inner_type == TxoutType::MULTISIG) {
                solved = SignTemplate(*redeem, SigVersion::BASE, script_sig);
            }
            script_sig.push_back(*redeem);
            return solved;
        }
        case TxoutType::WITNESS_V0_KEYHASH:
        case TxoutType::WITNESS_V0_SCRIPTHASH:
            return SignWitnessV0(type, solutions[0], witness);
        case TxoutType::WITNESS_V1_TAPROOT:
            return SignTaprootKeyPath(solutions[0], witness);
        default:
            return false;
        }
    }

private:
    bool SignWitnessV0(TxoutType type, const std::vector<uint8_t>& program, Stack& witness)
    {
        if (type == TxoutType::WITNESS_V0_KEYHASH) {
            crypto::Hash20 id;
            std::copy(program.begin(), program.end(), id.begin());
            return SignTemplate(MakeP2PKHScript(id), SigVersion::WITNESS_V0, witness);
        }
        const auto witness_script = m_provider.GetScript(program);
        if (!witness_script) {
            m_missing.witness_script.emplace();
            std::copy(program.begin(), program.end(), m_missing.witness_script->begin());
            return false;
        }
        std::vector<std::vector<uint8_t>> inner;
        const TxoutType inner_type = Solver(*witness_script, inner);
        bool solved = false;
        if (inner_type == TxoutType::PUBKEY || inner_type == TxoutType::PUBKEYHASH ||
            inner_type == TxoutType::MULTISIG) {
            solved = SignTemplate(*witness_script, SigVersion::WITNESS_V0, witness);
        }
        witness.push_back(*witness_script);
        return solved;
    }

    //! P2PK, P2PKH or bare multisig `script`, signed under `sigversion` with `script` as the script code.
    bool SignTemplate(const Script& script, SigVersion sigversion, Stack& out)
    {
        std::vector<std::vector<uint8_t>> solutions;
        switch (Solver(script, solutions)) {
        case TxoutType::PUBKEY: {
            auto sig = SignatureFor(solutions[0], script, sigversion);
            if (!sig) return false;
            out.push_back(std::move(*sig));
            return true;
        }
        case TxoutType::PUBKEYHASH: {
            crypto::Hash20 id;
            std::copy(solutions[0].begin(), solutions[0].end(), id.begin());
            const auto pubkey = FindPubKey(id);
            if (!pubkey) {
                m_missing.pubkeys.push_back(id);
                return false;
            }
            auto sig = SignatureFor(*pubkey, script, sigversion);
            if (!sig) return false;
            out.push_back(std::move(*sig));
            out.push_back(*pubkey);
            return true;
        }
        case TxoutType::MULTISIG: {
            const size_t required = solutions.front()[0];
            out.emplace_back(); // the dummy element CHECKMULTISIG pops
            size_t have = 0;
            // Every key is tried, so that what is missing is known for each (Core does the same).
            for (size_t i = 1; i + 1 < solutions.size(); ++i) {
                if (auto sig = SignatureFor(solutions[i], script, sigversion); sig && have < required) {
                    out.push_back(std::move(*sig));
                    ++have;
                }
            }
            // Core pads a partial multisig with empty signatures, which a later signer replaces.
            for (size_t i = have; i < required; ++i) out.emplace_back();
            return have == required;
        }
        default:
            return false;
        }
    }

    //! The public key hashing to `id`: from the provider, or one already in the input.
    std::optional<std::vector<uint8_t>> FindPubKey(const crypto::Hash20& id) const
    {
        if (const auto pubkey = m_provider.GetPubKey(id)) {
            return std::vector<uint8_t>(pubkey->bytes().begin(), pubkey->bytes().end());
        }
        if (const auto key = m_provider.GetKey(id)) {
            const PubKey pubkey = key->GetPubKey();
            return std::vector<uint8_t>(pubkey.bytes().begin(), pubkey.bytes().end());
        }
        for (const auto& item : m_existing) {
            if ((item.size() == 33 || item.size() == 65) && crypto::Hash160(item) == id) return item;
        }
        return std::nullopt;
    }

    //! A signature by `pubkey` over this input: made with its private key, or one already present that verifies.
    std::optional<std::vector<uint8_t>> SignatureFor(const std::vector<uint8_t>& pubkey_bytes,
                                                     const Script& script_code, SigVersion sigversion) const
    {
        const auto pubkey = PubKey::Parse(pubkey_bytes);
        if (pubkey) {
            const auto key = m_provider.GetKey(pubkey->GetId());
            // Segwit v0 forbids uncompressed keys (policy); Core's signer refuses them there.
            if (key && key->GetPubKey() == *pubkey &&
                !(sigversion == SigVersion::WITNESS_V0 && !pubkey->IsCompressed())) {
                const int hash_type = m_options.hash_type == SIGHASH_DEFAULT ? SIGHASH_ALL : m_options.hash_type;
                const uint256 hash =
                    SignatureHash(script_code, m_tx, m_n_in, hash_type, m_amount, sigversion, &m_txdata);
                crypto::Hash32 digest;
                std::memcpy(digest.data(), hash.data(), digest.size());
                std::vector<uint8_t> sig = key->SignEcdsa(digest);
                if (!sig.empty()) {
                    sig.push_back(static_cast<uint8_t>(hash_type));
                    return sig;
                }
            }
        }
        for (const auto& item : m_existing) {
            if (item.size() < 9 || item.size() > 73) continue;
            if (m_checker.CheckEcdsaSignature(item, pubkey_bytes, script_code, sigversion)) return item;
        }
        m_missing.sigs.push_back(crypto::Hash160(pubkey_bytes));
        return std::nullopt;
    }

    bool SignTaprootKeyPath(const std::vector<uint8_t>& output_bytes, Stack& witness)
    {
        const auto output_key = XOnlyPubKey::Parse(output_bytes);
        if (!output_key) return false;
        const auto spend = m_provider.GetTaprootSpendData(*output_key);
        const auto key = spend ? m_provider.GetKeyByXOnly(spend->internal_key) : std::nullopt;
        if (!key || !m_txdata.m_spent_outputs_ready) {
            // Keep a key-path signature someone else made; the interpreter decides whether it is good.
            if (m_tx.vin[m_n_in].witness.size() == 1) {
                witness = m_tx.vin[m_n_in].witness;
                return true;
            }
            return false;
        }
        ScriptExecutionData execdata;
        execdata.m_annex_init = true;
        execdata.m_annex_present = false;
        const uint8_t hash_type = static_cast<uint8_t>(m_options.hash_type);
        const auto hash = SignatureHashSchnorr(execdata, m_tx, m_n_in, hash_type, SigVersion::TAPROOT, m_txdata);
        if (!hash) return false;
        const crypto::Hash32 aux = m_options.aux_rand ? *m_options.aux_rand : RandomAux();
        const auto sig = key->SignTaprootKeyPath(*hash, spend->merkle_root, aux);
        if (!sig) return false;
        std::vector<uint8_t> item(sig->begin(), sig->end());
        if (hash_type != SIGHASH_DEFAULT) item.push_back(hash_type);
        witness.push_back(std::move(item));
        return true;
    }

    const Transaction& m_tx;
    size_t m_n_in;
    Amount m_amount;
    const PrecomputedTransactionData& m_txdata;
    const SigningProvider& m_provider;
    const SignOptions& m_options;
    TransactionSignatureChecker m_checker;
    Stack m_existing;

public:
    //! What solving found missing; mutable because looking for a signature notes its absence.
    mutable MissingData m_missing;
};

Script PushAll(const Stack& stack)
{
    Script script;
    for (const auto& item : stack) {
        if (item.empty()) {
            script.push_back(OP_0);
        } else if (item.size() == 1 && item[0] >= 1 && item[0] <= 16) {
            script.push_back(static_cast<uint8_t>(EncodeOpN(item[0])));
        } else {
            AppendPushData(script, item);
        }
    }
    return script;
}

} // namespace

// ---------------------------------------------------------------- SignTransaction

SignResult SignTransaction(Transaction& tx, const std::vector<std::optional<TxOut>>& spent,
                           const SigningProvider& provider, const SignOptions& options)
{
    SignResult result;
    const bool hash_single = (options.hash_type & ~SIGHASH_ANYONECANPAY) == SIGHASH_SINGLE;

    // The shared hashes depend on prevouts, sequences and outputs only, none of which signing changes.
    std::vector<TxOut> spent_outputs;
    for (size_t i = 0; i < tx.vin.size(); ++i) {
        if (i >= spent.size() || !spent[i]) break;
        spent_outputs.push_back(*spent[i]);
    }
    if (spent_outputs.size() != tx.vin.size()) spent_outputs.clear();
    const Transaction unsigned_view = tx;
    const PrecomputedTransactionData txdata(unsigned_view, std::move(spent_outputs), /*force=*/true);

    for (size_t i = 0; i < tx.vin.size(); ++i) {
        if (i >= spent.size() || !spent[i]) {
            result.errors[i] = "Input not found or already spent";
            continue;
        }
        const TxOut& prev = *spent[i];
        if (!hash_single || i < tx.vout.size()) {
            InputSigner signer(tx, i, prev.value, txdata, provider, options);
            Stack script_sig;
            Stack witness;
            signer.Solve(prev.script_pubkey, script_sig, witness);
            result.missing[i] = signer.m_missing;
            tx.vin[i].script_sig = PushAll(script_sig);
            tx.vin[i].witness = std::move(witness);
        }
        if (prev.value == MAX_MONEY && !tx.vin[i].witness.empty()) {
            result.errors[i] = "Missing amount";
            continue;
        }
        ScriptError error = ScriptError::OK;
        const TransactionSignatureChecker checker(tx, i, prev.value, txdata);
        if (!VerifyScript(tx.vin[i].script_sig, prev.script_pubkey, &tx.vin[i].witness, options.verify_flags, checker,
                          &error)) {
            if (error == ScriptError::INVALID_STACK_OPERATION) {
                result.errors[i] = "Unable to sign input, invalid stack size (possibly missing key)";
            } else if (error == ScriptError::SIG_NULLFAIL) {
                result.errors[i] = "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)";
            } else {
                result.errors[i] = std::string(ScriptErrorString(error));
            }
        }
    }
    result.complete = result.errors.empty();
    return result;
}

namespace {

const std::pair<std::string_view, int> SIGHASH_NAMES[] = {
    {"DEFAULT", SIGHASH_DEFAULT},
    {"ALL", SIGHASH_ALL},
    {"ALL|ANYONECANPAY", SIGHASH_ALL | SIGHASH_ANYONECANPAY},
    {"NONE", SIGHASH_NONE},
    {"NONE|ANYONECANPAY", SIGHASH_NONE | SIGHASH_ANYONECANPAY},
    {"SINGLE", SIGHASH_SINGLE},
    {"SINGLE|ANYONECANPAY", SIGHASH_SINGLE | SIGHASH_ANYONECANPAY},
};

} // namespace

std::optional<int> ParseSighashName(std::string_view name)
{
    for (const auto& [text, value] : SIGHASH_NAMES) {
        if (text == name) return value;
    }
    return std::nullopt;
}

std::string SighashToName(int hash_type)
{
    for (const auto& [text, value] : SIGHASH_NAMES) {
        if (value == hash_type) return std::string(text);
    }
    return "";
}

} // namespace orrery
