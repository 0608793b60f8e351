"""The mempool half of the sync benchmark (issue 10 §6): how fast a constellation accepts a stream of
independent P2WPKH transactions from one agent, against the same node taking as many by
`sendrawtransaction` (JSON-RPC batches of 100) in the same run, and how long an accepted transaction takes
to reach another constellation.

Keys and signatures are python-bitcoinlib's (BIP143 signature hash, low-S ECDSA), so the transactions owe
nothing to Orrery's own wallet or signer. The stream comes from a raw-socket peer (one inbound agent) that
negotiates wtxid relay and sends `tx` messages back to back."""
import base64
import hashlib
import http.client
import json
import threading
import time
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))
from p2p_agent_fixture import Peer, frame  # noqa: E402

import bitcoin  # noqa: E402
from bitcoin.core import (COutPoint, CMutableTransaction, CTransaction, CTxIn, CTxInWitness, CTxOut,  # noqa: E402
                          CTxWitness, Hash160, b2lx, lx)
from bitcoin.core.script import (CScript, CScriptWitness, OP_0, OP_CHECKSIG, OP_DUP, OP_EQUALVERIFY,  # noqa: E402
                                 OP_HASH160, SIGHASH_ALL, SIGVERSION_WITNESS_V0, SignatureHash)
from bitcoin.wallet import CKey, P2WPKHBitcoinAddress  # noqa: E402

OUTPUT_VALUE = 2_000  # satoshis per fanned-out output: above dust, enough for a 1 sat/vB fee
STREAM_FEE = 300  # a 1-in 1-out P2WPKH spend is 110 vB
RELAY_SAMPLE = 60  # transactions timed from one mempool to the other (under one trickle's 70 announcements)
RELAY_SPACING = 0.5  # seconds between them: 30 s, about six trickles of mean 5 s
RPC_BATCH = 100  # sendrawtransaction calls per JSON-RPC batch request
FANOUT_WIDTH = 1_000  # outputs per fan-out transaction: 31 kvB, under the standard 100 kvB


class Key:
    """One P2WPKH key held by the benchmark."""

    def __init__(self, seed=b"bench_sync"):
        bitcoin.SelectParams("regtest")
        self.key = CKey(hashlib.sha256(seed).digest())
        self.script_pubkey = CScript([OP_0, Hash160(self.key.pub)])
        self.script_code = CScript([OP_DUP, OP_HASH160, Hash160(self.key.pub), OP_EQUALVERIFY, OP_CHECKSIG])
        self.address = str(P2WPKHBitcoinAddress.from_scriptPubKey(self.script_pubkey))

    def spend(self, coins, outputs):
        """A signed transaction spending `coins` [(outpoint, value)] of this key to `outputs` [(value, script)]."""
        tx = CMutableTransaction([CTxIn(o, nSequence=0xfffffffd) for o, _ in coins],
                                 [CTxOut(v, s) for v, s in outputs], 0, 2)
        witnesses = []
        for i, (_, value) in enumerate(coins):
            sighash = SignatureHash(self.script_code, tx, i, SIGHASH_ALL, amount=value,
                                    sigversion=SIGVERSION_WITNESS_V0)
            witnesses.append(CTxInWitness(CScriptWitness([self.key.sign(sighash) + bytes([SIGHASH_ALL]),
                                                          self.key.pub])))
        tx.wit = CTxWitness(witnesses)
        return CTransaction.from_tx(tx)


class Rpc:
    """JSON-RPC on one keep-alive connection (as a client that sends many calls would)."""

    def __init__(self, node):
        self.auth = "Basic " + base64.b64encode(node.cookie().encode()).decode()
        self.conn = http.client.HTTPConnection("127.0.0.1", node.rpc_port, timeout=60)

    def call(self, method, *params):
        body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)})
        self.conn.request("POST", "/", body=body, headers={"Authorization": self.auth})
        reply = json.loads(self.conn.getresponse().read())
        if reply.get("error"):
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def batch(self, method, params_list):
        """One JSON-RPC batch request of `method` with each of `params_list`; raises on any error."""
        body = json.dumps([{"jsonrpc": "1.0", "id": i, "method": method, "params": list(p)}
                           for i, p in enumerate(params_list)])
        self.conn.request("POST", "/", body=body, headers={"Authorization": self.auth})
        replies = json.loads(self.conn.getresponse().read())
        errors = [r["error"] for r in replies if r.get("error")]
        if errors:
            raise RuntimeError(f"{method}: {errors[0]} ({len(errors)} errors)")
        return [r["result"] for r in replies]

    def close(self):
        self.conn.close()


