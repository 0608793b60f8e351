"""Wallet encryption and backups through orreryd and bitcoind's RPC: encryptwallet seals the private
descriptors (no private key stays in the file or its log), walletpassphrase unlocks for a while and the
keys lock again by themselves, a wrong passphrase changes nothing, walletpassphrasechange rewraps the key,
a wallet killed right after encryption opens encrypted, and a backup restored under another name on a
second constellation shows the same addresses and balance. Signed messages agree with python-bitcoinlib
both ways; a BIP39 mnemonic gives the BIP84 addresses python3-mnemonic and bip32utils derive."""
import re

import pytest

from conftest import RpcError, wait_for

UNLOCK_NEEDED = (-13, "Error: Please enter the wallet passphrase with walletpassphrase first.")
WRONG_PASSPHRASE = (-14, "Error: The wallet passphrase entered was incorrect.")


def rpc_error(d, method, *params, **named):
    with pytest.raises(RpcError) as error:
        d.rpc(method, *params, **named)
    return error.value.code, error.value.message


def wallet_files(d, name):
    folder = d.datadir / "regtest" / "wallets" / name
    return [path for path in folder.iterdir() if path.name.startswith("wallet.sqlite")]


def private_keys_on_disk(d, name, keys):
    """The private keys (tprv strings) found in the wallet's file or its write-ahead log."""
    found = set()
    for path in wallet_files(d, name):
        data = path.read_bytes()
        found |= {key for key in keys if key.encode() in data}
    return found


def tprvs(descriptors):
    return {key for desc in descriptors for key in re.findall(r"tprv[1-9A-HJ-NP-Za-km-z]+", desc["desc"])}


def restarted_wallet(d, old_pid):
    wait_for(lambda: any(e["pid"] not in (0, old_pid) and e["state"] == "running" for e in d.entries("wallet")), 20,
             "the wallet restarted")

    def answers():
        try:
            d.rpc("getwalletinfo")
            return True
        except (RpcError, OSError):
            return False
    wait_for(answers, 20, "the restarted wallet's RPC")


def test_an_encrypted_wallet_keeps_its_keys_sealed_until_unlocked_and_relocks_by_itself(node_factory):
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    d.rpc("createwallet", "w")
    before = d.rpc("listdescriptors", True, wallet="w")["descriptors"]
    keys = tprvs(before)
    assert len(keys) == 4 and private_keys_on_disk(d, "w", keys) == keys
    assert "unlocked_until" not in d.rpc("getwalletinfo", wallet="w")
    assert rpc_error(d, "walletpassphrase", "pass", 10, wallet="w") == \
        (-15, "Error: running with an unencrypted wallet, but walletpassphrase was called.")

    print("encryptwallet: the private descriptors are sealed and gone from the file and its log")
    assert rpc_error(d, "encryptwallet", "", wallet="w") == (-8, "passphrase can not be empty")
    assert d.rpc("encryptwallet", "correct horse", wallet="w").startswith("wallet encrypted")
    assert private_keys_on_disk(d, "w", keys) == set()
    assert d.rpc("getwalletinfo", wallet="w")["unlocked_until"] == 0
    assert rpc_error(d, "listdescriptors", True, wallet="w") == UNLOCK_NEEDED
    assert rpc_error(d, "encryptwallet", "again", wallet="w") == \
        (-15, "Error: running with an encrypted wallet, but encryptwallet was called.")
    print("public keys still derive without the passphrase, as in bitcoind's descriptor wallets")
    assert d.rpc("getnewaddress", wallet="w").startswith("bcrt1")

    print("a wrong passphrase is refused and changes nothing")
    assert rpc_error(d, "walletpassphrase", "wrong", 60, wallet="w") == WRONG_PASSPHRASE
    assert d.rpc("getwalletinfo", wallet="w")["unlocked_until"] == 0
    assert rpc_error(d, "walletpassphrasechange", "wrong", "other", wallet="w") == WRONG_PASSPHRASE
    assert rpc_error(d, "walletpassphrase", "pass", -1, wallet="w") == (-8, "Timeout cannot be negative.")

    print("unlocked, the private descriptors are the same as before")
    d.rpc("walletpassphrase", "correct horse", 600, wallet="w")
    assert d.rpc("getwalletinfo", wallet="w")["unlocked_until"] > 0
    after = d.rpc("listdescriptors", True, wallet="w")["descriptors"]
    assert [x["desc"] for x in after] == [x["desc"] for x in before]
    d.rpc("walletlock", wallet="w")
    assert rpc_error(d, "listdescriptors", True, wallet="w") == UNLOCK_NEEDED

    print("the keys lock again by themselves when the timeout is over")
    d.rpc("walletpassphrase", "correct horse", 2, wallet="w")
    assert len(d.rpc("listdescriptors", True, wallet="w")["descriptors"]) == 8
    wait_for(lambda: d.rpc("getwalletinfo", wallet="w")["unlocked_until"] == 0, 15, "the wallet relocked")
    assert rpc_error(d, "listdescriptors", True, wallet="w") == UNLOCK_NEEDED

    print("walletpassphrasechange: the old passphrase no longer opens it, the new one does")
    d.rpc("walletpassphrasechange", "correct horse", "battery staple", wallet="w")
    assert rpc_error(d, "walletpassphrase", "correct horse", 60, wallet="w") == WRONG_PASSPHRASE
    d.rpc("walletpassphrase", "battery staple", 60, wallet="w")
    assert tprvs(d.rpc("listdescriptors", True, wallet="w")["descriptors"]) == keys
    assert private_keys_on_disk(d, "w", keys) == set()


