// Fuzz target: arbitrary text taken as a signed message's base64 signature
// (bitcoind's verifymessage input). A signature that decodes and recovers a key
// must verify against that key's P2PKH address and fail against another
// message's hash unless it recovers the same key there.
#include "common/http/http.h"
#include "common/keys/key_io.h"
#include "common/keys/message.h"
#include "tests/fuzz/fuzz_util.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace orrery;
using orrery::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 4096) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string message = "fuzz";
    std::optional<std::string> raw = http::Base64Decode(text);
    const std::string some_address = "15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs";
    if (!raw) {
        Check(MessageVerify(some_address, std::nullopt, message, Network::MAIN) ==
              MessageVerificationResult::ERR_MALFORMED_SIGNATURE);
        return 0;
    }
    const std::vector<uint8_t> bytes(raw->begin(), raw->end());
    std::optional<PubKey> key = RecoverCompact(MessageHash(message), bytes);
    if (!key) {
        Check(MessageVerify(some_address, std::span<const uint8_t>(bytes), message, Network::MAIN) ==
              MessageVerificationResult::ERR_PUBKEY_NOT_RECOVERED);
        return 0;
    }
    Check(bytes.size() == COMPACT_SIGNATURE_SIZE);
    Check(key->IsCompressed() == (((bytes[0] - 27) & 4) != 0));
    std::vector<uint8_t> script{0x76, 0xa9, 0x14};
    const auto id = key->GetId();
    script.insert(script.end(), id.begin(), id.end());
    script.push_back(0x88);
    script.push_back(0xac);
    const std::string address = EncodeAddress(script, Network::MAIN);
    Check(MessageVerify(address, std::span<const uint8_t>(bytes), message, Network::MAIN) ==
          MessageVerificationResult::OK);
    return 0;
}
