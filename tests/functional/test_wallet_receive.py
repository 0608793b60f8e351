"""The wallet receives and follows the chain exactly, through orreryd and bitcoind's RPC:
coins mined to it mature after 100 blocks with bitcoind's figures in getbalances, listunspent,
listtransactions and gettransaction; a reorganization moves a transaction back to unconfirmed, to
conflicted, and back; a wallet killed while it processes blocks resumes from its last processed block
(never a full rescan); a restarted node is caught up with; a wallet that lost its node says so.
Addresses are checked with python3-bitcoinlib and bip32utils."""
import re

import pytest

from conftest import RpcError, wait_for

COIN = 100_000_000


def tip_processed(d, wallet=None):
    """Waits until the wallet's last processed block is the node's tip."""
    def done():
        info = d.rpc("getwalletinfo", wallet=wallet)
        block = info.get("lastprocessedblock")
        return block and block["hash"] == d.rpc("getbestblockhash")
    wait_for(done, 30, "the wallet at the node's tip")


def raw_spend(d, coinbase_txid, address, amount):
    """A transaction spending the OP_TRUE coinbase output `coinbase_txid`:0 (no signature needed)."""
    return d.rpc("createrawtransaction", [{"txid": coinbase_txid, "vout": 0}], [{address: amount}])


def test_mined_coins_mature_after_100_blocks_with_bitcoinds_figures(node_factory):
    import bitcoin
    from bitcoin.wallet import CBitcoinAddress
    bitcoin.SelectParams("regtest")
    d = node_factory.orreryd(extra_args=("-keypool=20",)).start()
    address = d.rpc("getnewaddress", "mining")
    info = d.rpc("getaddressinfo", address)
    print("the address is a BIP84 regtest P2WPKH address of the wallet:", info)
    assert str(CBitcoinAddress(address).to_scriptPubKey().hex()) == info["scriptPubKey"]
    assert info["ismine"] and info["solvable"] and not info["ischange"] and info["iswitness"]
    assert info["hdkeypath"] == "m/84h/1h/0h/0/0" and info["labels"] == ["mining"]
    assert info["desc"].startswith(f"wpkh([{info['hdmasterfingerprint']}/84h/1h/0h/0/0]{info['pubkey']})#")
    assert info["parent_desc"].startswith(f"wpkh([{info['hdmasterfingerprint']}/84h/1h/0h]tpub")

    print("its descriptors are Core 28's defaults, external and internal, with the keypool of -keypool")
    descriptors = d.rpc("listdescriptors")["descriptors"]
    assert sorted(desc["desc"].split("(")[0] for desc in descriptors) == \
        ["pkh", "pkh", "sh", "sh", "tr", "tr", "wpkh", "wpkh"]
    assert all(desc["active"] and desc["range"] == [0, desc["next_index"] + 19] for desc in descriptors)
    wallet_info = d.rpc("getwalletinfo")
    assert wallet_info["keypoolsize"] == 80 and wallet_info["keypoolsize_hd_internal"] == 80

    d.rpc("generatetoaddress", 101, address)
    tip_processed(d)
    balances = d.rpc("getbalances")
    print("101 blocks: the first coinbase is mature", balances)
    assert balances["mine"] == {"trusted": 50.0, "untrusted_pending": 0.0, "immature": 5000.0}
    assert balances["lastprocessedblock"]["height"] == 101
    assert d.rpc("getbalance") == 50.0
    assert d.rpc("getwalletinfo")["txcount"] == 101

    coins = d.rpc("listunspent")
    assert len(coins) == 1
    coin = coins[0]
    assert coin["address"] == address and coin["label"] == "mining" and coin["amount"] == 50.0
    assert coin["confirmations"] == 101 and coin["spendable"] and coin["solvable"] and coin["safe"]
    assert coin["desc"] == info["desc"] and coin["parent_descs"] == [info["parent_desc"]]
    assert d.rpc("listunspent", 1, 9999999, [], True, {"minimumAmount": 51}) == []
    assert len(d.rpc("listunspent", 1, 9999999, [], True, {"include_immature_coinbase": True})) == 101

    entries = d.rpc("listtransactions", "*", 200)
    assert len(entries) == 101
    assert entries[0]["category"] == "generate" and entries[0]["confirmations"] == 101
    assert all(entry["category"] == "immature" for entry in entries[1:])
    assert [e["category"] for e in d.rpc("listtransactions", "*", 2, 99)] == ["generate", "immature"]

    tx = d.rpc("gettransaction", coin["txid"])
    assert tx["amount"] == 50.0 and tx["confirmations"] == 101 and tx["generated"] is True
    assert tx["blockheight"] == 1 and tx["blockhash"] == d.rpc("getblockhash", 1)
    assert tx["details"] == [{"address": address, "category": "generate", "amount": 50.0, "label": "mining",
                              "vout": 0, "abandoned": False}]

    print("getreceivedbyaddress counts coinbase only while immature, and only when asked (bitcoind's rule)")
    assert d.rpc("getreceivedbyaddress", address) == 0.0
    assert d.rpc("getreceivedbyaddress", address, 1, True) == 5000.0
    received = d.rpc("listreceivedbyaddress", 1, False, False, None, True)
    assert len(received) == 1 and received[0]["amount"] == 5000.0 and len(received[0]["txids"]) == 100

    print("a persistent lock survives a restart of the wallet")
    assert d.rpc("lockunspent", False, [{"txid": coin["txid"], "vout": 0}], True) is True
    assert d.rpc("listunspent") == []
    old = d.kill("wallet")
    wait_for(lambda: any(e["pid"] not in (0, old) and e["state"] == "running" for e in d.entries("wallet")), 20,
             "the wallet restarted")
    wait_for(lambda: _answers(d, "listlockunspent"), 20, "the restarted wallet's RPC")
    assert d.rpc("listlockunspent") == [{"txid": coin["txid"], "vout": 0}]
    with pytest.raises(RpcError) as error:
        d.rpc("lockunspent", False, [{"txid": coin["txid"], "vout": 0}])
    assert error.value.code == -8 and error.value.message == "Invalid parameter, output already locked"
    assert d.rpc("lockunspent", True) is True and len(d.rpc("listunspent")) == 1


