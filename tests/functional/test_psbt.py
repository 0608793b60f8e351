"""The wallet-less PSBT methods through orreryd, end to end: createpsbt for a
P2WPKH and a 2-of-2 P2WSH coin, utxoupdatepsbt fills the spent outputs from
the UTXO set, two signers add partial signatures made by python-bitcoinlib
(an implementation independent of ours), combinepsbt merges them,
finalizepsbt builds the witnesses and extracts the transaction, and the
mempool takes it. Also converttopsbt, joinpsbts, decodepsbt's fields and
bitcoind's errors."""
import base64

import pytest

import bitcoin
from bitcoin.core import COIN, CScript, CTransaction, Hash160, x
from bitcoin.core.script import OP_CHECKMULTISIG, SIGHASH_ALL, SIGVERSION_WITNESS_V0, SignatureHash
from bitcoin.wallet import CBitcoinSecret, P2WPKHBitcoinAddress

from conftest import RpcError, require_binaries, wait_for

bitcoin.SelectParams("regtest")

KEY = CBitcoinSecret.from_secret_bytes(b"\x41" * 32)
M1 = CBitcoinSecret.from_secret_bytes(b"\x42" * 32)
M2 = CBitcoinSecret.from_secret_bytes(b"\x43" * 32)
WITNESS_SCRIPT = CScript([2, M1.pub, M2.pub, 2, OP_CHECKMULTISIG])
DEST = str(P2WPKHBitcoinAddress.from_scriptPubKey(CScript([0, Hash160(CBitcoinSecret.from_secret_bytes(b"\x44" * 32).pub)])))


# ---- a minimal PSBT editor: enough to add key-value pairs to an input map (python-bitcoinlib has no PSBT)

def read_compact(data, pos):
    first = data[pos]
    if first < 253:
        return first, pos + 1
    size = {253: 2, 254: 4, 255: 8}[first]
    return int.from_bytes(data[pos + 1:pos + 1 + size], "little"), pos + 1 + size


def compact(n):
    return bytes([n]) if n < 253 else b"\xfd" + n.to_bytes(2, "little")


def read_maps(data):
    """The PSBT's maps, each a list of (key, value), in order: global, inputs, outputs."""
    assert data[:5] == b"psbt\xff"
    pos, maps, current = 5, [], []
    while pos < len(data):
        key_len, pos = read_compact(data, pos)
        if key_len == 0:
            maps.append(current)
            current = []
            continue
        key = data[pos:pos + key_len]
        pos += key_len
        value_len, pos = read_compact(data, pos)
        current.append((key, data[pos:pos + value_len]))
        pos += value_len
    return maps


def write_maps(maps):
    out = b"psbt\xff"
    for pairs in maps:
        for key, value in pairs:
            out += compact(len(key)) + key + compact(len(value)) + value
        out += b"\x00"
    return out


def add_to_input(psbt_b64, index, key, value):
    maps = read_maps(base64.b64decode(psbt_b64))
    maps[1 + index].append((key, value))
    return base64.b64encode(write_maps(maps)).decode()


def sign_input(psbt_b64, index, secret, script_code, amount):
    """A partial signature made by python-bitcoinlib over the PSBT's unsigned transaction (BIP143, SIGHASH_ALL)."""
    maps = read_maps(base64.b64decode(psbt_b64))
    unsigned = CTransaction.deserialize(maps[0][0][1])
    sighash = SignatureHash(script_code, unsigned, index, SIGHASH_ALL, amount=amount, sigversion=SIGVERSION_WITNESS_V0)
    sig = secret.sign(sighash) + bytes([SIGHASH_ALL])
    return add_to_input(psbt_b64, index, b"\x02" + secret.pub, sig)


