// A wallet's SQLite file; see database.h.
#include <services/wallet/database.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace orrery::wallet {
namespace {

// ---- SQL

constexpr const char* SCHEMA = R"sql(
CREATE TABLE wallet (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    master_fingerprint TEXT NOT NULL,
    format_version INTEGER NOT NULL
);
CREATE TABLE seed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed BLOB NOT NULL
);
CREATE TABLE next_index (
    address_type TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
CREATE TABLE address (
    address TEXT PRIMARY KEY,
    address_type TEXT NOT NULL,
    idx INTEGER NOT NULL,
    label TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (address_type, idx)
);
)sql";

//! A prepared statement that finalizes itself; errors become DatabaseError.
class Statement
{
public:
    Statement(sqlite3* db, const char* sql) : m_db(db)
    {
        if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
            throw DatabaseError(fmt::format("SQLite error preparing a statement: {}", sqlite3_errmsg(db)));
        }
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    void Bind(int index, std::string_view text)
    {
        Check(sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    }
    void Bind(int index, int64_t value) { Check(sqlite3_bind_int64(m_stmt, index, value)); }
    void BindBlob(int index, std::span<const uint8_t> bytes)
    {
        Check(sqlite3_bind_blob(m_stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
    }
    //! True when a row is ready, false when done.
    bool Step()
    {
        int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw DatabaseError(fmt::format("SQLite error: {}", sqlite3_errmsg(m_db)));
    }
    int64_t Int(int column) { return sqlite3_column_int64(m_stmt, column); }
    std::string Text(int column)
    {
        const auto* text = sqlite3_column_text(m_stmt, column);
        return text ? std::string(reinterpret_cast<const char*>(text),
                                  static_cast<size_t>(sqlite3_column_bytes(m_stmt, column)))
                    : std::string();
    }
    std::span<const uint8_t> Blob(int column)
    {
        const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(m_stmt, column));
        return {data, static_cast<size_t>(sqlite3_column_bytes(m_stmt, column))};
    }

private:
    void Check(int rc)
    {
        if (rc != SQLITE_OK) throw DatabaseError(fmt::format("SQLite error binding a value: {}", sqlite3_errmsg(m_db)));
    }
    sqlite3* m_db;
    sqlite3_stmt* m_stmt{nullptr};
};

sqlite3* OpenHandle(const std::filesystem::path& path)
{
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        throw DatabaseError(fmt::format("Failed to open database path '{}': {}", path.string(), message));
    }
    return db;
}

} // namespace

// ---- opening and creating

void WalletDatabase::Execute(const char* sql)
{
    char* error = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : sqlite3_errmsg(m_db);
        sqlite3_free(error);
        throw DatabaseError(fmt::format("SQLite error in '{}': {}", m_path.string(), message));
    }
}

std::unique_ptr<WalletDatabase> WalletDatabase::Create(const std::filesystem::path& path, const WalletRecord& record,
                                                       std::span<const uint8_t> seed)
{
    // The file is made here with its final mode, so SQLite (which gives its
    // journal the database's mode) never creates anything more open.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw DatabaseError(
            fmt::format("Failed to create database path '{}': {}", path.string(), std::strerror(errno)));
    }
    bool moded = ::fchmod(fd, 0600) == 0;
    ::close(fd);
    std::unique_ptr<WalletDatabase> database;
    try {
        if (!moded) throw DatabaseError(fmt::format("cannot set mode 0600 on '{}'", path.string()));
        database.reset(new WalletDatabase(OpenHandle(path), path));
        database->Execute("PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;");
        database->Execute("BEGIN EXCLUSIVE");
        database->Execute(SCHEMA);
        database->Execute(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {};", DATABASE_APPLICATION_ID,
                                      DATABASE_FORMAT_VERSION)
                              .c_str());
        Statement insert(database->m_db, "INSERT INTO wallet (id, name, created, master_fingerprint, format_version) "
                                         "VALUES (1, ?, ?, ?, ?)");
        insert.Bind(1, record.name);
        insert.Bind(2, record.created);
        insert.Bind(3, record.master_fingerprint);
        insert.Bind(4, record.format_version);
        insert.Step();
        Statement insert_seed(database->m_db, "INSERT INTO seed (id, seed) VALUES (1, ?)");
        insert_seed.BindBlob(1, seed);
        insert_seed.Step();
        database->Execute("COMMIT");
        database->m_record = record;
    } catch (...) {
        database.reset();
        std::filesystem::remove(path);
        throw;
    }
    return database;
}

