// One loaded descriptor wallet: its database, its descriptors and the scripts
// derived from them (the keypool), and its transactions as it learnt them from
// the chain. The whole wallet lives in memory (as bitcoind's mapWallet) and
// every change is written to its SQLite file in the same step: a block's effect
// and the new last processed block reach the disk in one transaction, so after
// a crash the wallet resumes from exactly the block it had finished.
// Private keys stay in the private descriptors on disk, sealed with the master key once the wallet is encrypted
// (crypter.h); only PrivateDescriptorsLocked reads them, and only the passphrase-guarded calls return them.
#ifndef ORRERY_SERVICES_WALLET_HD_WALLET_H
#define ORRERY_SERVICES_WALLET_HD_WALLET_H

#include <common/consensus/block.h>
#include <common/consensus/transaction.h>
#include <common/consensus/uint256.h>
#include <common/keys/network.h>
#include <common/keys/signer.h>
#include <services/wallet/crypter.h>
#include <services/wallet/database.h>
#include <services/wallet/derivation.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace orrery::wallet {

//! bitcoind's message for a call that needs the private keys of a locked wallet (RPC_WALLET_UNLOCK_NEEDED).
inline constexpr std::string_view UNLOCK_NEEDED_MESSAGE{
    "Error: Please enter the wallet passphrase with walletpassphrase first."};
//! bitcoind's message for a wrong passphrase (RPC_WALLET_PASSPHRASE_INCORRECT).
inline constexpr std::string_view WRONG_PASSPHRASE_MESSAGE{"Error: The wallet passphrase entered was incorrect."};

//! Bytes of a new wallet's BIP32 seed.
inline constexpr size_t SEED_SIZE{32};
//! bitcoind's -keypool default: scripts derived ahead of the next index of each ranged descriptor.
inline constexpr int64_t DEFAULT_KEYPOOL_SIZE{1000};
//! A coinbase output may be spent once its transaction has this many confirmations plus one (Core's wallet).
inline constexpr int64_t COINBASE_MATURITY{100};

//! Fills `out` from the kernel's random source (getrandom). Throws on failure.
void GetStrongRandBytes(std::span<uint8_t> out);

//! How a new wallet starts (createwallet's options).
struct WalletOptions {
    bool disable_private_keys{false};
    bool blank{false}; //!< no descriptors (and no seed) until importdescriptors
    bool avoid_reuse{false};
    int64_t keypool_size{DEFAULT_KEYPOOL_SIZE};
    //! Not empty: the wallet is encrypted with it from the start (its keys never reach the disk in the clear), and
    //! starts locked.
    std::string passphrase;
    //! The keys' birth (UNIX time) when they are older than the wallet (a restored mnemonic: 0, the whole chain).
    std::optional<int64_t> birth_time;
};

//! What getwalletinfo shows of one wallet (services/wallet/rpc/ gives it bitcoind's field names).
struct WalletInfo {
    std::string name;
    int64_t format_version{1};
    int64_t tx_count{0};
    int64_t keypool_size{0};          //!< unused external scripts of the active descriptors
    int64_t keypool_size_internal{0}; //!< unused internal (change) scripts
    std::string master_fingerprint;   //!< hex, public; empty without a seed
    int64_t flags{0};
    int64_t birth_time{0};
    //! bitcoind's lastprocessedblock; unset until the wallet has processed a block.
    std::optional<BlockRef> last_processed_block;
    bool scanning{false};
    int64_t scan_duration{0}; //!< seconds
    double scan_progress{0};
    bool encrypted{false};
    int64_t unlocked_until{0}; //!< UNIX time the keys lock again; 0 while locked
};

//! A wallet transaction in memory.
struct WalletTx {
    Transaction tx;
    uint256 txid;
    TxRecord record;  //!< its row (raw bytes and state)
    int64_t order{0}; //!< insertion order, for listtransactions
};

//! The script a wallet knows: its descriptor and index.
struct ScriptOrigin {
    int64_t descriptor_id{0};
    int64_t index{0};
};

//! What getaddressinfo tells of a script of the wallet.
struct AddressDetails {
    bool is_mine{false};
    bool is_change{false};
    bool solvable{false};
    std::string descriptor; //!< the script's own descriptor with key origins, with checksum
    std::string parent_descriptor;
    std::string hd_key_path;
    std::string hd_master_fingerprint;
    std::string pubkey; //!< hex; empty when not a single-key script
    int64_t timestamp{0};
    std::optional<std::string> label;
};

//! An unspent output of the wallet (listunspent).
struct WalletCoin {
    OutPoint outpoint;
    TxOut output;
    int64_t depth{0};
    bool safe{true};
    bool coinbase{false};
    ScriptOrigin origin;
    bool reused{false}; //!< avoid_reuse: its address was spent from before
};

