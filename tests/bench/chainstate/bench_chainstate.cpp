// The chainstate benchmark, every figure in one run against baselines measured in the same run:
//   - raw libsecp256k1 ECDSA verifications/s on one thread and on every core, and per CPU second (the baseline);
//   - a generated chain (orrery-chaingen, >= 100,000 transactions and 150,000 inputs) submitted block by
//     block (ProcessNewBlock), then connected again from its block files with -reindex-chainstate: blocks/s,
//     transactions/s, inputs/s, CPU seconds, and inputs/s over the all-core raw rate (and inputs per CPU second
//     over raw verifications per CPU second, which the machine's load does not move) against the 50% target;
//   - peak RSS during that connect at the -dbcache given and at a small one;
//   - a 100-block reorganization (a 101-block side branch), in ms;
//   - a flush of a cache filled to -dbcache (450 MiB) with coins through CoinsCache's API into a real CoinsDB, in
//     s, against a raw LevelDB batch write of the same records;
//   - `generatetoaddress 1000` through orreryd's RPC, blocks/s (when orreryd and orrery-cli are built).
// Options: --chaingen=PATH (required) --bindir=BUILD_DIR --workdir=DIR --txs=N --inputs=N --dbcache=MiB
// --flush-mib=MiB --keep (leave the node's datadir in the work folder).
#include <common/consensus/block.h>
#include <common/consensus/params.h>
#include <common/crypto/hash.h>
#include <services/node/storage/coins.h>
#include <services/node/validation/chainstate.h>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <secp256k1.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

using namespace orrery;
using namespace orrery::node;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

//! CPU seconds (user + system) of the calling thread.
double ThreadCpuSeconds()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

//! CPU seconds (user + system) of the whole process, every thread.
double ProcessCpuSeconds()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec) + double(usage.ru_utime.tv_usec) / 1e6 + double(usage.ru_stime.tv_sec) +
           double(usage.ru_stime.tv_usec) / 1e6;
}

//! Resets the peak resident set (VmHWM) to the current one.
void ResetPeakRss()
{
    std::ofstream("/proc/self/clear_refs") << "5";
}

[[noreturn]] void Die(const std::string& message)
{
    std::fprintf(stderr, "bench_chainstate: %s\n", message.c_str());
    std::exit(1);
}

// ---------------------------------------------------------------------------
// Baseline: raw libsecp256k1
// ---------------------------------------------------------------------------

struct RawRates {
    double one_thread{0};
    double all_cores{0};
    //! Verifications per CPU second of the one-thread run: what a core does when it is not shared, whatever the
    //! load of the machine (other processes take wall time, not CPU time).
    double per_cpu_second{0};
    unsigned cores{1};
};