def _answers(d, method):
    try:
        d.rpc(method)
        return True
    except (RpcError, OSError):
        return False


def elsewhere():
    """A regtest address that is not the wallet's: P2WSH of OP_TRUE."""
    import hashlib
    import bitcoin
    from bitcoin.core.script import CScript
    from bitcoin.wallet import P2WSHBitcoinAddress
    bitcoin.SelectParams("regtest")
    return str(P2WSHBitcoinAddress.from_scriptPubKey(CScript([0, hashlib.sha256(b"\x51").digest()])))


def test_a_reorganization_moves_a_payment_to_unconfirmed_to_conflicted_and_back(node_factory):
    d = node_factory.orreryd().start()
    address = d.rpc("getnewaddress")
    other = d.rpc("getnewaddress")
    op_true = "raw(51)"  # OP_TRUE: spendable without a signature
    coinbases = [d.rpc("getblock", h)["tx"][0] for h in d.rpc("generatetodescriptor", 101, op_true)]
    payment = raw_spend(d, coinbases[0], address, 49.9)
    block = d.rpc("generateblock", other, [payment])["hash"]
    tip_processed(d)
    txid = d.rpc("decoderawtransaction", payment)["txid"]
    assert d.rpc("gettransaction", txid)["confirmations"] == 1

    print("the block leaves the chain: the payment is unconfirmed, not trusted, not in any balance")
    d.rpc("invalidateblock", block)
    tip_processed(d)
    tx = d.rpc("gettransaction", txid)
    assert tx["confirmations"] == 0 and tx["trusted"] is False and "blockhash" not in tx
    assert d.rpc("getbalances")["mine"]["trusted"] == 0.0
    since = d.rpc("listsinceblock", d.rpc("getblockhash", 100))
    assert [t["txid"] for t in since["transactions"] if t["category"] == "receive"] == [txid]

    print("it comes back with its block")
    d.rpc("reconsiderblock", block)
    tip_processed(d)
    assert d.rpc("gettransaction", txid)["confirmations"] == 1
    assert d.rpc("getbalances")["mine"]["trusted"] == 49.9

    print("a block spending the same coin elsewhere replaces it: the payment is conflicted")
    d.rpc("invalidateblock", block)
    d.rpc("generateblock", other, [raw_spend(d, coinbases[0], elsewhere(), 49.0)])
    d.rpc("generatetoaddress", 1, other)
    tip_processed(d)
    tx = d.rpc("gettransaction", txid)
    assert tx["confirmations"] == -2 and tx["trusted"] is False
    assert d.rpc("getbalances")["mine"]["trusted"] == 0.0
    with pytest.raises(RpcError) as error:
        d.rpc("abandontransaction", txid)
    assert error.value.code == -5 and error.value.message == "Transaction not eligible for abandonment"


