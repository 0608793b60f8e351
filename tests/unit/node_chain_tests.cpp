// The node's chain view: each network's real genesis and the figures
// getblockchaininfo derives from it, as bitcoind reports them.
#include <services/node/chain.h>
#include <tests/unit/node_validation_util.h>

#include <doctest/doctest.h>

using namespace orrery;
using namespace orrery::node;
using orrery::test::GenesisChain;

TEST_CASE("a regtest node reports the regtest genesis as bitcoind does")
{
    GenesisChain genesis(ChainType::REGTEST);
    auto& chain = genesis.chainstate;
    auto info = GetBlockchainInfo(chain, 1700000000);
    CHECK(info.chain == "regtest");
    CHECK(info.blocks == 0);
    CHECK(info.headers == 0);
    CHECK(info.best_block_hash == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    CHECK(info.difficulty == doctest::Approx(4.656542373906925e-10).epsilon(1e-12));
    CHECK(info.time == 1296688602);
    CHECK(info.median_time == 1296688602);
    CHECK(info.chain_work == "0000000000000000000000000000000000000000000000000000000000000002");
    CHECK(info.verification_progress == 1.0);
    CHECK(info.initial_block_download);
    CHECK_FALSE(info.pruned);
}

TEST_CASE("a main node reports the main genesis with difficulty 1 and a tiny verification progress")
{
    GenesisChain genesis(ChainType::MAIN);
    auto& chain = genesis.chainstate;
    auto info = GetBlockchainInfo(chain, 1730000000);
    CHECK(info.chain == "main");
    CHECK(info.best_block_hash == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    CHECK(info.difficulty == 1.0);
    CHECK(info.time == 1231006505);
    CHECK(info.chain_work == "0000000000000000000000000000000000000000000000000000000100010001");
    CHECK(info.verification_progress > 0.0);
    CHECK(info.verification_progress < 1e-6);
}

TEST_CASE("every network has bitcoind's chain name and genesis hash")
{
    struct Expected {
        ChainType type;
        const char* name;
        const char* genesis;
    };
    for (const auto& expected : {
             Expected{ChainType::TESTNET, "test", "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"},
             Expected{ChainType::TESTNET4, "testnet4",
                      "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043"},
             Expected{ChainType::SIGNET, "signet", "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"},
         }) {
        GenesisChain genesis(expected.type);
        auto& chain = genesis.chainstate;
        auto info = GetBlockchainInfo(chain, 1730000000);
        CHECK(info.chain == expected.name);
        CHECK(info.best_block_hash == expected.genesis);
        CHECK(info.chain_work.size() == 64);
    }
}

TEST_CASE("difficulty follows Core's GetDifficulty for a few encodings")
{
    CHECK(GetDifficulty(0x1d00ffff) == 1.0);
    CHECK(GetDifficulty(0x1b0404cb) == doctest::Approx(16307.420938523983));
    CHECK(GetDifficulty(0x1e0377ae) == doctest::Approx(0.001126515290698186));
}

TEST_CASE("the client version number and user agent come from the version string")
{
    CHECK(ClientVersionNumber("0.1.0") == 100);
    CHECK(ClientVersionNumber("28.1.0") == 280100);
    CHECK(ClientVersionNumber("1.2") == 10200);
    CHECK(UserAgent() == std::string("/Orrery:") + ORRERY_VERSION + "/");
}
