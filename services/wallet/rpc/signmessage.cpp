// The wallet's signmessage (bitcoind's wallet/rpc/signmessage.cpp): a message
// signed with the key of one of the wallet's P2PKH addresses, in Bitcoin's
// signed-message form (common/keys/message.h); the node's verifymessage checks it.
#include <services/wallet/rpc/wallet.h>

#include <services/wallet/rpc/util.h>
#include <services/wallet/wallet_service.h>

#include <common/http/http.h>
#include <common/keys/key_io.h>
#include <common/keys/message.h>

namespace orrery::wallet {

using rpc::Json;
using rpc::ParamType;
using rpc::RpcException;

void RegisterMessageRpc(rpc::Table& table, WalletService& service)
{
    table.Add({"signmessage",
               "Wallet",
               {rpc::Required("address", ParamType::STRING, "A P2PKH (legacy) address of the wallet"),
                rpc::Required("message", ParamType::STRING, "The message to sign")},
               "Signs a message with the key of one of the wallet's legacy addresses; the answer is the signature in "
               "base64. An encrypted wallet must be unlocked.",
               [&service](const rpc::CallRequest& call) {
                   auto wallet = CallWallet(service, call);
                   // bitcoind checks the lock before the address.
                   if (wallet->IsCryptLocked()) {
                       throw RpcException(rpc::RPC_WALLET_UNLOCK_NEEDED, std::string(UNLOCK_NEEDED_MESSAGE));
                   }
                   std::optional<std::vector<uint8_t>> script =
                       DecodeAddress(call.Arg(0).get<std::string>(), wallet->GetNetwork());
                   if (!script) throw RpcException(rpc::RPC_TYPE_ERROR, "Invalid address");
                   if (!P2pkhKeyHash(*script)) throw RpcException(rpc::RPC_TYPE_ERROR, "Address does not refer to key");
                   std::vector<uint8_t> signature;
                   try {
                       signature = wallet->SignMessage(*script, call.Arg(1).get<std::string>());
                   } catch (const WalletError& e) {
                       throw RpcException(e.code(), e.what());
                   }
                   return Json(http::Base64Encode(std::string(signature.begin(), signature.end())));
               }});
}

} // namespace orrery::wallet