//! The balances of getbalances.
struct Balances {
    Amount trusted{0};
    Amount untrusted_pending{0};
    Amount immature{0};
    Amount used{0}; //!< avoid_reuse wallets: coins on addresses already spent from
};

//! Thread-safe: every public method takes the wallet's own lock.
class HdWallet
{
public:
    //! Creates the database at `file` (its folder must exist) with a new random seed (or `seed`, 16..64 bytes) and
    //! bitcoind's default descriptors, unless `options` ask for a blank wallet or one without private keys.
    //! `tip`: the chain's tip when the wallet is made (its first processed block: a new wallet needs no scan).
    //! Throws DatabaseError.
    static std::unique_ptr<HdWallet> Create(const std::filesystem::path& file, std::string name, Network network,
                                            std::optional<std::span<const uint8_t>> seed = std::nullopt,
                                            const WalletOptions& options = {},
                                            std::optional<BlockRef> tip = std::nullopt);
    //! Opens an existing database (migrating a format 1 file). Throws DatabaseError.
    static std::unique_ptr<HdWallet> Load(const std::filesystem::path& file, std::string name, Network network,
                                          int64_t keypool_size = DEFAULT_KEYPOOL_SIZE);
    ~HdWallet();
    HdWallet(const HdWallet&) = delete;
    HdWallet& operator=(const HdWallet&) = delete;

    const std::string& Name() const { return m_name; }
    Network GetNetwork() const { return m_network; }

    // ---- addresses and descriptors

    //! A receive (or, `internal`, change) address never handed out before, recorded (with `label` for a receive
    //! address) on disk before it is returned. nullopt when the wallet has no active descriptor of that kind.
    std::optional<std::string> GetNewAddress(OutputType type, std::string_view label, bool internal = false);
    //! Derives scripts up to next index + `keypool_size` for every ranged descriptor (keypoolrefill).
    void TopUp(std::optional<int64_t> keypool_size = std::nullopt);
    //! Imports or updates a descriptor (importdescriptors); `label` goes to its address when not ranged.
    //! Throws DescriptorError / std::runtime_error with bitcoind's messages.
    void ImportDescriptor(DescriptorRecord record, const std::string& label);
    //! The descriptors without their private parts, or (`with_private`) with them in the clear in private_descriptor
    //! (listdescriptors true): then WalletError -13 when the wallet is encrypted and locked.
    std::vector<DescriptorRecord> GetDescriptors(bool with_private = false);
    void SetLabel(std::string_view address, std::string_view label);
    //! Labels in use, sorted.
    std::vector<std::string> ListLabels();
    std::optional<std::string> GetLabel(std::string_view address);
    std::map<std::string, std::string> GetLabels();
    //! nullopt when `script` is not the wallet's.
    std::optional<ScriptOrigin> FindScript(std::span<const uint8_t> script);
    AddressDetails DescribeScript(std::span<const uint8_t> script);

    // ---- following the chain (services/wallet/sync/)

    std::optional<BlockRef> LastBlock();
    //! Applies a block that joins the active chain on top of LastBlock(); false (nothing done) when its parent is not
    //! LastBlock() or the wallet has none: the caller then catches up with the node (sync/chain_sync.h).
    bool BlockConnected(const Block& block, const BlockRef& ref, const std::string& prev_hash, int64_t time);
    //! Undoes LastBlock() (its parent becomes LastBlock()); false (nothing done) when `ref` is not LastBlock().
    bool BlockDisconnected(const Block& block, const BlockRef& ref, const std::string& prev_hash);
    //! Records the confirmed transactions of a block of the active chain without moving LastBlock() (rescans).
    void ScanBlock(const Block& block, const BlockRef& ref, int64_t time);
    //! Sets LastBlock() without a block (a new wallet: the tip when it was made).
    void SetLastBlock(const BlockRef& ref);
    //! The blocks (hash, height) the wallet's confirmed and conflicted transactions refer to.
    std::set<std::pair<std::string, int64_t>> ReferencedBlocks();
    //! For a last block the node does not know (it lost blocks in a crash): every transaction confirmed in, or
    //! conflicted by, a block of `gone` goes back to inactive (a coinbase is abandoned), and `fork` becomes the last
    //! block, in one database transaction.
    void Rewind(const BlockRef& fork, const std::set<std::pair<std::string, int64_t>>& gone);
    void TransactionAddedToMempool(const Transaction& tx);
    void TransactionRemovedFromMempool(const Transaction& tx);
    //! bitcoind's abandontransaction; throws WalletError with its codes and messages.
    void AbandonTransaction(const uint256& txid);

