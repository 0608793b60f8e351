// One loaded descriptor wallet; see hd_wallet.h. The rules for states, depth,
// trust, spends and balances are bitcoind's (wallet/wallet.cpp, receive.cpp).
#include <services/wallet/hd_wallet.h>

#include <common/consensus/hex.h>
#include <common/keys/bip32.h>
#include <common/keys/descriptor.h>
#include <common/keys/key_io.h>
#include <common/keys/message.h>
#include <common/rpc/protocol.h>
#include <common/util/logging.h>
#include <common/util/mock_time.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/random.h>

namespace orrery::wallet {
namespace {

std::string HexOf(std::span<const uint8_t> bytes)
{
    return HexStr(bytes);
}

//! Core's descriptor function of each address type around a key expression.
std::string WrapKey(OutputType type, const std::string& key)
{
    switch (type) {
    case OutputType::LEGACY:
        return "pkh(" + key + ")";
    case OutputType::P2SH_SEGWIT:
        return "sh(wpkh(" + key + "))";
    case OutputType::BECH32:
        return "wpkh(" + key + ")";
    case OutputType::BECH32M:
        return "tr(" + key + ")";
    }
    return {};
}

//! The witness script of a multi()/sortedmulti() descriptor (inside wsh or sh(wsh)), from its expanded keys.
std::optional<Script> MultisigScript(const std::string& descriptor, const ParsedDescriptor& parsed)
{
    const bool sorted = descriptor.find("sortedmulti(") != std::string::npos;
    const auto open = descriptor.find(sorted ? "sortedmulti(" : "multi(");
    if (open == std::string::npos || parsed.keys.empty()) return std::nullopt;
    const auto start = descriptor.find('(', open) + 1;
    const int required = std::atoi(descriptor.c_str() + start);
    std::vector<std::vector<uint8_t>> keys;
    for (const auto& key : parsed.keys) keys.push_back(key.pubkey);
    if (sorted) std::sort(keys.begin(), keys.end());
    auto push_number = [](Script& script, size_t n) {
        if (n <= 16) {
            script.push_back(static_cast<uint8_t>(n == 0 ? 0x00 : 0x50 + n));
        } else {
            script.push_back(0x01);
            script.push_back(static_cast<uint8_t>(n));
        }
    };
    Script script;
    push_number(script, static_cast<size_t>(required));
    for (const auto& key : keys) {
        script.push_back(static_cast<uint8_t>(key.size()));
        script.insert(script.end(), key.begin(), key.end());
    }
    push_number(script, keys.size());
    script.push_back(0xae); // OP_CHECKMULTISIG
    return script;
}

TxRecord WithState(TxRecord record, TxStateKind kind, std::string block_hash = {}, int64_t height = -1,
                   int64_t pos = -1, int64_t time = 0)
{
    record.state = kind;
    record.block_hash = std::move(block_hash);
    record.block_height = height;
    record.block_pos = pos;
    record.block_time = time;
    if (kind == TxStateKind::CONFIRMED || kind == TxStateKind::IN_MEMPOOL) record.abandoned = false;
    return record;
}

//! Associated data of a sealed private descriptor: its public form, so that a ciphertext only opens in its own row.
std::string DescriptorContext(const std::string& descriptor)
{
    return "descriptor:" + descriptor;
}

//! Associated data of the sealed seed.
std::string SeedContext(const std::string& fingerprint)
{
    return "seed:" + fingerprint;
}

void WipeString(std::string& text)
{
    MemoryCleanse(text.data(), text.size());
    text.clear();
}

KdfParams ParamsOf(const CryptRecord& crypt)
{
    return {crypt.kdf, static_cast<uint64_t>(crypt.opslimit), static_cast<uint64_t>(crypt.memlimit), crypt.salt};
}

//! A new crypt row: `params` and the master key wrapped under them.
CryptRecord MakeCrypt(const KdfParams& params, std::vector<uint8_t> wrapped_key)
{
    CryptRecord crypt;
    crypt.kdf = params.kdf;
    crypt.opslimit = static_cast<int64_t>(params.opslimit);
    crypt.memlimit = static_cast<int64_t>(params.memlimit);
    crypt.salt = params.salt;
    crypt.wrapped_key = std::move(wrapped_key);
    return crypt;
}

//! Runs `step` in one database batch: all of it reaches the disk or none.
template <typename Step> void InBatch(WalletDatabase& database, Step step)
{
    database.Begin();
    try {
        step();
        database.Commit();
    } catch (...) {
        database.Rollback();
        throw;
    }
}

} // namespace

void GetStrongRandBytes(std::span<uint8_t> out)
{
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(fmt::format("getrandom failed: {}", std::strerror(errno)));
        done += static_cast<size_t>(n);
    }
}

// ---- creating and loading

std::unique_ptr<HdWallet> HdWallet::Create(const std::filesystem::path& file, std::string name, Network network,
                                           std::optional<std::span<const uint8_t>> seed, const WalletOptions& options,
                                           std::optional<BlockRef> tip)
{
    SecureBytes fresh;
    const bool with_seed = !options.blank && !options.disable_private_keys;
    if (!seed && with_seed) {
        fresh.get().resize(SEED_SIZE);
        GetStrongRandBytes(fresh.get());
        seed = fresh.get();
    }
    std::optional<ExtKey> master;
    WalletRecord record;
    record.name = name;
    record.created = options.birth_time.value_or(GetTime());
    record.flags = WALLET_FLAG_DESCRIPTORS;
    if (options.blank) record.flags |= WALLET_FLAG_BLANK_WALLET;
    if (options.disable_private_keys) record.flags |= WALLET_FLAG_DISABLE_PRIVATE_KEYS;
    if (options.avoid_reuse) record.flags |= WALLET_FLAG_AVOID_REUSE;
    if (with_seed) {
        master = ExtKey::FromSeed(*seed);
        if (!master) throw DatabaseError("The seed does not give a valid BIP32 master key");
        record.master_fingerprint = HexOf(master->GetFingerprint());
    }
    const bool encrypt = !options.passphrase.empty();
    std::unique_ptr<SecretKey> master_key;
    std::optional<CryptRecord> crypt;
    if (encrypt) {
        // Sealed before anything is written: the clear seed and private descriptors never reach the file.
        master_key = SecretKey::Random();
        const KdfParams params = NewKdfParams();
        crypt = MakeCrypt(params, WrapMasterKey(*master_key, options.passphrase, params));
        if (with_seed) crypt->crypted_seed = Seal(*master_key, *seed, SeedContext(record.master_fingerprint));
    }
    auto database = WalletDatabase::Create(file, record, with_seed && !encrypt ? *seed : std::span<const uint8_t>());
    std::unique_ptr<HdWallet> wallet(new HdWallet(std::move(name), std::move(database), network, options.keypool_size));
    std::lock_guard lock(wallet->m_mutex);
    wallet->m_database->Begin();
    try {
        if (crypt) {
            wallet->m_database->WriteCrypt(*crypt);
            wallet->m_crypt = crypt;
            wallet->m_master_key = std::move(master_key);
            wallet->m_relock_at = std::chrono::steady_clock::time_point::max(); // until the end of Create
        }
        if (master) wallet->AddDefaultDescriptorsLocked(*master, record.created, {});
        if (tip) {
            wallet->m_database->WriteLastBlock(*tip);
            wallet->m_last_block = tip;
        }
        wallet->m_database->Commit();
    } catch (...) {
        wallet->m_database->Rollback();
        throw;
    }
    wallet->m_master_key.reset(); // a new encrypted wallet starts locked, as bitcoind's
    return wallet;
}

