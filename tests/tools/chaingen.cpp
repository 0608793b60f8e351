// orrery-chaingen: writes a deterministic regtest chain (tests/tools/chain_generator.h) as a stream of
// blocks that -loadblock and -reindex read (magic and size before each), and optionally as hex lines for
// submitblock, with an optional side branch for reorg tests. Prints a JSON summary on stdout.
#include <tests/tools/chain_generator.h>

#include <common/consensus/params.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

using namespace orrery;

namespace {

constexpr std::string_view kUsage =
    "usage: orrery-chaingen [options]\n"
    "  --seed=N            random seed (default 1); the same seed gives the same blocks\n"
    "  --blocks=N          main-branch blocks after genesis (default 200)\n"
    "  --txs-per-block=N   transactions per block once coinbases have matured (default 20)\n"
    "  --target-txs=N      add blocks until the chain holds N transactions\n"
    "  --target-inputs=N   add blocks until the chain holds N inputs\n"
    "  --fork-at=H         the side branch starts on top of main-branch block H\n"
    "  --fork-length=N     side-branch blocks (default 0: no side branch)\n"
    "  --out=FILE          main branch as a block stream (magic, size, block)\n"
    "  --hex-out=FILE      main branch, one hex block per line\n"
    "  --fork-out=FILE     side branch as a block stream\n"
    "  --fork-hex-out=FILE side branch, one hex block per line\n"
    "  --no-check          skip running every signed input through the script interpreter\n"
    "  --quiet             no progress on stderr\n";

nlohmann::json StatsJson(const chaingen::Stats& s, const std::vector<Block>& blocks)
{
    return {{"blocks", s.blocks},
            {"transactions", s.transactions},
            {"inputs", s.inputs},
            {"outputs", s.outputs},
            {"same_block_spends", s.same_block_spends},
            {"consolidations", s.consolidations},
            {"inputs_by_type", s.inputs_by_type},
            {"outputs_by_type", s.outputs_by_type},
            {"tip", blocks.empty() ? "" : blocks.back().GetHash().GetHex()}};
}

} // namespace

int main(int argc, char** argv)
{
    chaingen::Options options;
    std::string out, hex_out, fork_out, fork_hex_out;
    bool quiet = false;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            const auto eq = arg.find('=');
            const std::string_view name = arg.substr(0, eq);
            const std::string value = eq == std::string_view::npos ? "" : std::string(arg.substr(eq + 1));
            if (name == "--seed")
                options.seed = std::stoull(value);
            else if (name == "--blocks")
                options.blocks = std::stoi(value);
            else if (name == "--txs-per-block")
                options.txs_per_block = std::stoi(value);
            else if (name == "--target-txs")
                options.target_txs = std::stoull(value);
            else if (name == "--target-inputs")
                options.target_inputs = std::stoull(value);
            else if (name == "--fork-at")
                options.fork_at = std::stoi(value);
            else if (name == "--fork-length")
                options.fork_length = std::stoi(value);
            else if (name == "--out")
                out = value;
            else if (name == "--hex-out")
                hex_out = value;
            else if (name == "--fork-out")
                fork_out = value;
            else if (name == "--fork-hex-out")
                fork_hex_out = value;
            else if (name == "--no-check")
                options.check_scripts = false;
            else if (name == "--quiet")
                quiet = true;
            else {
                std::cerr << (name == "--help" || name == "-h" ? "" : "unknown option " + std::string(arg) + "\n")
                          << kUsage;
                return name == "--help" || name == "-h" ? 0 : 1;
            }
        }
        if (!quiet) {
            options.progress = [](int height, bool side) {
                if (height % 100 == 0) std::cerr << (side ? "side" : "main") << " block " << height << "\n";
            };
        }
        const chaingen::Chain chain = chaingen::Generate(options);
        const auto& magic = GetChainParams(ChainType::REGTEST).message_start;
        if (!out.empty()) chaingen::WriteBlockStream(out, magic, chain.main);
        if (!hex_out.empty()) chaingen::WriteHexLines(hex_out, chain.main);
        if (!fork_out.empty()) chaingen::WriteBlockStream(fork_out, magic, chain.side);
        if (!fork_hex_out.empty()) chaingen::WriteHexLines(fork_hex_out, chain.side);
        nlohmann::json summary{
            {"seed", options.seed}, {"height", chain.main.size()}, {"main", StatsJson(chain.main_stats, chain.main)}};
        if (!chain.side.empty()) {
            summary["fork_at"] = options.fork_at;
            summary["side"] = StatsJson(chain.side_stats, chain.side);
        }
        std::cout << summary.dump(1) << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "orrery-chaingen: " << e.what() << "\n";
        return 1;
    }
}
