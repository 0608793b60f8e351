"""orreryd driven the way Bitcoin Core's test framework drives bitcoind.

The framework writes a bitcoin.conf into -datadir (regtest=1, a [regtest]
section with the ports, bind=127.0.0.1, connect=0 and a dozen settings Orrery
may not implement), starts the daemon with its logging options on the command
line, waits for getblockcount to stop answering -28, then for getmempoolinfo's
`loaded`, and stops it with `stop`. Scripts and process managers written for
bitcoind rely on the same: exit code 0, nothing on stderr, bitcoind's datadir
layout afterwards, and a next start that works even after a SIGKILL.

The helpers here are local on purpose: they speak to orreryd only through
what a bitcoind user has (conf file, command line, JSON-RPC with the cookie).
"""
import base64
import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import build_dir, free_port, wait_for

# What test_framework/util.py writes into bitcoin.conf (v27/v28), ports aside.
FRAMEWORK_CONF = """regtest=1
[regtest]
port={port}
rpcport={rpcport}
rpcservertimeout=99000
rpcdoccheck=1
fallbackfee=0.0002
server=1
keypool=1
discover=0
dnsseed=0
fixedseeds=0
listenonion=0
peertimeout=999999999
printtoconsole=0
upnp=0
natpmp=0
shrinkdebugfile=0
deprecatedrpc=create_bdb
unsafesqlitesync=1
bind=127.0.0.1
connect=0
"""

# What TestNode adds on the command line.
FRAMEWORK_ARGS = ("-logtimemicros", "-logthreadnames", "-logsourcelocations", "-loglevel=trace", "-debug",
                  "-debugexclude=libevent", "-debugexclude=leveldb", "-debugexclude=rand", "-uacomment=testnode0",
                  "-shrinkdebugfile=0", "-v2transport=0")


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")


