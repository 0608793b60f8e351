// JSON numbers written as given, as bitcoind's UniValue writes them: an amount
// is "50.00000000", never "50.0". nlohmann's json keeps numbers as doubles and
// prints the shortest form, so a number whose text matters is held as a "raw
// number" (a binary value of its own subtype, which no JSON text can produce)
// and every writer of RPC JSON goes through WriteJson, which prints it as its
// text. Results cross processes as text: ParseJson with NumberText::KEEP
// turns each fractional number back into a raw number, so the gui-bridge and
// orrery-cli pass on what the service wrote, digit for digit.
#ifndef ORRERY_COMMON_RPC_JSON_NUMBER_H
#define ORRERY_COMMON_RPC_JSON_NUMBER_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace orrery::rpc {

using Json = nlohmann::ordered_json;

//! A number printed as `text`, which must be a JSON number (std::invalid_argument otherwise).
Json RawNumber(std::string_view text);
bool IsRawNumber(const Json& value);
//! The text of a raw number.
std::string RawNumberText(const Json& value);
//! A number, raw or not.
bool IsNumber(const Json& value);
//! The value of a number, raw or not; throws RpcException(RPC_TYPE_ERROR) for anything else.
double NumberValue(const Json& value);

//! Core's ValueFromAmount: satoshis as BTC with exactly eight decimals ("50.00000000", "-0.00000001").
Json ValueFromAmount(int64_t amount);

//! The JSON text of `value`: compact when `indent` < 0, else one member per line indented by `indent` spaces
//! (nlohmann's layout). Raw numbers print as their text, doubles with 16 significant digits as UniValue prints them
//! ("1", "4.656542373906925e-10"); invalid UTF-8 in strings is replaced, never thrown.
std::string WriteJson(const Json& value, int indent = -1);

} // namespace orrery::rpc

#endif // ORRERY_COMMON_RPC_JSON_NUMBER_H
