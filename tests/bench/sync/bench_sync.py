#!/usr/bin/python3
"""Block sync benchmark (issue 10 §6), one run, ratios printed.

A generated regtest chain (orrery-chaingen, signed P2WPKH/P2PKH/... spends) is
loaded into constellation A with -loadblock. Then, in the same run:

- the baseline: A connects the same chain again from its own block files
  (`-reindex-chainstate`), from process start to the tip: transactions/s and
  inputs/s;
- the sync: constellation B, started with `-connect=<A>`, fetches headers and
  blocks through its p2p-agent (and A's) over loopback and validates them, from
  process start to the tip: transactions/s, inputs/s and the ratio to the
  baseline (target: at least 0.90 — the process split costs under 10%);
- RPC during the sync: `getblockchaininfo` round trips on one keep-alive
  connection to B's gui-bridge while B syncs, against the same calls on B once
  it is idle at the same tip; p50 and p99 (target: p99 during the sync at most
  2x idle).

Then, on two fresh constellations C and D (D connected to C; tests/bench/sync/mempool_stream.py), the
mempool: transactions/s accepted by C from a stream of independent signed P2WPKH transactions sent as `tx`
messages by one raw-socket peer (one agent), against as many sent to C by `sendrawtransaction` in
JSON-RPC batches of 100; and the relay time of a sample from C's mempool to D's (C's trickle to its
inbound peer D, the inv, D's getdata, the tx, D's acceptance), p50 and p99.

Targets are reported met/MISSED, never asserted; the exit status is 1 only
when something fails (a node does not start or does not reach the tip).

ORRERY_BUILD_DIR=<build> /usr/bin/python3 tests/bench/sync/bench_sync.py [--txs N] [--idle-seconds S]
    [--mempool-txs N]
"""
import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))
from conftest import Orreryd, RpcError, tool_binary  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mempool_stream  # noqa: E402

SYNC_RATIO_TARGET = 0.90
RPC_P99_RATIO_TARGET = 2.0


def generate_chain(folder, txs):
    """Writes the chain as a block stream; returns (summary, path)."""
    path = folder / "chain.dat"
    result = subprocess.run([str(tool_binary("orrery-chaingen")), "--quiet", "--seed=10", f"--target-txs={txs}",
                             f"--out={path}"], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"orrery-chaingen failed: {result.stderr.strip()}")
    return json.loads(result.stdout), path


def height_or_none(node):
    try:
        return node.rpc("getblockcount")
    except (OSError, RpcError, http.client.HTTPException, ValueError):
        return None  # not serving yet (still starting, or warming up)