std::unique_ptr<HdWallet> HdWallet::Load(const std::filesystem::path& file, std::string name, Network network,
                                         int64_t keypool_size)
{
    std::unique_ptr<HdWallet> wallet(new HdWallet(std::move(name), WalletDatabase::Open(file), network, keypool_size));
    std::lock_guard lock(wallet->m_mutex);
    wallet->LoadLocked();
    return wallet;
}

HdWallet::HdWallet(std::string name, std::unique_ptr<WalletDatabase> database, Network network, int64_t keypool_size)
    : m_name(std::move(name)), m_network(network), m_keypool_size(keypool_size), m_database(std::move(database))
{
    m_crypt = m_database->ReadCrypt();
}

HdWallet::~HdWallet()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_master_key.reset();
    }
    m_relock_cv.notify_all();
    if (m_relock_thread.joinable()) m_relock_thread.join();
    for (auto& desc : m_descriptors) WipeString(desc.private_descriptor);
}

void HdWallet::LoadLocked()
{
    if (m_database->MigratedFromV1()) {
        // A format 1 wallet: its seed gets bitcoind's default descriptors, each external one continuing at the
        // next index the old wallet kept for that address type, and its labels carry over.
        SecureBytes seed;
        if (!m_database->ReadSeed(seed)) throw DatabaseError(fmt::format("Wallet '{}' has no seed", m_name));
        std::optional<ExtKey> master = ExtKey::FromSeed(seed.get());
        if (!master || HexOf(master->GetFingerprint()) != m_database->Record().master_fingerprint) {
            throw DatabaseError(
                fmt::format("Wallet '{}' is corrupt: its seed does not match its master fingerprint", m_name));
        }
        std::map<std::string, int64_t> next;
        for (const auto& [type, index] : m_database->ReadV1NextIndexes()) next[type] = index;
        m_database->Begin();
        try {
            AddDefaultDescriptorsLocked(*master, m_database->Record().created, next);
            for (const auto& [address, label] : m_database->ReadV1Labels()) m_database->WriteLabel(address, label);
            m_database->Commit();
        } catch (...) {
            m_database->Rollback();
            throw;
        }
    }
    m_descriptors = m_database->ReadDescriptors();
    for (auto& script : m_database->ReadScripts()) {
        m_scripts[std::move(script.script)] = {script.descriptor_id, script.index};
    }
    for (auto& [address, label] : m_database->ReadLabels()) m_labels[address] = label;
    for (auto& record : m_database->ReadTransactions()) {
        WalletTx wtx;
        try {
            wtx.tx = DeserializeTransaction(record.raw);
        } catch (const std::exception& e) {
            throw DatabaseError(
                fmt::format("Wallet '{}': transaction {} does not parse: {}", m_name, record.txid, e.what()));
        }
        wtx.txid = wtx.tx.GetTxid();
        if (wtx.txid.GetHex() != record.txid) {
            throw DatabaseError(
                fmt::format("Wallet '{}': transaction row {} holds another transaction", m_name, record.txid));
        }
        wtx.record = std::move(record);
        wtx.order = m_next_order++;
        for (const auto& in : wtx.tx.vin) {
            if (!in.prevout.IsNull()) m_spends.emplace(in.prevout, wtx.txid);
        }
        m_txs.emplace(wtx.txid, std::move(wtx));
    }
    for (const auto& [txid, wtx] : m_txs) {
        for (const auto& in : wtx.tx.vin) {
            auto parent = m_txs.find(in.prevout.hash);
            if (parent != m_txs.end() && in.prevout.n < parent->second.tx.vout.size() &&
                IsMineLocked(parent->second.tx.vout[in.prevout.n])) {
                m_spent_scripts.insert(parent->second.tx.vout[in.prevout.n].script_pubkey);
            }
        }
    }
    for (const auto& [txid, vout] : m_database->ReadLockedCoins()) {
        if (auto hash = uint256::FromHex(txid)) m_locked.insert(OutPoint{*hash, vout});
    }
    m_last_block = m_database->ReadLastBlock();
    // A -keypool larger than before derives more now.
    m_database->Begin();
    try {
        TopUpAllLocked(m_keypool_size);
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

void HdWallet::AddDefaultDescriptorsLocked(const ExtKey& master, int64_t timestamp,
                                           const std::map<std::string, int64_t>& next_indexes)
{
    const std::string fingerprint = HexOf(master.GetFingerprint());
    for (OutputType type : ALL_OUTPUT_TYPES) {
        const std::vector<uint32_t> path = AccountPath(type, m_network);
        std::optional<ExtKey> account = master.DerivePath(path);
        if (!account)
            throw DatabaseError(fmt::format("Wallet '{}': cannot derive its {} account", m_name, OutputTypeName(type)));
        // [fingerprint/purpose'/coin'/0'] as Core writes it ("h" for hardened).
        const std::string origin = "[" + fingerprint + FormatDerivationPath(path).substr(1) + "]";
        for (bool internal : {false, true}) {
            const std::string tail = internal ? "/1/*" : "/0/*";
            DescriptorRecord record;
            record.descriptor =
                AddDescriptorChecksum(WrapKey(type, origin + EncodeExtPubKey(account->Neuter(), m_network) + tail));
            record.private_descriptor =
                AddDescriptorChecksum(WrapKey(type, origin + EncodeExtKey(*account, m_network) + tail));
            record.ranged = true;
            record.range_start = 0;
            record.range_end = -1;
            auto it = next_indexes.find(std::string(OutputTypeName(type)));
            record.next_index = !internal && it != next_indexes.end() ? it->second : 0;
            record.timestamp = timestamp;
            record.output_type = std::string(OutputTypeName(type));
            record.internal = internal;
            record.active = true;
            WriteDescriptorLocked(std::move(record));
        }
    }
}

int64_t HdWallet::WriteDescriptorLocked(DescriptorRecord record)
{
    if (m_crypt && !record.private_descriptor.empty()) {
        // An encrypted wallet stores a new private descriptor sealed only: it needs the master key.
        if (!KeyAvailableLocked()) throw WalletError(rpc::RPC_WALLET_UNLOCK_NEEDED, std::string(UNLOCK_NEEDED_MESSAGE));
        record.crypted_private = Seal(*m_master_key, record.private_descriptor, DescriptorContext(record.descriptor));
        WipeString(record.private_descriptor);
    }
    record.id = m_database->WriteDescriptor(record);
    if (record.active) m_database->DeactivateDescriptors(record.output_type, record.internal, record.id);
    for (auto& other : m_descriptors) {
        if (other.id != record.id && record.active && other.output_type == record.output_type &&
            other.internal == record.internal) {
            other.active = false;
        }
    }
    auto it =
        std::find_if(m_descriptors.begin(), m_descriptors.end(), [&](const auto& d) { return d.id == record.id; });
    if (it == m_descriptors.end()) {
        m_descriptors.push_back(record);
        it = std::prev(m_descriptors.end());
    } else {
        *it = record;
    }
    if (!record.ranged) {
        for (auto& script : ExpandLocked(record, 0)) {
            m_database->WriteScript({script, record.id, 0});
            m_scripts[script] = {record.id, 0};
        }
    } else {
        TopUpLocked(*it, m_keypool_size);
    }
    return record.id;
}

std::vector<std::vector<uint8_t>> HdWallet::ExpandLocked(const DescriptorRecord& record, int64_t index)
{
    ParsedDescriptor parsed =
        ParseDescriptor(record.descriptor, m_network, /*require_checksum=*/false,
                        record.ranged ? std::optional<uint32_t>(static_cast<uint32_t>(index)) : std::nullopt);
    return parsed.scripts;
}

void HdWallet::TopUpLocked(const DescriptorRecord& record, int64_t keypool_size)
{
    if (!record.ranged) return;
    auto it =
        std::find_if(m_descriptors.begin(), m_descriptors.end(), [&](const auto& d) { return d.id == record.id; });
    if (it == m_descriptors.end()) return;
    DescriptorRecord& stored = *it;
    const int64_t target = std::max(stored.range_end, stored.next_index + keypool_size - 1);
    if (target <= stored.range_end) return;
    for (int64_t index = std::max(stored.range_end + 1, stored.range_start); index <= target; ++index) {
        if (index >= int64_t{BIP32_HARDENED}) break;
        for (auto& script : ExpandLocked(stored, index)) {
            m_database->WriteScript({script, stored.id, index});
            m_scripts.emplace(std::move(script), ScriptOrigin{stored.id, index});
        }
    }
    stored.range_end = target;
    m_database->WriteDescriptor(stored);
}

void HdWallet::TopUpAllLocked(int64_t keypool_size)
{
    for (const auto& record : std::vector<DescriptorRecord>(m_descriptors)) TopUpLocked(record, keypool_size);
}

// ---- addresses and descriptors

std::optional<std::string> HdWallet::GetNewAddress(OutputType type, std::string_view label, bool internal)
{
    std::lock_guard lock(m_mutex);
    auto it = std::find_if(m_descriptors.begin(), m_descriptors.end(), [&](const auto& d) {
        return d.active && d.internal == internal && d.output_type == OutputTypeName(type);
    });
    if (it == m_descriptors.end()) return std::nullopt;
    m_database->Begin();
    try {
        std::string address;
        int64_t index = it->next_index;
        for (;; ++index) {
            if (index >= int64_t{BIP32_HARDENED}) throw DatabaseError("This wallet has no keys left for this type");
            auto scripts = ExpandLocked(*it, index);
            if (!scripts.empty()) {
                address = EncodeAddress(scripts.front(), m_network);
                if (!address.empty()) break;
            }
        }
        it->next_index = index + 1;
        m_database->WriteDescriptor(*it);
        if (!internal) {
            m_database->WriteLabel(address, label);
            m_labels[address] = std::string(label);
        }
        TopUpLocked(*it, m_keypool_size);
        m_database->Commit(); // synchronous=FULL: the index is on disk before the address leaves
        return address;
    } catch (...) {
        m_database->Rollback();
        // The in-memory copy follows the disk again.
        m_descriptors = m_database->ReadDescriptors();
        throw;
    }
}

void HdWallet::TopUp(std::optional<int64_t> keypool_size)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        TopUpAllLocked(keypool_size.value_or(m_keypool_size));
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

void HdWallet::ImportDescriptor(DescriptorRecord record, const std::string& label)
{
    std::lock_guard lock(m_mutex);
    auto existing = std::find_if(m_descriptors.begin(), m_descriptors.end(),
                                 [&](const auto& d) { return d.descriptor == record.descriptor; });
    if (existing != m_descriptors.end()) {
        // bitcoind: an update keeps the range covered so far and may only extend it.
        record.id = existing->id;
        record.range_start = std::min(record.range_start, existing->range_start);
        record.range_end = std::max(record.range_end, existing->range_end);
        record.next_index = std::max(record.next_index, existing->next_index);
        if (record.private_descriptor.empty()) {
            record.private_descriptor = existing->private_descriptor;
            record.crypted_private = existing->crypted_private;
        }
    }
    m_database->Begin();
    try {
        const int64_t keep_end = record.range_end;
        if (record.ranged) record.range_end = std::min(record.range_end, record.range_start - 1); // derive below
        if (existing != m_descriptors.end()) record.range_end = existing->range_end;
        const int64_t id = WriteDescriptorLocked(record);
        auto it = std::find_if(m_descriptors.begin(), m_descriptors.end(), [&](const auto& d) { return d.id == id; });
        if (record.ranged && keep_end > it->range_end) {
            // The range asked for, then the keypool beyond the next index.
            for (int64_t index = std::max(it->range_end + 1, it->range_start); index <= keep_end; ++index) {
                for (auto& script : ExpandLocked(*it, index)) {
                    m_database->WriteScript({script, id, index});
                    m_scripts.emplace(std::move(script), ScriptOrigin{id, index});
                }
            }
            it->range_end = keep_end;
            m_database->WriteDescriptor(*it);
        }
        if (!record.ranged && !label.empty()) {
            for (const auto& script : ExpandLocked(*it, 0)) {
                const std::string address = EncodeAddress(script, m_network);
                if (address.empty()) continue;
                m_database->WriteLabel(address, label);
                m_labels[address] = label;
            }
        }
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        m_descriptors = m_database->ReadDescriptors();
        throw;
    }
}

std::vector<DescriptorRecord> HdWallet::GetDescriptors(bool with_private)
{
    std::lock_guard lock(m_mutex);
    std::vector<DescriptorRecord> out = m_descriptors;
    std::vector<std::string> privates;
    if (with_private) privates = PrivateDescriptorsLocked();
    for (size_t i = 0; i < out.size(); ++i) {
        WipeString(out[i].private_descriptor);
        out[i].crypted_private.clear();
        if (with_private) out[i].private_descriptor = std::move(privates[i]);
    }
    return out;
}

void HdWallet::SetLabel(std::string_view address, std::string_view label)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        m_database->WriteLabel(address, label);
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
    m_labels[std::string(address)] = std::string(label);
}

std::vector<std::string> HdWallet::ListLabels()
{
    std::lock_guard lock(m_mutex);
    std::set<std::string> labels;
    for (const auto& [address, label] : m_labels) labels.insert(label);
    return {labels.begin(), labels.end()};
}

std::optional<std::string> HdWallet::GetLabel(std::string_view address)
{
    std::lock_guard lock(m_mutex);
    auto it = m_labels.find(std::string(address));
    if (it == m_labels.end()) return std::nullopt;
    return it->second;
}

std::map<std::string, std::string> HdWallet::GetLabels()
{
    std::lock_guard lock(m_mutex);
    return m_labels;
}

std::optional<ScriptOrigin> HdWallet::FindScript(std::span<const uint8_t> script)
{
    std::lock_guard lock(m_mutex);
    auto it = m_scripts.find(std::vector<uint8_t>(script.begin(), script.end()));
    if (it == m_scripts.end()) return std::nullopt;
    return it->second;
}

AddressDetails HdWallet::DescribeScript(std::span<const uint8_t> script)
{
    std::lock_guard lock(m_mutex);
    AddressDetails out;
    const std::string address = EncodeAddress(script, m_network);
    if (auto label = m_labels.find(address); label != m_labels.end()) out.label = label->second;
    auto found = m_scripts.find(std::vector<uint8_t>(script.begin(), script.end()));
    if (found == m_scripts.end()) return out;
    auto desc = std::find_if(m_descriptors.begin(), m_descriptors.end(),
                             [&](const auto& d) { return d.id == found->second.descriptor_id; });
    if (desc == m_descriptors.end()) return out;
    out.is_mine = true;
    out.solvable = true;
    out.is_change = desc->internal;
    out.parent_descriptor = desc->descriptor;
    out.timestamp = desc->timestamp;
    ParsedDescriptor parsed = ParseDescriptor(
        desc->descriptor, m_network, false,
        desc->ranged ? std::optional<uint32_t>(static_cast<uint32_t>(found->second.index)) : std::nullopt);
    if (parsed.keys.size() == 1) {
        const DescriptorKey& key = parsed.keys.front();
        out.hd_master_fingerprint = key.fingerprint;
        if (!key.path.empty()) out.hd_key_path = FormatDerivationPath(key.path);
        out.pubkey = HexStr(key.pubkey);
        // The script's own descriptor: the parent's function around the expanded key with its origin.
        std::string origin = "[" + key.fingerprint + (key.path.empty() ? "" : out.hd_key_path.substr(1)) + "]";
        std::string body = desc->descriptor.substr(0, desc->descriptor.find('#'));
        const auto open = body.find_last_of('(') + 1;
        const auto close = body.find(')');
        if (open != std::string::npos && close != std::string::npos && close > open) {
            out.descriptor = AddDescriptorChecksum(body.substr(0, open) + origin + out.pubkey + body.substr(close));
        }
    } else {
        out.descriptor = desc->descriptor;
    }
    return out;
}

// ---- following the chain

std::optional<BlockRef> HdWallet::LastBlock()
{
    std::lock_guard lock(m_mutex);
    return m_last_block;
}

void HdWallet::SetLastBlock(const BlockRef& ref)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        m_database->WriteLastBlock(ref);
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
    m_last_block = ref;
}

