"""The Chain calls a wallet makes to send, against a real orrery-node process
(started by hand with a gui-bridge for RPC; tests/tools/chain_call makes each
call as a wallet would): broadcastTransaction puts a transaction in the mempool
or says why not with sendrawtransaction's messages, the relay and mempool fee
rates follow the options, estimateSmartFee answers "no estimate" on a fresh
chain, and getTransactionAncestry counts a parent and its child."""
import json
import subprocess

import bitcoin
from bitcoin.wallet import CBitcoinSecret

from conftest import tool_binary, wait_for

bitcoin.SelectParams("regtest")

WIF = str(CBitcoinSecret.from_secret_bytes(b"\x31" * 32, True))
DESCRIPTOR = f"wpkh({WIF})"


def chain_call(group, method, *args):
    """("result", value) or ("error", {code, message})."""
    result = subprocess.run([str(tool_binary("chain_call")), f"-datadir={group.datadir}", "-regtest", method,
                             *map(str, args)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    return ("error", reply["error"]) if "error" in reply else ("result", reply["result"])


def call(group, method, *args):
    kind, value = chain_call(group, method, *args)
    assert kind == "result", f"{method} failed: {value}"
    return value


def signed_spend(group, txid, vout, amount, address, prevtxs=()):
    unsigned = group.rpc("createrawtransaction", [{"txid": txid, "vout": vout}], [{address: amount}])
    result = group.rpc("signrawtransactionwithkey", unsigned, [WIF], list(prevtxs))
    assert result["complete"], result
    return result["hex"]


def test_a_wallet_broadcasts_reads_fee_rates_and_ancestry_over_chain(node_factory):
    group = node_factory.services(bridge_args=("-disablewallet",), with_wallet=False, start=False)
    group.services["node"].args += ["-minrelaytxfee=0.00002", "-dustrelayfee=0.00004"]
    group.start()
    wait_for(lambda: group.rpc("getmempoolinfo")["loaded"], 30, "mempool loaded")

    print("the relay and mempool fee rates are the node's options, in sat/kvB")
    assert call(group, "relayMinFee") == 2000
    assert call(group, "relayIncrementalFee") == 1000
    assert call(group, "relayDustFee") == 4000
    assert call(group, "mempoolMinFee") == 2000
    print("a fresh chain has no fee estimate")
    assert call(group, "estimateSmartFee", 6, 0) == {"fee_rate": 0, "blocks": 0}

    print("mine a coinbase to our key and let it mature")
    block = group.rpc("generatetodescriptor", 1, DESCRIPTOR)[0]
    coinbase = group.rpc("getblock", block, 2)["tx"][0]
    address = coinbase["vout"][0]["scriptPubKey"]["address"]
    group.rpc("generatetodescriptor", 100, DESCRIPTOR)

    print("a signed spend goes into the mempool through broadcastTransaction")
    parent = signed_spend(group, coinbase["txid"], 0, 49.999, address)
    assert call(group, "broadcastTransaction", parent, 10_000_000) == ""
    parent_txid = group.rpc("decoderawtransaction", parent)["txid"]
    assert group.rpc("getrawmempool") == [parent_txid]
    print("the same transaction again is not an error")
    assert call(group, "broadcastTransaction", parent, 10_000_000) == ""

    print("its child: the family counts from both ends")
    child = signed_spend(group, parent_txid, 0, 49.998, address)
    assert call(group, "broadcastTransaction", child, 0) == ""
    child_txid = group.rpc("decoderawtransaction", child)["txid"]
    assert call(group, "getTransactionAncestry", parent_txid) == {
        "ancestors": 1, "descendants": 2, "ancestor_vsize": group.rpc("getmempoolentry", parent_txid)["vsize"],
        "ancestor_fees": 100_000}
    child_family = call(group, "getTransactionAncestry", child_txid)
    assert child_family["ancestors"] == 2 and child_family["descendants"] == 1
    assert child_family["ancestor_fees"] == 200_000
    assert call(group, "getTransactionAncestry", "00" * 32) == {
        "ancestors": 0, "descendants": 0, "ancestor_vsize": 0, "ancestor_fees": 0}

    print("refusals carry sendrawtransaction's messages")
    block2 = group.rpc("generatetodescriptor", 1, DESCRIPTOR)[0]
    group.rpc("generatetodescriptor", 100, DESCRIPTOR)
    coinbase2 = group.rpc("getblock", block2, 2)["tx"][0]
    pricey = signed_spend(group, coinbase2["txid"], 0, 49.0, address)  # 1 BTC fee
    assert call(group, "broadcastTransaction", pricey, 10_000_000) == \
        "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"
    script = coinbase["vout"][0]["scriptPubKey"]["hex"]
    unknown = signed_spend(group, "ab" * 32, 0, 1.0, address, [{"txid": "ab" * 32, "vout": 0, "scriptPubKey": script,
                                                                "amount": 2.0}])
    assert call(group, "broadcastTransaction", unknown, 0) == \
        "bad-txns-inputs-missingorspent"
    assert call(group, "broadcastTransaction", "00", 0) == "TX decode failed"
    # The blocks above mined the parent and the child: the child's output is in the UTXO set, the parent's spent.
    assert group.rpc("getrawmempool") == []
    assert call(group, "broadcastTransaction", child, 0) == "Transaction outputs already in utxo set"
    assert call(group, "broadcastTransaction", parent, 0) == "bad-txns-inputs-missingorspent"
    print("with no fee limit, the pricey one goes in")
    assert call(group, "broadcastTransaction", pricey, 0) == ""
    group.stop()
