// One wallet's SQLite file: its record (name, creation time, master
// fingerprint), its BIP32 seed, the next receive index of each address type and
// the addresses handed out with their labels. The file is created 0600 in a
// 0700 folder, opened in exclusive locking mode (no second process can use it)
// with synchronous=FULL, and every index is committed before the address made
// from it leaves this class, so a crash never hands out an address twice.
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
inline constexpr int64_t DATABASE_FORMAT_VERSION{1};

struct WalletRecord {
    std::string name;
    int64_t created{0};             //!< UNIX time
    std::string master_fingerprint; //!< hex
    int64_t format_version{DATABASE_FORMAT_VERSION};
};

//! Not thread-safe: the owner serializes calls.
class WalletDatabase
{
public:
    //! Creates `path` (which must not exist) with mode 0600 and writes the
    //! record and the seed in one transaction. Throws DatabaseError.
    static std::unique_ptr<WalletDatabase> Create(const std::filesystem::path& path, const WalletRecord& record,
                                                  std::span<const uint8_t> seed);
    //! Opens an existing file and takes its exclusive lock. Throws DatabaseError
    //! when it is not an Orrery wallet, is newer than this code, or is in use.
    static std::unique_ptr<WalletDatabase> Open(const std::filesystem::path& path);

    ~WalletDatabase();
    WalletDatabase(const WalletDatabase&) = delete;
    WalletDatabase& operator=(const WalletDatabase&) = delete;

    const WalletRecord& Record() const { return m_record; }
    //! Reads the BIP32 seed into `seed`, a buffer that wipes itself.
    void ReadSeed(SecureBytes& seed);

    //! Hands out the next address of `address_type`: takes the stored next
    //! index, asks `make_address` for its address (nullopt: BIP32 says skip
    //! this index), stores the address with `label` and the following index,
    //! and commits before returning. Throws DatabaseError.
    std::string ReserveAddress(std::string_view address_type, std::string_view label,
                               const std::function<std::optional<std::string>(uint32_t)>& make_address);
    //! The index the next ReserveAddress of `address_type` will use.
    uint32_t NextIndex(std::string_view address_type);
    //! Receive addresses handed out, all types together.
    int64_t CountAddresses();
    //! The label stored with an address handed out, nullopt for an unknown address.
    std::optional<std::string> LabelOf(std::string_view address);

private:
    WalletDatabase(sqlite3* db, std::filesystem::path path) : m_db(db), m_path(std::move(path)) {}
    void Execute(const char* sql);
    void ReadRecord();

    sqlite3* m_db;
    std::filesystem::path m_path;
    WalletRecord m_record;
};

} // namespace orrery::wallet

#endif // ORRERY_SERVICES_WALLET_DATABASE_H
