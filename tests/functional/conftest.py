"""Fixtures for the functional tests: real Orrery processes in temporary datadirs.

There is one way to run a program in a test. `Process` starts it (its stdout
and stderr go to files beside its datadir), waits for a line in its log, and
stops and reaps it; `Orreryd` (a whole constellation), `Service` and `Wallet`
(a service started by hand) and `TestHost` are thin subclasses that know their
command line and their ready line. `Services` starts node, wallet and
gui-bridge by hand in one datadir. The fixture `node_factory`, in the style of
Core Lightning's, makes all of them in the test's temporary folder; at teardown
it stops each one (SIGTERM, then SIGKILL) and fails the test if any process it
started, or any child of one (they carry ORRERY_TEST_MARK in their
environment), is still alive.

    def test_x(node_factory):
        daemon = node_factory.orreryd(extra_args=["-debug=net"]).start()
        daemon.wait_for_log("...")
        node = node_factory.service("node", "by-hand").start()
        rpc = node_factory.services(with_wallet=False)       # started
"""
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

SOURCE_ROOT = Path(__file__).resolve().parents[2]
ROLES = ("node", "wallet", "gui-bridge", "p2p-agent")
BINARY_OPTION = {"node": "nodebinary", "wallet": "walletbinary", "gui-bridge": "guibridgebinary",
                 "p2p-agent": "agentbinary"}
# What each service logs once it serves.
READY_LINE = {"node": "Node interface on", "wallet": "Wallet interfaces on", "gui-bridge": "gui-bridge ready"}


def build_dir():
    path = os.environ.get("ORRERY_BUILD_DIR")
    if not path:
        pytest.skip("ORRERY_BUILD_DIR is not set (run through scripts/test)")
    return Path(path)


def service_binary(role):
    """The built orrery-<role>, or None when it is not built."""
    path = build_dir() / "services" / role / f"orrery-{role}"
    return path if path.exists() else None


def stand_in_binary():
    """tests/tools/orrery-test-service: a stand-in for any service under orreryd."""
    return build_dir() / "tests" / "tools" / "orrery-test-service"


def tool_binary(name):
    """A test program of tests/tools/."""
    return build_dir() / "tests" / "tools" / name


def require_binaries(*roles):
    """Skips the test when a service it needs is not built."""
    for role in roles:
        if service_binary(role) is None:
            pytest.skip(f"orrery-{role} is not built in {build_dir()}")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WaitTimeout(AssertionError, TimeoutError):
    """wait_for gave up: a failed assertion in a test, a TimeoutError to a program (the benchmarks)."""


