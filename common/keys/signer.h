// Transaction signing (Bitcoin Core's script/sign.cpp in spirit): given a
// transaction, the outputs its inputs spend and a provider of keys and
// scripts, fill in each input's scriptSig and witness for the standard
// templates — P2PK, P2PKH, P2SH (around P2WPKH, P2WSH or a bare script),
// P2WPKH, P2WSH with multi/sortedmulti (or P2PK/P2PKH) inside, and the
// taproot key path. ECDSA signatures are RFC6979 and low-S, Schnorr ones
// BIP340 with auxiliary randomness. Every input is checked with the script
// interpreter after signing; that check, not the signer's belief, decides
// whether the input is complete.
//
// Library orrery_sign (meson `sign_dep`): it needs the transaction types and
// the interpreter, which the key library itself does not link.
#ifndef ORRERY_COMMON_KEYS_SIGNER_H
#define ORRERY_COMMON_KEYS_SIGNER_H

#include <common/consensus/transaction.h>
#include <common/crypto/hash.h>
#include <common/keys/key.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace orrery {

//! What a taproot output commits to: its internal key and, when it has a script tree, the tree's merkle root.
struct TaprootSpendData {
    XOnlyPubKey internal_key;
    std::optional<crypto::Hash32> merkle_root;
};

//! Where the signer finds keys and scripts. Implementations must be safe to read from the signing thread;
//! nothing here is ever modified by the signer.
class SigningProvider
{
public:
    virtual ~SigningProvider() = default;
    //! The private key whose public key hashes (Hash160) to `key_id`.
    virtual std::optional<Key> GetKey(const crypto::Hash20& key_id) const = 0;
    //! The public key that hashes to `key_id` (known also without its private key).
    virtual std::optional<PubKey> GetPubKey(const crypto::Hash20& key_id) const = 0;
    //! The script whose Hash160 (a P2SH redeem script) or SHA256 (a P2WSH witness script) is `hash`.
    virtual std::optional<Script> GetScript(std::span<const uint8_t> hash) const = 0;
    //! The private key whose BIP340 x-only public key is `xonly`.
    virtual std::optional<Key> GetKeyByXOnly(const XOnlyPubKey& xonly) const = 0;
    //! What the taproot output key `output_key` was built from.
    virtual std::optional<TaprootSpendData> GetTaprootSpendData(const XOnlyPubKey& output_key) const = 0;
};

//! A provider holding everything in memory (Core's FlatSigningProvider). Keys added here are wiped with it.
class FlatSigningProvider final : public SigningProvider
{
public:
    //! Adds the key, its public key, its P2WPKH script when compressed (the redeem script of its P2SH-P2WPKH) and
    //! the key-path-only taproot output of its x-only key, so that outputs paying to `sh(wpkh(key))` and
    //! `tr(key)` can be signed with the key alone.
    void AddKey(const Key& key);
    void AddPubKey(const PubKey& pubkey);
    //! Indexed under both its Hash160 and its SHA256, so it serves as a redeem script and as a witness script.
    void AddScript(const Script& script);
    //! A taproot output with a script tree (or none): the signer can then sign its key path with the internal
    //! key's private key.
    void AddTaproot(const XOnlyPubKey& internal_key, const std::optional<crypto::Hash32>& merkle_root);

    std::optional<Key> GetKey(const crypto::Hash20& key_id) const override;
    std::optional<PubKey> GetPubKey(const crypto::Hash20& key_id) const override;
    std::optional<Script> GetScript(std::span<const uint8_t> hash) const override;
    std::optional<Key> GetKeyByXOnly(const XOnlyPubKey& xonly) const override;
    std::optional<TaprootSpendData> GetTaprootSpendData(const XOnlyPubKey& output_key) const override;

private:
    std::map<crypto::Hash20, Key> m_keys;
    std::map<crypto::Hash20, PubKey> m_pubkeys;
    std::map<std::vector<uint8_t>, Script> m_scripts;
    std::map<std::array<uint8_t, 32>, Key> m_xonly_keys;
    std::map<std::array<uint8_t, 32>, TaprootSpendData> m_taproot;
};

struct SignOptions {
    //! SIGHASH_DEFAULT (0: SIGHASH_ALL for ECDSA, a 64-byte signature for taproot), SIGHASH_ALL, NONE, SINGLE,
    //! each optionally | SIGHASH_ANYONECANPAY.
    int hash_type{0};
    //! The flags each signed input is checked under; the node passes its standard flags.
    uint32_t verify_flags{0};
    //! BIP340 auxiliary randomness; fresh random bytes for every signature when not set (tests fix it).
    std::optional<crypto::Hash32> aux_rand;
};

//! The outcome of SignTransaction: `complete` when every input verifies; `errors` by input index, with Core's
//! texts ("Input not found or already spent", "Missing amount", "Unable to sign input, invalid stack size
//! (possibly missing key)", a script error's description, ...).
//! What an input still lacks after signing (Core's SignatureData missing_*): public keys by Hash160, signatures
//! by their key's Hash160, the redeem script by its Hash160, the witness script by its SHA256.
struct MissingData {
    std::vector<crypto::Hash20> pubkeys;
    std::vector<crypto::Hash20> sigs;
    std::optional<crypto::Hash20> redeem_script;
    std::optional<crypto::Hash32> witness_script;
};

struct SignResult {
    bool complete{false};
    std::map<size_t, std::string> errors;
    //! For each input signed, what it lacked (empty when nothing).
    std::map<size_t, MissingData> missing;
};

//! Signs every input of `tx` it can, in place. `spent[i]` is the output input i spends, nullopt when unknown; an
//! amount of MAX_MONEY stands for "not given" (Core's convention), which a segwit input reports as "Missing
//! amount". Signatures already in an input are kept: a multisig input gains the signatures of the keys this
//! provider adds, so several parties can sign in turn. SIGHASH_SINGLE leaves an input without a matching output
//! unsigned, as Core does.
SignResult SignTransaction(Transaction& tx, const std::vector<std::optional<TxOut>>& spent,
                           const SigningProvider& provider, const SignOptions& options);

//! Core's sighash names for the RPC: "DEFAULT", "ALL", "NONE", "SINGLE", each but DEFAULT with an optional
//! "|ANYONECANPAY". nullopt for any other text.
std::optional<int> ParseSighashName(std::string_view name);
//! The name of a hash type as above (decodepsbt's "sighash"); "" for a value without one.
std::string SighashToName(int hash_type);

} // namespace orrery

#endif // ORRERY_COMMON_KEYS_SIGNER_H
