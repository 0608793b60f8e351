// Fuzz target: the -reindex and -loadblock scans over arbitrary bytes in a
// real file. Every record reported lies inside the file right after the
// network magic and its size, and the two scans agree; nothing crashes or
// allocates more than a block's limit, whatever the garbage.
#include <services/node/storage/block_files.h>

#include <common/consensus/params.h>

#include <tests/fuzz/fuzz_util.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

using namespace orrery;
using namespace orrery::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::span<const uint8_t> input(data, size);
    const std::array<uint8_t, 4> magic = GetChainParams(ChainType::REGTEST).message_start;
    std::string pattern = (std::filesystem::temp_directory_path() / "orrery_fuzz_scan_XXXXXX").string();
    fuzz::Check(::mkdtemp(pattern.data()) != nullptr);
    const std::filesystem::path dir = pattern;
    {
        FILE* f = std::fopen((dir / "blk00000.dat").c_str(), "wb");
        fuzz::Check(f != nullptr);
        fuzz::Check(size == 0 || std::fwrite(data, 1, size, f) == size);
        std::fclose(f);
    }
    std::vector<std::vector<uint8_t>> by_file;
    {
        BlockFiles files(dir, magic, {}, 0);
        files.ScanFile(0, [&](const FilePos& pos, std::span<const uint8_t> raw) {
            fuzz::Check(pos.file == 0);
            fuzz::Check(pos.pos >= 8 && pos.pos + raw.size() <= size);
            fuzz::Check(std::equal(magic.begin(), magic.end(), input.begin() + (pos.pos - 8)));
            const uint32_t announced = uint32_t(input[pos.pos - 4]) | uint32_t(input[pos.pos - 3]) << 8 |
                                       uint32_t(input[pos.pos - 2]) << 16 | uint32_t(input[pos.pos - 1]) << 24;
            fuzz::Check(announced == raw.size());
            fuzz::Check(std::equal(raw.begin(), raw.end(), input.begin() + pos.pos));
            const Block block = DeserializeBlock(raw); // a record that does not parse is skipped
            by_file.emplace_back(raw.begin(), raw.end());
            (void)block;
        });
    }
    std::vector<std::vector<uint8_t>> by_stream;
    ScanBlockStream(dir / "blk00000.dat", magic, [&](std::span<const uint8_t> raw) {
        const Block block = DeserializeBlock(raw);
        by_stream.emplace_back(raw.begin(), raw.end());
        (void)block;
    });
    fuzz::Check(by_file == by_stream);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
