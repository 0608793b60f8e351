// See psbt.h. The parser mirrors Core's psbt.h Unserialize, check for check
// and message for message; the serializer writes Core's order (utxos, then
// unless finalized the signing fields, then the final scripts, proprietary
// and unknown keys), so a PSBT Core wrote comes back byte for byte.
#include <common/keys/psbt.h>

#include <common/consensus/serialize.h>
#include <common/keys/key.h>
#include <common/script/interpreter.h>
#include <common/script/signature.h>

#include <algorithm>

namespace orrery {

namespace {

// BIP174 / BIP371 key types.
enum : uint64_t {
    GLOBAL_UNSIGNED_TX = 0x00,
    GLOBAL_XPUB = 0x01,
    GLOBAL_VERSION = 0xFB,
    PROPRIETARY = 0xFC,
    IN_NON_WITNESS_UTXO = 0x00,
    IN_WITNESS_UTXO = 0x01,
    IN_PARTIAL_SIG = 0x02,
    IN_SIGHASH = 0x03,
    IN_REDEEMSCRIPT = 0x04,
    IN_WITNESSSCRIPT = 0x05,
    IN_BIP32_DERIVATION = 0x06,
    IN_SCRIPTSIG = 0x07,
    IN_SCRIPTWITNESS = 0x08,
    IN_RIPEMD160 = 0x0A,
    IN_SHA256 = 0x0B,
    IN_HASH160 = 0x0C,
    IN_HASH256 = 0x0D,
    IN_TAP_KEY_SIG = 0x13,
    IN_TAP_SCRIPT_SIG = 0x14,
    IN_TAP_LEAF_SCRIPT = 0x15,
    IN_TAP_BIP32_DERIVATION = 0x16,
    IN_TAP_INTERNAL_KEY = 0x17,
    IN_TAP_MERKLE_ROOT = 0x18,
    OUT_REDEEMSCRIPT = 0x00,
    OUT_WITNESSSCRIPT = 0x01,
    OUT_BIP32_DERIVATION = 0x02,
    OUT_TAP_INTERNAL_KEY = 0x05,
    OUT_TAP_TREE = 0x06,
    OUT_TAP_BIP32_DERIVATION = 0x07,
};

constexpr std::array<uint8_t, 5> MAGIC = {'p', 's', 'b', 't', 0xff};
constexpr uint32_t HIGHEST_VERSION = 0;

[[noreturn]] void Fail(const std::string& message)
{
    throw PsbtError(message);
}

//! Reads a value from its bytes and requires all of them used (Core's UnserializeFromVector).
template <typename F> auto FromValue(std::span<const uint8_t> value, F&& read)
{
    SpanReader reader(value);
    auto out = read(reader);
    if (!reader.Empty()) Fail("Size of value was not the stated size");
    return out;
}

TxOut ReadTxOut(SpanReader& r)
{
    TxOut out;
    out.value = r.ReadI64();
    out.script_pubkey = r.ReadByteVector("scriptPubKey");
    return out;
}

void WriteTxOut(Writer& w, const TxOut& out)
{
    w.WriteI64(out.value);
    w.WriteByteVector(out.script_pubkey);
}

std::array<uint8_t, 32> Read32(std::span<const uint8_t> value)
{
    return FromValue(value, [](SpanReader& r) {
        std::array<uint8_t, 32> out;
        r.ReadInto(out, "32 bytes");
        return out;
    });
}

//! A BIP32 origin: fingerprint and path, 4 bytes each, at least the fingerprint.
void CheckKeyOrigin(size_t length)
{
    if (length % 4 != 0 || length == 0) Fail("Invalid length for HD key path");
}

//! Core's DeserializeHDKeypaths checks: a valid public key of 33 or 65 bytes after the type.
void ReadHdKeypath(const Bytes& key, std::span<const uint8_t> value, std::map<Bytes, Bytes>& out)
{
    if (key.size() != 34 && key.size() != 66) Fail("Size of key was not the expected size for the type BIP32 keypath");
    const Bytes pubkey(key.begin() + 1, key.end());
    if (!PubKey::Parse(pubkey)) Fail("Invalid pubkey");
    if (out.count(pubkey)) Fail("Duplicate Key, pubkey derivation path already provided");
    CheckKeyOrigin(value.size());
    out.emplace(pubkey, Bytes(value.begin(), value.end()));
}

void ReadTapBip32(const Bytes& key, std::span<const uint8_t> value, std::map<Bytes, Bytes>& out, const char* what)
{
    if (key.size() != 33) Fail(std::string(what) + " Taproot BIP32 keypath key is not at 33 bytes");
    SpanReader r(value);
    const uint64_t hashes = r.ReadCompactSize();
    if (hashes > r.Remaining() / 32) Fail("Size of value was not the stated size");
    r.ReadSpan(hashes * 32);
    CheckKeyOrigin(r.Remaining());
    out[Bytes(key.begin() + 1, key.end())] = Bytes(value.begin(), value.end());
}

//! Core's TaprootBuilder used as a checker: the (depth, leaf) list must be a depth-first walk of a complete
//! binary tree.
void CheckTapTree(std::span<const uint8_t> value)
{
    SpanReader r(value);
    std::vector<bool> branch; // whether a node waits at each depth
    bool valid = true;
    if (r.Empty()) Fail("Output Taproot tree must not be empty");
    while (!r.Empty()) {
        const uint8_t depth = r.ReadU8();
        const uint8_t leaf_version = r.ReadU8();
        r.ReadByteVector("leaf script");
        if (depth > TAPROOT_CONTROL_MAX_NODE_COUNT) {
            Fail("Output Taproot tree has as leaf greater than Taproot maximum depth");
        }
        if ((leaf_version & ~TAPROOT_LEAF_MASK) != 0)
            Fail("Output Taproot tree has a leaf with an invalid leaf version");
        int d = depth;
        if (static_cast<size_t>(d) + 1 < branch.size()) valid = false;
        while (valid && branch.size() > static_cast<size_t>(d) && branch[d]) {
            branch.pop_back();
            if (d == 0) valid = false;
            --d;
        }
        if (valid) {
            if (branch.size() <= static_cast<size_t>(d)) branch.resize(d + 1, false);
            branch[d] = true;
        }
    }
    const bool complete = valid && (branch.empty() || (branch.size() == 1 && branch[0]));
    if (!complete) Fail("Output Taproot tree is malformed");
}

//! Reads one map: `handle(type, key, value)` for each pair until the separator.
template <typename F> void ReadMap(SpanReader& r, const char* where, F&& handle)
{
    while (!r.Empty()) {
        const Bytes key = r.ReadByteVector("key");
        if (key.empty()) return; // the separator
        const Bytes value = r.ReadByteVector("value");
        SpanReader key_reader(key);
        const uint64_t type = key_reader.ReadCompactSize(false);
        handle(type, key, std::span<const uint8_t>(value));
    }
    Fail(std::string("Separator is missing at the end of ") + where);
}

void AddUnique(std::map<Bytes, Bytes>& map, const Bytes& key, std::span<const uint8_t> value, const char* message)
{
    if (!map.emplace(key, Bytes(value.begin(), value.end())).second) Fail(message);
}

void RequireKeySize1(const Bytes& key, const std::string& message)
{
    if (key.size() != 1) Fail(message);
}

PsbtInput ReadInput(SpanReader& r)
{
    PsbtInput in;
    std::set<uint64_t> seen;
    auto once = [&seen](uint64_t type, const char* message) {
        if (!seen.insert(type).second) Fail(message);
    };
    ReadMap(r, "an input map", [&](uint64_t type, const Bytes& key, std::span<const uint8_t> value) {
        switch (type) {
        case IN_NON_WITNESS_UTXO:
            once(type, "Duplicate Key, input non-witness utxo already provided");
            RequireKeySize1(key, "Non-witness utxo key is more than one byte type");
            in.non_witness_utxo = DeserializeTransaction(value, true);
            break;
        case IN_WITNESS_UTXO:
            once(type, "Duplicate Key, input witness utxo already provided");
            RequireKeySize1(key, "Witness utxo key is more than one byte type");
            in.witness_utxo = FromValue(value, ReadTxOut);
            break;
        case IN_PARTIAL_SIG: {
            if (key.size() != 34 && key.size() != 66) {
                Fail("Size of key was not the expected size for the type partial signature pubkey");
            }
            const Bytes pubkey(key.begin() + 1, key.end());
            const auto parsed = PubKey::Parse(pubkey);
            if (!parsed) Fail("Invalid pubkey");
            if (in.partial_sigs.count(parsed->GetId())) {
                Fail("Duplicate Key, input partial signature for pubkey already provided");
            }
            const Bytes sig(value.begin(), value.end());
            if (sig.empty() || !IsValidSignatureEncoding(sig) || !IsDefinedHashtypeSignature(sig)) {
                Fail("Signature is not a valid encoding");
            }
            in.partial_sigs.emplace(parsed->GetId(), std::make_pair(pubkey, sig));
            break;
        }
        case IN_SIGHASH:
            once(type, "Duplicate Key, input sighash type already provided");
            RequireKeySize1(key, "Sighash type key is more than one byte type");
            in.sighash_type = FromValue(value, [](SpanReader& vr) { return vr.ReadU32(); });
            break;
        case IN_REDEEMSCRIPT:
            once(type, "Duplicate Key, input redeemScript already provided");
            RequireKeySize1(key, "Input redeemScript key is more than one byte type");
            in.redeem_script.assign(value.begin(), value.end());
            break;
        case IN_WITNESSSCRIPT:
            once(type, "Duplicate Key, input witnessScript already provided");
            RequireKeySize1(key, "Input witnessScript key is more than one byte type");
            in.witness_script.assign(value.begin(), value.end());
            break;
        case IN_BIP32_DERIVATION:
            ReadHdKeypath(key, value, in.hd_keypaths);
            break;
        case IN_SCRIPTSIG:
            once(type, "Duplicate Key, input final scriptSig already provided");
            RequireKeySize1(key, "Final scriptSig key is more than one byte type");
            in.final_script_sig.assign(value.begin(), value.end());
            break;
        case IN_SCRIPTWITNESS:
            once(type, "Duplicate Key, input final scriptWitness already provided");
            RequireKeySize1(key, "Final scriptWitness key is more than one byte type");
            in.final_script_witness = FromValue(value, [](SpanReader& vr) {
                std::vector<Bytes> stack(vr.ReadCount(1, "witness item count"));
                for (auto& item : stack) item = vr.ReadByteVector("witness item");
                return stack;
            });
            break;
        case IN_RIPEMD160:
        case IN_SHA256:
        case IN_HASH160:
        case IN_HASH256: {
            const bool long_hash = type == IN_SHA256 || type == IN_HASH256;
            const char* names[] = {"ripemd160", "sha256", "hash160", "hash256"};
            const std::string name = names[type - IN_RIPEMD160];
            if (key.size() != (long_hash ? 33u : 21u)) {
                Fail("Size of key was not the expected size for the type " + name + " preimage");
            }
            auto& map = type == IN_RIPEMD160 ? in.ripemd160_preimages
                        : type == IN_SHA256  ? in.sha256_preimages
                        : type == IN_HASH160 ? in.hash160_preimages
                                             : in.hash256_preimages;
            const Bytes hash(key.begin() + 1, key.end());
            if (map.count(hash)) Fail("Duplicate Key, input " + name + " preimage already provided");
            map.emplace(hash, Bytes(value.begin(), value.end()));
            break;
        }
        case IN_TAP_KEY_SIG:
            once(type, "Duplicate Key, input Taproot key signature already provided");
            RequireKeySize1(key, "Input Taproot key signature key is more than one byte type");
            if (value.size() < 64) Fail("Input Taproot key path signature is shorter than 64 bytes");
            if (value.size() > 65) Fail("Input Taproot key path signature is longer than 65 bytes");
            in.tap_key_sig.assign(value.begin(), value.end());
            break;
        case IN_TAP_SCRIPT_SIG:
            if (key.size() != 65) Fail("Input Taproot script signature key is not 65 bytes");
            if (value.size() < 64) Fail("Input Taproot script path signature is shorter than 64 bytes");
            if (value.size() > 65) Fail("Input Taproot script path signature is longer than 65 bytes");
            AddUnique(in.tap_script_sigs, Bytes(key.begin() + 1, key.end()), value,
                      "Duplicate Key, input Taproot script signature already provided");
            break;
        case IN_TAP_LEAF_SCRIPT: {
            if (key.size() < 34) Fail("Input Taproot leaf script key is not at least 34 bytes");
            if ((key.size() - 2) % 32 != 0) Fail("Input Taproot leaf script key's control block size is not valid");
            if (value.empty()) Fail("Input Taproot leaf script must be at least 1 byte");
            Bytes script(value.begin(), value.end() - 1);
            in.tap_scripts[{std::move(script), value.back()}].insert(Bytes(key.begin() + 1, key.end()));
            break;
        }
        case IN_TAP_BIP32_DERIVATION:
            ReadTapBip32(key, value, in.tap_bip32_paths, "Input");
            break;
        case IN_TAP_INTERNAL_KEY:
            once(type, "Duplicate Key, input Taproot internal key already provided");
            RequireKeySize1(key, "Input Taproot internal key key is more than one byte type");
            in.tap_internal_key = Read32(value);
            break;
        case IN_TAP_MERKLE_ROOT:
            once(type, "Duplicate Key, input Taproot merkle root already provided");
            RequireKeySize1(key, "Input Taproot merkle root key is more than one byte type");
            in.tap_merkle_root = Read32(value);
            break;
        case PROPRIETARY:
            AddUnique(in.proprietary, key, value, "Duplicate Key, proprietary key already found");
            break;
        default:
            AddUnique(in.unknown, key, value, "Duplicate Key, key for unknown value already provided");
        }
    });
    return in;
}

PsbtOutput ReadOutput(SpanReader& r)
{
    PsbtOutput out;
    std::set<uint64_t> seen;
    auto once = [&seen](uint64_t type, const char* message) {
        if (!seen.insert(type).second) Fail(message);
    };
    ReadMap(r, "an output's map", [&](uint64_t type, const Bytes& key, std::span<const uint8_t> value) {
        switch (type) {
        case OUT_REDEEMSCRIPT:
            once(type, "Duplicate Key, output redeemScript already provided");
            RequireKeySize1(key, "Output redeemScript key is more than one byte type");
            out.redeem_script.assign(value.begin(), value.end());
            break;
        case OUT_WITNESSSCRIPT:
            once(type, "Duplicate Key, output witnessScript already provided");
            RequireKeySize1(key, "Output witnessScript key is more than one byte type");
            out.witness_script.assign(value.begin(), value.end());
            break;
        case OUT_BIP32_DERIVATION:
            ReadHdKeypath(key, value, out.hd_keypaths);
            break;
        case OUT_TAP_INTERNAL_KEY:
            once(type, "Duplicate Key, output Taproot internal key already provided");
            RequireKeySize1(key, "Output Taproot internal key key is more than one byte type");
            out.tap_internal_key = Read32(value);
            break;
        case OUT_TAP_TREE:
            once(type, "Duplicate Key, output Taproot tree already provided");
            RequireKeySize1(key, "Output Taproot tree key is more than one byte type");
            CheckTapTree(value);
            out.tap_tree.assign(value.begin(), value.end());
            break;
        case OUT_TAP_BIP32_DERIVATION:
            ReadTapBip32(key, value, out.tap_bip32_paths, "Output");
            break;
        case PROPRIETARY:
            AddUnique(out.proprietary, key, value, "Duplicate Key, proprietary key already found");
            break;
        default:
            AddUnique(out.unknown, key, value, "Duplicate Key, key for unknown value already provided");
        }
    });
    return out;
}

// ---------------------------------------------------------------- writing

void WritePair(Writer& w, std::span<const uint8_t> key, std::span<const uint8_t> value)
{
    w.WriteByteVector(key);
    w.WriteByteVector(value);
}

void WriteTyped(Writer& w, uint8_t type, std::span<const uint8_t> key_data, std::span<const uint8_t> value)
{
    Bytes key{type};
    key.insert(key.end(), key_data.begin(), key_data.end());
    WritePair(w, key, value);
}

void WriteMapTyped(Writer& w, uint8_t type, const std::map<Bytes, Bytes>& map)
{
    for (const auto& [key, value] : map) WriteTyped(w, type, key, value);
}

void WriteRaw(Writer& w, const std::map<Bytes, Bytes>& map)
{
    for (const auto& [key, value] : map) WritePair(w, key, value);
}

void WriteInput(Writer& w, const PsbtInput& in)
{
    if (in.non_witness_utxo) WriteTyped(w, IN_NON_WITNESS_UTXO, {}, SerializeTransaction(*in.non_witness_utxo, false));
    if (in.witness_utxo) {
        Bytes value;
        Writer vw(value);
        WriteTxOut(vw, *in.witness_utxo);
        WriteTyped(w, IN_WITNESS_UTXO, {}, value);
    }
    if (!in.IsFinalized()) {
        for (const auto& [id, pair] : in.partial_sigs) WriteTyped(w, IN_PARTIAL_SIG, pair.first, pair.second);
        if (in.sighash_type) {
            Bytes value;
            Writer(value).WriteU32(*in.sighash_type);
            WriteTyped(w, IN_SIGHASH, {}, value);
        }
        if (!in.redeem_script.empty()) WriteTyped(w, IN_REDEEMSCRIPT, {}, in.redeem_script);
        if (!in.witness_script.empty()) WriteTyped(w, IN_WITNESSSCRIPT, {}, in.witness_script);
        WriteMapTyped(w, IN_BIP32_DERIVATION, in.hd_keypaths);
        WriteMapTyped(w, IN_RIPEMD160, in.ripemd160_preimages);
        WriteMapTyped(w, IN_SHA256, in.sha256_preimages);
        WriteMapTyped(w, IN_HASH160, in.hash160_preimages);
        WriteMapTyped(w, IN_HASH256, in.hash256_preimages);
        if (!in.tap_key_sig.empty()) WriteTyped(w, IN_TAP_KEY_SIG, {}, in.tap_key_sig);
        WriteMapTyped(w, IN_TAP_SCRIPT_SIG, in.tap_script_sigs);
        for (const auto& [leaf, controls] : in.tap_scripts) {
            Bytes value = leaf.first;
            value.push_back(leaf.second);
            for (const auto& control : controls) WriteTyped(w, IN_TAP_LEAF_SCRIPT, control, value);
        }
        WriteMapTyped(w, IN_TAP_BIP32_DERIVATION, in.tap_bip32_paths);
        if (in.tap_internal_key) WriteTyped(w, IN_TAP_INTERNAL_KEY, {}, *in.tap_internal_key);
        if (in.tap_merkle_root) WriteTyped(w, IN_TAP_MERKLE_ROOT, {}, *in.tap_merkle_root);
    }
    if (!in.final_script_sig.empty()) WriteTyped(w, IN_SCRIPTSIG, {}, in.final_script_sig);
    if (!in.final_script_witness.empty()) {
        Bytes value;
        Writer vw(value);
        vw.WriteCompactSize(in.final_script_witness.size());
        for (const auto& item : in.final_script_witness) vw.WriteByteVector(item);
        WriteTyped(w, IN_SCRIPTWITNESS, {}, value);
    }
    WriteRaw(w, in.proprietary);
    WriteRaw(w, in.unknown);
    w.WriteU8(0);
}

void WriteOutput(Writer& w, const PsbtOutput& out)
{
    if (!out.redeem_script.empty()) WriteTyped(w, OUT_REDEEMSCRIPT, {}, out.redeem_script);
    if (!out.witness_script.empty()) WriteTyped(w, OUT_WITNESSSCRIPT, {}, out.witness_script);
    WriteMapTyped(w, OUT_BIP32_DERIVATION, out.hd_keypaths);
    if (out.tap_internal_key) WriteTyped(w, OUT_TAP_INTERNAL_KEY, {}, *out.tap_internal_key);
    if (!out.tap_tree.empty()) WriteTyped(w, OUT_TAP_TREE, {}, out.tap_tree);
    WriteMapTyped(w, OUT_TAP_BIP32_DERIVATION, out.tap_bip32_paths);
    WriteRaw(w, out.proprietary);
    WriteRaw(w, out.unknown);
    w.WriteU8(0);
}

template <typename T> void MergeOptional(std::optional<T>& into, const std::optional<T>& from)
{
    if (!into && from) into = from;
}

template <typename M> void MergeMap(M& into, const M& from)
{
    into.insert(from.begin(), from.end());
}

} // namespace

// ---------------------------------------------------------------- parsing

Psbt DecodePsbt(std::span<const uint8_t> data)
{
    try {
        SpanReader r(data);
        std::array<uint8_t, 5> magic{};
        r.ReadInto(magic, "magic bytes");
        if (magic != MAGIC) Fail("Invalid PSBT magic bytes");

        Psbt psbt;
        bool have_tx = false;
        ReadMap(r, "the global map", [&](uint64_t type, const Bytes& key, std::span<const uint8_t> value) {
            switch (type) {
            case GLOBAL_UNSIGNED_TX:
                if (have_tx) Fail("Duplicate Key, unsigned tx already provided");
                RequireKeySize1(key, "Global unsigned tx key is more than one byte type");
                psbt.tx = DeserializeTransaction(value, false);
                have_tx = true;
                for (const TxIn& in : psbt.tx.vin) {
                    if (!in.script_sig.empty() || !in.witness.empty()) {
                        Fail("Unsigned tx does not have empty scriptSigs and scriptWitnesses.");
                    }
                }
                break;
            case GLOBAL_XPUB:
                if (key.size() != 79) Fail("Size of key was not the expected size for the type global xpub");
                CheckKeyOrigin(value.size());
                AddUnique(psbt.xpubs, Bytes(key.begin() + 1, key.end()), value,
                          "Duplicate key, global xpub already provided");
                break;
            case GLOBAL_VERSION: {
                if (psbt.version) Fail("Duplicate Key, version already provided");
                RequireKeySize1(key, "Global version key is more than one byte type");
                const uint32_t version = FromValue(value, [](SpanReader& vr) { return vr.ReadU32(); });
                if (version > HIGHEST_VERSION) Fail("Unsupported version number");
                psbt.version = version;
                break;
            }
            case PROPRIETARY:
                AddUnique(psbt.proprietary, key, value, "Duplicate Key, proprietary key already found");
                break;
            default:
                AddUnique(psbt.unknown, key, value, "Duplicate Key, key for unknown value already provided");
            }
        });
        if (!have_tx) Fail("No unsigned transaction was provided");

        for (size_t i = 0; i < psbt.tx.vin.size() && !r.Empty(); ++i) {
            psbt.inputs.push_back(ReadInput(r));
            const PsbtInput& in = psbt.inputs.back();
            if (in.non_witness_utxo) {
                if (in.non_witness_utxo->GetTxid() != psbt.tx.vin[i].prevout.hash) {
                    Fail("Non-witness UTXO does not match outpoint hash");
                }
                if (psbt.tx.vin[i].prevout.n >= in.non_witness_utxo->vout.size()) {
                    Fail("Input specifies output index that does not exist");
                }
            }
        }
        if (psbt.inputs.size() != psbt.tx.vin.size()) {
            Fail("Inputs provided does not match the number of inputs in transaction.");
        }
        for (size_t i = 0; i < psbt.tx.vout.size() && !r.Empty(); ++i) psbt.outputs.push_back(ReadOutput(r));
        if (psbt.outputs.size() != psbt.tx.vout.size()) {
            Fail("Outputs provided does not match the number of outputs in transaction.");
        }
        if (!r.Empty()) Fail("extra data after PSBT");
        return psbt;
    } catch (const DeserializeError& e) {
        throw PsbtError(e.what());
    }
}

Bytes EncodePsbt(const Psbt& psbt)
{
    Bytes out(MAGIC.begin(), MAGIC.end());
    Writer w(out);
    WriteTyped(w, GLOBAL_UNSIGNED_TX, {}, SerializeTransaction(psbt.tx, false));
    WriteMapTyped(w, GLOBAL_XPUB, psbt.xpubs);
    if (psbt.version && *psbt.version > 0) {
        Bytes value;
        Writer(value).WriteU32(*psbt.version);
        WriteTyped(w, GLOBAL_VERSION, {}, value);
    }
    WriteRaw(w, psbt.proprietary);
    WriteRaw(w, psbt.unknown);
    w.WriteU8(0);
    for (const auto& in : psbt.inputs) WriteInput(w, in);
    for (const auto& o : psbt.outputs) WriteOutput(w, o);
    return out;
}

// ---------------------------------------------------------------- operations

std::optional<TxOut> PsbtInput::Utxo(uint32_t n) const
{
    if (witness_utxo) return witness_utxo;
    if (non_witness_utxo && n < non_witness_utxo->vout.size()) return non_witness_utxo->vout[n];
    return std::nullopt;
}

void PsbtInput::Merge(const PsbtInput& other)
{
    MergeOptional(non_witness_utxo, other.non_witness_utxo);
    if (!witness_utxo && other.witness_utxo) witness_utxo = other.witness_utxo;
    MergeMap(partial_sigs, other.partial_sigs);
    MergeMap(ripemd160_preimages, other.ripemd160_preimages);
    MergeMap(sha256_preimages, other.sha256_preimages);
    MergeMap(hash160_preimages, other.hash160_preimages);
    MergeMap(hash256_preimages, other.hash256_preimages);
    MergeMap(hd_keypaths, other.hd_keypaths);
    MergeMap(unknown, other.unknown);
    MergeMap(proprietary, other.proprietary);
    MergeMap(tap_script_sigs, other.tap_script_sigs);
    for (const auto& [leaf, controls] : other.tap_scripts) tap_scripts[leaf].insert(controls.begin(), controls.end());
    MergeMap(tap_bip32_paths, other.tap_bip32_paths);
    if (redeem_script.empty()) redeem_script = other.redeem_script;
    if (witness_script.empty()) witness_script = other.witness_script;
    if (final_script_sig.empty()) final_script_sig = other.final_script_sig;
    if (final_script_witness.empty()) final_script_witness = other.final_script_witness;
    if (tap_key_sig.empty()) tap_key_sig = other.tap_key_sig;
    MergeOptional(tap_internal_key, other.tap_internal_key);
    MergeOptional(tap_merkle_root, other.tap_merkle_root);
    MergeOptional(sighash_type, other.sighash_type);
}

void PsbtOutput::Merge(const PsbtOutput& other)
{
    MergeMap(hd_keypaths, other.hd_keypaths);
    MergeMap(unknown, other.unknown);
    MergeMap(proprietary, other.proprietary);
    MergeMap(tap_bip32_paths, other.tap_bip32_paths);
    if (redeem_script.empty()) redeem_script = other.redeem_script;
    if (witness_script.empty()) witness_script = other.witness_script;
    MergeOptional(tap_internal_key, other.tap_internal_key);
    if (tap_tree.empty()) tap_tree = other.tap_tree;
}

Psbt Psbt::FromTransaction(Transaction tx)
{
    Psbt psbt;
    for (TxIn& in : tx.vin) {
        in.script_sig.clear();
        in.witness.clear();
    }
    psbt.inputs.resize(tx.vin.size());
    psbt.outputs.resize(tx.vout.size());
    psbt.tx = std::move(tx);
    return psbt;
}

void Psbt::Merge(const Psbt& other)
{
    if (tx.GetTxid() != other.tx.GetTxid()) throw PsbtError("PSBTs not compatible (different transactions)");
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i].Merge(other.inputs[i]);
    for (size_t i = 0; i < outputs.size(); ++i) outputs[i].Merge(other.outputs[i]);
    MergeMap(xpubs, other.xpubs);
    MergeMap(unknown, other.unknown);
    MergeMap(proprietary, other.proprietary);
}

