"""signrawtransactionwithkey through orreryd: coinbases mined to pkh, sh(wpkh),
wpkh, tr, wsh(multi) and sh(wsh(multi)) descriptors are spent with
transactions the node signs from WIF keys; each is accepted by
testmempoolaccept and sendrawtransaction, and the pkh and wpkh signatures are
checked independently with python-bitcoinlib. A 2-of-3 multisig is signed by
two callers in turn; bitcoind's per-input errors and argument errors."""
import pytest

import bitcoin
from bitcoin.core import COIN, CScript, CTransaction, Hash160, x
from bitcoin.core.key import CPubKey
from bitcoin.core.script import (OP_CHECKMULTISIG, SIGHASH_ALL, SIGVERSION_WITNESS_V0, SignatureHash)
from bitcoin.core.scripteval import SCRIPT_VERIFY_P2SH, VerifyScript
from bitcoin.wallet import CBitcoinSecret, P2WPKHBitcoinAddress

from conftest import RpcError, require_binaries, wait_for

bitcoin.SelectParams("regtest")

SECRETS = {name: bytes([0x10 + i]) * 32 for i, name in enumerate(("pkh", "shwpkh", "wpkh", "tr", "m1", "m2", "m3"))}
KEYS = {name: CBitcoinSecret.from_secret_bytes(secret, True) for name, secret in SECRETS.items()}
WIF = {name: str(key) for name, key in KEYS.items()}
MULTI = f"multi(2,{WIF['m1']},{WIF['m2']},{WIF['m3']})"
WITNESS_SCRIPT = CScript([2, KEYS["m1"].pub, KEYS["m2"].pub, KEYS["m3"].pub, 3, OP_CHECKMULTISIG])
DESCRIPTORS = {
    "pkh": f"pkh({WIF['pkh']})",
    "sh(wpkh)": f"sh(wpkh({WIF['shwpkh']}))",
    "wpkh": f"wpkh({WIF['wpkh']})",
    "tr": f"tr({WIF['tr']})",
    "wsh(multi)": f"wsh({MULTI})",
    "sh(wsh(multi))": f"sh(wsh({MULTI}))",
}
SIGNERS = {"pkh": ["pkh"], "sh(wpkh)": ["shwpkh"], "wpkh": ["wpkh"], "tr": ["tr"],
           "wsh(multi)": ["m1", "m3"], "sh(wsh(multi))": ["m2", "m3"]}
# Where the spends go (a P2WPKH of an unrelated key, made by python-bitcoinlib); they are not spent again.
DEST = str(P2WPKHBitcoinAddress.from_scriptPubKey(CScript([0, Hash160(CBitcoinSecret.from_secret_bytes(b"\x77" * 32).pub)])))


def rpc_error(call, *args):
    with pytest.raises(RpcError) as error:
        call(*args)
    return error.value


@pytest.fixture
def node(node_factory):
    require_binaries("node", "gui-bridge")
    node = node_factory.orreryd(extra_args=["-disablewallet"]).start()
    wait_for(lambda: node.rpc("getmempoolinfo")["loaded"], 30, "mempool loaded")
    return node


def mine_coins(node):
    """One coinbase per descriptor, matured: {kind: (txid, scriptPubKey hex)}."""
    coins = {}
    for kind, descriptor in DESCRIPTORS.items():
        block_hash = node.rpc("generatetodescriptor", 1, descriptor)[0]
        coinbase = node.rpc("getblock", block_hash, 2)["tx"][0]
        coins[kind] = (coinbase["txid"], coinbase["vout"][0]["scriptPubKey"]["hex"])
    node.rpc("generatetoaddress", 100, DEST)
    return coins


def spend(node, txid, amount=49.9999, sequence=None):
    vin = [{"txid": txid, "vout": 0, **({"sequence": sequence} if sequence is not None else {})}]
    return node.rpc("createrawtransaction", vin, [{DEST: amount}])


def prevtxs(kind, txid, spk):
    if "multi" not in kind:
        return []
    return [{"txid": txid, "vout": 0, "scriptPubKey": spk, "witnessScript": WITNESS_SCRIPT.hex(), "amount": 50}]