    // ---- what the RPC methods read

    WalletInfo GetInfo();
    Balances GetBalances(int64_t min_depth = 0, bool avoid_reuse = true);
    //! Unspent coins with depth in [min_depth, max_depth]; unsafe ones only with `include_unsafe`; locked ones
    //! are left out.
    std::vector<WalletCoin> ListCoins(int64_t min_depth, int64_t max_depth, bool include_unsafe);
    //! A copy of every wallet transaction, in the order the wallet learnt them.
    std::vector<WalletTx> Transactions();
    std::optional<WalletTx> GetTransaction(const uint256& txid);
    //! Depth of a transaction in the chain as the wallet processed it (negative: conflicted, 0: unconfirmed).
    int64_t Depth(const WalletTx& wtx);
    //! Sum of the wallet's outputs spent by `tx` (bitcoind's debit).
    Amount Debit(const Transaction& tx);
    bool IsMine(const TxOut& out);
    bool IsTrusted(const WalletTx& wtx);
    bool IsSpent(const OutPoint& outpoint);
    //! Wallet transactions that conflict with `txid` (spend one of its inputs).
    std::vector<uint256> Conflicts(const uint256& txid);

    //! lockunspent: `persistent` locks are kept in the database, the others until the wallet unloads.
    void LockCoin(const OutPoint& outpoint, bool persistent);
    void UnlockCoin(const OutPoint& outpoint);
    void UnlockAll();
    bool IsLocked(const OutPoint& outpoint);
    std::vector<OutPoint> LockedCoins();

    // ---- spending (services/wallet/spend.h)

    //! Held by a send from choosing its coins until its transaction is committed, so that two concurrent sends
    //! never choose the same coin. Take it before the wallet's other calls, never while one runs.
    std::unique_lock<std::mutex> LockForSpending() { return std::unique_lock(m_spend_mutex); }
    //! The output `outpoint` names, when a wallet transaction holds it (mine or not).
    std::optional<TxOut> FindOutput(const OutPoint& outpoint);
    //! Whether the wallet made the transaction `txid` (it spends coins of the wallet).
    bool IsFromMe(const uint256& txid);
    //! True when the wallet holds private keys for some descriptor.
    bool HasPrivateKeys();
    //! Signs the inputs of `tx` whose spent output (`spent[i]`) is a script of the wallet, with the private keys of
    //! its descriptors, in place. Throws WalletError -13 when the keys are locked away (encryption).
    SignResult SignTransaction(Transaction& tx, const std::vector<std::optional<TxOut>>& spent,
                               const SignOptions& options);
    //! Records a transaction the wallet made (unconfirmed, not abandoned) on disk: from here its inputs count as
    //! spent, also after a crash, whether or not the node took it.
    void CommitTransaction(const Transaction& tx);
    // ---- encryption (bitcoind's errors as WalletError: -13 locked, -14 wrong passphrase, -15 wrong state, -16)

    bool IsCrypted();
    //! Encrypted and its master key not in memory (or past its relock time).
    bool IsCryptLocked();
    //! encryptwallet: every private descriptor and the seed sealed, the clear ones gone from the file in the same
    //! transaction, then the file compacted so no old page keeps them. The wallet is then locked.
    void EncryptWallet(std::string_view passphrase);
    //! walletpassphrase: the master key stays in memory for `timeout` seconds (a later call replaces the deadline).
    void Unlock(std::string_view passphrase, int64_t timeout);
    //! walletlock: the master key is wiped now.
    void Lock();
    //! walletpassphrasechange: the master key rewrapped under `new_passphrase` with fresh Argon2id parameters; the
    //! lock state does not change.
    void ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase);

    //! signmessage: the compact signature (65 bytes) of `message` with the key of a P2PKH `script` of the wallet.
    //! WalletError -13 when encrypted and locked, RPC_WALLET_ERROR "Private key not available" when the wallet has
    //! no private key for it.
    std::vector<uint8_t> SignMessage(std::span<const uint8_t> script, std::string_view message);

    // ---- backups

    //! A consistent copy of the wallet file at `destination` (which must not exist or be empty). Throws DatabaseError.
    void Backup(const std::filesystem::path& destination);

    // ---- rescans (rescanblockchain, importdescriptors)

    //! Marks the wallet as scanning from `start` to `stop` (getwalletinfo.scanning); false if a scan runs.
    bool BeginScan(int64_t start, int64_t stop);
    void ScanProgress(int64_t height);
    void EndScan();
    //! Asks a running scan to stop; false when none runs (abortrescan).
    bool AbortScan();
    bool ScanAborted() const { return m_abort_scan.load(); }