def wait_for(predicate, timeout=10.0, what="condition", interval=0.05):
    """Polls `predicate` every `interval` seconds until it returns something true, and returns that; raises
    WaitTimeout after `timeout` seconds. An exception from `predicate` (say, a process that died) ends the
    wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def processes_with_mark(mark, variable="ORRERY_TEST_MARK"):
    """Pids of live processes (zombies excluded) whose environment holds <variable>=<mark>."""
    needle = f"{variable}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                state = proc_state(entry.name)
                if state and state[0] != "Z":
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


class Process:
    """One program started for a test.

    `args` is the whole command line; `log_path` the file `log()` reads (a debug.log), or None for the
    program's stderr. stdout and stderr go to <output>.stdout/.stderr (appended across restarts), so a
    chatty program never blocks on a full pipe and a test can read them while it runs."""

    def __init__(self, name, args, output, log_path=None, env=None, new_session=False, stop_timeout=10.0):
        self.name = name
        self.args = [str(a) for a in args]
        self.output = Path(output)
        self.log_path = Path(log_path) if log_path else None
        self.mark = uuid.uuid4().hex
        self.env = dict(os.environ, ORRERY_TEST_MARK=self.mark, **(env or {}))
        self.new_session = new_session
        self.stop_timeout = stop_timeout
        self.process = None
        self.log_offset = 0  # where the log stood at the last start

    # --- starting and stopping

    def start(self, ready=None, timeout=20.0):
        """Starts the program; with `ready`, waits for that text in what it logs from now on."""
        print(f"starting {self.name}: {' '.join(self.args[1:])}")
        self.log_offset = len(self.log())
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.output}.stdout", "a") as out, open(f"{self.output}.stderr", "a") as err:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=err, env=self.env,
                                            start_new_session=self.new_session)
        if ready:
            self.wait_for_log(ready, timeout, since_start=True)
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Sends `sig` and reaps the process (SIGKILL after `timeout`); returns its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout or self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill_all()
                self.process.wait()
        if self.process.returncode not in (0, -sig):
            # A sanitizer's report or a crash lands in the program's stderr file, which the basetemp loses: show it.
            print(f"{self.output}: exit code {self.process.returncode}; the end of its stderr:\n{self.stderr[-4000:]}")
        return self.process.returncode

    def kill_all(self):
        """SIGKILL to the program (its process group when it leads one)."""
        try:
            if self.new_session:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        except (ProcessLookupError, PermissionError):
            pass

    def survivors(self):
        """Live processes started by this one (itself included) that carry its mark."""
        return processes_with_mark(self.mark)

    def run(self, *extra_args, timeout=30):
        """Runs the same command line (plus `extra_args`) to completion, as a second instance would."""
        return subprocess.run(self.args + list(extra_args), capture_output=True, text=True, timeout=timeout,
                              env=self.env)

    # --- output

    @property
    def stdout(self):
        path = Path(f"{self.output}.stdout")
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def stderr(self):
        path = Path(f"{self.output}.stderr")
        return path.read_text(errors="replace") if path.exists() else ""

    def log(self):
        if self.log_path is None:
            return self.stderr
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text, timeout=20.0, since_start=False):
        """Waits for `text` in the log (with `since_start`, in what was logged since the last start); fails at
        once if the program exits before it appears."""
        def logged():
            return text in (self.log()[self.log_offset:] if since_start else self.log())

        def found():
            if logged():
                return True
            if self.process is not None and self.process.poll() is not None:
                if logged():
                    return True
                raise AssertionError(f"{self.name} exited ({self.process.returncode}) before '{text}' appeared")
            return False
        wait_for(found, timeout, f"'{text}' in the log of {self.name}")


class RpcClient:
    """orrery-cli and raw JSON-RPC for a datadir whose gui-bridge listens on `rpc_port`."""

    datadir: Path
    rpc_port: int

    @property
    def net(self):
        return self.datadir / "regtest"

    def cli(self, *args, check=True):
        result = subprocess.run([str(build_dir() / "cli" / "orrery-cli"), f"-datadir={self.datadir}", "-regtest",
                                 f"-rpcport={self.rpc_port}", *args], capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"orrery-cli {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def cli_json(self, *args):
        return json.loads(self.cli(*args).stdout)

    def cookie(self):
        return (self.net / ".cookie").read_text()

    def http(self, body, path="/", auth=None, method="POST", headers=None, connection=None):
        """One raw HTTP request; returns (status, headers, body bytes). `auth` "user:password", None for the
        cookie, False for none."""
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.rpc_port, timeout=30)
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


class RpcError(Exception):
    def __init__(self, code, message, status):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class Orreryd(Process, RpcClient):
    """orreryd on regtest in its own datadir, with free P2P and RPC ports on 127.0.0.1.

    `binaries` maps a role to the program orreryd runs for it (default: the real service if built, else
    the stand-in tests/tools/orrery-test-service). orreryd leads its own process group."""

    def __init__(self, datadir, output, extra_args=(), binaries=None, env=None):
        self.datadir = Path(datadir)
        self.p2p_port = free_port()
        self.rpc_port = free_port()
        self.binaries = {role: Path((binaries or {}).get(role) or service_binary(role) or stand_in_binary())
                         for role in ROLES}
        args = [build_dir() / "supervisor" / "orreryd", f"-datadir={self.datadir}", "-regtest", "-bind=127.0.0.1",
                f"-port={self.p2p_port}", f"-rpcport={self.rpc_port}",
                *(f"-{BINARY_OPTION[role]}={path}" for role, path in self.binaries.items()), *extra_args]
        super().__init__("orreryd", args, output, log_path=self.datadir / "regtest" / "debug.log", env=env,
                         new_session=True, stop_timeout=30.0)

    def start(self, wait_all=True):
        """Starts orreryd; waits for its Supervisor interface and, with `wait_all`, for every service."""
        super().start(ready="Supervisor interface on")
        if wait_all:
            self.wait_for_log("All services started", timeout=60, since_start=True)
        return self

    def uses_test_service(self, role):
        return self.binaries[role] == stand_in_binary()

    def status(self):
        return self.cli_json("-supervisor", "status")

    def entries(self, role):
        """Status entries of `role`; for p2p-agent, the agents serving a peer (not the spares)."""
        return [e for e in self.status() if e["role"] == role and not e.get("state", "").startswith("spare")]

    def spares(self):
        """The p2p-agents orreryd started ahead of need (-agentspares)."""
        return [e for e in self.status() if e["role"] == "p2p-agent" and e.get("state", "").startswith("spare")]

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


class Service(Process):
    """orrery-node, orrery-wallet or orrery-gui-bridge started by hand (`role` "node", "wallet", "gui-bridge")."""

    def __init__(self, role, datadir, output, extra_args=(), chain_args=("-regtest",), net="regtest"):
        self.role = role
        self.datadir = Path(datadir)
        self.net = self.datadir / net if net else self.datadir
        args = [build_dir() / "services" / role / f"orrery-{role}", f"-datadir={self.datadir}", *chain_args,
                *extra_args]
        super().__init__(f"orrery-{role}", args, output, log_path=self.net / "debug.log")

    def start(self, wait=True):
        """Starts the service; with `wait`, until it logs that it serves."""
        return super().start(ready=READY_LINE[self.role] if wait else None)


class Wallet(Service):
    """orrery-wallet by hand, and tests/tools/wallet_query to call its WalletLoader/Wallet over IPC."""

    def __init__(self, datadir, output, extra_args=(), chain_arg="-regtest", net_dir="regtest"):
        super().__init__("wallet", datadir, output, extra_args, chain_args=(chain_arg,), net=net_dir)

    @property
    def wallets(self):
        return self.net / "wallets"

    def query(self, method, *args, role=None, endpoint=None):
        """Calls one method; returns ("result", value) or ("error", {code, message})."""
        command = [str(tool_binary("wallet_query")), f"-datadir={self.datadir}", "-regtest"]
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


class TestHost(Process):
    """tests/tools/orrery-p2p-agent-testhost: accepts TCP peers and spawns a real agent for each, registered
    with a stand-in PeerHost (the p2p-agent tests with ORRERY_P2P_AGENT_TESTHOST=1). Logs to stderr."""

    __test__ = False  # not a pytest test class

    def __init__(self, datadir, output, agent_args=()):
        self.datadir = Path(datadir)
        self.agent = build_dir() / "services" / "p2p-agent" / "orrery-p2p-agent"
        args = [tool_binary("orrery-p2p-agent-testhost"), f"-datadir={self.datadir}", f"-agent={self.agent}",
                "-port=0", *(f"-agentarg={a}" for a in agent_args)]
        super().__init__("orrery-p2p-agent-testhost", args, output)
        self.p2p_port = None

    def available(self):
        return Path(self.args[0]).exists() and self.agent.exists()

    def start(self):
        super().start()
        line = wait_for(lambda: next((l for l in self.stdout.splitlines() if l.startswith("listening 127.0.0.1:")),
                                     None) or (not self.running() and "exited"), 10, "the testhost's port")
        assert line != "exited", f"the testhost exited: {self.stderr}"
        self.p2p_port = int(line.rsplit(":", 1)[1])
        return self


class Services(RpcClient):
    """orrery-node, orrery-wallet and orrery-gui-bridge started by hand in one regtest datadir, the bridge on a
    free RPC port; `services` maps "node", "wallet", "bridge" to each `Service`."""

    def __init__(self, factory, datadir, bridge_args=(), with_node=True, with_wallet=True, node_args=()):
        self.datadir = Path(datadir)
        self.rpc_port = free_port()
        self.services = {}
        if with_node:
            self.services["node"] = factory.service("node", datadir.name, ["-nolisten", *node_args])
        if with_wallet:
            self.services["wallet"] = factory.wallet(datadir.name)
        self.services["bridge"] = factory.service("gui-bridge", datadir.name,
                                                  [f"-rpcport={self.rpc_port}", *bridge_args])

    @property
    def bridge(self):
        return self.services["bridge"]

    def log(self):
        """The datadir's debug.log, which the three share."""
        return self.bridge.log()

    def wait_for_log(self, text, timeout=20.0):
        self.bridge.wait_for_log(text, timeout)

    def start(self):
        """Node, then wallet, then the bridge once it reached both."""
        for name in ("node", "wallet"):
            if name in self.services:
                self.services[name].start()
        self.bridge.start()
        if "node" in self.services:
            self.wait_for_log("Connected to the node service")
        if "wallet" in self.services:
            self.wait_for_log("Connected to the wallet service")
        return self

    def stop(self):
        for name in ("bridge", "wallet", "node"):
            if name in self.services:
                self.services[name].stop()


