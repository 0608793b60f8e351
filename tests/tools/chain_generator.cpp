// The chain generator: a pool of spendable outputs that every new transaction
// draws from and feeds, keys derived from the seed, and one signing routine
// per output kind. Everything random comes from one splitmix64 stream, so a
// seed always gives the same blocks.
#include <tests/tools/chain_generator.h>

#include <common/consensus/check.h>
#include <common/consensus/hex.h>
#include <common/consensus/merkle.h>
#include <common/consensus/params.h>
#include <common/consensus/pow.h>
#include <common/crypto/hash.h>
#include <common/keys/key.h>
#include <common/script/interpreter.h>
#include <common/script/script_error.h>
#include <common/script/sighash.h>
#include <common/script/tx_checker.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace orrery::chaingen {

namespace {

constexpr int kCoinbaseMaturity = 100;
constexpr size_t kKeyCount = 64;
constexpr Amount kDust = 1000;
constexpr int64_t kMaxBlockWeight = 3'800'000; // below the 4,000,000 limit, room for the coinbase
constexpr uint32_t kConsensusFlags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
                                     SCRIPT_VERIFY_CHECKSEQUENCEVERIFY | SCRIPT_VERIFY_WITNESS |
                                     SCRIPT_VERIFY_NULLDUMMY | SCRIPT_VERIFY_TAPROOT;

enum class Kind : uint8_t { P2WPKH, P2TR_KEY, P2TR_SCRIPT, P2PKH, P2SH_P2WPKH, P2WSH_MULTISIG };
constexpr const char* kKindNames[] = {"p2wpkh", "p2tr_keypath", "p2tr_scriptpath",
                                      "p2pkh",  "p2sh_p2wpkh",  "p2wsh_2of3"};
//! Output kinds drawn by weight (out of 100): mostly P2WPKH and taproot, as on today's chain.
constexpr std::array<std::pair<Kind, int>, 6> kKindWeights{{{Kind::P2WPKH, 36},
                                                            {Kind::P2TR_KEY, 20},
                                                            {Kind::P2TR_SCRIPT, 8},
                                                            {Kind::P2PKH, 12},
                                                            {Kind::P2SH_P2WPKH, 14},
                                                            {Kind::P2WSH_MULTISIG, 10}}};

//! splitmix64: small, fast, and the same sequence on every platform (unlike std:: distributions).
struct Rng {
    uint64_t state;
    uint64_t Next()
    {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    //! Uniform enough in [0, n) for n far below 2^64.
    uint64_t Below(uint64_t n) { return Next() % n; }
    crypto::Hash32 Bytes32()
    {
        crypto::Hash32 out;
        for (size_t i = 0; i < out.size(); i += 8) {
            const uint64_t v = Next();
            for (size_t j = 0; j < 8; ++j) out[i + j] = uint8_t(v >> (8 * j));
        }
        return out;
    }
};

crypto::Hash32 ToHash32(const uint256& h)
{
    crypto::Hash32 out;
    std::copy(h.begin(), h.end(), out.begin());
    return out;
}

//! One key of the pool and every script the generator builds from it (and from its neighbours).
struct KeyInfo {
    Key key;
    PubKey pub;
    XOnlyPubKey xonly;
    std::array<Script, 6> script_pubkey; //!< indexed by Kind
    Script p2pkh_script_code;            //!< also the P2WPKH script code
    Script p2sh_redeem;                  //!< 0014<keyhash>
    Script multisig_script;              //!< 2 <k> <k+1> <k+2> 3 CHECKMULTISIG
    Script leaf_script;                  //!< <xonly(k+1)> CHECKSIG
    std::array<uint8_t, 32> leaf_hash{};
    std::vector<uint8_t> control; //!< c0|parity, internal key
};

std::vector<KeyInfo> MakeKeys(uint64_t seed)
{
    std::vector<KeyInfo> keys;
    keys.reserve(kKeyCount);
    for (size_t i = 0; i < kKeyCount; ++i) {
        std::vector<uint8_t> material{'c', 'h', 'a', 'i', 'n', 'g', 'e', 'n'};
        for (int b = 0; b < 8; ++b) material.push_back(uint8_t(seed >> (8 * b)));
        material.push_back(uint8_t(i));
        auto key = Key::FromSecret(crypto::Sha256(material));
        if (!key) throw std::runtime_error("chaingen: a derived secret is out of range");
        KeyInfo info{*key, key->GetPubKey(), key->GetXOnlyPubKey(), {}, {}, {}, {}, {}, {}, {}};
        keys.push_back(std::move(info));
    }
    for (size_t i = 0; i < kKeyCount; ++i) {
        KeyInfo& k = keys[i];
        const auto keyhash = k.pub.GetId();
        Script p2wpkh{OP_0};
        AppendPushData(p2wpkh, keyhash);
        k.p2pkh_script_code = Script{OP_DUP, OP_HASH160};
        AppendPushData(k.p2pkh_script_code, keyhash);
        k.p2pkh_script_code.insert(k.p2pkh_script_code.end(), {OP_EQUALVERIFY, OP_CHECKSIG});
        k.p2sh_redeem = p2wpkh;
        Script p2sh{OP_HASH160};
        AppendPushData(p2sh, crypto::Hash160(k.p2sh_redeem));
        p2sh.push_back(OP_EQUAL);

        k.multisig_script = Script{OP_2};
        for (size_t j = 0; j < 3; ++j) AppendPushData(k.multisig_script, keys[(i + j) % kKeyCount].pub.bytes());
        k.multisig_script.insert(k.multisig_script.end(), {OP_3, OP_CHECKMULTISIG});
        Script p2wsh{OP_0};
        AppendPushData(p2wsh, crypto::Sha256(k.multisig_script));

        const auto key_path = k.xonly.CreateTapTweak(std::nullopt);
        Script p2tr_key{OP_1};
        AppendPushData(p2tr_key, key_path->first.bytes());

        k.leaf_script.clear();
        AppendPushData(k.leaf_script, keys[(i + 1) % kKeyCount].xonly.bytes());
        k.leaf_script.push_back(OP_CHECKSIG);
        k.leaf_hash = ComputeTapleafHash(0xc0, k.leaf_script);
        const auto script_path = k.xonly.CreateTapTweak(crypto::Hash32(k.leaf_hash));
        Script p2tr_script{OP_1};
        AppendPushData(p2tr_script, script_path->first.bytes());
        k.control = {uint8_t(0xc0 | (script_path->second ? 1 : 0))};
        k.control.insert(k.control.end(), k.xonly.bytes().begin(), k.xonly.bytes().end());

        k.script_pubkey[size_t(Kind::P2WPKH)] = p2wpkh;
        k.script_pubkey[size_t(Kind::P2TR_KEY)] = p2tr_key;
        k.script_pubkey[size_t(Kind::P2TR_SCRIPT)] = p2tr_script;
        k.script_pubkey[size_t(Kind::P2PKH)] = k.p2pkh_script_code;
        k.script_pubkey[size_t(Kind::P2SH_P2WPKH)] = p2sh;
        k.script_pubkey[size_t(Kind::P2WSH_MULTISIG)] = p2wsh;
    }
    return keys;
}

struct Spendable {
    OutPoint outpoint;
    Amount value{0};
    Kind kind{Kind::P2WPKH};
    uint16_t key{0};
    int height{0};
};

//! Everything that evolves along a branch; copied at the fork point so the side branch starts from it.
struct BranchState {
    Rng rng;
    std::vector<Spendable> pool;                                 //!< spendable now
    std::deque<std::pair<int, std::vector<Spendable>>> immature; //!< coinbase outputs by creation height
    uint256 prev_hash;
    int height{0};
};

class Generator
{
public:
    Generator(const Options& options)
        : m_options{options}, m_params{GetChainParams(ChainType::REGTEST)}, m_keys{MakeKeys(options.seed)}
    {
    }

