// Fuzz target: the block index database's records read back from disk. Any
// input either fails with DeserializeError or decodes to a DiskBlockIndex that
// writes and reads back to the same value; the same bytes are also tried as a
// block file info record.
#include <services/node/storage/block_tree_db.h>

#include <tests/fuzz/fuzz_util.h>

#include <cstdint>
#include <span>
#include <vector>

using namespace orrery;
using namespace orrery::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::span<const uint8_t> input(data, size);
    try {
        SpanReader reader(input);
        const DiskBlockIndex index = ReadDiskBlockIndex(reader);
        fuzz::Check(index.height >= 0);
        std::vector<uint8_t> again;
        Writer writer(again);
        WriteDiskBlockIndex(writer, index);
        SpanReader reread(again);
        fuzz::Check(ReadDiskBlockIndex(reread) == index);
        fuzz::Check(reread.Empty());
    } catch (const DeserializeError&) {
    }
    try {
        SpanReader reader(input);
        const BlockFileInfo info = ReadBlockFileInfo(reader);
        std::vector<uint8_t> again;
        Writer writer(again);
        WriteBlockFileInfo(writer, info);
        // VARINT is bijective: the consumed prefix comes back byte for byte.
        fuzz::Check(again.size() == reader.Position());
        fuzz::Check(std::equal(again.begin(), again.end(), input.begin()));
    } catch (const DeserializeError&) {
    }
    return 0;
}
