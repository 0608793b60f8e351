"""Blocks and transactions built in Python, independently of Orrery's own code, for the tests that hand a
node blocks over P2P (test_feature_block.py, test_sync_peer.py). Built on python-bitcoinlib's CBlock and
CTransaction, but the merkle root, the witness commitment and the proof of work are computed here, so a
test can break each of them on purpose.

Coins are paid to P2SH(OP_TRUE): anyone can spend them with a scriptSig that pushes the redeem script, and
no signature or witness is needed."""
import hashlib
import time

import pytest

bitcoin = pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")
from bitcoin.core import (COIN, COutPoint, CBlock, CBlockHeader, CMutableTransaction, CTransaction, CTxIn,  # noqa: E402
                          CTxInWitness, CTxOut, CTxWitness, Hash, Hash160, b2lx, lx)
from bitcoin.core.script import (CScript, CScriptWitness, OP_EQUAL, OP_HASH160, OP_RETURN,  # noqa: E402
                                 OP_TRUE)

REGTEST_BITS = 0x207fffff
VERSION = 0x20000000
HALVING_INTERVAL = 150  # regtest
COINBASE_MATURITY = 100
MAX_BLOCK_WEIGHT = 4_000_000
MAX_BLOCK_SIGOPS = 20_000  # legacy sigops; each weighs 4 of the 80,000 sigop cost
REDEEM_SCRIPT = CScript([OP_TRUE])
P2SH_OP_TRUE = CScript([OP_HASH160, Hash160(REDEEM_SCRIPT), OP_EQUAL])
WITNESS_MAGIC = bytes.fromhex("aa21a9ed")


def p2sh_op_true_address():
    """The regtest address of P2SH_OP_TRUE, for generatetoaddress."""
    from bitcoin.wallet import P2SHBitcoinAddress
    bitcoin.SelectParams("regtest")
    return str(P2SHBitcoinAddress.from_redeemScript(REDEEM_SCRIPT))


def subsidy(height):
    return (50 * COIN) >> (height // HALVING_INTERVAL)


def target(bits):
    return (bits & 0xffffff) << (8 * ((bits >> 24) - 3))


def meets_target(header, bits):
    return int.from_bytes(header.GetHash(), "little") <= target(bits)


def solve(version, prev, merkle_root, time_, bits, nonce=0, valid=True):
    """The header with the first nonce from `nonce` whose hash meets the target of `bits` (with `valid`
    False: the first whose hash misses it)."""
    while True:
        header = CBlockHeader(version, prev, merkle_root, time_, bits, nonce)
        if meets_target(header, bits) == valid:
            return header
        nonce += 1


def merkle_root(hashes):
    """Bitcoin's merkle root: an odd level repeats its last hash (the flaw CVE-2012-2459 is about)."""
    level = list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [Hash(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def coinbase(height, value=None, script_height=None, outputs=()):
    """A coinbase for `height` paying `value` (the subsidy by default) to P2SH_OP_TRUE, its scriptSig starting
    with `script_height` (BIP34; the real height by default), then `outputs`."""
    script_sig = CScript([height if script_height is None else script_height, b"feature_block"])
    return CMutableTransaction([CTxIn(COutPoint(), script_sig)],
                               [CTxOut(subsidy(height) if value is None else value, P2SH_OP_TRUE), *outputs])


def spend(outpoints, value, outputs=None, lock_time=0, sequence=0xffffffff, witness_item=None):
    """A transaction spending P2SH_OP_TRUE `outpoints` into one P2SH_OP_TRUE output of `value` (or `outputs`);
    `witness_item` gives its first input a witness of that one stack item."""
    if isinstance(outpoints, COutPoint):
        outpoints = [outpoints]
    tx = CMutableTransaction([CTxIn(o, CScript([bytes(REDEEM_SCRIPT)]), sequence) for o in outpoints],
                             outputs or [CTxOut(value, P2SH_OP_TRUE)], lock_time, 2)
    if witness_item is not None:
        tx.wit = CTxWitness([CTxInWitness(CScriptWitness([witness_item]))] +
                            [CTxInWitness() for _ in outpoints[1:]])
    return tx


def outpoint(tx, n=0):
    return COutPoint(tx.GetTxid(), n)


def add_witness_commitment(txs):
    """Puts BIP141's commitment to the witnesses of `txs` into its coinbase (txs[0], mutable), whose witness
    becomes the 32-byte reserved value."""
    cb = txs[0]
    cb.wit = CTxWitness([CTxInWitness(CScriptWitness([b"\x00" * 32]))])
    root = merkle_root([b"\x00" * 32] + [CTransaction.from_tx(tx).GetHash() for tx in txs[1:]])
    commitment = hashlib.sha256(hashlib.sha256(root + b"\x00" * 32).digest()).digest()
    cb.vout.append(CTxOut(0, CScript([OP_RETURN, WITNESS_MAGIC + commitment])))


def make_block(prev_hash, time_, txs, bits=REGTEST_BITS, root=None, valid_pow=True):
    """A solved block of `txs` (the first one is not forced to be a coinbase) on `prev_hash` (hex);
    `root` replaces the merkle root the header commits to; `valid_pow` False leaves the hash above target."""
    txs = [CTransaction.from_tx(tx) for tx in txs]
    if root is None:
        root = merkle_root([tx.GetTxid() for tx in txs])
    header = solve(VERSION, lx(prev_hash), root, time_, bits, valid=valid_pow)
    block = CBlock(header.nVersion, header.hashPrevBlock, header.hashMerkleRoot, header.nTime, header.nBits,
                   header.nNonce)
    # Past python-bitcoinlib's constructor, which refuses transactions that do not match the header.
    object.__setattr__(block, "vtx", tuple(txs))
    return block


def with_txs(block, txs):
    """The same header with other transactions (a mutated copy when they hash to the same root)."""
    copy = CBlock(block.nVersion, block.hashPrevBlock, block.hashMerkleRoot, block.nTime, block.nBits, block.nNonce)
    object.__setattr__(copy, "vtx", tuple(CTransaction.from_tx(tx) for tx in txs))
    return copy


def block_hash(block):
    return b2lx(block.GetHash())


def stripped_size(block):
    return len(block.serialize(dict(include_witness=False)))


def pad_to_stripped_size(height, size, make):
    """A block from `make(coinbase)` whose coinbase carries an OP_RETURN output padded so that the block's
    serialization without witnesses is exactly `size` bytes."""
    pad = 0
    while True:
        cb = coinbase(height, outputs=[CTxOut(0, CScript(bytes([OP_RETURN]) + b"\x00" * pad))])
        block = make(cb)
        missing = size - stripped_size(block)
        if missing == 0:
            return block
        pad = max(pad + missing, 0)


def now():
    return int(time.time())


__all__ = ["COIN", "COutPoint", "CTxOut", "CScript", "P2SH_OP_TRUE", "REGTEST_BITS", "COINBASE_MATURITY",
           "MAX_BLOCK_WEIGHT", "MAX_BLOCK_SIGOPS", "add_witness_commitment", "block_hash", "coinbase", "make_block",
           "merkle_root", "outpoint", "p2sh_op_true_address", "pad_to_stripped_size", "solve", "spend",
           "stripped_size", "subsidy", "with_txs", "now"]
