"""orrery-wallet started by hand in a temporary datadir, and wallet_query to call it.

wallet_query (services/wallet/, a test tool) calls WalletLoader/Wallet over IPC
and prints one JSON line. Every process a fixture starts is stopped at teardown.
"""
import json
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import build_dir, wait_for


class WalletProcess:
    """One orrery-wallet, on regtest unless `chain_arg`/`net_dir` say otherwise ("-testnet", "testnet3")."""

    def __init__(self, datadir, extra_args=(), chain_arg="-regtest", net_dir="regtest"):
        self.datadir = Path(datadir)
        self.net_dir = net_dir
        self.args = [str(build_dir() / "services" / "wallet" / "orrery-wallet"), f"-datadir={datadir}", chain_arg,
                     *extra_args]
        self.process = None
        self.stdout = ""
        self.stderr = ""

    @property
    def net(self):
        return self.datadir / self.net_dir

    @property
    def wallets(self):
        return self.net / "wallets"

    def log(self):
        path = self.net / "debug.log"
        return path.read_text() if path.exists() else ""

    def start(self, ready_text="Wallet interfaces on"):
        print(f"starting orrery-wallet in {self.datadir} {' '.join(self.args[3:])}")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: ready_text in self.log() or self.process.poll() is not None, 15, f"'{ready_text}'")
        assert self.process.poll() is None, f"orrery-wallet exited: {self.process.communicate()}"
        return self

    def query(self, method, *args, role=None, endpoint=None):
        """Calls one method; returns ("result", value) or ("error", {code, message})."""
        command = [str(build_dir() / "services" / "wallet" / "wallet_query"), f"-datadir={self.datadir}", "-regtest"]
        if role:
            command.append(f"-role={role}")
        if endpoint:
            command.append(f"-ipcconnect={endpoint}")
        result = subprocess.run(command + [method, *args], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"wallet_query {method} failed: {result.stderr}"
        reply = json.loads(result.stdout)
        if "error" in reply:
            return "error", reply["error"]
        return "result", reply["result"]

    def call(self, method, *args, **kwargs):
        """Calls one method that must succeed and returns its result."""
        kind, value = self.query(method, *args, **kwargs)
        assert kind == "result", f"{method} {args} failed: {value}"
        return value

    def error(self, method, *args, **kwargs):
        """Calls one method that must fail and returns (code, message)."""
        kind, value = self.query(method, *args, **kwargs)
        assert kind == "error", f"{method} {args} unexpectedly returned {value}"
        return value["code"], value["message"]

    def stop(self, sig=signal.SIGTERM):
        """Signals the process and returns its exit code (SIGKILL after 10 s)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        out, err = self.process.communicate()
        self.stdout += out
        self.stderr += err
        code = self.process.returncode
        self.process = None
        return code


@pytest.fixture
def wallet_factory(tmp_path):
    started = []

    def make(name="wallet0", extra_args=(), **kwargs):
        datadir = tmp_path / name
        datadir.mkdir(exist_ok=True)
        wallet = WalletProcess(datadir, extra_args, **kwargs)
        started.append(wallet)
        return wallet

    yield make
    for wallet in started:
        wallet.stop()
