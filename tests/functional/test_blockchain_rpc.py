"""The chain RPC methods of orrery-node through orreryd -regtest, as a bitcoind client calls them:
blocks mined with generatetoaddress are read back with getblock (every verbosity), getblockheader,
getblockstats, getchaintxstats, gettxout, gettxoutsetinfo (both hashes) and scantxoutset;
invalidateblock and reconsiderblock make a fork that getchaintips shows; waitfornewblock wakes on a new
block; a second node fed the same blocks with submitblock has the same UTXO set hashes; a restart keeps
everything."""
import threading
import time
from decimal import Decimal

import pytest

from conftest import RpcError, require_binaries

# The P2WSH address of a witness script OP_TRUE on regtest (Bitcoin Core's test framework uses it too).
ADDRESS = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85"


def error_of(call):
    with pytest.raises(RpcError) as caught:
        call()
    return caught.value.code, caught.value.message


def utxo_hashes(node):
    return (node.rpc("gettxoutsetinfo")["hash_serialized_3"], node.rpc("gettxoutsetinfo", "muhash")["muhash"])


def test_a_regtest_chain_reads_back_through_every_chain_method_and_survives_a_restart(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd("chain0").start()
    print("mining 101 blocks to an OP_TRUE P2WSH address")
    hashes = node.rpc("generatetoaddress", 101, ADDRESS)
    assert len(hashes) == 101
    assert node.rpc("getblockcount") == 101
    assert node.rpc("getbestblockhash") == hashes[-1]

    print("getblock in each verbosity")
    tip = node.rpc("getblock", hashes[-1])
    assert tip["height"] == 101 and tip["confirmations"] == 1 and tip["nTx"] == 1
    assert tip["previousblockhash"] == hashes[-2] and "nextblockhash" not in tip
    for field in ("hash", "confirmations", "size", "strippedsize", "weight", "height", "version", "versionHex",
                  "merkleroot", "tx", "time", "mediantime", "nonce", "bits", "target", "difficulty", "chainwork",
                  "nTx", "previousblockhash"):
        assert field in tip, field
    raw = node.rpc("getblock", hashes[-1], 0)
    assert node.rpc("getblock", hashes[-1], False) == raw
    assert len(raw) == 2 * tip["size"]
    detailed = node.rpc("getblock", hashes[0], 2)
    coinbase = detailed["tx"][0]
    assert coinbase["txid"] == node.rpc("getblock", hashes[0])["tx"][0] and "hex" in coinbase
    assert coinbase["vout"][0]["scriptPubKey"]["address"] == ADDRESS
    assert "coinbase" in coinbase["vin"][0]
    assert node.rpc("getblock", hashes[0], 3)["tx"][0]["vin"][0].get("prevout") is None
    first = node.rpc("getblock", hashes[0])
    assert first["confirmations"] == 101 and first["nextblockhash"] == hashes[1]
    assert error_of(lambda: node.rpc("getblock", "00" * 32)) == (-5, "Block not found")
    assert error_of(lambda: node.rpc("getblock", "xyz"))[0] == -8

    print("getblockheader, verbose and not")
    header = node.rpc("getblockheader", hashes[50])
    assert header["height"] == 51 and header["confirmations"] == 51 and "tx" not in header
    assert len(node.rpc("getblockheader", hashes[50], False)) == 160

    print("getblockstats and getchaintxstats")
    stats = node.rpc("getblockstats", 101)
    assert stats["txs"] == 1 and stats["ins"] == 0 and stats["totalfee"] == 0 and stats["subsidy"] == 5000000000
    assert stats["blockhash"] == hashes[-1] and stats["utxo_increase"] == 2  # the reward and the witness commitment
    assert node.rpc("getblockstats", hashes[-1], ["height", "txs"]) == {"height": 101, "txs": 1}
    assert error_of(lambda: node.rpc("getblockstats", 102)) == (-8, "Target block height 102 after current tip 101")
    txstats = node.rpc("getchaintxstats")
    assert txstats["txcount"] == 102 and txstats["window_final_block_height"] == 101

    print("gettxout of block 1's coinbase, mature now")
    txout = node.rpc("gettxout", first["tx"][0], 0)
    assert txout["confirmations"] == 101 and txout["coinbase"] is True and txout["bestblock"] == hashes[-1]
    assert Decimal(str(txout["value"])) == Decimal("50")
    assert txout["scriptPubKey"]["address"] == ADDRESS and txout["scriptPubKey"]["type"] == "witness_v0_scripthash"
    assert node.rpc("gettxout", first["tx"][0], 5) is None
    assert node.rpc("gettxout", first["tx"][0], 0, False)["value"] == txout["value"]

    print("gettxoutsetinfo and scantxoutset")
    info = node.rpc("gettxoutsetinfo")
    assert info["height"] == 101 and info["bestblock"] == hashes[-1]
    assert info["txouts"] == 101 and info["transactions"] == 101  # the witness commitments are unspendable
    assert Decimal(str(info["total_amount"])) == Decimal(101 * 50)
    assert "muhash" not in info and len(info["hash_serialized_3"]) == 64
    assert "muhash" in node.rpc("gettxoutsetinfo", "muhash")
    scan = node.rpc("scantxoutset", "start", [f"addr({ADDRESS})"])
    assert scan["success"] is True and scan["height"] == 101 and len(scan["unspents"]) == 101
    assert Decimal(str(scan["total_amount"])) == Decimal(101 * 50)
    assert scan["unspents"][0]["desc"].startswith(f"addr({ADDRESS})#")
    assert node.rpc("scantxoutset", "status") is None

    print("the other methods: deployments, verifychain, pruneblockchain, mempool, listeners")
    deployments = node.rpc("getdeploymentinfo")["deployments"]
    assert deployments["segwit"] == {"type": "buried", "active": True, "height": 0}
    assert deployments["taproot"]["active"] is True
    assert node.rpc("verifychain") is True
    assert error_of(lambda: node.rpc("pruneblockchain", 10)) == (
        -1, "Cannot prune blocks because node is not in prune mode.")
    assert node.rpc("getmempoolinfo")["loaded"] is True
    assert node.rpc("syncwithvalidationinterfacequeue") is None
    chaininfo = node.rpc("getblockchaininfo")
    assert chaininfo["blocks"] == 101 and chaininfo["bestblockhash"] == hashes[-1]

    print("waitfornewblock wakes when a block arrives")
    woke = {}
    # current_tip: whichever of the call and the block reaches the node first, the answer is the new block.
    waiter = threading.Thread(target=lambda: woke.update(node.rpc("waitfornewblock", 30000, hashes[-1])))
    waiter.start()
    new = node.rpc("generatetoaddress", 1, ADDRESS)
    waiter.join(35)
    assert woke == {"hash": new[0], "height": 102}
    assert node.rpc("waitfornewblock", 50) == {"hash": new[0], "height": 102}  # timeout: the current tip
    assert node.rpc("waitforblock", new[0], 1000) == {"hash": new[0], "height": 102}
    assert node.rpc("waitforblockheight", 200, 50) == {"hash": new[0], "height": 102}

    print("invalidateblock at 101 and a longer fork: getchaintips shows both")
    node.rpc("invalidateblock", hashes[100])
    assert node.rpc("getblockcount") == 100
    fork = node.rpc("generatetodescriptor", 3, "raw(51)")
    tips = {tip["hash"]: tip for tip in node.rpc("getchaintips")}
    assert tips[fork[-1]] == {"height": 103, "hash": fork[-1], "branchlen": 0, "status": "active"}
    assert tips[new[0]] == {"height": 102, "hash": new[0], "branchlen": 2, "status": "invalid"}
    assert node.rpc("getblock", new[0])["confirmations"] == -1
    print("reconsiderblock: the old branch is valid again but has less work")
    node.rpc("reconsiderblock", hashes[100])
    tips = {tip["hash"]: tip for tip in node.rpc("getchaintips")}
    assert tips[new[0]]["status"] == "valid-fork" and tips[fork[-1]]["status"] == "active"
    assert node.rpc("getbestblockhash") == fork[-1]
    assert error_of(lambda: node.rpc("invalidateblock", "11" * 32)) == (-5, "Block not found")

    print("a second node fed the same blocks with submitblock has the same UTXO set hashes")
    other = node_factory.orreryd("chain1").start()
    for height in range(1, 104):
        block_hash = node.rpc("getblockhash", height)
        assert other.rpc("submitblock", node.rpc("getblock", block_hash, 0)) is None
    assert other.rpc("getbestblockhash") == fork[-1]
    before = utxo_hashes(node)
    assert utxo_hashes(other) == before
    assert other.stop() == 0

    print("a restart keeps the chain, the tips and the UTXO set")
    tips_before = sorted(node.rpc("getchaintips"), key=lambda tip: tip["hash"])
    assert node.stop() == 0
    node.start()
    assert node.rpc("getbestblockhash") == fork[-1]
    assert sorted(node.rpc("getchaintips"), key=lambda tip: tip["hash"]) == tips_before
    assert utxo_hashes(node) == before
    assert node.rpc("getblock", hashes[0], 0) == node.rpc("getblock", hashes[0], False)
    assert node.rpc("gettxout", first["tx"][0], 0)["confirmations"] == 103  # the tip is the fork's, at 103
    assert node.stop() == 0


def test_a_waitfornewblock_in_progress_is_answered_when_the_node_stops(node_factory):
    require_binaries("node", "gui-bridge")
    services = node_factory.services(with_wallet=False, bridge_args=["-debug=rpc", "-disablewallet"],
                                     node_args=["-debug=rpc"])
    genesis = services.rpc("getbestblockhash")
    answer = {}

    def wait():
        try:
            answer["result"] = services.rpc("waitfornewblock")  # no timeout
        except Exception as error:
            answer["error"] = error

    waiter = threading.Thread(target=wait)
    waiter.start()
    services.wait_for_log("Waiting for the tip to change from")  # the call reached the node
    print("SIGTERM to the node: it answers the wait with its tip at once and stops")
    started = time.monotonic()
    assert services.services["node"].stop() == 0
    assert time.monotonic() - started < 5
    waiter.join(10)
    assert not waiter.is_alive()
    assert answer == {"result": {"hash": genesis, "height": 0}}


def extended_keys_from_seed(seed):
    """The testnet/regtest master tprv and tpub of a BIP32 seed, computed here with hashlib and python-bitcoinlib's
    key (not Orrery's BIP32 code)."""
    import hashlib
    import hmac
    from bitcoin.base58 import encode
    from bitcoin.core import Hash
    from bitcoin.core.key import CECKey

    digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
    secret, chain_code = digest[:32], digest[32:]
    key = CECKey()
    key.set_secretbytes(secret)
    key.set_compressed(True)
    public = key.get_pubkey()

    def serialize(version, key_data):
        body = version + bytes(1) + bytes(4) + bytes(4) + chain_code + key_data
        return encode(body + Hash(body)[:4])

    return serialize(bytes.fromhex("04358394"), b"\0" + secret), serialize(bytes.fromhex("043587cf"), bytes(public))


def test_scantxoutset_expands_a_ranged_descriptor_over_its_range_as_bitcoind(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd("ranged").start()
    tprv, tpub = extended_keys_from_seed(bytes(range(32)))
    print("one coinbase paid to child 3 of tpub/0/*, one to child 1500 (outside the default range [0, 1000])")
    node.rpc("generatetodescriptor", 1, f"wpkh({tpub}/0/3)")
    node.rpc("generatetodescriptor", 1, f"wpkh({tpub}/0/1500)")
    scripts = {}
    for height in (1, 2):
        block = node.rpc("getblock", node.rpc("getblockhash", height), 2)
        scripts[height] = block["tx"][0]["vout"][0]["scriptPubKey"]["hex"]

    def found(scan_object):
        scan = node.rpc("scantxoutset", "start", [scan_object])
        assert scan["success"] is True
        return sorted(unspent["height"] for unspent in scan["unspents"])

    ranged = f"wpkh({tpub}/0/*)"
    assert found(ranged) == [1]
    assert found({"desc": ranged, "range": [1400, 1600]}) == [2]
    assert found({"desc": ranged, "range": 2}) == []
    assert found({"desc": f"wpkh({tprv}/0/*)", "range": [3, 1500]}) == [1, 2]
    scan = node.rpc("scantxoutset", "start", [ranged])
    assert scan["unspents"][0]["scriptPubKey"] == scripts[1]
    print("bitcoind's errors for a bad range and for a hardened step without the private key")
    assert error_of(lambda: found({"desc": ranged, "range": [5, 2]})) == (
        -8, "Range specified as [begin,end] must not have begin after end")
    assert error_of(lambda: found({"desc": ranged, "range": [0, 1000000]})) == (-8, "Range is too large")
    assert error_of(lambda: found({"desc": ranged, "range": [-1, 5]})) == (-8, "Range should be greater or equal than 0")
    assert error_of(lambda: found({"desc": ranged, "range": -1})) == (-8, "End of range is too high")  # [0, -1]
    assert error_of(lambda: found({"desc": f"wpkh({tpub}/0)", "range": 5})) == (
        -8, "Range should not be specified for an un-ranged descriptor")
    assert error_of(lambda: found(f"wpkh({tpub}/0/*h)")) == (-5, "Cannot derive script without private keys")
    assert found({"desc": f"wpkh({tprv}/0/*h)", "range": 3}) == []
    assert node.stop() == 0
