// The node's util methods for signed messages (bitcoind's rpc/signmessage.cpp):
// verifymessage and signmessagewithprivkey. They need no wallet; the wallet's
// signmessage signs with its own keys. The message hash and compact signatures
// are common/keys/message.h's; base64 is common/http's.
#include <services/node/rpc/rpc.h>

#include <common/http/http.h>
#include <common/keys/key_io.h>
#include <common/keys/message.h>
#include <services/node/rpc/core_json.h>

namespace orrery::node {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

void RegisterMessageRpc(rpc::Table& table, ChainType chain)
{
    const Network network = AddressNetwork(chain);
    table.Add({"verifymessage",
               "Util",
               {rpc::Required("address", ParamType::STRING, "The P2PKH address that signed"),
                rpc::Required("signature", ParamType::STRING, "The signature, base64 (signmessage's answer)"),
                rpc::Required("message", ParamType::STRING, "The message that was signed")},
               "Checks a signed message: true when the signature of the message recovers the address's key.",
               [network](const rpc::CallRequest& call) -> Json {
                   const std::string address = call.Arg(0).get<std::string>();
                   std::optional<std::string> raw = http::Base64Decode(call.Arg(1).get<std::string>());
                   std::vector<uint8_t> bytes;
                   if (raw) bytes.assign(raw->begin(), raw->end());
                   std::optional<std::span<const uint8_t>> signature;
                   if (raw) signature = std::span<const uint8_t>(bytes);
                   switch (MessageVerify(address, signature, call.Arg(2).get<std::string>(), network)) {
                   case MessageVerificationResult::ERR_INVALID_ADDRESS:
                       throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid address");
                   case MessageVerificationResult::ERR_ADDRESS_NO_KEY:
                       throw RpcException(rpc::RPC_TYPE_ERROR, "Address does not refer to key");
                   case MessageVerificationResult::ERR_MALFORMED_SIGNATURE:
                       throw RpcException(rpc::RPC_TYPE_ERROR, "Malformed base64 encoding");
                   case MessageVerificationResult::ERR_PUBKEY_NOT_RECOVERED:
                   case MessageVerificationResult::ERR_NOT_SIGNED:
                       return false;
                   case MessageVerificationResult::OK:
                       return true;
                   }
                   return false;
               }});
    table.Add({"signmessagewithprivkey",
               "Util",
               {rpc::Required("privkey", ParamType::STRING, "The private key, WIF"),
                rpc::Required("message", ParamType::STRING, "The message to sign")},
               "Signs a message with a private key given in the call; the answer is the signature in base64.",
               [network](const rpc::CallRequest& call) -> Json {
                   std::optional<Key> key = DecodeWif(call.Arg(0).get<std::string>(), network);
                   if (!key) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Invalid private key");
                   std::optional<CompactSignature> signature =
                       SignCompact(*key, MessageHash(call.Arg(1).get<std::string>()));
                   if (!signature) throw RpcException(rpc::RPC_INVALID_ADDRESS_OR_KEY, "Sign failed");
                   return http::Base64Encode(std::string(signature->begin(), signature->end()));
               }});
}

} // namespace orrery::node