bool HdWallet::BlockConnected(const Block& block, const BlockRef& ref, const std::string& prev_hash, int64_t time)
{
    std::lock_guard lock(m_mutex);
    if (!m_last_block || prev_hash != m_last_block->hash) return false;
    m_database->Begin();
    try {
        for (size_t pos = 0; pos < block.txs.size(); ++pos) {
            TxRecord state;
            state = WithState(state, TxStateKind::CONFIRMED, ref.hash, ref.height, static_cast<int64_t>(pos), time);
            SyncTransactionLocked(block.txs[pos], state);
        }
        m_database->WriteLastBlock(ref);
        m_database->Commit(); // the block's transactions and the new last block together
    } catch (...) {
        m_database->Rollback();
        throw;
    }
    m_last_block = ref;
    return true;
}

bool HdWallet::BlockDisconnected(const Block& block, const BlockRef& ref, const std::string& prev_hash)
{
    std::lock_guard lock(m_mutex);
    if (!m_last_block || ref.hash != m_last_block->hash) return false;
    m_database->Begin();
    try {
        for (const auto& tx : block.txs) {
            const uint256 txid = tx.GetTxid();
            auto it = m_txs.find(txid);
            if (it != m_txs.end() && it->second.record.state == TxStateKind::CONFIRMED &&
                it->second.record.block_hash == ref.hash) {
                // Back to unconfirmed; a coinbase can never return to the mempool, so it is abandoned.
                it->second.record = WithState(it->second.record, TxStateKind::INACTIVE);
                it->second.record.abandoned = tx.IsCoinbase();
                WriteTxLocked(it->second);
            }
            // Transactions conflicted by this block are no longer conflicted (bitcoind's blockDisconnected).
            for (const auto& in : tx.vin) {
                auto range = m_spends.equal_range(in.prevout);
                for (auto spend = range.first; spend != range.second; ++spend) {
                    UpdateDescendantsLocked(spend->second, [&](WalletTx& wtx) {
                        if (wtx.record.state != TxStateKind::CONFLICTED || wtx.record.block_height < ref.height) {
                            return false;
                        }
                        wtx.record = WithState(wtx.record, TxStateKind::INACTIVE);
                        return true;
                    });
                }
            }
        }
        const BlockRef parent{prev_hash, ref.height - 1};
        m_database->WriteLastBlock(parent);
        m_database->Commit();
        m_last_block = parent;
    } catch (...) {
        m_database->Rollback();
        throw;
    }
    return true;
}