def seconds_to_height(node, height, started, timeout):
    """Polls until `node` reports `height`; returns the seconds since `started` (a perf_counter reading)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if height_or_none(node) == height:
            return time.perf_counter() - started
        if not node.running():
            raise RuntimeError(f"{node.name} exited before height {height}")
        time.sleep(0.02)
    raise RuntimeError(f"{node.name} did not reach height {height} in {timeout} s")


class LatencySampler(mempool_stream.BackgroundLoop):
    """Round trips, back to back, on one keep-alive connection until stopped: getblockchaininfo (which takes the
    chainstate lock) alternating with getnetworkinfo (a node method that does not), so that the second tells
    what the first owes to the lock and what to everything else (IPC, scheduling, a busy machine)."""

    METHODS = ("getblockchaininfo", "getnetworkinfo")

    def __init__(self, node):
        self.node = node
        self.by_method = {method: [] for method in self.METHODS}
        self.samples = self.by_method["getblockchaininfo"]
        self.errors = 0
        super().__init__()

    def run(self):
        auth = "Basic " + base64.b64encode(self.node.cookie().encode()).decode()
        bodies = {m: json.dumps({"jsonrpc": "1.0", "id": 1, "method": m, "params": []}) for m in self.METHODS}
        conn = http.client.HTTPConnection("127.0.0.1", self.node.rpc_port, timeout=30)
        turn = 0
        while not self.stopping.is_set():
            method = self.METHODS[turn % len(self.METHODS)]
            turn += 1
            began = time.perf_counter()
            try:
                conn.request("POST", "/", body=bodies[method], headers={"Authorization": auth})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.by_method[method].append(time.perf_counter() - began)
                else:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.node.rpc_port, timeout=30)
                time.sleep(0.05)
        conn.close()


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wait_for_cookie(node, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (node.net / ".cookie").exists() and height_or_none(node) is not None:
            return
        time.sleep(0.02)
    raise RuntimeError(f"{node.name}'s RPC did not come up")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--txs", type=int, default=60_000, help="transactions in the generated chain")
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--mempool-txs", type=int, default=2_000,
                        help="transactions in the mempool stream (and as many for its sendrawtransaction baseline)")
    options = parser.parse_args()
    build = Path(os.environ.get("ORRERY_BUILD_DIR", Path(__file__).resolve().parents[3] / "build"))
    os.environ["ORRERY_BUILD_DIR"] = str(build)

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        tmp = Path(tmp)
        print(f"generating a chain of at least {options.txs} transactions...", flush=True)
        summary, chain = generate_chain(tmp, options.txs)
        main_branch = summary["main"]
        blocks, txs, inputs = summary["height"], main_branch["transactions"], main_branch["inputs"]
        print(f"chain: {blocks} blocks, {txs} transactions, {inputs} inputs", flush=True)

        a = Orreryd(tmp / "a", tmp / "a.out", extra_args=(f"-loadblock={chain}",))
        b = None
        (tmp / "a").mkdir()
        try:
            a.start()
            seconds_to_height(a, blocks, time.perf_counter(), 1800)
            a.stop()

            print("baseline: A connects the chain from its block files (-reindex-chainstate)", flush=True)
            # The generated chain's timestamps are old, so A stays in initial block download and, as Core, serves
            # headers during it only to peers with the download permission.
            a = Orreryd(tmp / "a", tmp / "a.out", extra_args=("-reindex-chainstate", "-whitelist=download@127.0.0.1"))
            started = time.perf_counter()
            a.start(wait_all=False)
            local_s = seconds_to_height(a, blocks, started, 1800)
            a.wait_for_log("All services started", timeout=60)

            print("sync: B starts with -connect=A and fetches the chain through the agents", flush=True)
            (tmp / "b").mkdir()
            b = Orreryd(tmp / "b", tmp / "b.out", extra_args=("-listen=0", f"-connect=127.0.0.1:{a.p2p_port}"))
            started = time.perf_counter()
            b.start(wait_all=False)
            wait_for_cookie(b)
            with LatencySampler(b) as during:
                sync_s = seconds_to_height(b, blocks, started, 1800)
            with LatencySampler(b) as idle:
                time.sleep(options.idle_seconds)
        finally:
            for node in (b, a):
                if node is not None and node.running():
                    node.stop()
        failed = report_sync(txs, inputs, local_s, sync_s, during, idle)

        print(f"mempool: fresh constellations C (mining, listening) and D (-connect=C); {options.mempool_txs} "
              "transactions to C by sendrawtransaction, as many from one agent, a sample relayed to D", flush=True)
        c = Orreryd(tmp / "c", tmp / "c.out")
        d = None
        (tmp / "c").mkdir()
        (tmp / "d").mkdir()
        try:
            c.start()
            d = Orreryd(tmp / "d", tmp / "d.out", extra_args=(f"-connect=127.0.0.1:{c.p2p_port}",)).start()
            mempool = mempool_stream.measure(c, d, options.mempool_txs,
                                             lambda node, height: seconds_to_height(node, height,
                                                                                    time.perf_counter(), 600))
        finally:
            for node in (d, c):
                if node is not None and node.running():
                    node.stop()
    report_mempool(mempool)
    return 1 if failed else 0


def report_sync(txs, inputs, local_s, sync_s, during, idle):
    """Prints the sync figures and ratios; returns True when there were no RPC samples to compare."""
    local_rate, sync_rate = txs / local_s, txs / sync_s
    ratio = sync_rate / local_rate
    print()
    print(f"{'series':<34} {'seconds':>8} {'tx/s':>9} {'inputs/s':>9}")
    print(f"{'local (-reindex-chainstate)':<34} {local_s:>8.2f} {local_rate:>9.0f} {inputs / local_s:>9.0f}")
    print(f"{'sync from A over loopback':<34} {sync_s:>8.2f} {sync_rate:>9.0f} {inputs / sync_s:>9.0f}")
    verdict = "met" if ratio >= SYNC_RATIO_TARGET else "MISSED"
    print(f"sync / local: {ratio:.2f}x (target >= {SYNC_RATIO_TARGET:.2f}: {verdict})")
    print()
    if not during.samples or not idle.samples:
        print("getblockchaininfo: no samples (the sync ended before the first call)")
        return True
    print(f"{'getblockchaininfo':<34} {'calls':>8} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
    for name, sampler in (("during the sync", during), ("idle, same tip", idle)):
        print(f"{name:<34} {len(sampler.samples):>8} {1000 * statistics.median(sampler.samples):>9.2f} "
              f"{1000 * percentile(sampler.samples, 0.99):>9.2f} {sampler.errors:>7}")
    p99_ratio = percentile(during.samples, 0.99) / percentile(idle.samples, 0.99)
    verdict = "met" if p99_ratio <= RPC_P99_RATIO_TARGET else "MISSED"
    print(f"p99 during / idle: {p99_ratio:.2f}x (target <= {RPC_P99_RATIO_TARGET:.1f}: {verdict})")
    control_during, control_idle = during.by_method["getnetworkinfo"], idle.by_method["getnetworkinfo"]
    if control_during and control_idle:
        print(f"{'getnetworkinfo (no chainstate lock)':<34} {'calls':>8} {'p50 ms':>9} {'p99 ms':>9}")
        for name, samples in (("during the sync", control_during), ("idle, same tip", control_idle)):
            print(f"{name:<34} {len(samples):>8} {1000 * statistics.median(samples):>9.2f} "
                  f"{1000 * percentile(samples, 0.99):>9.2f}")
        print(f"p99 during / idle: {percentile(control_during, 0.99) / percentile(control_idle, 0.99):.2f}x "
              "(the part of getblockchaininfo's ratio that the chainstate lock does not explain)")
    print(flush=True)
    return False


def report_mempool(mempool):
    count = mempool["count"]
    rpc_rate, stream_rate = count / mempool["rpc_s"], count / mempool["stream_s"]
    print()
    print(f"{'mempool acceptance (P2WPKH, 1-in 1-out)':<42} {'txs':>6} {'seconds':>8} {'tx/s':>8}")
    print(f"{'sendrawtransaction, batches of 100':<42} {count:>6} {mempool['rpc_s']:>8.2f} {rpc_rate:>8.0f}")
    print(f"{'tx messages from one agent':<42} {count:>6} {mempool['stream_s']:>8.2f} {stream_rate:>8.0f}")
    print(f"from one agent / sendrawtransaction: {stream_rate / rpc_rate:.2f}x")
    relay = mempool["relay"]
    if not relay:
        print("relay: none of the sampled transactions reached D")
        return
    p50, p99 = mempool_stream.percentile(relay, 0.5), mempool_stream.percentile(relay, 0.99)
    print(f"relay, C's mempool to D's (trickle, inv, getdata, tx, acceptance), {len(relay)} of "
          f"{mempool['relay_sample']} sent {mempool_stream.RELAY_SPACING} s apart: p50 {p50:.2f} s, p99 {p99:.2f} s")
    print("(reference: Core announces to an inbound peer such as D after a Poisson delay of mean 5 s)")


if __name__ == "__main__":
    sys.exit(main())