RawRates RawEcdsaRates()
{
    constexpr size_t N = 512;
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::vector<std::vector<uint8_t>> pubkeys(N), ders(N);
    std::vector<std::array<uint8_t, 32>> msgs(N);
    for (size_t i = 0; i < N; ++i) {
        const uint8_t seed[2] = {uint8_t(i), uint8_t(i >> 8)};
        const auto seckey = crypto::Sha256(seed);
        msgs[i] = crypto::Sha256(seckey);
        secp256k1_pubkey pk;
        if (!secp256k1_ec_pubkey_create(ctx, &pk, seckey.data())) Die("secp256k1_ec_pubkey_create");
        pubkeys[i].resize(33);
        size_t len = 33;
        secp256k1_ec_pubkey_serialize(ctx, pubkeys[i].data(), &len, &pk, SECP256K1_EC_COMPRESSED);
        secp256k1_ecdsa_signature sig;
        if (!secp256k1_ecdsa_sign(ctx, &sig, msgs[i].data(), seckey.data(), nullptr, nullptr)) Die("sign");
        ders[i].resize(72);
        len = 72;
        secp256k1_ecdsa_signature_serialize_der(ctx, ders[i].data(), &len, &sig);
        ders[i].resize(len);
    }
    // As a node does: parse the serialized key and signature, then verify.
    auto verify_for = [&](double seconds, double* per_cpu_second) {
        size_t ops = 0;
        const auto start = Clock::now();
        const double cpu_start = ThreadCpuSeconds();
        while (Seconds(start) < seconds) {
            for (size_t i = 0; i < N; ++i) {
                secp256k1_pubkey pk;
                secp256k1_ecdsa_signature sig;
                if (!secp256k1_ec_pubkey_parse(ctx, &pk, pubkeys[i].data(), pubkeys[i].size()) ||
                    !secp256k1_ecdsa_signature_parse_der(ctx, &sig, ders[i].data(), ders[i].size()) ||
                    !secp256k1_ecdsa_verify(ctx, &sig, msgs[i].data(), &pk)) {
                    Die("a baseline signature does not verify");
                }
            }
            ops += N;
        }
        if (per_cpu_second) *per_cpu_second = double(ops) / (ThreadCpuSeconds() - cpu_start);
        return double(ops) / Seconds(start);
    };
    RawRates rates;
    rates.cores = std::max(1U, std::thread::hardware_concurrency());
    rates.one_thread = verify_for(1.0, &rates.per_cpu_second);
    std::vector<double> per_thread(rates.cores);
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < rates.cores; ++t)
        threads.emplace_back([&, t] { per_thread[t] = verify_for(1.0, nullptr); });
    for (auto& t : threads) t.join();
    for (double r : per_thread) rates.all_cores += r;
    secp256k1_context_destroy(ctx);
    return rates;
}

// ---------------------------------------------------------------------------
// The chain
// ---------------------------------------------------------------------------

std::string Run(const std::string& cmd)
{
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) Die("cannot run " + cmd);
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
    if (::pclose(pipe) != 0) Die("failed: " + cmd);
    return out;
}

std::vector<Block> ReadStream(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<Block> blocks;
    SpanReader reader(data);
    while (!reader.Empty()) {
        reader.ReadSpan(4, "magic");
        const uint32_t size = reader.ReadU32();
        blocks.push_back(DeserializeBlock(reader.ReadSpan(size, "block")));
    }
    return blocks;
}

//! The process's peak resident set, in MiB (VmHWM).
double PeakRssMiB()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return 0;
}

ChainstateOptions MakeOptions(const fs::path& datadir, size_t dbcache_mib, unsigned threads)
{
    ChainstateOptions options;
    options.data_dir = datadir;
    options.blocks_dir = datadir / "blocks";
    options.dbcache_bytes = dbcache_mib << 20;
    options.script_threads = int(threads);
    options.now = [] { return int64_t(std::time(nullptr)); };
    options.request_shutdown = [](const std::string& reason) { Die("shutdown requested: " + reason); };
    return options;
}

struct ChainCounts {
    uint64_t blocks{0}, txs{0}, inputs{0};
};

ChainCounts Count(const std::vector<Block>& blocks)
{
    ChainCounts c;
    c.blocks = blocks.size();
    for (const Block& b : blocks) {
        c.txs += b.txs.size() - 1;
        for (size_t i = 1; i < b.txs.size(); ++i) c.inputs += b.txs[i].vin.size();
    }
    return c;
}

// ---------------------------------------------------------------------------
// A flush of a full cache
// ---------------------------------------------------------------------------