std::unique_ptr<WalletDatabase> WalletDatabase::Open(const std::filesystem::path& path)
{
    std::unique_ptr<WalletDatabase> database(new WalletDatabase(OpenHandle(path), path));
    // Taking the write lock once keeps it for as long as the file is open
    // (exclusive locking mode): another process cannot hand out our addresses.
    if (sqlite3_exec(database->m_db,
                     "PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = FULL; "
                     "BEGIN EXCLUSIVE; COMMIT;",
                     nullptr, nullptr, nullptr) != SQLITE_OK) {
        int rc = sqlite3_errcode(database->m_db);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            throw DatabaseError("Unable to obtain an exclusive lock on the database, is it being used by another "
                                "instance of Orrery?");
        }
        if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
            throw DatabaseError(
                fmt::format("Failed to load database path '{}'. Data is not in recognized format.", path.string()),
                DatabaseError::BAD_FORMAT);
        }
        throw DatabaseError(
            fmt::format("Failed to open database path '{}': {}", path.string(), sqlite3_errmsg(database->m_db)));
    }
    int64_t application_id = 0, version = 0;
    try {
        Statement id(database->m_db, "PRAGMA application_id");
        if (id.Step()) application_id = id.Int(0);
        Statement user_version(database->m_db, "PRAGMA user_version");
        if (user_version.Step()) version = user_version.Int(0);
    } catch (const DatabaseError&) {
        application_id = 0;
    }
    if (application_id != DATABASE_APPLICATION_ID) {
        throw DatabaseError(
            fmt::format("Failed to load database path '{}'. Data is not in recognized format.", path.string()),
            DatabaseError::BAD_FORMAT);
    }
    if (version > DATABASE_FORMAT_VERSION) {
        throw DatabaseError(fmt::format("Wallet file '{}' has format version {}; this orrery-wallet reads up to {}.",
                                        path.string(), version, DATABASE_FORMAT_VERSION));
    }
    database->Execute("PRAGMA journal_mode = DELETE;");
    database->ReadRecord();
    return database;
}

WalletDatabase::~WalletDatabase()
{
    sqlite3_close(m_db);
}

void WalletDatabase::ReadRecord()
{
    Statement select(m_db, "SELECT name, created, master_fingerprint, format_version FROM wallet WHERE id = 1");
    if (!select.Step()) throw DatabaseError(fmt::format("Wallet file '{}' has no wallet record", m_path.string()));
    m_record.name = select.Text(0);
    m_record.created = select.Int(1);
    m_record.master_fingerprint = select.Text(2);
    m_record.format_version = select.Int(3);
}

// ---- reading and handing out

void WalletDatabase::ReadSeed(SecureBytes& seed)
{
    Statement select(m_db, "SELECT seed FROM seed WHERE id = 1");
    if (!select.Step()) throw DatabaseError(fmt::format("Wallet file '{}' has no seed", m_path.string()));
    std::span<const uint8_t> blob = select.Blob(0);
    MemoryCleanse(seed.get().data(), seed.get().size());
    seed.get().clear();
    seed.get().reserve(blob.size()); // no reallocation leaves a copy behind
    seed.get().assign(blob.begin(), blob.end());
}

std::string WalletDatabase::ReserveAddress(std::string_view address_type, std::string_view label,
                                           const std::function<std::optional<std::string>(uint32_t)>& make_address)
{
    Execute("BEGIN IMMEDIATE");
    try {
        int64_t index = NextIndex(address_type);
        std::optional<std::string> address;
        while (true) {
            if (index >= (int64_t{1} << 31)) {
                throw DatabaseError(fmt::format("Every {} receive index of this wallet has been used", address_type));
            }
            address = make_address(static_cast<uint32_t>(index));
            if (address) break;
            ++index; // BIP32: an invalid child is skipped, never retried
        }
        Statement insert(m_db,
                         "INSERT INTO address (address, address_type, idx, label, created) VALUES (?, ?, ?, ?, ?)");
        insert.Bind(1, *address);
        insert.Bind(2, address_type);
        insert.Bind(3, index);
        insert.Bind(4, label);
        insert.Bind(5, static_cast<int64_t>(std::time(nullptr)));
        insert.Step();
        Statement update(m_db, "INSERT INTO next_index (address_type, next) VALUES (?, ?) "
                               "ON CONFLICT (address_type) DO UPDATE SET next = excluded.next");
        update.Bind(1, address_type);
        update.Bind(2, index + 1);
        update.Step();
        Execute("COMMIT"); // synchronous=FULL: on disk before the address is returned
        return *address;
    } catch (...) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

uint32_t WalletDatabase::NextIndex(std::string_view address_type)
{
    Statement select(m_db, "SELECT next FROM next_index WHERE address_type = ?");
    select.Bind(1, address_type);
    return select.Step() ? static_cast<uint32_t>(select.Int(0)) : 0;
}

int64_t WalletDatabase::CountAddresses()
{
    Statement select(m_db, "SELECT COUNT(*) FROM address");
    return select.Step() ? select.Int(0) : 0;
}

std::optional<std::string> WalletDatabase::LabelOf(std::string_view address)
{
    Statement select(m_db, "SELECT label FROM address WHERE address = ?");
    select.Bind(1, address);
    if (!select.Step()) return std::nullopt;
    return select.Text(0);
}

} // namespace orrery::wallet