def test_every_script_type_is_signed_and_accepted(node):
    print("mine a coinbase to each descriptor and let them mature")
    coins = mine_coins(node)
    for kind, (txid, spk) in coins.items():
        print(f"{kind}: sign the spend of {txid} with {SIGNERS[kind]}")
        unsigned = spend(node, txid)
        result = node.rpc("signrawtransactionwithkey", unsigned, [WIF[k] for k in SIGNERS[kind]],
                          prevtxs(kind, txid, spk))
        assert result["complete"] is True, result
        assert "errors" not in result
        accepted = node.rpc("testmempoolaccept", [result["hex"]])[0]
        assert accepted["allowed"] is True, accepted
        assert node.rpc("sendrawtransaction", result["hex"]) == accepted["txid"]

        tx = CTransaction.deserialize(x(result["hex"]))
        if kind == "pkh":
            print("pkh: python-bitcoinlib's VerifyScript accepts the scriptSig")
            VerifyScript(tx.vin[0].scriptSig, CScript(x(spk)), tx, 0, (SCRIPT_VERIFY_P2SH,))
        if kind == "wpkh":
            print("wpkh: python-bitcoinlib's BIP143 sighash verifies the signature")
            sig, pub = tx.wit.vtxinwit[0].scriptWitness.stack
            assert sig[-1] == SIGHASH_ALL
            script_code = CScript(x("76a914") + Hash160(pub) + x("88ac"))  # the P2PKH script of the key
            sighash = SignatureHash(script_code, tx, 0, SIGHASH_ALL, amount=50 * COIN, sigversion=SIGVERSION_WITNESS_V0)
            assert CPubKey(pub).verify(sighash, sig[:-1])
            assert pub == KEYS["wpkh"].pub
        if kind == "tr":
            assert len(tx.wit.vtxinwit[0].scriptWitness.stack[0]) == 64  # SIGHASH_DEFAULT
    assert len(node.rpc("getrawmempool")) == len(DESCRIPTORS)


def test_a_multisig_is_signed_in_turns_and_errors_are_bitcoinds(node):
    coins = mine_coins(node)
    txid, spk = coins["wsh(multi)"]
    unsigned = spend(node, txid)
    print("the first signer alone: incomplete, with the error that asks for more signatures")
    first = node.rpc("signrawtransactionwithkey", unsigned, [WIF["m2"]], prevtxs("wsh(multi)", txid, spk))
    assert first["complete"] is False
    [error] = first["errors"]
    assert error["txid"] == txid and error["vout"] == 0
    assert error["error"] == "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)"
    assert len(error["witness"]) == 4 and error["scriptSig"] == ""
    assert node.rpc("testmempoolaccept", [first["hex"]])[0]["allowed"] is False
    print("the second signer completes it")
    second = node.rpc("signrawtransactionwithkey", first["hex"], [WIF["m1"]], prevtxs("wsh(multi)", txid, spk))
    assert second["complete"] is True
    assert node.rpc("testmempoolaccept", [second["hex"]])[0]["allowed"] is True

    print("a key that cannot sign, an unknown input, a bad key, a bad sighash name")
    pkh_txid, _ = coins["pkh"]
    wrong = node.rpc("signrawtransactionwithkey", spend(node, pkh_txid), [WIF["wpkh"]])
    assert wrong["complete"] is False
    assert wrong["errors"][0]["error"] == "Unable to sign input, invalid stack size (possibly missing key)"
    missing = node.rpc("signrawtransactionwithkey", spend(node, "ab" * 32), [WIF["wpkh"]])
    assert missing["errors"][0]["error"] == "Input not found or already spent"
    error = rpc_error(node.rpc, "signrawtransactionwithkey", spend(node, pkh_txid), ["notakey"])
    assert error.code == -5 and error.message == "Invalid private key"
    error = rpc_error(node.rpc, "signrawtransactionwithkey", spend(node, pkh_txid), [WIF["pkh"]], [], "ALL|NONE")
    assert error.code == -8 and error.message == "'ALL|NONE' is not a valid sighash parameter."
    error = rpc_error(node.rpc, "signrawtransactionwithkey", "00", [WIF["pkh"]])
    assert error.code == -22
    print("a segwit output named in prevtxs without its amount")
    wpkh_txid, wpkh_spk = coins["wpkh"]
    error = rpc_error(node.rpc, "signrawtransactionwithkey", spend(node, "cd" * 32), [WIF["wpkh"]],
                      [{"txid": "cd" * 32, "vout": 0, "scriptPubKey": wpkh_spk}])
    assert error.code == -3 and error.message.startswith("Missing amount for CTxOut(nValue=21000000.00000000")
    error = rpc_error(node.rpc, "signrawtransactionwithkey", spend(node, txid), [WIF["m1"]],
                      [{"txid": txid, "vout": 0, "scriptPubKey": spk}])
    assert error.code == -8 and error.message == "Missing redeemScript/witnessScript"

    print("ALL|ANYONECANPAY ends the signature with 0x81 and is accepted")
    signed = node.rpc("signrawtransactionwithkey", spend(node, wpkh_txid), [WIF["wpkh"]], [], "ALL|ANYONECANPAY")
    tx = CTransaction.deserialize(x(signed["hex"]))
    assert tx.wit.vtxinwit[0].scriptWitness.stack[0][-1] == 0x81
    assert node.rpc("testmempoolaccept", [signed["hex"]])[0]["allowed"] is True