//! The coins of the flush measurement, deterministic: outputs of made-up transactions, two to four per
//! transaction, with the chain's mix of P2WPKH, P2TR, P2PKH and P2SH scripts and varied amounts.
class CoinMaker
{
public:
    void Next(OutPoint& outpoint, Coin& coin)
    {
        if (m_left == 0) {
            const uint64_t words[4] = {Mix(), Mix(), Mix(), Mix()};
            std::memcpy(m_txid.data(), words, 32);
            m_left = 2 + uint32_t(Mix() % 3);
            m_n = 0;
        }
        --m_left;
        outpoint = OutPoint{m_txid, m_n++};
        const uint64_t r = Mix();
        Script script;
        switch (r % 4) {
        case 0: // P2WPKH
            script = {0x00, 20};
            script.resize(22, uint8_t(r >> 8));
            break;
        case 1: // P2TR
            script = {0x51, 32};
            script.resize(34, uint8_t(r >> 8));
            break;
        case 2: // P2PKH
            script = {0x76, 0xa9, 20};
            script.resize(23, uint8_t(r >> 8));
            script.push_back(0x88);
            script.push_back(0xac);
            break;
        default: // P2SH
            script = {0xa9, 20};
            script.resize(22, uint8_t(r >> 8));
            script.push_back(0x87);
            break;
        }
        coin = Coin{TxOut{Amount(1000 + (r >> 16) % 5'000'000'000), std::move(script)}, uint32_t(r >> 40) % 800'000,
                    (r & 0x10) != 0};
    }

private:
    uint64_t Mix()
    {
        uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t m_state{42};
    uint256 m_txid;
    uint32_t m_n{0};
    uint32_t m_left{0};
};

//! The child of the flush measurement (--flush-only): fills a CoinsCache over a CoinsDB in `dir` through AddCoin
//! until the cache's own estimate reaches `cache_mib`, flushes it (the node's crash-safe BatchWrite: head-blocks
//! marker, batches of 16 MiB, the last one synced), then writes the same records with a raw LevelDB batch write
//! (same options as the node's database, same batch size, last batch synced, records serialized beforehand and in
//! key order) as the baseline.
void BenchFlush(const fs::path& dir, size_t cache_mib)
{
    const size_t target = cache_mib << 20;
    const size_t db_cache = target / 4; // what ChainstateManager gives the coins database
    const fs::path coins_dir = dir / "flush-coins", raw_dir = dir / "flush-raw";
    fs::remove_all(coins_dir);
    fs::remove_all(raw_dir);
    uint64_t coins = 0;
    double fill_s = 0, flush_s = 0, flush_cpu = 0, usage_mib = 0, rss_full = 0;
    {
        CoinsDB db(coins_dir, db_cache, /*wipe=*/true);
        CoinsCache cache(db);
        ResetPeakRss();
        CoinMaker maker;
        OutPoint outpoint;
        Coin coin;
        const auto fill_start = Clock::now();
        while (cache.DynamicMemoryUsage() < target) {
            maker.Next(outpoint, coin);
            cache.AddCoin(outpoint, std::move(coin), /*possible_overwrite=*/false);
            ++coins;
        }
        fill_s = Seconds(fill_start);
        usage_mib = double(cache.DynamicMemoryUsage()) / (1 << 20);
        rss_full = PeakRssMiB();
        uint256 best;
        std::memset(best.data(), 0x42, 32);
        cache.SetBestBlock(best);
        const double cpu_start = ProcessCpuSeconds();
        const auto flush_start = Clock::now();
        cache.Flush();
        flush_s = Seconds(flush_start);
        flush_cpu = ProcessCpuSeconds() - cpu_start;
    }
    fs::remove_all(coins_dir);

    // The baseline: the same records straight into LevelDB.
    double raw_s = 0, raw_cpu = 0;
    {
        std::unique_ptr<leveldb::Cache> block_cache(leveldb::NewLRUCache(std::max<size_t>(db_cache / 2, 1 << 20)));
        std::unique_ptr<const leveldb::FilterPolicy> filter(leveldb::NewBloomFilterPolicy(10));
        leveldb::Options options;
        options.block_cache = block_cache.get();
        options.filter_policy = filter.get();
        options.write_buffer_size = std::max<size_t>(db_cache / 4, 1 << 20);
        options.compression = leveldb::kNoCompression;
        options.max_open_files = 64;
        options.create_if_missing = true;
        leveldb::DB* raw = nullptr;
        if (!leveldb::DB::Open(options, raw_dir.string(), &raw).ok()) Die("cannot open " + raw_dir.string());
        std::unique_ptr<leveldb::DB> db(raw);
        // Every record serialized beforehand and put in key order (LevelDB's fastest case), so that the time is
        // LevelDB's alone.
        CoinMaker maker;
        OutPoint outpoint;
        Coin coin;
        std::vector<uint8_t> bytes;
        struct Record {
            size_t at;
            uint8_t key_size, value_size;
        };
        std::vector<Record> records;
        records.reserve(coins);
        for (uint64_t i = 0; i < coins; ++i) {
            maker.Next(outpoint, coin);
            const size_t at = bytes.size();
            Writer writer(bytes);
            writer.WriteU8(uint8_t('C'));
            writer.WriteBytes(outpoint.hash);
            WriteVarInt(writer, outpoint.n);
            const size_t key_size = bytes.size() - at;
            WriteCoin(writer, coin);
            records.push_back(Record{at, uint8_t(key_size), uint8_t(bytes.size() - at - key_size)});
        }
        std::sort(records.begin(), records.end(), [&](const Record& a, const Record& b) {
            return std::lexicographical_compare(
                bytes.begin() + ptrdiff_t(a.at), bytes.begin() + ptrdiff_t(a.at + a.key_size),
                bytes.begin() + ptrdiff_t(b.at), bytes.begin() + ptrdiff_t(b.at + b.key_size));
        });
        leveldb::WriteBatch batch;
        leveldb::WriteOptions async_write, sync_write;
        sync_write.sync = true;
        const double cpu_start = ProcessCpuSeconds();
        const auto start = Clock::now();
        for (const Record& r : records) {
            const char* p = reinterpret_cast<const char*>(bytes.data() + r.at);
            batch.Put(leveldb::Slice(p, r.key_size), leveldb::Slice(p + r.key_size, r.value_size));
            if (batch.ApproximateSize() > (16 << 20)) {
                if (!db->Write(async_write, &batch).ok()) Die("raw LevelDB write failed");
                batch.Clear();
            }
        }
        if (!db->Write(sync_write, &batch).ok()) Die("raw LevelDB write failed");
        raw_s = Seconds(start);
        raw_cpu = ProcessCpuSeconds() - cpu_start;
    }
    fs::remove_all(raw_dir);
    std::printf("RESULT %llu %.1f %.1f %.3f %.3f %.3f %.3f %.3f\n", (unsigned long long)coins, usage_mib, rss_full,
                fill_s, flush_s, raw_s, flush_cpu, raw_cpu);
}

// ---------------------------------------------------------------------------
// generatetoaddress through orreryd
// ---------------------------------------------------------------------------

double BenchGenerate(const fs::path& bindir, const fs::path& workdir)
{
    const fs::path orreryd = bindir / "supervisor" / "orreryd";
    const fs::path cli = bindir / "cli" / "orrery-cli";
    if (!fs::exists(orreryd) || !fs::exists(cli)) {
        std::printf("generatetoaddress 1000: skipped (orreryd or orrery-cli not built in %s)\n", bindir.c_str());
        return 0;
    }
    const fs::path datadir = workdir / "generate";
    fs::remove_all(datadir);
    fs::create_directories(datadir);
    const std::string dd = "-datadir=" + datadir.string();
    // Ports of our own (other benchmarks and tests may hold the defaults), output to a log file.
    const int base_port = 20000 + int(::getpid() % 10000) * 2;
    const std::string rpcport = "-rpcport=" + std::to_string(base_port);
    const std::string port = "-port=" + std::to_string(base_port + 1);
    auto service = [&](const char* role, const char* option) {
        return "-" + std::string(option) + "=" +
               (bindir / "services" / role / ("orrery-" + std::string(role))).string();
    };
    const std::string node = service("node", "nodebinary"), wallet = service("wallet", "walletbinary"),
                      bridge = service("gui-bridge", "guibridgebinary");
    std::fflush(stdout); // the child must not inherit (and later write out) our buffered output
    const pid_t pid = ::fork();
    if (pid == 0) {
        const std::string log = (workdir / "generate.log").string();
        if (std::freopen(log.c_str(), "w", stdout) == nullptr || std::freopen(log.c_str(), "a", stderr) == nullptr) {
            std::_Exit(126);
        }
        ::execl(orreryd.c_str(), "orreryd", "-regtest", dd.c_str(), "-bind=127.0.0.1", port.c_str(), rpcport.c_str(),
                node.c_str(), wallet.c_str(), bridge.c_str(), "-disablewallet", static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    const std::string base = cli.string() + " -regtest " + dd + " " + rpcport + " -rpcwait -rpcwaittimeout=60 ";
    // A fixed regtest address (the wallet is off): P2WPKH of a well-known key hash.
    const std::string address = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    const bool up = std::system((base + "getblockcount >/dev/null 2>&1").c_str()) == 0;
    const auto start = Clock::now();
    FILE* pipe = !up ? nullptr : ::popen((base + "generatetoaddress 1000 " + address + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    while (pipe && std::fgets(buf, sizeof(buf), pipe)) out += buf;
    const int rc = pipe ? ::pclose(pipe) : -1;
    const double secs = Seconds(start);
    std::string height;
    if (FILE* count = up ? ::popen((base + "getblockcount 2>&1").c_str(), "r") : nullptr) {
        while (std::fgets(buf, sizeof(buf), count)) height += buf;
        ::pclose(count);
    }
    std::system((base + "stop >/dev/null 2>&1").c_str());
    int status = 0;
    for (int i = 0; i < 300 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) ::usleep(100'000);
    if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    if (rc != 0) {
        std::printf("generatetoaddress 1000: not available (%s)\n",
                    up ? out.substr(0, out.find('\n')).c_str() : "orreryd did not answer; see generate.log");
        return 0;
    }
    if (std::atoi(height.c_str()) != 1000) {
        std::printf("generatetoaddress 1000: returned, but the height is then %s", height.c_str());
        return 0;
    }
    std::printf("generatetoaddress 1000 through the RPC: %.2f s, %.0f blocks/s\n", secs, 1000 / secs);
    return 1000 / secs;
}

} // namespace

int main(int argc, char** argv)
{
    fs::path chaingen, bindir, workdir;
    uint64_t target_txs = 100'000, target_inputs = 150'000;
    size_t dbcache = 450;
    bool reindex_only = false;
    bool keep = false;
    bool flush_only = false;
    size_t flush_mib = 450;
    unsigned threads = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto eq = arg.find('=');
        const std::string name = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
        if (name == "--chaingen")
            chaingen = value;
        else if (name == "--bindir")
            bindir = value;
        else if (name == "--workdir")
            workdir = value;
        else if (name == "--txs")
            target_txs = std::stoull(value);
        else if (name == "--inputs")
            target_inputs = std::stoull(value);
        else if (name == "--dbcache")
            dbcache = std::stoull(value);
        else if (name == "--reindex-chainstate-only")
            reindex_only = true;
        else if (name == "--keep")
            keep = true;
        else if (name == "--flush-only")
            flush_only = true;
        else if (name == "--flush-mib")
            flush_mib = std::stoull(value);
        else if (name == "--threads")
            threads = unsigned(std::stoul(value));
        else
            Die("unknown option " + arg);
    }
    if (reindex_only) {
        // The child of the -reindex-chainstate measurement: --workdir is the node's datadir.
        ChainstateOptions options = MakeOptions(workdir, dbcache, threads);
        options.reindex_chainstate = true;
        ChainstateManager chainman(GetChainParams(ChainType::REGTEST), options);
        ResetPeakRss();
        const double cpu_start = ProcessCpuSeconds();
        const auto start = Clock::now();
        chainman.Load();
        const double secs = Seconds(start);
        const double cpu = ProcessCpuSeconds() - cpu_start;
        const int height = [&] {
            auto lock = chainman.Lock();
            return chainman.Height();
        }();
        std::printf("RESULT %.3f %.1f %d %.3f\n", secs, PeakRssMiB(), height, cpu);
        return 0;
    }
    if (flush_only) {
        // The child of the flush measurement: --workdir is a scratch folder.
        BenchFlush(workdir, dbcache);
        return 0;
    }
    if (chaingen.empty()) Die("--chaingen=PATH is required");
    if (workdir.empty()) workdir = fs::temp_directory_path() / "orrery_bench_chainstate";
    fs::create_directories(workdir);

    const auto bench_start = Clock::now();
    const RawRates raw = RawEcdsaRates();
    // The node's default -par: one script thread per core, the connecting thread being one of them.
    const unsigned script_threads = raw.cores - 1;
    std::printf("baseline: raw libsecp256k1 ECDSA %.0f verifications/s on 1 thread, %.0f on %u cores; "
                "%.0f per CPU second (what an unshared core does)\n",
                raw.one_thread, raw.all_cores, raw.cores, raw.per_cpu_second);

    // The chain: 100 transactions per block after the 110 maturity blocks, a side branch 100 blocks deep.
    const int txs_per_block = 100;
    const int blocks = 110 + int((target_txs + txs_per_block - 1) / txs_per_block);
    const int fork_at = blocks - 100;
    const std::string tag = std::to_string(blocks) + "-" + std::to_string(target_inputs);
    const fs::path main_file = workdir / ("chain-" + tag + ".dat");
    const fs::path fork_file = workdir / ("fork-" + tag + ".dat");
    // Reuse a chain generated before, unless the generator was rebuilt since.
    if (!fs::exists(main_file) || !fs::exists(fork_file) ||
        fs::last_write_time(chaingen) > fs::last_write_time(main_file)) {
        const auto start = Clock::now();
        Run(chaingen.string() + " --quiet --no-check --seed=1 --blocks=" + std::to_string(blocks) +
            " --txs-per-block=" + std::to_string(txs_per_block) + " --target-txs=" + std::to_string(target_txs) +
            " --target-inputs=" + std::to_string(target_inputs) + " --fork-at=" + std::to_string(fork_at) +
            " --fork-length=101 --out=" + (workdir / "tmp-main.dat").string() +
            " --fork-out=" + (workdir / "tmp-fork.dat").string());
        fs::rename(workdir / "tmp-main.dat", main_file);
        fs::rename(workdir / "tmp-fork.dat", fork_file);
        std::printf("generated the chain in %.1f s (kept in %s)\n", Seconds(start), workdir.c_str());
    }
    const std::vector<Block> side = ReadStream(fork_file);
    ChainCounts counts;
    {
        const std::vector<Block> main_blocks = ReadStream(main_file);
        counts = Count(main_blocks);
    }
    std::printf("chain: %llu blocks, %llu transactions, %llu inputs (%.1f MiB of blocks)\n",
                (unsigned long long)counts.blocks, (unsigned long long)counts.txs, (unsigned long long)counts.inputs,
                double(fs::file_size(main_file)) / (1 << 20));

    const auto& params = GetChainParams(ChainType::REGTEST);
    const fs::path datadir = workdir / "node";
    fs::remove_all(datadir);
    fs::create_directories(datadir);

    // submitblock's path: every block through ProcessNewBlock into an empty datadir. At -dbcache=450 nothing is
    // flushed on the way (the chain's UTXO set is far smaller), so the forced flush after it writes the whole
    // chain's coins and index from a full cache.
    {
        const std::vector<Block> main_blocks = ReadStream(main_file);
        ChainstateManager chainman(params, MakeOptions(datadir, dbcache, script_threads));
        chainman.Load();
        const auto start = Clock::now();
        for (const Block& block : main_blocks) {
            const auto r = chainman.ProcessNewBlock(std::make_shared<const Block>(block), true);
            if (!r.accepted) Die("a generated block was refused: " + r.reject_reason);
        }
        const double secs = Seconds(start);
        if (uint64_t([&] {
                auto lock = chainman.Lock();
                return chainman.Height();
            }()) != counts.blocks)
            Die("ProcessNewBlock did not reach the chain's tip");
        std::printf("ProcessNewBlock (submitblock's path, store + connect): %.1f s, %.0f blocks/s, %.0f tx/s, "
                    "%.0f inputs/s\n",
                    secs, counts.blocks / secs, counts.txs / secs, counts.inputs / secs);
        const auto flush_start = Clock::now();
        chainman.ForceFlush();
        const double flush_s = Seconds(flush_start);
        const CoinsStats stats = chainman.ComputeCoinsStats();
        std::printf("flush of the cache the whole chain filled (%llu coins at the tip, far below -dbcache): %.2f s\n",
                    (unsigned long long)stats.txouts, flush_s);
        std::printf("UTXO set at the tip: hash_serialized_3 %s, muhash %s\n", stats.hash_serialized.GetHex().c_str(),
                    stats.muhash.GetHex().c_str());
    }

    // -reindex-chainstate: connect the whole chain from the block files, at -dbcache and at a small cache, each in
    // a fresh process of this program so that its peak RSS and CPU time are the connect's alone.
    struct Connect {
        size_t cache{0};
        double secs{0}, cpu{0}, peak{0};
    };
    std::vector<Connect> connects;
    for (size_t cache : {dbcache, size_t(16)}) {
        const std::string out =
            Run("/proc/" + std::to_string(::getpid()) + "/exe --reindex-chainstate-only --workdir=" + datadir.string() +
                " --dbcache=" + std::to_string(cache) + " --threads=" + std::to_string(script_threads));
        const auto at = out.find("RESULT ");
        if (at == std::string::npos) Die("the -reindex-chainstate run printed no result");
        std::istringstream result(out.substr(at + 7));
        Connect c;
        c.cache = cache;
        uint64_t height = 0;
        result >> c.secs >> c.peak >> height >> c.cpu;
        if (height != counts.blocks) Die("-reindex-chainstate did not reach the chain's tip");
        std::printf("-reindex-chainstate at -dbcache=%zu (-par=%u): %.1f s, %.0f blocks/s, %.0f tx/s, %.0f inputs/s, "
                    "peak RSS %.0f MiB; %.1f CPU s (%.2f cores busy), %.0f inputs per CPU second\n",
                    cache, script_threads + 1, c.secs, counts.blocks / c.secs, counts.txs / c.secs,
                    counts.inputs / c.secs, c.peak, c.cpu, c.cpu / c.secs, counts.inputs / c.cpu);
        connects.push_back(c);
    }
    const Connect& main_connect = connects.front();
    const double inputs_per_s = counts.inputs / main_connect.secs;
    const double ratio = inputs_per_s / raw.all_cores;
    const double cpu_ratio = (counts.inputs / main_connect.cpu) / raw.per_cpu_second;

    // A 100-block reorganization.
    double reorg_ms = 0;
    {
        ChainstateManager chainman(params, MakeOptions(datadir, dbcache, script_threads));
        chainman.Load();
        for (size_t i = 0; i + 1 < side.size(); ++i) {
            const auto r = chainman.ProcessNewBlock(std::make_shared<const Block>(side[i]), true);
            if (!r.accepted) Die("a side-branch block was refused: " + r.reject_reason);
        }
        const int depth = chainman.Height() - fork_at;
        const auto start = Clock::now();
        const auto r = chainman.ProcessNewBlock(std::make_shared<const Block>(side.back()), true);
        const double ms = Seconds(start) * 1000;
        {
            auto lock = chainman.Lock();
            if (!r.accepted || chainman.Tip()->hash != side.back().GetHash()) Die("the reorg did not happen");
        }
        std::printf("reorg: %d blocks disconnected, %zu connected: %.0f ms\n", depth, side.size(), ms);
        reorg_ms = ms;
    }

    // A flush of a full -dbcache worth of coins, in a child process (its peak RSS is the cache's).
    uint64_t flush_coins = 0;
    double flush_usage = 0, flush_rss = 0, fill_s = 0, flush_s = 0, raw_flush_s = 0, flush_cpu = 0, raw_flush_cpu = 0;
    {
        const std::string out =
            Run("/proc/" + std::to_string(::getpid()) + "/exe --flush-only --workdir=" + workdir.string() +
                " --dbcache=" + std::to_string(flush_mib));
        const auto at = out.find("RESULT ");
        if (at == std::string::npos) Die("the flush run printed no result");
        std::istringstream result(out.substr(at + 7));
        result >> flush_coins >> flush_usage >> flush_rss >> fill_s >> flush_s >> raw_flush_s >> flush_cpu >>
            raw_flush_cpu;
        std::printf("flush of a full %zu MiB cache: %llu coins (the cache's estimate %.0f MiB, peak RSS %.0f MiB) "
                    "added in %.1f s, flushed in %.2f s (%.2f CPU s); raw LevelDB batch write of the same records "
                    "%.2f s (%.2f CPU s)\n",
                    flush_mib, (unsigned long long)flush_coins, flush_usage, flush_rss, fill_s, flush_s, flush_cpu,
                    raw_flush_s, raw_flush_cpu);
    }

    double generate_bps = 0;
    if (!bindir.empty()) generate_bps = BenchGenerate(bindir, workdir);
    if (!keep) fs::remove_all(datadir);

    // Every figure again, with its ratio.
    std::printf("\nsummary (%u cores; wall-clock figures move with the machine's load, CPU-second figures do not)\n",
                raw.cores);
    std::printf("  raw libsecp256k1 ECDSA: %.0f/s on 1 thread, %.0f/s on %u cores (%.2fx), %.0f per CPU second\n",
                raw.one_thread, raw.all_cores, raw.cores, raw.all_cores / raw.one_thread, raw.per_cpu_second);
    for (const Connect& c : connects) {
        std::printf("  -reindex-chainstate -dbcache=%zu: %.0f blocks/s, %.0f tx/s, %.0f inputs/s; peak RSS %.0f MiB "
                    "(%.2f of -dbcache)\n",
                    c.cache, counts.blocks / c.secs, counts.txs / c.secs, counts.inputs / c.secs, c.peak,
                    c.peak / double(c.cache));
    }
    if (connects.size() == 2) {
        std::printf("  -dbcache=%zu vs -dbcache=%zu: %.2fx the wall time, %.2fx the CPU time\n", connects[0].cache,
                    connects[1].cache, connects[0].secs / connects[1].secs, connects[0].cpu / connects[1].cpu);
    }
    std::printf("  inputs/s / all-core raw verifications/s = %.0f / %.0f = %.1f%% (target >= 50%%): %s\n", inputs_per_s,
                raw.all_cores, 100 * ratio, ratio >= 0.5 ? "met" : "NOT met");
    std::printf("  inputs per CPU second / raw verifications per CPU second = %.0f / %.0f = %.1f%% "
                "(the same ratio on an idle machine whose cores the connect keeps busy: %.2f of %u busy here)\n",
                counts.inputs / main_connect.cpu, raw.per_cpu_second, 100 * cpu_ratio,
                main_connect.cpu / main_connect.secs, raw.cores);
    std::printf("  100-block reorg: %.0f ms\n", reorg_ms);
    std::printf("  flush of a %zu MiB cache: %.2f s; raw LevelDB %.2f s; ratio %.2f\n", flush_mib, flush_s, raw_flush_s,
                flush_s / raw_flush_s);
    if (generate_bps > 0)
        std::printf("  generatetoaddress 1000: %.0f blocks/s\n", generate_bps);
    else
        std::printf("  generatetoaddress 1000: not measured\n");
    std::printf("  benchmark run time: %.0f s (with the chain generation when it had to run)\n", Seconds(bench_start));
    return 0;
}