std::optional<TxOut> Psbt::SpentOutput(size_t index) const
{
    if (index >= inputs.size()) return std::nullopt;
    return inputs[index].Utxo(tx.vin[index].prevout.n);
}

std::optional<Amount> Psbt::Fee() const
{
    Amount in = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto utxo = SpentOutput(i);
        if (!utxo || !MoneyRange(utxo->value) || !MoneyRange(in + utxo->value)) return std::nullopt;
        in += utxo->value;
    }
    Amount out = 0;
    for (const TxOut& o : tx.vout) out += o.value;
    return in - out;
}

namespace {

//! The scripts and public keys the PSBT's input carries, for the signer.
void AddInputData(const PsbtInput& in, FlatSigningProvider& provider)
{
    if (!in.redeem_script.empty()) provider.AddScript(in.redeem_script);
    if (!in.witness_script.empty()) provider.AddScript(in.witness_script);
    for (const auto& [id, pair] : in.partial_sigs) {
        if (const auto pubkey = PubKey::Parse(pair.first)) provider.AddPubKey(*pubkey);
    }
    for (const auto& [pubkey_bytes, origin] : in.hd_keypaths) {
        if (const auto pubkey = PubKey::Parse(pubkey_bytes)) provider.AddPubKey(*pubkey);
    }
    if (in.tap_internal_key) {
        if (const auto internal = XOnlyPubKey::Parse(*in.tap_internal_key)) {
            std::optional<crypto::Hash32> root;
            if (in.tap_merkle_root) root = *in.tap_merkle_root;
            provider.AddTaproot(*internal, root);
        }
    }
}

//! Runs the signer over a copy of the transaction whose inputs hold the PSBT's signatures as candidates, and
//! returns it with each input's outcome.
struct SignRun {
    Transaction tx;
    SignResult result;
};

SignRun RunSigner(const Psbt& psbt, const SigningProvider& provider, uint32_t verify_flags)
{
    SignRun run{psbt.tx, {}};
    std::vector<std::optional<TxOut>> spent;
    for (size_t i = 0; i < psbt.inputs.size(); ++i) {
        spent.push_back(psbt.SpentOutput(i));
        const PsbtInput& in = psbt.inputs[i];
        TxIn& txin = run.tx.vin[i];
        if (in.IsFinalized()) {
            txin.script_sig = in.final_script_sig;
            txin.witness = in.final_script_witness;
            continue;
        }
        // Candidates the signer may reuse: every partial signature and the taproot key signature.
        for (const auto& [id, pair] : in.partial_sigs) txin.witness.push_back(pair.second);
        if (!in.tap_key_sig.empty()) txin.witness = {in.tap_key_sig};
    }
    SignOptions options;
    options.verify_flags = verify_flags;
    run.result = SignTransaction(run.tx, spent, provider, options);
    return run;
}

} // namespace