    Block MakeBlock(BranchState& state, int branch, Stats& stats)
    {
        const int height = state.height + 1;
        while (!state.immature.empty() && state.immature.front().first + kCoinbaseMaturity <= height) {
            for (auto& s : state.immature.front().second) state.pool.push_back(s);
            state.immature.pop_front();
        }

        Block block;
        block.version = 0x20000000;
        block.prev_block = state.prev_hash;
        block.time = uint32_t(m_params.genesis.time + 600 * int64_t(height) + branch);
        block.bits = m_params.genesis.bits;
        block.txs.emplace_back(); // the coinbase, filled in last

        Amount fees = 0;
        int64_t weight = 4000;
        for (int t = 0; t < m_options.txs_per_block && !state.pool.empty() && weight < kMaxBlockWeight; ++t) {
            Transaction tx = MakeTransaction(state, height, fees, stats);
            weight += GetTransactionWeight(tx);
            block.txs.push_back(std::move(tx));
        }

        MakeCoinbase(block, state, height, branch, GetBlockSubsidy(height, m_params.consensus) + fees, stats);
        block.merkle_root = BlockMerkleRoot(block);
        while (!CheckProofOfWork(block.GetHash(), block.bits, m_params.consensus)) ++block.nonce;

        ValidationState vstate;
        if (!CheckBlock(block, vstate, m_params.consensus) ||
            !ContextualCheckBlock(block, vstate, m_params.consensus, height, 0)) {
            throw std::runtime_error("chaingen: generated block at height " + std::to_string(height) + " fails " +
                                     vstate.GetRejectReason());
        }
        state.prev_hash = block.GetHash();
        state.height = height;
        ++stats.blocks;
        return block;
    }

private:
    Kind DrawKind(Rng& rng)
    {
        int r = int(rng.Below(100));
        for (const auto& [kind, weight] : kKindWeights) {
            if (r < weight) return kind;
            r -= weight;
        }
        return Kind::P2WPKH;
    }

