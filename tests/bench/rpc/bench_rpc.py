#!/usr/bin/python3
"""JSON-RPC benchmark: calls/s and latency through the gui-bridge, one run.

A real orreryd on regtest with 101 mined blocks. bench_rpc_load (C++) keeps N
keep-alive HTTP/1.1 connections busy, one request at a time each, for a few
seconds per series, and reports calls/s, p50 and p99:

- getblockcount and `getblock <tip> 2`, with 1 and 8 clients: HTTP, auth,
  the router, one IPC round trip to the node and back;
- the baseline, in the same run: the same HTTP server (http_server.h) in the
  load generator's own process answering a constant, with 1 and 8 clients.

Each series prints its ratio to the baseline with as many clients. Target:
at least 10,000 getblockcount calls/s (8 clients); reported met/MISSED, never
asserted. Exit status 1 only when something fails (a call errs, orreryd does
not start).

ORRERY_BUILD_DIR=<build> /usr/bin/python3 tests/bench/rpc/bench_rpc.py [--seconds S]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))
from conftest import Orreryd  # noqa: E402

TARGET_CALLS_PER_S = 10_000


def load(build, seconds, clients, body, port=None, auth=None):
    args = [str(build / "tests" / "bench" / "rpc" / "bench_rpc_load"), "--clients", str(clients),
            "--seconds", str(seconds), "--body", json.dumps(body)]
    args += ["--port", str(port), "--auth", auth] if port else ["--constant"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"bench_rpc_load failed: {result.stderr.strip()} {result.stdout.strip()}")
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    build = Path(os.environ.get("ORRERY_BUILD_DIR", Path(__file__).resolve().parents[3] / "build"))
    os.environ["ORRERY_BUILD_DIR"] = str(build)
    with tempfile.TemporaryDirectory(prefix="bench-rpc-") as tmp:
        (Path(tmp) / "data").mkdir()
        node = Orreryd(Path(tmp) / "data", Path(tmp) / "orreryd")
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
        finally:
            node.stop()
    print(f"{'series':<20} {'clients':>7} {'calls/s':>9} {'p50 us':>8} {'p99 us':>8} {'vs constant':>11}")
    for name, clients, f in rows:
        ratio = f["calls_per_s"] / baseline[clients]
        print(f"{name:<20} {clients:>7} {f['calls_per_s']:>9.0f} {f['p50_us']:>8} {f['p99_us']:>8} {ratio:>10.2f}x")
    best = max(f["calls_per_s"] for name, _, f in rows if name == "getblockcount")
    verdict = "met" if best >= TARGET_CALLS_PER_S else "MISSED"
    print(f"target: getblockcount >= {TARGET_CALLS_PER_S} calls/s: {best:.0f} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
