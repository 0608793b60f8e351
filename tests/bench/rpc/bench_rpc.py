#!/usr/bin/python3
"""JSON-RPC benchmark: calls/s and latency through the gui-bridge, one run.

A real orreryd on regtest with 101 mined blocks. bench_rpc_load (C++) keeps N
keep-alive HTTP/1.1 connections busy, one request at a time each, for a few
seconds per series, and reports calls/s, p50 and p99:

- getblockcount and `getblock <tip> 2`, with 1 and 8 clients: HTTP, auth,
  the router, one IPC round trip to the node and back;
- the baseline, in the same run: the same HTTP server (http_server.h) in the
  load generator's own process answering a constant, with 1 and 8 clients.

Then the notifications: for each of 50 blocks mined one at a time with
`generatetoaddress 1`, the time from sending that request to its reply, to the
block's ZMQ rawblock frame (-zmqpubrawblock, read by python3-zmq) and to the
web GUI's tip event on /events (the bytes a browser's stream reader gets), p50
and p99. The node logs no instant of connection, so each figure includes making
and connecting the block; their differences are the notification paths' own.

Each series prints its ratio to the baseline with as many clients. Target:
at least 10,000 getblockcount calls/s (8 clients); reported met/MISSED, never
asserted. Exit status 1 only when something fails (a call errs, orreryd does
not start).

ORRERY_BUILD_DIR=<build> /usr/bin/python3 tests/bench/rpc/bench_rpc.py [--seconds S]
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))
from conftest import Orreryd, free_port  # noqa: E402

TARGET_CALLS_PER_S = 10_000


def load(build, seconds, clients, body, port=None, auth=None):
    args = [str(build / "tests" / "bench" / "rpc" / "bench_rpc_load"), "--clients", str(clients),
            "--seconds", str(seconds), "--body", json.dumps(body)]
    args += ["--port", str(port), "--auth", auth] if port else ["--constant"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"bench_rpc_load failed: {result.stderr.strip()} {result.stdout.strip()}")
    return json.loads(result.stdout)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def notification_latency(node, zmq_address, blocks=50):
    """Per block: seconds from sending generatetoaddress 1 to its reply, its rawblock frame and its tip event."""
    import zmq
    context = zmq.Context()
    subscriber = context.socket(zmq.SUB)
    subscriber.setsockopt(zmq.SUBSCRIBE, b"rawblock")
    subscriber.setsockopt(zmq.RCVTIMEO, 20000)
    subscriber.connect(zmq_address)
    request = urllib.request.Request(f"http://127.0.0.1:{node.rpc_port}/events")
    request.add_header("Authorization", "Basic " + base64.b64encode(node.cookie().strip().encode()).decode())
    stream = urllib.request.urlopen(request, timeout=20)
    arrivals = {"zmq": [], "event": []}

    def read_zmq():
        for _ in range(blocks):
            subscriber.recv_multipart()
            arrivals["zmq"].append(time.perf_counter())

    def read_events():
        event = None
        while len(arrivals["event"]) < blocks:
            line = stream.readline()
            if not line:
                return
            if line.startswith(b"event: "):
                event = line[7:].strip()
            elif line.startswith(b"data: ") and event == b"tip":
                arrivals["event"].append(time.perf_counter())

    address = node.rpc("getnewaddress")
    # The stream first says the current tip; the subscription needs a moment to join (ZMQ's slow joiner).
    while not (line := stream.readline()).startswith(b"data: "):
        pass
    time.sleep(0.5)
    readers = [threading.Thread(target=read_zmq), threading.Thread(target=read_events)]
    for reader in readers:
        reader.start()
    sent, replied = [], []
    for _ in range(blocks):
        count = len(arrivals["zmq"]), len(arrivals["event"])
        sent.append(time.perf_counter())
        node.rpc("generatetoaddress", 1, address)
        replied.append(time.perf_counter())
        deadline = time.perf_counter() + 20
        while len(arrivals["zmq"]) <= count[0] or len(arrivals["event"]) <= count[1]:
            if time.perf_counter() > deadline:
                raise RuntimeError("a block's notification did not arrive")
            time.sleep(0.0005)
    for reader in readers:
        reader.join()
    stream.close()
    subscriber.close()
    context.term()
    return {name: [(at - start) * 1e6 for at, start in zip(times, sent)]
            for name, times in (("reply", replied), ("zmq rawblock", arrivals["zmq"]), ("/events tip", arrivals["event"]))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    build = Path(os.environ.get("ORRERY_BUILD_DIR", Path(__file__).resolve().parents[3] / "build"))
    os.environ["ORRERY_BUILD_DIR"] = str(build)
    with tempfile.TemporaryDirectory(prefix="bench-rpc-") as tmp:
        (Path(tmp) / "data").mkdir()
        zmq_address = f"tcp://127.0.0.1:{free_port()}"
        node = Orreryd(Path(tmp) / "data", Path(tmp) / "orreryd", extra_args=[f"-zmqpubrawblock={zmq_address}"])
        node.start()
        try:
            address = node.rpc("getnewaddress")
            tip = node.rpc("generatetoaddress", 101, address)[-1]
            auth = node.cookie().strip()
            calls = {
                "constant": None,
                "getblockcount": {"jsonrpc": "1.0", "id": 1, "method": "getblockcount", "params": []},
                "getblock <tip> 2": {"jsonrpc": "1.0", "id": 1, "method": "getblock", "params": [tip, 2]},
            }
            rows = []
            baseline = {}
            for clients in (1, 8):
                for name, body in calls.items():
                    if body is None:
                        figures = load(build, options.seconds, clients, calls["getblockcount"])
                        baseline[clients] = figures["calls_per_s"]
                    else:
                        figures = load(build, options.seconds, clients, body, node.rpc_port, auth)
                    rows.append((name, clients, figures))
            latency = notification_latency(node, zmq_address)
        finally:
            node.stop()
    print(f"{'series':<20} {'clients':>7} {'calls/s':>9} {'p50 us':>8} {'p99 us':>8} {'vs constant':>11}")
    for name, clients, f in rows:
        ratio = f["calls_per_s"] / baseline[clients]
        print(f"{name:<20} {clients:>7} {f['calls_per_s']:>9.0f} {f['p50_us']:>8} {f['p99_us']:>8} {ratio:>10.2f}x")
    best = max(f["calls_per_s"] for name, _, f in rows if name == "getblockcount")
    verdict = "met" if best >= TARGET_CALLS_PER_S else "MISSED"
    print(f"target: getblockcount >= {TARGET_CALLS_PER_S} calls/s: {best:.0f} ({verdict})")
    print()
    print(f"{'from generatetoaddress 1 to':<28} {'blocks':>6} {'p50 us':>8} {'p99 us':>8}")
    for name, values in latency.items():
        print(f"{name:<28} {len(values):>6} {percentile(values, 0.5):>8.0f} {percentile(values, 0.99):>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