void HdWallet::ScanBlock(const Block& block, const BlockRef& ref, int64_t time)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        for (size_t pos = 0; pos < block.txs.size(); ++pos) {
            TxRecord state =
                WithState({}, TxStateKind::CONFIRMED, ref.hash, ref.height, static_cast<int64_t>(pos), time);
            SyncTransactionLocked(block.txs[pos], state);
        }
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

std::set<std::pair<std::string, int64_t>> HdWallet::ReferencedBlocks()
{
    std::lock_guard lock(m_mutex);
    std::set<std::pair<std::string, int64_t>> out;
    for (const auto& [txid, wtx] : m_txs) {
        if (wtx.record.state == TxStateKind::CONFIRMED || wtx.record.state == TxStateKind::CONFLICTED) {
            out.emplace(wtx.record.block_hash, wtx.record.block_height);
        }
    }
    return out;
}

void HdWallet::Rewind(const BlockRef& fork, const std::set<std::pair<std::string, int64_t>>& gone)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        for (auto& [txid, wtx] : m_txs) {
            const bool confirmed = wtx.record.state == TxStateKind::CONFIRMED;
            if (!confirmed && wtx.record.state != TxStateKind::CONFLICTED) continue;
            if (!gone.count({wtx.record.block_hash, wtx.record.block_height})) continue;
            const bool abandoned = confirmed ? wtx.tx.IsCoinbase() : wtx.record.abandoned;
            wtx.record = WithState(wtx.record, TxStateKind::INACTIVE);
            wtx.record.abandoned = abandoned;
            WriteTxLocked(wtx);
        }
        m_database->WriteLastBlock(fork);
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
    m_last_block = fork;
}