def test_a_wallet_created_with_a_passphrase_never_writes_its_keys_in_the_clear(node_factory):
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    assert d.rpc("createwallet", "e", False, False, "secret") == {"name": "e"}
    info = d.rpc("getwalletinfo", wallet="e")
    assert info["unlocked_until"] == 0 and info["private_keys_enabled"]
    assert rpc_error(d, "listdescriptors", True, wallet="e") == UNLOCK_NEEDED
    d.rpc("walletpassphrase", "secret", 60, wallet="e")
    keys = tprvs(d.rpc("listdescriptors", True, wallet="e")["descriptors"])
    assert len(keys) == 4 and private_keys_on_disk(d, "e", keys) == set()
    assert d.rpc("createwallet", "plain", False, False, "")["warnings"] == \
        ["Empty string given as passphrase, wallet will not be encrypted."]
    assert rpc_error(d, "createwallet", "watch", True, False, "secret")[0] == -4
    d.rpc("createwallet", "watch", True)
    assert rpc_error(d, "encryptwallet", "x", wallet="watch") == \
        (-16, "Error: wallet does not contain private keys, nothing to encrypt.")


def test_a_wallet_killed_right_after_encryptwallet_opens_encrypted(node_factory):
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    keys = tprvs(d.rpc("listdescriptors", True)["descriptors"])
    d.rpc("encryptwallet", "kill me not")
    old = d.kill("wallet")
    restarted_wallet(d, old)
    print("the restarted wallet is encrypted and locked; the passphrase opens it")
    assert d.rpc("getwalletinfo")["unlocked_until"] == 0
    assert rpc_error(d, "listdescriptors", True) == UNLOCK_NEEDED
    d.rpc("walletpassphrase", "kill me not", 60)
    assert tprvs(d.rpc("listdescriptors", True)["descriptors"]) == keys
    assert private_keys_on_disk(d, "default", keys) == set()


def test_a_backup_restored_on_another_constellation_has_the_same_addresses_and_balance(node_factory, tmp_path):
    a = node_factory.orreryd("a", extra_args=("-keypool=5",)).start()
    address = a.rpc("getnewaddress")
    a.rpc("generatetoaddress", 101, address)
    wait_for(lambda: a.rpc("getbalance") == 50.0, 30, "the first coinbase mature in the wallet")
    a.rpc("encryptwallet", "backup pass")
    backup = tmp_path / "default.backup"
    assert a.rpc("backupwallet", str(backup)) is None
    assert backup.stat().st_mode & 0o777 == 0o600
    assert rpc_error(a, "backupwallet", str(tmp_path / "missing" / "x")) == (-4, "Error: Wallet backup failed!")

    print("a second constellation syncs a's chain, then restores the backup under another name")
    b = node_factory.orreryd("b", extra_args=("-keypool=5", f"-connect=127.0.0.1:{a.p2p_port}")).start()
    wait_for(lambda: b.rpc("getblockcount") == 101, 60, "b synced with a")
    assert rpc_error(b, "restorewallet", "copy", str(tmp_path / "nothing")) == (-8, "Backup file does not exist")
    assert b.rpc("restorewallet", "copy", str(backup)) == {"name": "copy"}
    assert rpc_error(b, "restorewallet", "copy", str(backup))[0] == -36
    wait_for(lambda: b.rpc("getwalletinfo", wallet="copy")["lastprocessedblock"]["height"] == 101, 30,
             "the restored wallet at b's tip")
    assert b.rpc("getbalance", wallet="copy") == 50.0
    assert b.rpc("getaddressinfo", address, wallet="copy")["ismine"]
    assert b.rpc("getnewaddress", wallet="copy") == a.rpc("getnewaddress")
    print("the restored wallet is still encrypted with the same passphrase")
    assert rpc_error(b, "listdescriptors", True, wallet="copy") == UNLOCK_NEEDED
    b.rpc("walletpassphrase", "backup pass", 60, wallet="copy")
    a.rpc("walletpassphrase", "backup pass", 60)
    assert b.rpc("listdescriptors", True, wallet="copy")["descriptors"] == \
        a.rpc("listdescriptors", True)["descriptors"]


