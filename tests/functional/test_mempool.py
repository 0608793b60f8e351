"""The mempool through orreryd, as a bitcoind user drives it: real signed
P2WPKH transactions (built with createrawtransaction, signed by keys_tool)
go through sendrawtransaction, testmempoolaccept and submitpackage; Core's
reject reasons, replacement by fee (full RBF by default, opt-in with
-mempoolfullrbf=0), ancestors, getblocktemplate and generatetoaddress
mining them, a reorganization bringing them back, and mempool.dat across a
clean restart."""
import subprocess

import pytest

from conftest import RpcError, require_binaries, tool_binary, wait_for

SECRET = "11" * 32
COIN = 100_000_000


def keys_tool(*args):
    result = subprocess.run([str(tool_binary("keys_tool")), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Funds:
    """Coinbases paying to one P2WPKH key, and transactions spending them."""

    def __init__(self, node):
        self.node = node
        self.address = keys_tool("p2wpkh", "regtest", keys_tool("pubkey", SECRET, "1"))
        self.other = keys_tool("p2wpkh", "regtest", keys_tool("pubkey", "22" * 32, "1"))
        self.next_height = 1

    def mine(self, count):
        return self.node.rpc("generatetoaddress", count, self.address)

    def coinbase(self):
        """A matured coinbase not spent yet: (txid, vout, satoshis)."""
        block = self.node.rpc("getblock", self.node.rpc("getblockhash", self.next_height))
        self.next_height += 1
        return block["tx"][0], 0, 50 * COIN

    def spend(self, inputs, outputs, sequence=None):
        """Signs a transaction spending `inputs` [(txid, vout, sats)] to `outputs` (createrawtransaction's)."""
        vin = [{"txid": txid, "vout": vout, **({"sequence": sequence} if sequence is not None else {})}
               for txid, vout, _ in inputs]
        unsigned = self.node.rpc("createrawtransaction", vin, outputs, 0, False)
        signed = unsigned
        for index, (_, _, amount) in enumerate(inputs):
            signed = keys_tool("sign-p2wpkh", SECRET, signed, str(index), str(amount))
        return signed

    def pay_self(self, coin, fee, sequence=None):
        return self.spend([coin], [{self.address: (coin[2] - fee) / COIN}], sequence)


@pytest.fixture
def node(node_factory):
    require_binaries("node", "gui-bridge")
    return node_factory.orreryd(extra_args=["-disablewallet"]).start()


def rpc_error(call, *args):
    with pytest.raises(RpcError) as error:
        call(*args)
    return error.value


def test_transactions_enter_are_judged_replaced_and_mined(node):
    funds = Funds(node)
    print("mine 110 blocks to a P2WPKH key")
    funds.mine(110)
    wait_for(lambda: node.rpc("getmempoolinfo")["loaded"], 30, "mempool loaded")

    print("a signed spend of a matured coinbase enters the mempool")
    coin = funds.coinbase()
    first = funds.pay_self(coin, 10_000)
    txid = node.rpc("sendrawtransaction", first)
    assert node.rpc("getrawmempool") == [txid]
    entry = node.rpc("getmempoolentry", txid)
    assert entry["fees"]["base"] == pytest.approx(0.0001)
    assert entry["ancestorcount"] == 1 and entry["depends"] == [] and entry["bip125-replaceable"] is False
    info = node.rpc("getmempoolinfo")
    assert info["size"] == 1 and info["bytes"] == entry["vsize"] and info["unbroadcastcount"] == 1
    print("sending it again is no error")
    assert node.rpc("sendrawtransaction", first) == txid

    print("testmempoolaccept gives Core's reject reasons")
    unknown = funds.spend([("ab" * 32, 0, COIN)], [{funds.address: 0.9}])
    assert node.rpc("testmempoolaccept", [unknown])[0]["reject-reason"] == "missing-inputs"
    assert rpc_error(node.rpc, "sendrawtransaction", unknown).code == -25
    other = funds.coinbase()
    no_fee = funds.pay_self(other, 0)
    result = node.rpc("testmempoolaccept", [no_fee])[0]
    assert result["allowed"] is False and result["reject-reason"] == "min relay fee not met"
    error = rpc_error(node.rpc, "sendrawtransaction", no_fee)
    assert error.code == -26 and error.message.startswith("min relay fee not met")
    dust = funds.spend([other], [{funds.address: 49.99}, {funds.other: 0.000001}])
    assert node.rpc("testmempoolaccept", [dust])[0]["reject-reason"] == "dust"
    op_return = funds.spend([other], [{funds.address: 49.99}, {"data": "00" * 81}])
    assert node.rpc("testmempoolaccept", [op_return])[0]["reject-reason"] == "scriptpubkey"
    good = funds.pay_self(other, 5_000)
    accepted = node.rpc("testmempoolaccept", [good])[0]
    assert accepted["allowed"] is True and accepted["fees"]["base"] == pytest.approx(0.00005)
    assert node.rpc("getrawmempool") == [txid], "testmempoolaccept added nothing"
    huge_fee = funds.pay_self(other, 10 * COIN)
    assert node.rpc("testmempoolaccept", [huge_fee])[0]["reject-reason"] == "max-fee-exceeded"
    error = rpc_error(node.rpc, "sendrawtransaction", huge_fee)
    assert error.code == -25 and "maxfeerate" in error.message

    print("a double spend paying less is refused; one paying more replaces it (full RBF)")
    cheaper = funds.pay_self(coin, 9_000)
    error = rpc_error(node.rpc, "sendrawtransaction", cheaper)
    assert error.code == -26 and error.message.startswith("insufficient fee")
    better = funds.pay_self(coin, 20_000)
    better_txid = node.rpc("sendrawtransaction", better)
    assert node.rpc("getrawmempool") == [better_txid]

    print("a child of the replacement counts it as its ancestor")
    child = funds.spend([(better_txid, 0, coin[2] - 20_000)], [{funds.address: (coin[2] - 40_000) / COIN}])
    child_txid = node.rpc("sendrawtransaction", child)
    assert node.rpc("getmempoolancestors", child_txid) == [better_txid]
    assert node.rpc("getmempooldescendants", better_txid) == [child_txid]
    assert node.rpc("getmempoolentry", better_txid)["descendantcount"] == 2
    sequenced = node.rpc("getrawmempool", False, True)
    assert sorted(sequenced["txids"]) == sorted([better_txid, child_txid]) and sequenced["mempool_sequence"] > 3

    print("getblocktemplate is filled from the mempool, parent before child")
    template = node.rpc("getblocktemplate", {"rules": ["segwit"]})
    assert [t["txid"] for t in template["transactions"]] == [better_txid, child_txid]
    assert template["transactions"][1]["depends"] == [1]
    assert template["coinbasevalue"] == 50 * COIN + 40_000

    print("generatetoaddress mines them; the mempool empties")
    block_hash = funds.mine(1)[0]
    assert set(node.rpc("getblock", block_hash)["tx"][1:]) == {better_txid, child_txid}
    assert node.rpc("getrawmempool") == []
    assert node.rpc("getmempoolinfo")["size"] == 0


def test_a_reorganization_returns_block_transactions_to_the_mempool(node):
    funds = Funds(node)
    funds.mine(105)
    txid = node.rpc("sendrawtransaction", funds.pay_self(funds.coinbase(), 10_000))
    tip = funds.mine(1)[0]
    assert node.rpc("getrawmempool") == []
    print("invalidateblock takes the block off: its transaction comes back")
    node.rpc("invalidateblock", tip)
    wait_for(lambda: node.rpc("getrawmempool") == [txid], 10, "the transaction back in the mempool")
    print("reconsiderblock connects it again: the transaction leaves")
    node.rpc("reconsiderblock", tip)
    wait_for(lambda: node.rpc("getrawmempool") == [], 10, "the mempool empty again")


def test_only_signalling_transactions_are_replaced_with_mempoolfullrbf_0(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd(extra_args=["-disablewallet", "-mempoolfullrbf=0"]).start()
    funds = Funds(node)
    funds.mine(105)
    assert node.rpc("getmempoolinfo")["fullrbf"] is False
    coin = funds.coinbase()
    node.rpc("sendrawtransaction", funds.pay_self(coin, 10_000, sequence=0xffffffff))
    error = rpc_error(node.rpc, "sendrawtransaction", funds.pay_self(coin, 50_000))
    assert error.code == -26 and error.message.startswith("txn-mempool-conflict")
    signalling = funds.coinbase()
    node.rpc("sendrawtransaction", funds.pay_self(signalling, 10_000, sequence=0xfffffffd))
    replacement = node.rpc("sendrawtransaction", funds.pay_self(signalling, 50_000))
    assert replacement in node.rpc("getrawmempool")


def test_a_package_pays_for_a_parent_below_the_minimum_fee(node):
    funds = Funds(node)
    funds.mine(105)
    coin = funds.coinbase()
    parent = funds.pay_self(coin, 0)
    assert node.rpc("testmempoolaccept", [parent])[0]["reject-reason"] == "min relay fee not met"
    parent_txid = node.rpc("decoderawtransaction", parent)["txid"]
    child = funds.spend([(parent_txid, 0, coin[2])], [{funds.address: (coin[2] - 30_000) / COIN}])
    result = node.rpc("submitpackage", [parent, child])
    assert result["package_msg"] == "success", result
    assert sorted(node.rpc("getrawmempool")) == sorted([parent_txid, node.rpc("decoderawtransaction", child)["txid"]])


def test_the_mempool_survives_a_clean_restart_in_mempool_dat(node):
    funds = Funds(node)
    funds.mine(105)
    txid = node.rpc("sendrawtransaction", funds.pay_self(funds.coinbase(), 10_000))
    node.rpc("prioritisetransaction", txid, 0, 5_000)
    saved = node.rpc("savemempool")["filename"]
    assert saved.endswith("mempool.dat")
    print("stop orreryd cleanly: the node writes mempool.dat")
    node.stop()
    path = node.datadir / "regtest" / "mempool.dat"
    data = path.read_bytes()
    assert int.from_bytes(data[:8], "little") == 2 and data[8] == 8, "version 2 with an 8-byte XOR key"
    print("start it again: the transaction is back, with its priority")
    node.start()
    wait_for(lambda: node.rpc("getmempoolinfo")["loaded"], 30, "mempool loaded")
    assert node.rpc("getrawmempool") == [txid]
    assert node.rpc("getmempoolentry", txid)["fees"]["modified"] == pytest.approx(0.00015)
    assert node.rpc("getprioritisedtransactions")[txid]["fee_delta"] == 5_000