void HdWallet::TransactionAddedToMempool(const Transaction& tx)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(tx.GetTxid());
    if (it != m_txs.end() && it->second.record.state == TxStateKind::CONFIRMED) return;
    m_database->Begin();
    try {
        SyncTransactionLocked(tx, WithState({}, TxStateKind::IN_MEMPOOL));
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

void HdWallet::TransactionRemovedFromMempool(const Transaction& tx)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(tx.GetTxid());
    if (it == m_txs.end() || it->second.record.state != TxStateKind::IN_MEMPOOL) return;
    m_database->Begin();
    try {
        it->second.record = WithState(it->second.record, TxStateKind::INACTIVE);
        WriteTxLocked(it->second);
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

void HdWallet::AbandonTransaction(const uint256& txid)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(txid);
    if (it == m_txs.end()) throw WalletError(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id");
    // bitcoind: only a transaction neither confirmed nor in the mempool, nor already abandoned.
    if (DepthLocked(it->second) != 0 || it->second.record.state == TxStateKind::IN_MEMPOOL ||
        it->second.record.abandoned) {
        throw WalletError(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Transaction not eligible for abandonment");
    }
    m_database->Begin();
    try {
        UpdateDescendantsLocked(txid, [](WalletTx& wtx) {
            if (wtx.record.state != TxStateKind::INACTIVE || wtx.record.abandoned) return false;
            wtx.record.abandoned = true;
            return true;
        });
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

bool HdWallet::SyncTransactionLocked(const Transaction& tx, const TxRecord& state, bool update_existing)
{
    const uint256 txid = tx.GetTxid();
    auto it = m_txs.find(txid);
    if (it == m_txs.end()) {
        bool relevant =
            std::any_of(tx.vout.begin(), tx.vout.end(), [&](const TxOut& out) { return IsMineLocked(out); });
        relevant = relevant || DebitLocked(tx) > 0;
        if (!relevant) {
            if (state.state == TxStateKind::CONFIRMED) MarkConflictsOfLocked(tx, txid, state);
            return false;
        }
        WalletTx wtx;
        wtx.tx = tx;
        wtx.txid = txid;
        wtx.record = state;
        wtx.record.txid = txid.GetHex();
        wtx.record.raw = SerializeTransaction(tx);
        // First seen in a block: its time is the block's (as bitcoind's smart time of a rescanned transaction).
        const int64_t now = GetTime();
        wtx.record.time_received =
            state.state == TxStateKind::CONFIRMED && state.block_time > 0 ? std::min(now, state.block_time) : now;
        wtx.order = m_next_order++;
        for (const auto& in : tx.vin) {
            if (in.prevout.IsNull()) continue;
            m_spends.emplace(in.prevout, txid);
            auto parent = m_txs.find(in.prevout.hash);
            if (parent != m_txs.end() && in.prevout.n < parent->second.tx.vout.size() &&
                IsMineLocked(parent->second.tx.vout[in.prevout.n])) {
                m_spent_scripts.insert(parent->second.tx.vout[in.prevout.n].script_pubkey);
            }
        }
        it = m_txs.emplace(txid, std::move(wtx)).first;
        MarkUsedLocked(tx);
    } else if (update_existing) {
        TxRecord next = state;
        next.txid = it->second.record.txid;
        next.raw = it->second.record.raw;
        next.time_received = it->second.record.time_received;
        if (next.state == TxStateKind::INACTIVE) next.abandoned = it->second.record.abandoned;
        it->second.record = std::move(next);
    } else {
        return true;
    }
    WriteTxLocked(it->second);
    if (state.state == TxStateKind::CONFIRMED) MarkConflictsOfLocked(tx, txid, state);
    return true;
}

void HdWallet::MarkConflictsOfLocked(const Transaction& tx, const uint256& txid, const TxRecord& state)
{
    // Every wallet transaction spending one of its inputs is conflicted by this block, with its descendants
    // (whether or not this transaction concerns the wallet, as in bitcoind).
    for (const auto& in : tx.vin) {
        if (in.prevout.IsNull()) continue;
        auto range = m_spends.equal_range(in.prevout);
        std::vector<uint256> others;
        for (auto spend = range.first; spend != range.second; ++spend) {
            if (spend->second != txid) others.push_back(spend->second);
        }
        for (const auto& other : others) MarkConflictedLocked(other, state.block_hash, state.block_height);
    }
}

void HdWallet::WriteTxLocked(const WalletTx& wtx)
{
    std::vector<OutputRecord> outputs;
    for (size_t n = 0; n < wtx.tx.vout.size(); ++n) {
        if (IsMineLocked(wtx.tx.vout[n])) {
            outputs.push_back({static_cast<uint32_t>(n), wtx.tx.vout[n].value, wtx.tx.vout[n].script_pubkey});
        }
    }
    std::vector<std::pair<std::string, uint32_t>> spends;
    for (const auto& in : wtx.tx.vin) {
        if (!in.prevout.IsNull()) spends.emplace_back(in.prevout.hash.GetHex(), in.prevout.n);
    }
    m_database->WriteTransaction(wtx.record, outputs, spends);
}

void HdWallet::MarkUsedLocked(const Transaction& tx)
{
    // A script seen on the chain at or past a descriptor's next index moves that index on (bitcoind's
    // MarkUnusedAddresses), and the keypool follows, so a restored wallet finds all its coins.
    for (const auto& out : tx.vout) {
        auto found = m_scripts.find(out.script_pubkey);
        if (found == m_scripts.end()) continue;
        for (auto& desc : m_descriptors) {
            if (desc.id != found->second.descriptor_id || !desc.ranged || found->second.index < desc.next_index) {
                continue;
            }
            desc.next_index = found->second.index + 1;
            m_database->WriteDescriptor(desc);
            TopUpLocked(desc, m_keypool_size);
            break;
        }
    }
}

template <typename Change> void HdWallet::UpdateDescendantsLocked(const uint256& txid, Change change)
{
    std::set<uint256> done;
    std::vector<uint256> todo{txid};
    while (!todo.empty()) {
        const uint256 current = todo.back();
        todo.pop_back();
        if (!done.insert(current).second) continue;
        auto it = m_txs.find(current);
        if (it == m_txs.end()) continue;
        if (!change(it->second)) continue;
        WriteTxLocked(it->second);
        for (uint32_t n = 0; n < it->second.tx.vout.size(); ++n) {
            auto range = m_spends.equal_range(OutPoint{current, n});
            for (auto spend = range.first; spend != range.second; ++spend) todo.push_back(spend->second);
        }
    }
}

void HdWallet::MarkConflictedLocked(const uint256& txid, const std::string& block_hash, int64_t height)
{
    UpdateDescendantsLocked(txid, [&](WalletTx& wtx) {
        if (wtx.record.state == TxStateKind::CONFIRMED) return false;
        if (wtx.record.state == TxStateKind::CONFLICTED && wtx.record.block_height <= height) return false;
        const bool abandoned = wtx.record.abandoned;
        wtx.record = WithState(wtx.record, TxStateKind::CONFLICTED, block_hash, height);
        wtx.record.abandoned = abandoned;
        return true;
    });
}

// ---- reading

int64_t HdWallet::DepthLocked(const WalletTx& wtx) const
{
    const int64_t tip = m_last_block ? m_last_block->height : wtx.record.block_height;
    switch (wtx.record.state) {
    case TxStateKind::CONFIRMED:
        return std::max<int64_t>(tip - wtx.record.block_height + 1, 1);
    case TxStateKind::CONFLICTED:
        return -std::max<int64_t>(tip - wtx.record.block_height + 1, 1);
    default:
        return 0;
    }
}

bool HdWallet::IsMineLocked(const TxOut& out) const
{
    return m_scripts.count(out.script_pubkey) != 0;
}

Amount HdWallet::DebitLocked(const Transaction& tx) const
{
    Amount debit = 0;
    for (const auto& in : tx.vin) {
        auto parent = m_txs.find(in.prevout.hash);
        if (parent == m_txs.end() || in.prevout.n >= parent->second.tx.vout.size()) continue;
        const TxOut& out = parent->second.tx.vout[in.prevout.n];
        if (IsMineLocked(out)) debit += out.value;
    }
    return debit;
}

bool HdWallet::IsSpentLocked(const OutPoint& outpoint) const
{
    auto range = m_spends.equal_range(outpoint);
    for (auto spend = range.first; spend != range.second; ++spend) {
        auto it = m_txs.find(spend->second);
        if (it == m_txs.end()) continue;
        const int64_t depth = DepthLocked(it->second);
        if (depth > 0 || (depth == 0 && !it->second.record.abandoned)) return true;
    }
    return false;
}

bool HdWallet::IsTrustedLocked(const WalletTx& wtx, std::set<uint256>& trusted_parents) const
{
    const int64_t depth = DepthLocked(wtx);
    if (depth >= 1) return true;
    if (depth < 0) return false;
    if (wtx.record.state != TxStateKind::IN_MEMPOOL) return false;
    // An unconfirmed transaction is trusted when it spends only trusted coins of this wallet.
    for (const auto& in : wtx.tx.vin) {
        auto parent = m_txs.find(in.prevout.hash);
        if (parent == m_txs.end() || in.prevout.n >= parent->second.tx.vout.size()) return false;
        if (!IsMineLocked(parent->second.tx.vout[in.prevout.n])) return false;
        if (trusted_parents.count(in.prevout.hash)) continue;
        if (!IsTrustedLocked(parent->second, trusted_parents)) return false;
        trusted_parents.insert(in.prevout.hash);
    }
    return true;
}

bool HdWallet::IsReusedLocked(const std::vector<uint8_t>& script) const
{
    return m_spent_scripts.count(script) != 0;
}

WalletInfo HdWallet::GetInfo()
{
    std::lock_guard lock(m_mutex);
    WalletInfo info;
    info.name = m_name;
    info.format_version = m_database->Record().format_version;
    info.master_fingerprint = m_database->Record().master_fingerprint;
    info.flags = m_database->Record().flags;
    info.tx_count = static_cast<int64_t>(m_txs.size());
    info.birth_time = m_database->Record().created;
    for (const auto& desc : m_descriptors) {
        info.birth_time = std::min(info.birth_time, desc.timestamp);
        if (!desc.active || !desc.ranged) continue;
        const int64_t unused = std::max<int64_t>(desc.range_end - desc.next_index + 1, 0);
        (desc.internal ? info.keypool_size_internal : info.keypool_size) += unused;
    }
    info.last_processed_block = m_last_block;
    info.encrypted = m_crypt.has_value();
    info.unlocked_until = KeyAvailableLocked() ? m_unlocked_until : 0;
    info.scanning = m_scanning.load();
    if (info.scanning) {
        info.scan_duration = GetTime() - m_scan_start_time.load();
        const int64_t span = std::max<int64_t>(m_scan_stop.load() - m_scan_start.load(), 1);
        info.scan_progress = std::clamp(
            static_cast<double>(m_scan_height.load() - m_scan_start.load()) / static_cast<double>(span), 0.0, 1.0);
    }
    return info;
}

Balances HdWallet::GetBalances(int64_t min_depth, bool avoid_reuse)
{
    std::lock_guard lock(m_mutex);
    Balances balances;
    const bool reuse_flag = (m_database->Record().flags & WALLET_FLAG_AVOID_REUSE) != 0;
    std::set<uint256> trusted_parents;
    for (const auto& [txid, wtx] : m_txs) {
        const int64_t depth = DepthLocked(wtx);
        const bool trusted = IsTrustedLocked(wtx, trusted_parents);
        const bool immature = wtx.tx.IsCoinbase() && COINBASE_MATURITY + 1 - depth > 0;
        Amount credit = 0;
        for (uint32_t n = 0; n < wtx.tx.vout.size(); ++n) {
            const TxOut& out = wtx.tx.vout[n];
            if (!IsMineLocked(out)) continue;
            if (immature) {
                if (depth > 0) balances.immature += out.value; // bitcoind counts it spent or not
                continue;
            }
            if (IsSpentLocked(OutPoint{txid, n})) continue;
            if (reuse_flag && avoid_reuse && IsReusedLocked(out.script_pubkey)) {
                if (trusted && depth >= min_depth) balances.used += out.value;
                continue;
            }
            credit += out.value;
        }
        if (trusted && depth >= min_depth) balances.trusted += credit;
        if (!trusted && depth == 0 && wtx.record.state == TxStateKind::IN_MEMPOOL) balances.untrusted_pending += credit;
    }
    return balances;
}

std::vector<WalletCoin> HdWallet::ListCoins(int64_t min_depth, int64_t max_depth, bool include_unsafe)
{
    std::lock_guard lock(m_mutex);
    std::vector<WalletCoin> coins;
    std::set<uint256> trusted_parents;
    for (const auto& [txid, wtx] : m_txs) {
        const int64_t depth = DepthLocked(wtx);
        if (depth < 0 || depth < min_depth || depth > max_depth) continue;
        if (wtx.tx.IsCoinbase() && COINBASE_MATURITY + 1 - depth > 0) continue;
        if (depth == 0 && wtx.record.state != TxStateKind::IN_MEMPOOL) continue;
        const bool safe = IsTrustedLocked(wtx, trusted_parents);
        if (!safe && !include_unsafe) continue;
        for (uint32_t n = 0; n < wtx.tx.vout.size(); ++n) {
            const TxOut& out = wtx.tx.vout[n];
            auto found = m_scripts.find(out.script_pubkey);
            if (found == m_scripts.end()) continue;
            const OutPoint outpoint{txid, n};
            if (IsSpentLocked(outpoint) || m_locked.count(outpoint)) continue;
            WalletCoin coin;
            coin.outpoint = outpoint;
            coin.output = out;
            coin.depth = depth;
            coin.safe = safe;
            coin.coinbase = wtx.tx.IsCoinbase();
            coin.origin = found->second;
            coin.reused = IsReusedLocked(out.script_pubkey);
            coins.push_back(std::move(coin));
        }
    }
    return coins;
}

std::vector<WalletTx> HdWallet::Transactions()
{
    std::lock_guard lock(m_mutex);
    std::vector<WalletTx> out;
    out.reserve(m_txs.size());
    for (const auto& [txid, wtx] : m_txs) out.push_back(wtx);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
    return out;
}

std::optional<WalletTx> HdWallet::GetTransaction(const uint256& txid)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(txid);
    if (it == m_txs.end()) return std::nullopt;
    return it->second;
}

int64_t HdWallet::Depth(const WalletTx& wtx)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(wtx.txid);
    return DepthLocked(it != m_txs.end() ? it->second : wtx);
}

Amount HdWallet::Debit(const Transaction& tx)
{
    std::lock_guard lock(m_mutex);
    return DebitLocked(tx);
}

bool HdWallet::IsMine(const TxOut& out)
{
    std::lock_guard lock(m_mutex);
    return IsMineLocked(out);
}

bool HdWallet::IsTrusted(const WalletTx& wtx)
{
    std::lock_guard lock(m_mutex);
    std::set<uint256> trusted_parents;
    auto it = m_txs.find(wtx.txid);
    return IsTrustedLocked(it != m_txs.end() ? it->second : wtx, trusted_parents);
}

bool HdWallet::IsSpent(const OutPoint& outpoint)
{
    std::lock_guard lock(m_mutex);
    return IsSpentLocked(outpoint);
}

std::vector<uint256> HdWallet::Conflicts(const uint256& txid)
{
    std::lock_guard lock(m_mutex);
    std::set<uint256> out;
    auto it = m_txs.find(txid);
    if (it == m_txs.end()) return {};
    for (const auto& in : it->second.tx.vin) {
        auto range = m_spends.equal_range(in.prevout);
        for (auto spend = range.first; spend != range.second; ++spend) {
            if (spend->second != txid) out.insert(spend->second);
        }
    }
    return {out.begin(), out.end()};
}

// ---- locked coins

void HdWallet::LockCoin(const OutPoint& outpoint, bool persistent)
{
    std::lock_guard lock(m_mutex);
    if (persistent) {
        m_database->Begin();
        try {
            m_database->WriteLockedCoin(outpoint.hash.GetHex(), outpoint.n, true);
            m_database->Commit();
        } catch (...) {
            m_database->Rollback();
            throw;
        }
    }
    m_locked.insert(outpoint);
}

void HdWallet::UnlockCoin(const OutPoint& outpoint)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        m_database->WriteLockedCoin(outpoint.hash.GetHex(), outpoint.n, false);
        m_database->Commit();
    } catch (...) {
        m_database->Rollback();
        throw;
    }
    m_locked.erase(outpoint);
}

void HdWallet::UnlockAll()
{
    for (const auto& outpoint : LockedCoins()) UnlockCoin(outpoint);
}

bool HdWallet::IsLocked(const OutPoint& outpoint)
{
    std::lock_guard lock(m_mutex);
    return m_locked.count(outpoint) != 0;
}

std::vector<OutPoint> HdWallet::LockedCoins()
{
    std::lock_guard lock(m_mutex);
    return {m_locked.begin(), m_locked.end()};
}

// ---- spending

namespace {
//! Wipes the clear private descriptors a caller of PrivateDescriptorsLocked() holds, however it leaves.
struct WipeOnExit {
    std::vector<std::string>& texts;
    ~WipeOnExit()
    {
        for (auto& text : texts) WipeString(text);
    }
};
} // namespace

std::optional<TxOut> HdWallet::FindOutput(const OutPoint& outpoint)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(outpoint.hash);
    if (it == m_txs.end() || outpoint.n >= it->second.tx.vout.size()) return std::nullopt;
    return it->second.tx.vout[outpoint.n];
}

