"""Fixtures for functional tests: real Orrery processes in temporary datadirs.

Every process a fixture starts is stopped at teardown (SIGTERM, then SIGKILL)
and reaped, so no test leaves one behind.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def build_dir():
    path = os.environ.get("ORRERY_BUILD_DIR")
    if not path:
        pytest.skip("ORRERY_BUILD_DIR is not set (run through scripts/test)")
    return Path(path)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout=10.0, what="condition"):
    """Polls `predicate` until it is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Orreryd:
    """One orreryd on regtest in its own datadir."""

    def __init__(self, datadir, extra_args=()):
        self.datadir = Path(datadir)
        # Loopback and free ports only: tests never touch the default ports or other hosts.
        self.args = [str(build_dir() / "supervisor" / "orreryd"), f"-datadir={datadir}", "-regtest",
                     "-bind=127.0.0.1", f"-port={free_port()}", f"-rpcport={free_port()}", *extra_args]
        self.process = None

    @property
    def net(self):
        return self.datadir / "regtest"

    def start(self):
        print(f"starting orreryd in {self.datadir}")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_for_log("Supervisor interface on")
        return self

    def log(self):
        path = self.net / "debug.log"
        return path.read_text() if path.exists() else ""

    def wait_for_log(self, text, timeout=10.0):
        wait_for(lambda: text in self.log() or (self.process.poll() is not None and text in self.log()),
                 timeout, f"'{text}' in debug.log")

    def cli(self, *args, check=True):
        result = subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-datadir={self.datadir}", "-regtest",
                                 *args], capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"orrery-cli {' '.join(args)} failed: {result.stderr}")
        return result

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.process.communicate()


@pytest.fixture
def orreryd_factory(tmp_path):
    started = []

    def make(name="node0", extra_args=()):
        datadir = tmp_path / name
        datadir.mkdir(exist_ok=True)
        daemon = Orreryd(datadir, extra_args)
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        daemon.stop()