class BackgroundLoop:
    """Runs `run` on a thread of its own from `with` entry to exit; `run` returns once `stopping` is set."""

    def __init__(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


class MempoolWatcher(BackgroundLoop):
    """Polls a node's getrawmempool and records when each txid was first seen (perf_counter)."""

    def __init__(self, node, interval=0.02):
        super().__init__()
        self.rpc = Rpc(node)
        self.interval = interval
        self.seen = {}

    def run(self):
        while not self.stopping.is_set():
            txids = self.rpc.call("getrawmempool")
            now = time.perf_counter()
            for txid in txids:
                self.seen.setdefault(txid, now)
            time.sleep(self.interval)
        self.rpc.close()


def fund(a, b, key, count, wait_height):
    """Mines coinbases to `key` on `a` and fans them out into `count` outputs of OUTPUT_VALUE, confirmed and
    synced to `b` (`wait_height(node, height)`); returns the outputs [(outpoint, value)]."""
    rpc = Rpc(a)
    outputs = []
    fanouts = []
    mined = 0
    while sum(len(f[1]) for f in fanouts) < count:
        block = rpc.call("generatetoaddress", 1, key.address)[0]
        mined += 1
        cb = rpc.call("getblock", block, 2)["tx"][0]
        value = round(cb["vout"][0]["value"] * 100_000_000)
        width = min(FANOUT_WIDTH, (value - 100_000) // OUTPUT_VALUE, count - sum(len(f[1]) for f in fanouts))
        if width <= 0:
            raise RuntimeError(f"the block subsidy ({value} sat) is too small to fund the stream")
        fanouts.append(((COutPoint(lx(cb["txid"]), 0), value), [(OUTPUT_VALUE, key.script_pubkey)] * width))
    # Coinbase maturity: 100 blocks on the last funding coinbase.
    rpc.call("generatetoaddress", 100, key.address)
    for coin, outs in fanouts:
        change = coin[1] - OUTPUT_VALUE * len(outs) - 50_000
        tx = key.spend([coin], outs + [(change, key.script_pubkey)])
        rpc.call("sendrawtransaction", tx.serialize().hex())
        outputs += [(COutPoint(tx.GetTxid(), n), OUTPUT_VALUE) for n in range(len(outs))]
    tip = rpc.call("generatetoaddress", 1, key.address)[0]
    assert not rpc.call("getrawmempool"), "the fan-out transactions were not mined"
    rpc.close()
    wait_height(b, rpc_height(a))
    assert b.rpc("getbestblockhash") == tip
    return outputs


def rpc_height(node):
    return node.rpc("getblockcount")


def connect_stream_peer(node):
    """A raw peer that negotiates wtxid relay (BIP339), as test_relay.py's."""
    peer = Peer(node.p2p_port, timeout=60)
    peer.handshake_wtxid(b"/bench-stream/")
    deadline = time.monotonic() + 30
    while not any(p["subver"] == "/bench-stream/" for p in node.rpc("getpeerinfo")):
        if time.monotonic() > deadline:
            raise RuntimeError("the stream peer did not appear in getpeerinfo")
        time.sleep(0.02)
    return peer


def wait_mempool_size(rpc, size, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rpc.call("getmempoolinfo")["size"] >= size:
            return time.perf_counter()
        time.sleep(0.002)
    raise RuntimeError(f"the mempool did not reach {size} transactions")


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(target, other, count, wait_height):
    """Runs the mempool measurements on `target` (which must listen; `other` is its peer, synced). Returns a
    dict of figures: seconds for `count` transactions by sendrawtransaction and by the stream, and the relay
    times (seconds) from `target`'s mempool to `other`'s of RELAY_SAMPLE transactions sent first."""
    key = Key()
    coins = fund(target, other, key, 2 * count + RELAY_SAMPLE, wait_height)
    spend_to = [(OUTPUT_VALUE - STREAM_FEE, key.script_pubkey)]
    txs = [key.spend([coin], spend_to) for coin in coins]
    sample, baseline, stream = txs[:RELAY_SAMPLE], txs[RELAY_SAMPLE:RELAY_SAMPLE + count], txs[RELAY_SAMPLE + count:]
    rpc = Rpc(target)
    peer = connect_stream_peer(target)

    # Relay first, while nothing else is queued for `other`: Core's trickle sends at most 70 announcements per
    # interval, and the streams below would queue thousands.
    with MempoolWatcher(target) as at_target, MempoolWatcher(other) as at_other:
        # Spread over several trickle intervals, so the figures sample the delay rather than one draw of it.
        for tx in sample:
            peer.send_raw(frame(b"tx", tx.serialize()))
            time.sleep(RELAY_SPACING)
        wanted = {b2lx(tx.GetTxid()) for tx in sample}
        deadline = time.monotonic() + 120
        while not wanted <= at_other.seen.keys() and time.monotonic() < deadline:
            time.sleep(0.05)
    relay = [at_other.seen[t] - at_target.seen[t] for t in wanted if t in at_other.seen and t in at_target.seen]

    # The baseline in batches, so that it measures the node's acceptance rather than round trips.
    began = time.perf_counter()
    for first in range(0, len(baseline), RPC_BATCH):
        rpc.batch("sendrawtransaction", [[tx.serialize().hex()] for tx in baseline[first:first + RPC_BATCH]])
    rpc_s = time.perf_counter() - began
    wait_mempool_size(rpc, RELAY_SAMPLE + count)

    frames = [frame(b"tx", tx.serialize()) for tx in stream]
    began = time.perf_counter()
    for data in frames:
        peer.send_raw(data)
    stream_s = wait_mempool_size(rpc, RELAY_SAMPLE + 2 * count) - began
    peer.close()
    rpc.close()
    return {"count": count, "rpc_s": rpc_s, "stream_s": stream_s, "relay": relay, "relay_sample": RELAY_SAMPLE}