    Spendable TakeInput(BranchState& state, int height)
    {
        size_t index;
        // About one input in seven spends the newest output when it was made earlier in this very block.
        if (state.pool.back().height == height && state.rng.Below(7) == 0) {
            index = state.pool.size() - 1;
        } else {
            index = size_t(state.rng.Below(state.pool.size()));
        }
        Spendable s = state.pool[index];
        state.pool[index] = state.pool.back();
        state.pool.pop_back();
        return s;
    }

    Transaction MakeTransaction(BranchState& state, int height, Amount& fees, Stats& stats)
    {
        Rng& rng = state.rng;
        size_t n_in;
        const uint64_t r = rng.Below(100);
        if (r < 3 && state.pool.size() > 60) {
            n_in = 10 + size_t(rng.Below(41)); // a consolidation
        } else if (r < 55) {
            n_in = 1;
        } else if (r < 85) {
            n_in = 2;
        } else {
            n_in = 3;
        }
        n_in = std::min(n_in, state.pool.size());

        Transaction tx;
        tx.version = 2;
        std::vector<Spendable> spent;
        Amount in_value = 0;
        for (size_t i = 0; i < n_in; ++i) {
            spent.push_back(TakeInput(state, height));
            if (spent.back().height == height) ++stats.same_block_spends;
            in_value += spent.back().value;
            TxIn in;
            in.prevout = spent.back().outpoint;
            in.sequence = 0xfffffffd;
            tx.vin.push_back(std::move(in));
        }
        if (n_in >= 10) ++stats.consolidations;

        size_t n_out = n_in >= 10 ? 1 : 1 + size_t(rng.Below(100) < 30 ? 0 : rng.Below(100) < 80 ? 1 : 2);
        const bool op_return = rng.Below(100) < 8;
        const Amount fee = 150 + 70 * Amount(n_in) + 40 * Amount(n_out);
        Amount available = in_value - fee;
        while (n_out > 1 && available < Amount(n_out) * 4 * kDust) --n_out;
        if (available < kDust) n_out = 0; // all to fees, an OP_RETURN carries the transaction
        std::vector<Kind> kinds;
        for (size_t o = 0; o < n_out; ++o) {
            Amount value;
            if (o + 1 == n_out) {
                value = available;
            } else {
                const Amount share = available / Amount(n_out - o);
                value = share / 2 + Amount(rng.Below(uint64_t(share)));
                value = std::clamp<Amount>(value, kDust, available - kDust * Amount(n_out - o - 1));
            }
            available -= value;
            const Kind kind = DrawKind(rng);
            const auto key = uint16_t(rng.Below(kKeyCount));
            tx.vout.push_back(TxOut{value, m_keys[key].script_pubkey[size_t(kind)]});
            kinds.push_back(kind);
            m_pending_keys.push_back(key);
        }
        fees += fee + available; // `available` is non-zero only when no output took it
        if (op_return || n_out == 0) {
            Script data{OP_RETURN};
            std::vector<uint8_t> payload(8 + rng.Below(33));
            for (auto& b : payload) b = uint8_t(rng.Next());
            AppendPushData(data, payload);
            tx.vout.push_back(TxOut{0, data});
            ++stats.outputs_by_type["op_return"];
        }

        Sign(tx, spent, rng);
        const uint256 txid = tx.GetTxid();
        for (size_t o = 0; o < kinds.size(); ++o) {
            state.pool.push_back(Spendable{{txid, uint32_t(o)}, tx.vout[o].value, kinds[o], m_pending_keys[o], height});
            ++stats.outputs_by_type[kKindNames[size_t(kinds[o])]];
        }
        m_pending_keys.clear();
        for (const auto& s : spent) ++stats.inputs_by_type[kKindNames[size_t(s.kind)]];
        ++stats.transactions;
        stats.inputs += n_in;
        stats.outputs += tx.vout.size();
        return tx;
    }