private:
    HdWallet(std::string name, std::unique_ptr<WalletDatabase> database, Network network, int64_t keypool_size);
    void LoadLocked();
    //! The private descriptor of each of m_descriptors, in its order ("" for a watch-only one), in the clear: the only
    //! way to the wallet's private keys. Decrypted with the master key when the wallet is encrypted; WalletError -13
    //! (UNLOCK_NEEDED_MESSAGE) when it is encrypted and locked. The caller wipes the strings (MemoryCleanse) when done.
    std::vector<std::string> PrivateDescriptorsLocked() const;
    //! The master key is in memory and its relock time has not come.
    bool KeyAvailableLocked() const;
    //! Wipes the master key when its time comes (the relock thread).
    void RelockThread();
    void AddDefaultDescriptorsLocked(const ExtKey& master, int64_t timestamp,
                                     const std::map<std::string, int64_t>& next_indexes);
    int64_t WriteDescriptorLocked(DescriptorRecord record);
    void TopUpLocked(const DescriptorRecord& record, int64_t keypool_size);
    void TopUpAllLocked(int64_t keypool_size);
    //! Scripts of `record` at `index` (all of them for a non-ranged descriptor at index 0).
    std::vector<std::vector<uint8_t>> ExpandLocked(const DescriptorRecord& record, int64_t index);
    //! Records a transaction that is relevant to the wallet (or already known) with `state`; false when ignored.
    bool SyncTransactionLocked(const Transaction& tx, const TxRecord& state, bool update_existing = true);
    void WriteTxLocked(const WalletTx& wtx);
    void MarkUsedLocked(const Transaction& tx);
    void MarkConflictedLocked(const uint256& txid, const std::string& block_hash, int64_t height);
    //! A confirmed `tx` conflicts every other wallet transaction spending one of its inputs.
    void MarkConflictsOfLocked(const Transaction& tx, const uint256& txid, const TxRecord& state);
    //! Applies `change` to `txid` and every wallet transaction that spends its outputs, recursively.
    template <typename Change> void UpdateDescendantsLocked(const uint256& txid, Change change);
    int64_t DepthLocked(const WalletTx& wtx) const;
    bool IsMineLocked(const TxOut& out) const;
    Amount DebitLocked(const Transaction& tx) const;
    bool IsSpentLocked(const OutPoint& outpoint) const;
    bool IsTrustedLocked(const WalletTx& wtx, std::set<uint256>& trusted_parents) const;
    bool IsReusedLocked(const std::vector<uint8_t>& script) const;

    std::mutex m_spend_mutex; //!< see LockForSpending; taken before m_mutex
    std::mutex m_mutex;
    const std::string m_name;
    const Network m_network;
    const int64_t m_keypool_size;
    std::unique_ptr<WalletDatabase> m_database;
    std::vector<DescriptorRecord> m_descriptors; //!< by id order
    std::map<std::vector<uint8_t>, ScriptOrigin> m_scripts;
    std::map<std::string, std::string> m_labels; //!< address → label
    std::map<uint256, WalletTx> m_txs;
    std::multimap<OutPoint, uint256> m_spends;      //!< outpoint → wallet transactions spending it
    std::set<std::vector<uint8_t>> m_spent_scripts; //!< scripts the wallet has spent from (avoid_reuse)
    std::set<OutPoint> m_locked;
    std::optional<BlockRef> m_last_block;
    int64_t m_next_order{0};

    //! Set when the wallet is encrypted: the KDF parameters and the wrapped master key.
    std::optional<CryptRecord> m_crypt;
    std::unique_ptr<SecretKey> m_master_key; //!< while unlocked
    int64_t m_unlocked_until{0};             //!< UNIX time, for getwalletinfo
    std::chrono::steady_clock::time_point m_relock_at;
    std::condition_variable m_relock_cv; //!< with m_mutex: a new deadline or the end
    bool m_stopping{false};
    std::thread m_relock_thread; //!< started at the first unlock

    std::atomic<bool> m_scanning{false};
    std::atomic<bool> m_abort_scan{false};
    std::atomic<int64_t> m_scan_start_time{0};
    std::atomic<int64_t> m_scan_start{0};
    std::atomic<int64_t> m_scan_stop{0};
    std::atomic<int64_t> m_scan_height{0};
};

//! An error whose RPC code the caller picks (abandontransaction, importdescriptors).
class WalletError : public std::runtime_error
{
public:
    WalletError(int code, const std::string& message) : std::runtime_error(message), m_code(code) {}
    int code() const { return m_code; }

private:
    int m_code;
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_HD_WALLET_H
