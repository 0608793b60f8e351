// The node's chain RPC methods and the Chain interface's block notifications,
// against a real chainstate in a temporary folder: regtest blocks built here
// (coinbase, merkle root, proof of work) are submitted, reorganized away by a
// fork and read back through the RPC table and through ChainService over IPC.
#include "test_util.h"

#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/consensus/pow.h>
#include <common/interfaces/chain_ipc.h>
#include <common/interfaces/roles.h>
#include <common/ipc/endpoint.h>
#include <common/rpc/protocol.h>
#include <services/node/chain_service.h>
#include <services/node/rpc/rpc.h>
#include <services/node/validation/chainstate.h>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace orrery;
using namespace std::chrono_literals;
using orrery::rpc::Json;

namespace {

//! An anyone-can-spend output script (OP_TRUE).
const Script OP_TRUE_SCRIPT{0x51};

//! A chainstate on regtest in its own folder, with the chain and UTXO RPC methods.
struct Chainstate {
    test::TempDir dir{"orrery_chain_rpc"};
    std::atomic<int64_t> clock{1'700'000'000};
    std::unique_ptr<node::ChainstateManager> chainstate;
    rpc::Table table;

    Chainstate()
    {
        node::ChainstateOptions options;
        options.data_dir = dir.path;
        options.blocks_dir = dir / "blocks";
        options.dbcache_bytes = 4 << 20;
        options.now = [this] { return clock.load(); };
        chainstate = std::make_unique<node::ChainstateManager>(GetChainParams(ChainType::REGTEST), options);
        chainstate->Load();
        chainstate->Start();
        node::RegisterChainRpc(table, *chainstate);
        node::RegisterUtxoRpc(table, *chainstate);
    }
    ~Chainstate() { chainstate->Stop(); }

    Json Call(const std::string& method, Json params = Json::array())
    {
        return table.Execute(method, params, std::nullopt);
    }
    std::pair<int, std::string> CallError(const std::string& method, Json params = Json::array())
    {
        try {
            Call(method, std::move(params));
        } catch (const rpc::RpcException& e) {
            return {e.code(), e.what()};
        }
        return {0, ""};
    }

    const node::BlockIndex* Tip()
    {
        auto lock = chainstate->Lock();
        return chainstate->Tip();
    }

    //! A valid block on `prev` paying the subsidy to OP_TRUE, with `txs` after the coinbase; `salt` makes
    //! blocks at the same height differ.
    Block MakeBlock(const node::BlockIndex* prev, std::vector<Transaction> txs = {}, uint32_t salt = 0)
    {
        Block block;
        block.version = 0x20000000;
        block.prev_block = prev->hash;
        block.time = static_cast<uint32_t>(prev->GetMedianTimePast() + 1 + salt);
        if (block.time <= prev->header.time) block.time = prev->header.time + 1;
        block.bits = prev->header.bits;
        Transaction coinbase;
        coinbase.version = 1;
        TxIn in;
        int height = prev->height + 1;
        // BIP34: the height pushed as Core's CScript() << height does, then a salt push (a coinbase script has
        // at least two bytes).
        if (height <= 16) {
            in.script_sig = {static_cast<uint8_t>(0x50 + height)};
        } else {
            std::vector<uint8_t> number;
            for (int64_t v = height; v; v >>= 8) number.push_back(static_cast<uint8_t>(v & 0xff));
            if (number.back() & 0x80) number.push_back(0);
            in.script_sig.push_back(static_cast<uint8_t>(number.size()));
            in.script_sig.insert(in.script_sig.end(), number.begin(), number.end());
        }
        in.script_sig.push_back(0x01);
        in.script_sig.push_back(static_cast<uint8_t>(salt));
        coinbase.vin.push_back(in);
        coinbase.vout.push_back(
            TxOut{GetBlockSubsidy(height, GetChainParams(ChainType::REGTEST).consensus), OP_TRUE_SCRIPT});
        block.txs.push_back(coinbase);
        for (auto& tx : txs) block.txs.push_back(std::move(tx));
        block.merkle_root = BlockMerkleRoot(block);
        while (!CheckProofOfWork(block.GetHash(), block.bits, GetChainParams(ChainType::REGTEST).consensus)) {
            ++block.nonce;
        }
        return block;
    }

    //! Submits a block; REQUIREs it accepted.
    uint256 Submit(const Block& block)
    {
        auto result = chainstate->ProcessNewBlock(std::make_shared<const Block>(block), /*force=*/true);
        REQUIRE_MESSAGE(result.accepted, result.reject_reason << " " << result.debug_message);
        return block.GetHash();
    }

    //! Mines `count` blocks on the tip; returns their hashes.
    std::vector<uint256> Mine(int count)
    {
        std::vector<uint256> hashes;
        for (int i = 0; i < count; ++i) {
            clock += 1;
            hashes.push_back(Submit(MakeBlock(Tip())));
        }
        return hashes;
    }
};

//! Spends output 0 of `txid` (OP_TRUE, so an empty scriptSig) to two OP_TRUE outputs, leaving `fee`.
Transaction Spend(const uint256& txid, Amount value, Amount fee)
{
    Transaction tx;
    tx.version = 2;
    TxIn in;
    in.prevout = OutPoint{txid, 0};
    tx.vin.push_back(in);
    Amount half = (value - fee) / 2;
    tx.vout.push_back(TxOut{half, OP_TRUE_SCRIPT});
    tx.vout.push_back(TxOut{value - fee - half, OP_TRUE_SCRIPT});
    return tx;
}

//! Records a Chain subscription's news in arrival order: "tip <h>", "connected <h> <hash>", "disconnected ...".
class Recorder final : public interfaces::ChainListener
{
public:
    void updatedBlockTip(interfaces::ChainTip tip) override
    {
        Add("tip " + std::to_string(tip.height) + " " + tip.hash);
    }
    void blockConnected(interfaces::ChainBlock block) override
    {
        CHECK(DeserializeBlock(block.data).GetHash().GetHex() == block.hash);
        Add("connected " + std::to_string(block.height) + " " + block.hash);
    }
    void blockDisconnected(interfaces::ChainBlock block) override
    {
        Add("disconnected " + std::to_string(block.height) + " " + block.hash);
    }
    void transactionAddedToMempool(std::vector<uint8_t>, uint64_t) override {}
    void transactionRemovedFromMempool(std::vector<uint8_t>, std::string, uint64_t) override {}
    bool WaitFor(const std::string& event)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, 10s,
                             [&] { return std::find(m_events.begin(), m_events.end(), event) != m_events.end(); });
    }
    std::vector<std::string> Events()
    {
        std::lock_guard lock(m_mutex);
        return m_events;
    }

private:
    void Add(std::string event)
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back(std::move(event));
        m_cv.notify_all();
    }
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::string> m_events;
};

} // namespace