    static std::vector<uint8_t> WithHashType(std::vector<uint8_t> sig)
    {
        sig.push_back(SIGHASH_ALL);
        return sig;
    }

    void Sign(Transaction& tx, const std::vector<Spendable>& spent, Rng& rng)
    {
        std::vector<TxOut> spent_outputs;
        for (const auto& s : spent)
            spent_outputs.push_back(TxOut{s.value, m_keys[s.key].script_pubkey[size_t(s.kind)]});
        const PrecomputedTransactionData txdata(tx, spent_outputs, true);
        for (size_t i = 0; i < tx.vin.size(); ++i) {
            const Spendable& s = spent[i];
            const KeyInfo& k = m_keys[s.key];
            TxIn& in = tx.vin[i];
            switch (s.kind) {
            case Kind::P2PKH: {
                const uint256 h = SignatureHashLegacy(k.p2pkh_script_code, tx, i, SIGHASH_ALL);
                in.script_sig.clear();
                AppendPushData(in.script_sig, WithHashType(k.key.SignEcdsa(ToHash32(h))));
                AppendPushData(in.script_sig, k.pub.bytes());
                break;
            }
            case Kind::P2WPKH:
            case Kind::P2SH_P2WPKH: {
                const uint256 h = SignatureHashWitnessV0(k.p2pkh_script_code, tx, i, SIGHASH_ALL, s.value, &txdata);
                in.witness = {WithHashType(k.key.SignEcdsa(ToHash32(h))),
                              std::vector<uint8_t>(k.pub.bytes().begin(), k.pub.bytes().end())};
                if (s.kind == Kind::P2SH_P2WPKH) {
                    in.script_sig.clear();
                    AppendPushData(in.script_sig, k.p2sh_redeem);
                }
                break;
            }
            case Kind::P2WSH_MULTISIG: {
                const uint256 h = SignatureHashWitnessV0(k.multisig_script, tx, i, SIGHASH_ALL, s.value, &txdata);
                // Two of the three keys, in script order; which two varies.
                const size_t skip = size_t(rng.Below(3));
                in.witness = {{}};
                for (size_t j = 0; j < 3; ++j) {
                    if (j == skip) continue;
                    in.witness.push_back(WithHashType(m_keys[(s.key + j) % kKeyCount].key.SignEcdsa(ToHash32(h))));
                }
                in.witness.emplace_back(k.multisig_script.begin(), k.multisig_script.end());
                break;
            }
            case Kind::P2TR_KEY: {
                ScriptExecutionData exec;
                exec.m_annex_init = true;
                const auto h = SignatureHashSchnorr(exec, tx, i, SIGHASH_DEFAULT, SigVersion::TAPROOT, txdata);
                if (!h) throw std::runtime_error("chaingen: taproot sighash failed");
                const auto sig = k.key.SignTaprootKeyPath(*h, std::nullopt, rng.Bytes32());
                if (!sig) throw std::runtime_error("chaingen: taproot key path signing failed");
                in.witness = {std::vector<uint8_t>(sig->begin(), sig->end())};
                break;
            }
            case Kind::P2TR_SCRIPT: {
                ScriptExecutionData exec;
                exec.m_annex_init = true;
                exec.m_tapleaf_hash_init = true;
                exec.m_tapleaf_hash = k.leaf_hash;
                exec.m_codeseparator_pos_init = true;
                const auto h = SignatureHashSchnorr(exec, tx, i, SIGHASH_DEFAULT, SigVersion::TAPSCRIPT, txdata);
                if (!h) throw std::runtime_error("chaingen: tapscript sighash failed");
                const auto sig = m_keys[(s.key + 1) % kKeyCount].key.SignSchnorr(*h, rng.Bytes32());
                if (!sig) throw std::runtime_error("chaingen: tapscript signing failed");
                in.witness = {std::vector<uint8_t>(sig->begin(), sig->end()),
                              std::vector<uint8_t>(k.leaf_script.begin(), k.leaf_script.end()), k.control};
                break;
            }
            }
        }
        if (!m_options.check_scripts) return;
        for (size_t i = 0; i < tx.vin.size(); ++i) {
            const TransactionSignatureChecker checker(tx, i, spent[i].value, txdata);
            ScriptError error{};
            if (!VerifyScript(tx.vin[i].script_sig, spent_outputs[i].script_pubkey, &tx.vin[i].witness, kConsensusFlags,
                              checker, &error)) {
                throw std::runtime_error(std::string("chaingen: self-check failed for a ") +
                                         kKindNames[size_t(spent[i].kind)] +
                                         " input: " + std::string(ScriptErrorString(error)));
            }
        }
    }

