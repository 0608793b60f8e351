// Block assembly over the chainstate and nonce grinding.
#include <services/node/miner.h>

#include <common/consensus/check.h>
#include <common/consensus/merkle.h>
#include <common/consensus/pow.h>
#include <services/node/validation/chainstate.h>

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>

namespace orrery::node {

namespace {

//! OP_RETURN, push 36 bytes, the commitment header aa21a9ed (BIP141).
constexpr uint8_t COMMITMENT_HEADER[] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};

} // namespace

std::vector<uint8_t> GenerateCoinbaseCommitment(Block& block, bool segwit_active)
{
    if (!segwit_active || block.txs.empty()) return {};
    Transaction& coinbase = block.txs[0];
    std::vector<uint8_t> script;
    if (const auto pos = GetWitnessCommitmentIndex(block)) {
        script = coinbase.vout[*pos].script_pubkey;
    } else {
        const std::vector<uint8_t> reserved(32, 0);
        const uint256 commitment = ComputeWitnessCommitment(BlockWitnessMerkleRoot(block), reserved);
        script.assign(std::begin(COMMITMENT_HEADER), std::end(COMMITMENT_HEADER));
        script.insert(script.end(), commitment.begin(), commitment.end());
        coinbase.vout.push_back(TxOut{0, script});
    }
    UpdateUncommittedBlockStructures(block, segwit_active);
    return script;
}

void UpdateUncommittedBlockStructures(Block& block, bool segwit_active)
{
    if (!segwit_active || block.txs.empty() || !GetWitnessCommitmentIndex(block)) return;
    TxIn& in = block.txs[0].vin.at(0);
    if (in.witness.empty()) in.witness.push_back(std::vector<uint8_t>(32, 0));
}

void RegenerateCommitments(Block& block, bool segwit_active)
{
    if (const auto pos = GetWitnessCommitmentIndex(block)) {
        auto& vout = block.txs[0].vout;
        vout.erase(vout.begin() + static_cast<std::ptrdiff_t>(*pos));
    }
    GenerateCoinbaseCommitment(block, segwit_active);
    block.merkle_root = BlockMerkleRoot(block);
}

bool SolveBlock(Block& block, uint64_t& max_tries, const ConsensusParams& params)
{
    block.merkle_root = BlockMerkleRoot(block);
    while (max_tries > 0 && block.nonce < std::numeric_limits<uint32_t>::max() &&
           !CheckProofOfWork(block.GetHash(), block.bits, params)) {
        ++block.nonce;
        --max_tries;
    }
    return max_tries > 0;
}

BlockAssembler::BlockAssembler(ChainstateManager& chainstate, std::function<int64_t()> now)
    : m_chainstate(chainstate), m_now(std::move(now))
{
}

BlockTemplate BlockAssembler::CreateNewBlock(const std::vector<uint8_t>& coinbase_script,
                                             const std::vector<Transaction>& txs, bool test_validity, bool include_fees)
{
    auto lock = m_chainstate.Lock();
    const ConsensusParams& params = m_chainstate.Params().consensus;
    const BlockIndex* prev = m_chainstate.Tip();
    if (prev == nullptr) throw std::runtime_error("No chain tip to build on");

    BlockTemplate out;
    out.height = prev->height + 1;
    out.segwit_active = m_chainstate.DeploymentActiveAfter(prev, BuriedDeployment::SEGWIT);
    out.min_time = prev->GetMedianTimePast() + 1;

    Block& block = out.block;
    // The top bits, with the bit of each deployment that is STARTED or LOCKED_IN (Core's ComputeBlockVersion).
    block.version = m_chainstate.VersionBits().ComputeBlockVersion(prev, params);
    block.prev_block = prev->hash;
    // Core's UpdateTime: the clock, but never at or below the median time past.
    block.time = static_cast<uint32_t>(std::max(out.min_time, m_now()));
    block.bits = m_chainstate.NextWorkRequired(prev, block.time);
    block.nonce = 0;

    Amount fees = 0;
    if (include_fees) {
        // Inputs from the UTXO set or from an earlier transaction of the block.
        std::map<OutPoint, Amount> created;
        for (const Transaction& tx : txs) {
            Amount in = 0;
            for (const TxIn& txin : tx.vin) {
                if (auto it = created.find(txin.prevout); it != created.end()) {
                    in += it->second;
                } else if (auto coin = m_chainstate.GetCoin(txin.prevout)) {
                    in += coin->out.value;
                }
            }
            const uint256 txid = tx.GetTxid();
            for (uint32_t i = 0; i < tx.vout.size(); ++i) created[OutPoint{txid, i}] = tx.vout[i].value;
            fees += in - GetValueOut(tx);
        }
    }
    out.coinbase_value = fees + GetBlockSubsidy(out.height, params);

    Transaction coinbase;
    coinbase.version = 2;
    TxIn in;
    in.prevout = OutPoint{};
    // Core's coinbase: the BIP34 height, then OP_0 (its extra nonce).
    in.script_sig = CoinbaseHeightPrefix(out.height);
    in.script_sig.push_back(OP_0);
    coinbase.vin.push_back(std::move(in));
    coinbase.vout.push_back(TxOut{out.coinbase_value, coinbase_script});
    block.txs.push_back(std::move(coinbase));
    block.txs.insert(block.txs.end(), txs.begin(), txs.end());

    out.witness_commitment = GenerateCoinbaseCommitment(block, out.segwit_active);
    block.merkle_root = BlockMerkleRoot(block);
    out.weight = static_cast<uint64_t>(GetBlockWeight(block));

    if (test_validity) {
        ValidationState state;
        if (!m_chainstate.TestBlockValidity(block, state, /*check_pow=*/false, /*check_merkle_root=*/false)) {
            throw std::runtime_error("TestBlockValidity failed: " + state.ToString());
        }
    }
    return out;
}

} // namespace orrery::node
