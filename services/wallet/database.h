// One wallet's SQLite file: its record (name, creation time, master
// fingerprint, flags), its BIP32 seed, its descriptors and the scripts derived
// from them, labels, transactions with their outputs and spends, locked coins
// and the last block processed. The file is created 0600 in a 0700 folder,
// opened in exclusive locking mode (no second process can use it) in WAL mode
// with synchronous=FULL; callers group writes in batches (Begin/Commit) so that
// a block, or an address and its next index, reach the disk together.
#ifndef ORRERY_SERVICES_WALLET_DATABASE_H
#define ORRERY_SERVICES_WALLET_DATABASE_H

#include <common/keys/cleanse.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;

namespace orrery::wallet {

//! What went wrong with a wallet file; the message is meant for the user.
class DatabaseError : public std::runtime_error
{
public:
    enum Kind {
        OTHER,
        BAD_FORMAT, //!< not an Orrery wallet file (bitcoind answers these with RPC_WALLET_NOT_FOUND)
    };
    explicit DatabaseError(const std::string& message, Kind kind = OTHER) : std::runtime_error(message), m_kind(kind) {}
    Kind kind() const { return m_kind; }

private:
    Kind m_kind;
};

//! The file inside a wallet's folder.
inline constexpr std::string_view DATABASE_FILE_NAME{"wallet.sqlite"};
//! Written in the file's header (PRAGMA application_id), so a foreign SQLite file is refused.
inline constexpr int32_t DATABASE_APPLICATION_ID{0x4f52574c}; // "ORWL"
//! 1: the first skeleton (seed, next_index, address); 2: descriptor wallets; 3: encryption (table crypt, column
//! descriptor.crypted_private). Older files are migrated when opened.
inline constexpr int64_t DATABASE_FORMAT_VERSION{3};

//! bitcoind's wallet flags kept in the record (WALLET_FLAG_*).
inline constexpr int64_t WALLET_FLAG_AVOID_REUSE{1 << 0};
inline constexpr int64_t WALLET_FLAG_BLANK_WALLET{1 << 3};
inline constexpr int64_t WALLET_FLAG_DESCRIPTORS{1 << 5};
inline constexpr int64_t WALLET_FLAG_DISABLE_PRIVATE_KEYS{1 << 1};

struct WalletRecord {
    std::string name;
    int64_t created{0};             //!< UNIX time
    std::string master_fingerprint; //!< hex; empty for a wallet without a seed
    int64_t format_version{DATABASE_FORMAT_VERSION};
    int64_t flags{WALLET_FLAG_DESCRIPTORS};
};

//! A block by hash (hex, as bitcoind prints it) and height.
struct BlockRef {
    std::string hash;
    int64_t height{0};
    bool operator==(const BlockRef&) const = default;
};

//! One descriptor of the wallet (bitcoind's WalletDescriptor).
struct DescriptorRecord {
    int64_t id{0};                  //!< the row; 0 before it is written
    std::string descriptor;         //!< public form with its checksum
    std::string private_descriptor; //!< with private keys and checksum; empty when watch-only or encrypted
    //! An encrypted wallet's private descriptor, sealed with the master key (crypter.h); empty otherwise.
    std::vector<uint8_t> crypted_private;
    int64_t range_start{0};
    int64_t range_end{-1};   //!< last index whose scripts are stored (the keypool's end); -1 when not ranged
    int64_t next_index{0};   //!< the next index getnewaddress hands out
    int64_t timestamp{0};    //!< creation time of its keys (UNIX): a rescan for it starts there
    std::string output_type; //!< the getnewaddress type it serves when active ("bech32"...), or ""
    bool internal{false};
    bool active{false};
    bool ranged{false};
};

//! An encrypted wallet's key material (one row): how the passphrase becomes the key that wraps the master key, the
//! wrapped master key, and the sealed seed.
struct CryptRecord {
    std::string kdf;
    int64_t opslimit{0};
    int64_t memlimit{0};
    std::vector<uint8_t> salt;
    std::vector<uint8_t> wrapped_key;
    std::vector<uint8_t> crypted_seed; //!< empty when the wallet has no seed
};

//! A script of the wallet: which descriptor and index it came from.
struct ScriptRecord {
    std::vector<uint8_t> script;
    int64_t descriptor_id{0};
    int64_t index{0};
};

//! The state of a wallet transaction, as bitcoind's TxState.
enum class TxStateKind : int64_t {
    CONFIRMED = 0, //!< in block_hash at block_height, position block_pos
    IN_MEMPOOL = 1,
    INACTIVE = 2,   //!< neither confirmed nor in the mempool (abandoned when `abandoned`)
    CONFLICTED = 3, //!< a transaction of block_hash at block_height spends one of its inputs
};

struct TxRecord {
    std::string txid; //!< hex
    std::vector<uint8_t> raw;
    int64_t time_received{0};
    TxStateKind state{TxStateKind::INACTIVE};
    bool abandoned{false};
    std::string block_hash; //!< CONFIRMED: its block; CONFLICTED: the conflicting block
    int64_t block_height{-1};
    int64_t block_pos{-1};
    int64_t block_time{0};
};

//! One output of a wallet transaction that pays the wallet.
struct OutputRecord {
    uint32_t vout{0};
    int64_t amount{0};
    std::vector<uint8_t> script;
};

//! Not thread-safe: the owner serializes calls.
class WalletDatabase
{
public:
    //! Creates `path` (which must not exist) with mode 0600 and writes the record and the seed (none for a wallet
    //! without private keys) in one transaction. Throws DatabaseError.
    static std::unique_ptr<WalletDatabase> Create(const std::filesystem::path& path, const WalletRecord& record,
                                                  std::span<const uint8_t> seed);
    //! Opens an existing file and takes its exclusive lock; a format 1 file is brought to format 2 (MigratedFromV1
    //! says so). Throws DatabaseError when it is not an Orrery wallet, is newer than this code, or is in use.
    static std::unique_ptr<WalletDatabase> Open(const std::filesystem::path& path);