bool FinalizePsbt(Psbt& psbt, uint32_t verify_flags)
{
    FlatSigningProvider provider;
    for (const auto& in : psbt.inputs) AddInputData(in, provider);
    const SignRun run = RunSigner(psbt, provider, verify_flags);
    bool complete = true;
    for (size_t i = 0; i < psbt.inputs.size(); ++i) {
        PsbtInput& in = psbt.inputs[i];
        if (in.IsFinalized()) continue;
        if (run.result.errors.count(i)) {
            complete = false;
            continue;
        }
        const TxIn& txin = run.tx.vin[i];
        PsbtInput final_in;
        final_in.non_witness_utxo = in.non_witness_utxo;
        final_in.witness_utxo = in.witness_utxo;
        final_in.final_script_sig = txin.script_sig;
        final_in.final_script_witness = txin.witness;
        final_in.proprietary = in.proprietary;
        final_in.unknown = in.unknown;
        in = std::move(final_in);
    }
    return complete;
}

std::optional<Transaction> ExtractTransaction(const Psbt& psbt)
{
    Transaction tx = psbt.tx;
    for (size_t i = 0; i < psbt.inputs.size(); ++i) {
        if (!psbt.inputs[i].IsFinalized()) return std::nullopt;
        tx.vin[i].script_sig = psbt.inputs[i].final_script_sig;
        tx.vin[i].witness = psbt.inputs[i].final_script_witness;
    }
    return tx;
}

