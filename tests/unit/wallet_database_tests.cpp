// The wallet's SQLite file: created private, holds its seed and record across
// reopening, never hands out an index twice (not even after a crash right after
// an address left), refuses foreign files and a second user.
#include "test_util.h"
#include <services/wallet/database.h>

#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace orrery::wallet;

namespace {

using orrery::test::FileMode;
using orrery::test::TempDir;

const std::vector<uint8_t> SEED(32, 0x42);

WalletRecord MakeRecord()
{
    WalletRecord record;
    record.name = "alice";
    record.created = 1700000000;
    record.master_fingerprint = "0badf00d";
    return record;
}

//! Stands in for the derivation: index i is "addr<i>".
std::optional<std::string> Numbered(uint32_t index)
{
    return "addr" + std::to_string(index);
}

} // namespace

TEST_CASE("a new wallet file is private and cannot be created twice")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    auto database = WalletDatabase::Create(file, MakeRecord(), SEED);
    CHECK(FileMode(file) == 0600);
    database->ReserveAddress("bech32", "", Numbered);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path)) CHECK(FileMode(entry.path()) == 0600);
    database.reset();
    CHECK_THROWS_AS(WalletDatabase::Create(file, MakeRecord(), SEED), DatabaseError);
    CHECK(WalletDatabase::Open(file)->Record().name == "alice"); // the refused creation left it intact
}

TEST_CASE("the seed and the record survive closing and reopening")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    WalletDatabase::Create(file, MakeRecord(), SEED).reset();
    auto database = WalletDatabase::Open(file);
    orrery::SecureBytes seed;
    database->ReadSeed(seed);
    CHECK(seed.get() == SEED);
    CHECK(database->Record().name == "alice");
    CHECK(database->Record().created == 1700000000);
    CHECK(database->Record().master_fingerprint == "0badf00d");
    CHECK(database->Record().format_version == DATABASE_FORMAT_VERSION);
}

TEST_CASE("indexes go up per address type and continue after reopening")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    {
        auto database = WalletDatabase::Create(file, MakeRecord(), SEED);
        CHECK(database->ReserveAddress("bech32", "rent", Numbered) == "addr0");
        CHECK(database->ReserveAddress("bech32", "", Numbered) == "addr1");
        CHECK(database->NextIndex("bech32") == 2);
        CHECK(database->NextIndex("legacy") == 0);
    }
    auto database = WalletDatabase::Open(file);
    CHECK(database->NextIndex("bech32") == 2);
    CHECK(database->ReserveAddress("bech32", "", Numbered) == "addr2");
    CHECK(database->CountAddresses() == 3);
    CHECK(database->LabelOf("addr0") == "rent");
    CHECK(database->LabelOf("addr1") == "");
    CHECK_FALSE(database->LabelOf("addr9"));
}

TEST_CASE("an index whose key BIP32 rejects is skipped, not retried")
{
    TempDir dir;
    auto database = WalletDatabase::Create(dir.path / "wallet.sqlite", MakeRecord(), SEED);
    auto skip_one = [](uint32_t index) -> std::optional<std::string> {
        if (index == 0) return std::nullopt;
        return Numbered(index);
    };
    CHECK(database->ReserveAddress("bech32", "", skip_one) == "addr1");
    CHECK(database->NextIndex("bech32") == 2);
}

TEST_CASE("an address already in the file is never handed out again")
{
    TempDir dir;
    auto database = WalletDatabase::Create(dir.path / "wallet.sqlite", MakeRecord(), SEED);
    auto always_same = [](uint32_t) -> std::optional<std::string> { return "same"; };
    CHECK(database->ReserveAddress("bech32", "", always_same) == "same");
    CHECK_THROWS_AS(database->ReserveAddress("bech32", "", always_same), DatabaseError);
    CHECK(database->NextIndex("bech32") == 1); // the failed attempt was rolled back
    CHECK(database->CountAddresses() == 1);
}

TEST_CASE("an address handed out just before a crash is not handed out again")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    WalletDatabase::Create(file, MakeRecord(), SEED).reset();
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        auto database = WalletDatabase::Open(file);
        std::string address = database->ReserveAddress("bech32", "", Numbered);
        (void)!::write(fds[1], address.data(), address.size());
        ::raise(SIGKILL); // no destructor, no close: the process dies with the file open
        ::_exit(1);
    }
    ::close(fds[1]);
    char buffer[64] = {};
    ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(n > 0);
    auto database = WalletDatabase::Open(file);
    CHECK(database->LabelOf(std::string(buffer, static_cast<size_t>(n))));
    CHECK(database->ReserveAddress("bech32", "", Numbered) == "addr1");
}

TEST_CASE("a wallet file in use by another connection is refused")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    auto first = WalletDatabase::Create(file, MakeRecord(), SEED);
    CHECK_THROWS_WITH_AS(WalletDatabase::Open(file), doctest::Contains("exclusive lock"), DatabaseError);
}

TEST_CASE("files that are not Orrery wallets are refused as unrecognized")
{
    TempDir dir;
    auto text = dir.path / "text.sqlite";
    std::ofstream(text) << "this is not a database, not even close to one; it is long enough to have a header\n";
    try {
        WalletDatabase::Open(text);
        FAIL("a text file was opened");
    } catch (const DatabaseError& e) {
        CHECK(e.kind() == DatabaseError::BAD_FORMAT);
    }
    auto empty = dir.path / "empty.sqlite";
    std::ofstream{empty};
    try {
        WalletDatabase::Open(empty);
        FAIL("an empty file was opened");
    } catch (const DatabaseError& e) {
        CHECK(e.kind() == DatabaseError::BAD_FORMAT);
    }
}
