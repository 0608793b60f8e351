// Chain parameters for main, testnet3, testnet4, signet and regtest: genesis
// blocks (built from their fields, like Core's CreateGenesisBlock), consensus
// rules (activation heights, proof-of-work limits and retarget rules,
// subsidy schedule) and network constants (message start, ports, address
// prefixes). Values are Bitcoin Core's kernel/chainparams.cpp.
#ifndef ORRERY_COMMON_CONSENSUS_PARAMS_H
#define ORRERY_COMMON_CONSENSUS_PARAMS_H

#include <common/consensus/block.h>
#include <common/consensus/script.h>
#include <common/consensus/uint256.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orrery {

enum class ChainType { MAIN, TESTNET, TESTNET4, SIGNET, REGTEST };

//! Core's names: "main", "test", "testnet4", "signet", "regtest".
std::string ChainTypeToString(ChainType chain);
//! Accepts Core's names (and "mainnet", "testnet3" as aliases).
std::optional<ChainType> ChainTypeFromString(std::string_view name);

//! Soft forks whose activation height is fixed in the parameters.
enum class BuriedDeployment { HEIGHTINCB, CLTV, DERSIG, CSV, SEGWIT };

//! A BIP9 version-bits deployment: taproot, and testdummy (signalled on regtest only, to test the machinery).
struct Bip9Deployment {
    static constexpr int64_t ALWAYS_ACTIVE = -1;
    static constexpr int64_t NEVER_ACTIVE = -2;
    static constexpr int64_t NO_TIMEOUT = INT64_MAX;

    int bit{0};
    int64_t start_time{NEVER_ACTIVE};
    int64_t timeout{NO_TIMEOUT};
    int min_activation_height{0};
    int threshold{0};
    int period{2016};
};

//! A block whose script checks run with fewer flags than its height implies
//! (Core's script_flag_exceptions): the two historical blocks that violate
//! BIP16 and taproot rules respectively.
struct ScriptFlagException {
    enum class Flags { NONE, P2SH_AND_WITNESS };
    uint256 block_hash;
    Flags flags;
};

struct ConsensusParams {
    uint256 genesis_hash;
    int subsidy_halving_interval{210000};
    //! BIP34 (height in coinbase) and the hash of its activation block.
    int bip34_height{0};
    uint256 bip34_hash;
    int bip65_height{0}; //!< OP_CHECKLOCKTIMEVERIFY
    int bip66_height{0}; //!< strict DER signatures
    int csv_height{0};   //!< BIP68/112/113
    int segwit_height{0};
    //! Height from which taproot is enforced, where it is known statically:
    //! 709632 on main (its min_activation_height, reached by the BIP9 lock-in)
    //! and 0 where Core sets ALWAYS_ACTIVE. nullopt on testnet3, where Core
    //! computes it from BIP9 signalling (see taproot).
    std::optional<int> taproot_height;
    Bip9Deployment taproot;
    //! Core's DEPLOYMENT_TESTDUMMY on bit 28: NEVER_ACTIVE except on regtest, where it starts at once.
    Bip9Deployment testdummy;
    std::vector<ScriptFlagException> script_flag_exceptions;

    //! Highest allowed target, in uint256 storage form (display-hex in Core).
    uint256 pow_limit;
    int64_t pow_target_spacing{600};
    int64_t pow_target_timespan{14 * 24 * 60 * 60};
    //! Testnet rule: a block more than 20 minutes after its parent may use
    //! the pow limit.
    bool pow_allow_min_difficulty_blocks{false};
    //! Regtest: difficulty never changes.
    bool pow_no_retargeting{false};
    //! BIP94 (testnet4): retarget from the period's first block's bits and
    //! forbid timewarp on the period's first block.
    bool enforce_bip94{false};

    //! Signet (BIP325): blocks must carry a solution to signet_challenge.
    bool signet_blocks{false};
    Script signet_challenge;

    int64_t DifficultyAdjustmentInterval() const { return pow_target_timespan / pow_target_spacing; }
    int DeploymentHeight(BuriedDeployment dep) const;
    //! Whether a buried deployment is enforced in the block at height.
    bool DeploymentActiveAt(int height, BuriedDeployment dep) const { return height >= DeploymentHeight(dep); }
};

struct ChainParams {
    ChainType type{ChainType::MAIN};
    ConsensusParams consensus;
    //! First four bytes of every P2P message.
    std::array<uint8_t, 4> message_start{};
    uint16_t default_port{0};
    uint16_t rpc_port{0};
    //! Base58Check version prefixes.
    std::vector<uint8_t> base58_pubkey_address;
    std::vector<uint8_t> base58_script_address;
    std::vector<uint8_t> base58_secret_key;
    std::array<uint8_t, 4> base58_ext_public_key{};
    std::array<uint8_t, 4> base58_ext_secret_key{};
    std::string bech32_hrp;
    Block genesis;

    const uint256& GenesisHash() const { return consensus.genesis_hash; }
};

//! The built-in parameters of a chain. Built once on first use (thread-safe)
//! and alive for the whole program.
const ChainParams& GetChainParams(ChainType chain);
//! The built-in parameters of a chain by Core's name (-chain, -regtest...); main for an unknown name.
const ChainParams& GetChainParams(std::string_view chain_name);
//! The default P2P port (or with `rpc`, RPC port) of each network as option help shows it:
//! "8333, testnet3: 18333, testnet4: 48333, signet: 38333, regtest: 18444".
std::string DefaultPortsText(bool rpc);

//! Regtest knobs Core exposes as -testactivationheight and -test=bip94.
struct RegtestOptions {
    std::optional<int> bip34_height, bip65_height, bip66_height, csv_height, segwit_height;
    bool enforce_bip94{false};
};
ChainParams MakeRegtestParams(const RegtestOptions& options);
//! Signet with a custom challenge (-signetchallenge); the message start is
//! derived from it. Default challenge when nullopt.
ChainParams MakeSignetParams(const std::optional<Script>& challenge);

//! Core's CreateGenesisBlock: one coinbase whose scriptSig pushes 486604799,
//! 4 and the timestamp message, paying reward to output_script.
Block CreateGenesisBlock(std::string_view message, const Script& output_script, uint32_t time, uint32_t nonce,
                         uint32_t bits, int32_t version, Amount reward);

//! Block reward before fees at height: 50 BTC halved every
//! subsidy_halving_interval blocks, zero after 64 halvings.
Amount GetBlockSubsidy(int height, const ConsensusParams& params);

} // namespace orrery

#endif // ORRERY_COMMON_CONSENSUS_PARAMS_H
