"""Reads block streams (what orrery-chaingen writes, blk*.dat and -loadblock read)
with python-bitcoinlib and replays them against a UTXO set of its own.

Independent of the C++ code: parsing, merkle roots and the witness commitment
are python-bitcoinlib's (CheckBlock), the UTXO bookkeeping and the
consensus checks on amounts, maturity and BIP34 are written out here, and
ECDSA signatures of P2PKH, P2WPKH, P2SH-P2WPKH and 2-of-3 P2WSH inputs are
verified with python-bitcoinlib's signature hashes and keys. (Taproot inputs
are beyond python-bitcoinlib 0.11; the generator's self-check and the node
verify those.)
"""
import struct

import bitcoin
import bitcoin.core
from bitcoin.core import CBlock, CheckBlock, COutPoint
from bitcoin.core.key import CPubKey
from bitcoin.core.script import (CScript, SignatureHash, SIGHASH_ALL, SIGVERSION_WITNESS_V0, OP_DUP, OP_HASH160,
                                 OP_EQUALVERIFY, OP_CHECKSIG)
from bitcoin.core.scripteval import VerifyScript, SCRIPT_VERIFY_P2SH

import utxo_digest

REGTEST_MAGIC = bytes.fromhex("fabfb5da")
REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
COINBASE_MATURITY = 100
REGTEST_HALVING = 150


def read_stream(path, magic=REGTEST_MAGIC):
    """The raw blocks of a block stream, in file order."""
    data = open(path, "rb").read()
    blocks = []
    pos = 0
    while pos < len(data):
        if data[pos:pos + 4] != magic:
            raise ValueError(f"{path}: no network magic at offset {pos}")
        (size,) = struct.unpack_from("<I", data, pos + 4)
        raw = data[pos + 8:pos + 8 + size]
        if len(raw) != size:
            raise ValueError(f"{path}: truncated block at offset {pos}")
        blocks.append(raw)
        pos += 8 + size
    return blocks


def subsidy(height):
    halvings = height // REGTEST_HALVING
    return 0 if halvings >= 64 else (50 * 100_000_000) >> halvings


def _p2pkh_code(keyhash):
    return CScript([OP_DUP, OP_HASH160, keyhash, OP_EQUALVERIFY, OP_CHECKSIG])


def _check_sig(sig_with_type, pubkey, sighash_script, tx, i, amount):
    assert sig_with_type[-1] == SIGHASH_ALL, "the generator signs with SIGHASH_ALL"
    h = SignatureHash(sighash_script, tx, i, SIGHASH_ALL, amount=amount, sigversion=SIGVERSION_WITNESS_V0)
    return CPubKey(pubkey).verify(h, sig_with_type[:-1])