@pytest.fixture
def node(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd(extra_args=["-disablewallet"]).start()
    wait_for(lambda: node.rpc("getmempoolinfo")["loaded"], 30, "mempool loaded")
    return node


def coinbase_to(node, descriptor):
    block = node.rpc("generatetodescriptor", 1, descriptor)[0]
    return node.rpc("getblock", block, 2)["tx"][0]["txid"]


def test_a_psbt_is_created_updated_signed_by_two_combined_finalized_and_sent(node):
    print("coinbases to a P2WPKH key and a 2-of-2 P2WSH, matured")
    single = coinbase_to(node, f"wpkh({KEY})")
    multi = coinbase_to(node, f"wsh(multi(2,{M1},{M2}))")
    node.rpc("generatetoaddress", 100, DEST)

    inputs = [{"txid": single, "vout": 0}, {"txid": multi, "vout": 0}]
    outputs = [{DEST: 99.999}]
    psbt = node.rpc("createpsbt", inputs, outputs)
    print("converttopsbt of the same raw transaction gives the same PSBT")
    assert node.rpc("converttopsbt", node.rpc("createrawtransaction", inputs, outputs)) == psbt
    decoded = node.rpc("decodepsbt", psbt)
    assert decoded["inputs"] == [{}, {}] and decoded["outputs"] == [{}] and "fee" not in decoded

    print("utxoupdatepsbt adds both spent outputs from the UTXO set; the fee is known then")
    psbt = node.rpc("utxoupdatepsbt", psbt)
    decoded = node.rpc("decodepsbt", psbt)
    assert [i["witness_utxo"]["amount"] for i in decoded["inputs"]] == [50, 50]
    assert decoded["inputs"][1]["witness_utxo"]["scriptPubKey"]["type"] == "witness_v0_scripthash"
    assert decoded["fee"] == pytest.approx(0.001)
    analysis = node.rpc("analyzepsbt", psbt)
    assert analysis["next"] == "updater" and analysis["fee"] == pytest.approx(0.001)
    assert analysis["inputs"][0] == {"has_utxo": True, "is_final": False, "next": "updater",
                                     "missing": {"pubkeys": [Hash160(KEY.pub).hex()]}}
    assert analysis["inputs"][1]["missing"] == {"witnessscript": bytes(x(decoded["inputs"][1]["witness_utxo"]
                                                                          ["scriptPubKey"]["hex"])[2:]).hex()}
    psbt = add_to_input(psbt, 1, b"\x05", bytes(WITNESS_SCRIPT))
    assert node.rpc("decodepsbt", psbt)["inputs"][1]["witness_script"]["type"] == "multisig"
    assert node.rpc("analyzepsbt", psbt)["inputs"][1] == {
        "has_utxo": True, "is_final": False, "next": "signer",
        "missing": {"signatures": [Hash160(M1.pub).hex(), Hash160(M2.pub).hex()]}}

    print("signer A signs the P2WPKH input and one multisig key; signer B the other key")
    p2pkh_code = CScript(x("76a914") + Hash160(KEY.pub) + x("88ac"))
    signed_a = sign_input(psbt, 0, KEY, p2pkh_code, 50 * COIN)
    signed_a = sign_input(signed_a, 1, M1, WITNESS_SCRIPT, 50 * COIN)
    signed_b = sign_input(psbt, 1, M2, WITNESS_SCRIPT, 50 * COIN)

    print("A's PSBT alone finalizes the P2WPKH input only")
    partial = node.rpc("finalizepsbt", signed_a)
    assert partial["complete"] is False and "hex" not in partial
    partial_inputs = node.rpc("decodepsbt", partial["psbt"])["inputs"]
    assert len(partial_inputs[0]["final_scriptwitness"]) == 2 and "partial_signatures" not in partial_inputs[0]
    assert len(partial_inputs[1]["partial_signatures"]) == 1

    print("combined, both signatures are on the multisig input; finalized, the mempool takes it")
    combined = node.rpc("combinepsbt", [signed_a, signed_b])
    assert len(node.rpc("decodepsbt", combined)["inputs"][1]["partial_signatures"]) == 2
    analysis = node.rpc("analyzepsbt", combined)
    assert analysis["next"] == "finalizer" and "missing" not in analysis["inputs"][1]
    assert 150 < analysis["estimated_vsize"] < 250
    assert analysis["estimated_feerate"] == pytest.approx(0.001 * 1000 / analysis["estimated_vsize"], rel=1e-3)
    final = node.rpc("finalizepsbt", combined)
    assert final["complete"] is True and "psbt" not in final
    assert node.rpc("decoderawtransaction", final["hex"])["vsize"] == analysis["estimated_vsize"]
    accepted = node.rpc("testmempoolaccept", [final["hex"]])[0]
    assert accepted["allowed"] is True, accepted
    assert node.rpc("sendrawtransaction", final["hex"]) == accepted["txid"]
    print("without extraction, finalizepsbt returns the finalized PSBT")
    unextracted = node.rpc("finalizepsbt", combined, False)
    assert unextracted["complete"] is True and "hex" not in unextracted
    assert node.rpc("finalizepsbt", unextracted["psbt"])["hex"] == final["hex"]


def test_joinpsbts_and_errors(node):
    a = node.rpc("createpsbt", [{"txid": "11" * 32, "vout": 0}], [{DEST: 1}], 10)
    b = node.rpc("createpsbt", [{"txid": "22" * 32, "vout": 1}], [{DEST: 2}], 5)
    joined = node.rpc("decodepsbt", node.rpc("joinpsbts", [a, b]))
    assert sorted(i["txid"] for i in joined["tx"]["vin"]) == ["11" * 32, "22" * 32]
    assert sorted(o["value"] for o in joined["tx"]["vout"]) == [1, 2]
    assert joined["tx"]["locktime"] == 5

    def error(*args):
        with pytest.raises(RpcError) as e:
            node.rpc(*args)
        return e.value.code, e.value.message

    assert error("joinpsbts", [a]) == (-8, "At least two PSBTs are required to join PSBTs.")
    assert error("joinpsbts", [a, a])[1] == f"Input {'11' * 32}:0 exists in multiple PSBTs"
    assert error("decodepsbt", "not base64!") == (-22, "TX decode failed invalid base64")
    assert error("decodepsbt", base64.b64encode(b"psbt\xff\x00").decode()) == \
        (-22, "TX decode failed No unsigned transaction was provided")
    assert error("combinepsbt", []) == (-8, "Parameter 'txs' cannot be empty")
    assert error("combinepsbt", [a, b]) == (-8, "PSBTs not compatible (different transactions)")
    signed_raw = node.rpc("createrawtransaction", [{"txid": "33" * 32, "vout": 0}], [{DEST: 1}])
    with_sig = signed_raw[:82] + "01ff" + signed_raw[84:]  # a one-byte scriptSig instead of an empty one
    assert error("converttopsbt", with_sig) == (-22, "Inputs must not have scriptSigs and scriptWitnesses")
    assert node.rpc("decodepsbt", node.rpc("converttopsbt", with_sig, True))["tx"]["vin"][0]["scriptSig"]["hex"] == ""