TEST_CASE("getblock and getblockheader show a block in every verbosity with bitcoind's fields and errors")
{
    Chainstate node;
    auto hashes = node.Mine(101);
    // Block 102 spends the coinbase of block 1 (mature now), paying a fee of 1000 satoshis.
    Block first = node.chainstate->ReadBlock(node.chainstate->LookupBlockIndex(hashes[0]));
    Amount subsidy = first.txs[0].vout[0].value;
    Transaction spend = Spend(first.txs[0].GetTxid(), subsidy, 1000);
    node.clock += 1;
    Block block = node.MakeBlock(node.Tip(), {spend});
    block.txs[0].vout[0].value += 1000;
    block.merkle_root = BlockMerkleRoot(block);
    while (!CheckProofOfWork(block.GetHash(), block.bits, GetChainParams(ChainType::REGTEST).consensus)) ++block.nonce;
    std::string hash = node.Submit(block).GetHex();

    CHECK(node.Call("getblock", {hash, 0}) == HexStr(SerializeBlock(block)));
    CHECK(node.Call("getblock", {hash, false}) == HexStr(SerializeBlock(block)));
    Json v1 = node.Call("getblock", {hash});
    CHECK(v1["hash"] == hash);
    CHECK(v1["confirmations"] == 1);
    CHECK(v1["height"] == 102);
    CHECK(v1["version"] == 0x20000000);
    CHECK(v1["versionHex"] == "20000000");
    CHECK(v1["merkleroot"] == block.merkle_root.GetHex());
    CHECK(v1["bits"] == "207fffff");
    CHECK(v1["target"] == "7fffff0000000000000000000000000000000000000000000000000000000000");
    CHECK(v1["nTx"] == 2);
    CHECK(v1["tx"] == Json::array({block.txs[0].GetTxid().GetHex(), spend.GetTxid().GetHex()}));
    CHECK(v1["previousblockhash"] == hashes.back().GetHex());
    CHECK_FALSE(v1.contains("nextblockhash"));
    CHECK(v1["size"] == GetSerializeSize(block));
    CHECK(v1["strippedsize"] == GetSerializeSize(block, false));
    CHECK(v1["weight"] == GetBlockWeight(block));
    CHECK(v1["chainwork"] == "00000000000000000000000000000000000000000000000000000000000000ce");

    Json v2 = node.Call("getblock", {hash, 2});
    CHECK(v2["tx"][1]["txid"] == spend.GetTxid().GetHex());
    CHECK(rpc::WriteJson(v2["tx"][1]["fee"]) == "0.00001000");
    CHECK_FALSE(v2["tx"][0].contains("fee"));
    CHECK_FALSE(v2["tx"][1]["vin"][0].contains("prevout"));
    Json v3 = node.Call("getblock", {hash, 3});
    CHECK(v3["tx"][1]["vin"][0]["prevout"]["height"] == 1);
    CHECK(v3["tx"][1]["vin"][0]["prevout"]["generated"] == true);
    CHECK(rpc::WriteJson(v3["tx"][1]["vin"][0]["prevout"]["value"]) == "50.00000000");

    // The previous block now has a next block and two confirmations.
    Json header = node.Call("getblockheader", {hashes.back().GetHex()});
    CHECK(header["confirmations"] == 2);
    CHECK(header["nextblockhash"] == hash);
    CHECK_FALSE(header.contains("tx"));
    CHECK(node.Call("getblockheader", {hash, false}) == HexStr(SerializeBlockHeader(block)));

    CHECK(node.CallError("getblock", {std::string(64, '0')}) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_ADDRESS_OR_KEY, "Block not found"});
    CHECK(node.CallError("getblockheader", {"00"}) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_PARAMETER, "blockhash must be of length 64 (not 2, for '00')"});
    CHECK(node.CallError("getblock", {std::string(64, 'z')}).second ==
          "blockhash must be hexadecimal string (not '" + std::string(64, 'z') + "')");

    // getblockstats: the one spending transaction pays 1000 satoshis.
    Json stats = node.Call("getblockstats", {102});
    CHECK(stats["txs"] == 2);
    CHECK(stats["ins"] == 1);
    CHECK(stats["outs"] == 3);
    CHECK(stats["totalfee"] == 1000);
    CHECK(stats["minfee"] == 1000);
    CHECK(stats["subsidy"] == 5000000000);
    CHECK(stats["utxo_increase"] == 2);
    CHECK(stats["blockhash"] == hash);
    Json some = node.Call("getblockstats", {hash, {"time", "height"}});
    CHECK(some.size() == 2);
    CHECK(some.begin().key() == "height");
    CHECK(node.CallError("getblockstats", {102, {"nonsense"}}).second == "Invalid selected statistic 'nonsense'");
    CHECK(node.CallError("getblockstats", {103}).second == "Target block height 103 after current tip 102");
    CHECK(node.CallError("getblockstats", {-1}).second == "Target block height -1 is negative");

    // gettxout: the spent coinbase is gone, the new outputs are there.
    CHECK(node.Call("gettxout", {first.txs[0].GetTxid().GetHex(), 0}).is_null());
    Json out = node.Call("gettxout", {spend.GetTxid().GetHex(), 1, true});
    CHECK(out["bestblock"] == hash);
    CHECK(out["confirmations"] == 1);
    CHECK(out["coinbase"] == false);
    CHECK(out["scriptPubKey"]["hex"] == "51");
    CHECK(out["value"] == rpc::ValueFromAmount(spend.vout[1].value));

    // getchaintxstats over the whole chain: 102 coinbases plus one spend, 103 blocks.
    Json txstats = node.Call("getchaintxstats");
    CHECK(txstats["txcount"] == 104);
    CHECK(txstats["window_final_block_height"] == 102);
    CHECK(txstats["window_block_count"] == 101);
    CHECK(node.CallError("getchaintxstats", {102}).second ==
          "Invalid block count: should be between 0 and the block's height - 1");
}