class NodeFactory:
    """Makes the processes of one test, each in a datadir under the test's temporary folder (a name used twice
    means the same datadir), and tears them all down."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.processes = []

    def datadir(self, name):
        path = self.directory / name
        path.mkdir(exist_ok=True)
        return path

    def _output(self, name, program):
        return self.directory / f"{name}.{program}.{len(self.processes)}"

    def _add(self, process):
        self.processes.append(process)
        return process

    def orreryd(self, name="orreryd0", extra_args=(), binaries=None, env=None):
        """An orreryd (not started: call .start())."""
        return self._add(Orreryd(self.datadir(name), self._output(name, "orreryd"), extra_args, binaries, env))

    def service(self, role, name=None, extra_args=(), **kwargs):
        """orrery-<role> by hand (not started); kwargs: chain_args, net. The wallet's is a `Wallet`."""
        name = name or f"{role}0"
        if role == "wallet":
            return self.wallet(name, extra_args, **kwargs)
        return self._add(Service(role, self.datadir(name), self._output(name, role), extra_args, **kwargs))

    def wallet(self, name="wallet0", extra_args=(), **kwargs):
        """orrery-wallet by hand (not started); kwargs: chain_arg, net_dir."""
        return self._add(Wallet(self.datadir(name), self._output(name, "wallet"), extra_args, **kwargs))

    def services(self, name="rpc0", bridge_args=(), with_node=True, with_wallet=True, start=True, node_args=()):
        """Node, wallet and gui-bridge by hand in one datadir, started unless `start` is False."""
        require_binaries("gui-bridge", *(["node"] if with_node else []), *(["wallet"] if with_wallet else []))
        group = Services(self, self.datadir(name), bridge_args, with_node, with_wallet, node_args)
        return group.start() if start else group

    def testhost(self, name="testhost", agent_args=()):
        return self._add(TestHost(self.datadir(name), self._output(name, "testhost"), agent_args))

    def process(self, name, args, **kwargs):
        """Any other program (not started); kwargs as `Process`."""
        return self._add(Process(name, args, self._output(name, Path(str(args[0])).name), **kwargs))

    def teardown(self):
        """Stops every process, last started first; fails if one of them, or a child, is still alive."""
        left = []
        for process in reversed(self.processes):
            if process.process is None:
                continue
            process.stop()
            process.kill_all()
            try:
                wait_for(lambda: not process.survivors(), 10, f"every process of {process.name} to be gone")
            except AssertionError:
                survivors = process.survivors()
                for pid in survivors:
                    os.kill(pid, signal.SIGKILL)
                left += survivors
        if left:
            raise AssertionError(f"processes survived the test: {left}")


@pytest.fixture
def node_factory(tmp_path):
    factory = NodeFactory(tmp_path)
    yield factory
    factory.teardown()


@pytest.fixture
def orreryd_factory(node_factory):
    """The older name: orreryd_factory(name="orreryd0", extra_args=(), binaries=None, env=None) makes an
    orreryd, as node_factory.orreryd does."""
    return node_factory.orreryd