def test_a_wallet_killed_while_it_processes_blocks_resumes_from_its_last_block(node_factory):
    d = node_factory.orreryd(extra_args=("-keypool=10",)).start()
    address = d.rpc("getnewaddress")
    d.rpc("generatetoaddress", 110, address)
    tip_processed(d)
    print("30 more blocks, and the wallet is killed while it reads them")
    d.rpc("generatetoaddress", 30, address)
    old = d.kill("wallet")
    wait_for(lambda: any(e["pid"] not in (0, old) and e["state"] == "running" for e in d.entries("wallet")), 20,
             "the wallet restarted")
    wait_for(lambda: _answers(d, "getwalletinfo"), 20, "the restarted wallet's RPC")
    tip_processed(d)
    log = d.log()
    restarted = log[log.rindex(f"killed by signal 9 (KILL)"):]
    resumed = re.findall(r'Wallet "default": resuming from block [0-9a-f]{64} at height (\d+)', restarted)
    print("resumed at heights", resumed)
    assert resumed, "the restarted wallet logged where it resumed"
    assert int(resumed[0]) >= 110, "it resumed from its last processed block, not from the genesis"
    assert "no block processed yet" not in restarted and "rescanning" not in restarted
    balances = d.rpc("getbalances")["mine"]
    assert balances == {"trusted": 40 * 50.0, "untrusted_pending": 0.0, "immature": 100 * 50.0}
    assert d.rpc("getwalletinfo")["txcount"] == 140

    print("the node is killed under the running wallet: the wallet catches up with the restarted node, even when "
          "the node lost blocks it had not flushed")
    old_node = d.kill("node")
    wait_for(lambda: any(e["pid"] not in (0, old_node) and e["state"] == "running" for e in d.entries("node")), 20,
             "the node restarted")
    wait_for(lambda: _answers(d, "getblockcount"), 30, "the restarted node's RPC")
    d.rpc("generatetoaddress", 5, address)
    tip_processed(d)
    height = d.rpc("getblockcount")
    print("the node came back at height", height - 5)
    info = d.rpc("getwalletinfo")
    assert info["node_connected"] is True and info["lastprocessedblock"]["height"] == height
    mature = max(height - 100, 0)
    balances = d.rpc("getbalances")["mine"]
    assert balances["trusted"] == mature * 50.0 and balances["immature"] == (height - mature) * 50.0