TEST_CASE("invalidateblock makes a fork that getchaintips shows, reconsiderblock brings it back, and a subscriber "
          "of Chain over IPC sees every disconnection and connection in the order the chainstate applied them")
{
    Chainstate node;
    auto service = std::make_shared<node::ChainService>(*node.chainstate);
    service->Attach();
    ipc::Options server_options;
    server_options.role = "node";
    ipc::Server server(server_options);
    server.Serve<interfaces::Chain>(service, interfaces::CHAIN_CALLERS);
    std::string endpoint = node.dir.Endpoint("chain.sock");
    server.Bind(endpoint);
    ipc::Options client_options;
    client_options.role = "wallet";
    client_options.interfaces = {"chain"};
    ipc::Client wallet(client_options);
    auto chain = ipc::MakeProxy<interfaces::Chain>(wallet.Connect(endpoint));
    auto recorder = std::make_shared<Recorder>();
    auto subscription = chain->subscribeNotifications(recorder);

    auto main = node.Mine(3); // heights 1..3
    REQUIRE(recorder->WaitFor("tip 3 " + main[2].GetHex()));
    auto tips = node.Call("getchaintips");
    REQUIRE(tips.size() == 1);
    CHECK(tips[0]["status"] == "active");
    CHECK(tips[0]["branchlen"] == 0);
    CHECK(tips[0]["height"] == 3);

    // Invalidating block 2 moves the tip back to block 1: blocks 3 then 2 leave, in that order.
    node.Call("invalidateblock", {main[1].GetHex()});
    CHECK(node.Tip()->height == 1);
    // A fork of two blocks on block 1 becomes the active chain.
    node.clock += 1;
    uint256 fork2 = node.Submit(node.MakeBlock(node.Tip(), {}, 7));
    uint256 fork3 = node.Submit(node.MakeBlock(node.Tip(), {}, 7));
    REQUIRE(recorder->WaitFor("tip 3 " + fork3.GetHex()));
    // Tips of equal height come in no set order: find each by its hash.
    auto tip_of = [&node](const uint256& hash) {
        for (const auto& tip : node.Call("getchaintips")) {
            if (tip["hash"] == hash.GetHex()) return tip;
        }
        FAIL("no chain tip " << hash.GetHex());
        return Json();
    };
    CHECK(node.Call("getchaintips").size() == 2);
    CHECK(tip_of(fork3)["status"] == "active");
    CHECK(tip_of(fork3)["branchlen"] == 0);
    CHECK(tip_of(main[2])["status"] == "invalid");
    CHECK(tip_of(main[2])["branchlen"] == 2);
    CHECK(tip_of(main[2])["height"] == 3);
    CHECK(node.Call("getblock", {main[2].GetHex()})["confirmations"] == -1);

    // Reconsidering makes the old branch valid again; with the same work as the fork, the branch that arrived first
    // wins (as in Bitcoin Core): a reorganization of two blocks back to it, as one step.
    node.Call("reconsiderblock", {main[1].GetHex()});
    REQUIRE(recorder->WaitFor("tip 3 " + main[2].GetHex()));
    CHECK(tip_of(main[2])["status"] == "active");
    CHECK(tip_of(fork3)["status"] == "valid-fork");
    CHECK(tip_of(fork3)["branchlen"] == 2);
    // One more block on it.
    node.clock += 1;
    uint256 main4 = node.Submit(node.MakeBlock(node.Tip()));
    REQUIRE(recorder->WaitFor("tip 4 " + main4.GetHex()));
    CHECK(tip_of(main4)["status"] == "active");
    CHECK(tip_of(fork3)["status"] == "valid-fork");

    auto h = [](const uint256& hash) { return hash.GetHex(); };
    std::vector<std::string> expected = {
        "tip 0 " + h(GetChainParams(ChainType::REGTEST).GenesisHash()),
        "connected 1 " + h(main[0]),
        "tip 1 " + h(main[0]),
        "connected 2 " + h(main[1]),
        "tip 2 " + h(main[1]),
        "connected 3 " + h(main[2]),
        "tip 3 " + h(main[2]),
        "disconnected 3 " + h(main[2]),
        "disconnected 2 " + h(main[1]),
        "tip 1 " + h(main[0]),
        "connected 2 " + h(fork2),
        "tip 2 " + h(fork2),
        "connected 3 " + h(fork3),
        "tip 3 " + h(fork3),
    };
    auto events = recorder->Events();
    REQUIRE(events.size() >= expected.size());
    for (size_t i = 0; i < expected.size(); ++i) CHECK(events[i] == expected[i]);
    std::vector<std::string> reorg(events.begin() + static_cast<long>(expected.size()), events.end());
    std::vector<std::string> expected_reorg = {"disconnected 3 " + h(fork3), "disconnected 2 " + h(fork2),
                                               "connected 2 " + h(main[1]),  "connected 3 " + h(main[2]),
                                               "tip 3 " + h(main[2]),        "connected 4 " + h(main4),
                                               "tip 4 " + h(main4)};
    CHECK_MESSAGE(reorg == expected_reorg, fmt::format("{}", fmt::join(events, "\n")));

    // A rescan walks the active chain from a height.
    auto blocks = chain->getBlocksFrom(2, 10);
    REQUIRE(blocks.size() == 3);
    CHECK(blocks[0].hash == h(main[1]));
    CHECK(blocks[2].hash == h(main4));
    CHECK(blocks[2].prev_hash == h(main[2]));
    CHECK(chain->getBlocksFrom(5, 10).empty());
    CHECK(chain->getBlocksFrom(0, 2).size() == 2);
    auto found = chain->findBlock(h(fork3));
    REQUIRE(found);
    CHECK(found->height == 3);
    CHECK(DeserializeBlock(found->data).GetHash() == fork3);
    CHECK_FALSE(chain->findBlock(std::string(64, '1')));
    CHECK(chain->getTip().hash == h(main4));
    CHECK(chain->getBlockHash(4) == h(main4));

    subscription.reset();
    wallet.Stop();
    server.Stop();
}

