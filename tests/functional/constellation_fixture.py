"""A whole constellation under orreryd, for tests/functional/test_constellation.py.

The fixture starts orreryd on regtest in a temporary datadir with free P2P and
RPC ports, listening on 127.0.0.1 only. Services that are built run for real;
a service not built yet is replaced by supervisor/orrery-test-service (a
stand-in that binds its endpoint, and as the node admits every peer), so the
supervisor's own behaviour is always tested. Every process orreryd starts
carries ORRERY_TEST_MARK in its environment; teardown stops orreryd, kills
whatever is left and fails the test if anything with the mark survived.
"""
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import build_dir, wait_for

ROLES = ("node", "wallet", "gui-bridge", "p2p-agent")
BINARY_OPTION = {"node": "nodebinary", "wallet": "walletbinary", "gui-bridge": "guibridgebinary",
                 "p2p-agent": "agentbinary"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def real_binary(role):
    path = build_dir() / "services" / role / f"orrery-{role}"
    return path if path.exists() else None


def stand_in_binary():
    return build_dir() / "supervisor" / "orrery-test-service"


def processes_with_mark(mark):
    """Pids of live processes whose environment holds ORRERY_TEST_MARK=<mark>."""
    needle = f"ORRERY_TEST_MARK={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            pass  # gone, or not ours
    return found


def proc_state(pid):
    """(state, ppid) from /proc/<pid>/stat, or None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], int(fields[1])


def zombie_children(parent):
    zombies = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = proc_state(entry.name)
            if state and state[0] == "Z" and state[1] == parent:
                zombies.append(int(entry.name))
    return zombies


class Constellation:
    """orreryd and its children in one temporary datadir."""

    def __init__(self, datadir, extra_args=(), binaries=None, env=None):
        """`binaries` maps a role to the program orreryd runs for it (default: the real one if built,
        else the test service)."""
        self.datadir = Path(datadir)
        self.mark = uuid.uuid4().hex
        self.p2p_port = free_port()
        self.rpc_port = free_port()
        self.binaries = {}
        for role in ROLES:
            chosen = (binaries or {}).get(role) or real_binary(role) or stand_in_binary()
            self.binaries[role] = Path(chosen)
        self.args = [str(build_dir() / "supervisor" / "orreryd"), f"-datadir={self.datadir}", "-regtest",
                     "-bind=127.0.0.1", f"-port={self.p2p_port}", f"-rpcport={self.rpc_port}",
                     *(f"-{BINARY_OPTION[role]}={path}" for role, path in self.binaries.items()), *extra_args]
        self.env = dict(os.environ, ORRERY_TEST_MARK=self.mark, **(env or {}))
        self.process = None

    @property
    def net(self):
        return self.datadir / "regtest"

    def uses_test_service(self, role):
        return self.binaries[role] == stand_in_binary()

    def start(self, wait_all=True):
        print(f"starting orreryd in {self.datadir}: " +
              ", ".join(f"{role}={path.name}" for role, path in self.binaries.items()))
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=self.env, start_new_session=True)
        self.wait_for_log("Supervisor interface on")
        if wait_all:
            self.wait_for_log("All services started", timeout=60)
        return self

    def log(self):
        path = self.net / "debug.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, text, timeout=20.0):
        def found():
            if text in self.log():
                return True
            if self.process.poll() is not None:
                raise AssertionError(f"orreryd exited ({self.process.returncode}) before '{text}' appeared")
            return False
        wait_for(found, timeout, f"'{text}' in debug.log")

    def cli(self, *args, check=True):
        result = subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-datadir={self.datadir}", "-regtest",
                                 f"-rpcport={self.rpc_port}", *args], capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"orrery-cli {' '.join(args)} failed: {result.stderr}")
        return result

    def status(self):
        return json.loads(self.cli("-supervisor", "status").stdout)

    def entries(self, role):
        """Status entries of `role`; for p2p-agent, the agents serving a peer (not the spares)."""
        return [entry for entry in self.status() if entry["role"] == role and not entry.get("state", "").startswith("spare")]

    def spares(self):
        """The p2p-agents orreryd started ahead of need (-agentspares)."""
        return [entry for entry in self.status() if entry["role"] == "p2p-agent" and entry.get("state", "").startswith("spare")]

    def pid(self, role):
        """The pid of a running service, as `orrery-cli -supervisor status` reports it."""
        entries = [e for e in self.entries(role) if e["pid"]]
        assert len(entries) == 1, f"expected one {role} in status, got {entries}"
        return entries[0]["pid"]

    def kill(self, role, sig=signal.SIGKILL):
        pid = self.pid(role)
        print(f"sending signal {sig} to {role} (pid {pid})")
        os.kill(pid, sig)
        return pid

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def survivors(self):
        return [pid for pid in processes_with_mark(self.mark) if proc_state(pid) and proc_state(pid)[0] != "Z"]

    def stop(self):
        """SIGTERM and wait; SIGKILL the process group if orreryd hangs. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process.communicate()
        return self.process.returncode

    def teardown(self):
        self.stop()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, TypeError, AttributeError):
            pass
        try:
            wait_for(lambda: not self.survivors(), 10, "every process of the constellation to be gone")
        except AssertionError:
            left = self.survivors()
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"processes survived orreryd: {left}")


@pytest.fixture
def constellation_factory(tmp_path):
    made = []

    def make(name="c0", extra_args=(), binaries=None, env=None):
        datadir = tmp_path / name
        datadir.mkdir(exist_ok=True)
        constellation = Constellation(datadir, extra_args, binaries, env)
        made.append(constellation)
        return constellation

    yield make
    for constellation in made:
        if constellation.process is not None:
            constellation.teardown()