    void MakeCoinbase(Block& block, BranchState& state, int height, int branch, Amount value, Stats& stats)
    {
        Transaction& cb = block.txs[0];
        cb.version = 2;
        TxIn in;
        in.script_sig = CoinbaseHeightPrefix(height);
        // The branch and the seed make coinbases (and so blocks) of different branches and seeds differ.
        std::vector<uint8_t> tag{uint8_t(branch)};
        for (int b = 0; b < 4; ++b) tag.push_back(uint8_t(m_options.seed >> (8 * b)));
        AppendPushData(in.script_sig, tag);
        in.witness = {std::vector<uint8_t>(32, 0)};
        cb.vin = {in};
        // Split the reward into several outputs while it is large, so that the pool grows fast.
        size_t n_out = value >= 100 * kDust * 10 ? 10 : value >= 2 * kDust ? 1 : 0;
        std::vector<Spendable> outs;
        Amount left = value;
        for (size_t o = 0; o < n_out; ++o) {
            const Amount v = o + 1 == n_out ? left : value / Amount(n_out);
            left -= v;
            const Kind kind = DrawKind(state.rng);
            const auto key = uint16_t(state.rng.Below(kKeyCount));
            cb.vout.push_back(TxOut{v, m_keys[key].script_pubkey[size_t(kind)]});
            outs.push_back(Spendable{{}, v, kind, key, height});
            ++stats.outputs_by_type[kKindNames[size_t(kind)]];
        }
        if (n_out == 0) cb.vout.push_back(TxOut{value, Script{OP_TRUE}}); // dust reward: burnt to anyone-can-spend
        // BIP141 commitment, last output.
        const uint256 commitment = ComputeWitnessCommitment(BlockWitnessMerkleRoot(block), cb.vin[0].witness[0]);
        Script commit{OP_RETURN, 0x24, 0xaa, 0x21, 0xa9, 0xed};
        commit.insert(commit.end(), commitment.begin(), commitment.end());
        cb.vout.push_back(TxOut{0, commit});
        const uint256 txid = cb.GetTxid();
        for (size_t o = 0; o < outs.size(); ++o) outs[o].outpoint = OutPoint{txid, uint32_t(o)};
        state.immature.emplace_back(height, std::move(outs));
    }