def test_signed_messages_agree_with_python_bitcoinlib_both_ways(node_factory):
    import bitcoin
    from bitcoin.signmessage import BitcoinMessage, SignMessage, VerifyMessage
    from bitcoin.wallet import CBitcoinSecret, P2PKHBitcoinAddress
    bitcoin.SelectParams("regtest")
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    legacy = d.rpc("getnewaddress", "", "legacy")
    signature = d.rpc("signmessage", legacy, "hello orrery")
    print("the wallet's signature verifies with python-bitcoinlib and with the node")
    assert VerifyMessage(legacy, BitcoinMessage("hello orrery"), signature)
    assert d.rpc("verifymessage", legacy, signature, "hello orrery") is True
    assert d.rpc("verifymessage", legacy, signature, "hello orrery!") is False
    assert rpc_error(d, "signmessage", d.rpc("getnewaddress"), "x") == (-3, "Address does not refer to key")
    assert rpc_error(d, "signmessage", "nonsense", "x") == (-3, "Invalid address")
    assert rpc_error(d, "verifymessage", legacy, "%%%", "x") == (-3, "Malformed base64 encoding")
    assert rpc_error(d, "verifymessage", "nonsense", signature, "x") == (-5, "Invalid address")

    print("python-bitcoinlib's signature verifies in the node; the node's signmessagewithprivkey in python")
    key = CBitcoinSecret.from_secret_bytes(bytes(range(1, 33)))
    address = str(P2PKHBitcoinAddress.from_pubkey(key.pub))
    theirs = SignMessage(key, BitcoinMessage("from python")).decode()
    assert d.rpc("verifymessage", address, theirs, "from python") is True
    ours = d.rpc("signmessagewithprivkey", str(key), "from orrery")
    assert VerifyMessage(address, BitcoinMessage("from orrery"), ours)
    assert rpc_error(d, "signmessagewithprivkey", "not a key", "x") == (-5, "Invalid private key")

    print("an encrypted, locked wallet signs only after walletpassphrase")
    d.rpc("encryptwallet", "sign pass")
    assert rpc_error(d, "signmessage", legacy, "hello orrery") == UNLOCK_NEEDED
    d.rpc("walletpassphrase", "sign pass", 60)
    assert d.rpc("signmessage", legacy, "hello orrery") == signature  # RFC6979: the same signature


def bip84_receive_addresses(phrase, count):
    """The first BIP84 regtest receive addresses of a mnemonic, by python3-mnemonic and bip32utils alone."""
    from bip32utils import BIP32_HARDEN, BIP32Key
    from bitcoin.core import Hash160
    from bitcoin.core.script import CScript
    from bitcoin.wallet import P2WPKHBitcoinAddress
    from mnemonic import Mnemonic
    seed = Mnemonic("english").to_seed(phrase, "")
    account = BIP32Key.fromEntropy(seed, testnet=True) \
        .ChildKey(84 + BIP32_HARDEN).ChildKey(1 + BIP32_HARDEN).ChildKey(0 + BIP32_HARDEN)
    return [str(P2WPKHBitcoinAddress.from_scriptPubKey(CScript([0, Hash160(account.ChildKey(0).ChildKey(i).PublicKey())])))
            for i in range(count)]


def test_a_bip39_mnemonic_gives_the_addresses_python_mnemonic_and_bip32utils_derive(node_factory):
    import bitcoin
    from mnemonic import Mnemonic
    bitcoin.SelectParams("regtest")
    d = node_factory.orreryd(extra_args=("-keypool=5",)).start()
    created = d.rpc("createwallet", wallet_name="m", mnemonic=True)
    phrase = created["mnemonic"]
    print("createwallet mnemonic=true answers a 24-word phrase with a valid checksum")
    assert len(phrase.split()) == 24 and Mnemonic("english").check(phrase)
    addresses = [d.rpc("getnewaddress", wallet="m") for _ in range(3)]
    assert addresses == bip84_receive_addresses(phrase, 3)
    d.rpc("generatetoaddress", 101, addresses[0])

    print("the phrase restores the wallet, which finds its coins in the whole chain")
    assert "mnemonic" not in d.rpc("createwallet", wallet_name="r", mnemonic=phrase)
    wait_for(lambda: d.rpc("getbalance", wallet="r") == 50.0, 30, "the restored wallet's coins")
    print("only the paid address counts as used there: the next one is the mnemonic's second")
    assert d.rpc("getnewaddress", wallet="r") == addresses[1]
    print("a phrase with a wrong word or checksum is refused")
    assert rpc_error(d, "createwallet", wallet_name="bad", mnemonic=" ".join(phrase.split()[:-1] + ["bitcoin"]))[0] == -8
    assert rpc_error(d, "createwallet", wallet_name="bad", mnemonic="abandon " * 11 + "abandon")[0] == -8
