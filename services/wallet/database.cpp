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

// Format 1's tables; format 2 keeps them (a migrated file still holds its old rows) and adds the rest.
constexpr const char* SCHEMA_V1 = R"sql(
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

constexpr const char* SCHEMA_V2 = R"sql(
ALTER TABLE wallet ADD COLUMN flags INTEGER NOT NULL DEFAULT 32;
CREATE TABLE descriptor (
    id INTEGER PRIMARY KEY,
    descriptor TEXT NOT NULL UNIQUE,
    private_descriptor TEXT NOT NULL,
    range_start INTEGER NOT NULL,
    range_end INTEGER NOT NULL,
    next_index INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    output_type TEXT NOT NULL,
    internal INTEGER NOT NULL,
    active INTEGER NOT NULL,
    ranged INTEGER NOT NULL
);
CREATE TABLE script (
    script BLOB PRIMARY KEY,
    descriptor_id INTEGER NOT NULL REFERENCES descriptor (id),
    idx INTEGER NOT NULL
);
CREATE TABLE label (
    address TEXT PRIMARY KEY,
    label TEXT NOT NULL
);
CREATE TABLE tx (
    txid TEXT PRIMARY KEY,
    raw BLOB NOT NULL,
    time_received INTEGER NOT NULL,
    state INTEGER NOT NULL,
    abandoned INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    block_height INTEGER NOT NULL,
    block_pos INTEGER NOT NULL,
    block_time INTEGER NOT NULL
);
CREATE TABLE output (
    txid TEXT NOT NULL,
    vout INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    script BLOB NOT NULL,
    PRIMARY KEY (txid, vout)
);
CREATE TABLE spend (
    prev_txid TEXT NOT NULL,
    prev_vout INTEGER NOT NULL,
    txid TEXT NOT NULL,
    PRIMARY KEY (prev_txid, prev_vout, txid)
);
CREATE TABLE locked_coin (
    txid TEXT NOT NULL,
    vout INTEGER NOT NULL,
    PRIMARY KEY (txid, vout)
);
CREATE TABLE last_block (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    hash TEXT NOT NULL,
    height INTEGER NOT NULL
);
)sql";

// Format 3: encryption. Secrets that were in the clear are overwritten when deleted (secure_delete).
constexpr const char* SCHEMA_V3 = R"sql(
ALTER TABLE descriptor ADD COLUMN crypted_private BLOB NOT NULL DEFAULT x'';
CREATE TABLE crypt (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kdf TEXT NOT NULL,
    opslimit INTEGER NOT NULL,
    memlimit INTEGER NOT NULL,
    salt BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    crypted_seed BLOB NOT NULL
);
)sql";