bool HdWallet::IsFromMe(const uint256& txid)
{
    std::lock_guard lock(m_mutex);
    auto it = m_txs.find(txid);
    return it != m_txs.end() && DebitLocked(it->second.tx) > 0;
}

bool HdWallet::HasPrivateKeys()
{
    std::lock_guard lock(m_mutex);
    return (m_database->Record().flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS) == 0;
}

SignResult HdWallet::SignTransaction(Transaction& tx, const std::vector<std::optional<TxOut>>& spent,
                                     const SignOptions& options)
{
    std::lock_guard lock(m_mutex);
    std::vector<std::string> privates = PrivateDescriptorsLocked();
    const WipeOnExit wipe{privates};
    FlatSigningProvider provider;
    std::set<std::pair<int64_t, int64_t>> added;
    for (const auto& out : spent) {
        if (!out) continue;
        auto found = m_scripts.find(out->script_pubkey);
        if (found == m_scripts.end()) continue;
        const ScriptOrigin origin = found->second;
        if (!added.insert({origin.descriptor_id, origin.index}).second) continue;
        for (size_t i = 0; i < m_descriptors.size() && i < privates.size(); ++i) {
            const DescriptorRecord& desc = m_descriptors[i];
            if (desc.id != origin.descriptor_id) continue;
            const std::optional<uint32_t> position =
                desc.ranged ? std::optional<uint32_t>(static_cast<uint32_t>(origin.index)) : std::nullopt;
            // Without its private form (watch-only) the public keys and scripts still let the signer say what is
            // missing.
            ParsedDescriptor parsed =
                ParseDescriptor(privates[i].empty() ? desc.descriptor : privates[i], m_network, false, position);
            for (const auto& key : parsed.keys) {
                if (key.has_private && key.secret.IsValid()) {
                    provider.AddKey(key.secret);
                } else if (auto pubkey = PubKey::Parse(key.pubkey)) {
                    provider.AddPubKey(*pubkey);
                }
            }
            if (auto script = MultisigScript(desc.descriptor, parsed)) provider.AddScript(*script);
        }
    }
    return orrery::SignTransaction(tx, spent, provider, options);
}

