// Fuzz target: bytes from an RPC client. The HTTP request parser must parse or
// refuse them, and whatever body it finds must go through JSON-RPC handling
// (a table with one method) without crashing, answering a well-formed reply;
// and the body read as a reply keeping its numbers' text writes back unchanged.
#include <common/http/http.h>
#include <common/rpc/json_rpc.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const orrery::rpc::Table table = [] {
        orrery::rpc::Table t;
        t.Add(
            {"echo",
             "Test",
             {{"text", orrery::rpc::ParamType::STRING, true, ""}, {"count", orrery::rpc::ParamType::NUMBER, false, ""}},
             "Echoes its text.",
             [](const orrery::rpc::CallRequest& call) { return call.Arg(0); }});
        return t;
    }();
    std::string_view input(reinterpret_cast<const char*>(data), size);
    orrery::http::Limits limits;
    limits.max_body = 1 << 16;
    size_t offset = 0;
    // Pipelined requests: parse as many as the input holds.
    for (int i = 0; i < 8 && offset < input.size(); ++i) {
        auto parsed = orrery::http::ParseRequest(input.substr(offset), limits);
        if (parsed.status == orrery::http::ParseStatus::FAILED) {
            if (parsed.error_status < 400 || parsed.error_status > 599) std::abort();
            break;
        }
        if (parsed.status != orrery::http::ParseStatus::COMPLETE) break;
        if (parsed.consumed == 0 || parsed.consumed > input.size() - offset) std::abort();
        offset += parsed.consumed;
        auto reply = orrery::rpc::HandleBody(table, parsed.request.body, std::nullopt);
        if (reply.status != 204 && !orrery::rpc::ParseJson(reply.body)) std::abort();
        (void)orrery::http::PercentDecode(parsed.request.target);
    }
    // The body alone, too: the JSON-RPC layer sees arbitrary text.
    auto reply = orrery::rpc::HandleBody(table, input, std::nullopt);
    if (reply.status != 204 && !orrery::rpc::ParseJson(reply.body)) std::abort();
    // A reply as orrery-cli and the bridge read it, numbers kept as text: written back, it parses to the same value.
    if (auto kept = orrery::rpc::ParseJson(input, orrery::rpc::NumberText::KEEP)) {
        const std::string text = orrery::rpc::WriteJson(*kept);
        auto again = orrery::rpc::ParseJson(text, orrery::rpc::NumberText::KEEP);
        if (!again || *again != *kept || orrery::rpc::WriteJson(*again) != text) std::abort();
    }
    if (auto decoded = orrery::http::Base64Decode(input)) {
        if (orrery::http::Base64Encode(*decoded) != input) std::abort();
    }
    return 0;
}
