// services/node/miner and rpc/mining: templates, regtest mining and the mining
// RPC methods over a real chainstate in a temporary folder (blocks, undo and
// LevelDB on disk, as orrery-node keeps them).
#include <services/node/miner.h>
#include <services/node/rpc/core_json.h>
#include <services/node/rpc/mining.h>
#include <services/node/rpc/rawtransaction.h>
#include <services/node/validation/chainstate.h>

#include <common/consensus/check.h>
#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/consensus/pow.h>
#include <common/keys/key_io.h>
#include <common/util/mock_time.h>
#include <tests/unit/test_util.h>

#include <doctest/doctest.h>

using namespace orrery;
using orrery::rpc::Json;

namespace {

constexpr const char* ADDRESS = "bcrt1q7e4uc7mz8rhl0e2g25a3jcguydxale9yrnl4cz";
constexpr int64_t START_TIME = 1700000000;

//! A regtest chainstate in a temporary folder with the mining methods on a table, the clock pinned.
struct Miner {
    test::TempDir dir{"orrery_mining"};
    int64_t clock{START_TIME};
    std::unique_ptr<node::ChainstateManager> chainstate;
    rpc::Table table;

    Miner()
    {
        node::ChainstateOptions options;
        options.data_dir = dir.path;
        options.blocks_dir = dir.path / "blocks";
        options.dbcache_bytes = 4 << 20;
        options.now = [this] { return clock; };
        options.request_shutdown = [](const std::string&) {};
        chainstate = std::make_unique<node::ChainstateManager>(GetChainParams(ChainType::REGTEST), options);
        chainstate->Load();
        chainstate->Start();
        node::RegisterMiningRpc(table, *chainstate, node::MiningContext{[] { return int64_t{0}; }});
        node::RegisterChainRawTransactionRpc(table, *chainstate);
    }
    ~Miner() { chainstate->Stop(); }

    Json Call(const std::string& method, Json params = Json::array()) { return table.Execute(method, params, {}); }

    std::pair<int, std::string> Error(const std::string& method, Json params)
    {
        try {
            Call(method, std::move(params));
        } catch (const rpc::RpcException& e) {
            return {e.code(), e.what()};
        }
        return {0, ""};
    }
};

} // namespace

TEST_CASE("a template on regtest carries Core's version, BIP34 height, subsidy and witness commitment")
{
    Miner m;
    const auto script = *DecodeAddress(ADDRESS, Network::REGTEST);
    node::BlockAssembler assembler(*m.chainstate, [&m] { return m.clock; });
    const node::BlockTemplate tmpl = assembler.CreateNewBlock(script);
    const Block& block = tmpl.block;
    CHECK(tmpl.height == 1);
    CHECK(block.version == 0x20000000);
    CHECK(block.prev_block == GetChainParams(ChainType::REGTEST).GenesisHash());
    CHECK(block.time == START_TIME);
    CHECK(block.bits == 0x207fffff);
    REQUIRE(block.txs.size() == 1);
    const Transaction& coinbase = block.txs[0];
    CHECK(HexStr(coinbase.vin[0].script_sig) == "5100"); // OP_1 (height 1) OP_0
    CHECK(coinbase.vout[0].value == 50 * COIN);
    CHECK(coinbase.vout[0].script_pubkey == script);
    REQUIRE(coinbase.vout.size() == 2);
    CHECK(HexStr(coinbase.vout[1].script_pubkey).rfind("6a24aa21a9ed", 0) == 0);
    CHECK(coinbase.vin[0].witness == std::vector<std::vector<uint8_t>>{std::vector<uint8_t>(32, 0)});
    CHECK(tmpl.witness_commitment == coinbase.vout[1].script_pubkey);
    CHECK(block.merkle_root == BlockMerkleRoot(block));
    CHECK(CheckCoinbaseHeight(block, 1));
}

