// chainstate_tool: opens a node's chainstate in-process (services/node/validation) the way orrery-node starts
// it, with -loadblock, -reindex and -reindex-chainstate, and prints where it ended as JSON: tip, height and
// gettxoutsetinfo's digests. tests/functional/test_chainstate_crosscheck.py compares that with an independent
// replay of the same blocks. A start-up failure prints its message on stderr and exits with status 2.
#include <common/consensus/params.h>
#include <services/node/validation/chainstate.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>
#include <string>
#include <string_view>

using namespace orrery;
using namespace orrery::node;

int main(int argc, char** argv)
{
    ChainstateOptions options;
    options.now = [] { return int64_t(std::time(nullptr)); };
    options.request_shutdown = [](const std::string& reason) { std::cerr << "shutdown requested: " << reason << "\n"; };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        const std::string value = eq == std::string_view::npos ? "" : std::string(arg.substr(eq + 1));
        if (name == "--datadir") {
            options.data_dir = value;
            options.blocks_dir = options.data_dir / "blocks";
        } else if (name == "--loadblock") {
            options.load_block_files.emplace_back(value);
        } else if (name == "--reindex") {
            options.reindex = true;
        } else if (name == "--reindex-chainstate") {
            options.reindex_chainstate = true;
        } else if (name == "--dbcache") {
            options.dbcache_bytes = std::stoull(value) << 20;
        } else if (name == "--par") {
            options.script_threads = std::stoi(value);
        } else {
            std::cerr << "usage: chainstate_tool --datadir=DIR [--loadblock=FILE]... [--reindex] "
                         "[--reindex-chainstate] [--dbcache=MiB] [--par=N]\n";
            return 1;
        }
    }
    if (options.data_dir.empty()) {
        std::cerr << "chainstate_tool: --datadir is required\n";
        return 1;
    }
    try {
        ChainstateManager chainman(GetChainParams(ChainType::REGTEST), options);
        chainman.Load();
        const CoinsStats stats = chainman.ComputeCoinsStats();
        std::cout << nlohmann::json{{"height", stats.height},
                                    {"tip", stats.best_block.GetHex()},
                                    {"txouts", stats.txouts},
                                    {"hash_serialized_3", stats.hash_serialized.GetHex()},
                                    {"muhash", stats.muhash.GetHex()}}
                         .dump()
                  << std::endl;
        chainman.Stop();
        return 0;
    } catch (const ChainstateLoadError& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "chainstate_tool: " << e.what() << "\n";
        return 3;
    }
}