TEST_CASE("waitfornewblock wakes on a new block; waitforblockheight and waitforblock time out with the current tip")
{
    Chainstate node;
    auto first = node.Mine(1);
    // With current_tip, the answer is the next block whether the call or the block comes first.
    auto waiting = std::async(std::launch::async, [&] {
        return node.Call("waitfornewblock", {20000, first[0].GetHex()});
    });
    auto mined = node.Mine(1);
    Json woke = waiting.get();
    CHECK(woke["hash"] == mined[0].GetHex());
    CHECK(woke["height"] == 2);

    CHECK(node.Call("waitfornewblock", {50})["height"] == 2); // no new block: the current tip after the timeout
    Json timed_out = node.Call("waitforblockheight", {10, 50});
    CHECK(timed_out["height"] == 2);
    CHECK(node.Call("waitforblockheight", {1})["height"] == 2); // already there: no wait
    CHECK(node.Call("waitforblock", {mined[0].GetHex()})["hash"] == mined[0].GetHex());
    CHECK(node.Call("waitforblock", {std::string(64, '0'), 30})["height"] == 2);
    CHECK(node.CallError("waitfornewblock", {-1}) ==
          std::pair<int, std::string>{rpc::RPC_MISC_ERROR, "Negative timeout"});
}

TEST_CASE("waits without a timeout answer their current tip as soon as the node begins to stop")
{
    Chainstate node;
    auto mined = node.Mine(1);
    auto new_block = std::async(std::launch::async, [&] { return node.Call("waitfornewblock", {0}); });
    auto height = std::async(std::launch::async, [&] { return node.Call("waitforblockheight", {100}); });
    auto tip_change = std::async(std::launch::async,
                                 [&] { return node.chainstate->WaitForTipChange(mined[0], std::chrono::hours(1)); });
    // The stop wakes them (no tip changes): each would otherwise wait an hour or for ever.
    node.chainstate->InterruptWaits();
    REQUIRE(new_block.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    REQUIRE(height.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    REQUIRE(tip_change.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(new_block.get()["hash"] == mined[0].GetHex());
    CHECK(height.get()["height"] == 1);
    CHECK(tip_change.get()->hash == mined[0]);
    // Later waits do not wait at all.
    CHECK(node.Call("waitfornewblock", {0})["height"] == 1);
}

TEST_CASE("gettxoutsetinfo, getdeploymentinfo, verifychain, pruneblockchain and scantxoutset answer as bitcoind")
{
    Chainstate node;
    auto hashes = node.Mine(5);
    Json info = node.Call("gettxoutsetinfo");
    CHECK(info["height"] == 5);
    CHECK(info["bestblock"] == hashes.back().GetHex());
    CHECK(info["txouts"] == 5);
    CHECK(info["transactions"] == 5);
    CHECK(rpc::WriteJson(info["total_amount"]) == "250.00000000");
    CHECK(info.contains("hash_serialized_3"));
    CHECK_FALSE(info.contains("muhash"));
    Json mu = node.Call("gettxoutsetinfo", {"muhash"});
    CHECK(mu["muhash"].get<std::string>().size() == 64);
    CHECK_FALSE(mu.contains("hash_serialized_3"));
    CHECK_FALSE(node.Call("gettxoutsetinfo", {"none"}).contains("muhash"));
    CHECK(node.Call("gettxoutsetinfo")["hash_serialized_3"] == info["hash_serialized_3"]); // stable
    CHECK(node.CallError("gettxoutsetinfo", {"sha"}) ==
          std::pair<int, std::string>{rpc::RPC_INVALID_PARAMETER, "'sha' is not a valid hash_type"});

    Json deployments = node.Call("getdeploymentinfo");
    CHECK(deployments["height"] == 5);
    CHECK(deployments["deployments"]["segwit"] == Json::parse(R"({"type":"buried","active":true,"height":0})"));
    CHECK(deployments["deployments"]["bip34"]["height"] == 1);
    CHECK(deployments["deployments"]["taproot"]["type"] == "bip9");
    CHECK(deployments["deployments"]["taproot"]["active"] == true);
    CHECK(deployments["deployments"]["taproot"]["bip9"]["status"] == "active");
    CHECK(deployments["deployments"]["taproot"]["bip9"]["start_time"] == -1);

    CHECK(node.Call("verifychain") == true);
    CHECK(node.Call("verifychain", {4, 0}) == true);
    CHECK(node.CallError("pruneblockchain", {1}) ==
          std::pair<int, std::string>{rpc::RPC_MISC_ERROR, "Cannot prune blocks because node is not in prune mode."});

    Json scan = node.Call("scantxoutset", {"start", {"raw(51)"}});
    CHECK(scan["success"] == true);
    CHECK(scan["txouts"] == 5);
    CHECK(scan["height"] == 5);
    CHECK(scan["unspents"].size() == 5);
    CHECK(rpc::WriteJson(scan["total_amount"]) == "250.00000000");
    CHECK(scan["unspents"][0]["desc"].get<std::string>().rfind("raw(51)#", 0) == 0);
    CHECK(node.Call("scantxoutset", {"status"}).is_null());
    CHECK(node.Call("scantxoutset", {"abort"}) == false);
    CHECK(node.CallError("scantxoutset", {"start"}).second == "scanobjects argument is required for the start action");
    CHECK(node.CallError("scantxoutset", {"go"}).second == "Invalid action 'go'");
    CHECK(node.Call("syncwithvalidationinterfacequeue").is_null());
}