class ChainReplay:
    """Applies blocks in order to a UTXO set, checking what a node would check
    that python-bitcoinlib can judge. Raises AssertionError on any violation."""

    def __init__(self):
        bitcoin.SelectParams("regtest")
        self.tip = bitcoin.core.lx(REGTEST_GENESIS)
        self.height = 0
        # (txid bytes, n) -> (value, script bytes, height, coinbase)
        self.utxos = {}
        self.signatures_checked = {}
        self.inputs = 0
        self.transactions = 0

    def copy(self):
        other = ChainReplay.__new__(ChainReplay)
        other.__dict__.update(self.__dict__)
        other.utxos = dict(self.utxos)
        other.signatures_checked = dict(self.signatures_checked)
        return other

    def apply(self, raw, check_signatures=True):
        block = CBlock.deserialize(raw)
        assert block.serialize() == raw, "the block re-serializes to the same bytes"
        height = self.height + 1
        assert block.hashPrevBlock == self.tip, f"block {height} builds on the previous block"
        CheckBlock(block, fCheckPoW=True, fCheckMerkleRoot=True, cur_time=block.nTime)
        cb = block.vtx[0]
        # BIP34: the coinbase starts with the height pushed as CScript() << height.
        prefix = bytes(CScript([height])) if height > 16 else bytes([0x50 + height])
        assert bytes(cb.vin[0].scriptSig).startswith(prefix), f"block {height}: BIP34 height"
        fees = 0
        for tx in block.vtx[1:]:
            txid = tx.GetTxid()
            value_in = 0
            for i, txin in enumerate(tx.vin):
                key = (txin.prevout.hash, txin.prevout.n)
                assert key in self.utxos, f"block {height}: input spends a missing or spent output"
                value, script, coin_height, coinbase = self.utxos.pop(key)
                if coinbase:
                    assert height - coin_height >= COINBASE_MATURITY, f"block {height}: immature coinbase spent"
                value_in += value
                if check_signatures:
                    self._check_input(tx, i, value, script)
            value_out = sum(o.nValue for o in tx.vout)
            assert value_in >= value_out, f"block {height}: a transaction creates money"
            fees += value_in - value_out
            for n, out in enumerate(tx.vout):
                if not bytes(out.scriptPubKey).startswith(b"\x6a"):
                    self.utxos[(txid, n)] = (out.nValue, bytes(out.scriptPubKey), height, False)
            self.transactions += 1
            self.inputs += len(tx.vin)
        assert sum(o.nValue for o in cb.vout) <= subsidy(height) + fees, f"block {height}: coinbase pays too much"
        cb_txid = cb.GetTxid()
        for n, out in enumerate(cb.vout):
            if not bytes(out.scriptPubKey).startswith(b"\x6a"):
                self.utxos[(cb_txid, n)] = (out.nValue, bytes(out.scriptPubKey), height, True)
        self.tip = block.GetHash()
        self.height = height
        return block

    def _count(self, kind):
        self.signatures_checked[kind] = self.signatures_checked.get(kind, 0) + 1

    def _check_input(self, tx, i, amount, script):
        txin = tx.vin[i]
        witness = list(tx.wit.vtxinwit[i].scriptWitness.stack) if tx.wit and not tx.wit.is_null() else []
        if len(script) == 25 and script[:3] == b"\x76\xa9\x14":
            VerifyScript(txin.scriptSig, CScript(script), tx, i, flags=(SCRIPT_VERIFY_P2SH,))
            self._count("p2pkh")
        elif len(script) == 22 and script[:2] == b"\x00\x14":
            sig, pub = witness
            assert _check_sig(sig, pub, _p2pkh_code(script[2:]), tx, i, amount), "a P2WPKH signature verifies"
            self._count("p2wpkh")
        elif len(script) == 23 and script[:2] == b"\xa9\x14":
            redeem = bytes(txin.scriptSig)[1:]
            assert bitcoin.core.Hash160(redeem) == script[2:22], "the P2SH redeem script matches"
            sig, pub = witness
            assert bitcoin.core.Hash160(pub) == redeem[2:], "the P2SH-P2WPKH key matches"
            assert _check_sig(sig, pub, _p2pkh_code(redeem[2:]), tx, i, amount), "a P2SH-P2WPKH signature verifies"
            self._count("p2sh_p2wpkh")
        elif len(script) == 34 and script[:2] == b"\x00\x20":
            ws = witness[-1]
            import hashlib
            assert hashlib.sha256(ws).digest() == script[2:], "the P2WSH witness script matches"
            items = list(CScript(ws))
            assert items[0] == 2 and items[-2] == 3, "a 2-of-3 multisig witness script"
            pubs = items[1:4]
            sigs = witness[1:-1]
            assert witness[0] == b"" and len(sigs) == 2
            # CHECKMULTISIG order: each signature matches a later key than the previous one.
            k = 0
            for sig in sigs:
                while k < 3 and not _check_sig(sig, pubs[k], CScript(ws), tx, i, amount):
                    k += 1
                assert k < 3, "a 2-of-3 multisig signature verifies"
                k += 1
            self._count("p2wsh_2of3")
        elif len(script) == 34 and script[:2] == b"\x51\x20":
            self._count("p2tr_unchecked")
        else:
            raise AssertionError(f"an input spends an unexpected script {script.hex()}")

    def digests(self):
        """gettxoutsetinfo's hash_serialized_3 and muhash of the current set (display hex)."""
        coins = [(txid, n, h, cb, v, s) for (txid, n), (v, s, h, cb) in self.utxos.items()]
        return utxo_digest.utxo_digests(coins)