class Daemon:
    """One orreryd in a datadir of its own, configured through bitcoin.conf."""

    def __init__(self, datadir, conf, args=()):
        self.datadir = Path(datadir)
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.rpcport = free_port()
        (self.datadir / "bitcoin.conf").write_text(conf.format(port=self.port, rpcport=self.rpcport))
        self.args = [str(build_dir() / "supervisor" / "orreryd"), f"-datadir={self.datadir}", *args]
        self.process = None

    @property
    def net(self):
        return self.datadir / "regtest"

    def start(self):
        print(f"starting {' '.join(self.args[1:])}")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self

    def log(self):
        path = self.net / "debug.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def rpc(self, method, *params, **named):
        """A JSON-RPC call with the cookie; named arguments as the framework's AuthServiceProxy sends them."""
        cookie = (self.net / ".cookie").read_text().strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rpcport}/",
            data=json.dumps({"jsonrpc": "1.0", "id": method, "method": method,
                             "params": named if named else list(params)}).encode(),
            headers={"Authorization": "Basic " + base64.b64encode(cookie.encode()).decode(),
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as e:
            reply = json.loads(e.read() or b"{}")
        if reply.get("error"):
            raise RpcError(reply["error"])
        return reply["result"]

    def wait_for_rpc(self, method="getblockcount", timeout=30):
        """As TestNode.wait_for_rpc_connection: retry while the port is closed or the answer is -28."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"orreryd exited early: {self.process.communicate()}"
            try:
                return self.rpc(method)
            except RpcError as e:
                if e.code != -28:
                    raise
            except (OSError, FileNotFoundError, ValueError):
                pass  # not listening yet, or no cookie yet
            time.sleep(0.1)
        raise AssertionError("RPC did not come up")

    def stop(self, **named):
        self.rpc("stop", **named)
        try:
            out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self.process.returncode, out, err

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def daemons(tmp_path):
    started = []

    def make(name, conf=FRAMEWORK_CONF, args=FRAMEWORK_ARGS):
        daemon = Daemon(tmp_path / name, conf, args)
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        if daemon.process and daemon.process.poll() is None:
            daemon.process.send_signal(signal.SIGTERM)
            try:
                daemon.process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()


def check_clean_stop(daemon, code, out, err):
    print("exit code 0, nothing on stderr")
    assert code == 0, f"exit code {code}; stderr: {err}"
    assert err == ""
    print("the network folder holds bitcoind's folders only: blocks/, chainstate/, wallets/")
    folders = sorted(p.name for p in daemon.net.iterdir() if p.is_dir())
    assert folders == ["blocks", "chainstate", "wallets"], folders
    assert not (daemon.net / "orreryd.pid").exists()
    log = daemon.log()
    print("no service was restarted and no p2p-agent died before serving a peer (no respawn loop)")
    assert "restarting it in" not in log
    assert "before it served a peer" not in log
    assert "can only be given on the command line" not in log
    assert "Shutdown done" in log


def check_framework_start(daemon):
    log = daemon.log()
    print("bitcoin.conf was read, and the log says so")
    assert f"Config file: {daemon.datadir / 'bitcoin.conf'} (orrery.conf not found" in log
    print("bind=127.0.0.1 keeps listening although connect=0 turns it off, as in bitcoind")
    assert f"Listening for peers on 127.0.0.1:{daemon.port}" in log
    assert "parameter interaction: -bind set -> setting -listen=1" in log
    print("options without a feature here say so once in the log")
    assert "Option -listenonion is accepted for bitcoind compatibility and has no effect in Orrery" in log
    # The wallet's fee fallback is a real option now: not listed among them.
    assert "Option -fallbackfee is accepted" not in log
    print("the logging options shape every line: microseconds, thread name, source location")
    line = next(line for line in log.splitlines() if "Supervisor interface on" in line)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \[orreryd:\d+\] \[[^\]]+\] \[supervisor\.cpp:\d+\] "
                    r"\[Run\] Supervisor interface on", line), line
    print("-uacomment is in the user agent the node announces")
    assert daemon.rpc("getnetworkinfo")["subversion"] == "/Orrery:0.1.0(testnode0)/"


def test_orreryd_starts_waits_and_stops_as_the_bitcoin_core_test_framework_expects(daemons):
    daemon = daemons("node0").start()
    print("wait for getblockcount to stop answering -28")
    assert daemon.wait_for_rpc() == 0
    check_framework_start(daemon)
    print("stop over RPC")
    code, out, err = daemon.stop()
    check_clean_stop(daemon, code, out, err)


def test_the_framework_waits_for_the_mempool_and_stops_with_a_wait_argument(daemons):
    daemon = daemons("node0").start()
    print("wait for getblockcount to stop answering -28")
    assert daemon.wait_for_rpc() == 0
    print("getmempoolinfo answers loaded")
    wait_for(lambda: daemon.rpc("getmempoolinfo")["loaded"], 30, "getmempoolinfo loaded")
    print("stop with the framework's wait argument (TestNode.stop_node sends it by name)")
    code, out, err = daemon.stop(wait=1000)
    check_clean_stop(daemon, code, out, err)


def test_a_start_after_sigkill_is_not_stopped_by_the_sockets_left_behind(daemons):
    daemon = daemons("node0").start()
    daemon.wait_for_rpc()
    run = daemon.net / "run"
    sockets = sorted(p.name for p in run.iterdir() if p.name.endswith(".sock"))
    print(f"sockets while running: {sockets}")
    assert "supervisor.sock" in sockets and "node.sock" in sockets
    print("SIGKILL orreryd: its children follow it (parent-death signal), the sockets stay")
    daemon.kill()
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children_of(daemon)), 10, "children gone")
    assert any(p.name.endswith(".sock") for p in run.iterdir())
    print("a second start comes up on the same datadir")
    again = Daemon(daemon.datadir, FRAMEWORK_CONF, FRAMEWORK_ARGS)
    again.port, again.rpcport = daemon.port, daemon.rpcport
    (again.datadir / "bitcoin.conf").write_text(FRAMEWORK_CONF.format(port=again.port, rpcport=again.rpcport))
    again.start()
    try:
        assert again.wait_for_rpc() == 0
        code, out, err = again.stop()
        check_clean_stop(again, code, out, err)
        print("the runtime folder is gone after the clean stop")
        assert not run.exists()
    finally:
        again.kill()


def children_of(daemon):
    """Pids whose command line names this datadir (orreryd's children)."""
    found = []
    needle = f"-datadir={daemon.datadir}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_pid_file_and_notify_commands_run_as_in_bitcoind(daemons, tmp_path):
    started = tmp_path / "started"
    stopping = tmp_path / "stopping"
    daemon = daemons("node0", args=(f"-startupnotify=echo up > {started}",
                                     f"-shutdownnotify=echo down > {stopping}", "-pid=orreryd.pid"))
    daemon.start()
    daemon.wait_for_rpc()
    print("-startupnotify ran once every service was up")
    # The shell creates the file before it writes to it: wait for the whole line.
    wait_for(lambda: started.exists() and started.read_text() == "up\n", 10, "the startupnotify command")
    print("-pid holds orreryd's pid in the network folder")
    assert (daemon.net / "orreryd.pid").read_text().strip() == str(daemon.process.pid)
    code, out, err = daemon.stop()
    print("-shutdownnotify ran before the services stopped")
    assert stopping.read_text() == "down\n"
    log = daemon.log()
    assert log.index("-shutdownnotify command") < log.index("Stopping node")
    check_clean_stop(daemon, code, out, err)


def test_an_option_bitcoind_does_not_know_is_an_error_and_a_bad_uacomment_is_refused(daemons):
    daemon = daemons("node0", args=("-nosuchoption=1",)).start()
    _, err = daemon.process.communicate(timeout=30)
    assert daemon.process.returncode == 1
    assert "Invalid parameter -nosuchoption" in err
    daemon = daemons("node1", args=("-uacomment=bad/comment",)).start()
    _, err = daemon.process.communicate(timeout=30)
    assert daemon.process.returncode == 1
    assert "User Agent comment (bad/comment) contains unsafe characters." in err
    daemon = daemons("node2", args=("-whitelist=superpowers@127.0.0.1",)).start()
    _, err = daemon.process.communicate(timeout=30)
    assert daemon.process.returncode == 1
    assert "Invalid P2P permission: 'superpowers'" in err


def test_a_whitelisted_peer_shows_its_permissions_and_bytes_per_message_type(daemons):
    listener = daemons("listener", args=("-whitelist=noban,relay@127.0.0.1", "-uacomment=listener")).start()
    listener.wait_for_rpc()
    dialer_conf = FRAMEWORK_CONF.replace("connect=0\n", "")
    dialer = daemons("dialer", conf=dialer_conf, args=(f"-connect=127.0.0.1:{listener.port}",
                                                      "-uacomment=dialer")).start()
    dialer.wait_for_rpc()
    print("the dialer's agent connects; the listener's agent counts every message of the handshake")

    def inbound():
        peers = listener.rpc("getpeerinfo")
        return peers[0] if peers and "pong" in peers[0]["bytesrecv_per_msg"] else None

    peer = wait_for(inbound, 30, "the inbound peer's handshake and first pong")
    print(json.dumps({k: peer[k] for k in ("permissions", "bytessent_per_msg", "bytesrecv_per_msg", "subver")}))
    assert peer["permissions"] == ["noban", "relay", "download"]
    assert peer["subver"] == "/Orrery:0.1.0(dialer)/"
    received = peer["bytesrecv_per_msg"]
    assert received["verack"] == 24  # header only
    assert received["version"] == 24 + 86 + len("/Orrery:0.1.0(dialer)/")  # header, fields, user agent
    assert received["pong"] == 32
    sent = peer["bytessent_per_msg"]
    assert sent["version"] == 24 + 86 + len("/Orrery:0.1.0(listener)/")
    assert sent["verack"] == 24
    print("the dialer's outbound peer has no permissions")
    outbound = dialer.rpc("getpeerinfo")
    assert outbound and outbound[0]["permissions"] == []
    for daemon in (dialer, listener):
        code, out, err = daemon.stop()
        assert code == 0 and err == "", err


def test_server_0_runs_no_json_rpc_and_still_stops_cleanly(daemons):
    daemon = daemons("node0", args=("-server=0",)).start()
    wait_for(lambda: "All services started" in daemon.log(), 30, "the services to start")
    log = daemon.log()
    assert "JSON-RPC disabled (-server=0); orrery-gui-bridge not started" in log
    assert "Started gui-bridge" not in log
    daemon.process.send_signal(signal.SIGTERM)
    out, err = daemon.process.communicate(timeout=30)
    check_clean_stop(daemon, daemon.process.returncode, out, err)