std::string PsbtRoleName(PsbtRole role)
{
    switch (role) {
    case PsbtRole::CREATOR:
        return "creator";
    case PsbtRole::UPDATER:
        return "updater";
    case PsbtRole::SIGNER:
        return "signer";
    case PsbtRole::FINALIZER:
        return "finalizer";
    case PsbtRole::EXTRACTOR:
        return "extractor";
    }
    return "";
}

PsbtAnalysis AnalyzePsbt(const Psbt& psbt, uint32_t verify_flags)
{
    PsbtAnalysis result;
    result.inputs.resize(psbt.inputs.size());
    FlatSigningProvider provider;
    for (const auto& in : psbt.inputs) AddInputData(in, provider);
    const SignRun run = RunSigner(psbt, provider, verify_flags);
    bool calc_fee = true;
    Amount in_amount = 0;
    for (size_t i = 0; i < psbt.inputs.size(); ++i) {
        const PsbtInput& in = psbt.inputs[i];
        PsbtInputAnalysis& analysis = result.inputs[i];
        analysis.next = PsbtRole::EXTRACTOR;
        const auto utxo = psbt.SpentOutput(i);
        if (utxo) {
            if (!MoneyRange(utxo->value) || !MoneyRange(in_amount + utxo->value)) {
                return PsbtAnalysis{{},
                                    {},
                                    {},
                                    {},
                                    PsbtRole::EXTRACTOR,
                                    "PSBT is not valid. Input " + std::to_string(i) + " has invalid value"};
            }
            in_amount += utxo->value;
            analysis.has_utxo = true;
            if (IsUnspendable(utxo->script_pubkey)) {
                return PsbtAnalysis{{},
                                    {},
                                    {},
                                    {},
                                    PsbtRole::EXTRACTOR,
                                    "PSBT is not valid. Input " + std::to_string(i) + " spends unspendable output"};
            }
        } else {
            analysis.next = PsbtRole::UPDATER;
            calc_fee = false;
        }
        if (in.IsFinalized()) {
            analysis.is_final = true;
            continue;
        }
        if (!utxo) continue;
        if (run.result.errors.count(i) == 0) {
            analysis.next = PsbtRole::FINALIZER;
            continue;
        }
        const auto found = run.result.missing.find(i);
        if (found != run.result.missing.end()) analysis.missing = found->second;
        const MissingData& missing = analysis.missing;
        // Only signatures missing: a signer's turn; anything else: an updater's.
        const bool only_sigs =
            missing.pubkeys.empty() && !missing.redeem_script && !missing.witness_script && !missing.sigs.empty();
        analysis.next = only_sigs ? PsbtRole::SIGNER : PsbtRole::UPDATER;
    }
    for (const auto& analysis : result.inputs) result.next = std::min(result.next, analysis.next);

    if (calc_fee) {
        Amount out_amount = 0;
        for (const TxOut& out : psbt.tx.vout) out_amount += out.value;
        const Amount fee = in_amount - out_amount;
        result.fee = fee;
        // The size once final: every input final already or finalizable now.
        bool all = true;
        Transaction tx = psbt.tx;
        for (size_t i = 0; i < psbt.inputs.size() && all; ++i) {
            const PsbtInput& in = psbt.inputs[i];
            if (in.IsFinalized()) {
                tx.vin[i].script_sig = in.final_script_sig;
                tx.vin[i].witness = in.final_script_witness;
            } else if (run.result.errors.count(i) == 0) {
                tx.vin[i] = run.tx.vin[i];
            } else {
                all = false;
            }
        }
        if (all) {
            const int64_t vsize = GetVirtualSize(tx);
            result.estimated_vsize = vsize;
            result.estimated_feerate = vsize > 0 ? fee * 1000 / vsize : 0;
        }
    }
    return result;
}

} // namespace orrery