void HdWallet::CommitTransaction(const Transaction& tx)
{
    std::lock_guard lock(m_mutex);
    m_database->Begin();
    try {
        SyncTransactionLocked(tx, WithState({}, TxStateKind::INACTIVE), /*update_existing=*/false);
        m_database->Commit(); // synchronous=FULL: on disk before the node hears of it
    } catch (...) {
        m_database->Rollback();
        throw;
    }
}

// ---- encryption

bool HdWallet::KeyAvailableLocked() const
{
    return m_master_key && std::chrono::steady_clock::now() < m_relock_at;
}

std::vector<std::string> HdWallet::PrivateDescriptorsLocked() const
{
    if (m_crypt && !KeyAvailableLocked()) {
        throw WalletError(rpc::RPC_WALLET_UNLOCK_NEEDED, std::string(UNLOCK_NEEDED_MESSAGE));
    }
    std::vector<std::string> out;
    out.reserve(m_descriptors.size());
    for (const auto& desc : m_descriptors) {
        if (desc.crypted_private.empty()) {
            out.push_back(desc.private_descriptor);
            continue;
        }
        std::optional<SecureBytes> plain =
            Open(*m_master_key, desc.crypted_private, DescriptorContext(desc.descriptor));
        if (!plain) {
            for (auto& text : out) WipeString(text);
            throw WalletError(rpc::RPC_WALLET_ERROR,
                              fmt::format("Wallet '{}' is corrupt: a private descriptor does not decrypt", m_name));
        }
        out.emplace_back(plain->get().begin(), plain->get().end());
    }
    return out;
}

bool HdWallet::IsCrypted()
{
    std::lock_guard lock(m_mutex);
    return m_crypt.has_value();
}

bool HdWallet::IsCryptLocked()
{
    std::lock_guard lock(m_mutex);
    return m_crypt && !KeyAvailableLocked();
}

