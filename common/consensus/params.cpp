// The five built-in chains. Every genesis block is rebuilt from its fields
// and its hash checked against the known value when the parameters are
// first built, so a typo here fails loudly rather than forking.
#include <common/consensus/params.h>

#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/crypto/hash.h>

#include <stdexcept>

namespace orrery {

namespace {

constexpr std::string_view kSatoshiMessage = "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks";
constexpr std::string_view kSatoshiPubkey =
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f";
constexpr std::string_view kDefaultSignetChallenge =
    "512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae";

std::vector<uint8_t> Hex(std::string_view hex)
{
    auto bytes = TryParseHex(hex);
    if (!bytes) throw std::logic_error("bad hex constant in chain parameters");
    return *bytes;
}

uint256 Hash(std::string_view display_hex)
{
    auto v = uint256::FromHex(display_hex);
    if (!v) throw std::logic_error("bad hash constant in chain parameters");
    return *v;
}

//! <pubkey> OP_CHECKSIG
Script PayToPubkey(std::string_view pubkey_hex)
{
    Script script;
    AppendPushData(script, Hex(pubkey_hex));
    script.push_back(OP_CHECKSIG);
    return script;
}

Block SatoshiGenesis(uint32_t time, uint32_t nonce, uint32_t bits)
{
    return CreateGenesisBlock(kSatoshiMessage, PayToPubkey(kSatoshiPubkey), time, nonce, bits, 1, 50 * COIN);
}

void SetGenesis(ChainParams& params, Block genesis, std::string_view expected_hash)
{
    params.genesis = std::move(genesis);
    params.consensus.genesis_hash = params.genesis.GetHash();
    if (params.consensus.genesis_hash != Hash(expected_hash)) {
        throw std::logic_error("genesis block of " + ChainTypeToString(params.type) + " hashes to " +
                               params.consensus.genesis_hash.GetHex() + ", expected " + std::string(expected_hash));
    }
}

void SetTestnetPrefixes(ChainParams& params)
{
    params.base58_pubkey_address = {111};
    params.base58_script_address = {196};
    params.base58_secret_key = {239};
    params.base58_ext_public_key = {0x04, 0x35, 0x87, 0xCF};
    params.base58_ext_secret_key = {0x04, 0x35, 0x83, 0x94};
}

//! Core's testdummy where it never activates (every network but regtest).
Bip9Deployment NeverActiveTestDummy(int threshold, int period)
{
    return Bip9Deployment{.bit = 28, .start_time = Bip9Deployment::NEVER_ACTIVE, .timeout = Bip9Deployment::NO_TIMEOUT,
                          .min_activation_height = 0, .threshold = threshold, .period = period};
}

Bip9Deployment AlwaysActiveTaproot(int threshold, int period)
{
    return Bip9Deployment{.bit = 2, .start_time = Bip9Deployment::ALWAYS_ACTIVE, .timeout = Bip9Deployment::NO_TIMEOUT,
                          .min_activation_height = 0, .threshold = threshold, .period = period};
}

// ---------------------------------------------------------------------------
// The chains
// ---------------------------------------------------------------------------

ChainParams MakeMain()
{
    ChainParams p;
    p.type = ChainType::MAIN;
    ConsensusParams& c = p.consensus;
    c.subsidy_halving_interval = 210000;
    c.bip34_height = 227931;
    c.bip34_hash = Hash("000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8");
    c.bip65_height = 388381;
    c.bip66_height = 363725;
    c.csv_height = 419328;
    c.segwit_height = 481824;
    c.taproot_height = 709632;
    c.taproot = Bip9Deployment{.bit = 2, .start_time = 1619222400, .timeout = 1628640000,
                               .min_activation_height = 709632, .threshold = 1815, .period = 2016};
    c.testdummy = NeverActiveTestDummy(1815, 2016);
    c.script_flag_exceptions = {
        {Hash("00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22"), ScriptFlagException::Flags::NONE},
        {Hash("0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad"),
         ScriptFlagException::Flags::P2SH_AND_WITNESS},
    };
    c.pow_limit = Hash("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    p.message_start = {0xf9, 0xbe, 0xb4, 0xd9};
    p.default_port = 8333;
    p.rpc_port = 8332;
    p.base58_pubkey_address = {0};
    p.base58_script_address = {5};
    p.base58_secret_key = {128};
    p.base58_ext_public_key = {0x04, 0x88, 0xB2, 0x1E};
    p.base58_ext_secret_key = {0x04, 0x88, 0xAD, 0xE4};
    p.bech32_hrp = "bc";
    SetGenesis(p, SatoshiGenesis(1231006505, 2083236893, 0x1d00ffff),
               "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    return p;
}

ChainParams MakeTestnet3()
{
    ChainParams p;
    p.type = ChainType::TESTNET;
    ConsensusParams& c = p.consensus;
    c.bip34_height = 21111;
    c.bip34_hash = Hash("0000000023b3a96d3484e5abb3755c413e7d41500f8e2a5c3f0dd01299cd8ef8");
    c.bip65_height = 581885;
    c.bip66_height = 330776;
    c.csv_height = 770112;
    c.segwit_height = 834624;
    c.taproot_height = std::nullopt;
    c.taproot = Bip9Deployment{.bit = 2, .start_time = 1619222400, .timeout = 1628640000,
                               .min_activation_height = 0, .threshold = 1512, .period = 2016};
    c.testdummy = NeverActiveTestDummy(1512, 2016);
    c.script_flag_exceptions = {
        {Hash("00000000dd30457c001f4095d208cc1296b0eed002427aa599874af7a432b105"), ScriptFlagException::Flags::NONE},
    };
    c.pow_limit = Hash("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    c.pow_allow_min_difficulty_blocks = true;
    p.message_start = {0x0b, 0x11, 0x09, 0x07};
    p.default_port = 18333;
    p.rpc_port = 18332;
    SetTestnetPrefixes(p);
    p.bech32_hrp = "tb";
    SetGenesis(p, SatoshiGenesis(1296688602, 414098458, 0x1d00ffff),
               "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943");
    return p;
}

ChainParams MakeTestnet4()
{
    ChainParams p;
    p.type = ChainType::TESTNET4;
    ConsensusParams& c = p.consensus;
    c.bip34_height = 1;
    c.bip65_height = 1;
    c.bip66_height = 1;
    c.csv_height = 1;
    c.segwit_height = 1;
    c.taproot_height = 0;
    c.taproot = AlwaysActiveTaproot(1512, 2016);
    c.testdummy = NeverActiveTestDummy(1512, 2016);
    c.pow_limit = Hash("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    c.pow_allow_min_difficulty_blocks = true;
    c.enforce_bip94 = true;
    p.message_start = {0x1c, 0x16, 0x3f, 0x28};
    p.default_port = 48333;
    p.rpc_port = 48332;
    SetTestnetPrefixes(p);
    p.bech32_hrp = "tb";
    // Testnet4's genesis commits to a mainnet block hash instead of a headline
    // and pays to an unspendable all-zero "pubkey".
    SetGenesis(p,
               CreateGenesisBlock("03/May/2024 000000000000000000001ebd58c244970b3aa9d783bb001011fbe8ea8e98e00e",
                                  PayToPubkey("000000000000000000000000000000000000000000000000000000000000000000"),
                                  1714777860, 393743547, 0x1d00ffff, 1, 50 * COIN),
               "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043");
    return p;
}

} // namespace

ChainParams MakeSignetParams(const std::optional<Script>& challenge)
{
    ChainParams p;
    p.type = ChainType::SIGNET;
    ConsensusParams& c = p.consensus;
    c.signet_blocks = true;
    c.signet_challenge = challenge ? *challenge : Hex(kDefaultSignetChallenge);
    c.bip34_height = 1;
    c.bip65_height = 1;
    c.bip66_height = 1;
    c.csv_height = 1;
    c.segwit_height = 1;
    c.taproot_height = 0;
    c.taproot = AlwaysActiveTaproot(1815, 2016);
    c.testdummy = NeverActiveTestDummy(1815, 2016);
    c.pow_limit = Hash("00000377ae000000000000000000000000000000000000000000000000000000");
    // Message start: first four bytes of SHA256d of the challenge serialized
    // as a CompactSize-prefixed vector.
    std::vector<uint8_t> serialized;
    Writer(serialized).WriteByteVector(c.signet_challenge);
    const crypto::Hash32 h = crypto::Sha256d(serialized);
    std::copy_n(h.begin(), 4, p.message_start.begin());
    p.default_port = 38333;
    p.rpc_port = 38332;
    SetTestnetPrefixes(p);
    p.bech32_hrp = "tb";
    SetGenesis(p, SatoshiGenesis(1598918400, 52613770, 0x1e0377ae),
               "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6");
    return p;
}

ChainParams MakeRegtestParams(const RegtestOptions& options)
{
    ChainParams p;
    p.type = ChainType::REGTEST;
    ConsensusParams& c = p.consensus;
    c.subsidy_halving_interval = 150;
    c.bip34_height = options.bip34_height.value_or(1);
    c.bip65_height = options.bip65_height.value_or(1);
    c.bip66_height = options.bip66_height.value_or(1);
    c.csv_height = options.csv_height.value_or(1);
    c.segwit_height = options.segwit_height.value_or(0);
    c.taproot_height = 0;
    c.taproot = AlwaysActiveTaproot(108, 144);
    // testdummy starts at once and never times out, so that tests can take it through every state.
    c.testdummy = Bip9Deployment{.bit = 28, .start_time = 0, .timeout = Bip9Deployment::NO_TIMEOUT,
                                 .min_activation_height = 0, .threshold = 108, .period = 144};
    c.pow_limit = Hash("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    c.pow_target_timespan = 24 * 60 * 60;
    c.pow_allow_min_difficulty_blocks = true;
    c.pow_no_retargeting = true;
    c.enforce_bip94 = options.enforce_bip94;
    p.message_start = {0xfa, 0xbf, 0xb5, 0xda};
    p.default_port = 18444;
    p.rpc_port = 18443;
    SetTestnetPrefixes(p);
    p.bech32_hrp = "bcrt";
    SetGenesis(p, SatoshiGenesis(1296688602, 2, 0x207fffff),
               "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    return p;
}

const ChainParams& GetChainParams(ChainType chain)
{
    static const ChainParams main = MakeMain();
    static const ChainParams testnet = MakeTestnet3();
    static const ChainParams testnet4 = MakeTestnet4();
    static const ChainParams signet = MakeSignetParams(std::nullopt);
    static const ChainParams regtest = MakeRegtestParams(RegtestOptions{});
    switch (chain) {
    case ChainType::MAIN: return main;
    case ChainType::TESTNET: return testnet;
    case ChainType::TESTNET4: return testnet4;
    case ChainType::SIGNET: return signet;
    case ChainType::REGTEST: return regtest;
    }
    throw std::logic_error("unknown chain type");
}

const ChainParams& GetChainParams(std::string_view chain_name)
{
    return GetChainParams(ChainTypeFromString(chain_name).value_or(ChainType::MAIN));
}

std::string DefaultPortsText(bool rpc)
{
    auto port = [rpc](ChainType chain) {
        const ChainParams& params = GetChainParams(chain);
        return std::to_string(rpc ? params.rpc_port : params.default_port);
    };
    return port(ChainType::MAIN) + ", testnet3: " + port(ChainType::TESTNET) +
           ", testnet4: " + port(ChainType::TESTNET4) + ", signet: " + port(ChainType::SIGNET) +
           ", regtest: " + port(ChainType::REGTEST);
}

std::string ChainTypeToString(ChainType chain)
{
    switch (chain) {
    case ChainType::MAIN: return "main";
    case ChainType::TESTNET: return "test";
    case ChainType::TESTNET4: return "testnet4";
    case ChainType::SIGNET: return "signet";
    case ChainType::REGTEST: return "regtest";
    }
    return "unknown";
}

std::optional<ChainType> ChainTypeFromString(std::string_view name)
{
    if (name == "main" || name == "mainnet") return ChainType::MAIN;
    if (name == "test" || name == "testnet" || name == "testnet3") return ChainType::TESTNET;
    if (name == "testnet4") return ChainType::TESTNET4;
    if (name == "signet") return ChainType::SIGNET;
    if (name == "regtest") return ChainType::REGTEST;
    return std::nullopt;
}

int ConsensusParams::DeploymentHeight(BuriedDeployment dep) const
{
    switch (dep) {
    case BuriedDeployment::HEIGHTINCB: return bip34_height;
    case BuriedDeployment::CLTV: return bip65_height;
    case BuriedDeployment::DERSIG: return bip66_height;
    case BuriedDeployment::CSV: return csv_height;
    case BuriedDeployment::SEGWIT: return segwit_height;
    }
    return INT32_MAX;
}

Block CreateGenesisBlock(std::string_view message, const Script& output_script, uint32_t time, uint32_t nonce,
                         uint32_t bits, int32_t version, Amount reward)
{
    Transaction coinbase;
    coinbase.version = 1;
    TxIn& in = coinbase.vin.emplace_back();
    AppendPushInt64(in.script_sig, 486604799);
    AppendPushData(in.script_sig, EncodeScriptNum(4)); // Core pushes CScriptNum(4) as data, not OP_4
    AppendPushData(in.script_sig,
                   std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
    coinbase.vout.push_back(TxOut{reward, output_script});

    Block genesis;
    genesis.version = version;
    genesis.time = time;
    genesis.bits = bits;
    genesis.nonce = nonce;
    genesis.txs.push_back(std::move(coinbase));
    genesis.merkle_root = BlockMerkleRoot(genesis);
    return genesis;
}

Amount GetBlockSubsidy(int height, const ConsensusParams& params)
{
    const int halvings = height / params.subsidy_halving_interval;
    if (halvings >= 64) return 0;
    return (50 * COIN) >> halvings;
}

} // namespace orrery