TEST_CASE("a template's time never falls to the median time past")
{
    Miner m;
    m.Call("generatetoaddress", Json::array({11, ADDRESS}));
    m.clock = START_TIME - 1000; // the clock went back
    node::BlockAssembler assembler(*m.chainstate, [&m] { return m.clock; });
    const auto tmpl = assembler.CreateNewBlock(*DecodeAddress(ADDRESS, Network::REGTEST));
    int64_t mtp = 0;
    {
        auto lock = m.chainstate->Lock();
        mtp = m.chainstate->Tip()->GetMedianTimePast();
    }
    CHECK(mtp > START_TIME);
    CHECK(tmpl.min_time == mtp + 1);
    CHECK(tmpl.block.time == mtp + 1);
}

TEST_CASE("generatetoaddress mines connected blocks paying the address")
{
    Miner m;
    const Json hashes = m.Call("generatetoaddress", Json::array({101, ADDRESS}));
    REQUIRE(hashes.size() == 101);
    auto lock = m.chainstate->Lock();
    CHECK(m.chainstate->Height() == 101);
    CHECK(m.chainstate->Tip()->hash.GetHex() == hashes.back());
    const Block first = m.chainstate->ReadBlock(m.chainstate->Chain()[1]);
    CHECK(first.GetHash().GetHex() == hashes[0]);
    CHECK(m.chainstate->GetCoin(OutPoint{first.txs[0].GetTxid(), 0})->out.value == 50 * COIN);
}

TEST_CASE("the generate methods refuse bad destinations with Core's errors")
{
    Miner m;
    CHECK(m.Error("generatetoaddress", Json::array({1, "bc1qnotanaddress"})) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_ADDRESS_OR_KEY, "Error: Invalid address"});
    CHECK(m.Error("generatetodescriptor",
                  Json::array({1, "wpkh(tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qk"
                                  "jcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B/0/*)"})) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_PARAMETER,
                                      "Ranged descriptor not accepted. Maybe pass through deriveaddresses first?"});
    CHECK(m.Error("generatetodescriptor", Json::array({1, "raw(51)#00000000"})).first ==
          rpc::RPC_INVALID_ADDRESS_OR_KEY);
    CHECK(m.Error("generate", Json::array()).first == rpc::RPC_METHOD_NOT_FOUND);
    CHECK(m.Error("generateblock", Json::array({"nonsense", Json::array()})) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_ADDRESS_OR_KEY, "Error: Invalid address or descriptor"});
    CHECK(m.Error("generateblock", Json::array({ADDRESS, Json::array({std::string(64, 'a')})})) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                      "Transaction " + std::string(64, 'a') + " not in mempool."});
    CHECK(m.Error("generateblock", Json::array({ADDRESS, Json::array({"00"})})).first ==
          rpc::RPC_DESERIALIZATION_ERROR);
}

TEST_CASE("generatetodescriptor pays a descriptor's script and generateblock can keep its block")
{
    Miner m;
    const std::string key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    const Json hashes = m.Call("generatetodescriptor", Json::array({2, "pkh(" + key + ")"}));
    REQUIRE(hashes.size() == 2);
    {
        auto lock = m.chainstate->Lock();
        const Block block = m.chainstate->ReadBlock(m.chainstate->Tip());
        CHECK(HexStr(block.txs[0].vout[0].script_pubkey) == "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac");
    }
    const Json kept = m.Call("generateblock", Json::array({"raw(51)", Json::array(), false}));
    CHECK(kept.contains("hex"));
    {
        auto lock = m.chainstate->Lock();
        CHECK(m.chainstate->Height() == 2);
    }
    // The kept block is valid: submitting it makes it the tip, and a second time it is a duplicate.
    CHECK(m.Call("submitblock", Json::array({kept["hex"]})).is_null());
    CHECK(m.Call("submitblock", Json::array({kept["hex"]})) == "duplicate");
    auto lock = m.chainstate->Lock();
    CHECK(m.chainstate->Tip()->hash.GetHex() == kept["hash"]);
}