void HdWallet::EncryptWallet(std::string_view passphrase)
{
    // The slow part (Argon2id) before the wallet's lock, so the chain's news do not wait for it.
    std::unique_ptr<SecretKey> master_key = SecretKey::Random();
    const KdfParams params = NewKdfParams();
    CryptRecord crypt = MakeCrypt(params, WrapMasterKey(*master_key, passphrase, params));
    std::lock_guard lock(m_mutex);
    if (m_database->Record().flags & WALLET_FLAG_DISABLE_PRIVATE_KEYS) {
        throw WalletError(rpc::RPC_WALLET_ENCRYPTION_FAILED,
                          "Error: wallet does not contain private keys, nothing to encrypt.");
    }
    if (m_crypt) {
        throw WalletError(rpc::RPC_WALLET_WRONG_ENC_STATE,
                          "Error: running with an encrypted wallet, but encryptwallet was called.");
    }
    SecureBytes seed;
    if (m_database->ReadSeed(seed)) {
        crypt.crypted_seed = Seal(*master_key, seed.get(), SeedContext(m_database->Record().master_fingerprint));
    }
    std::vector<DescriptorRecord> sealed = m_descriptors;
    for (auto& desc : sealed) {
        if (desc.private_descriptor.empty()) continue;
        desc.crypted_private = Seal(*master_key, desc.private_descriptor, DescriptorContext(desc.descriptor));
        WipeString(desc.private_descriptor);
    }
    // The ciphertexts replace the clear rows in one transaction: a crash leaves the wallet wholly clear or wholly
    // encrypted.
    InBatch(*m_database, [&] {
        m_database->WriteCrypt(crypt);
        m_database->DeleteSeed();
        for (const auto& desc : sealed) {
            if (!desc.crypted_private.empty()) m_database->WriteDescriptor(desc);
        }
    });
    for (auto& desc : m_descriptors) WipeString(desc.private_descriptor);
    m_descriptors = std::move(sealed);
    m_crypt = std::move(crypt);
    m_master_key.reset();
    m_unlocked_until = 0;
    // secure_delete zeroed the clear rows; this also drops old copies of their pages from the file and its log.
    m_database->Compact();
    LogPrintf("Wallet \"{}\" encrypted", m_name);
}

void HdWallet::Unlock(std::string_view passphrase, int64_t timeout)
{
    std::optional<CryptRecord> crypt;
    {
        std::lock_guard lock(m_mutex);
        crypt = m_crypt;
    }
    if (!crypt) {
        throw WalletError(rpc::RPC_WALLET_WRONG_ENC_STATE,
                          "Error: running with an unencrypted wallet, but walletpassphrase was called.");
    }
    std::unique_ptr<SecretKey> master_key = UnwrapMasterKey(crypt->wrapped_key, passphrase, ParamsOf(*crypt));
    if (!master_key) throw WalletError(rpc::RPC_WALLET_PASSPHRASE_INCORRECT, std::string(WRONG_PASSPHRASE_MESSAGE));
    {
        std::lock_guard lock(m_mutex);
        m_master_key = std::move(master_key);
        m_relock_at = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
        m_unlocked_until = GetTime() + timeout;
        if (!m_relock_thread.joinable()) m_relock_thread = std::thread([this] { RelockThread(); });
    }
    m_relock_cv.notify_all();
}

void HdWallet::Lock()
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_crypt) {
            throw WalletError(rpc::RPC_WALLET_WRONG_ENC_STATE,
                              "Error: running with an unencrypted wallet, but walletlock was called.");
        }
        m_master_key.reset();
        m_unlocked_until = 0;
    }
    m_relock_cv.notify_all();
}

void HdWallet::RelockThread()
{
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        if (!m_master_key) {
            m_relock_cv.wait(lock);
        } else if (std::chrono::steady_clock::now() >= m_relock_at) {
            m_master_key.reset();
            m_unlocked_until = 0;
            LogDebug(LogCategory::WALLET, "Wallet \"{}\" locked again: its unlock time is over", m_name);
        } else {
            m_relock_cv.wait_until(lock, m_relock_at);
        }
    }
}

void HdWallet::ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase)
{
    std::optional<CryptRecord> crypt;
    {
        std::lock_guard lock(m_mutex);
        crypt = m_crypt;
    }
    if (!crypt) {
        throw WalletError(rpc::RPC_WALLET_WRONG_ENC_STATE,
                          "Error: running with an unencrypted wallet, but walletpassphrasechange was called.");
    }
    std::unique_ptr<SecretKey> master_key = UnwrapMasterKey(crypt->wrapped_key, old_passphrase, ParamsOf(*crypt));
    if (!master_key) throw WalletError(rpc::RPC_WALLET_PASSPHRASE_INCORRECT, std::string(WRONG_PASSPHRASE_MESSAGE));
    // Fresh salt and today's parameters: a wallet made with weaker ones is strengthened here.
    const KdfParams params = NewKdfParams();
    CryptRecord next = MakeCrypt(params, WrapMasterKey(*master_key, new_passphrase, params));
    std::lock_guard lock(m_mutex);
    if (!m_crypt || m_crypt->wrapped_key != crypt->wrapped_key) {
        throw WalletError(rpc::RPC_WALLET_ERROR, "Error: the passphrase was changed by another call at the same time.");
    }
    next.crypted_seed = m_crypt->crypted_seed;
    InBatch(*m_database, [&] { m_database->WriteCrypt(next); });
    m_crypt = std::move(next);
    m_database->Compact(); // no copy of the old wrapped key stays in the log
}

std::vector<uint8_t> HdWallet::SignMessage(std::span<const uint8_t> script, std::string_view message)
{
    std::lock_guard lock(m_mutex);
    std::vector<std::string> privates = PrivateDescriptorsLocked();
    const WipeOnExit wipe{privates};
    const std::optional<std::array<uint8_t, 20>> key_hash = P2pkhKeyHash(script);
    auto found = m_scripts.find(std::vector<uint8_t>(script.begin(), script.end()));
    if (key_hash && found != m_scripts.end()) {
        for (size_t i = 0; i < m_descriptors.size(); ++i) {
            const DescriptorRecord& desc = m_descriptors[i];
            if (desc.id != found->second.descriptor_id || privates[i].empty()) continue;
            ParsedDescriptor parsed = ParseDescriptor(
                privates[i], m_network, false,
                desc.ranged ? std::optional<uint32_t>(static_cast<uint32_t>(found->second.index)) : std::nullopt);
            for (const auto& key : parsed.keys) {
                const auto id = key.secret.IsValid() ? key.secret.GetPubKey().GetId() : crypto::Hash20{};
                if (!key.secret.IsValid() || !std::equal(id.begin(), id.end(), key_hash->begin())) continue;
                std::optional<CompactSignature> signature = SignCompact(key.secret, MessageHash(message));
                if (!signature) break;
                return {signature->begin(), signature->end()};
            }
        }
    }
    throw WalletError(rpc::RPC_WALLET_ERROR, "Private key not available");
}

// ---- backups

void HdWallet::Backup(const std::filesystem::path& destination)
{
    std::lock_guard lock(m_mutex);
    m_database->CopyTo(destination);
}

// ---- rescans

bool HdWallet::BeginScan(int64_t start, int64_t stop)
{
    bool expected = false;
    if (!m_scanning.compare_exchange_strong(expected, true)) return false;
    m_abort_scan = false;
    m_scan_start_time = GetTime();
    m_scan_start = start;
    m_scan_stop = stop;
    m_scan_height = start;
    return true;
}

void HdWallet::ScanProgress(int64_t height)
{
    m_scan_height = height;
}

void HdWallet::EndScan()
{
    m_scanning = false;
}

bool HdWallet::AbortScan()
{
    if (!m_scanning.load()) return false;
    m_abort_scan = true;
    return true;
}

} // namespace orrery::wallet