//! Set on every connection: deleted rows (a clear key replaced by its ciphertext) are zeroed on disk.
constexpr const char* CONNECTION_PRAGMAS = "PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = FULL; "
                                           "PRAGMA secure_delete = ON;";

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
        // An empty span may have no data pointer, which SQLite would bind as NULL: bind an empty blob instead.
        Check(bytes.empty()
                  ? sqlite3_bind_zeroblob(m_stmt, index, 0)
                  : sqlite3_bind_blob(m_stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
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
        database->Execute(CONNECTION_PRAGMAS);
        database->Execute("PRAGMA journal_mode = WAL;");
        database->Execute("BEGIN EXCLUSIVE");
        database->Execute(SCHEMA_V1);
        database->Execute(SCHEMA_V2);
        database->Execute(SCHEMA_V3);
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
        Statement flags(database->m_db, "UPDATE wallet SET flags = ? WHERE id = 1");
        flags.Bind(1, record.flags);
        flags.Step();
        if (!seed.empty()) database->WriteSeed(seed);
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
    if (sqlite3_exec(database->m_db, fmt::format("{} BEGIN EXCLUSIVE; COMMIT;", CONNECTION_PRAGMAS).c_str(), nullptr,
                     nullptr, nullptr) != SQLITE_OK) {
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
    database->Execute("PRAGMA journal_mode = WAL;");
    if (version < DATABASE_FORMAT_VERSION) {
        // Format 1 → 2: the descriptor tables join the old ones (the wallet then derives its default descriptors from
        // the seed: HdWallet, on MigratedFromV1); 2 → 3: the encryption table and column. One transaction.
        database->Execute("BEGIN EXCLUSIVE");
        try {
            if (version < 2) database->Execute(SCHEMA_V2);
            database->Execute(SCHEMA_V3);
            database->Execute(fmt::format("UPDATE wallet SET format_version = {}; PRAGMA user_version = {};",
                                          DATABASE_FORMAT_VERSION, DATABASE_FORMAT_VERSION)
                                  .c_str());
            database->Execute("COMMIT");
        } catch (...) {
            sqlite3_exec(database->m_db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
        database->m_migrated = version < 2;
    }
    database->ReadRecord();
    return database;
}

WalletDatabase::~WalletDatabase()
{
    sqlite3_close(m_db);
}

void WalletDatabase::ReadRecord()
{
    Statement select(m_db, "SELECT name, created, master_fingerprint, format_version, flags FROM wallet WHERE id = 1");
    if (!select.Step()) throw DatabaseError(fmt::format("Wallet file '{}' has no wallet record", m_path.string()));
    m_record.name = select.Text(0);
    m_record.created = select.Int(1);
    m_record.master_fingerprint = select.Text(2);
    m_record.format_version = select.Int(3);
    m_record.flags = select.Int(4);
}

// ---- record and batches

bool WalletDatabase::ReadSeed(SecureBytes& seed)
{
    Statement select(m_db, "SELECT seed FROM seed WHERE id = 1");
    if (!select.Step()) return false;
    std::span<const uint8_t> blob = select.Blob(0);
    MemoryCleanse(seed.get().data(), seed.get().size());
    seed.get().clear();
    seed.get().reserve(blob.size()); // no reallocation leaves a copy behind
    seed.get().assign(blob.begin(), blob.end());
    return true;
}

void WalletDatabase::WriteFlags(int64_t flags)
{
    Statement update(m_db, "UPDATE wallet SET flags = ? WHERE id = 1");
    update.Bind(1, flags);
    update.Step();
    m_record.flags = flags;
}

void WalletDatabase::WriteSeed(std::span<const uint8_t> seed)
{
    Statement insert(m_db, "INSERT OR REPLACE INTO seed (id, seed) VALUES (1, ?)");
    insert.BindBlob(1, seed);
    insert.Step();
}

void WalletDatabase::DeleteSeed()
{
    Execute("DELETE FROM seed");
}

// ---- encryption

std::optional<CryptRecord> WalletDatabase::ReadCrypt()
{
    Statement select(m_db, "SELECT kdf, opslimit, memlimit, salt, wrapped_key, crypted_seed FROM crypt WHERE id = 1");
    if (!select.Step()) return std::nullopt;
    CryptRecord r;
    r.kdf = select.Text(0);
    r.opslimit = select.Int(1);
    r.memlimit = select.Int(2);
    auto salt = select.Blob(3);
    r.salt.assign(salt.begin(), salt.end());
    auto wrapped = select.Blob(4);
    r.wrapped_key.assign(wrapped.begin(), wrapped.end());
    auto seed = select.Blob(5);
    r.crypted_seed.assign(seed.begin(), seed.end());
    return r;
}

void WalletDatabase::WriteCrypt(const CryptRecord& r)
{
    Statement write(m_db, "INSERT OR REPLACE INTO crypt (id, kdf, opslimit, memlimit, salt, wrapped_key, crypted_seed) "
                          "VALUES (1, ?, ?, ?, ?, ?, ?)");
    write.Bind(1, r.kdf);
    write.Bind(2, r.opslimit);
    write.Bind(3, r.memlimit);
    write.BindBlob(4, r.salt);
    write.BindBlob(5, r.wrapped_key);
    write.BindBlob(6, r.crypted_seed);
    write.Step();
}

void WalletDatabase::Compact()
{
    // The log first (its frames may hold pages from before), then a rebuilt file, then the log VACUUM wrote.
    Execute("PRAGMA wal_checkpoint(TRUNCATE);");
    Execute("VACUUM;");
    Execute("PRAGMA wal_checkpoint(TRUNCATE);");
}

void WalletDatabase::CopyTo(const std::filesystem::path& destination)
{
    Statement vacuum(m_db, "VACUUM INTO ?");
    vacuum.Bind(1, destination.string());
    vacuum.Step();
}

void WalletDatabase::Begin()
{
    Execute("BEGIN IMMEDIATE");
}

void WalletDatabase::Commit()
{
    Execute("COMMIT"); // synchronous=FULL: on disk before this returns
}

void WalletDatabase::Rollback()
{
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

// ---- descriptors and scripts

std::vector<DescriptorRecord> WalletDatabase::ReadDescriptors()
{
    Statement select(m_db, "SELECT id, descriptor, private_descriptor, range_start, range_end, next_index, timestamp, "
                           "output_type, internal, active, ranged, crypted_private FROM descriptor ORDER BY id");
    std::vector<DescriptorRecord> out;
    while (select.Step()) {
        DescriptorRecord r;
        r.id = select.Int(0);
        r.descriptor = select.Text(1);
        r.private_descriptor = select.Text(2);
        r.range_start = select.Int(3);
        r.range_end = select.Int(4);
        r.next_index = select.Int(5);
        r.timestamp = select.Int(6);
        r.output_type = select.Text(7);
        r.internal = select.Int(8) != 0;
        r.active = select.Int(9) != 0;
        r.ranged = select.Int(10) != 0;
        auto crypted = select.Blob(11);
        r.crypted_private.assign(crypted.begin(), crypted.end());
        out.push_back(std::move(r));
    }
    return out;
}

int64_t WalletDatabase::WriteDescriptor(const DescriptorRecord& r)
{
    Statement write(m_db, r.id == 0 ? "INSERT INTO descriptor (descriptor, private_descriptor, range_start, range_end, "
                                      "next_index, timestamp, output_type, internal, active, ranged, crypted_private) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                    : "UPDATE descriptor SET descriptor = ?, private_descriptor = ?, range_start = ?, "
                                      "range_end = ?, next_index = ?, timestamp = ?, output_type = ?, internal = ?, "
                                      "active = ?, ranged = ?, crypted_private = ? WHERE id = ?");
    write.Bind(1, r.descriptor);
    write.Bind(2, r.private_descriptor);
    write.Bind(3, r.range_start);
    write.Bind(4, r.range_end);
    write.Bind(5, r.next_index);
    write.Bind(6, r.timestamp);
    write.Bind(7, r.output_type);
    write.Bind(8, int64_t{r.internal});
    write.Bind(9, int64_t{r.active});
    write.Bind(10, int64_t{r.ranged});
    write.BindBlob(11, r.crypted_private);
    if (r.id != 0) write.Bind(12, r.id);
    write.Step();
    return r.id != 0 ? r.id : sqlite3_last_insert_rowid(m_db);
}

void WalletDatabase::DeactivateDescriptors(const std::string& output_type, bool internal, int64_t keep_id)
{
    Statement update(m_db, "UPDATE descriptor SET active = 0 WHERE output_type = ? AND internal = ? AND id != ?");
    update.Bind(1, output_type);
    update.Bind(2, int64_t{internal});
    update.Bind(3, keep_id);
    update.Step();
}

std::vector<ScriptRecord> WalletDatabase::ReadScripts()
{
    Statement select(m_db, "SELECT script, descriptor_id, idx FROM script");
    std::vector<ScriptRecord> out;
    while (select.Step()) {
        auto blob = select.Blob(0);
        out.push_back({{blob.begin(), blob.end()}, select.Int(1), select.Int(2)});
    }
    return out;
}

void WalletDatabase::WriteScript(const ScriptRecord& record)
{
    Statement insert(m_db, "INSERT OR IGNORE INTO script (script, descriptor_id, idx) VALUES (?, ?, ?)");
    insert.BindBlob(1, record.script);
    insert.Bind(2, record.descriptor_id);
    insert.Bind(3, record.index);
    insert.Step();
}

// ---- labels

std::vector<std::pair<std::string, std::string>> WalletDatabase::ReadLabels()
{
    Statement select(m_db, "SELECT address, label FROM label ORDER BY address");
    std::vector<std::pair<std::string, std::string>> out;
    while (select.Step()) out.emplace_back(select.Text(0), select.Text(1));
    return out;
}

void WalletDatabase::WriteLabel(std::string_view address, std::string_view label)
{
    Statement write(m_db, "INSERT INTO label (address, label) VALUES (?, ?) "
                          "ON CONFLICT (address) DO UPDATE SET label = excluded.label");
    write.Bind(1, address);
    write.Bind(2, label);
    write.Step();
}

// ---- transactions

std::vector<TxRecord> WalletDatabase::ReadTransactions()
{
    Statement select(m_db, "SELECT txid, raw, time_received, state, abandoned, block_hash, block_height, block_pos, "
                           "block_time FROM tx ORDER BY rowid");
    std::vector<TxRecord> out;
    while (select.Step()) {
        TxRecord r;
        r.txid = select.Text(0);
        auto raw = select.Blob(1);
        r.raw.assign(raw.begin(), raw.end());
        r.time_received = select.Int(2);
        const int64_t state = select.Int(3);
        if (state < 0 || state > static_cast<int64_t>(TxStateKind::CONFLICTED)) {
            throw DatabaseError(fmt::format("Wallet file '{}': transaction {} has an unknown state {}", m_path.string(),
                                            r.txid, state));
        }
        r.state = static_cast<TxStateKind>(state);
        r.abandoned = select.Int(4) != 0;
        r.block_hash = select.Text(5);
        r.block_height = select.Int(6);
        r.block_pos = select.Int(7);
        r.block_time = select.Int(8);
        out.push_back(std::move(r));
    }
    return out;
}

void WalletDatabase::WriteTransaction(const TxRecord& r, const std::vector<OutputRecord>& outputs,
                                      const std::vector<std::pair<std::string, uint32_t>>& spends)
{
    Statement write(m_db, "INSERT INTO tx (txid, raw, time_received, state, abandoned, block_hash, block_height, "
                          "block_pos, block_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                          "ON CONFLICT (txid) DO UPDATE SET state = excluded.state, abandoned = excluded.abandoned, "
                          "block_hash = excluded.block_hash, block_height = excluded.block_height, "
                          "block_pos = excluded.block_pos, block_time = excluded.block_time");
    write.Bind(1, r.txid);
    write.BindBlob(2, r.raw);
    write.Bind(3, r.time_received);
    write.Bind(4, static_cast<int64_t>(r.state));
    write.Bind(5, int64_t{r.abandoned});
    write.Bind(6, r.block_hash);
    write.Bind(7, r.block_height);
    write.Bind(8, r.block_pos);
    write.Bind(9, r.block_time);
    write.Step();
    for (const auto& output : outputs) {
        Statement insert(m_db, "INSERT OR IGNORE INTO output (txid, vout, amount, script) VALUES (?, ?, ?, ?)");
        insert.Bind(1, r.txid);
        insert.Bind(2, int64_t{output.vout});
        insert.Bind(3, output.amount);
        insert.BindBlob(4, output.script);
        insert.Step();
    }
    for (const auto& [prev_txid, prev_vout] : spends) {
        Statement insert(m_db, "INSERT OR IGNORE INTO spend (prev_txid, prev_vout, txid) VALUES (?, ?, ?)");
        insert.Bind(1, prev_txid);
        insert.Bind(2, int64_t{prev_vout});
        insert.Bind(3, r.txid);
        insert.Step();
    }
}

// ---- locked coins and the last block

std::vector<std::pair<std::string, uint32_t>> WalletDatabase::ReadLockedCoins()
{
    Statement select(m_db, "SELECT txid, vout FROM locked_coin");
    std::vector<std::pair<std::string, uint32_t>> out;
    while (select.Step()) out.emplace_back(select.Text(0), static_cast<uint32_t>(select.Int(1)));
    return out;
}

void WalletDatabase::WriteLockedCoin(const std::string& txid, uint32_t vout, bool locked)
{
    Statement write(m_db, locked ? "INSERT OR IGNORE INTO locked_coin (txid, vout) VALUES (?, ?)"
                                 : "DELETE FROM locked_coin WHERE txid = ? AND vout = ?");
    write.Bind(1, txid);
    write.Bind(2, int64_t{vout});
    write.Step();
}

std::optional<BlockRef> WalletDatabase::ReadLastBlock()
{
    Statement select(m_db, "SELECT hash, height FROM last_block WHERE id = 1");
    if (!select.Step()) return std::nullopt;
    return BlockRef{select.Text(0), select.Int(1)};
}

void WalletDatabase::WriteLastBlock(const std::optional<BlockRef>& block)
{
    if (!block) {
        Execute("DELETE FROM last_block");
        return;
    }
    Statement write(m_db, "INSERT INTO last_block (id, hash, height) VALUES (1, ?, ?) "
                          "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, height = excluded.height");
    write.Bind(1, block->hash);
    write.Bind(2, block->height);
    write.Step();
}

// ---- format 1

std::vector<std::pair<std::string, int64_t>> WalletDatabase::ReadV1NextIndexes()
{
    Statement select(m_db, "SELECT address_type, next FROM next_index");
    std::vector<std::pair<std::string, int64_t>> out;
    while (select.Step()) out.emplace_back(select.Text(0), select.Int(1));
    return out;
}

std::vector<std::pair<std::string, std::string>> WalletDatabase::ReadV1Labels()
{
    Statement select(m_db, "SELECT address, label FROM address");
    std::vector<std::pair<std::string, std::string>> out;
    while (select.Step()) out.emplace_back(select.Text(0), select.Text(1));
    return out;
}

} // namespace orrery::wallet