    ~WalletDatabase();
    WalletDatabase(const WalletDatabase&) = delete;
    WalletDatabase& operator=(const WalletDatabase&) = delete;

    const WalletRecord& Record() const { return m_record; }
    //! True when this open converted a format 1 file: its seed has no descriptors yet.
    bool MigratedFromV1() const { return m_migrated; }
    //! Reads the BIP32 seed into `seed`, a buffer that wipes itself; false when the wallet has none.
    bool ReadSeed(SecureBytes& seed);
    void WriteFlags(int64_t flags);
    //! Stores the seed in the clear (a new unencrypted wallet).
    void WriteSeed(std::span<const uint8_t> seed);
    //! Removes the clear seed (encryption moved it into the crypt row).
    void DeleteSeed();
    //! The crypt row of an encrypted wallet, nullopt for an unencrypted one.
    std::optional<CryptRecord> ReadCrypt();
    void WriteCrypt(const CryptRecord& record);
    //! Rewrites the file without free pages and empties the write-ahead log, so that no old page (a key in the clear
    //! before encryption) stays on disk. Not inside a batch.
    void Compact();
    //! A consistent copy of the whole database at `destination` (VACUUM INTO), which must not exist or be empty.
    //! Not inside a batch. Throws DatabaseError.
    void CopyTo(const std::filesystem::path& destination);

    //! A write batch: everything between Begin and Commit reaches the disk at once or not at all
    //! (synchronous=FULL, WAL). Rollback undoes it. Batches do not nest.
    void Begin();
    void Commit();
    void Rollback();

    std::vector<DescriptorRecord> ReadDescriptors();
    //! Inserts (id 0) or updates the row; returns its id.
    int64_t WriteDescriptor(const DescriptorRecord& record);
    //! Clears `active` of every other descriptor of (output_type, internal).
    void DeactivateDescriptors(const std::string& output_type, bool internal, int64_t keep_id);
    std::vector<ScriptRecord> ReadScripts();
    void WriteScript(const ScriptRecord& record);

    std::vector<std::pair<std::string, std::string>> ReadLabels(); //!< (address, label)
    void WriteLabel(std::string_view address, std::string_view label);

    std::vector<TxRecord> ReadTransactions();
    //! The transaction with its outputs that pay the wallet and the outpoints it spends (txid hex, vout).
    void WriteTransaction(const TxRecord& record, const std::vector<OutputRecord>& outputs,
                          const std::vector<std::pair<std::string, uint32_t>>& spends);

    std::vector<std::pair<std::string, uint32_t>> ReadLockedCoins();
    void WriteLockedCoin(const std::string& txid, uint32_t vout, bool locked);

    std::optional<BlockRef> ReadLastBlock();
    void WriteLastBlock(const std::optional<BlockRef>& block);

    //! Format 1's next receive index per address type ("bech32"...), for the migration.
    std::vector<std::pair<std::string, int64_t>> ReadV1NextIndexes();
    //! Format 1's addresses with labels, for the migration.
    std::vector<std::pair<std::string, std::string>> ReadV1Labels();

private:
    WalletDatabase(sqlite3* db, std::filesystem::path path) : m_db(db), m_path(std::move(path)) {}
    void Execute(const char* sql);
    void ReadRecord();

    sqlite3* m_db;
    std::filesystem::path m_path;
    WalletRecord m_record;
    bool m_migrated{false};
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_DATABASE_H