TEST_CASE("submitblock answers BIP22 reasons for broken blocks")
{
    Miner m;
    m.Call("generatetoaddress", Json::array({1, ADDRESS}));
    const Json kept = m.Call("generateblock", Json::array({ADDRESS, Json::array(), false}));
    Block block = *node::DecodeHexBlock(kept["hex"].get<std::string>());
    Block bad_root = block;
    bad_root.merkle_root = uint256{};
    // Grind the nonce again for the changed header (one in two hashes meets regtest's target).
    auto resolve = [&](Block& b) {
        while (!CheckProofOfWork(b.GetHash(), b.bits, m.chainstate->Params().consensus)) ++b.nonce;
    };
    resolve(bad_root);
    CHECK(m.Call("submitblock", Json::array({HexStr(SerializeBlock(bad_root))})) == "bad-txnmrklroot");
    CHECK(m.Error("submitblock", Json::array({"00"})) ==
          std::pair<int, std::string>{rpc::RPC_DESERIALIZATION_ERROR, "Block decode failed"});
    Block no_coinbase = block;
    no_coinbase.txs[0].vin[0].prevout = OutPoint{uint256::FromHex(std::string(64, '1')).value(), 0};
    CHECK(m.Error("submitblock", Json::array({HexStr(SerializeBlock(no_coinbase))})) ==
          std::pair<int, std::string>{rpc::RPC_DESERIALIZATION_ERROR, "Block does not start with a coinbase"});
    // A block without the coinbase's witness reserved value gets it back, as in Core.
    Block stripped = block;
    stripped.txs[0].vin[0].witness.clear();
    CHECK(m.Call("submitblock", Json::array({HexStr(SerializeBlock(stripped))})).is_null());
}

TEST_CASE("getblocktemplate gives BIP22 fields and insists on the segwit rule")
{
    Miner m;
    m.Call("generatetoaddress", Json::array({3, ADDRESS}));
    CHECK(m.Error("getblocktemplate", Json::array({Json::object()})) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_PARAMETER,
                                      "getblocktemplate must be called with the segwit rule set (call with "
                                      "{\"rules\": [\"segwit\"]})"});
    m.clock = START_TIME + 500;
    const Json t = m.Call("getblocktemplate", Json::array({Json{{"rules", Json::array({"segwit"})}}}));
    CHECK(t["capabilities"] == Json::array({"proposal"}));
    CHECK(t["version"] == 0x20000000);
    CHECK(t["rules"] == Json::array({"csv", "!segwit", "taproot"}));
    CHECK(t["height"] == 4);
    CHECK(t["coinbasevalue"] == 50 * COIN);
    CHECK(t["curtime"] == START_TIME + 500);
    {
        auto lock = m.chainstate->Lock();
        CHECK(t["mintime"].get<int64_t>() == m.chainstate->Tip()->GetMedianTimePast() + 1);
    }
    CHECK(t["bits"] == "207fffff");
    CHECK(t["target"] == "7fffff0000000000000000000000000000000000000000000000000000000000");
    CHECK(t["noncerange"] == "00000000ffffffff");
    CHECK(t["sigoplimit"] == 80000);
    CHECK(t["sizelimit"] == 4000000);
    CHECK(t["weightlimit"] == 4000000);
    CHECK(t["transactions"] == Json::array());
    CHECK(t["mutable"] == Json::array({"time", "transactions", "prevblock"}));
    CHECK(t["longpollid"].get<std::string>().substr(0, 64) == t["previousblockhash"]);
    CHECK(t["default_witness_commitment"].get<std::string>().rfind("6a24aa21a9ed", 0) == 0);

    // Proposals: a fresh valid block is null, a mined one a duplicate, a garbled one a decode error.
    const Json kept = m.Call("generateblock", Json::array({ADDRESS, Json::array(), false}));
    CHECK(m.Call("getblocktemplate", Json::array({Json{{"mode", "proposal"}, {"data", kept["hex"]}}})).is_null());
    m.Call("submitblock", Json::array({kept["hex"]}));
    CHECK(m.Call("getblocktemplate", Json::array({Json{{"mode", "proposal"}, {"data", kept["hex"]}}})) == "duplicate");
    CHECK(m.Error("getblocktemplate", Json::array({Json{{"mode", "proposal"}, {"data", "zz"}}})).first ==
          rpc::RPC_DESERIALIZATION_ERROR);
    CHECK(m.Error("getblocktemplate", Json::array({Json{{"mode", "bogus"}}})).second == "Invalid mode");
}

