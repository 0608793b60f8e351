"""Fixture for the RPC tests: orrery-node, orrery-wallet and orrery-gui-bridge
started by hand in one temporary datadir, the bridge on a free port.

Every process started here is stopped at teardown (SIGTERM, then SIGKILL) and
reaped. Tests skip with a reason when the node or wallet binary is not built.
"""
import base64
import http.client
import json
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import build_dir, wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One service process started by hand."""

    def __init__(self, name, binary, args):
        self.name = name
        self.args = [str(binary), *args]
        self.process = None

    def start(self):
        print(f"starting {self.name}: {' '.join(self.args)}")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=10):
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.process.communicate()
        return self.process.returncode if self.process else None


class RpcError(Exception):
    def __init__(self, code, message, status):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class Constellation:
    """Node, wallet and gui-bridge of one regtest datadir."""

    def __init__(self, datadir, bridge_args=(), with_node=True, with_wallet=True):
        self.datadir = Path(datadir)
        self.rpcport = free_port()
        common = [f"-datadir={datadir}", "-regtest"]
        self.services = {}
        build = build_dir()
        if with_node:
            self.services["node"] = Service("orrery-node", build / "services" / "node" / "orrery-node",
                                            common + ["-nolisten"])
        if with_wallet:
            self.services["wallet"] = Service("orrery-wallet", build / "services" / "wallet" / "orrery-wallet", common)
        self.services["bridge"] = Service("orrery-gui-bridge", build / "services" / "gui-bridge" / "orrery-gui-bridge",
                                          common + [f"-rpcport={self.rpcport}", *bridge_args])

    @property
    def net(self):
        return self.datadir / "regtest"

    @property
    def bridge(self):
        return self.services["bridge"]

    def log(self):
        path = self.net / "debug.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, text, timeout=15.0):
        wait_for(lambda: text in self.log(), timeout, f"'{text}' in debug.log")

    def start(self):
        for name in ("node", "wallet"):
            if name in self.services:
                self.services[name].start()
        if "node" in self.services:
            self.wait_for_log("Node interface on")
        if "wallet" in self.services:
            wait_for(lambda: (self.net / "run" / "wallet.sock").exists(), 15, "the wallet's socket")
        self.bridge.start()
        self.wait_for_log("gui-bridge ready")
        if "node" in self.services:
            self.wait_for_log("Connected to the node service")
        if "wallet" in self.services:
            self.wait_for_log("Connected to the wallet service")
        return self

    def stop(self):
        for name in ("bridge", "wallet", "node"):
            if name in self.services:
                self.services[name].stop()

    def cookie(self):
        return (self.net / ".cookie").read_text()

    def cli(self, *args, check=True):
        result = subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-datadir={self.datadir}", "-regtest",
                                 f"-rpcport={self.rpcport}", *args], capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"orrery-cli {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def http(self, body, path="/", auth=None, method="POST", headers=None, connection=None):
        """One raw HTTP request; returns (status, headers, body bytes)."""
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.rpcport, timeout=30)
        all_headers = {"Content-Type": "application/json"}
        if auth is None:
            auth = self.cookie()
        if auth is not False:
            all_headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        all_headers.update(headers or {})
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        payload = response.read()
        if connection is None:
            conn.close()
        return response.status, dict(response.getheaders()), payload

    def rpc(self, method, *params, wallet=None, **named):
        """A JSON-RPC 1.0 call as bitcoind's test framework makes it; raises RpcError."""
        path = "/" if wallet is None else "/wallet/" + wallet
        request = {"jsonrpc": "1.0", "id": 1, "method": method, "params": named if named else list(params)}
        status, _, payload = self.http(request, path=path)
        reply = json.loads(payload)
        if reply.get("error"):
            raise RpcError(reply["error"]["code"], reply["error"]["message"], status)
        assert status == 200
        return reply["result"]


def require_binaries(*names):
    for name in names:
        path = build_dir() / "services" / name / f"orrery-{name}"
        if not path.exists():
            pytest.skip(f"orrery-{name} is not built in {build_dir()} (being written by another engineer)")


@pytest.fixture
def rpc_services(tmp_path):
    started = []

    def make(name="rpc0", bridge_args=(), with_node=True, with_wallet=True):
        require_binaries("gui-bridge", *(["node"] if with_node else []), *(["wallet"] if with_wallet else []))
        datadir = tmp_path / name
        datadir.mkdir(exist_ok=True)
        constellation = Constellation(datadir, bridge_args, with_node, with_wallet)
        started.append(constellation)
        return constellation.start()

    yield make
    for constellation in started:
        constellation.stop()
