// services/wallet/rpc: the wallet's RPC methods run against a real
// WalletService in one process, through the table the wallet registers with
// the gui-bridge: the /wallet/<name> URL, bitcoind's fields and error codes.
#include "test_util.h"
#include <services/wallet/rpc/wallet.h>
#include <services/wallet/wallet_service.h>

#include <doctest/doctest.h>

using namespace orrery;
using orrery::rpc::Json;

namespace {

struct Wallet {
    test::TempDir dir{"orrery_wallet_rpc"};
    std::unique_ptr<wallet::WalletService> service;
    std::shared_ptr<const rpc::Table> table;

    Wallet()
    {
        service = std::make_unique<wallet::WalletService>(dir.path, Network::REGTEST, /*keypool_size=*/10);
        service->LoadStartupWallets({}); // a first start: "default"
        table = wallet::MakeRpcTable(*service);
    }

    Json Call(const std::string& method, Json params = Json::array(), std::optional<std::string> url = std::nullopt)
    {
        return table->Execute(method, params, url);
    }
    int32_t Code(const std::string& method, Json params = Json::array(), std::optional<std::string> url = std::nullopt)
    {
        try {
            Call(method, std::move(params), std::move(url));
        } catch (const rpc::RpcException& e) {
            return e.code();
        }
        FAIL("no error from " << method);
        return 0;
    }
};

} // namespace

TEST_CASE("getnewaddress and getwalletinfo follow the URL's wallet and answer bitcoind's fields")
{
    Wallet w;
    CHECK(w.Call("getnewaddress").get<std::string>().starts_with("bcrt1q"));
    CHECK(w.Call("getnewaddress", {"rent", "bech32m"}, "default").get<std::string>().starts_with("bcrt1p"));
    CHECK(w.Code("getnewaddress", Json::array(), "nosuch") == rpc::RPC_WALLET_NOT_FOUND);
    CHECK(w.Code("getnewaddress", {"*"}) == rpc::RPC_WALLET_INVALID_LABEL_NAME);
    CHECK(w.Code("getnewaddress", {"", "p2wsh"}) == rpc::RPC_INVALID_ADDRESS_OR_KEY);
    Json info = w.Call("getwalletinfo", Json::array(), "default");
    CHECK(info["walletname"] == "default");
    CHECK(info["format"] == "sqlite");
    CHECK(info["descriptors"] == true);
    CHECK(info["txcount"] == 0);
    CHECK(info["keypoolsize"] == 40); // 4 types, 10 ahead each
    CHECK(info["keypoolsize_hd_internal"] == 40);
    // bitcoind's "lastprocessedblock": absent until the wallet has processed a block.
    CHECK_FALSE(info.contains("lastprocessedblock"));
}

TEST_CASE("loading methods take bitcoind's arguments, refuse options Orrery lacks, and agree with the URL")
{
    Wallet w;
    CHECK(w.Call("createwallet", {"w1"}) == Json{{"name", "w1"}});
    CHECK(w.Code("createwallet", {"w1"}) == rpc::RPC_WALLET_ALREADY_EXISTS);
    CHECK(w.Code("createwallet", Json{{"wallet_name", "w2"}, {"disable_private_keys", true}, {"passphrase", "x"}}) ==
          rpc::RPC_WALLET_ERROR);
    CHECK(w.Code("createwallet", Json{{"wallet_name", "w2"}, {"descriptors", false}}) == rpc::RPC_WALLET_ERROR);
    CHECK(w.Code("getnewaddress") == rpc::RPC_WALLET_NOT_SPECIFIED);
    CHECK(w.Call("listwallets") == Json::array({"default", "w1"}));
    CHECK(w.Code("unloadwallet", {"default"}, "w1") == rpc::RPC_INVALID_PARAMETER);
    CHECK(w.Code("unloadwallet") == rpc::RPC_TYPE_ERROR);
    CHECK(w.Call("unloadwallet", Json::array(), "w1") == Json::object());
    CHECK(w.Call("listwalletdir")["wallets"] == Json::array({Json{{"name", "default"}}, Json{{"name", "w1"}}}));
    CHECK(w.Code("loadwallet", {"nosuch"}) == rpc::RPC_WALLET_NOT_FOUND);
    CHECK(w.Call("loadwallet", {"w1"}) == Json{{"name", "w1"}});
    CHECK(w.Code("loadwallet", {"w1"}) == rpc::RPC_WALLET_ALREADY_LOADED);
}