TEST_CASE("getmininginfo, getdifficulty and getnetworkhashps read the chain as Core does")
{
    Miner m;
    CHECK(m.Call("getnetworkhashps") == 0);
    for (int i = 0; i < 10; ++i) {
        m.clock += 600;
        m.Call("generatetoaddress", Json::array({1, ADDRESS}));
    }
    const Json info = m.Call("getmininginfo");
    CHECK(info["blocks"] == 10);
    CHECK(info["chain"] == "regtest");
    CHECK(info["pooledtx"] == 0);
    CHECK(info["difficulty"].get<double>() == doctest::Approx(4.656542373906925e-10));
    CHECK(m.Call("getdifficulty").get<double>() == doctest::Approx(4.656542373906925e-10));
    // Ten blocks of work 2 each over 5400 seconds (block 1 to block 10 spans nine intervals plus the first).
    const double hashps = m.Call("getnetworkhashps").get<double>();
    CHECK(hashps > 0);
    CHECK(m.Error("getnetworkhashps", Json::array({0})).second == "Invalid nblocks. Must be a positive number or -1.");
    CHECK(m.Error("getnetworkhashps", Json::array({120, 11})).second == "Block does not exist at specified height");
}

TEST_CASE("submitheader needs the parent header first")
{
    Miner m;
    const Json kept = m.Call("generateblock", Json::array({ADDRESS, Json::array(), false}));
    const std::string header = kept["hex"].get<std::string>().substr(0, 160);
    CHECK(m.Call("submitheader", Json::array({header})).is_null());
    BlockHeader orphan = *node::DecodeHexBlockHeader(header);
    orphan.prev_block = uint256::FromHex(std::string(64, '2')).value();
    CHECK(m.Error("submitheader", Json::array({HexStr(SerializeBlockHeader(orphan))})).second ==
          "Must submit previous header (" + std::string(64, '2') + ") first");
    CHECK(m.Error("submitheader", Json::array({"00"})).second == "Block header decode failed");
}

TEST_CASE("getrawtransaction finds a transaction in a given block with the chain's context")
{
    Miner m;
    const Json hashes = m.Call("generatetoaddress", Json::array({3, ADDRESS}));
    std::string txid;
    {
        auto lock = m.chainstate->Lock();
        txid = m.chainstate->ReadBlock(m.chainstate->Chain()[1]).txs[0].GetTxid().GetHex();
    }
    const Json hex = m.Call("getrawtransaction", Json::array({txid, 0, hashes[0]}));
    const Json tx = m.Call("getrawtransaction", Json::array({txid, true, hashes[0]}));
    CHECK(tx["in_active_chain"] == true);
    CHECK(tx["txid"] == txid);
    CHECK(tx["hex"] == hex);
    CHECK(tx["blockhash"] == hashes[0]);
    CHECK(tx["confirmations"] == 3);
    CHECK(tx["time"] == tx["blocktime"]);
    CHECK(tx["vin"][0].contains("coinbase"));
    CHECK(m.Error("getrawtransaction", Json::array({txid})) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_ADDRESS_OR_KEY,
                                      "No such mempool transaction. Use -txindex or provide a block hash to enable "
                                      "blockchain transaction queries. Use gettransaction for wallet transactions."});
    CHECK(m.Error("getrawtransaction", Json::array({txid, 0, hashes[1]})).second ==
          "No such transaction found in the provided block. Use gettransaction for wallet transactions.");
    CHECK(m.Error("getrawtransaction", Json::array({txid, 0, std::string(64, '0')})).second == "Block hash not found");
    CHECK(m.Error("getrawtransaction", Json::array({"abc"})).second ==
          "parameter 1 must be of length 64 (not 3, for 'abc')");
    const std::string genesis_coinbase = GetChainParams(ChainType::REGTEST).genesis.merkle_root.GetHex();
    CHECK(m.Error("getrawtransaction", Json::array({genesis_coinbase})).first == rpc::RPC_INVALID_ADDRESS_OR_KEY);
}