def test_a_wallet_that_lost_its_node_keeps_answering_and_says_so(node_factory, tmp_path):
    endpoint = f"ipc://{tmp_path}/node.sock"
    node = node_factory.service("node", extra_args=(f"-ipcbind={endpoint}",)).start()
    wallet = node_factory.wallet(extra_args=(f"-ipcconnect={endpoint}", "-keypool=5")).start()
    wait_for(lambda: wallet.call("getwalletinfo", "").get("lastprocessedblock", {}).get("height") == 0, 15,
             "the genesis processed")
    assert wallet.call("getwalletinfo", "")["node_connected"] is True
    node.stop()
    wait_for(lambda: wallet.call("getwalletinfo", "")["node_connected"] is False, 15, "the loss noticed")
    info = wallet.call("getwalletinfo", "")
    print(info)
    assert info["warnings"] and "not connected to its node" in info["warnings"][0]
    assert info["lastprocessedblock"]["height"] == 0
    assert wallet.call("getbalances", "")["mine"]["trusted"] == 0.0
    node.start()
    wait_for(lambda: wallet.call("getwalletinfo", "")["node_connected"] is True, 15, "the node back")


def test_bip84_addresses_match_an_independent_derivation(node_factory):
    """The wallet's first receive address derived again with bip32utils from its exported private
    descriptor's account key (tprv at m/84'/1'/0')."""
    from bip32utils import BIP32Key
    import bitcoin
    from bitcoin.core import Hash160
    from bitcoin.core.script import CScript
    from bitcoin.wallet import P2WPKHBitcoinAddress
    bitcoin.SelectParams("regtest")
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    addresses = [d.rpc("getnewaddress") for _ in range(3)]
    descriptors = d.rpc("listdescriptors", True)["descriptors"]
    wpkh = next(x["desc"] for x in descriptors if x["desc"].startswith("wpkh(") and "/0/*" in x["desc"])
    tprv = re.search(r"\](tprv[1-9A-HJ-NP-Za-km-z]+)/0/\*", wpkh).group(1)
    account = BIP32Key.fromExtendedKey(tprv)
    for index, address in enumerate(addresses):
        pubkey = account.ChildKey(0).ChildKey(index).PublicKey()
        expected = P2WPKHBitcoinAddress.from_scriptPubKey(CScript([0, Hash160(pubkey)]))
        assert str(expected) == address


def test_a_watch_only_wallet_imports_a_descriptor_and_rescans_from_its_timestamp(node_factory):
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    d.rpc("generatetodescriptor", 120, "raw(51)")
    d.rpc("createwallet", "watch", True, True)
    info = d.rpc("getwalletinfo", wallet="watch")
    assert info["private_keys_enabled"] is False and info["blank"] is True and info["keypoolsize"] == 0
    with pytest.raises(RpcError) as error:
        d.rpc("getnewaddress", wallet="watch")
    assert error.value.code == -4
    tip_processed(d, "watch")
    print("importing OP_TRUE with timestamp 0 rescans the chain for it")
    result = d.rpc("importdescriptors", [{"desc": "raw(51)#8lvh9jxk", "timestamp": 0}], wallet="watch")
    assert result == [{"success": True}], result
    balances = d.rpc("getbalances", wallet="watch")["mine"]
    assert balances == {"trusted": 20 * 50.0, "untrusted_pending": 0.0, "immature": 100 * 50.0}
    assert d.rpc("getwalletinfo", wallet="watch")["txcount"] == 120
    print("errors of importdescriptors are per request, with bitcoind's messages")
    bad = d.rpc("importdescriptors", [{"desc": "raw(51)", "timestamp": "now"},
                                      {"desc": "raw(51)#8lvh9jxk", "timestamp": "now", "active": True}],
                wallet="watch")
    assert bad[0]["error"] == {"code": -5, "message": "Missing checksum"}
    assert bad[1]["error"] == {"code": -8, "message": "Active descriptors must be ranged"}
    assert d.rpc("rescanblockchain", 100, wallet="watch") == {"start_height": 100, "stop_height": 120}
    assert d.rpc("abortrescan", wallet="watch") is False
    assert d.rpc("listdescriptors", wallet="watch")["descriptors"][0]["desc"] == "raw(51)#8lvh9jxk"
    with pytest.raises(RpcError) as error:
        d.rpc("listdescriptors", True, wallet="watch")
    assert error.value.code == -4