    const Options& m_options;
    const ChainParams& m_params;
    std::vector<KeyInfo> m_keys;
    std::vector<uint16_t> m_pending_keys;
};

} // namespace

Chain Generate(const Options& options)
{
    if (options.blocks < 1) throw std::runtime_error("chaingen: --blocks must be at least 1");
    if (options.fork_length > 0 && (options.fork_at < 0 || options.fork_at >= options.blocks)) {
        throw std::runtime_error("chaingen: --fork-at must be a main-branch height below --blocks");
    }
    Generator gen(options);
    Chain chain;
    BranchState main;
    main.rng.state = options.seed;
    main.prev_hash = GetChainParams(ChainType::REGTEST).GenesisHash();
    std::optional<BranchState> fork_point;
    if (options.fork_length > 0 && options.fork_at == 0) fork_point = main;
    for (int h = 1;; ++h) {
        const bool more = h <= options.blocks ||
                          (options.target_txs > 0 && chain.main_stats.transactions < options.target_txs) ||
                          (options.target_inputs > 0 && chain.main_stats.inputs < options.target_inputs);
        if (!more) break;
        chain.main.push_back(gen.MakeBlock(main, 0, chain.main_stats));
        if (options.progress) options.progress(h, false);
        if (options.fork_length > 0 && h == options.fork_at) fork_point = main;
    }
    if (fork_point) {
        BranchState side = *fork_point;
        side.rng.state ^= 0x5eed5eed5eed5eedULL; // the side branch makes different choices from the same state
        for (int i = 0; i < options.fork_length; ++i) {
            chain.side.push_back(gen.MakeBlock(side, 1, chain.side_stats));
            if (options.progress) options.progress(side.height, true);
        }
    }
    return chain;
}

void WriteBlockStream(const std::filesystem::path& path, const std::array<uint8_t, 4>& magic,
                      const std::vector<Block>& blocks)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("chaingen: cannot write " + path.string());
    for (const Block& block : blocks) {
        const std::vector<uint8_t> raw = SerializeBlock(block);
        std::vector<uint8_t> header(magic.begin(), magic.end());
        Writer{header}.WriteU32(uint32_t(raw.size()));
        out.write(reinterpret_cast<const char*>(header.data()), std::streamsize(header.size()));
        out.write(reinterpret_cast<const char*>(raw.data()), std::streamsize(raw.size()));
    }
    if (!out.flush()) throw std::runtime_error("chaingen: write failed on " + path.string());
}

void WriteHexLines(const std::filesystem::path& path, const std::vector<Block>& blocks)
{
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw std::runtime_error("chaingen: cannot write " + path.string());
    for (const Block& block : blocks) out << HexStr(SerializeBlock(block)) << '\n';
    if (!out.flush()) throw std::runtime_error("chaingen: write failed on " + path.string());
}

} // namespace orrery::chaingen
